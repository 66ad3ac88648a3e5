"""Size limits of layouts (issue 9, item 18): refused with the line and item, before allocating.

Numeric items hold at most 38 digits (``legacy.copybook.limits`` says why not IBM's 18/31);
a layout may describe at most ``max_record_length`` bytes (16 MiB unless told otherwise).
"""

from __future__ import annotations

import tracemalloc
from decimal import Decimal
from typing import Any

import pytest

from legacy import CopybookError, CopybookSyntaxError, parse_copybook
from legacy.copybook.limits import DEFAULT_MAX_RECORD_LENGTH, MAX_DIGITS


def _parse(body: str, **options: Any) -> Any:
    return parse_copybook("01 R.\n  05 HEAD PIC X(4).\n" + body, source_format="free", **options)


@pytest.mark.parametrize(("body", "name"), [
    ("  05 HUGE PIC X(1000000000).\n", "HUGE"),
    ("  05 MANY PIC X OCCURS 100000000.\n", "MANY"),
    ("  05 OUTER OCCURS 1000.\n     10 INNER OCCURS 1000.\n        15 CELL PIC X(100).\n", "OUTER"),
    ("  05 TABLE PIC 9 OCCURS 1 TO 999999999 DEPENDING ON HEAD.\n", "TABLE"),
])
def test_layouts_beyond_the_maximum_record_length_are_refused(body: str, name: str) -> None:
    with pytest.raises(CopybookError) as info:
        _parse(body)
    assert info.value.line == 3
    assert name in str(info.value) and "max_record_length" in str(info.value)
    assert str(DEFAULT_MAX_RECORD_LENGTH) in str(info.value)


def test_nothing_large_is_allocated_while_refusing() -> None:
    tracemalloc.start()
    try:
        for body in ("  05 HUGE PIC X(1000000000).\n", "  05 MANY PIC X OCCURS 100000000.\n",
                     "  05 N PIC 9(999999999).\n", "  05 T PIC X(999999999999999999).\n"):
            with pytest.raises(CopybookError):
                _parse(body)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024


def test_the_maximum_record_length_is_an_option() -> None:
    assert _parse("  05 BODY PIC X(996).\n", max_record_length=1000).record_length == 1000
    with pytest.raises(CopybookError, match="BODY ends at byte 1001.*1000 bytes"):
        _parse("  05 BODY PIC X(997).\n", max_record_length=1000)
    with pytest.raises(CopybookError, match=r"ROWS ends at byte 1004 \(100 x 10 bytes\)"):
        _parse("  05 ROWS OCCURS 100.\n     10 A PIC X(10).\n", max_record_length=1000)
    big = _parse("  05 BODY PIC X(20000000).\n", max_record_length=32 * 1024 * 1024)
    assert big.record_length == 20000004
    with pytest.raises(ValueError, match="max_record_length"):
        _parse("", max_record_length=0)


@pytest.mark.parametrize("usage", ["BINARY", "COMP", "COMP-3", "COMP-5", ""])
def test_numeric_items_hold_at_most_38_digits(usage: str) -> None:
    with pytest.raises(CopybookSyntaxError) as info:
        _parse(f"  05 AMOUNT PIC S9(199)V99 {usage}.\n")
    assert info.value.line == 3 and "AMOUNT" in str(info.value) and f"at most {MAX_DIGITS}" in str(info.value)
    with pytest.raises(CopybookSyntaxError, match="39 digits"):
        _parse(f"  05 AMOUNT PIC S9(37)V99 {usage}.\n")
    layout: Any = _parse(f"  05 AMOUNT PIC S9(36)V99 {usage}.\n")
    largest = Decimal("-" + "9" * 36 + "." + "99")
    assert layout.decode(layout.encode({"HEAD": "x", "AMOUNT": largest})) == {"HEAD": "x", "AMOUNT": largest}


def test_numeric_pictures_have_at_most_249_positions() -> None:
    with pytest.raises(CopybookSyntaxError, match="at most 249 positions"):
        _parse("  05 EDITED PIC Z(250)9.\n")
    assert _parse("  05 EDITED PIC Z(20)9.\n").record_length == 25

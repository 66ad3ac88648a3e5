"""Only the codec's declared errors escape it (issue 9, item 17).

Whatever the copybook text, ``parse_copybook`` gives a Layout or raises a ``CopybookError``
naming the line; whatever the bytes, decoding gives a record or raises a ``RecordError``
naming the field and byte; whatever the values, encoding gives bytes or raises an
``EncodeError``. Checked on the cases found by hand, then by fuzzing copybook text and records.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from legacy import CopybookError, CopybookSyntaxError, EncodeError, RecordError, parse_copybook
from legacy.copybook.converters import converter_for

BASE = """\
01 REC.
  05 ID PIC 9(6).
  05 NAME PIC X(10).
  05 AMOUNT PIC S9(7)V99 COMP-3.
  05 COUNT-A PIC S9(4) COMP.
  05 RATE PIC 9(3)V99.
  05 ALT REDEFINES RATE PIC X(5).
  05 EDITED PIC ZZ,ZZ9.99-.
  05 FLT COMP-2.
  05 ITEMS OCCURS 0 TO 3 DEPENDING ON COUNT-A.
     10 CODE PIC X(2).
     10 QTY PIC S9(3) SIGN LEADING SEPARATE.
"""

SECOND = """\
01 HEADER.
  05 KIND PIC X.
     88 IS-DATA VALUE 'D'.
  05 SCALED PIC S9(3)PP COMP-3.
  05 SMALL PIC SPP9(2).
  05 WIDE PIC S9(36) COMP-5 SYNC.
  05 TABLE-A OCCURS 2.
     10 INNER OCCURS 2 PIC S9(3)V9 SIGN TRAILING SEPARATE.
     10 PT PIC 9(3).9(2).
  05 MONEY PIC $$$,$$9.99CR.
  05 STARS PIC ***9.
  05 RIGHT-J PIC X(4) JUSTIFIED RIGHT.
  05 HALF PIC S9(4) BINARY.
  05 F1 COMP-1.
01 OTHER.
  05 WHOLE PIC X(40).
"""
BASES = [BASE, SECOND]


@pytest.mark.parametrize("text", [
    "01 R.\n  ٠٥ A PIC X.\n",  # Arabic-Indic digits as a level number
    "01 R.\n  ０５ A PIC X.\n",  # fullwidth digits
    "01 R.\n  5² A PIC X.\n",  # a superscript: str.isdigit() says yes, int() says no
    "01 R.\n  05 A PIC X OCCURS ٥.\n",
    "01 R.\n  05 A PIC X OCCURS ²².\n",
    "01 R.\n  05 A PIC X OCCURS " + "9" * 5000 + ".\n",  # beyond int()'s 4300-digit limit
    "01 R.\n  05 A PIC X(٠٥).\n",
    "01 R.\n  05 A PIC X(²).\n",
    "01 R.\n  05 A PIC 9(" + "9" * 5000 + ").\n",
])
def test_non_ascii_or_huge_integers_are_syntax_errors_with_a_line(text: str) -> None:
    with pytest.raises(CopybookSyntaxError) as info:
        parse_copybook(text, source_format="free")
    assert info.value.line == 2


def test_lenient_decoding_of_a_wide_decimal_gives_a_value() -> None:
    layout = parse_copybook("01 R.\n  05 A PIC 9(30)V99.\n", "ascii", strict=False, source_format="free")
    assert layout.decode(b"1" * 29 + b".11") == {"A": Decimal("1" * 29 + ".11")}
    assert layout.decode(b"1" * 30 + b".1") == {"A": Decimal("1" * 30 + ".10")}


@pytest.mark.parametrize(("pic", "value"), [
    ("S9(7)V99 COMP-3", Decimal("1E+999999")),
    ("S9(7)V99", Decimal("1E+999999")),
    ("S9(7)V99 COMP", Decimal("-1E+999999")),
    ("S9(7)V99 COMP-5", Decimal("1E+999999")),
    ("ZZ,ZZ9.99-", Decimal("1E+999999")),
    ("S9(7)V99 COMP-3", Decimal("1E-1000300")),  # would underflow to a silent 0
    pytest.param("S9(18) COMP-5", 10 ** 100000, id="10**100000"),
    ("S9(7)V99", Decimal("9" * 300)),
    ("S9(7)V99", Decimal("5." + "0" * 250 + "1")),  # 252 significant digits: never rounded to fit
])
def test_extreme_values_are_encode_errors_naming_the_field(pic: str, value: Any) -> None:
    layout = parse_copybook(f"01 R.\n  05 X PIC X.\n  05 A PIC {pic}.\n", source_format="free")
    with pytest.raises(EncodeError) as info:
        layout.encode({"X": "x", "A": value})
    assert (info.value.field_path, info.value.offset) == ("R.A", 1)


@pytest.mark.parametrize("usage", ["COMP-1", "COMP-2"])
@pytest.mark.parametrize("float_format", ["ibm", "ieee"])
@pytest.mark.parametrize("value", [10 ** 400, Decimal("1E+999999"), Decimal("-1E+400")])
def test_floats_too_large_are_encode_errors(usage: str, float_format: str, value: Any) -> None:
    layout = parse_copybook(f"01 R.\n  05 A {usage}.\n", float_format=float_format, source_format="free")
    with pytest.raises(EncodeError) as info:
        layout.encode({"A": value})
    assert info.value.field_path == "R.A"


# -- fuzzing ------------------------------------------------------------------------------------

ODD_DIGITS = ["٠", "٥", "０", "５", "²", "5²", "٠٥", "9" * 20, "9" * 5000]  # digits int() takes, or not
PIECES = ["0", "1", "9", "99", "٠", "٥", "０", "５", "²", "(", ")", ".", " ", "\n", "-", "'", '"', "X", "S", "V",
          "P", "Z", "*", "+", "CR", "9(40)", "X(999999999)", "(0)", "OCCURS ", " TIMES", " DEPENDING ON ",
          " REDEFINES ", " COMP", " COMP-3", " COMP-5", " BINARY", " PIC ", " VALUE ", " 88 ", " 66 ",
          " 01 ", " 05 ", " 10 ", "\t", "\x00", "é", "99999999999999999999", "1E5", "X'F", "SYNC"]


@st.composite
def mutated_copybooks(draw: Any) -> str:
    text = draw(st.sampled_from(BASES))
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch in " (\n"]  # where words and counts begin
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.sampled_from(starts) | st.integers(0, len(text)))
        at = min(at, len(text))
        cut = draw(st.integers(0, 6))
        piece = draw(st.sampled_from(ODD_DIGITS) | st.sampled_from(PIECES) | st.text(max_size=3))
        text = text[:at] + piece + text[at + cut:]
    return text


# bytes that make valid values often enough to get past one field into the next: EBCDIC and
# ASCII digits, spaces, signs, points, packed signs, small binary counts
PLAUSIBLE = [0x00, 0x01, 0x02, 0x03, 0x40, 0x20, 0x4B, 0x2E, 0x4E, 0x60, 0x2D, 0x0C, 0x1C, 0x0D, 0xC1, 0xD1,
             0xFF, *range(0xF0, 0xFA), *range(0x30, 0x3A)]


def _records(size: int) -> Any:
    plausible = st.lists(st.sampled_from(PLAUSIBLE) | st.integers(0, 255), min_size=size, max_size=size).map(bytes)
    return st.binary(max_size=size + 8) | st.binary(min_size=size, max_size=size) | plausible


def _with_counts(layout: Any, raw: bytes, draw: Any) -> bytes:
    """``raw`` with a count in range written into each OCCURS DEPENDING ON counter (when it fits)."""
    data = bytearray(raw)
    for table in layout.fields:
        if table.occurs is None or table.occurs.depending_on is None or table.occurs.mapping is not None:
            continue
        counter = layout.field(table.occurs.depending_on)
        count = draw(st.integers(table.occurs.minimum, table.occurs.maximum))
        try:
            value = converter_for(counter, layout.code_page, layout.options).encode(count)
        except EncodeError:
            continue
        if counter.offset + len(value) <= len(data):
            data[counter.offset:counter.offset + len(value)] = value
    return bytes(data)


def _value_strategy() -> Any:
    return st.one_of(
        st.integers(-(10 ** 40), 10 ** 40), st.sampled_from([10 ** 400, -(10 ** 400)]),
        st.decimals(allow_nan=True, allow_infinity=True),
        st.sampled_from([Decimal("1E+999999"), Decimal("-1E-999999"), Decimal("1E-1000300"), Decimal("0E+999999")]),
        st.floats(), st.text(max_size=12), st.binary(max_size=4), st.none(), st.booleans())


def _zero(f: Any) -> Any:
    if f is None or f.kind == "text":
        return ""
    if f.kind in ("float", "double"):
        return 0.0
    return Decimal(0).scaleb(-f.scale) if f.scale > 0 else 0


def _fill(record: Any, draw: Any, fields: dict[str, Any], key: str | None = None) -> Any:
    """The record with what the lenient reader could not read filled in, and some values replaced."""
    if isinstance(record, dict):  # REDEFINES views left out: the first view says it all
        return {k: _fill(v, draw, fields, k) for k, v in record.items() if not getattr(fields.get(k), "redefines", None)}
    if isinstance(record, list):
        return [_fill(v, draw, fields, key) for v in record]
    if record is None:
        return _zero(fields.get(key or ""))
    return draw(_value_strategy()) if draw(st.integers(0, 3)) == 0 else record


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=mutated_copybooks(), code_page=st.sampled_from(["cp037", "ascii", "utf-8"]), strict=st.booleans(),
       truncation=st.sampled_from(["bin", "std"]), data=st.data())
def test_fuzzed_copybooks_and_records_raise_only_declared_errors(text: str, code_page: str, strict: bool,
                                                                 truncation: str, data: Any) -> None:
    try:
        layout = parse_copybook(text, code_page, strict=strict, truncation=truncation, source_format="free")
    except CopybookError:
        return
    raw = data.draw(_records(min(layout.record_length, 4096)))
    if data.draw(st.booleans()):
        raw = _with_counts(layout, raw, data.draw)
    try:
        record = layout.decode(raw)
    except RecordError:
        return
    try:
        layout.encode(record)
    except EncodeError:
        pass
    try:
        layout.encode(_fill(record, data.draw, {f.key: f for f in layout.fields if f.key}))
    except EncodeError:
        pass


@pytest.mark.parametrize("text", BASES)
def test_the_copybooks_the_fuzzer_starts_from_parse(text: str) -> None:
    assert parse_copybook(text, source_format="free").record_length > 0

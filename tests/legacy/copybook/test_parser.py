"""Copybook entries and syntax errors (line, column, what was expected)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from legacy import CopybookSyntaxError
from legacy.copybook.parser import parse_entries


def test_clauses_in_any_order() -> None:
    entries = parse_entries("""
       01  REC.
           05  AMOUNT  COMP-3 PIC S9(7)V99 VALUE ZERO.
           05  COUNTER PIC 9(4) USAGE IS BINARY SYNC.
           05  TABLE-ITEM OCCURS 1 TO 10 TIMES
               DEPENDING ON COUNTER OF REC
               ASCENDING KEY IS KEY-A INDEXED BY IX.
               10  KEY-A PIC X(2).
           05  SIGNED-NUM PIC S9(5) SIGN IS LEADING SEPARATE CHARACTER.
           05  NAME PIC X(10) JUSTIFIED RIGHT.
           05  PRICE PIC ZZ9.99 BLANK WHEN ZERO.
           05  FILLER PIC X(3).
           05  PIC X.
           05  OTHER REDEFINES NAME PIC 9(10).
    """)
    by_name = {e.name: e for e in entries}
    assert by_name["AMOUNT"].usage == "packed" and by_name["AMOUNT"].picture.text == "S9(7)V99"  # type: ignore[union-attr]
    assert by_name["COUNTER"].usage == "binary" and by_name["COUNTER"].sync
    occurs = by_name["TABLE-ITEM"].occurs
    assert occurs is not None and (occurs.minimum, occurs.maximum, occurs.depending_on) == (1, 10, ("COUNTER", "REC"))
    assert by_name["SIGNED-NUM"].sign_leading is True and by_name["SIGNED-NUM"].sign_separate
    assert by_name["NAME"].justified and by_name["PRICE"].blank_when_zero
    assert by_name["OTHER"].redefines == "NAME"
    assert [e.name for e in entries].count(None) == 2  # FILLER, and an entry with no name at all


def test_occurs_n_depending_on_allows_zero_to_n() -> None:
    entries = parse_entries("01 R.\n 05 N PIC 9.\n 05 T OCCURS 5 DEPENDING ON N PIC X.\n", "free")
    occurs = entries[2].occurs
    assert occurs is not None and (occurs.minimum, occurs.maximum) == (0, 5)


def test_level_88_values_and_ranges() -> None:
    entries = parse_entries("""
       01  REC.
           05  STATUS PIC X.
               88  OPEN    VALUE 'O'.
               88  DONE    VALUES ARE 'C' 'X' "Z".
           05  SCORE  PIC 9(3).
               88  LOW     VALUE 0 THRU 49.
               88  TOP     VALUE 99.5 100.
               88  BLANKS  VALUE SPACES.
    """)
    values = {e.name: e.values for e in entries if e.level == 88}
    assert values["OPEN"] == [("O", None)]
    assert values["DONE"] == [("C", None), ("X", None), ("Z", None)]
    assert values["LOW"] == [(0, 49)]
    assert values["TOP"] == [(Decimal("99.5"), None), (100, None)]
    assert values["BLANKS"] == [(" ", None)]


@pytest.mark.parametrize(("text", "line", "column", "expected"), [
    ("       01  REC.\n           05  A  PIC.\n", 2, 22, "a PICTURE string"),
    ("       01  REC.\n           05  A  PIC X(3) FOO.\n", 2, 28, "a clause"),
    ("       01  REC.\n           05  A  PIC X(3)\n           05  B  PIC X.\n", 3, 12, "a clause"),
    ("       01  REC.\n           A  PIC X.\n", 2, 12, "a level number"),
    ("       01  REC.\n           05  A  OCCURS X.\n", 2, 26, "the number of occurrences"),
    ("       01  REC.\n           05  A  PIC X(3) USAGE FAST.\n", 2, 34, "a USAGE"),
    ("       01  REC.\n           05  A  PIC 9V9V9.\n", 2, 26, "a valid PICTURE string"),
    ("       01  REC.\n           05  S  PIC X.\n               88 OK.\n", 3, 21, "VALUE"),
    ("       01  REC.\n           05  A  PIC X VALUE 'abc.\n", 2, 31, "closing '"),
])
def test_syntax_errors_name_line_column_and_expectation(text: str, line: int, column: int, expected: str) -> None:
    with pytest.raises(CopybookSyntaxError) as info:
        parse_entries(text)
    err = info.value
    assert (err.line, err.column) == (line, column), str(err)
    assert expected in (err.expected or ""), str(err)
    assert f"line {line}, column {column}" in str(err)


def test_unsupported_usage_says_so() -> None:
    with pytest.raises(CopybookSyntaxError, match="USAGE NATIONAL is not supported"):
        parse_entries("       01 R.\n           05 A PIC 9(4) USAGE NATIONAL.\n")


def test_renames_entries_add_nothing() -> None:
    entries = parse_entries("       01 R.\n           05 A PIC X.\n           05 B PIC X.\n       66 AB RENAMES A THRU B.\n")
    assert [e.name for e in entries] == ["R", "A", "B"]

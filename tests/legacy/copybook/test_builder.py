"""Placing fields: sizes by kind, offsets, SYNC, REDEFINES, OCCURS, DEPENDING ON, names."""

from __future__ import annotations

import pytest

from legacy import CopybookError, parse_copybook
from legacy.copybook.builder import binary_size


@pytest.mark.parametrize(("digits", "size"), [(1, 2), (4, 2), (5, 4), (9, 4), (10, 8), (18, 8), (19, 9), (20, 9),
                                              (28, 12), (37, 16), (38, 16), (39, 17)])
def test_binary_sizes_follow_ibm_and_cobrix(digits: int, size: int) -> None:
    assert binary_size(digits) == size


def test_sizes_and_offsets_by_kind() -> None:
    layout = parse_copybook("""
       01  REC.
           05  A   PIC X(3).
           05  B   PIC S9(5)V99 COMP-3.
           05  C   PIC S9(4) COMP.
           05  D   PIC 9(9) BINARY.
           05  E   PIC S9(18) COMP-5.
           05  F   COMP-1.
           05  G   COMP-2.
           05  H   PIC S9(3) SIGN LEADING SEPARATE.
           05  I   PIC 9(8).9(2).
           05  J   PIC ZZ,ZZ9.99CR.
           05  K   PIC 9(20) COMP.
    """)
    got = {f.name: (f.offset, f.size, f.kind) for f in layout.fields[1:]}
    assert got == {
        "A": (0, 3, "text"), "B": (3, 4, "packed"), "C": (7, 2, "binary"), "D": (9, 4, "binary"),
        "E": (13, 8, "native"), "F": (21, 4, "float"), "G": (25, 8, "double"), "H": (33, 4, "zoned"),
        "I": (37, 11, "zoned"), "J": (48, 11, "edited"), "K": (59, 9, "binary"),
    }
    assert layout.record_length == 68


def test_sync_aligns_binary_items_from_the_record_start() -> None:
    layout = parse_copybook("""
       01  REC.
           05  A   PIC X(3).
           05  B   PIC S9(9) COMP SYNC.
           05  C   PIC X.
           05  D   PIC S9(4) COMP SYNC.
           05  E   PIC X.
           05  F   COMP-2 SYNC.
    """)
    offsets = {f.name: f.offset for f in layout.fields[1:]}
    assert offsets == {"A": 0, "B": 4, "C": 8, "D": 10, "E": 12, "F": 16}
    assert layout.record_length == 24


def test_usage_and_sign_on_a_group_apply_to_its_items() -> None:
    layout = parse_copybook("""
       01  REC.
           05  AMOUNTS USAGE COMP-3.
               10  A   PIC S9(5).
               10  B   PIC S9(3)V99.
           05  SIGNED SIGN LEADING SEPARATE.
               10  C   PIC S9(3).
    """)
    assert [(f.kind, f.size) for f in layout.fields if f.name in ("A", "B", "C")] == [
        ("packed", 3), ("packed", 3), ("zoned", 4)]


def test_redefines_shares_offsets_and_widens_to_the_longest_view() -> None:
    layout = parse_copybook("""
       01  REC.
           05  A      PIC X(4).
           05  B REDEFINES A PIC 9(6).
           05  C      PIC X.
    """)
    assert layout["B"].offset == 0 and layout["C"].offset == 6 and layout.record_length == 7


def test_occurs_and_depending_on() -> None:
    layout = parse_copybook("""
       01  REC.
           05  N        PIC 9.
           05  ITEMS    OCCURS 1 TO 3 TIMES DEPENDING ON N.
               10  X    PIC X(2).
               10  Y    PIC 9(3) COMP-3.
    """)
    items = layout["ITEMS"]
    assert items.occurs is not None and items.occurs.depending_on == "REC.N"
    assert (items.offset, items.size, items.total_size) == (1, 4, 12)
    assert layout.record_length == 13 and layout.variable_length


@pytest.mark.parametrize(("text", "message"), [
    ("01 R.\n 05 T OCCURS 3 DEPENDING ON NOPE PIC X.\n", "no such item"),
    ("01 R.\n 05 T OCCURS 3 DEPENDING ON C PIC X.\n 05 C PIC 9.\n", "must come before"),
    ("01 R.\n 05 C PIC 9V9.\n 05 T OCCURS 3 DEPENDING ON C PIC X.\n", "must be an integer"),
    ("01 R.\n 05 A PIC X.\n 05 B REDEFINES Z PIC X.\n", "not an earlier item"),
    ("01 R.\n 05 A PIC X.\n 10 B PIC X.\n", "cannot have subordinate items"),
    ("01 R.\n 05 A.\n", "needs a PICTURE"),
    ("01 R.\n 05 A PIC X COMP-3.\n", "needs a numeric PICTURE"),
    ("01 R.\n 05 A PIC X.\n 05 A PIC 9.\n", "appears twice"),
    ("01 R.\n 05 G OCCURS 2.\n 10 C PIC 9.\n 05 T OCCURS 3 DEPENDING ON C PIC X.\n", "inside table"),
])
def test_layout_errors(text: str, message: str) -> None:
    with pytest.raises(CopybookError, match=message) as info:
        parse_copybook(text, source_format="free")
    assert info.value.line is not None


def test_python_names_and_name_clashes() -> None:
    layout = parse_copybook("01 R.\n 05 CUST-ID PIC 9(3).\n 05 CUST-NAME PIC X.\n", source_format="free",
                            python_names=True)
    assert [f.key for f in layout.fields] == ["r", "cust_id", "cust_name"]
    with pytest.raises(CopybookError, match="appears twice"):
        parse_copybook("01 R.\n 05 A-B PIC 9.\n 05 A_B PIC X.\n", source_format="free", python_names=True)


def test_several_01_levels_redefine_each_other() -> None:
    layout = parse_copybook("01 HEADER.\n 05 KIND PIC X.\n 05 DATE PIC 9(8).\n"
                            "01 DETAIL.\n 05 KIND PIC X.\n 05 AMOUNT PIC S9(5) COMP-3.\n", source_format="free")
    assert layout.record_length == 9
    # every view is decoded; a view the bytes are not valid for is left out
    assert layout.decode(bytes.fromhex("c1f2f0f2f4f0f1f3f1")) == {"HEADER": {"KIND": "A", "DATE": 20240131}}
    assert layout.decode(bytes.fromhex("c212345d4040404040")) == {"DETAIL": {"KIND": "B", "AMOUNT": -12345}}


# -- REDEFINES must follow the item it redefines (issue 9, item 19) ----------------------------

@pytest.mark.parametrize("text", [
    "01 R.\n 05 A PIC X(4).\n 05 B PIC X(2).\n 05 C REDEFINES A PIC X(4).\n",
    "01 R.\n 05 A PIC X(4).\n 05 FILLER PIC X.\n 05 C REDEFINES A PIC X(4).\n",
    "01 R.\n 05 A PIC X(4).\n 05 B REDEFINES A PIC X(4).\n 05 D PIC X.\n 05 C REDEFINES B PIC X(4).\n",
])
def test_a_redefines_that_does_not_follow_its_item_is_refused_with_its_line(text: str) -> None:
    with pytest.raises(CopybookError, match="C REDEFINES [AB], which it does not immediately follow") as info:
        parse_copybook(text, source_format="free")
    assert info.value.line == text.count("\n")


def test_redefines_may_follow_the_item_or_another_redefines_of_it() -> None:
    layout = parse_copybook("""
01 R.
  05 A.
     10 A1 PIC X(2).
     10 A2 PIC X(2).
  05 B REDEFINES A PIC 9(4).
  05 C REDEFINES A PIC X(3).
  05 D REDEFINES B PIC S9(7) COMP-3.
  05 E PIC X(2).
""", "ascii", source_format="free")
    assert [(f.name, f.offset) for f in layout.fields if f.level == 5] == [
        ("A", 0), ("B", 0), ("C", 0), ("D", 0), ("E", 4)]
    assert layout.record_length == 6
    record = layout.decode(b"1234XY")
    assert record["B"] == 1234 and record["E"] == "XY"
    encoded = layout.encode({"A": {"A1": "12", "A2": "34"}, "E": "XY"})
    assert encoded == b"1234XY"

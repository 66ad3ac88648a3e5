"""The Layout: fields to inspect, condition names, the printed table, loading from a file."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from legacy import load_copybook, parse_copybook

TEXT = """
      * Orders, as a mainframe shop would write them
       01  ORDER-REC.
           05  ORDER-ID           PIC 9(8).
           05  STATUS             PIC X.
               88  IS-OPEN        VALUE 'O'.
               88  IS-DONE        VALUES 'C' 'X'.
           05  PRIORITY           PIC 9.
               88  URGENT         VALUE 1 THRU 3.
           05  TOTAL              PIC S9(7)V99 COMP-3.
           05  LINES OCCURS 3.
               10  SKU            PIC X(6).
               10  QTY            PIC S9(4) COMP.
"""


@pytest.fixture(scope="module")
def layout():
    return parse_copybook(TEXT, "cp037")


def test_fields_give_offsets_lengths_and_types(layout) -> None:
    rows = [(f.path, f.offset, f.size, f.kind) for f in layout.fields]
    assert rows == [
        ("ORDER-REC", 0, 39, "group"), ("ORDER-REC.ORDER-ID", 0, 8, "zoned"), ("ORDER-REC.STATUS", 8, 1, "text"),
        ("ORDER-REC.PRIORITY", 9, 1, "zoned"), ("ORDER-REC.TOTAL", 10, 5, "packed"), ("ORDER-REC.LINES", 15, 8, "group"),
        ("ORDER-REC.LINES.SKU", 15, 6, "text"), ("ORDER-REC.LINES.QTY", 21, 2, "binary"),
    ]
    total = layout["TOTAL"]
    assert (total.digits, total.scale, total.signed, total.type_text) == (9, 2, True, "S9(7)V99 COMP-3")
    assert layout["LINES"].total_size == 24 and layout.record_length == 39 and not layout.variable_length
    assert layout.field("ORDER-REC.LINES.QTY") is layout["QTY"]
    with pytest.raises(KeyError, match="no field"):
        layout.field("NOPE")


def test_condition_names(layout) -> None:
    assert layout.named_values("STATUS") == {"IS-OPEN": (("O", None),), "IS-DONE": (("C", None), ("X", None))}
    conditions = layout.conditions
    assert conditions["URGENT"].field_path == "ORDER-REC.PRIORITY"
    record = layout.decode(layout.encode({"ORDER-ID": 1, "STATUS": "X", "PRIORITY": 2, "TOTAL": Decimal("9.99"),
                                          "LINES": [{"SKU": "A", "QTY": 1}] * 3}))
    assert conditions["IS-DONE"].matches(record["STATUS"]) and not conditions["IS-OPEN"].matches(record["STATUS"])
    assert conditions["URGENT"].matches(record["PRIORITY"]) and not conditions["URGENT"].matches(4)


def test_layout_prints_as_a_table(layout) -> None:
    table = str(layout)
    lines = table.splitlines()
    assert lines[0].split() == ["FIELD", "TYPE", "OFFSET", "LENGTH", "OCCURS"]
    assert "05 TOTAL" in table and "S9(7)V99 COMP-3" in table
    assert "88 URGENT" in table and "VALUE 1 THRU 3" in table
    assert any(line.split()[-3:] == ["15", "8", "3"] for line in lines)
    assert lines[-1] == "record length 39"
    assert repr(layout) == "<Layout ORDER-REC: 8 fields, 39 bytes, cp037>"


def test_load_copybook_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "order.cpy"
    path.write_text(TEXT, encoding="latin-1")
    layout = load_copybook(path, "cp1047", python_names=True)
    assert layout.code_page.name == "cp1047" and layout.fields[1].key == "order_id"


def test_options_are_checked() -> None:
    for bad in ({"trim": "middle"}, {"float_format": "vax"}, {"truncation": "opt"}, {"native_byte_order": "pdp"}):
        with pytest.raises(ValueError):
            parse_copybook(TEXT, **bad)  # type: ignore[arg-type]

"""Fixed-width text records: field rules, padding and alignment, errors, files."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from legacy import (
    EncodeError,
    FixedField,
    FixedWidthLayout,
    InvalidDataError,
    RecordFramingError,
)

FIELDS = [("id", 6, "int"), ("name", 12), ("amount", 9, "decimal", {"scale": 2}), (None, 2),
          ("born", 8, "date"), ("code", 4, "str", {"align": "right", "pad": "*"})]
LINE = "000042Ada Lovelace000012.50  18151210**AB"


@pytest.fixture
def layout() -> FixedWidthLayout:
    return FixedWidthLayout(FIELDS)


def test_decode_and_encode_one_record(layout):
    record = layout.decode(LINE.encode())
    assert record == {"id": 42, "name": "Ada Lovelace", "amount": Decimal("12.50"),
                      "born": datetime.date(1815, 12, 10), "code": "AB"}
    assert layout.decode(LINE) == record
    assert layout.encode(record) == LINE.encode()
    assert layout.record_length == len(LINE) == 41
    assert [f.offset for f in layout.fields] == [0, 6, 18, 27, 29, 37]


def test_numbers_signs_padding_and_alignment():
    layout = FixedWidthLayout([("z", 6, "int"), ("s", 6, "int", {"pad": " "}), ("l", 6, "int", {"align": "left"}),
                               ("d", 8, "decimal", {"scale": 3, "pad": " "}),
                               ("v", 7, "decimal", {"scale": 2, "implied_decimal": True}),
                               ("free", 8, "decimal", {"align": "left"})])
    record = {"z": -42, "s": -42, "l": 42, "d": Decimal("-1.5"), "v": Decimal("-12.5"), "free": Decimal("3.14159")}
    text = layout.format(record)
    assert text == "-00042   -4242      -1.500-001250" "3.14159 "
    back = layout.decode(text)
    assert back == record and str(back["d"]) == "-1.500" and str(back["v"]) == "-12.50"


def test_blank_numbers_and_dates_are_none_and_missing_keys_are_blank(layout):
    assert layout.format({"name": "X"}) == " " * 6 + "X" + " " * 11 + " " * 9 + "  " + " " * 8 + "****"
    assert layout.decode(layout.format({"name": "X"})) == {"id": None, "name": "X", "amount": None, "born": None,
                                                           "code": ""}


def test_short_lines_are_padded_long_ones_refused(layout):
    assert layout.decode("000001Bob")["name"] == "Bob"
    with pytest.raises(RecordFramingError, match="42 characters, the layout 41"):
        layout.decode(LINE + "X", record_number=3)


def test_bad_data_names_record_field_and_offset(layout):
    with pytest.raises(InvalidDataError) as info:
        layout.decode("00x042" + LINE[6:], record_number=5)
    err = info.value
    assert (err.record_number, err.field_path, err.offset) == (5, "id", 0)
    assert str(err).startswith("record 5, field id, byte 0: '00x042' is not a int")
    with pytest.raises(InvalidDataError, match="field amount"):
        layout.decode(LINE[:18] + "0001_2.50" + LINE[27:])  # int() would take the underscore
    with pytest.raises(InvalidDataError, match="field born"):
        layout.decode(LINE[:29] + "18151310" + LINE[37:])


def test_encoding_never_cuts_or_rounds(layout):
    good = layout.decode(LINE)
    for change, message in [({"name": "A" * 13}, "13 characters, the field 12"),
                            ({"id": 1234567}, "needs 7 characters"), ({"amount": Decimal("1.005")}, "more than 2"),
                            ({"id": "42"}, "needs a number"), ({"id": True}, "needs a number"),
                            ({"born": "1815-12-10"}, "needs a date"), ({"extra": 1}, "no field 'extra'"),
                            ({"name": "a\nb"}, "line break")]:
        with pytest.raises(EncodeError, match=message):
            layout.encode({**good, **change}, record_number=2)


def test_float_and_whole_float_values_are_accepted_exactly():
    layout = FixedWidthLayout([("i", 4, "int"), ("d", 6, "decimal", {"scale": 2})])
    assert layout.format({"i": 7.0, "d": 0.1}) == "0007000.10"
    with pytest.raises(EncodeError, match="not a whole number"):
        layout.format({"i": 7.5})


def test_unicode_lengths_count_characters_and_encoding_errors_are_clear():
    layout = FixedWidthLayout([("name", 5), ("n", 2, "int")])
    assert layout.encode({"name": "Zoë", "n": 1}) == "Zoë  01".encode()
    assert layout.decode("Zoë  01".encode()) == {"name": "Zoë", "n": 1}
    ascii_layout = FixedWidthLayout([("name", 5)], encoding="ascii")
    with pytest.raises(EncodeError, match="cannot be written in ascii"):
        ascii_layout.encode({"name": "Zoë"})
    with pytest.raises(InvalidDataError, match="not ascii"):
        ascii_layout.decode(b"Zo\xc3\xab ")


def test_files_of_lines_and_of_fixed_records(layout):
    records = [layout.decode(LINE), {"id": 2, "name": "Grace", "amount": Decimal("-1.00")}]
    out = io.BytesIO()
    assert layout.write_records(out, records) == 2
    data = out.getvalue()
    assert data.count(b"\n") == 2
    back = list(layout.iter_records(io.BytesIO(data.replace(b"\n", b"\r\n"))))
    assert back[0] == records[0] and back[1]["name"] == "Grace" and back[1]["amount"] == Decimal("-1.00")
    fixed = io.BytesIO()
    layout.write_records(fixed, records, "fixed")
    assert len(fixed.getvalue()) == 2 * 41
    assert list(layout.iter_records(io.BytesIO(fixed.getvalue()), "fixed")) == back
    with pytest.raises(RecordFramingError, match="ends 40 characters into a 41-character record"):
        list(layout.iter_records(io.BytesIO(fixed.getvalue()[:-1]), "fixed"))
    with pytest.raises(ValueError, match="record_format"):
        layout.iter_records(io.BytesIO(b""), "vb")


def test_the_callers_file_stays_open(layout):
    stream = io.BytesIO((LINE + "\n").encode())
    assert len(list(layout.iter_records(stream))) == 1
    assert not stream.closed


@pytest.mark.parametrize("fields, message", [
    ([("a", 0)], "positive"), ([("a", 2, "money")], "type is one of"), ([("a", 2), ("a", 3)], "unique: a"),
    ([("a", 2, "int", {"pad": "x"})], "padded with ' ' or '0'"), ([("a", 2, "int", {"align": "left", "pad": "0"})],
                                                                   "zeros after a left-aligned"),
    ([("a", 2, "str", {"scale": 2})], "scale is for decimal"), ([("a", 2, "str", {"align": "middle"})], "align"),
    ([], "at least one field"), (["a"], "a fixed-width field is"),
])
def test_layout_mistakes_are_refused(fields, message):
    with pytest.raises(ValueError, match=message):
        FixedWidthLayout(fields)


def test_fields_as_dicts_and_fixed_fields():
    layout = FixedWidthLayout([{"name": "a", "length": 2, "type": "int"}, FixedField("b", 3)])
    assert layout.decode("07xyz") == {"a": 7, "b": "xyz"}


@given(st.lists(st.tuples(st.integers(-10**7, 10**7), st.text(st.characters(blacklist_categories=("Cs", "Cc")),
                                                              max_size=8).map(str.rstrip),
                          st.decimals(min_value=-10**5, max_value=10**5, places=3))))
def test_round_trip_property(rows):
    layout = FixedWidthLayout([("i", 9, "int"), ("s", 8), ("d", 11, "decimal", {"scale": 3, "pad": " "})])
    records = [{"i": i, "s": s, "d": d} for i, s, d in rows]
    out = io.BytesIO()
    layout.write_records(out, records)
    assert list(layout.iter_records(io.BytesIO(out.getvalue()))) == records

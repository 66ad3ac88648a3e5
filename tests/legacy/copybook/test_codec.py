"""Records: groups, tables, REDEFINES, FILLER, DEPENDING ON, and the errors bad records raise."""

from __future__ import annotations

from decimal import Decimal

import pytest

from legacy import (
    DependingOnError,
    EncodeError,
    InvalidDigitError,
    InvalidPackedDecimalError,
    InvalidSignError,
    RecordTooShortError,
    RedefinesConflictError,
    parse_copybook,
)

CUSTOMER = """
       01  CUSTOMER.
           05  CUST-ID            PIC 9(6).
           05  NAME               PIC X(12).
           05  FILLER             PIC X(2).
           05  BALANCE            PIC S9(7)V99 COMP-3.
           05  ORDER-COUNT        PIC 9(2).
           05  ORDERS OCCURS 0 TO 4 TIMES DEPENDING ON ORDER-COUNT.
               10  ORDER-NO       PIC X(4).
               10  AMOUNT         PIC S9(5)V99.
               10  TAGS           PIC X(2) OCCURS 2.
"""

RECORD = {
    "CUST-ID": 42, "NAME": "ADA", "BALANCE": Decimal("-1234.50"), "ORDER-COUNT": 2,
    "ORDERS": [{"ORDER-NO": "A1", "AMOUNT": Decimal("10.50"), "TAGS": ["X", "YZ"]},
               {"ORDER-NO": "B2", "AMOUNT": Decimal("-0.01"), "TAGS": ["", ""]}],
}


@pytest.fixture(scope="module")
def layout():
    return parse_copybook(CUSTOMER, "cp037")


def test_round_trip_with_a_variable_table(layout) -> None:
    data = layout.encode(RECORD)
    assert len(data) == 6 + 12 + 2 + 5 + 2 + 2 * 15
    assert data[18:20] == b"\x40\x40"  # FILLER written as spaces
    assert layout.decode(data) == RECORD
    assert layout.encode(layout.decode(data)) == data


def test_counter_is_filled_in_from_the_table_when_left_out(layout) -> None:
    record = {k: v for k, v in RECORD.items() if k != "ORDER-COUNT"}
    assert layout.encode(record) == layout.encode(RECORD)
    with pytest.raises(EncodeError, match="ORDER-COUNT is 3 but the table has 2 items"):
        layout.encode({**RECORD, "ORDER-COUNT": 3})


def test_the_generated_decoder_and_the_field_by_field_decoder_agree(layout) -> None:
    data = layout.encode(RECORD)
    fast = layout._codec.decode(data)
    careful = layout._codec.careful(data, None)
    assert fast == careful


def test_errors_name_record_field_path_and_byte(layout) -> None:
    data = bytearray(layout.encode(RECORD))
    data[21] = 0x1A  # inside BALANCE (bytes 20-24)
    with pytest.raises(InvalidPackedDecimalError) as info:
        layout.decode(bytes(data), record_number=7)
    err = info.value
    assert (err.record_number, err.field_path, err.offset) == (7, "CUSTOMER.BALANCE", 21)
    assert str(err).startswith("record 7, field CUSTOMER.BALANCE, byte 21:")

    data = bytearray(layout.encode(RECORD))
    data[27 + 15 + 4 + 3] = 0xC1  # the 4th digit of ORDERS[1].AMOUNT
    with pytest.raises(InvalidDigitError) as info:
        layout.decode(bytes(data))
    assert (info.value.field_path, info.value.offset) == ("CUSTOMER.ORDERS[1].AMOUNT", 49)

    data = bytearray(layout.encode(RECORD))
    data[27 + 6 + 4] = 0x40  # ORDERS[0].AMOUNT's overpunched last byte
    with pytest.raises(InvalidSignError) as info:
        layout.decode(bytes(data))
    assert (info.value.field_path, info.value.offset) == ("CUSTOMER.ORDERS[0].AMOUNT", 37)


def test_short_record_and_counter_out_of_range(layout) -> None:
    data = layout.encode(RECORD)
    with pytest.raises(RecordTooShortError) as info:
        layout.decode(data[:-3], record_number=1)
    assert info.value.field_path == "CUSTOMER.ORDERS[1].TAGS[0]" and info.value.offset == 53
    bad = data[:25] + b"\xf0\xf9" + data[27:]
    with pytest.raises(DependingOnError) as info2:
        layout.decode(bad)
    assert (info2.value.field_path, info2.value.offset) == ("CUSTOMER.ORDERS", 27)
    assert "holds 9" in str(info2.value)


def test_lenient_decoding_gives_none_where_it_cannot_read(layout) -> None:
    lenient = parse_copybook(CUSTOMER, "cp037", strict=False)
    data = bytearray(layout.encode(RECORD))
    data[21] = 0x1A
    record = lenient.decode(bytes(data[:-4]))
    assert record["BALANCE"] is None
    assert record["ORDERS"][1]["TAGS"] == [None, None]  # past the end of the record
    assert record["NAME"] == "ADA"


def test_fixed_size_tables_reserve_every_slot() -> None:
    layout = parse_copybook(CUSTOMER, "cp037", variable_occurs=False)
    data = layout.encode(RECORD)
    assert len(data) == layout.record_length == 27 + 4 * 15
    assert layout.decode(data) == RECORD


REDEFINED = """
       01  PAYMENT.
           05  KIND               PIC X.
           05  CARD.
               10  CARD-NO        PIC 9(16).
               10  EXPIRY         PIC 9(4).
           05  IBAN REDEFINES CARD PIC X(20).
           05  AMOUNT             PIC S9(5)V99 COMP-3.
           05  AMOUNT-X REDEFINES AMOUNT PIC X(4).
           05  FILLER REDEFINES AMOUNT.
               10  AMOUNT-HI      PIC X(2).
               10  FILLER         PIC X(2).
"""


def test_redefines_decodes_every_view_that_fits() -> None:
    layout = parse_copybook(REDEFINED, "cp037")
    data = layout.encode({"KIND": "I", "IBAN": "DE021203000000002020", "AMOUNT": Decimal("12.34")})
    record = layout.decode(data)
    assert "CARD" not in record  # its digits are not digits: this record is not a card payment
    assert record["IBAN"] == "DE021203000000002020"
    assert record["AMOUNT"] == Decimal("12.34") and record["AMOUNT-HI"] == data[21:23].decode("cp037")
    assert layout.encode(record) == data  # every view given agrees, so the bytes come back


def test_redefines_conflicts_and_choices() -> None:
    layout = parse_copybook(REDEFINED, "cp037")
    card = {"KIND": "C", "CARD": {"CARD-NO": 4111111111111111, "EXPIRY": 1229}, "AMOUNT": Decimal("1.00")}
    data = layout.encode(card)
    assert layout.decode(data)["IBAN"] == "41111111111111111229"
    with pytest.raises(RedefinesConflictError) as info:
        layout.encode({**card, "IBAN": "SOMETHING ELSE"})
    assert info.value.field_path == "PAYMENT"
    with pytest.raises(EncodeError, match="none of the REDEFINES views CARD, IBAN"):
        layout.encode({"KIND": "C", "AMOUNT": Decimal("1.00")})


def test_a_view_the_bytes_do_not_fit_is_left_out() -> None:
    layout = parse_copybook(REDEFINED, "cp037")
    data = bytearray(layout.encode({"KIND": "I", "IBAN": "X" * 20, "AMOUNT": Decimal(0)}))
    data[21:25] = b"\x12\x34\x56\x78"  # no packed decimal, but AMOUNT-X (text) still reads it
    record = layout.decode(bytes(data))
    assert "AMOUNT" not in record and "AMOUNT-X" in record


def test_when_no_view_can_read_the_bytes_the_first_error_is_raised() -> None:
    layout = parse_copybook("01 R.\n 05 A PIC S9(5) COMP-3.\n 05 B REDEFINES A PIC 9(3).\n", source_format="free")
    with pytest.raises(InvalidPackedDecimalError) as info:
        layout.decode(b"\x1a\xbc\xde")
    assert info.value.field_path == "R.A"


def test_encoding_errors_name_the_field() -> None:
    layout = parse_copybook(CUSTOMER, "cp037")
    with pytest.raises(EncodeError) as info:
        layout.encode({**RECORD, "NAME": "X" * 13})
    assert info.value.field_path == "CUSTOMER.NAME" and info.value.offset == 6
    with pytest.raises(EncodeError, match="no field 'NAMES'"):
        layout.encode({**RECORD, "NAMES": "X"})
    with pytest.raises(EncodeError, match="no value given"):
        layout.encode({k: v for k, v in RECORD.items() if k != "NAME"})
    with pytest.raises(EncodeError) as info:
        layout.encode({**RECORD, "ORDER-COUNT": None, "ORDERS": [{**RECORD["ORDERS"][0], "AMOUNT": 1.5}]})
    assert info.value.field_path == "CUSTOMER.ORDERS[0].AMOUNT"
    with pytest.raises(EncodeError, match="a table of 0 to 4 items, given 5"):
        layout.encode({**RECORD, "ORDER-COUNT": None, "ORDERS": RECORD["ORDERS"] * 2 + RECORD["ORDERS"][:1]})


def test_trimming_options_python_names_and_root() -> None:
    text = "01 R.\n 05 A PIC X(6).\n 05 B-C PIC X(6) JUSTIFIED RIGHT.\n"
    data = "  AB      CD".encode("cp037")  # B-C is justified right: its padding is on the left
    assert parse_copybook(text, source_format="free").decode(data) == {"A": "  AB", "B-C": "CD"}
    assert parse_copybook(text, source_format="free", trim="none").decode(data) == {"A": "  AB  ", "B-C": "    CD"}
    assert parse_copybook(text, source_format="free", trim="both").decode(data) == {"A": "AB", "B-C": "CD"}
    keyed = parse_copybook(text, source_format="free", python_names=True, keep_root=True)
    record = keyed.decode(data)
    assert record == {"r": {"a": "  AB", "b_c": "CD"}}
    assert keyed.encode(record) == data


def test_filler_groups_lend_their_named_items_to_the_parent() -> None:
    layout = parse_copybook("""
       01  R.
           05  FILLER.
               10  A        PIC X(2).
               10  FILLER   PIC 9(3).
           05  EMPTY.
               10  FILLER   PIC X(2).
           05  B            PIC S9(3) COMP-3.
    """, "cp037")
    data = layout.encode({"A": "AB", "B": -5})
    assert data == "AB".encode("cp037") + b"\xf0\xf0\xf0" + b"\x40\x40" + b"\x00\x5d"
    assert layout.decode(data) == {"A": "AB", "B": -5}


def test_sync_slack_bytes() -> None:
    layout = parse_copybook("01 R.\n 05 A PIC X.\n 05 B PIC S9(9) COMP SYNC.\n", source_format="free")
    data = layout.encode({"A": "Z", "B": -1})
    assert data == b"\xe9\x00\x00\x00\xff\xff\xff\xff"
    assert layout.decode(data) == {"A": "Z", "B": -1}


def test_nested_variable_tables() -> None:
    layout = parse_copybook("""
       01 RECORD.
          02 COUNT PIC 9(1).
          02 GROUP OCCURS 0 TO 2 TIMES DEPENDING ON COUNT.
             03 INNER-COUNT PIC 9(1).
             03 INNER-GROUP OCCURS 0 TO 3 TIMES
                            DEPENDING ON INNER-COUNT.
                04 FIELD PIC X.
    """, "ascii")
    record = {"COUNT": 2, "GROUP": [{"INNER-COUNT": 1, "INNER-GROUP": [{"FIELD": "A"}]},
                                    {"INNER-COUNT": 2, "INNER-GROUP": [{"FIELD": "B"}, {"FIELD": "C"}]}]}
    data = layout.encode(record)
    assert data == b"21A2BC"
    assert layout.decode_with_length(data + b"junk") == (record, 6)

"""Copybook and fixed-width data formats in routes (eip/legacy_formats.py), and streaming record splits."""

from __future__ import annotations

import io
import json
import os
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from eip import RouteBuilder, dead_letter_channel
from eip.constants import EXCEPTION_CAUGHT, SPLIT_COMPLETE, SPLIT_INDEX, SPLIT_SIZE
from eip.errors import ExpressionError, TypeConversionError
from eip.legacy_formats import (
    CopybookDataFormat,
    copybook,
    copybook_records,
    fixed_width,
    fixed_width_records,
)
from eip.testing import Notifier
from legacy import (
    CodePage,
    InvalidDigitError,
    RecordError,
    RecordFramingError,
    load_copybook,
    parse_copybook,
)

# Found by tests/conftest.py (EIP_TESTDATA, ../shared/testdata or /work/shared/testdata).
COBRIX = Path(os.environ.get("EIP_TESTDATA") or "/nonexistent") / "cobrix"

CUSTOMER = """\
       01  CUSTOMER.
           05  CUST-ID        PIC 9(5).
           05  NAME           PIC X(10).
           05  BALANCE        PIC S9(5)V99 COMP-3.
"""
RECORD_LENGTH = 19
ADA = {"CUST-ID": 1, "NAME": "ADA", "BALANCE": Decimal("12.50")}
BOB = {"CUST-ID": 2, "NAME": "BOB", "BALANCE": Decimal("-3.00")}


@pytest.fixture
def fmt() -> CopybookDataFormat:
    return copybook(CUSTOMER)


def run(engine, build, *bodies, dead_letter=True):
    class Routes(RouteBuilder):
        def configure(self):
            if dead_letter:
                self.error_handler(dead_letter_channel("mock:dead"))
            build(self.from_("direct:in")).to("mock:out")

    engine.add_routes(Routes())
    engine.start()
    for body in bodies:
        engine.template.send_body("direct:in", body)
    return engine.get_endpoint("mock:out").received_bodies


def caught(engine):
    return [ex.properties[EXCEPTION_CAUGHT] for ex in engine.get_endpoint("mock:dead").received_exchanges]


# -- the copybook data format -----------------------------------------------------------------------

def test_one_record_is_a_dict_many_a_list(fmt):
    one, two = fmt.marshal(None, ADA), fmt.marshal(None, BOB)
    assert len(one) == RECORD_LENGTH and one[:5] == "00001".encode("cp037")
    assert fmt.unmarshal(None, one) == ADA
    assert fmt.unmarshal(None, one + two) == [ADA, BOB]
    assert fmt.unmarshal(None, b"") == []
    assert fmt.marshal(None, [ADA, BOB]) == one + two
    assert fmt.marshal(None, (r for r in [ADA, BOB])) == one + two
    assert fmt.marshal(None, []) == b""


def test_multiple_option_fixes_the_shape():
    many, single = copybook(CUSTOMER, multiple=True), copybook(CUSTOMER, multiple=False)
    one = many.marshal(None, ADA)
    assert many.unmarshal(None, one) == [ADA]
    assert single.unmarshal(None, one) == ADA
    with pytest.raises(RecordFramingError, match="exactly one record .* holds 2"):
        single.unmarshal(None, one * 2)
    with pytest.raises(RecordFramingError, match="holds 0"):
        single.unmarshal(None, b"")


def test_vb_and_text_record_formats():
    vb = copybook(CUSTOMER, record_format="vb")
    data = vb.marshal(None, [ADA, BOB])
    assert data[:4] == bytes([0, RECORD_LENGTH + 4, 0, 0])
    assert vb.unmarshal(None, data) == [ADA, BOB]
    assert vb.unmarshal(None, vb.marshal(None, ADA)) == ADA
    text = copybook("01 R. 05 ID PIC 9(3). 05 NAME PIC X(6).", "ascii", "text")
    assert text.marshal(None, [{"ID": 1, "NAME": "ANN"}, {"ID": 2, "NAME": "BO"}]) == b"001ANN   \n002BO    \n"
    assert text.unmarshal(None, b"001ANN\r\n002BO\n") == [{"ID": 1, "NAME": "ANN"}, {"ID": 2, "NAME": "BO"}]
    assert text.unmarshal(None, b"001ANN") == {"ID": 1, "NAME": "ANN"}


def test_longer_fixed_records_are_padded_with_the_code_pages_space():
    padded = copybook(CUSTOMER, record_length=24)
    data = padded.marshal(None, [ADA, BOB])
    assert len(data) == 48 and data[19:24] == b"\x40" * 5
    assert padded.unmarshal(None, data) == [ADA, BOB]
    assert padded.unmarshal(None, data[:24]) == ADA
    with pytest.raises(ValueError, match="shorter than the layout"):
        copybook(CUSTOMER, record_length=10)


def test_bad_records_raise_legacy_errors_with_context(fmt):
    data = fmt.marshal(None, [ADA, BOB])
    broken = data[:RECORD_LENGTH] + b"\x00" + data[RECORD_LENGTH + 1:]
    with pytest.raises(InvalidDigitError) as info:
        fmt.unmarshal(None, broken)
    assert (info.value.record_number, info.value.field_path, info.value.offset) == (1, "CUSTOMER.CUST-ID", 0)
    with pytest.raises(RecordFramingError, match="ends 3 bytes into a 19-byte record"):
        fmt.unmarshal(None, data + b"abc")
    with pytest.raises(TypeError, match="bytes, not str"):
        fmt.unmarshal(None, "00001ADA")
    with pytest.raises(TypeError, match="record .* or an iterable of records"):
        fmt.marshal(None, b"raw")


def test_copybook_takes_text_paths_layouts_and_formats(tmp_path, fmt):
    path = tmp_path / "customer.cpy"
    path.write_text(CUSTOMER)
    assert copybook(path).record_length == copybook(str(path)).record_length == RECORD_LENGTH
    layout = parse_copybook(CUSTOMER, "cp500")
    assert copybook(layout).layout is layout and copybook(layout).code_page.name == "cp500"
    assert copybook(fmt) is fmt  # nothing changed: the same format
    assert copybook(fmt, record_format="vb").record_format == "vb" and copybook(fmt, record_format="vb").layout is fmt.layout
    assert copybook(CUSTOMER, python_names=True).unmarshal(None, fmt.marshal(None, ADA))["cust_id"] == 1
    assert copybook(CUSTOMER, code_page="cp1047").code_page.name == "cp1047"
    with pytest.raises(ValueError, match="parsed for cp500, not cp037"):
        copybook(layout, "cp037")
    with pytest.raises(ValueError, match="apply when parsing"):
        copybook(layout, python_names=True)
    with pytest.raises(ValueError, match="disagree"):
        copybook(CUSTOMER, "cp037", code_page="cp500")
    with pytest.raises(FileNotFoundError, match="copybook file 'missing.cpy' not found"):
        copybook("missing.cpy")
    with pytest.raises(ValueError, match="record_format"):
        copybook(CUSTOMER, record_format="vbs")


def test_the_format_still_behaves_as_its_layout(fmt):
    data = fmt.encode(ADA)
    assert fmt.decode(data) == ADA and fmt.field("NAME").offset == 5 and "BALANCE" in str(fmt)


def test_unmarshal_and_marshal_in_a_route(engine, fmt):
    data = fmt.marshal(None, [ADA, BOB])
    bodies = run(engine, lambda r: r.unmarshal(fmt).marshal("json"), data[:RECORD_LENGTH], data)
    assert bodies == [b'{"CUST-ID": 1, "NAME": "ADA", "BALANCE": 12.50}',
                      (b'[{"CUST-ID": 1, "NAME": "ADA", "BALANCE": 12.50}, '
                       b'{"CUST-ID": 2, "NAME": "BOB", "BALANCE": -3.00}]')]


def test_a_bad_record_in_a_route_goes_to_the_dead_letter_with_its_error(engine, fmt):
    run(engine, lambda r: r.unmarshal(fmt), "0000x".encode("cp037") + b"\x40" * 14, "text body")
    errors = caught(engine)
    assert isinstance(errors[0], InvalidDigitError) and "field CUSTOMER.CUST-ID, byte 4" in str(errors[0])
    assert isinstance(errors[1], TypeConversionError) and "bytes, not str" in str(errors[1])


def test_route_error_handling_matches_legacy_errors_by_their_own_class(engine, fmt):
    bad = "0000x".encode("cp037") + b"\x40" * 14

    class Routes(RouteBuilder):
        def configure(self):
            self.on_exception(RecordError, handled=True).to("mock:bad-record").end()
            self.from_("direct:clause").unmarshal(fmt).to("mock:out")
            (self.from_("direct:try")
                .do_try().unmarshal(fmt).to("mock:out")
                .do_catch(InvalidDigitError).to("mock:caught")
                .end())

    engine.add_routes(Routes())
    engine.start()
    engine.template.send_body("direct:clause", bad)
    engine.template.send_body("direct:try", bad)
    [clause] = engine.get_endpoint("mock:bad-record").received_exchanges
    assert isinstance(clause.properties[EXCEPTION_CAUGHT], InvalidDigitError)
    [caught_here] = engine.get_endpoint("mock:caught").received_exchanges
    assert caught_here.properties[EXCEPTION_CAUGHT].field_path == "CUSTOMER.CUST-ID"
    assert engine.get_endpoint("mock:out").received_bodies == []


def test_legacy_re_exports_the_route_factories():
    import legacy

    assert type(legacy.copybook(CUSTOMER)) is CopybookDataFormat
    assert legacy.copybook(CUSTOMER, "cp500", "vb").record_format == "vb"
    assert legacy.fixed_width([("id", 3, "int")]).decode("007") == {"id": 7}
    assert legacy.copybook_records(CUSTOMER).text.startswith("copybook_records(")
    assert legacy.fixed_width_records([("id", 3, "int")]).text.startswith("fixed_width_records(")


def test_json_back_to_copybook_keeps_decimals_exact(engine, fmt):
    from eip.dataformat import JsonDataFormat

    bodies = run(engine, lambda r: r.unmarshal(JsonDataFormat(parse_float=Decimal)).marshal(fmt),
                 b'{"CUST-ID": 7, "NAME": "EVE", "BALANCE": 0.10}')
    assert fmt.unmarshal(None, bodies[0]) == {"CUST-ID": 7, "NAME": "EVE", "BALANCE": Decimal("0.10")}


# -- copybook_records: the streaming split ----------------------------------------------------------

class LazyFileBody:
    """Stands in for the file component's FileBody: open() gives a fresh binary stream."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.opened: list[io.BytesIO] = []

    def open(self, mode: str = "rb") -> io.BytesIO:
        assert mode == "rb"
        stream = io.BytesIO(self.data)
        self.opened.append(stream)
        return stream

    def read_bytes(self) -> bytes:
        raise AssertionError("a file body must be streamed, not loaded whole")


def test_streaming_split_over_every_kind_of_body(engine, fmt, tmp_path):
    data = fmt.marshal(None, [ADA, BOB])
    path = tmp_path / "customers.dat"
    path.write_bytes(data)
    user_file = open(path, "rb")  # noqa: SIM115 - the route must leave it open
    lazy = LazyFileBody(data)

    class ReadBytesOnly:
        def read_bytes(self) -> bytes:
            return data

    bodies = run(engine, lambda r: r.split(copybook_records(CUSTOMER), streaming=True).to("mock:records").end()
                 .set_body("done"), data, bytearray(data), path, user_file, lazy, ReadBytesOnly())
    assert engine.get_endpoint("mock:records").received_bodies == [ADA, BOB] * 6
    assert bodies == ["done"] * 6
    assert not user_file.closed
    user_file.close()
    assert len(lazy.opened) == 1 and lazy.opened[0].closed


def test_split_properties_and_records_of_vb_files(engine):
    vb = copybook(CUSTOMER, record_format="vb")
    run(engine, lambda r: r.split(copybook_records(vb), streaming=True).to("mock:records").end(),
        vb.marshal(None, [ADA, BOB, ADA]))
    received = engine.get_endpoint("mock:records").received_exchanges
    assert [ex.message.body for ex in received] == [ADA, BOB, ADA]
    assert [ex.properties[SPLIT_INDEX] for ex in received] == [0, 1, 2]
    assert [ex.properties[SPLIT_COMPLETE] for ex in received] == [False, False, True]
    assert received[2].properties[SPLIT_SIZE] == 3


def test_streaming_reads_lazily_and_closes_the_body_when_the_split_stops(engine, fmt):
    good = fmt.marshal(None, ADA)
    count = 200_000  # 3.8 MB: several read chunks
    lazy = LazyFileBody(good * count)
    seen: list[int] = []

    def fail_on_third(exchange):
        seen.append(lazy.opened[0].tell())
        if exchange.properties[SPLIT_INDEX] == 2:
            raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        run(engine, lambda r: r.split(copybook_records(fmt), streaming=True, stop_on_exception=True)
            .process(fail_on_third).to("mock:records").end(), lazy, dead_letter=False)
    assert len(engine.get_endpoint("mock:records").received_bodies) == 2
    assert max(seen) <= 2 * (1 << 20)  # at most a chunk or two of the 3.8 MB was read
    assert lazy.opened[0].closed


def test_a_bad_record_fails_the_split_naming_its_record_number(engine, fmt):
    data = fmt.marshal(None, [ADA, BOB, ADA])
    broken = data[:2 * RECORD_LENGTH] + b"\x00" + data[2 * RECORD_LENGTH + 1:]
    run(engine, lambda r: r.split(copybook_records(fmt), streaming=True).to("mock:records").end(), broken)
    # the streaming splitter reads one record ahead: record 2 fails before record 1 is routed
    assert engine.get_endpoint("mock:records").received_bodies == [ADA]
    error = caught(engine)[0]
    assert isinstance(error, InvalidDigitError) and error.record_number == 2


def test_a_body_that_holds_no_records_is_an_expression_error(engine):
    run(engine, lambda r: r.split(copybook_records(CUSTOMER), streaming=True).to("mock:records").end(), "text", 42)
    errors = caught(engine)
    assert all(isinstance(e, ExpressionError) for e in errors)
    assert "bytes, not str" in str(errors[0]) and "not int" in str(errors[1])


# -- a real copybook file from Cobrix, through a route, to JSON -----------------------------------

@pytest.mark.skipif(not (COBRIX / "test3_trimming").is_dir(), reason=f"Cobrix test data not found at {COBRIX}")
def test_cobrix_file_to_json_through_a_streaming_split(engine):
    """test3: 1000 fixed 45-byte EBCDIC records; Cobrix's expected output holds the first 60
    whose SIGNATURE is S9276511 (its segment filter), with ``-`` in names written ``_``. Cobrix
    decodes with its "common" code page, which reads EBCDIC control bytes (the NULs padding some
    names) as spaces: the same table, built from cp037, is passed as the layout's code page."""
    folder = COBRIX / "test3_trimming"
    cp037 = bytes(range(256)).decode("cp037")
    common = CodePage.from_table("cobrix-common", "".join(max(ch, " ") for ch in cp037))
    layout = load_copybook(folder / "test3_copybook.cob", common)
    run(engine, lambda r: (
        r.split(copybook_records(layout), streaming=True)
        .filter(lambda ex: ex.message.body["SIGNATURE"] == "S9276511").marshal("json").to("mock:json").end().end()),
        folder / "TRAN2.AUG31.DATA.dat")
    produced = engine.get_endpoint("mock:json").received_bodies
    expected = (folder / "test3_trim_right.txt").read_text().splitlines()
    assert len(produced) >= len(expected) == 60
    for ours, theirs in zip(produced, expected):
        record = {key.replace("-", "_"): value for key, value in json.loads(ours, parse_float=Decimal).items()}
        assert record == json.loads(theirs, parse_float=Decimal)
        # the exact text of every amount, trailing zeros included (59.80 stays 59.80)
        assert ours.decode().endswith(f'"AMOUNT": {theirs.rsplit(":", 1)[1][:-1]}}}')


@pytest.mark.skipif(not (COBRIX / "test3_trimming").is_dir(), reason=f"Cobrix test data not found at {COBRIX}")
def test_cobrix_file_from_a_folder_to_a_json_lines_file(engine, tmp_path):
    """The same file end to end with the file component: picked up from a folder as a lazy
    FileBody, streamed record by record, written as JSON lines, moved to .done afterwards."""
    folder = COBRIX / "test3_trimming"
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    inbox.mkdir()
    layout = load_copybook(folder / "test3_copybook.cob", "cp037")

    class Routes(RouteBuilder):
        def configure(self):
            (self.from_(f"file:{inbox}?initial_delay=0&delay=0.02").route_id("records")
                .split(copybook_records(layout), streaming=True)
                    .marshal("json").transform(lambda ex: ex.message.body + b"\n")
                    .to(f"file:{outbox}?file_name=transactions.jsonl&file_exist=append")
                .end())

    engine.add_routes(Routes())
    notifier = Notifier(engine, completed=1)  # counted once the file's unit of work is done
    engine.start()
    shutil.copy(folder / "TRAN2.AUG31.DATA.dat", inbox / "TRAN2.AUG31.DATA.dat")
    assert notifier.wait(timeout=10)
    lines = (outbox / "transactions.jsonl").read_bytes().splitlines()
    assert len(lines) == 1000
    assert json.loads(lines[0], parse_float=Decimal)["AMOUNT"] == Decimal("988.91")
    assert (inbox / ".done" / "TRAN2.AUG31.DATA.dat").exists()


# -- fixed width ------------------------------------------------------------------------------------

FIELDS = [("id", 4, "int"), ("name", 8), ("amount", 8, "decimal", {"scale": 2, "pad": " "})]


def test_fixed_width_format_shapes_and_bodies():
    fw = fixed_width(FIELDS)
    rows = [{"id": 1, "name": "Ada", "amount": Decimal("12.50")}, {"id": 2, "name": "Bob", "amount": None}]
    data = fw.marshal(None, rows)
    assert data == b"0001Ada        12.50\n0002Bob             \n"
    assert fw.unmarshal(None, data) == rows
    assert fw.unmarshal(None, data.decode()) == rows  # a text body works: fixed-width is text
    assert fw.unmarshal(None, data.splitlines()[0]) == rows[0]
    assert fixed_width(FIELDS, multiple=True).unmarshal(None, data.splitlines()[0]) == [rows[0]]
    fixed = fixed_width(FIELDS, "latin-1", "fixed")
    assert fixed.unmarshal(None, fixed.marshal(None, rows)) == rows
    assert fixed.unmarshal(None, b"0003Eve") == {"id": 3, "name": "Eve", "amount": None}
    assert fw.record_length == 20  # the layout shows through


def test_fixed_width_in_a_route_with_a_streaming_split(engine):
    fw = fixed_width(FIELDS)
    data = fw.marshal(None, [{"id": n, "name": f"N{n}", "amount": Decimal(n) / 4} for n in range(5)])
    run(engine, lambda r: r.split(fixed_width_records(fw), streaming=True).marshal("json").to("mock:json").end(), data)
    assert engine.get_endpoint("mock:json").received_bodies[1] == b'{"id": 1, "name": "N1", "amount": 0.25}'
    assert len(engine.get_endpoint("mock:json").received_bodies) == 5


def test_text_records_longer_than_max_record_length_fail_the_unmarshal_and_the_split() -> None:
    fmt = copybook("01 R.\n  05 ID PIC 9(3).\n  05 NAME PIC X(5).\n", "ascii", "text", max_record_length=8)
    assert fmt.unmarshal(None, b"001ALICE\n002BOB\n") == [{"ID": 1, "NAME": "ALICE"}, {"ID": 2, "NAME": "BOB"}]
    with pytest.raises(RecordFramingError, match="longer than 8 bytes.*file offset 9") as info:
        fmt.unmarshal(None, b"001ALICE\n002BOB" + b" " * 100 + b"\n")
    assert info.value.record_number == 1
    records = fmt.records(io.BytesIO(b"x" * 10_000))
    with pytest.raises(RecordFramingError, match="file offset 0"):
        next(records)

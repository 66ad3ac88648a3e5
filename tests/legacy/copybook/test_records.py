"""Record files: fixed, VB with RDW (and its variants), text; streaming and framing errors."""

from __future__ import annotations

import io

import pytest

from legacy import RecordFramingError, parse_copybook
from legacy.copybook.records import (
    RecordWriter,
    iter_fixed,
    iter_text,
    iter_vb,
    make_rdw,
    rdw_length,
)

LAYOUT = "01 R.\n 05 ID PIC 9(3).\n 05 NAME PIC X(5).\n"


def test_fixed_records_across_chunk_boundaries() -> None:
    data = b"".join(bytes([i]) * 7 for i in range(10))
    assert list(iter_fixed(io.BytesIO(data), 7, chunk_size=10)) == [bytes([i]) * 7 for i in range(10)]
    with pytest.raises(RecordFramingError) as info:
        list(iter_fixed(io.BytesIO(data + b"xx"), 7))
    assert info.value.record_number == 10 and "ends 2 bytes into" in str(info.value)


def test_rdw_formats() -> None:
    assert rdw_length(b"\x00\x44\x00\x00") == 64  # IBM: the length counts the RDW itself
    assert rdw_length(b"\x00\x40\x00\x00", adjustment=0) == 64  # the payload length only
    assert rdw_length(b"\x00\x00\x40\x00", byte_order="little", adjustment=0) == 64
    assert make_rdw(64) == b"\x00\x44\x00\x00"
    with pytest.raises(ValueError, match="spanned"):
        rdw_length(b"\x00\x44\x01\x00")
    with pytest.raises(ValueError, match="less than the RDW"):
        rdw_length(b"\x00\x02\x00\x00")


def test_vb_stream_and_its_errors() -> None:
    payloads = [b"A" * 3, b"", b"B" * 300]
    data = b"".join(make_rdw(len(p)) + p for p in payloads)
    assert list(iter_vb(io.BytesIO(data), chunk_size=5)) == payloads
    with pytest.raises(RecordFramingError) as info:
        list(iter_vb(io.BytesIO(data[:-1])))
    assert info.value.record_number == 2 and "the file ends after 299" in str(info.value)
    with pytest.raises(RecordFramingError, match="inside an RDW"):
        list(iter_vb(io.BytesIO(data + b"\x00\x05")))


def test_text_records_are_padded_and_lose_their_line_ends() -> None:
    data = b"001ALICE\r\n002BO\n003\n"
    assert list(iter_text(io.BytesIO(data), pad_to=8, chunk_size=4)) == [b"001ALICE", b"002BO   ", b"003     "]


@pytest.mark.parametrize("record_format", ["fixed", "vb", "text"])
def test_layout_reads_what_it_writes(record_format: str) -> None:
    layout = parse_copybook(LAYOUT, "ascii" if record_format == "text" else "cp037", source_format="free")
    records = [{"ID": i, "NAME": f"N{i}"} for i in range(250)]
    out = io.BytesIO()
    assert layout.write_records(out, records, record_format) == 250
    out.seek(0)
    assert list(layout.iter_records(out, record_format)) == records


def test_decoding_errors_carry_the_record_number() -> None:
    layout = parse_copybook(LAYOUT, "cp037", source_format="free")
    data = layout.encode({"ID": 1, "NAME": "A"}) * 3 + b"\xc1\xc2\xc3" + b"\x40" * 5
    with pytest.raises(Exception) as info:
        list(layout.iter_records(io.BytesIO(data)))
    assert getattr(info.value, "record_number", None) == 3 and info.value.field_path == "R.ID"  # type: ignore[attr-defined]


def test_writer_checks_record_sizes() -> None:
    writer = RecordWriter(io.BytesIO(), "fixed", record_length=4)
    with pytest.raises(RecordFramingError, match="does not fit"):
        writer.write(b"12345")
    with pytest.raises(RecordFramingError, match="newline"):
        RecordWriter(io.BytesIO(), "text").write(b"a\nb")
    with pytest.raises(ValueError, match="record_format"):
        RecordWriter(io.BytesIO(), "csv")


# -- long text records (issue 9, item 20) -------------------------------------------------------

class CountingStream(io.BytesIO):
    """A file that counts the bytes handed out by ``read``."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:  # type: ignore[override]
        data = super().read(size)
        self.bytes_read += len(data)
        return data


def test_a_text_record_longer_than_the_maximum_names_its_number_and_file_offset() -> None:
    data = b"short\r\n" + b"x" * 100 + b"\nnext\n"
    records = iter_text(io.BytesIO(data), max_length=10, chunk_size=8)
    assert next(records) == b"short"
    with pytest.raises(RecordFramingError) as info:
        next(records)
    assert info.value.record_number == 1 and info.value.offset == 10
    assert "longer than 10 bytes" in str(info.value) and "file offset 7" in str(info.value)
    # exactly the maximum is fine, and a dropped \r does not count
    assert list(iter_text(io.BytesIO(b"0123456789\r\n0123456789"), max_length=10, chunk_size=3)) == [
        b"0123456789", b"0123456789"]


@pytest.mark.parametrize("chunk_size", [1, 7, 4096])
def test_a_file_without_newlines_is_refused_after_reading_the_maximum(chunk_size: int) -> None:
    stream = CountingStream(b"y" * 1_000_000)
    with pytest.raises(RecordFramingError, match="starting at file offset 0") as info:
        list(iter_text(stream, max_length=1000, chunk_size=chunk_size))
    assert info.value.record_number == 0
    assert stream.bytes_read <= 1000 + 1 + chunk_size


def test_a_long_line_across_many_chunks_is_read_whole() -> None:
    lines = [b"a" * 100_000, b"", b"b" * 3 + b"\r", b"c" * 250_001]
    data = b"\n".join(lines)
    got = list(iter_text(io.BytesIO(data), chunk_size=64))
    assert got == [b"a" * 100_000, b"", b"bbb", b"c" * 250_001]


def test_layouts_read_text_records_up_to_their_max_record_length() -> None:
    layout = parse_copybook(LAYOUT, "ascii", source_format="free", max_record_length=20)
    assert list(layout.iter_records(io.BytesIO(b"001ALICE\n002BOB  \n"), "text")) == [
        {"ID": 1, "NAME": "ALICE"}, {"ID": 2, "NAME": "BOB"}]
    with pytest.raises(RecordFramingError) as info:
        list(layout.iter_records(io.BytesIO(b"001ALICE\n002BOB" + b" " * 30 + b"\n"), "text"))
    assert info.value.record_number == 1 and "file offset 9" in str(info.value)
    assert parse_copybook(LAYOUT, source_format="free").options.max_record_length == 16 * 1024 * 1024

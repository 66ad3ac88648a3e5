"""Records in files: fixed-length, variable-length with a 4-byte RDW (VB), and text lines.

A VB record starts with a record descriptor word: a 2-byte big-endian length that counts the
4 RDW bytes themselves, then two zero bytes (IBM's format; ``rdw_adjustment=-4`` is added to
get the payload length). Files copied off a mainframe by other tools may hold the payload
length only (``rdw_adjustment=0``) or a byte-swapped word (``rdw_byte_order="little"``: length
in bytes 2-3, low byte first), the variants Cobrix reads. Readers go through the file in large
chunks and yield one record at a time, so memory stays constant whatever the file's size. A
text record is as long as its line, so ``max_length`` bounds it (``Layout.iter_records``
passes the layout's ``max_record_length``): longer is a ``RecordFramingError``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import BinaryIO, Literal

from legacy.errors import RecordFramingError

RecordFormat = Literal["fixed", "vb", "text"]
RECORD_FORMATS = ("fixed", "vb", "text")
CHUNK = 1 << 20


def _check_format(record_format: str) -> None:
    if record_format not in RECORD_FORMATS:
        raise ValueError(f"record_format is one of {', '.join(RECORD_FORMATS)}, not {record_format!r}")


def iter_fixed(fileobj: BinaryIO, record_length: int, *, chunk_size: int = CHUNK) -> Iterator[bytes]:
    """Records of ``record_length`` bytes, back to back; a torn last record is an error."""
    if record_length <= 0:
        raise ValueError("record_length must be positive")
    per_chunk = max(1, chunk_size // record_length) * record_length
    number = 0
    while True:
        chunk = fileobj.read(per_chunk)
        if not chunk:
            return
        while len(chunk) % record_length:  # a short read from a pipe or socket: top it up
            more = fileobj.read(record_length - len(chunk) % record_length)
            if not more:
                whole = len(chunk) - len(chunk) % record_length
                yield from (chunk[i : i + record_length] for i in range(0, whole, record_length))
                number += whole // record_length
                raise RecordFramingError(
                    f"the file ends {len(chunk) - whole} bytes into a {record_length}-byte record",
                    record_number=number,
                    offset=len(chunk) - whole,
                )
            chunk += more
        for i in range(0, len(chunk), record_length):
            yield chunk[i : i + record_length]
        number += len(chunk) // record_length


class _Buffered:
    """Reads a file in chunks and hands out exact byte counts."""

    def __init__(self, fileobj: BinaryIO, chunk_size: int) -> None:
        self.fileobj = fileobj
        self.chunk_size = chunk_size
        self.buf = b""
        self.pos = 0
        self.consumed = 0  # bytes of the file before self.buf

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if end > len(self.buf):
            rest = self.buf[self.pos :]
            self.consumed += self.pos
            parts = [rest]
            have = len(rest)
            while have < n:
                chunk = self.fileobj.read(max(self.chunk_size, n - have))
                if not chunk:
                    break
                parts.append(chunk)
                have += len(chunk)
            self.buf = b"".join(parts)
            self.pos = 0
            end = n
        data = self.buf[self.pos : end]
        self.pos = min(end, len(self.buf))
        return data

    @property
    def offset(self) -> int:
        return self.consumed + self.pos


def rdw_length(header: bytes, *, byte_order: str = "big", adjustment: int = -4) -> int:
    """The payload length a 4-byte RDW announces; raises ValueError for a malformed one."""
    if byte_order == "big":
        length, rest = header[0] << 8 | header[1], header[2:4]
    elif byte_order == "little":
        length, rest = header[3] << 8 | header[2], header[0:2]
    else:
        raise ValueError(f"rdw_byte_order is 'big' or 'little', not {byte_order!r}")
    if rest != b"\x00\x00":
        raise ValueError(
            f"RDW {header.hex(' ').upper()}: segment bytes must be zero (spanned VBS records are not supported)"
        )
    payload = length + adjustment
    if payload < 0:
        raise ValueError(f"RDW {header.hex(' ').upper()} announces {length} bytes, less than the RDW itself")
    return payload


def make_rdw(payload_length: int, *, byte_order: str = "big", adjustment: int = -4) -> bytes:
    """The RDW for a payload of this many bytes."""
    length = payload_length - adjustment
    if not 0 <= length <= 0xFFFF:
        raise ValueError(f"a VB record of {payload_length} bytes does not fit an RDW")
    hi, lo = length >> 8, length & 0xFF
    return bytes([hi, lo, 0, 0]) if byte_order == "big" else bytes([0, 0, lo, hi])


def iter_vb(
    fileobj: BinaryIO, *, rdw_byte_order: str = "big", rdw_adjustment: int = -4, chunk_size: int = CHUNK
) -> Iterator[bytes]:
    """The payloads of RDW-prefixed records."""
    reader = _Buffered(fileobj, chunk_size)
    number = 0
    while True:
        at = reader.offset
        header = reader.take(4)
        if not header:
            return
        if len(header) < 4:
            raise RecordFramingError(f"the file ends inside an RDW (file offset {at})", record_number=number, offset=0)
        try:
            length = rdw_length(header, byte_order=rdw_byte_order, adjustment=rdw_adjustment)
        except ValueError as exc:
            raise RecordFramingError(f"{exc} (file offset {at})", record_number=number, offset=0) from None
        payload = reader.take(length)
        if len(payload) < length:
            raise RecordFramingError(
                f"the RDW announces {length} bytes, the file ends after {len(payload)} (file offset {at})",
                record_number=number,
                offset=len(payload),
            )
        yield payload
        number += 1


def iter_text(
    fileobj: BinaryIO,
    *,
    pad_to: int | None = None,
    pad_byte: int = 0x20,
    chunk_size: int = CHUNK,
    max_length: int | None = None,
) -> Iterator[bytes]:
    """Newline-terminated records (a ``\\r`` before the newline is dropped), padded with spaces
    to ``pad_to`` bytes, as editors strip trailing blanks.

    Linear in the file's size however long a line is: a line that spans chunks is kept as a
    list of its pieces and joined once. A record longer than ``max_length`` bytes is a
    ``RecordFramingError`` raised as soon as that many bytes are held, so a file with no
    newline never holds more than ``max_length`` plus one chunk in memory.
    """
    if max_length is not None and max_length < 0:
        raise ValueError("max_length must not be negative")
    limit = None if max_length is None else max_length + 1  # room for a '\r' that is dropped
    pad = bytes([pad_byte])
    pieces: list[bytes] = []  # the start of a line that no chunk has ended yet
    held = 0
    start = 0  # file offset of the line being read
    number = 0

    def finish(line: bytes) -> bytes:
        if line.endswith(b"\r"):
            line = line[:-1]
        if max_length is not None and len(line) > max_length:
            raise _too_long(max_length, number, start)
        if pad_to is not None and len(line) < pad_to:
            line += pad * (pad_to - len(line))
        return line

    while True:
        chunk = fileobj.read(chunk_size)
        if not chunk:
            break
        if b"\n" not in chunk:
            pieces.append(chunk)
            held += len(chunk)
            if limit is not None and held > limit:
                raise _too_long(limit - 1, number, start)
            continue
        lines = chunk.split(b"\n")
        if pieces:
            pieces.append(lines[0])
            lines[0] = b"".join(pieces)
        tail = lines.pop()
        for line in lines:
            yield finish(line)
            start += len(line) + 1
            number += 1
        pieces = [tail] if tail else []
        held = len(tail)
        if limit is not None and held > limit:
            raise _too_long(limit - 1, number, start)
    rest = b"".join(pieces)
    if rest and rest != b"\r":
        yield finish(rest)


def _too_long(max_length: int, number: int, start: int) -> RecordFramingError:
    return RecordFramingError(
        f"a text record longer than {max_length} bytes (max_record_length), starting at file offset {start}",
        record_number=number,
        offset=max_length,
    )


def iter_raw_records(
    fileobj: BinaryIO,
    record_format: str = "fixed",
    *,
    record_length: int | None = None,
    rdw_byte_order: str = "big",
    rdw_adjustment: int = -4,
    pad_byte: int = 0x20,
    chunk_size: int = CHUNK,
    max_length: int | None = None,
) -> Iterator[bytes]:
    """The bytes of each record of a file in one of the record formats; ``max_length`` bounds a
    text record (fixed records have their length, VB records at most 65,531 bytes)."""
    _check_format(record_format)
    if record_format == "fixed":
        if record_length is None:
            raise ValueError("fixed-length records need a record_length")
        return iter_fixed(fileobj, record_length, chunk_size=chunk_size)
    if record_format == "vb":
        return iter_vb(fileobj, rdw_byte_order=rdw_byte_order, rdw_adjustment=rdw_adjustment, chunk_size=chunk_size)
    return iter_text(fileobj, pad_to=record_length, pad_byte=pad_byte, chunk_size=chunk_size, max_length=max_length)


class RecordWriter:
    """Writes encoded records in one record format; ``close`` flushes nothing itself."""

    def __init__(
        self,
        fileobj: BinaryIO,
        record_format: str = "fixed",
        *,
        record_length: int | None = None,
        rdw_byte_order: str = "big",
        rdw_adjustment: int = -4,
        pad_byte: int = 0x40,
        newline: bytes = b"\n",
    ) -> None:
        _check_format(record_format)
        self.fileobj = fileobj
        self.record_format = record_format
        self.record_length = record_length
        self.rdw_byte_order = rdw_byte_order
        self.rdw_adjustment = rdw_adjustment
        self.pad = bytes([pad_byte])
        self.newline = newline
        self.count = 0

    def write(self, data: bytes) -> None:
        if self.record_format == "fixed":
            if self.record_length is not None and len(data) != self.record_length:
                if len(data) > self.record_length:
                    raise RecordFramingError(
                        f"a record of {len(data)} bytes does not fit fixed records of {self.record_length}",
                        record_number=self.count,
                    )
                data += self.pad * (self.record_length - len(data))
            self.fileobj.write(data)
        elif self.record_format == "vb":
            try:
                rdw = make_rdw(len(data), byte_order=self.rdw_byte_order, adjustment=self.rdw_adjustment)
            except ValueError as exc:
                raise RecordFramingError(str(exc), record_number=self.count) from None
            self.fileobj.write(rdw + data)
        else:
            if self.newline in data:
                raise RecordFramingError(
                    "a text record cannot contain the newline byte",
                    record_number=self.count,
                    offset=data.index(self.newline),
                )
            self.fileobj.write(data + self.newline)
        self.count += 1

    def write_all(self, records: Iterable[bytes]) -> int:
        for data in records:
            self.write(data)
        return self.count


__all__ = [
    "RECORD_FORMATS",
    "RecordFormat",
    "RecordWriter",
    "iter_fixed",
    "iter_raw_records",
    "iter_text",
    "iter_vb",
    "make_rdw",
    "rdw_length",
]

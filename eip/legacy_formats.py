"""Copybook and fixed-width records as engine data formats, and streaming record splitters.

The engine's side of ``legacy``: the codecs (``legacy.copybook``, ``legacy.fixed_width``) know
nothing of routes; this module makes them data formats and split expressions. ``legacy``
re-exports the four factories (imported on first call), so route files may write either::

    from eip.legacy_formats import copybook, copybook_records, fixed_width
    from legacy import copybook, copybook_records, fixed_width

    .unmarshal(copybook("customer.cpy", "cp037"))            # bytes -> dict, or list of dicts
    .marshal(copybook(layout, record_format="vb"))             # dict or list of dicts -> bytes
    .split(copybook_records("customer.cpy"), streaming=True)   # one exchange per record
    .unmarshal(fixed_width([("id", 6, "int"), ("name", 20)]))

**One record or many.** ``unmarshal`` gives a dict when the payload holds exactly one record
and a list of dicts for any other number (an empty payload gives ``[]``). For ``fixed``
records a payload of at most one record's length is one record (a shorter one is decoded as
a record cut short, which strict layouts reject); ``vb`` and ``text`` payloads are framed and
counted. ``multiple=True`` always gives a list, ``multiple=False`` demands exactly one record
(``RecordFramingError`` otherwise). ``marshal`` takes a dict (one record) or any iterable of
dicts and writes them in the record format: ``fixed`` records back to back (padded to the
record length), ``vb`` each behind its RDW, ``text`` each followed by a newline.

**Bodies.** ``bytes`` (a text body is refused: convert it back with the right charset), a
binary file object (read from where it is, left open), a path (opened and closed), or the file
component's lazy file body (anything with ``open()``: opened, streamed and closed).
``copybook_records``/``fixed_width_records`` read the body in chunks and yield one decoded
record at a time, so a split over a file of any size runs in constant memory; a record that
fails to decode fails the split at that record (a ``RecordError`` naming record number, field
path and byte offset); the streaming splitter looks one record ahead, so the record just before
a bad one is not routed either.

``copybook(...)`` still behaves as the Layout it wraps (``.decode``, ``.encode``,
``.record_length``, ``.fields`` ...): attributes the data format does not have come from its
``layout``.

**Errors.** A record that cannot be decoded or encoded raises the codec's own error
(``legacy.errors.RecordError`` and its kinds, with record number, field path and byte offset),
unwrapped: the route's error handler sees it as it is, so ``on_exception(RecordError)`` and
``do_catch(InvalidDigitError)`` match it by its class. A body of the wrong kind is a
``TypeError``, which ``marshal``/``unmarshal`` turn into a ``TypeConversionError`` and the split
expressions into an ``ExpressionError``.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, BinaryIO

from eip.errors import ExpressionError
from eip.expressions import Expression
from legacy.copybook import Layout, load_copybook, parse_copybook
from legacy.copybook.records import RECORD_FORMATS, RecordWriter
from legacy.errors import RecordFramingError
from legacy.fixed_width import FIXED_WIDTH_FORMATS, FixedWidthLayout

_LEVEL_AT_START = re.compile(r"\s*\d{1,2}\s")


# -- bodies --------------------------------------------------------------------------------------


def open_body(body: Any) -> tuple[BinaryIO, bool]:
    """A binary stream over a message body, and whether the caller must close it."""
    if isinstance(body, (bytes, bytearray, memoryview)):
        return io.BytesIO(body), True
    if isinstance(body, str):
        raise TypeError(
            "record data is bytes, not str: the body was decoded as text somewhere; "
            "send the bytes (or convert_body_to(bytes, charset) with the charset used)"
        )
    if isinstance(body, os.PathLike):
        return open(body, "rb"), True
    if callable(getattr(body, "open", None)):  # a lazy file body: a fresh stream of its own
        try:
            stream = body.open("rb")
        except TypeError:
            stream = body.open()
        if isinstance(stream, io.TextIOBase):  # opened as text: read its bytes
            stream = getattr(stream, "buffer", stream)
        return stream, True
    if hasattr(body, "read"):
        if isinstance(body, io.TextIOBase):
            raise TypeError("record data needs a binary file, not a text file (open it with 'rb')")
        return body, False
    if callable(getattr(body, "read_bytes", None)):
        return io.BytesIO(body.read_bytes()), True
    raise TypeError(f"record data is bytes, a binary file, a path or a file body, not {type(body).__name__}")


def _streamed(records: Iterator[dict[str, Any]], stream: BinaryIO, owned: bool) -> Iterator[dict[str, Any]]:
    try:
        yield from records
    finally:
        if owned:
            stream.close()


# -- the shared shape of record formats ------------------------------------------------------------


class _RecordDataFormat:
    record_format: str
    multiple: bool | None

    def _one(self, data: bytes) -> Any:
        """The record when ``data`` is surely a single record, else None (count them)."""
        return None

    def _iter(self, stream: BinaryIO) -> Iterator[dict[str, Any]]:
        raise NotImplementedError

    def _write(self, out: BinaryIO, records: Iterable[Mapping[str, Any]]) -> None:
        raise NotImplementedError

    def _bytes_of(self, data: Any) -> Any:
        return data

    def records(self, body: Any) -> Iterator[dict[str, Any]]:
        """The decoded records of a body, one at a time; the body is opened now, read lazily."""
        stream, owned = open_body(self._bytes_of(body))
        try:
            records = self._iter(stream)
        except BaseException:
            if owned:
                stream.close()
            raise
        return _streamed(records, stream, owned)

    def unmarshal(self, exchange: Any, data: Any) -> Any:
        data = self._bytes_of(data)
        if isinstance(data, (bytes, bytearray, memoryview)) and self.multiple is not True:
            record = self._one(bytes(data))
            if record is not None:
                return record
        records = list(self.records(data))
        if self.multiple is None:
            return records[0] if len(records) == 1 else records
        if self.multiple:
            return records
        if len(records) != 1:
            raise RecordFramingError(f"expected exactly one record (multiple=False), the payload holds {len(records)}")
        return records[0]

    def marshal(self, exchange: Any, value: Any) -> bytes:
        if isinstance(value, Mapping):
            records: Iterable[Mapping[str, Any]] = (value,)
        elif isinstance(value, (str, bytes, bytearray)) or not hasattr(value, "__iter__"):
            raise TypeError(f"marshal needs a record (dict) or an iterable of records, not {type(value).__name__}")
        else:
            records = value
        out = io.BytesIO()
        self._write(out, records)
        return out.getvalue()


# -- copybook ------------------------------------------------------------------------------------


class CopybookDataFormat(_RecordDataFormat):
    """Records of a copybook layout as a data format (see the module docstring)."""

    def __init__(
        self,
        layout: Layout,
        record_format: str = "fixed",
        *,
        multiple: bool | None = None,
        record_length: int | None = None,
        rdw_byte_order: str = "big",
        rdw_adjustment: int = -4,
    ) -> None:
        if record_format not in RECORD_FORMATS:
            raise ValueError(f"record_format is one of {', '.join(RECORD_FORMATS)}, not {record_format!r}")
        if record_length is not None and record_length < layout.record_length and record_format == "fixed":
            raise ValueError(f"record_length {record_length} is shorter than the layout's {layout.record_length} bytes")
        self.layout = layout
        self.record_format = record_format
        self.multiple = multiple
        self.record_length = record_length if record_length is not None else layout.record_length
        self.rdw_byte_order = rdw_byte_order
        self.rdw_adjustment = rdw_adjustment

    def __getattr__(self, name: str) -> Any:
        if name == "layout":  # not set yet (during unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.layout, name)

    def _one(self, data: bytes) -> Any:
        if self.record_format == "fixed" and 0 < len(data) <= self.record_length:
            return self.layout.decode(data)
        return None

    def _iter(self, stream: BinaryIO) -> Iterator[dict[str, Any]]:
        return self.layout.iter_records(
            stream,
            self.record_format,
            record_length=self.record_length,
            rdw_byte_order=self.rdw_byte_order,
            rdw_adjustment=self.rdw_adjustment,
        )

    def _write(self, out: BinaryIO, records: Iterable[Mapping[str, Any]]) -> None:
        writer = RecordWriter(
            out,
            self.record_format,
            record_length=self.record_length if self.record_format == "fixed" else None,
            rdw_byte_order=self.rdw_byte_order,
            rdw_adjustment=self.rdw_adjustment,
            pad_byte=self.layout.code_page.space,
        )
        encode = self.layout.encode
        for number, record in enumerate(records):
            writer.write(encode(dict(record), record_number=number))

    def __str__(self) -> str:
        return self.layout.table()

    def __repr__(self) -> str:
        return f"copybook({self.layout!r}, record_format={self.record_format!r})"


def load_layout(source: Any, code_page: str | None = None, **options: Any) -> Layout:
    """A Layout from a Layout, a copybook data format, copybook text or a copybook file path."""
    if isinstance(source, CopybookDataFormat):
        source = source.layout
    if isinstance(source, Layout):
        if options:
            raise ValueError(f"layout options ({', '.join(options)}) apply when parsing a copybook, not to a Layout")
        if code_page is not None and code_page != source.code_page.name:
            raise ValueError(
                f"the layout was parsed for {source.code_page.name}, not {code_page}; "
                "parse the copybook with the code page you want"
            )
        return source
    page = code_page if code_page is not None else "cp037"
    if isinstance(source, os.PathLike):
        return load_copybook(source, page, **options)
    if not isinstance(source, str):
        raise TypeError(f"a copybook is a Layout, copybook text or a file path, not {type(source).__name__}")
    if "\n" not in source:
        if os.path.exists(source):
            return load_copybook(source, page, **options)
        if not _LEVEL_AT_START.match(source):
            raise FileNotFoundError(
                f"copybook file {source!r} not found (relative paths are relative to {os.getcwd()!r})"
            )
    return parse_copybook(source, page, **options)


def copybook(
    source: Any,
    encoding: str | None = None,
    record_format: str | None = None,
    *,
    code_page: str | None = None,
    multiple: bool | None = None,
    record_length: int | None = None,
    rdw_byte_order: str | None = None,
    rdw_adjustment: int | None = None,
    **layout_options: Any,
) -> CopybookDataFormat:
    """The copybook data format, for ``unmarshal(...)``/``marshal(...)``.

    ``source``: a Layout, copybook text, a copybook file path, or a copybook data format (whose
    settings are kept unless given here; with none given it is returned as it is).
    ``encoding`` (or its alias ``code_page``): the code page of text fields, cp037 by default
    (a Layout keeps its own). ``record_format``: ``fixed`` (default), ``vb`` (RDW before each
    record: ``rdw_byte_order`` big, ``rdw_adjustment`` -4 as in ``Layout.iter_records``) or
    ``text``. ``record_length``: fixed records longer than the layout. ``multiple``: see the
    module docstring. Other keywords (``python_names``, ``trim``, ``strict``...) go to
    ``parse_copybook``.
    """
    if encoding is not None and code_page is not None and encoding != code_page:
        raise ValueError(f"encoding {encoding!r} and code_page {code_page!r} disagree; give one")
    page = encoding if encoding is not None else code_page
    if isinstance(source, CopybookDataFormat):
        given = {
            "record_format": record_format,
            "multiple": multiple,
            "record_length": record_length,
            "rdw_byte_order": rdw_byte_order,
            "rdw_adjustment": rdw_adjustment,
        }
        settings: dict[str, Any] = {
            name: getattr(source, name) if value is None else value for name, value in given.items()
        }
        load_layout(source.layout, page, **layout_options)  # checks the code page and options
        if all(settings[name] == getattr(source, name) for name in settings):
            return source
        return CopybookDataFormat(source.layout, **settings)
    layout = load_layout(source, page, **layout_options)
    return CopybookDataFormat(
        layout,
        record_format or "fixed",
        multiple=multiple,
        record_length=record_length,
        rdw_byte_order=rdw_byte_order or "big",
        rdw_adjustment=-4 if rdw_adjustment is None else rdw_adjustment,
    )


def copybook_records(
    source: Any, encoding: str | None = None, record_format: str | None = None, **options: Any
) -> Expression:
    """An expression for ``split(copybook_records(...), streaming=True)``: the body's records,
    decoded one at a time. Takes what ``copybook`` takes, a copybook data format included."""
    fmt = copybook(source, encoding, record_format, **options)
    return _records_expression(fmt, f"copybook_records({fmt.layout!r}, {fmt.record_format!r})")


def _records_expression(fmt: _RecordDataFormat, text: str) -> Expression:
    def records(exchange: Any) -> Iterator[dict[str, Any]]:
        try:
            return fmt.records(exchange.message.body)
        except TypeError as exc:
            raise ExpressionError(f"{text}: {exc}") from exc

    return Expression(records, text)


# -- fixed width -----------------------------------------------------------------------------------


class FixedWidthDataFormat(_RecordDataFormat):
    """Fixed-width records as a data format; a ``str`` body is taken as the records' text."""

    def __init__(self, layout: FixedWidthLayout, record_format: str = "text", *, multiple: bool | None = None) -> None:
        if record_format not in FIXED_WIDTH_FORMATS:
            raise ValueError(f"record_format is one of {', '.join(FIXED_WIDTH_FORMATS)}, not {record_format!r}")
        self.layout = layout
        self.record_format = record_format
        self.multiple = multiple

    def __getattr__(self, name: str) -> Any:
        if name == "layout":
            raise AttributeError(name)
        return getattr(self.layout, name)

    def _bytes_of(self, data: Any) -> Any:
        return data.encode(self.layout.encoding) if isinstance(data, str) else data

    def _one(self, data: bytes) -> Any:
        if self.record_format == "fixed":
            text = data.decode(self.layout.encoding) if data else ""
            if 0 < len(text) <= self.layout.record_length:
                return self.layout.decode(text)
        return None

    def _iter(self, stream: BinaryIO) -> Iterator[dict[str, Any]]:
        return self.layout.iter_records(stream, self.record_format)

    def _write(self, out: BinaryIO, records: Iterable[Mapping[str, Any]]) -> None:
        self.layout.write_records(out, records, self.record_format)

    def __repr__(self) -> str:
        return f"fixed_width({self.layout!r}, record_format={self.record_format!r})"


def fixed_width(
    fields: Iterable[Any] | FixedWidthLayout,
    encoding: str = "utf-8",
    record_format: str = "text",
    *,
    multiple: bool | None = None,
) -> FixedWidthDataFormat:
    """The fixed-width data format: ``fields`` as ``FixedWidthLayout`` takes them (or a layout),
    ``record_format`` ``text`` (one record a line) or ``fixed`` (no separator)."""
    layout = fields if isinstance(fields, FixedWidthLayout) else FixedWidthLayout(fields, encoding)
    return FixedWidthDataFormat(layout, record_format, multiple=multiple)


def fixed_width_records(fields: Any, encoding: str = "utf-8", record_format: str = "text") -> Expression:
    """An expression for ``split(fixed_width_records(...), streaming=True)``."""
    fmt = fields if isinstance(fields, FixedWidthDataFormat) else fixed_width(fields, encoding, record_format)
    return _records_expression(fmt, f"fixed_width_records({fmt.layout!r})")


__all__ = [
    "CopybookDataFormat",
    "FixedWidthDataFormat",
    "copybook",
    "copybook_records",
    "fixed_width",
    "fixed_width_records",
    "load_layout",
    "open_body",
]

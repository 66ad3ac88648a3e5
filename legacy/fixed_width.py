"""Fixed-width text records: a layout from ``(name, length, type)`` fields.

Written on its own rather than on the copybook codec: fixed-width text files write numbers as
people read them (``   -12.50``, ``0001250``), which a COBOL PICTURE describes only through
numeric editing, and their lengths count characters, not bytes.

    layout = FixedWidthLayout([("id", 6, "int"), ("name", 20), ("amount", 10, "decimal", {"scale": 2}),
                               (None, 2), ("born", 8, "date")])
    layout.decode(b"000042Ada Lovelace        0000012.50  18151210")
    # {'id': 42, 'name': 'Ada Lovelace', 'amount': Decimal('12.50'), 'born': datetime.date(1815, 12, 10)}

Field types and their rules:

- ``str`` (the default): left-aligned, padded with spaces; decoding strips the padding.
- ``int``: right-aligned, padded with zeros (``pad=" "`` for spaces); a minus sign goes before
  the zeros (``-0042``). A field of spaces decodes to None, and None encodes to spaces.
- ``decimal``: as ``int``, decoded to ``decimal.Decimal``. ``scale`` is the number of decimal
  places written (``0012.50``; encoding refuses a value that would need rounding); with
  ``implied_decimal=True`` the point is not written (``001250`` with scale 2 is 12.50), as
  COBOL's ``V``. Without a scale the value is written as it is.
- ``date``: ``format`` (default ``%Y%m%d``) through strftime/strptime; spaces are None.
- a field named None is FILLER: skipped when decoding, written as its padding.

Options per field, as a fourth tuple item (a dict) or a :class:`FixedField`: ``align``
(``left``/``right``), ``pad`` (one character), ``scale``, ``implied_decimal``, ``format``.
Lengths count characters in ``encoding``. Encoding a value longer than its field raises
``EncodeError`` (nothing is cut silently); keys the layout does not know raise too, and missing
keys are written as blanks. Bad data raises a ``RecordError`` subclass naming the record
number, the field and the character offset.

Records are lines (``record_format="text"``, the default; a ``\\r`` before the newline is
dropped and a short line is padded with spaces, as editors strip trailing blanks) or back to
back with no separator (``"fixed"``, records of exactly ``record_length`` characters).
"""

from __future__ import annotations

import datetime
import decimal
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from legacy.errors import EncodeError, InvalidDataError, RecordFramingError

TYPES = ("str", "int", "decimal", "date")
FIXED_WIDTH_FORMATS = ("text", "fixed")
_INTEGER = re.compile(r"[+-]?\d+\Z")
_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)\Z")


@dataclass(frozen=True)
class FixedField:
    """One field of a fixed-width record; ``offset`` is filled in by the layout."""

    name: str | None
    length: int
    type: str = "str"
    align: str | None = None
    pad: str | None = None
    scale: int | None = None
    implied_decimal: bool = False
    format: str = "%Y%m%d"
    offset: int = 0

    @property
    def numeric(self) -> bool:
        return self.type in ("int", "decimal")


def _field(spec: Any, offset: int) -> FixedField:
    if isinstance(spec, FixedField):
        base = spec
    elif isinstance(spec, Mapping):
        base = FixedField(**spec)
    elif isinstance(spec, Sequence) and not isinstance(spec, str) and 2 <= len(spec) <= 4:
        options = dict(spec[3]) if len(spec) == 4 else {}
        base = FixedField(spec[0], spec[1], spec[2] if len(spec) >= 3 else "str", **options)
    else:
        raise ValueError(
            f"a fixed-width field is (name, length[, type[, options]]), a dict or a FixedField, not {spec!r}"
        )
    label = base.name or "FILLER"
    if not isinstance(base.length, int) or base.length <= 0:
        raise ValueError(f"field {label}: length must be a positive int, not {base.length!r}")
    if base.type not in TYPES:
        raise ValueError(f"field {label}: type is one of {', '.join(TYPES)}, not {base.type!r}")
    align = base.align or ("right" if base.numeric else "left")
    if align not in ("left", "right"):
        raise ValueError(f"field {label}: align is 'left' or 'right', not {base.align!r}")
    pad = base.pad if base.pad is not None else ("0" if base.numeric and align == "right" else " ")
    if len(pad) != 1:
        raise ValueError(f"field {label}: pad is one character, not {pad!r}")
    if base.numeric and pad not in " 0":
        raise ValueError(f"field {label}: a number is padded with ' ' or '0', not {pad!r}")
    if base.numeric and align == "left" and pad == "0":
        raise ValueError(f"field {label}: zeros after a left-aligned number would change its value; use pad=' '")
    if base.scale is not None and (base.type != "decimal" or base.scale < 0):
        raise ValueError(f"field {label}: scale is for decimal fields, and not negative")
    if base.implied_decimal and base.type != "decimal":
        raise ValueError(f"field {label}: implied_decimal is for decimal fields")
    scale = 0 if base.implied_decimal and base.scale is None else base.scale
    return FixedField(base.name, base.length, base.type, align, pad, scale, base.implied_decimal, base.format, offset)


class FixedWidthLayout:
    """A fixed-width record layout (see the module docstring). Immutable; safe to share."""

    def __init__(self, fields: Iterable[Any], encoding: str = "utf-8") -> None:
        built: list[FixedField] = []
        offset = 0
        for spec in fields:
            field = _field(spec, offset)
            built.append(field)
            offset += field.length
        if not built:
            raise ValueError("a fixed-width layout needs at least one field")
        names = [f.name for f in built if f.name is not None]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"field names must be unique: {', '.join(duplicates)}")
        "".encode(encoding)  # an unknown encoding fails here, not on the first record
        self._fields = tuple(built)
        self._named = tuple(f for f in built if f.name is not None)
        self._names = frozenset(names)
        self.encoding = encoding
        self.record_length = offset

    @property
    def fields(self) -> tuple[FixedField, ...]:
        return self._fields

    # -- one record --------------------------------------------------------------------------

    def decode(self, record: str | bytes | bytearray, *, record_number: int | None = None) -> dict[str, Any]:
        """A dict for one record (str, or bytes in the layout's encoding)."""
        text = self._text(record, record_number)
        if len(text) < self.record_length:
            text = text.ljust(self.record_length)
        elif len(text) > self.record_length:
            raise RecordFramingError(
                f"the record has {len(text)} characters, the layout {self.record_length}",
                record_number=record_number,
                offset=self.record_length,
            )
        result: dict[str, Any] = {}
        for field in self._named:
            raw = text[field.offset : field.offset + field.length]
            try:
                result[field.name] = _decode_value(field, raw)  # type: ignore[index]
            except (ValueError, decimal.InvalidOperation) as exc:
                raise InvalidDataError(
                    f"{raw!r} is not a {field.type}: {exc}",
                    record_number=record_number,
                    field_path=field.name,
                    offset=field.offset,
                ) from None
        return result

    def format(self, record: Mapping[str, Any], *, record_number: int | None = None) -> str:
        """One record as text of exactly ``record_length`` characters."""
        if not isinstance(record, Mapping):
            raise EncodeError(f"a record is a dict, not {type(record).__name__}", record_number=record_number)
        unknown = [k for k in record if k not in self._names]
        if unknown:
            raise EncodeError(f"the layout has no field {', '.join(map(repr, unknown))}", record_number=record_number)
        parts = []
        for field in self._fields:
            value = record.get(field.name) if field.name is not None else None
            try:
                parts.append(_encode_value(field, value))
            except (TypeError, ValueError, decimal.InvalidOperation) as exc:
                raise EncodeError(
                    str(exc), record_number=record_number, field_path=field.name, offset=field.offset
                ) from None
        return "".join(parts)

    def encode(self, record: Mapping[str, Any], *, record_number: int | None = None) -> bytes:
        """One record as bytes in the layout's encoding (no newline)."""
        text = self.format(record, record_number=record_number)
        try:
            return text.encode(self.encoding)
        except UnicodeEncodeError as exc:
            raise EncodeError(
                f"{exc.object[exc.start : exc.end]!r} cannot be written in {self.encoding}",
                record_number=record_number,
                offset=exc.start,
            ) from None

    def _text(self, record: str | bytes | bytearray, record_number: int | None) -> str:
        if isinstance(record, str):
            return record
        try:
            return bytes(record).decode(self.encoding)
        except UnicodeDecodeError as exc:
            raise InvalidDataError(
                f"bytes that are not {self.encoding}: {exc.reason}", record_number=record_number, offset=exc.start
            ) from None

    # -- files -------------------------------------------------------------------------------

    def iter_records(self, fileobj: BinaryIO, record_format: str = "text") -> Iterator[dict[str, Any]]:
        """Decode a binary file one record at a time, in constant memory."""
        raw = self.iter_raw(fileobj, record_format)
        return (self.decode(text, record_number=number) for number, text in enumerate(raw))

    def iter_raw(self, fileobj: BinaryIO, record_format: str = "text") -> Iterator[str]:
        """The text of each record of a binary file."""
        _check_format(record_format)
        return self._raw(fileobj, record_format)

    def _raw(self, fileobj: BinaryIO, record_format: str) -> Iterator[str]:
        stream = io.TextIOWrapper(fileobj, encoding=self.encoding, newline="")  # type: ignore[arg-type]
        try:
            if record_format == "text":
                for line in stream:
                    yield line.rstrip("\n").removesuffix("\r")
            else:
                number = 0
                while True:
                    text = stream.read(self.record_length)
                    if not text:
                        return
                    if len(text) < self.record_length:
                        raise RecordFramingError(
                            f"the file ends {len(text)} characters into a {self.record_length}-character record",
                            record_number=number,
                            offset=len(text),
                        )
                    yield text
                    number += 1
        except UnicodeDecodeError as exc:
            raise InvalidDataError(f"bytes that are not {self.encoding}: {exc.reason}") from None
        finally:
            stream.detach()  # the caller's file stays open

    def write_records(
        self, fileobj: BinaryIO, records: Iterable[Mapping[str, Any]], record_format: str = "text"
    ) -> int:
        """Encode records to a binary file (``text``: one line each); returns how many."""
        _check_format(record_format)
        end = b"\n" if record_format == "text" else b""
        count = 0
        for number, record in enumerate(records):
            fileobj.write(self.encode(record, record_number=number) + end)
            count += 1
        return count

    def __repr__(self) -> str:
        return f"<FixedWidthLayout: {len(self._named)} fields, {self.record_length} characters, {self.encoding}>"


def _check_format(record_format: str) -> None:
    if record_format not in FIXED_WIDTH_FORMATS:
        raise ValueError(f"record_format is one of {', '.join(FIXED_WIDTH_FORMATS)}, not {record_format!r}")


def _decode_value(field: FixedField, raw: str) -> Any:
    if field.type == "str":
        return raw.rstrip(field.pad) if field.align == "left" else raw.lstrip(field.pad)
    text = raw.strip(" ")
    if not text:
        return None
    if field.type == "date":
        return datetime.datetime.strptime(text, field.format).date()
    if field.type == "int" or field.implied_decimal:
        if not _INTEGER.match(text):
            raise ValueError("expected digits with an optional sign")
        value = int(text)
        if field.type == "int":
            return value
        return decimal.Decimal(value).scaleb(-(field.scale or 0))
    if not _DECIMAL.match(text):
        raise ValueError("expected a decimal number")
    return decimal.Decimal(text)


def _encode_value(field: FixedField, value: Any) -> str:
    pad = field.pad or " "
    if value is None:
        return (" " if field.numeric or field.type == "date" else pad) * field.length
    if field.type == "str":
        text = value if isinstance(value, str) else str(value)
        if "\n" in text or "\r" in text:
            raise ValueError("a fixed-width text field cannot hold a line break")
    elif field.type == "date":
        if not isinstance(value, (datetime.date, datetime.datetime)):
            raise TypeError(f"a date field needs a date, not {type(value).__name__}")
        text = value.strftime(field.format)
    else:
        return _number(field, value)
    if len(text) > field.length:
        raise ValueError(f"{text!r} is {len(text)} characters, the field {field.length}")
    return text.ljust(field.length, pad) if field.align == "left" else text.rjust(field.length, pad)


def _number(field: FixedField, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float, decimal.Decimal)):
        raise TypeError(f"a {field.type} field needs a number, not {type(value).__name__}")
    if field.type == "int":
        if not isinstance(value, int):
            if value != int(value):
                raise ValueError(f"{value} is not a whole number")
            value = int(value)
        digits = str(abs(value))
    else:
        number = decimal.Decimal(repr(value)) if isinstance(value, float) else decimal.Decimal(value)
        if not number.is_finite():
            raise ValueError(f"{number} cannot be written")
        if field.scale is not None:
            exact = number.quantize(decimal.Decimal(1).scaleb(-field.scale), context=decimal.Context(prec=100))
            if exact != number:
                raise ValueError(f"{number} has more than {field.scale} decimal places")
            number = exact
        if field.implied_decimal:
            digits = str(abs(int(number.scaleb(field.scale or 0))))
        else:
            digits = f"{abs(number):f}"
        value = number
    sign = "-" if value < 0 else ""
    width = field.length
    if len(sign) + len(digits) > width:
        raise ValueError(f"{value} needs {len(sign) + len(digits)} characters, the field has {width}")
    if field.align == "left":
        return (sign + digits).ljust(width, " ")
    if field.pad == "0":
        return sign + digits.rjust(width - len(sign), "0")
    return (sign + digits).rjust(width, " ")


__all__ = ["FIXED_WIDTH_FORMATS", "FixedField", "FixedWidthLayout"]

"""Errors of the legacy-data library, all under :class:`LegacyFormatError`.

    LegacyFormatError                 bad legacy data; the root, an ``Exception`` of its own
    ├── CopybookError                 the copybook itself is wrong (or beyond the codec's limits)
    │   └── CopybookSyntaxError       names the line, the column and what was expected
    ├── RecordError                   one record could not be decoded or encoded
    │   ├── RecordTooShortError       the record ends before a field does
    │   ├── RecordFramingError        a file cannot be cut into records (bad RDW, torn or too long record)
    │   ├── InvalidDataError          bytes that are no value of the field's kind
    │   │   ├── InvalidDigitError     a DISPLAY digit or packed nibble that is not 0-9
    │   │   │   └── InvalidPackedDecimalError
    │   │   ├── InvalidSignError      a sign nibble, zone or character that is not a sign
    │   │   ├── InvalidTextError      bytes the code page has no character for
    │   │   └── ValueRangeError       a binary value beyond its PICTURE (truncation="std")
    │   ├── DependingOnError          an OCCURS DEPENDING ON count out of its range
    │   └── EncodeError               a record value that cannot be written to its field
    │       └── RedefinesConflictError two REDEFINES views given with different contents
    └── legacy.mq.MqHeaderError       an MQ header (RFH2, MQDLH) that cannot be read or written

A ``RecordError`` carries ``record_number`` (0-based position in the file, or ``None`` for a
lone record), ``field_path`` (``CUSTOMER.ORDERS[3].AMOUNT``: the record keys with 0-based
OCCURS indexes) and ``offset`` (the byte within the record where the trouble is).

The tree does not hang under the engine's ``eip.errors.EipError``, so that the codecs import
without the engine. In routes these errors reach the error handler as they are:
``on_exception(RecordError)`` and ``do_catch(InvalidDigitError)`` match them by their own class.
"""

from __future__ import annotations


class LegacyFormatError(Exception):
    """Legacy data (a copybook, a record, an MQ header) could not be read, decoded or encoded."""


class CopybookError(LegacyFormatError):
    """The copybook cannot be turned into a layout (unknown DEPENDING ON target, bad level...)."""

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None) -> None:
        self.line = line
        self.column = column
        self.detail = message
        where = (
            f"line {line}, column {column}: "
            if line is not None and column is not None
            else (f"line {line}: " if line is not None else "")
        )
        super().__init__(f"copybook {where}{message}")


class CopybookSyntaxError(CopybookError):
    """The copybook text does not parse; ``expected`` says what the parser was looking for."""

    def __init__(
        self, message: str, *, line: int, column: int, expected: str | None = None, found: str | None = None
    ) -> None:
        self.expected = expected
        self.found = found
        super().__init__(message, line=line, column=column)


class RecordError(LegacyFormatError):
    """One record could not be decoded or encoded."""

    def __init__(
        self,
        message: str,
        *,
        record_number: int | None = None,
        field_path: str | None = None,
        offset: int | None = None,
    ) -> None:
        self.record_number = record_number
        self.field_path = field_path
        self.offset = offset
        self.detail = message
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = []
        if self.record_number is not None:
            where.append(f"record {self.record_number}")
        if self.field_path is not None:
            where.append(f"field {self.field_path}")
        if self.offset is not None:
            where.append(f"byte {self.offset}")
        return f"{', '.join(where)}: {self.detail}" if where else self.detail

    def at(
        self, *, record_number: int | None = None, field_path: str | None = None, offset: int | None = None
    ) -> RecordError:
        """Fill in context that was not known where the error was raised; returns ``self``."""
        if record_number is not None and self.record_number is None:
            self.record_number = record_number
        if field_path is not None and self.field_path is None:
            self.field_path = field_path
        if offset is not None and self.offset is None:
            self.offset = offset
        self.args = (self._describe(),)
        return self

    def __str__(self) -> str:
        return self._describe()


class RecordTooShortError(RecordError):
    """The record ends before a field does."""


class RecordFramingError(RecordError):
    """A file cannot be cut into records: a bad RDW, or a file ending inside a record."""


class InvalidDataError(RecordError):
    """The bytes of a field are no value of its kind."""


class InvalidDigitError(InvalidDataError):
    """A DISPLAY digit or a packed-decimal digit nibble is not 0-9."""


class InvalidPackedDecimalError(InvalidDigitError):
    """A packed-decimal (COMP-3) field holds a nibble that is not a digit where one belongs."""


class InvalidSignError(InvalidDataError):
    """A sign nibble, overpunched zone or separate sign character is not a valid sign."""


class InvalidTextError(InvalidDataError):
    """Bytes the code page has no character for, or a character it cannot encode."""


class ValueRangeError(InvalidDataError):
    """A binary value beyond its PICTURE's digits, with ``truncation="std"`` (IBM's TRUNC(STD))."""


class DependingOnError(RecordError):
    """The counter of an OCCURS DEPENDING ON is outside the table's declared range."""


class EncodeError(RecordError):
    """A value of the record cannot be written to its field (wrong type, too large, missing)."""


class RedefinesConflictError(EncodeError):
    """Two REDEFINES views of the same bytes were given and they do not agree."""


__all__ = [
    "CopybookError",
    "CopybookSyntaxError",
    "DependingOnError",
    "EncodeError",
    "InvalidDataError",
    "InvalidDigitError",
    "InvalidPackedDecimalError",
    "InvalidSignError",
    "InvalidTextError",
    "LegacyFormatError",
    "RecordError",
    "RecordFramingError",
    "RecordTooShortError",
    "RedefinesConflictError",
    "ValueRangeError",
]

"""Bridging to legacy systems: COBOL copybooks, EBCDIC, packed decimal, fixed-width records, MQ headers.

    from legacy import parse_copybook
    layout = parse_copybook(text, code_page="cp037")
    record = layout.decode(data)      # bytes -> dict
    data = layout.encode(record)      # dict -> bytes, byte-exact round trip
    for rec in layout.iter_records(fileobj, record_format="fixed"):   # "fixed" | "vb" | "text"
        ...

In routes, as data formats and a streaming splitter (``legacy.dataformats``):

    .unmarshal(copybook("customer.cpy", "cp037"))             # bytes -> dict (or list of dicts)
    .split(copybook_records("customer.cpy"), streaming=True)    # one exchange per record
    .marshal(fixed_width([("id", 6, "int"), ("name", 20)]))    # dict(s) -> fixed-width lines
"""

from __future__ import annotations

from legacy.copybook import (
    CodePage,
    Condition,
    Field,
    Layout,
    load_copybook,
    parse_copybook,
)
from legacy.dataformats import (
    CopybookDataFormat,
    FixedWidthDataFormat,
    copybook,
    copybook_records,
    fixed_width,
    fixed_width_records,
)
from legacy.errors import (
    CopybookError,
    CopybookSyntaxError,
    DependingOnError,
    EncodeError,
    InvalidDataError,
    InvalidDigitError,
    InvalidPackedDecimalError,
    InvalidSignError,
    InvalidTextError,
    RecordError,
    RecordFramingError,
    RecordTooShortError,
    RedefinesConflictError,
    ValueRangeError,
)
from legacy.fixed_width import FixedField, FixedWidthLayout

__all__ = [
    "CodePage", "Condition", "CopybookDataFormat", "CopybookError", "CopybookSyntaxError", "DependingOnError",
    "EncodeError", "Field", "FixedField", "FixedWidthDataFormat", "FixedWidthLayout", "InvalidDataError",
    "InvalidDigitError", "InvalidPackedDecimalError", "InvalidSignError", "InvalidTextError", "Layout",
    "RecordError", "RecordFramingError", "RecordTooShortError", "RedefinesConflictError", "ValueRangeError",
    "copybook", "copybook_records", "fixed_width", "fixed_width_records", "load_copybook", "parse_copybook",
]

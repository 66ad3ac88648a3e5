"""Bridging to legacy systems: COBOL copybooks, EBCDIC, packed decimal, fixed-width records, MQ headers.

    from legacy import parse_copybook
    layout = parse_copybook(text, code_page="cp037")
    record = layout.decode(data)      # bytes -> dict
    data = layout.encode(record)      # dict -> bytes, byte-exact round trip
    for rec in layout.iter_records(fileobj, record_format="fixed"):   # "fixed" | "vb" | "text"
        ...

The codecs import without the engine (``import legacy`` loads no ``eip`` module). In routes, as
data formats and a streaming splitter, which live on the engine's side (``eip.legacy_formats``)
and are imported when one of these four is first called:

    .unmarshal(copybook("customer.cpy", "cp037"))             # bytes -> dict (or list of dicts)
    .split(copybook_records("customer.cpy"), streaming=True)    # one exchange per record
    .marshal(fixed_width([("id", 6, "int"), ("name", 20)]))    # dict(s) -> fixed-width lines
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# The subpackage legacy.copybook and the module legacy.fixed_width are imported before the
# factories of the same name are defined below, so ``legacy.copybook`` is the factory (as
# ``from legacy import copybook`` has always given) while ``import legacy.copybook`` still loads
# the codec.
from legacy.copybook import (
    CodePage,
    Condition,
    Field,
    Layout,
    load_copybook,
    parse_copybook,
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
    LegacyFormatError,
    RecordError,
    RecordFramingError,
    RecordTooShortError,
    RedefinesConflictError,
    ValueRangeError,
)
from legacy.fixed_width import FixedField, FixedWidthLayout

if TYPE_CHECKING:
    from eip.expressions import Expression
    from eip.legacy_formats import CopybookDataFormat, FixedWidthDataFormat


def copybook(source: Any, *args: Any, **options: Any) -> CopybookDataFormat:
    """The copybook data format: :func:`eip.legacy_formats.copybook` (loads the engine)."""
    from eip.legacy_formats import copybook as factory

    return factory(source, *args, **options)


def copybook_records(source: Any, *args: Any, **options: Any) -> Expression:
    """The streaming split over copybook records: :func:`eip.legacy_formats.copybook_records`."""
    from eip.legacy_formats import copybook_records as factory

    return factory(source, *args, **options)


def fixed_width(fields: Any, *args: Any, **options: Any) -> FixedWidthDataFormat:
    """The fixed-width data format: :func:`eip.legacy_formats.fixed_width` (loads the engine)."""
    from eip.legacy_formats import fixed_width as factory

    return factory(fields, *args, **options)


def fixed_width_records(fields: Any, *args: Any, **options: Any) -> Expression:
    """The streaming split over fixed-width records: :func:`eip.legacy_formats.fixed_width_records`."""
    from eip.legacy_formats import fixed_width_records as factory

    return factory(fields, *args, **options)


__all__ = [
    "CodePage",
    "Condition",
    "CopybookError",
    "CopybookSyntaxError",
    "DependingOnError",
    "EncodeError",
    "Field",
    "FixedField",
    "FixedWidthLayout",
    "InvalidDataError",
    "InvalidDigitError",
    "InvalidPackedDecimalError",
    "InvalidSignError",
    "InvalidTextError",
    "Layout",
    "LegacyFormatError",
    "RecordError",
    "RecordFramingError",
    "RecordTooShortError",
    "RedefinesConflictError",
    "ValueRangeError",
    "copybook",
    "copybook_records",
    "fixed_width",
    "fixed_width_records",
    "load_copybook",
    "parse_copybook",
]

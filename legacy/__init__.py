"""Bridging to legacy systems: COBOL copybooks, EBCDIC, packed decimal, fixed-width records, MQ headers.

    from legacy import parse_copybook
    layout = parse_copybook(text, code_page="cp037")
    record = layout.decode(data)      # bytes -> dict
    data = layout.encode(record)      # dict -> bytes, byte-exact round trip
    for rec in layout.iter_records(fileobj, record_format="fixed"):   # "fixed" | "vb" | "text"
        ...
"""

from __future__ import annotations

import os

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
    RecordError,
    RecordFramingError,
    RecordTooShortError,
    RedefinesConflictError,
    ValueRangeError,
)


def copybook(layout_or_path: Layout | str | os.PathLike[str], code_page: str = "cp037", **options: object) -> Layout:
    """A layout from a Layout, copybook text or a copybook file path.

    For now this returns the Layout itself; the engine's ``copybook(...)`` data format, usable
    with ``unmarshal``/``marshal`` in routes, will be built on it.
    """
    if isinstance(layout_or_path, Layout):
        return layout_or_path
    text = os.fspath(layout_or_path)
    if "\n" not in text and os.path.exists(text):
        return load_copybook(text, code_page, **options)  # type: ignore[arg-type]
    return parse_copybook(text, code_page, **options)  # type: ignore[arg-type]


__all__ = [
    "CodePage", "Condition", "CopybookError", "CopybookSyntaxError", "DependingOnError", "EncodeError", "Field",
    "InvalidDataError", "InvalidDigitError", "InvalidPackedDecimalError", "InvalidSignError", "InvalidTextError",
    "Layout", "RecordError", "RecordFramingError", "RecordTooShortError", "RedefinesConflictError",
    "ValueRangeError", "copybook", "load_copybook", "parse_copybook",
]

"""The immutable layout model: fields with offsets, sizes, kinds, OCCURS and condition names."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from legacy.copybook.limits import DEFAULT_MAX_RECORD_LENGTH
from legacy.copybook.picture import (
    ALPHABETIC,
    ALPHANUMERIC,
    ALPHANUMERIC_EDITED,
    NUMERIC,
    NUMERIC_EDITED,
    Picture,
)

ConditionValue = str | int | Decimal | bytes

# Storage kinds of elementary items, as `Field.kind` reports them.
GROUP = "group"
TEXT = "text"  # PIC X / A (and alphanumeric-edited), in the code page
ZONED = "zoned"  # DISPLAY numeric: one digit a byte, sign overpunched or separate
EDITED = "edited"  # numeric-edited DISPLAY: Z, *, +, -, CR, insertion characters
BINARY = "binary"  # COMP, COMP-4, BINARY: big-endian, PICTURE digits bound the value
NATIVE = "native"  # COMP-5: binary bounded by its size only
PACKED = "packed"  # COMP-3, PACKED-DECIMAL
FLOAT = "float"  # COMP-1, 4 bytes
DOUBLE = "double"  # COMP-2, 8 bytes


@dataclass(frozen=True)
class Occurs:
    """An OCCURS clause: a fixed count, or a range sized by a counter field."""

    minimum: int
    maximum: int
    depending_on: str | None = None  # path of the counter field, e.g. "RECORD.COUNT"
    mapping: tuple[tuple[str, int], ...] | None = None  # counter value -> count (occurs_mappings)

    def count_of(self, counter_value: object) -> object:
        """The number of occurrences a counter value stands for (mapped, or the value itself)."""
        if self.mapping is None:
            return counter_value
        return dict(self.mapping).get(counter_value)  # type: ignore[call-overload]

    @property
    def fixed(self) -> bool:
        return self.depending_on is None


@dataclass(frozen=True)
class Condition:
    """A level-88 condition name: the named values (and THRU ranges) of its field."""

    name: str
    field_path: str
    values: tuple[tuple[ConditionValue, ConditionValue | None], ...]  # (value, THRU value or None)

    def matches(self, value: object) -> bool:
        """True when ``value`` (a decoded field value) is one of the condition's values."""
        for low, high in self.values:
            if high is None:
                if _equal(value, low):
                    return True
            else:
                try:
                    if low <= value <= high:  # type: ignore[operator]
                        return True
                except TypeError:
                    continue
        return False


def _equal(value: object, literal: ConditionValue) -> bool:
    if isinstance(literal, str) and isinstance(value, str):
        # COBOL compares alphanumerics padded with spaces; decoded text has trailing spaces trimmed
        return value.rstrip(" ") == literal.rstrip(" ")
    if isinstance(literal, bytes):
        return False
    return value == literal


@dataclass(frozen=True)
class Field:
    """One item of the layout, group or elementary; offsets are in bytes from the record start.

    ``offset`` and ``size`` describe the first occurrence in the largest record (every
    OCCURS DEPENDING ON at its maximum); ``variable`` says the offset moves with the counts.
    """

    name: str | None  # as written; None for FILLER
    key: str | None  # the key in decoded records (the name, or its Python form); None for FILLER
    level: int
    path: str  # record keys from the root, e.g. "RECORD.ORDERS.AMOUNT"
    kind: str
    offset: int
    size: int  # bytes of one occurrence
    picture: Picture | None = None
    usage: str = "display"
    occurs: Occurs | None = None
    redefines: str | None = None  # the name of the item this one redefines, as written
    sign_leading: bool = False
    sign_separate: bool = False
    sync: bool = False
    justified: bool = False
    blank_when_zero: bool = False
    variable: bool = False
    children: tuple[Field, ...] = ()
    conditions: tuple[Condition, ...] = ()
    line: int = 0

    @property
    def is_group(self) -> bool:
        return self.kind == GROUP

    @property
    def is_filler(self) -> bool:
        return self.name is None

    @property
    def total_size(self) -> int:
        """Bytes of all occurrences at their maximum count."""
        return self.size * (self.occurs.maximum if self.occurs else 1)

    @property
    def end(self) -> int:
        return self.offset + self.total_size

    @property
    def digits(self) -> int:
        return self.picture.digits if self.picture else 0

    @property
    def scale(self) -> int:
        return self.picture.scale if self.picture else 0

    @property
    def signed(self) -> bool:
        return bool(self.picture and self.picture.signed)

    @property
    def numeric(self) -> bool:
        return self.kind in (ZONED, EDITED, BINARY, NATIVE, PACKED, FLOAT, DOUBLE)

    @property
    def named_values(self) -> dict[str, tuple[tuple[ConditionValue, ConditionValue | None], ...]]:
        """Level-88 condition names of this field and their values."""
        return {c.name: c.values for c in self.conditions}

    @property
    def type_text(self) -> str:
        """PICTURE and USAGE as a copybook would say them, e.g. ``S9(7)V99 COMP-3``."""
        usage = {BINARY: "COMP", NATIVE: "COMP-5", PACKED: "COMP-3", FLOAT: "COMP-1", DOUBLE: "COMP-2"}.get(
            self.kind, ""
        )
        parts = [self.picture.text] if self.picture else []
        if usage:
            parts.append(usage)
        if self.sign_separate or self.sign_leading:
            parts.append(("LEADING" if self.sign_leading else "TRAILING") + (" SEPARATE" if self.sign_separate else ""))
        return " ".join(parts)

    def walk(self) -> list[Field]:
        """This field and every field below it, in copybook order."""
        result = [self]
        for child in self.children:
            result.extend(child.walk())
        return result


def kind_for(picture: Picture | None, usage: str) -> str:
    """The storage kind of an elementary item from its PICTURE category and USAGE."""
    if usage == "float":
        return FLOAT
    if usage == "double":
        return DOUBLE
    if picture is None:
        raise ValueError(f"USAGE {usage} needs a PICTURE")
    if usage in ("binary", "native", "packed"):
        return {"binary": BINARY, "native": NATIVE, "packed": PACKED}[usage]
    if picture.category in (ALPHANUMERIC, ALPHABETIC, ALPHANUMERIC_EDITED):
        return TEXT
    if picture.category == NUMERIC:
        return ZONED
    if picture.category == NUMERIC_EDITED:
        return EDITED
    raise ValueError(picture.category)  # pragma: no cover


@dataclass(frozen=True)
class LayoutOptions:
    """Options fixed when a layout is built; they shape its decoder and encoder."""

    code_page: str = "cp037"
    trim: str = "right"  # right | none | both | left
    python_names: bool = False
    strict: bool = True
    float_format: str = "ibm"  # ibm | ieee
    variable_occurs: bool = True  # ODO tables take only the space of their count
    truncation: str = "bin"  # bin: COMP values bounded by their size; std: by PICTURE digits
    native_byte_order: str = "big"  # COMP-5 byte order
    keep_root: bool = False
    occurs_mappings: tuple[tuple[str, tuple[tuple[str, int], ...]], ...] = ()  # table name -> value -> count
    max_record_length: int = DEFAULT_MAX_RECORD_LENGTH  # the largest layout, and the longest text record read


__all__ = [
    "BINARY",
    "DOUBLE",
    "EDITED",
    "FLOAT",
    "GROUP",
    "NATIVE",
    "PACKED",
    "TEXT",
    "ZONED",
    "Condition",
    "Field",
    "LayoutOptions",
    "Occurs",
    "kind_for",
]

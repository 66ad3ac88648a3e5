"""One converter per elementary field, chosen by the field's kind through one table."""

from __future__ import annotations

from collections.abc import Callable

from legacy.copybook.codepages import CodePage
from legacy.copybook.convert import Converter
from legacy.copybook.edited import EditedConverter
from legacy.copybook.floats import FloatConverter
from legacy.copybook.model import (
    BINARY,
    DOUBLE,
    EDITED,
    FLOAT,
    NATIVE,
    PACKED,
    TEXT,
    ZONED,
    Field,
    LayoutOptions,
)
from legacy.copybook.numeric import BinaryConverter, PackedConverter, ZonedConverter
from legacy.copybook.picture import Picture
from legacy.copybook.text import TextConverter
from legacy.errors import CopybookError


def _picture(f: Field) -> Picture:
    if f.picture is None:  # the builder gives every item but COMP-1/COMP-2 a PICTURE
        raise CopybookError(f"{f.path} has no PICTURE", line=f.line)
    return f.picture


def _text(f: Field, cp: CodePage, o: LayoutOptions) -> Converter:
    return TextConverter(f.size, cp, o.trim, f.justified)


def _zoned(f: Field, cp: CodePage, o: LayoutOptions) -> Converter:
    pic = _picture(f)
    return ZonedConverter(
        digits=pic.digits,
        scale=pic.scale,
        signed=pic.signed,
        code_page=cp,
        leading=f.sign_leading,
        separate=f.sign_separate,
        point=pic.point,
    )


def _edited(f: Field, cp: CodePage, o: LayoutOptions) -> Converter:
    return EditedConverter(_picture(f), cp, blank_when_zero=f.blank_when_zero, strict=o.strict)


def _binary(f: Field, cp: CodePage, o: LayoutOptions) -> Converter:
    pic = _picture(f)
    native = f.kind == NATIVE
    return BinaryConverter(
        size=f.size,
        digits=pic.digits,
        scale=pic.scale,
        signed=pic.signed,
        byte_order=o.native_byte_order if native else "big",
        bounded_by_digits=not native and o.truncation == "std",
    )


def _packed(f: Field, cp: CodePage, o: LayoutOptions) -> Converter:
    pic = _picture(f)
    return PackedConverter(digits=pic.digits, scale=pic.scale, signed=pic.signed)


def _float(f: Field, cp: CodePage, o: LayoutOptions) -> Converter:
    return FloatConverter(size=f.size, ieee=o.float_format == "ieee")


CONVERTERS: dict[str, Callable[[Field, CodePage, LayoutOptions], Converter]] = {
    TEXT: _text,
    ZONED: _zoned,
    EDITED: _edited,
    BINARY: _binary,
    NATIVE: _binary,
    PACKED: _packed,
    FLOAT: _float,
    DOUBLE: _float,
}


def converter_for(f: Field, code_page: CodePage, options: LayoutOptions) -> Converter:
    """The converter of an elementary field."""
    return CONVERTERS[f.kind](f, code_page, options)


__all__ = ["CONVERTERS", "converter_for"]

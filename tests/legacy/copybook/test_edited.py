"""Numeric-edited pictures: COBOL editing on encode, digits and sign read back on decode."""

from __future__ import annotations

from decimal import Decimal

import pytest

from legacy.copybook.codepages import get_code_page
from legacy.copybook.convert import DECODE_ERRORS
from legacy.copybook.edited import EditedConverter
from legacy.copybook.picture import parse_picture
from legacy.errors import InvalidDataError

ASCII = get_code_page("ascii")


def conv(pic: str, **kw) -> EditedConverter:
    return EditedConverter(parse_picture(pic), ASCII, **kw)


@pytest.mark.parametrize(("pic", "value", "text"), [
    ("ZZ,ZZ9.99", Decimal("1234.50"), " 1,234.50"),
    ("ZZ,ZZ9.99", Decimal("5.00"), "     5.00"),
    ("ZZZ.ZZ", Decimal("0.05"), "   .05"),
    ("ZZZ.ZZ", Decimal("0.00"), "      "),
    ("***,**9.99", Decimal("12.30"), "*****12.30"),
    ("+9(8)", -30503932, "-30503932"),
    ("+9(8)", 30503932, "+30503932"),
    ("-9(8)", 30503932, " 30503932"),
    ("9(8)+", -30503932, "30503932-"),
    ("Z(8)-", -30503932, "30503932-"),
    ("Z(8)-", 42, "      42 "),
    ("Z(6)VZZ-", Decimal("-305039.32"), "30503932-"),
    ("9(6).99-", Decimal("-305039.32"), "305039.32-"),
    ("$$,$$9.99CR", Decimal("-12.50"), "   $12.50CR"),
    ("$$,$$9.99CR", Decimal("1234.00"), "$1,234.00  "),
    ("----9", -42, "  -42"),
    ("++++9", 42, "  +42"),
    ("99/99/99", 311224, "31/12/24"),
    ("9B99", 123, "1 23"),
])
def test_editing(pic: str, value: object, text: str) -> None:
    c = conv(pic)
    assert c.encode(value).decode("ascii") == text
    got = c.decode(text.encode("ascii"))
    assert got == value and type(got) is type(value)


def test_blank_when_zero() -> None:
    c = conv("99.99", blank_when_zero=True)
    assert c.encode(Decimal("0.00")) == b"     "
    assert c.decode(b"     ") == Decimal("0.00")


def test_plus_where_the_picture_prints_a_space_is_still_plus() -> None:
    assert conv("-9(8)").decode(b"+30503932") == 30503932


def test_strict_decoding_wants_the_edited_form() -> None:
    c = conv("ZZ9.99")
    with pytest.raises(DECODE_ERRORS):
        c.decode(b"012.50")  # a leading zero where Z prints a space
    assert isinstance(c.diagnose(b"012.50"), InvalidDataError)
    assert c.lenient(b"012.50") == Decimal("12.50")
    assert isinstance(c.diagnose(b"1x2.50"), InvalidDataError)

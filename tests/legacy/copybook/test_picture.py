"""PICTURE strings: category, size, digits, scale, sign."""

from __future__ import annotations

import pytest

from legacy.copybook.picture import PictureError, parse_picture


@pytest.mark.parametrize(("text", "category", "length", "digits", "scale", "signed"), [
    ("X(10)", "alphanumeric", 10, 0, 0, False),
    ("XXX", "alphanumeric", 3, 0, 0, False),
    ("A(5)", "alphabetic", 5, 0, 0, False),
    ("9(7)V99", "numeric", 9, 9, 2, False),
    ("S9(7)V99", "numeric", 9, 9, 2, True),
    ("s9(3)v9", "numeric", 4, 4, 1, True),
    ("SV9(5)", "numeric", 5, 5, 5, True),
    ("PPP9(5)", "numeric", 5, 5, 8, False),
    ("SPP99999", "numeric", 5, 5, 7, True),
    ("9(5)PPP", "numeric", 5, 5, -3, False),
    ("S9PPPV", "numeric", 1, 1, -3, True),
    ("9(8).9(2)", "numeric", 11, 10, 2, False),
    ("S9(3).99", "numeric", 6, 5, 2, True),
    ("ZZ,ZZ9.99-", "numeric-edited", 10, 7, 2, True),
    ("+9(8)", "numeric-edited", 9, 8, 0, True),
    ("Z(6)VZZ-", "numeric-edited", 9, 8, 2, True),
    ("$$,$$9.99CR", "numeric-edited", 11, 6, 2, True),
    ("***,**9.99", "numeric-edited", 10, 8, 2, False),
    ("XXBXX/XX", "alphanumeric-edited", 8, 0, 0, False),
])
def test_pictures(text: str, category: str, length: int, digits: int, scale: int, signed: bool) -> None:
    pic = parse_picture(text)
    assert (pic.category, pic.length, pic.digits, pic.scale, pic.signed) == (category, length, digits, scale, signed)
    assert str(pic) == text


@pytest.mark.parametrize(("text", "message"), [
    ("X(", "repeat count"),
    ("9(0)", "at least 1"),
    ("9S9", "S may only be the first"),
    ("9V9V9", "V may appear only once"),
    ("9P9", "P may stand"),
    ("Q(3)", "not a PICTURE symbol"),
    ("XS", "cannot be mixed"),
    ("Z9+9", "stands first or last"),
])
def test_bad_pictures(text: str, message: str) -> None:
    with pytest.raises(PictureError, match=message):
        parse_picture(text)

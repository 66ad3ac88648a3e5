"""Zoned, packed and binary numbers: values, bytes, and the errors bad bytes raise."""

from __future__ import annotations

from decimal import Decimal

import pytest

from legacy import (
    EncodeError,
    InvalidDigitError,
    InvalidPackedDecimalError,
    InvalidSignError,
)
from legacy.copybook.codepages import get_code_page
from legacy.copybook.convert import DECODE_ERRORS
from legacy.copybook.numeric import BinaryConverter, PackedConverter, ZonedConverter

CP037 = get_code_page("cp037")
ASCII = get_code_page("ascii")


def zoned(digits: int, scale: int = 0, signed: bool = False, cp=CP037, **kw) -> ZonedConverter:
    return ZonedConverter(digits=digits, scale=scale, signed=signed, code_page=cp, **kw)


@pytest.mark.parametrize(("conv", "hexbytes", "value"), [
    (zoned(5), "f0f1f2f3f4", 1234),
    (zoned(5, 2), "f0f1f2f3f4", Decimal("12.34")),
    (zoned(5, 0, True), "f0f1f2f3c4", 1234),
    (zoned(5, 0, True), "f0f1f2f3d4", -1234),
    (zoned(3, 2, True), "f1f2d3", Decimal("-1.23")),
    (zoned(3, 0, True, leading=True), "d1f2f3", -123),
    (zoned(3, 0, True, leading=True, separate=True), "60f1f2f3", -123),
    (zoned(3, 1, True, separate=True), "f1f2f34e", Decimal("12.3")),
    (zoned(5, 2, point=3), "f1f2f34bf4f5", Decimal("123.45")),
    (zoned(5, -3), "f3f0f5f0f3", 30503000),
    (zoned(5, 8), "f3f0f5f0f3", Decimal("0.00030503")),
    (zoned(4, 0, True, cp=ASCII), "3132337d", -1230),
    (zoned(4, 0, True, cp=ASCII), "3132334a", -1231),
    (zoned(4, 0, True, cp=ASCII), "31323341", 1231),
    (zoned(4, 0, True, cp=ASCII), "31323371", -1231),
    (zoned(4, 0, False, cp=ASCII), "31323334", 1234),
])
def test_zoned_decoding(conv: ZonedConverter, hexbytes: str, value: object) -> None:
    got = conv.decode(bytes.fromhex(hexbytes))
    assert got == value and type(got) is type(value)
    if isinstance(value, Decimal):
        assert got.as_tuple().exponent == value.as_tuple().exponent  # type: ignore[union-attr]


@pytest.mark.parametrize(("conv", "value", "hexbytes"), [
    (zoned(5), 1234, "f0f1f2f3f4"),
    (zoned(5, 0, True), 1234, "f0f1f2f3c4"),
    (zoned(5, 0, True), -1234, "f0f1f2f3d4"),
    (zoned(3, 0, True, leading=True, separate=True), 5, "4ef0f0f5"),
    (zoned(5, 2, point=3), Decimal("1.5"), "f0f0f14bf5f0"),
    (zoned(4, 0, True, cp=ASCII), -1230, "3132337d"),
    (zoned(4, 0, True, cp=ASCII), 1231, "31323341"),
])
def test_zoned_encoding(conv: ZonedConverter, value: object, hexbytes: str) -> None:
    assert conv.encode(value).hex() == hexbytes


@pytest.mark.parametrize(("conv", "hexbytes", "error", "offset"), [
    (zoned(5), "f0f1c2f3f4", InvalidDigitError, 2),
    (zoned(5), "f0f1f2f3c4", InvalidDigitError, 4),  # an overpunched sign in an unsigned field
    (zoned(5, 0, True), "f0f1f2f340", InvalidSignError, 4),
    (zoned(5, 0, True), "f0f1f2f3cb", InvalidDigitError, 4),
    (zoned(3, 0, True, separate=True), "f1f2f3f0", InvalidSignError, 3),
    (zoned(5, 2, point=3), "f1f2f3f4f5f6", Exception, 3),
    (zoned(5), "4040404040", InvalidDigitError, 0),
])
def test_zoned_diagnosis(conv: ZonedConverter, hexbytes: str, error: type, offset: int) -> None:
    data = bytes.fromhex(hexbytes)
    with pytest.raises(DECODE_ERRORS):
        conv.decode(data)
    found = conv.diagnose(data)
    assert isinstance(found, error) and found.offset == offset


def test_lenient_zoned_reads_like_cobrix() -> None:
    assert zoned(10, 2, point=8).lenient("789.09     ".encode("cp037")) == Decimal("789.09")
    assert zoned(10).lenient(b"\x40" * 10) is None
    assert zoned(4).lenient("ABCD".encode("cp037")) is None
    assert zoned(4, 0, True).lenient("  -12".encode("cp037")[:4]) == -1


@pytest.mark.parametrize(("conv", "hexbytes", "value"), [
    (PackedConverter(digits=5, scale=0, signed=True), "12345c", 12345),
    (PackedConverter(digits=5, scale=0, signed=True), "12345d", -12345),
    (PackedConverter(digits=7, scale=2, signed=True), "0123456d", Decimal("-1234.56")),
    (PackedConverter(digits=4, scale=0, signed=False), "01234f", 1234),
    (PackedConverter(digits=1, scale=0, signed=True), "5b", -5),
    (PackedConverter(digits=5, scale=8, signed=False), "30503f", Decimal("0.00030503")),
    (PackedConverter(digits=5, scale=-3, signed=True), "30503c", 30503000),
])
def test_packed(conv: PackedConverter, hexbytes: str, value: object) -> None:
    assert conv.decode(bytes.fromhex(hexbytes)) == value
    assert conv.encode(value).hex() == hexbytes.replace("5b", "5d")


@pytest.mark.parametrize(("conv", "hexbytes", "error", "offset"), [
    (PackedConverter(digits=5, scale=0, signed=True), "12a45c", InvalidPackedDecimalError, 1),
    (PackedConverter(digits=5, scale=0, signed=True), "123456", InvalidSignError, 2),
    (PackedConverter(digits=5, scale=0, signed=False), "12345d", InvalidSignError, 2),
])
def test_packed_diagnosis(conv: PackedConverter, hexbytes: str, error: type, offset: int) -> None:
    data = bytes.fromhex(hexbytes)
    with pytest.raises(DECODE_ERRORS):
        conv.decode(data)
    found = conv.diagnose(data)
    assert isinstance(found, error) and found.offset == offset


@pytest.mark.parametrize(("conv", "hexbytes", "value"), [
    (BinaryConverter(size=2, digits=4, scale=0, signed=True), "fffe", -2),
    (BinaryConverter(size=2, digits=4, scale=0, signed=False, bounded_by_digits=False), "fffe", 65534),
    (BinaryConverter(size=4, digits=9, scale=2, signed=True), "000004d2", Decimal("12.34")),
    (BinaryConverter(size=8, digits=18, scale=0, signed=True), "ffffffffffffffff", -1),
    (BinaryConverter(size=2, digits=1, scale=-3, signed=True), "0003", 3000),
    (BinaryConverter(size=2, digits=4, scale=0, signed=True, byte_order="little", bounded_by_digits=False), "feff", -2),
])
def test_binary(conv: BinaryConverter, hexbytes: str, value: object) -> None:
    assert conv.decode(bytes.fromhex(hexbytes)) == value


def test_binary_encoding_bounds() -> None:
    comp = BinaryConverter(size=2, digits=4, scale=0, signed=True)
    assert comp.encode(-9999).hex() == "d8f1"
    with pytest.raises(EncodeError, match="holds 4 digits"):
        comp.encode(10000)  # TRUNC(STD): the PICTURE bounds a COMP value
    comp5 = BinaryConverter(size=2, digits=4, scale=0, signed=True, bounded_by_digits=False)
    assert comp5.encode(32767).hex() == "7fff"
    with pytest.raises(EncodeError, match="cannot hold 32768"):
        comp5.encode(32768)


@pytest.mark.parametrize(("value", "message"), [
    (1.5, "takes an int or a Decimal"), (True, "takes an int or a Decimal"), (Decimal("1.234"), "decimal places"),
    (-1, "unsigned"), (100000, "holds 5 digits"), (Decimal("NaN"), "cannot hold"),
])
def test_encoding_refuses_what_does_not_fit(value: object, message: str) -> None:
    with pytest.raises(EncodeError, match=message):
        PackedConverter(digits=5, scale=2 if isinstance(value, Decimal) else 0, signed=False).encode(value)

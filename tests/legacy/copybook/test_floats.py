"""COMP-1 / COMP-2: IBM hexadecimal floating point, and IEEE 754."""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from legacy import EncodeError
from legacy.copybook.floats import (
    FloatConverter,
    float_to_ibm,
    ibm32_to_float,
    ibm64_to_float,
)


@pytest.mark.parametrize(("hexbytes", "value"), [
    ("41100000", 1.0), ("c276a000", -118.625), ("00000000", 0.0), ("42640000", 100.0),
    ("40800000", 0.5), ("3f100000", 1 / 256), ("7fffffff", (1 - 2 ** -24) * 16.0 ** 63),
])
def test_ibm_single(hexbytes: str, value: float) -> None:
    assert ibm32_to_float(bytes.fromhex(hexbytes)) == value
    assert float_to_ibm(value, 4).hex() == hexbytes


def test_ibm_double() -> None:
    assert ibm64_to_float(bytes.fromhex("4110000000000000")) == 1.0
    assert ibm64_to_float(bytes.fromhex("c276a00000000000")) == -118.625
    assert float_to_ibm(0.1, 8).hex() == "401999999999999a"  # 0.1 is 0x0.1999... * 16**0


def test_ibm_encoding_limits() -> None:
    with pytest.raises(EncodeError, match="too large"):
        float_to_ibm(1e80, 4)
    with pytest.raises(EncodeError):
        float_to_ibm(math.inf, 8)
    assert ibm32_to_float(float_to_ibm(1e-80, 4)) == pytest.approx(1e-80, rel=1e-3)  # unnormalised
    assert ibm32_to_float(float_to_ibm(1e-100, 4)) == 0.0  # below every IBM value: zero


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e70, max_value=1e70))
def test_ibm_double_round_trip(value: float) -> None:
    data = float_to_ibm(value, 8)
    if abs(value) >= 16.0 ** -64 or value == 0:
        assert ibm64_to_float(data) == value or abs(value) < 1e-70
        assert float_to_ibm(ibm64_to_float(data), 8) == data


def test_ieee_option() -> None:
    conv = FloatConverter(size=4, ieee=True)
    assert conv.decode(struct.pack(">f", -30503.93)) == struct.unpack(">f", struct.pack(">f", -30503.93))[0]
    assert FloatConverter(size=8, ieee=True).encode(1.5) == struct.pack(">d", 1.5)
    with pytest.raises(EncodeError, match="takes a float"):
        conv.encode("1.5")

"""COMP-1 and COMP-2: IBM hexadecimal floating point (the mainframe's), or IEEE 754 big-endian.

IBM HFP: a sign bit, a 7-bit exponent of 16 biased by 64, then a 24-bit (COMP-1) or 56-bit
(COMP-2) fraction: value = 0.fraction * 16 ** (exponent - 64). Every COMP-1 value is exact as
a Python float; a COMP-2 fraction with more than 53 significant bits is rounded to nearest.
Encoding rounds to nearest and normalises; values beyond 16**63 cannot be encoded.
"""

from __future__ import annotations

import math
import struct
from decimal import Decimal
from typing import Any

from legacy.copybook.convert import Converter, constant, value_text
from legacy.errors import EncodeError

_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")


def ibm32_to_float(data: bytes) -> float:
    (word,) = _U32.unpack(data)
    value = math.ldexp(word & 0xFFFFFF, 4 * ((word >> 24) & 0x7F) - 280)  # 4 * 64 + 24
    return -value if word >> 31 else value


def ibm64_to_float(data: bytes) -> float:
    (word,) = _U64.unpack(data)
    value = math.ldexp(word & 0xFFFFFFFFFFFFFF, 4 * ((word >> 56) & 0x7F) - 312)  # 4 * 64 + 56
    return -value if word >> 63 else value


def float_to_ibm(value: float, size: int) -> bytes:
    """The IBM HFP bytes (4 or 8) nearest to ``value``."""
    fraction_bits = 24 if size == 4 else 56
    if not math.isfinite(value):
        raise EncodeError(f"IBM floating point has no {value_text(value)}")
    negative = math.copysign(1.0, value) < 0
    magnitude = abs(value)
    if magnitude == 0:
        return ((1 << (fraction_bits + 7)) if negative else 0).to_bytes(size, "big")
    mantissa, exp2 = math.frexp(magnitude)  # magnitude = mantissa * 2**exp2, 0.5 <= mantissa < 1
    exp16 = -(-exp2 // 4)  # ceil: magnitude = f * 16**exp16 with 1/16 <= f < 1
    fraction = round(math.ldexp(mantissa, fraction_bits + exp2 - 4 * exp16))
    if fraction >= 1 << fraction_bits:  # rounding carried into a new hex digit
        fraction >>= 4
        exp16 += 1
    biased = exp16 + 64
    if biased > 127:
        raise EncodeError(f"{value_text(value)} is too large for IBM {'COMP-1' if size == 4 else 'COMP-2'}")
    if biased < 0:  # below the smallest normal value: denormalise, possibly to zero
        fraction >>= 4 * -biased
        biased = 0
    word = (int(negative) << (fraction_bits + 7)) | (biased << fraction_bits) | fraction
    return word.to_bytes(size, "big")


class FloatConverter(Converter):
    """COMP-1 (size 4) or COMP-2 (size 8), IBM hexadecimal or IEEE 754; values are floats."""

    kind = "floating point"

    def __init__(self, *, size: int, ieee: bool = False) -> None:
        self.size = size
        self.ieee = ieee
        self._struct = struct.Struct(">f" if size == 4 else ">d")

    def expr(self, src: str, tmp: str, env: dict[str, object]) -> str:
        if self.ieee:
            return f"{constant(env, self._struct.unpack)}({src})[0]"
        return f"{constant(env, ibm32_to_float if self.size == 4 else ibm64_to_float)}({src})"

    def encode(self, value: Any) -> bytes:
        if isinstance(value, bool) or not isinstance(value, (float, int, Decimal)):
            raise EncodeError(f"COMP-{1 if self.size == 4 else 2} takes a float, not {type(value).__name__}")
        name = f"COMP-{1 if self.size == 4 else 2}"
        try:
            number = float(value)
        except OverflowError:  # an int beyond any float
            raise EncodeError(f"{value_text(value)} is too large for {name}") from None
        if math.isinf(number) and not (
            math.isinf(value) if isinstance(value, float) else isinstance(value, Decimal) and value.is_infinite()
        ):
            raise EncodeError(f"{value_text(value)} is too large for {name}")  # a huge Decimal turned into inf
        if self.ieee:
            try:
                return self._struct.pack(number)
            except OverflowError:
                raise EncodeError(f"{value_text(value)} is too large for IEEE {name}") from None
        return float_to_ibm(number, self.size)

    def filler(self) -> bytes:
        return bytes(self.size)


__all__ = ["FloatConverter", "float_to_ibm", "ibm32_to_float", "ibm64_to_float"]

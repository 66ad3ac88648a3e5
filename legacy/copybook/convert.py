"""What every field kind provides to the codec: a decoding expression, an encoder, a diagnosis.

A converter decodes through a Python expression (``expr``) over the field's bytes. The codec
inlines that expression in the decoder it generates for a layout, and compiles the same text
into ``decode`` for its field-by-field path, so the fast and the careful path cannot disagree.
The expression raises (any of ``DECODE_ERRORS``) on bytes it does not accept; ``diagnose``
then says why, as a ``RecordError`` whose ``offset`` is relative to the field's first byte.
"""

from __future__ import annotations

from decimal import Context, Decimal, DecimalException, Inexact, InvalidOperation, Overflow
from typing import Any

from legacy.errors import EncodeError, InvalidDataError, RecordError

# What a decoding expression may raise on bad bytes; anything else is a bug and propagates.
DECODE_ERRORS = (ValueError, KeyError, TypeError, IndexError, ArithmeticError, UnicodeError)

EXACT = Context(prec=200)  # wide enough for any PICTURE (at most 38 digits) without rounding
# No field stores a number of more digits than this (38 digits, or a 16-byte COMP-5's 39).
MAX_STORED_DIGITS = 100
# Scaling a value to store it must be exact: a value of 300 significant digits is refused,
# never rounded to 200 (Inexact raises).
_SCALING = Context(prec=200, traps=[InvalidOperation, Overflow, Inexact])


def bad(*_: object) -> Any:
    """Raised from inside generated expressions to reject bytes (a conditional cannot raise)."""
    raise ValueError("invalid field bytes")


def constant(env: dict[str, object], value: object) -> str:
    """The name under which ``value`` is visible to generated code (one name per distinct value)."""
    for name, existing in env.items():
        if existing is value or (
            type(existing) is type(value) and isinstance(value, (str, bytes)) and existing == value
        ):
            return name
    name = f"_k{len(env)}"
    env[name] = value
    return name


class Converter:
    """Decodes and encodes one elementary field kind; see the module docstring."""

    size: int
    kind: str = "?"

    def expr(self, src: str, tmp: str, env: dict[str, object]) -> str:
        """A Python expression decoding the bytes named ``src``; ``tmp`` prefixes temporaries."""
        raise NotImplementedError

    def compiled(self) -> Any:
        """``decode(data) -> value`` built from ``expr``, for the field-by-field path."""
        decode = getattr(self, "_decode", None)
        if decode is None:
            env: dict[str, object] = {"_bad": bad, "Decimal": Decimal}
            source = f"lambda x: {self.expr('x', '_t', env)}"
            decode = eval(compile(source, f"<{type(self).__name__}>", "eval"), env)
            self._decode = decode
        return decode

    def decode(self, data: bytes) -> Any:
        return self.compiled()(data)

    def diagnose(self, data: bytes) -> RecordError:
        """Why ``data`` was rejected: an error with ``offset`` relative to the field start."""
        return InvalidDataError(f"bytes {data.hex(' ').upper()} are not a valid {self.kind} value", offset=0)

    def lenient(self, data: bytes) -> Any:
        """A tolerant reading of bytes ``decode`` rejected, as Cobrix reads them; None if none."""
        return None

    def encode(self, value: Any) -> bytes:
        raise NotImplementedError

    def filler(self) -> bytes:
        """The bytes written for a FILLER or an unused table slot of this kind."""
        raise NotImplementedError


def value_text(value: object) -> str:
    """``value`` for an error message, cut short (an int of 100,000 digits cannot even be printed)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return f"{'-' if value < 0 else ''}an integer of about {int(value.bit_length() * 0.30103)} digits"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def scaled_integer(value: Any, scale: int, digits: int, signed: bool, what: str) -> int:
    """The integer a numeric field stores for ``value``: value * 10**scale, checked."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise EncodeError(f"{what} takes an int or a Decimal, not {type(value).__name__}")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise EncodeError(f"{what} cannot hold {value_text(value)}")
        if value:
            # decided on the exponent first: 1E+999999 would overflow the context (or make an
            # int of a million digits) and 1E-1000300 would underflow to a silent 0
            magnitude = value.adjusted() + scale  # the power of ten of the leading digit stored
            if magnitude >= MAX_STORED_DIGITS:
                raise EncodeError(f"{what} cannot hold {value_text(value)}")
            if magnitude < 0:
                raise EncodeError(
                    f"{what} has {max(scale, 0)} decimal places and cannot hold {value_text(value)} exactly"
                )
        try:
            scaled = value.scaleb(scale, _SCALING)
            number = int(scaled)
        except (DecimalException, OverflowError):
            raise EncodeError(f"{what} cannot hold {value_text(value)}") from None
        if scaled != number:
            raise EncodeError(f"{what} has {max(scale, 0)} decimal places and cannot hold {value_text(value)} exactly")
    elif scale >= 0:
        number = value * 10**scale
    else:
        number, remainder = divmod(value, 10**-scale)
        if remainder:
            raise EncodeError(f"{what} holds multiples of {10**-scale} only, not {value_text(value)}")
    if number < 0 and not signed:
        raise EncodeError(f"{what} is unsigned and cannot hold {value_text(value)}")
    if digits and abs(number) >= 10**digits:
        raise EncodeError(f"{what} holds {digits} digits and cannot hold {value_text(value)}")
    return number


def wrap_scale(digits_expr: str, scale: int) -> str:
    """Turn an expression giving a signed digit string into int or Decimal source."""
    if scale == 0:
        return f"int({digits_expr})"
    if scale > 0:
        return f"Decimal({digits_expr} + 'e-{scale}')"
    return f"int({digits_expr} + '{'0' * -scale}')"


__all__ = [
    "DECODE_ERRORS",
    "EXACT",
    "MAX_STORED_DIGITS",
    "Converter",
    "bad",
    "constant",
    "scaled_integer",
    "value_text",
    "wrap_scale",
]

"""Numeric field kinds: zoned DISPLAY (overpunched or separate sign), packed decimal, binary.

Values are ``int`` when the PICTURE has no decimal places (P on the right scales an int up),
and ``decimal.Decimal`` with exactly the PICTURE's decimal places otherwise. Zoned digits are
F0-F9 in EBCDIC and 0x30-0x39 in ASCII; an overpunched sign is zone C (or A, E, F) for plus
and D (or B) for minus in EBCDIC, ``{ A-I`` for plus and ``} J-R`` (or ``p-y``) for minus in
ASCII. Encoders write the preferred form: C/D (F when unsigned) and ``{ A-I``/``} J-R``.

Binary (COMP, BINARY, COMP-4) values follow the layout's ``truncation``, the same way when
decoding and encoding, so a decoded record always encodes back to its bytes. ``bin``, the
default, is IBM's TRUNC(BIN): every value the bytes hold (``PIC 9(4) COMP`` with ``FF FF`` is
65535), because files written under TRUNC(BIN) or TRUNC(OPT), or by C and Java programs, hold
such values and a reader that refused them could not read real files. ``std`` is TRUNC(STD):
the PICTURE's digits bound the value, ``ValueRangeError`` on decoding and ``EncodeError`` on
encoding. COMP-5 is always bounded by its size only.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from legacy.copybook.codepages import CodePage
from legacy.copybook.convert import EXACT, Converter, constant, scaled_integer, value_text, wrap_scale
from legacy.errors import (
    EncodeError,
    InvalidDataError,
    InvalidDigitError,
    InvalidPackedDecimalError,
    InvalidSignError,
    RecordError,
    ValueRangeError,
)

_EBCDIC_SIGN_ZONES = {"c": "", "f": "", "a": "", "e": "", "d": "-", "b": "-"}
_PACKED_SIGNED = {"c": "", "f": "", "a": "", "e": "", "d": "-", "b": "-"}
_PACKED_UNSIGNED = {"f": "", "c": "", "a": "", "e": ""}
_ASCII_POSITIVE = "{ABCDEFGHI"
_ASCII_NEGATIVE = "}JKLMNOPQR"


def _ascii_overpunch() -> dict[str, tuple[str, str]]:
    table: dict[str, tuple[str, str]] = {}
    for digit in range(10):
        table[f"{0x30 + digit:02x}"] = ("", str(digit))
        table[f"{ord(_ASCII_POSITIVE[digit]):02x}"] = ("", str(digit))
        table[f"{ord(_ASCII_NEGATIVE[digit]):02x}"] = ("-", str(digit))
        table[f"{0x70 + digit:02x}"] = ("-", str(digit))  # Micro Focus negative digits
    return table


_ASCII_OVERPUNCH = _ascii_overpunch()


class _Charset:
    """The bytes a DISPLAY number uses in one code-page family."""

    def __init__(self, code_page: CodePage) -> None:
        self.ebcdic = code_page.ebcdic
        if self.ebcdic:
            self.zero, self.plus, self.minus, self.point, self.comma, self.space = 0xF0, 0x4E, 0x60, 0x4B, 0x6B, 0x40
            self.zone = "f"
        else:
            self.zero, self.plus, self.minus, self.point, self.comma, self.space = 0x30, 0x2B, 0x2D, 0x2E, 0x2C, 0x20
            self.zone = "3"
        # a 256-byte table: digits to ASCII digits, every other byte to 'x', which int() refuses
        table = bytearray(b"x" * 256)
        for d in range(10):
            table[self.zero + d] = 0x30 + d
        self.digit_table = bytes(table)
        self.separate = {f"{self.plus:02x}": "", f"{self.minus:02x}": "-"}

    def overpunch(self, value: int | None, negative: bool) -> int:
        """The byte of a digit with an overpunched sign (``negative`` None-safe for unsigned)."""
        digit = value or 0
        if self.ebcdic:
            return (0xD0 if negative else 0xC0) | digit
        return ord((_ASCII_NEGATIVE if negative else _ASCII_POSITIVE)[digit])

    def read_overpunch(self, byte: int) -> tuple[str, str] | None:
        if self.ebcdic:
            pair = f"{byte:02x}"
            zone, digit = pair[0], pair[1]
            if zone in _EBCDIC_SIGN_ZONES and digit.isdigit():
                return _EBCDIC_SIGN_ZONES[zone], digit
            return None
        return _ASCII_OVERPUNCH.get(f"{byte:02x}")


class ZonedConverter(Converter):
    """USAGE DISPLAY numbers: ``9(5)``, ``S9(7)V99``, ``S9(3) SIGN LEADING SEPARATE``, ``9(8).9(2)``."""

    kind = "zoned decimal"

    def __init__(
        self,
        *,
        digits: int,
        scale: int,
        signed: bool,
        code_page: CodePage,
        leading: bool = False,
        separate: bool = False,
        point: int | None = None,
    ) -> None:
        self.digits = digits
        self.scale = scale
        self.signed = signed
        self.leading = leading
        self.separate = separate and signed
        self.point = point
        self.cs = _Charset(code_page)
        self.size = digits + (1 if point is not None else 0) + (1 if self.separate else 0)
        roles = ["d"] * digits
        if point is not None:
            roles.insert(point, ".")
        if self.separate:
            roles.insert(0 if leading else len(roles), "s")
        elif signed:
            index = roles.index("d") if leading else len(roles) - 1 - roles[::-1].index("d")
            roles[index] = "o"
        self.roles = roles

    def expr(self, src: str, tmp: str, env: dict[str, object]) -> str:
        if self.point is not None:
            return f"{constant(env, self.scan_value)}({src})"
        n = self.size
        h = f"{tmp}h"
        zones = constant(env, self.cs.zone * (n - 1))
        if not self.signed:
            if self.scale == 0:
                return f"int({src}.translate({constant(env, self.cs.digit_table)}))"
            zones = constant(env, self.cs.zone * n)
            return f"({wrap_scale(f'{h}[1::2]', self.scale)} if ({h} := {src}.hex())[::2] == {zones} else _bad())"
        if self.separate:
            signs = constant(env, self.cs.separate)
            if self.leading:
                digits, check = f"{signs}[{h}[:2]] + {h}[3::2]", f"({h} := {src}.hex())[2::2] == {zones}"
            else:
                digits, check = f"{signs}[{h}[-2:]] + {h}[1:-2:2]", f"({h} := {src}.hex())[0:-2:2] == {zones}"
        elif self.cs.ebcdic:
            signs = constant(env, _EBCDIC_SIGN_ZONES)
            if self.leading:
                digits, check = f"{signs}[{h}[0]] + {h}[1::2]", f"({h} := {src}.hex())[2::2] == {zones}"
            else:
                digits, check = f"{signs}[{h}[-2]] + {h}[1::2]", f"({h} := {src}.hex())[0:-2:2] == {zones}"
        else:
            t = f"{tmp}t"
            table = constant(env, _ASCII_OVERPUNCH)
            if self.leading:
                digits = f"({t} := {table}[{h}[:2]])[0] + {t}[1] + {h}[3::2]"
                check = f"({h} := {src}.hex())[2::2] == {zones}"
            else:
                digits = f"({t} := {table}[{h}[-2:]])[0] + {h}[1:-2:2] + {t}[1]"
                check = f"({h} := {src}.hex())[0:-2:2] == {zones}"
        return f"({wrap_scale(digits, self.scale)} if {check} else _bad())"

    def _scan(self, data: bytes) -> tuple[str, str]:
        """(sign, digits) of valid bytes; raises the RecordError saying what is wrong where."""
        if len(data) != self.size:
            raise InvalidDataError(f"{len(data)} bytes for a {self.size}-byte field", offset=0)
        cs = self.cs
        sign = ""
        digits = []
        for i, (role, byte) in enumerate(zip(self.roles, data)):
            if role == "d":
                if not cs.zero <= byte <= cs.zero + 9:
                    raise InvalidDigitError(f"byte 0x{byte:02X} is not a digit of a zoned decimal", offset=i)
                digits.append(chr(0x30 + byte - cs.zero))
            elif role == ".":
                if byte != cs.point:
                    raise InvalidDataError(
                        f"byte 0x{byte:02X} stands where the PICTURE has its decimal point", offset=i
                    )
            elif role == "s":
                if byte == cs.minus:
                    sign = "-"
                elif byte != cs.plus:
                    raise InvalidSignError(f"byte 0x{byte:02X} is not a separate sign (+ or -)", offset=i)
            else:
                punched = cs.read_overpunch(byte)
                if punched is None:
                    if cs.ebcdic and (byte >> 4) in (0xA, 0xB, 0xC, 0xD, 0xE, 0xF):
                        raise InvalidDigitError(f"byte 0x{byte:02X} has a sign zone but no digit", offset=i)
                    raise InvalidSignError(f"byte 0x{byte:02X} is not a digit with an overpunched sign", offset=i)
                sign = punched[0]
                digits.append(punched[1])
        return sign, "".join(digits)

    def _value(self, sign: str, digits: str) -> int | Decimal:
        if self.scale > 0:
            return Decimal(f"{sign}{digits}e-{self.scale}")
        return int(sign + digits + "0" * -self.scale)

    def scan_value(self, data: bytes) -> int | Decimal:
        try:
            sign, digits = self._scan(data)
        except RecordError as exc:
            raise ValueError(str(exc)) from None
        return self._value(sign, digits)

    def diagnose(self, data: bytes) -> RecordError:
        try:
            self._scan(data)
        except RecordError as exc:
            return exc
        return super().diagnose(data)

    def lenient(self, data: bytes) -> Any:
        """Cobrix's reading: spaces and NULs ignored, a sign or point anywhere, else None."""
        cs = self.cs
        sign = ""
        digits = []
        point_at = None
        for byte in data:
            if cs.zero <= byte <= cs.zero + 9:
                digits.append(chr(0x30 + byte - cs.zero))
            elif byte in (cs.space, 0x00):
                continue
            elif byte in (cs.point, cs.comma) and point_at is None:
                point_at = len(digits)
            elif byte in (cs.plus, cs.minus) and not sign:
                sign = "-" if byte == cs.minus else "+"
            elif (
                self.signed
                and not self.separate
                and cs.read_overpunch(byte) is not None
                and (cs.ebcdic or not 0x30 <= byte <= 0x39)
                and not sign
            ):
                punched = cs.read_overpunch(byte)
                sign = punched[0] or "+"  # type: ignore[index]
                digits.append(punched[1])  # type: ignore[index]
            else:
                return None
        if not digits or (sign == "-" and not self.signed):
            return None
        text = "".join(digits)
        if point_at is not None:
            value = Decimal(f"{sign}{text[:point_at]}.{text[point_at:] or '0'}")
            if self.scale > 0:
                return value.quantize(Decimal(1).scaleb(-self.scale), context=EXACT)
            return int(value) if value == int(value) else None
        return self._value("-" if sign == "-" else "", text)

    def encode(self, value: Any) -> bytes:
        number = scaled_integer(value, self.scale, self.digits, self.signed, f"PIC {self._pic()}")
        digits = str(abs(number)).zfill(self.digits)
        negative = number < 0
        cs = self.cs
        out = bytearray()
        it = iter(digits)
        for role in self.roles:
            if role == "d":
                out.append(cs.zero + int(next(it)))
            elif role == ".":
                out.append(cs.point)
            elif role == "s":
                out.append(cs.minus if negative else cs.plus)
            else:
                out.append(cs.overpunch(int(next(it)), negative))
        return bytes(out)

    def filler(self) -> bytes:
        return self.encode(0)

    def _pic(self) -> str:
        return ("S" if self.signed else "") + f"9({self.digits})" + (f" scale {self.scale}" if self.scale else "")


class PackedConverter(Converter):
    """COMP-3 / PACKED-DECIMAL: two digits a byte, the last nibble the sign (C/F plus, D minus)."""

    kind = "packed decimal"

    def __init__(self, *, digits: int, scale: int, signed: bool) -> None:
        self.digits = digits
        self.scale = scale
        self.signed = signed
        self.size = digits // 2 + 1

    def expr(self, src: str, tmp: str, env: dict[str, object]) -> str:
        h = f"{tmp}h"
        signs = constant(env, _PACKED_SIGNED if self.signed else _PACKED_UNSIGNED)
        return wrap_scale(f"{signs}[({h} := {src}.hex())[-1]] + {h}[:-1]", self.scale)

    def diagnose(self, data: bytes) -> RecordError:
        nibbles = data.hex()
        for i, nibble in enumerate(nibbles[:-1]):
            if not nibble.isdigit():
                return InvalidPackedDecimalError(
                    f"nibble 0x{nibble.upper()} of packed decimal {data.hex(' ').upper()} is not a digit", offset=i // 2
                )
        valid = _PACKED_SIGNED if self.signed else _PACKED_UNSIGNED
        if nibbles[-1] not in valid:
            what = "a sign" if self.signed else "a sign of an unsigned field (C or F)"
            return InvalidSignError(
                f"nibble 0x{nibbles[-1].upper()} of packed decimal {data.hex(' ').upper()} is not {what}",
                offset=len(data) - 1,
            )
        return super().diagnose(data)

    def encode(self, value: Any) -> bytes:
        number = scaled_integer(
            value, self.scale, self.digits, self.signed, f"PIC {'S' if self.signed else ''}9({self.digits}) COMP-3"
        )
        sign = ("d" if number < 0 else "c") if self.signed else "f"
        return bytes.fromhex(str(abs(number)).zfill(self.size * 2 - 1) + sign)

    def filler(self) -> bytes:
        return self.encode(0)


class BinaryConverter(Converter):
    """COMP / COMP-4 / BINARY and COMP-5: big-endian (COMP-5 in the native order) integers.

    ``bounded_by_digits`` (``truncation="std"``, IBM's TRUNC(STD)): values beyond the
    PICTURE's digits are refused both ways, ``ValueRangeError`` on decoding and
    ``EncodeError`` on encoding. Without it (TRUNC(BIN), and COMP-5 always) every value the
    bytes can hold is read and written. Either way decoding and encoding agree, so a decoded
    record encodes back to the same bytes.
    """

    kind = "binary"

    def __init__(
        self,
        *,
        size: int,
        digits: int,
        scale: int,
        signed: bool,
        byte_order: str = "big",
        bounded_by_digits: bool = True,
    ) -> None:
        self.size = size
        self.digits = digits
        self.scale = scale
        self.signed = signed
        self.byte_order = byte_order
        self.bounded_by_digits = bounded_by_digits

    def expr(self, src: str, tmp: str, env: dict[str, object]) -> str:
        number = f"int.from_bytes({src}, {self.byte_order!r}, signed={self.signed})"
        if self.bounded_by_digits:
            v, limit = f"{tmp}v", 10**self.digits
            number = f"({v} if {-limit} < ({v} := {number}) < {limit} else _bad())"
        if self.scale == 0:
            return number
        if self.scale > 0:
            return f"Decimal(str({number}) + 'e-{self.scale}')"
        return f"{number} * {10**-self.scale}"

    def diagnose(self, data: bytes) -> RecordError:
        if self.bounded_by_digits and len(data) == self.size:
            number = int.from_bytes(data, self.byte_order, signed=self.signed)  # type: ignore[arg-type]
            if abs(number) >= 10**self.digits:
                return ValueRangeError(
                    f"binary {data.hex(' ').upper()} holds {number}, more than the {self.digits} digits of "
                    f"PIC {'S' if self.signed else ''}9({self.digits}) COMP allow (truncation='std'; "
                    f"truncation='bin' reads it)",
                    offset=0,
                )
        return super().diagnose(data)

    def encode(self, value: Any) -> bytes:
        what = f"PIC {'S' if self.signed else ''}9({self.digits}) {'COMP' if self.bounded_by_digits else 'COMP-5'}"
        number = scaled_integer(value, self.scale, self.digits if self.bounded_by_digits else 0, self.signed, what)
        try:
            return number.to_bytes(self.size, self.byte_order, signed=self.signed)  # type: ignore[arg-type]
        except OverflowError:
            raise EncodeError(f"{what} ({self.size} bytes) cannot hold {value_text(value)}") from None

    def filler(self) -> bytes:
        return bytes(self.size)


__all__ = ["BinaryConverter", "PackedConverter", "ZonedConverter"]

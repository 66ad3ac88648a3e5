"""Numeric-edited fields (``ZZ,ZZ9.99-``, ``+9(8)``, ``$$$9.99CR``, ``***9``): printable numbers.

Encoding follows COBOL editing: Z and * suppress leading zeros (to spaces or asterisks) up
to the first non-zero digit or the decimal point, insertion characters (``, B 0 /``) left of
that point are suppressed too, a floating ``+ - $`` string prints its symbol just left of the
first digit shown, and a value of zero with no 9 in the PICTURE prints as spaces (asterisks
for ``*``). Decoding reads the digits and the sign back; with ``strict`` the text must be
exactly what encoding that value gives, so a decoded value never comes from a misread field.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from legacy.copybook.codepages import CodePage
from legacy.copybook.convert import Converter, constant, scaled_integer, value_text
from legacy.copybook.picture import Picture, edit_roles
from legacy.errors import EncodeError, InvalidDataError, InvalidDigitError, RecordError

_DIGIT_ROLES = ("digit", "zero", "star", "float")
_INSERTS = {",": ",", "B": " ", "0": "0", "/": "/"}


class EditedConverter(Converter):
    kind = "numeric-edited"

    def __init__(
        self, picture: Picture, code_page: CodePage, *, blank_when_zero: bool = False, strict: bool = True
    ) -> None:
        self.picture = picture
        self.code_page = code_page
        self.blank_when_zero = blank_when_zero
        self.strict = strict
        self.scale = picture.scale
        self.digits = picture.digits
        self.size = picture.length
        self.cells: list[tuple[str, str]] = []
        for sym, role in zip(picture.symbols, edit_roles(picture.symbols)):
            if role == "crdb":
                self.cells.append(("crdb", sym))
                self.cells.append(("crdb-2", sym))
            elif sym != "V":
                self.cells.append((role, sym))
        self.floating = next((sym for role, sym in self.cells if role == "float-lead"), None)
        self.star = any(role == "star" for role, _ in self.cells)
        self.all_suppressed = not any(role == "digit" for role, _ in self.cells)
        self.signed = picture.signed

    def expr(self, src: str, tmp: str, env: dict[str, object]) -> str:
        return f"{constant(env, self.decode_bytes)}({src})"

    # -- decoding ------------------------------------------------------------------------

    def _read(self, text: str) -> tuple[int, int | Decimal]:
        """(integer stored, value) read from the text, without the canonical-form check."""
        if len(text) != len(self.cells):
            raise InvalidDataError(f"{len(text)} characters for a {len(self.cells)}-character PICTURE", offset=0)
        if not text.strip(" ") and (self.blank_when_zero or self.all_suppressed):
            return 0, self._value(0)
        digits = []
        negative = False
        for i, ((role, sym), ch) in enumerate(zip(self.cells, text)):
            if role in _DIGIT_ROLES:
                if "0" <= ch <= "9":
                    digits.append(ch)
                elif (
                    ch == " "
                    or (ch == "*" and role == "star")
                    or (role == "float" and ch == sym)
                    or (role == "float" and sym == "+" and ch == "-")
                ):
                    digits.append("0")
                    negative = negative or (role == "float" and ch == "-")
                else:
                    raise InvalidDigitError(f"{ch!r} stands where PICTURE {self.picture.text} has a digit", offset=i)
            elif role in ("sign", "float-lead"):
                if ch == "-":
                    negative = True
                elif ch not in ("+", " ", sym):
                    raise InvalidDataError(f"{ch!r} stands where PICTURE {self.picture.text} has a sign", offset=i)
            elif role == "crdb":
                pair = text[i : i + 2]
                if pair.upper() == sym:
                    negative = True
                elif pair != "  ":
                    raise InvalidDataError(f"{pair!r} stands where PICTURE {self.picture.text} has {sym}", offset=i)
        number = int("".join(digits))
        if negative:
            number = -number
        return number, self._value(number)

    def _value(self, number: int) -> int | Decimal:
        if self.scale > 0:
            return Decimal(f"{number}e-{self.scale}")
        return number * 10**-self.scale

    def _check(self, data: bytes) -> int | Decimal:
        text = self.code_page.decode(data)
        number, value = self._read(text)
        if self.strict:
            canonical = self._render(number)
            if canonical != text and self._plain_signs(canonical) != self._plain_signs(text):
                at = next((i for i, (a, b) in enumerate(zip(canonical, text)) if a != b), 0)
                raise InvalidDataError(
                    f"{text!r} is not how PICTURE {self.picture.text} shows {value} ({canonical!r})", offset=at
                )
        return value

    def _plain_signs(self, text: str) -> str:
        # '+' where the PICTURE prints a space for plus (or the reverse) still says plus
        return "".join(
            " " if ch == "+" and role in ("sign", "float-lead", "float") else ch
            for (role, _), ch in zip(self.cells, text)
        )

    def decode_bytes(self, data: bytes) -> int | Decimal:
        try:
            return self._check(data)
        except RecordError as exc:
            raise ValueError(str(exc)) from None

    def diagnose(self, data: bytes) -> RecordError:
        try:
            self._check(data)
        except RecordError as exc:
            return exc
        except UnicodeDecodeError as exc:
            return InvalidDataError(f"byte 0x{data[exc.start]:02X} has no character in the code page", offset=exc.start)
        return super().diagnose(data)

    def lenient(self, data: bytes) -> Any:
        try:
            return self._read(self.code_page.decode(data))[1]
        except (RecordError, UnicodeDecodeError, ValueError):
            return None

    # -- encoding ------------------------------------------------------------------------

    def _render(self, number: int) -> str:
        negative = number < 0
        digits = iter(str(abs(number)).zfill(self.digits))
        if number == 0 and (self.blank_when_zero or self.all_suppressed):
            if self.star and not self.blank_when_zero:
                return "".join("." if sym == "." else "*" for role, sym in self.cells)
            return " " * len(self.cells)
        fill = "*" if self.star else " "
        out: list[str] = []
        shown = False  # a digit (or the decimal point) has ended zero suppression
        float_slots: list[int] = []
        for role, sym in self.cells:
            if role == "digit":
                out.append(next(digits))
                shown = True
            elif role in ("zero", "star", "float"):
                digit = next(digits)
                if not shown and digit == "0":
                    out.append("*" if role == "star" else " ")
                    if role == "float":
                        float_slots.append(len(out) - 1)
                else:
                    out.append(digit)
                    shown = True
            elif role == "float-lead":
                out.append(" ")
                float_slots.append(len(out) - 1)
            elif role == "point":
                out.append(".")
                shown = True
            elif role == "insert":
                if shown:
                    out.append(_INSERTS[sym])
                else:
                    out.append(fill)
                    if float_slots and float_slots[-1] == len(out) - 2:
                        float_slots.append(len(out) - 1)
            elif role == "sign":
                out.append("-" if negative else ("+" if sym == "+" else " "))
            elif role == "currency":
                out.append("$")
            elif role == "crdb":
                out.append(sym[0] if negative else " ")
            elif role == "crdb-2":
                out.append(sym[1] if negative else " ")
        if self.floating is not None and float_slots:
            symbol = self.floating
            if symbol in "+-":
                symbol = "-" if negative else ("+" if symbol == "+" else " ")
            out[float_slots[-1]] = symbol
        return "".join(out)

    def encode(self, value: Any) -> bytes:
        number = scaled_integer(value, self.scale, self.digits, self.signed, f"PIC {self.picture.text}")
        try:
            return self.code_page.encode(self._render(number))
        except UnicodeEncodeError as exc:  # pragma: no cover - every code page has digits and signs
            raise EncodeError(f"code page {self.code_page.name} cannot show {value_text(value)}") from exc

    def filler(self) -> bytes:
        return self.encode(0)


__all__ = ["EditedConverter"]

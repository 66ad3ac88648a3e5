"""PICTURE strings: runs of symbols, category, size, digits, scale and sign.

Categories: ``alphanumeric`` (X, or A/X/9 mixed), ``alphabetic`` (A), ``numeric`` (9, S, V, P,
and, as Cobrix and many shops allow, one explicit ``.`` as in ``9(8).9(2)`` or ``S9(3).99``),
``numeric-edited`` (Z * + - . , B 0 / $ CR DB around 9s) and ``alphanumeric-edited`` (X or A
with B 0 /, handled as plain text).

Repeat counts are kept as counts, never expanded for text, so ``X(1000000000)`` costs nothing
here (the layout builder refuses it by size). Numeric pictures have at most 249 positions and
38 digits (``legacy.copybook.limits``).
"""

from __future__ import annotations

from dataclasses import dataclass

from legacy.copybook.limits import MAX_DIGITS, MAX_EDITED_POSITIONS, MAX_INTEGER_DIGITS, is_ascii_integer

ALPHANUMERIC = "alphanumeric"
ALPHABETIC = "alphabetic"
NUMERIC = "numeric"
NUMERIC_EDITED = "numeric-edited"
ALPHANUMERIC_EDITED = "alphanumeric-edited"

_VALID = set("AX9SVPZ*+-.,B0/$") | {"CR", "DB"}


class PictureError(ValueError):
    """A PICTURE string that is not well formed; ``position`` is the 0-based index in it."""

    def __init__(self, message: str, position: int = 0) -> None:
        self.position = position
        super().__init__(message)


@dataclass(frozen=True)
class Picture:
    """A parsed PICTURE string."""

    text: str  # as written
    runs: tuple[tuple[str, int], ...]  # (symbol, repeat count), upper case; CR/DB one symbol
    category: str
    length: int  # character positions in DISPLAY (S, V and P take none)
    digits: int  # digit positions (9, and Z * floating + - $ in edited pictures)
    scale: int  # digits right of the decimal point; negative with P on the right
    signed: bool  # S, or a sign symbol in an edited picture
    point: int | None = None  # index of an explicit '.' byte in a numeric picture

    @property
    def symbols(self) -> tuple[str, ...]:
        """One entry a symbol, repeats expanded (numeric pictures are short; text ones are not)."""
        return tuple(sym for sym, count in self.runs for _ in range(count))

    @property
    def is_numeric(self) -> bool:
        return self.category in (NUMERIC, NUMERIC_EDITED)

    def __str__(self) -> str:
        return self.text


def _runs(text: str) -> list[tuple[str, int]]:
    """(symbol, count) as written; repeat counts are not expanded, so X(999999999) costs nothing."""
    upper = text.upper()
    runs: list[tuple[str, int]] = []
    i = 0
    while i < len(upper):
        if upper.startswith(("CR", "DB"), i):
            sym, width = upper[i : i + 2], 2
        else:
            sym, width = upper[i], 1
        if sym not in _VALID:
            raise PictureError(f"'{text[i : i + width]}' is not a PICTURE symbol", i)
        i += width
        count = 1
        if i < len(upper) and upper[i] == "(":
            close = upper.find(")", i)
            if close < 0 or not is_ascii_integer(upper[i + 1 : close]):
                raise PictureError("a repeat count is a number in parentheses, as in X(10)", i)
            if len(upper[i + 1 : close].lstrip("0")) > MAX_INTEGER_DIGITS:
                raise PictureError(f"repeat count {upper[i + 1 : close]} is too large", i + 1)
            count = int(upper[i + 1 : close])
            if count < 1:
                raise PictureError("a repeat count is at least 1", i + 1)
            i = close + 1
        if runs and runs[-1][0] == sym:
            runs[-1] = (sym, runs[-1][1] + count)
        else:
            runs.append((sym, count))
    return runs


def parse_picture(text: str) -> Picture:
    """Parse a PICTURE string such as ``S9(7)V99``, ``X(10)`` or ``ZZ,ZZ9.99-``."""
    if not text:
        raise PictureError("empty PICTURE string")
    runs = _runs(text)
    kinds = {sym for sym, _ in runs}
    total = sum(count for _, count in runs)
    if kinds <= {"X", "A", "9"} and kinds & {"X", "A"}:
        category = ALPHABETIC if kinds == {"A"} else ALPHANUMERIC
        return Picture(text, tuple(runs), category, total, 0, 0, False)
    if kinds & {"X", "A"}:
        if kinds <= {"X", "A", "9", "B", "0", "/"}:
            return Picture(text, tuple(runs), ALPHANUMERIC_EDITED, total, 0, 0, False)
        bad = next(sym for sym, _ in runs if sym not in "XA9B0/")
        raise PictureError(f"'{bad}' cannot be mixed with X or A", 0)
    if total > MAX_EDITED_POSITIONS:
        raise PictureError(f"a numeric PICTURE has at most {MAX_EDITED_POSITIONS} positions, this one {total}")
    symbols = [sym for sym, count in runs for _ in range(count)]
    if (
        kinds <= {"9", "S", "V", "P", "."}
        and symbols.count(".") <= 1
        and not ("." in kinds and ("V" in kinds or "P" in kinds))
    ):
        picture = _numeric(text, symbols)
    else:
        picture = _edited(text, symbols)
    if picture.digits > MAX_DIGITS:
        raise PictureError(f"{picture.digits} digits; a numeric PICTURE holds at most {MAX_DIGITS}")
    return picture


def _numeric(text: str, symbols: list[str]) -> Picture:
    signed = False
    if "S" in symbols:
        if symbols.index("S") != 0 or symbols.count("S") > 1:
            raise PictureError("S may only be the first symbol", text.upper().find("S", 1))
        signed = True
        symbols = symbols[1:]
    if symbols.count("V") > 1:
        raise PictureError("V may appear only once", text.upper().rfind("V"))
    if not symbols or "9" not in symbols and "P" not in symbols:
        raise PictureError("a numeric PICTURE needs at least one 9")
    nines = symbols.count("9")
    if nines == 0:
        raise PictureError("a numeric PICTURE needs at least one 9")
    if "P" in symbols:
        body = [s for s in symbols if s != "V"]
        first_digit = body.index("9")
        if first_digit > 0 and all(s == "P" for s in body[:first_digit]):
            scale = first_digit + nines  # PPP999: the point is left of the Ps
            if "P" in body[first_digit:]:
                raise PictureError("P may stand at the left or at the right of the 9s, not both")
        else:
            tail = body[body.index("P") :]
            if any(s != "P" for s in tail):
                raise PictureError("P may stand at the left or at the right of the 9s, not in between")
            if "V" in symbols and symbols.index("V") < symbols.index("P"):
                raise PictureError("V cannot stand left of Ps on the right")
            scale = -len(tail)
    elif "V" in symbols:
        scale = len(symbols) - 1 - symbols.index("V")
    elif "." in symbols:
        scale = len(symbols) - 1 - symbols.index(".")
    else:
        scale = 0
    point = symbols.index(".") if "." in symbols else None
    length = nines + (1 if point is not None else 0)
    return Picture(text, _as_runs((["S"] if signed else []) + symbols), NUMERIC, length, nines, scale, signed, point)


def edit_roles(symbols: tuple[str, ...] | list[str]) -> list[str]:
    """The role of each symbol of a numeric-edited PICTURE.

    ``digit`` (9), ``zero`` (Z, suppressed to a space), ``star`` (*, suppressed to an asterisk),
    ``float`` (a floating + - $ after the first: a digit position that may take the symbol),
    ``float-lead`` (the first of a floating string: the symbol or a space, never a digit),
    ``sign`` (a lone + or -), ``currency`` (a lone $), ``point`` (. or V), ``insert`` (, B 0 /),
    ``crdb`` and ``scale`` (P).
    """
    roles: list[str] = []
    seen: dict[str, int] = {}
    for sym in symbols:
        if sym == "9":
            roles.append("digit")
        elif sym == "Z":
            roles.append("zero")
        elif sym == "*":
            roles.append("star")
        elif sym in "+-$":
            floating = symbols.count(sym) > 1
            if floating:
                roles.append("float" if seen.get(sym) else "float-lead")
            else:
                roles.append("currency" if sym == "$" else "sign")
            seen[sym] = seen.get(sym, 0) + 1
        elif sym in ".V":
            roles.append("point")
        elif sym in (",", "B", "0", "/"):
            roles.append("insert")
        elif sym in ("CR", "DB"):
            roles.append("crdb")
        elif sym == "P":
            roles.append("scale")
        else:  # pragma: no cover - _expand rejects anything else
            raise PictureError(f"'{sym}' is not a numeric-edited symbol")
    return roles


_DIGIT_ROLES = ("digit", "zero", "star", "float")


def _edited(text: str, symbols: list[str]) -> Picture:
    if "S" in symbols:
        raise PictureError("S cannot be used in a numeric-edited PICTURE; use + or -", text.upper().find("S"))
    roles = edit_roles(symbols)
    digit_positions = sum(1 for r in roles if r in _DIGIT_ROLES)
    if digit_positions == 0:
        raise PictureError("a numeric-edited PICTURE needs digit positions")
    for i, (sym, role) in enumerate(zip(symbols, roles)):
        if role == "sign" and 0 < i < len(symbols) - 1:
            raise PictureError(f"a single {sym} stands first or last", i)
        if role == "crdb" and i != len(symbols) - 1:
            raise PictureError("CR and DB stand last", i)
    floats = {sym for sym, role in zip(symbols, roles) if role.startswith("float")}
    if len(floats) > 1:
        raise PictureError("only one symbol can float")
    if (
        sum(1 for r in roles if r in ("sign", "crdb", "float-lead") and r != "float-lead")
        + (1 if floats & {"+", "-"} else 0)
        > 1
    ):
        raise PictureError("a PICTURE has one sign")
    points = [i for i, r in enumerate(roles) if r == "point"]
    if len(points) > 1:
        raise PictureError("a PICTURE has one decimal point", points[1])
    if "P" in symbols:
        raise PictureError("P is not supported in a numeric-edited PICTURE", symbols.index("P"))
    scale = sum(1 for r in roles[points[0] + 1 :] if r in _DIGIT_ROLES) if points else 0
    signed = any(r in ("sign", "crdb") for r in roles) or bool(floats & {"+", "-"})
    length = sum(2 if s in ("CR", "DB") else 1 for s in symbols if s != "V")
    return Picture(text, _as_runs(symbols), NUMERIC_EDITED, length, digit_positions, scale, signed)


def _as_runs(symbols: list[str]) -> tuple[tuple[str, int], ...]:
    runs: list[tuple[str, int]] = []
    for sym in symbols:
        if runs and runs[-1][0] == sym:
            runs[-1] = (sym, runs[-1][1] + 1)
        else:
            runs.append((sym, 1))
    return tuple(runs)


__all__ = [
    "ALPHABETIC",
    "ALPHANUMERIC",
    "ALPHANUMERIC_EDITED",
    "NUMERIC",
    "NUMERIC_EDITED",
    "Picture",
    "PictureError",
    "edit_roles",
    "parse_picture",
]

"""Copybook parser: tokens to data description entries (level, name, clauses), one per period."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from legacy.copybook.lexer import Token, tokenize
from legacy.copybook.limits import MAX_INTEGER_DIGITS, is_ascii_integer
from legacy.copybook.picture import Picture, PictureError, parse_picture
from legacy.copybook.source import SourceFormat, source_lines
from legacy.errors import CopybookSyntaxError

USAGES = {
    "DISPLAY": "display",
    "COMP": "binary",
    "COMPUTATIONAL": "binary",
    "COMP-4": "binary",
    "COMPUTATIONAL-4": "binary",
    "BINARY": "binary",
    "COMP-0": "binary",
    "COMPUTATIONAL-0": "binary",
    "COMP-5": "native",
    "COMPUTATIONAL-5": "native",
    "COMP-3": "packed",
    "COMPUTATIONAL-3": "packed",
    "PACKED-DECIMAL": "packed",
    "COMP-1": "float",
    "COMPUTATIONAL-1": "float",
    "COMP-2": "double",
    "COMPUTATIONAL-2": "double",
}
_UNSUPPORTED_USAGES = {
    "NATIONAL",
    "INDEX",
    "POINTER",
    "PROCEDURE-POINTER",
    "FUNCTION-POINTER",
    "DISPLAY-1",
    "COMP-6",
    "COMPUTATIONAL-6",
    "OBJECT",
}
_FIGURATIVE: dict[str, LiteralValue] = {
    "SPACE": " ",
    "SPACES": " ",
    "ZERO": 0,
    "ZEROS": 0,
    "ZEROES": 0,
    "HIGH-VALUE": b"\xff",
    "HIGH-VALUES": b"\xff",
    "LOW-VALUE": b"\x00",
    "LOW-VALUES": b"\x00",
    "QUOTE": '"',
    "QUOTES": '"',
    "NULL": b"\x00",
    "NULLS": b"\x00",
}

LiteralValue = str | int | Decimal | bytes


@dataclass(frozen=True)
class Where:
    line: int
    column: int


@dataclass
class OccursClause:
    minimum: int
    maximum: int
    depending_on: tuple[str, ...] | None  # name, then its qualifiers (X OF Y -> ("X", "Y"))
    where: Where
    depending_where: Where | None = None


@dataclass
class Entry:
    """One data description entry as written; the layout builder gives it a place."""

    level: int
    name: str | None  # None when the entry has no name (an implicit FILLER)
    where: Where
    redefines: str | None = None
    redefines_where: Where | None = None
    picture: Picture | None = None
    picture_where: Where | None = None
    usage: str | None = None  # display | binary | native | packed | float | double
    occurs: OccursClause | None = None
    sign_leading: bool | None = None  # SIGN clause: True LEADING, False TRAILING
    sign_separate: bool = False
    sync: bool = False
    justified: bool = False
    blank_when_zero: bool = False
    values: list[tuple[LiteralValue, LiteralValue | None]] = field(default_factory=list)  # (value, THRU value)


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        tok = self.tokens[self.pos]
        if tok.kind != "end":
            self.pos += 1
        return tok

    def error(self, expected: str, tok: Token | None = None, message: str | None = None) -> CopybookSyntaxError:
        tok = tok or self.tok
        found = tok.describe()
        return CopybookSyntaxError(
            message or f"expected {expected}, found {found}",
            line=tok.line,
            column=tok.column,
            expected=expected,
            found=found,
        )

    def accept(self, *words: str) -> Token | None:
        if self.tok.kind == "word" and self.tok.upper in words:
            return self.advance()
        return None

    def expect_word(self, expected: str) -> Token:
        if self.tok.kind != "word":
            raise self.error(expected)
        return self.advance()

    def expect_int(self, expected: str) -> int:
        tok = self.tok
        if tok.kind != "word" or not is_ascii_integer(tok.text):
            raise self.error(expected)
        if len(tok.text.lstrip("0")) > MAX_INTEGER_DIGITS:
            raise self.error(expected, message=f"{tok.text} is too large for {expected}")
        self.advance()
        return int(tok.text)

    # -- entries -------------------------------------------------------------------------

    def entries(self) -> list[Entry]:
        result: list[Entry] = []
        while self.tok.kind != "end":
            if self.tok.kind == "period":  # a stray period between entries
                self.advance()
                continue
            entry = self.entry()
            if entry is not None:
                result.append(entry)
        return result

    def entry(self) -> Entry | None:
        tok = self.tok
        if tok.kind != "word" or not is_ascii_integer(tok.text) or len(tok.text.lstrip("0")) > 2:
            if tok.kind == "word" and tok.upper in ("COPY", "REPLACE", "EXEC"):
                raise self.error(
                    "a level number", message=f"{tok.upper} statements are not supported in a copybook layout"
                )
            raise self.error("a level number (01-49, 66, 77 or 88)")
        level = int(tok.text)
        if not (1 <= level <= 49 or level in (66, 77, 88)):
            raise self.error("a level number (01-49, 66, 77 or 88)")
        self.advance()
        where = Where(tok.line, tok.column)
        name: str | None = None
        if self.tok.kind == "word" and not self._is_clause_start():
            name_tok = self.advance()
            name = name_tok.text
            if name.upper() == "FILLER":
                name = None
        elif self.accept("FILLER"):
            name = None
        if level == 66:  # RENAMES describes an alternative grouping only; it adds no storage
            self._skip_to_period()
            return None
        entry = Entry(level, name, where)
        if level == 88:
            self.condition_values(entry)
        else:
            while self.tok.kind == "word":
                self.clause(entry)
        if self.tok.kind != "period":
            raise self.error("a clause or '.' ending the entry")
        self.advance()
        if level == 88 and name is None:
            raise CopybookSyntaxError(
                "a level-88 condition needs a name", line=where.line, column=where.column, expected="a condition name"
            )
        return entry

    def _is_clause_start(self) -> bool:
        word = self.tok.upper
        return word in _CLAUSE_WORDS or word in USAGES or word in _UNSUPPORTED_USAGES

    def _skip_to_period(self) -> None:
        while self.tok.kind not in ("period", "end"):
            self.advance()
        if self.tok.kind == "period":
            self.advance()

    def clause(self, entry: Entry) -> None:
        tok = self.tok
        word = tok.upper
        if word in ("PIC", "PICTURE"):
            self.advance()
            self.accept("IS")
            pic_tok = self.tok
            if pic_tok.kind != "word":
                raise self.error("a PICTURE string such as X(10) or S9(7)V99")
            self.advance()
            try:
                entry.picture = parse_picture(pic_tok.text)
            except PictureError as exc:
                of = f" of {entry.name}" if entry.name else ""
                raise CopybookSyntaxError(
                    f"bad PICTURE string {pic_tok.text!r}{of}: {exc}",
                    line=pic_tok.line,
                    column=pic_tok.column + exc.position,
                    expected="a valid PICTURE string",
                    found=pic_tok.text,
                ) from None
            entry.picture_where = Where(pic_tok.line, pic_tok.column)
        elif word == "USAGE":
            self.advance()
            self.accept("IS")
            self.usage(entry)
        elif word in USAGES or word in _UNSUPPORTED_USAGES:
            self.usage(entry)
        elif word == "REDEFINES":
            self.advance()
            target = self.expect_word("the name of the item redefined")
            entry.redefines = target.text
            entry.redefines_where = Where(target.line, target.column)
        elif word == "OCCURS":
            self.occurs(entry)
        elif word == "SIGN" or word in ("LEADING", "TRAILING"):
            self.accept("SIGN")
            self.accept("IS")
            position = self.accept("LEADING", "TRAILING")
            if position is None:
                raise self.error("LEADING or TRAILING")
            entry.sign_leading = position.upper == "LEADING"
            if self.accept("SEPARATE"):
                entry.sign_separate = True
                self.accept("CHARACTER")
        elif word in ("SYNC", "SYNCHRONIZED"):
            self.advance()
            self.accept("LEFT", "RIGHT")
            entry.sync = True
        elif word in ("JUST", "JUSTIFIED"):
            self.advance()
            self.accept("RIGHT")
            entry.justified = True
        elif word == "BLANK":
            self.advance()
            self.accept("WHEN")
            if not self.accept("ZERO", "ZEROS", "ZEROES"):
                raise self.error("ZERO after BLANK WHEN")
            entry.blank_when_zero = True
        elif word in ("VALUE", "VALUES"):
            self.advance()
            self.accept("IS", "ARE")
            self.literal("a VALUE literal")  # an initial value means nothing to a record layout
            while self._at_literal():
                self.literal("a VALUE literal")
        elif word in ("GLOBAL", "EXTERNAL", "IS"):
            self.advance()
        elif word == "DATE":  # DATE FORMAT IS pattern
            self.advance()
            self.accept("FORMAT")
            self.accept("IS")
            self.expect_word("a date format pattern")
        else:
            raise self.error("a clause (PIC, USAGE, OCCURS, REDEFINES, VALUE, SIGN, SYNC...) or '.'")

    def usage(self, entry: Entry) -> None:
        tok = self.expect_word("a USAGE such as DISPLAY, COMP, COMP-3 or BINARY")
        word = tok.upper
        if word in _UNSUPPORTED_USAGES:
            raise CopybookSyntaxError(
                f"USAGE {word} is not supported",
                line=tok.line,
                column=tok.column,
                expected="DISPLAY, COMP, COMP-1, COMP-2, COMP-3, COMP-4, COMP-5 or BINARY",
                found=tok.text,
            )
        if word not in USAGES:
            raise self.error("a USAGE such as DISPLAY, COMP, COMP-3 or BINARY", tok)
        entry.usage = USAGES[word]

    def occurs(self, entry: Entry) -> None:
        tok = self.advance()
        first = self.expect_int("the number of occurrences after OCCURS")
        minimum, maximum = first, first
        had_to = self.accept("TO") is not None
        if had_to:
            maximum = self.expect_int("the maximum number of occurrences after TO")
            if maximum < minimum:
                raise self.error(
                    "a maximum not below the minimum",
                    message=f"OCCURS {minimum} TO {maximum}: the maximum is below the minimum",
                )
        self.accept("TIMES")
        clause = OccursClause(minimum, maximum, None, Where(tok.line, tok.column))
        if self.accept("DEPENDING"):
            self.accept("ON")
            target = self.expect_word("the name of the counter after DEPENDING ON")
            names = [target.text]
            while self.accept("OF", "IN"):
                names.append(self.expect_word("a qualifier after OF/IN").text)
            clause.depending_on = tuple(names)
            clause.depending_where = Where(target.line, target.column)
            if not had_to:  # OCCURS n DEPENDING ON: any count from 0 to n
                clause.minimum = 0
        while self.tok.kind == "word" and self.tok.upper in ("ASCENDING", "DESCENDING", "INDEXED"):
            if self.accept("INDEXED"):
                self.accept("BY")
                self.expect_word("an index name after INDEXED BY")
                while (
                    self.tok.kind == "word"
                    and not self._is_clause_start()
                    and self.tok.upper not in ("ASCENDING", "DESCENDING")
                ):
                    self.advance()
            else:
                self.advance()
                self.accept("KEY")
                self.accept("IS")
                self.expect_word("a key name")
                while (
                    self.tok.kind == "word"
                    and not self._is_clause_start()
                    and self.tok.upper not in ("ASCENDING", "DESCENDING", "INDEXED")
                ):
                    self.advance()
        entry.occurs = clause

    # -- level 88 ------------------------------------------------------------------------

    def condition_values(self, entry: Entry) -> None:
        if not self.accept("VALUE", "VALUES"):
            raise self.error("VALUE after a level-88 condition name")
        self.accept("IS", "ARE")
        while True:
            low = self.literal("a condition value")
            high = None
            if self.accept("THRU", "THROUGH"):
                high = self.literal("the upper bound after THRU")
            entry.values.append((low, high))
            if not self._at_literal():
                break

    def _at_literal(self) -> bool:
        tok = self.tok
        if tok.kind in ("string", "hex"):
            return True
        if tok.kind != "word":
            return False
        return tok.upper in _FIGURATIVE or tok.upper == "ALL" or _number(tok.text) is not None

    def literal(self, expected: str) -> LiteralValue:
        tok = self.tok
        if tok.kind == "string":
            self.advance()
            return tok.text
        if tok.kind == "hex":
            self.advance()
            try:
                return bytes.fromhex(tok.text)
            except ValueError:
                raise self.error("an even number of hex digits", tok) from None
        if tok.kind == "word":
            if tok.upper == "ALL":
                self.advance()
                return self.literal("a literal after ALL")
            if tok.upper in _FIGURATIVE:
                self.advance()
                return _FIGURATIVE[tok.upper]
            number = _number(tok.text)
            if number is not None:
                self.advance()
                return number
        raise self.error(expected)


_CLAUSE_WORDS = frozenset(
    {
        "PIC",
        "PICTURE",
        "USAGE",
        "REDEFINES",
        "OCCURS",
        "SIGN",
        "LEADING",
        "TRAILING",
        "SYNC",
        "SYNCHRONIZED",
        "JUST",
        "JUSTIFIED",
        "BLANK",
        "VALUE",
        "VALUES",
        "GLOBAL",
        "EXTERNAL",
        "IS",
        "RENAMES",
    }
)


def _number(text: str) -> int | Decimal | None:
    if not text or not text.isascii() or not (text[0].isdigit() or text[0] in "+-."):
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not value.is_finite() or "e" in text.lower() or "_" in text:
        return None
    return int(value) if value == value.to_integral_value() and "." not in text else value


def parse_entries(text: str, source_format: SourceFormat = "auto") -> list[Entry]:
    """Parse copybook text into its data description entries, in order."""
    return _Parser(tokenize(source_lines(text, source_format))).entries()


__all__ = ["USAGES", "Entry", "OccursClause", "Where", "parse_entries"]

"""Copybook tokens: COBOL words (PICTURE strings included), literals and the separator period."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from legacy.copybook.source import SourceLine
from legacy.errors import CopybookSyntaxError

TokenKind = Literal["word", "string", "hex", "period", "end"]


@dataclass(frozen=True)
class Token:
    kind: TokenKind
    text: str  # a word as written; a literal's value; "." for the period
    line: int
    column: int

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else ""

    def describe(self) -> str:
        if self.kind == "end":
            return "end of copybook"
        if self.kind == "period":
            return "'.'"
        if self.kind == "string":
            return f"literal {self.text!r}"
        if self.kind == "hex":
            return f"hex literal X'{self.text}'"
        return f"'{self.text}'"


def _word_end(text: str, start: int) -> int:
    i = start
    while i < len(text) and not text[i].isspace() and text[i] not in "'\"":
        i += 1
    return i


def tokenize(lines: list[SourceLine]) -> list[Token]:
    """Split source lines into tokens; continuation lines carry on a literal or a word."""
    tokens: list[Token] = []
    open_literal: tuple[str, list[str], int, int, bool] | None = None  # quote, parts, line, col, hex
    word_at_line_end = False
    for src in lines:
        text = src.text
        i = 0
        if src.continued:
            stripped = len(text) - len(text.lstrip())
            if open_literal is not None:
                quote = open_literal[0]
                if stripped >= len(text) or text[stripped] != quote:
                    raise CopybookSyntaxError(
                        "a continued literal must go on after a quote on the continuation line",
                        line=src.number,
                        column=src.column + stripped,
                        expected=f"{quote}",
                    )
                i = stripped + 1
            elif word_at_line_end and tokens and tokens[-1].kind == "word":
                end = _word_end(text, stripped)
                last = tokens.pop()
                tokens.append(Token("word", last.text + text[stripped:end], last.line, last.column))
                i = end
        elif open_literal is not None:
            quote, _, line, column, _ = open_literal
            raise CopybookSyntaxError("literal is not closed", line=line, column=column, expected=f"closing {quote}")
        word_at_line_end = False
        while i < len(text):
            if open_literal is not None:
                quote, parts, line, column, is_hex = open_literal
                j = i
                while j < len(text):
                    if text[j] == quote:
                        if text.startswith(quote * 2, j):  # doubled quote stands for one
                            parts.append(text[i : j + 1])
                            j += 2
                            i = j
                            continue
                        break
                    j += 1
                if j >= len(text):
                    # fixed format pads a continued literal to column 72
                    parts.append(text.ljust(65)[i:] if src.column == 8 else text[i:])
                    i = len(text)
                    break
                parts.append(text[i:j])
                tokens.append(Token("hex" if is_hex else "string", "".join(parts), line, column))
                open_literal = None
                i = j + 1
                continue
            ch = text[i]
            if ch.isspace() or ch in ",;":
                i += 1
                continue
            column = src.column + i
            if ch in "'\"":
                open_literal = (ch, [], src.number, column, False)
                i += 1
                continue
            if ch in "xXzZnN" and i + 1 < len(text) and text[i + 1] in "'\"":
                open_literal = (text[i + 1], [], src.number, column, ch in "xX")
                i += 2
                continue
            end = _word_end(text, i)
            word = text[i:end]
            at_eol = end >= len(text) or text[end].isspace()
            while word and word[-1] in ",;" and at_eol:
                word = word[:-1]
            if word == ".":
                tokens.append(Token("period", ".", src.number, column))
            elif word.endswith(".") and at_eol:
                tokens.append(Token("word", word[:-1], src.number, column))
                tokens.append(Token("period", ".", src.number, column + len(word) - 1))
            elif word:
                tokens.append(Token("word", word, src.number, column))
                word_at_line_end = end >= len(text.rstrip())
            i = end
    if open_literal is not None:
        quote, _, line, column, _ = open_literal
        raise CopybookSyntaxError("literal is not closed", line=line, column=column, expected=f"closing {quote}")
    final = lines[-1] if lines else None
    tokens.append(
        Token("end", "", final.number if final else 1, (final.column + len(final.text.rstrip())) if final else 1)
    )
    return tokens


__all__ = ["Token", "TokenKind", "tokenize"]

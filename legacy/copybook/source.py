"""Copybook source lines: fixed format (sequence, indicator, areas A/B, identification) or free format.

Fixed format, as mainframe copybooks are written: columns 1-6 hold a sequence number, column 7
an indicator (``*`` or ``/`` comment, ``-`` continuation, ``D`` debugging line), columns 8-72
the text, and columns 73-80 an identification area that is ignored. Free format has none of
these: the text is the whole line, ``*>`` starts a comment, as does a ``*`` in column 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

SourceFormat = Literal["auto", "fixed", "free"]

_FREE_ENTRY = re.compile(r"^ {0,4}[0-9]{1,2}\s+[A-Za-z0-9]")


@dataclass(frozen=True)
class SourceLine:
    """The program text of one line, with where it came from."""

    number: int  # 1-based line number in the copybook
    column: int  # 1-based column of text[0]
    text: str
    continued: bool = False  # column 7 holds '-': this line continues the previous one


def _physical_lines(text: str) -> list[str]:
    # 0x1A is the DOS end-of-file mark some copybooks still carry; tabs as an editor shows them
    return [line.replace("\x1a", "").expandtabs(8).rstrip("\r\n") for line in text.replace("\r\n", "\n").split("\n")]


def detect_format(lines: list[str]) -> Literal["fixed", "free"]:
    """Free when an entry's level number starts within columns 1-5, else fixed."""
    for line in lines:
        if _FREE_ENTRY.match(line):
            return "free"
    return "fixed"


def _strip_inline_comment(text: str) -> str:
    quote = None
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "*" and text.startswith("*>", i):
            return text[:i]
    return text


def source_lines(text: str, source_format: SourceFormat = "auto") -> list[SourceLine]:
    """The lines of a copybook that hold program text, comments and sequence areas removed."""
    lines = _physical_lines(text)
    fmt = detect_format(lines) if source_format == "auto" else source_format
    result: list[SourceLine] = []
    for number, line in enumerate(lines, start=1):
        if fmt == "fixed":
            # Column 7 is the indicator; many copybooks (Cobrix's among them) also start text
            # there, so anything but an indicator in column 7 is taken as text.
            indicator = line[6:7]
            if indicator in ("*", "/", "$") or (indicator in ("D", "d") and line[7:8] in (" ", "")):
                continue
            continued = indicator == "-"
            start = 7 if continued or indicator in (" ", "D", "d", "") else 6
            body = _strip_inline_comment(line[start:72])
            if body.strip():
                result.append(SourceLine(number, start + 1, body, continued=continued))
        else:
            if line.startswith("*") or line.lstrip().startswith("*>"):
                continue
            body = _strip_inline_comment(line)
            if body.strip():
                result.append(SourceLine(number, 1, body))
    return result


__all__ = ["SourceFormat", "SourceLine", "detect_format", "source_lines"]

"""Alphanumeric fields (PIC X, PIC A): text in the layout's code page, padded with spaces."""

from __future__ import annotations

from typing import Any

from legacy.copybook.codepages import CodePage
from legacy.copybook.convert import Converter
from legacy.errors import EncodeError, InvalidTextError, RecordError

TRIMS = ("right", "none", "both", "left")


class TextConverter(Converter):
    kind = "text"

    def __init__(self, size: int, code_page: CodePage, trim: str = "right", justified: bool = False) -> None:
        if trim not in TRIMS:
            raise ValueError(f"trim is one of {', '.join(TRIMS)}, not {trim!r}")
        self.size = size
        self.code_page = code_page
        self.justified = justified
        # trailing padding is where the field pads: the left for JUSTIFIED RIGHT
        if justified and trim == "right":
            trim = "left"
        self.trim = trim
        self.pad = bytes([0x20 if code_page.table is None else code_page.space])

    def expr(self, src: str, tmp: str, env: dict[str, object]) -> str:
        text = self.code_page.decode_source(src, env)
        if self.trim == "right":
            return f"{text}.rstrip(' ')"
        if self.trim == "left":
            return f"{text}.lstrip(' ')"
        if self.trim == "both":
            return f"{text}.strip(' ')"
        return text

    def diagnose(self, data: bytes) -> RecordError:
        try:
            self.code_page.decode(data)
        except UnicodeDecodeError as exc:
            return InvalidTextError(
                f"byte 0x{data[exc.start]:02X} has no character in code page {self.code_page.name}", offset=exc.start
            )
        return super().diagnose(data)

    def lenient(self, data: bytes) -> Any:
        if self.code_page.table is None:
            text = data.decode(self.code_page.name, errors="replace")
        else:
            text = "".join(ch if ch != "\ufffe" else " " for ch in (self.code_page.table[b] for b in data))
        return {"right": text.rstrip(" "), "left": text.lstrip(" "), "both": text.strip(" ")}.get(self.trim, text)

    def encode(self, value: Any) -> bytes:
        if not isinstance(value, str):
            raise EncodeError(f"PIC X({self.size}) takes a str, not {type(value).__name__}")
        try:
            data = self.code_page.encode(value)
        except UnicodeEncodeError as exc:
            raise EncodeError(f"{value[exc.start]!r} has no byte in code page {self.code_page.name}") from None
        if len(data) > self.size:
            raise EncodeError(f"{len(data)} bytes of text do not fit PIC X({self.size})")
        padding = self.pad * (self.size - len(data))
        return padding + data if self.justified else data + padding

    def filler(self) -> bytes:
        return self.pad * self.size


__all__ = ["TRIMS", "TextConverter"]

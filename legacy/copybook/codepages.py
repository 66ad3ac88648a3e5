"""Code pages for text fields: EBCDIC through 256-character tables, ASCII family through Python codecs.

CPython ships cp037, cp273, cp500 and cp1140; the ``ebcdic`` package registers cp277-cp297,
cp1047 and cp1141-cp1149 (where both have a name, the standard library's codec wins). A code
page is turned once into a decoding table, and text is decoded with ``codecs.charmap_decode``
on that table, which is four times faster than ``bytes.decode`` through the codec registry.
"""

from __future__ import annotations

import codecs
import functools
from dataclasses import dataclass, field
from typing import Any

EBCDIC_CODE_PAGES = (
    "cp037",
    "cp273",
    "cp277",
    "cp278",
    "cp280",
    "cp284",
    "cp285",
    "cp297",
    "cp500",
    "cp1047",
    "cp1140",
    "cp1141",
    "cp1142",
    "cp1143",
    "cp1144",
    "cp1145",
    "cp1146",
    "cp1147",
    "cp1148",
    "cp1149",
)
ASCII_CODE_PAGES = ("ascii", "latin-1", "utf-8")

_ALIASES = {
    "037": "cp037",
    "ibm037": "cp037",
    "ibm-037": "cp037",
    "cp37": "cp037",
    "ibm1047": "cp1047",
    "ibm-1047": "cp1047",
    "1047": "cp1047",
    "latin1": "latin-1",
    "latin_1": "latin-1",
    "iso-8859-1": "latin-1",
    "iso8859-1": "latin-1",
    "utf8": "utf-8",
    "utf_8": "utf-8",
    "us-ascii": "ascii",
}

_UNDEFINED = "\ufffe"  # charmap_decode's marker for a byte with no character


@dataclass(frozen=True, eq=False)
class CodePage:
    """A single-byte code page (or UTF-8) used for text fields and DISPLAY numbers.

    ``ebcdic`` decides how DISPLAY numbers are stored: zoned digits F0-F9 with sign zones C/D
    (EBCDIC) or digits 0x30-0x39 with ASCII overpunch letters (ASCII family).
    """

    name: str
    ebcdic: bool
    table: str | None = None  # 256 characters; None for UTF-8, which is not single-byte
    _encoding_map: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def from_table(cls, name: str, table: str, *, ebcdic: bool = True) -> CodePage:
        """A code page from a 256-character decoding table (``"\\ufffe"`` marks a byte with none).

        Decoding is exact; encoding uses the first byte that maps to a character, so a table
        with duplicate characters (one that maps several bytes to a space, say) does not
        round-trip those bytes.
        """
        if len(table) != 256:
            raise ValueError(f"code page {name!r}: a decoding table has 256 characters, not {len(table)}")
        reverse: dict[str, int] = {}
        for byte, char in enumerate(table):
            if char != _UNDEFINED:
                reverse.setdefault(char, byte)
        encoding_map = codecs.charmap_build(
            "".join(_UNDEFINED if table[b] == _UNDEFINED or reverse[table[b]] != b else table[b] for b in range(256))
        )
        return cls(name, ebcdic, table, encoding_map)

    @property
    def space(self) -> int:
        """The byte of a space: 0x40 in EBCDIC, 0x20 otherwise."""
        return 0x40 if self.ebcdic else 0x20

    def decode(self, data: bytes) -> str:
        if self.table is None:
            return data.decode(self.name)
        return codecs.charmap_decode(data, "strict", self.table)[0]

    def encode(self, text: str) -> bytes:
        if self.table is None:
            return text.encode(self.name)
        return codecs.charmap_encode(text, "strict", self._encoding_map)[0]

    def decode_source(self, src: str, env: dict[str, object]) -> str:
        """Python source decoding the bytes expression ``src``, for generated decoders."""
        if self.table is None:
            return f"{src}.decode({self.name!r})"
        if self.name == "latin-1":
            return f"{src}.decode('latin-1')"
        key = "_T_" + "".join(ch if ch.isalnum() else "_" for ch in self.name)
        env[key] = self.table
        env["_cmd"] = codecs.charmap_decode
        return f"_cmd({src}, None, {key})[0]"


def _from_codec(name: str) -> CodePage:
    if name == "utf-8":
        return CodePage("utf-8", False, None)
    if name == "ascii":
        table = "".join(chr(b) if b < 128 else _UNDEFINED for b in range(256))
        return CodePage.from_table("ascii", table, ebcdic=False)
    if name == "latin-1":
        return CodePage.from_table("latin-1", bytes(range(256)).decode("latin-1"), ebcdic=False)
    try:
        codecs.lookup(name)
    except LookupError:
        import ebcdic  # noqa: F401  (registers the EBCDIC codecs CPython lacks)
    table = bytes(range(256)).decode(name, errors="replace").replace("\ufffd", _UNDEFINED)
    return CodePage.from_table(name, table, ebcdic=True)


@functools.cache
def _named(name: str) -> CodePage:
    return _from_codec(name)


def get_code_page(code_page: str | CodePage) -> CodePage:
    """The code page for a name such as ``"cp037"``, ``"cp1047"`` or ``"ascii"``, or a CodePage."""
    if isinstance(code_page, CodePage):
        return code_page
    name = _ALIASES.get(code_page.lower().strip(), code_page.lower().strip())
    if name not in EBCDIC_CODE_PAGES and name not in ASCII_CODE_PAGES:
        known = ", ".join(EBCDIC_CODE_PAGES + ASCII_CODE_PAGES)
        raise ValueError(f"unknown code page {code_page!r}; known: {known}")
    return _named(name)


__all__ = ["ASCII_CODE_PAGES", "EBCDIC_CODE_PAGES", "CodePage", "get_code_page"]

"""Code pages: every EBCDIC page of the issue, the characters that differ between them."""

from __future__ import annotations

import pytest

from legacy.copybook.codepages import (
    ASCII_CODE_PAGES,
    EBCDIC_CODE_PAGES,
    CodePage,
    get_code_page,
)


@pytest.mark.parametrize("name", EBCDIC_CODE_PAGES + ASCII_CODE_PAGES)
def test_every_code_page_round_trips_letters_digits_and_space(name: str) -> None:
    cp = get_code_page(name)
    text = "HELLO world 0123456789 +-.,"
    assert cp.decode(cp.encode(text)) == text
    if cp.ebcdic:
        assert cp.encode("0") == b"\xf0" and cp.encode(" ") == b"\x40" and cp.space == 0x40


@pytest.mark.parametrize(("name", "char", "byte"), [
    ("cp037", "[", 0xBA), ("cp500", "[", 0x4A), ("cp1047", "[", 0xAD),
    ("cp037", "!", 0x5A), ("cp500", "!", 0x4F), ("cp1047", "!", 0x5A),
    ("cp037", "¬", 0x5F), ("cp500", "¬", 0xBA), ("cp1047", "¬", 0xB0),
    ("cp1140", "€", 0x9F), ("cp1141", "€", 0x9F), ("cp1148", "€", 0x9F),
    ("cp273", "Ä", 0x4A), ("cp285", "£", 0x5B), ("cp297", "à", 0x7C),
])
def test_characters_that_differ_between_pages(name: str, char: str, byte: int) -> None:
    cp = get_code_page(name)
    assert cp.encode(char) == bytes([byte])
    assert cp.decode(bytes([byte])) == char


def test_euro_is_not_in_cp037() -> None:
    with pytest.raises(UnicodeEncodeError):
        get_code_page("cp037").encode("€")


def test_names_and_aliases() -> None:
    assert get_code_page("CP037") is get_code_page("ibm037")
    assert get_code_page("latin1").name == "latin-1"
    with pytest.raises(ValueError, match="unknown code page"):
        get_code_page("cp9999")


def test_custom_table() -> None:
    table = "".join(chr(b) if 0x20 <= b < 0x7F else " " for b in range(256))
    cp = CodePage.from_table("printable", table, ebcdic=False)
    assert cp.decode(b"A\x01B") == "A B"
    assert cp.encode("A B") == b"A\x00B"  # a character shown by several bytes encodes to the first
    with pytest.raises(ValueError, match="256 characters"):
        CodePage.from_table("short", "abc")

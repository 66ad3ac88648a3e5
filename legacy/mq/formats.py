"""MQ message format names (``MQMD.Format``): what the bytes after a header are."""

from __future__ import annotations

NONE = ""  # MQFMT_NONE: application bytes the queue manager does not know
STRING = "MQSTR"  # text in the message's CCSID
RF_HEADER_2 = "MQHRF2"  # an MQRFH2 header (message properties) comes first
DEAD_LETTER_HEADER = "MQDEAD"  # an MQDLH (dead-letter header) comes first


def format_field(name: str) -> bytes:
    """The 8-byte ``Format`` field for a format name (``"MQSTR"`` -> ``b"MQSTR   "``)."""
    raw = name.encode("ascii")
    if len(raw) > 8:
        raise ValueError(f"an MQ format name has at most 8 characters, got {name!r}")
    return raw.ljust(8)


def format_name(field: bytes | str, ebcdic: bool = False) -> str:
    """The format name of an 8-byte ``Format`` field (``b"MQSTR   "`` -> ``"MQSTR"``); ``ebcdic``
    when the field is in an EBCDIC code page (a z/OS header read without conversion)."""
    if isinstance(field, bytes):
        field = field.split(b"\0", 1)[0].decode("cp500" if ebcdic else "ascii", "replace")
    return field.strip()

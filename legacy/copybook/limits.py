"""Size limits of layouts and records, checked before anything of that size is allocated.

- ``MAX_DIGITS`` (38): digit positions of a numeric item, zoned, packed, binary or edited.
  IBM Enterprise COBOL allows 18 (31 with ARITH(EXTEND)) for decimal items and 18 for
  binary ones; Micro Focus allows 38, and real files (Cobrix's test data among them) carry
  37-digit binary and packed fields, so the codec reads what a DECIMAL(38) holds.
- ``MAX_EDITED_POSITIONS`` (249): character positions of a numeric or numeric-edited
  PICTURE, IBM's limit for numeric-edited items (and far above any numeric one).
- ``DEFAULT_MAX_RECORD_LENGTH`` (16 MiB): the largest record a layout may describe and the
  longest text record read; ``parse_copybook(max_record_length=...)`` changes it. IBM allows
  a data item of up to 999,999,999 bytes, far more than one message should hold: a layout
  that large is a typo (``PIC X(1000000000)``, ``OCCURS 100000000``) that would otherwise
  allocate gigabytes. Every item takes at least one byte, so this also bounds OCCURS counts.
- ``MAX_INTEGER_DIGITS`` (18): digits of an OCCURS count or PICTURE repeat count as written,
  so that ``int()`` never sees 5,000 of them; any count that size is then refused by the
  record length.
"""

from __future__ import annotations

MAX_DIGITS = 38
MAX_EDITED_POSITIONS = 249
DEFAULT_MAX_RECORD_LENGTH = 16 * 1024 * 1024
MAX_INTEGER_DIGITS = 18


def is_ascii_integer(text: str) -> bool:
    """True for a string of ASCII digits (``str.isdigit`` also takes ``٠٥``, ``０５`` and ``²``)."""
    return text.isascii() and text.isdigit()


__all__ = ["DEFAULT_MAX_RECORD_LENGTH", "MAX_DIGITS", "MAX_EDITED_POSITIONS", "MAX_INTEGER_DIGITS", "is_ascii_integer"]

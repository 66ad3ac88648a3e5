"""COBOL copybook layouts: parse a copybook, then decode and encode its records."""

from __future__ import annotations

from legacy.copybook.codepages import CodePage, get_code_page
from legacy.copybook.layout import Layout, load_copybook, parse_copybook
from legacy.copybook.model import Condition, Field, Occurs
from legacy.copybook.picture import Picture, parse_picture

__all__ = [
    "CodePage",
    "Condition",
    "Field",
    "Layout",
    "Occurs",
    "Picture",
    "get_code_page",
    "load_copybook",
    "parse_copybook",
    "parse_picture",
]

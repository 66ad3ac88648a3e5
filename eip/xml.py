"""The one safe XML parser configuration every part of the engine uses.

No entity expansion (billion laughs), no DTD loading, no network access (XXE), no huge trees.
"""

from __future__ import annotations

import threading
from typing import Any

from lxml import etree

_local = threading.local()


def safe_parser() -> etree.XMLParser:
    """This thread's safe parser (lxml parsers must not be used by two threads at once)."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                                 dtd_validation=False, huge_tree=False, remove_blank_text=False)
        _local.parser = parser
    return parser


def parse_xml(data: str | bytes) -> Any:
    """Parse a document with the safe parser and return its root element.

    Raises ``lxml.etree.XMLSyntaxError`` for malformed input and for documents that declare
    entities (rejected rather than silently left unexpanded)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    root = etree.fromstring(data, safe_parser())
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None and _declares_entities(root):
        raise etree.XMLSyntaxError("entity declarations are not allowed", None, 0, 0)
    return root


def _declares_entities(root: Any) -> bool:
    dtd = root.getroottree().docinfo.internalDTD
    return dtd is not None and any(True for _ in dtd.iterentities())

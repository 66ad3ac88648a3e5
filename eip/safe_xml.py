"""The one safe XML parser configuration every part of the engine uses.

No entity expansion (billion laughs), no DTD loading, no network access (XXE), no huge trees.
A document that declares entities (``<!ENTITY ...>``, general or parameter, internal or
external) or refers to an external DTD (``<!DOCTYPE x SYSTEM "...">``) is rejected with
:class:`UnsafeXmlError` rather than parsed with the declarations silently ignored: nothing is
ever fetched, and the sender learns why. A plain ``<!DOCTYPE root>`` or an internal subset
with element declarations only is harmless and accepted.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from lxml import etree

from eip.errors import EipError

_local = threading.local()
# An entity declaration in the internal subset, for documents libxml2 refuses before we can look
# at their DTD (it stops a billion-laughs document itself, with a less telling message).
_ENTITY_DECLARATION = re.compile(rb"<!DOCTYPE[^\[>]*\[[^\]]*?<!ENTITY\s+(?:%\s+)?([^\s\"'>]+)", re.DOTALL)


class UnsafeXmlError(EipError, etree.XMLSyntaxError):
    """The safe parser rejected a document: it declares entities (XXE, entity expansion) or
    refers to an external DTD. Also an ``lxml.etree.XMLSyntaxError``, so code that handles
    malformed XML handles this too."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(f"unsafe XML rejected: {message}", 0, line, column)


def safe_parser() -> etree.XMLParser:
    """This thread's safe parser (lxml parsers must not be used by two threads at once)."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_blank_text=False,
        )
        _local.parser = parser
    return parser


def parse_xml(data: str | bytes) -> Any:
    """Parse a document with the safe parser and return its root element.

    Raises ``lxml.etree.XMLSyntaxError`` for malformed input and :class:`UnsafeXmlError` (a
    subclass) for documents that declare entities or refer to an external DTD."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    try:
        root = etree.fromstring(data, safe_parser())
    except etree.XMLSyntaxError as exc:
        declared = _ENTITY_DECLARATION.search(data, 0, 65536)
        if declared is not None:
            raise UnsafeXmlError(_entities_refused(declared.group(1).decode("utf-8", "replace"))) from exc
        raise
    docinfo = root.getroottree().docinfo
    if docinfo.doctype:
        check_doctype(docinfo)
    return root


def check_doctype(docinfo: Any) -> None:
    """Raise :class:`UnsafeXmlError` for entity declarations or an external DTD reference."""
    if docinfo.system_url or docinfo.public_id:
        where = docinfo.system_url or docinfo.public_id
        raise UnsafeXmlError(
            f"the document refers to an external DTD ({where!r}); external DTDs are "
            "never fetched, and documents that need one are not accepted"
        )
    dtd = docinfo.internalDTD
    if dtd is not None:
        for entity in dtd.iterentities():
            raise UnsafeXmlError(_entities_refused(entity.name))


def _entities_refused(name: str) -> str:
    return (
        f"the document declares entity {name!r}; entity declarations are not allowed (protection "
        "against XXE and entity expansion such as billion laughs)"
    )

"""SOAP envelope facts shared by the producer and the consumer: namespaces, fault codes, the
Fault envelope (built with lxml elements: zeep has no server-side fault builder) and the
conversion of a fault's ``detail`` element into plain Python values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree

SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
ENVELOPE_NS = {"1.1": SOAP11_ENV, "1.2": SOAP12_ENV}
VERSION_OF = {SOAP11_ENV: "1.1", SOAP12_ENV: "1.2"}
CONTENT_TYPE = {"1.1": "text/xml; charset=utf-8", "1.2": "application/soap+xml; charset=utf-8"}
XML_NS = "http://www.w3.org/XML/1998/namespace"

# SOAP 1.1 code -> SOAP 1.2 code, and back.
_TO_12 = {
    "Client": "Sender",
    "Server": "Receiver",
    "VersionMismatch": "VersionMismatch",
    "MustUnderstand": "MustUnderstand",
    "DataEncodingUnknown": "DataEncodingUnknown",
}
_TO_11 = {"Sender": "Client", "Receiver": "Server"}


def local_code(code: Any) -> str:
    """``Client.UnknownSymbol`` from ``soap11env:Client.UnknownSymbol`` or ``{ns}Client``."""
    if code is None:
        return "Server"
    if isinstance(code, etree.QName):
        return code.localname
    text = str(code).strip()
    if text.startswith("{"):
        return text.partition("}")[2] or "Server"
    return text.rpartition(":")[2] or "Server"


def is_client_code(code: str) -> bool:
    return code.split(".", 1)[0] in ("Client", "Sender")


def fault_status(version: str, code: str) -> int:
    """HTTP status of a Fault: always 500 in SOAP 1.1; in SOAP 1.2 400 for a Sender fault."""
    if version == "1.2" and is_client_code(code):
        return 400
    return 500


def fault_envelope(
    version: str,
    code: str,
    string: str,
    *,
    actor: str | None = None,
    detail: Any = None,
    subcode_namespace: str | None = None,
) -> bytes:
    """A complete Fault envelope for ``version`` (``1.1`` or ``1.2``) as UTF-8 bytes.

    ``code`` is a local code such as ``Client``, ``Server.Database`` or ``Sender`` (mapped to the
    version's names; a dotted suffix becomes a 1.1 dotted code or a 1.2 subcode in
    ``subcode_namespace``). ``detail``: None, text, a mapping (child elements, nested mappings
    and lists allowed) or an lxml element (copied in)."""
    ns = ENVELOPE_NS[version]
    envelope = etree.Element(f"{{{ns}}}Envelope", nsmap={"soap": ns})
    body = etree.SubElement(envelope, f"{{{ns}}}Body")
    fault = etree.SubElement(body, f"{{{ns}}}Fault")
    base, _, rest = code.partition(".")
    if version == "1.1":
        base = _TO_11.get(base, base)
        etree.SubElement(fault, "faultcode").text = f"soap:{base}{'.' + rest if rest else ''}"
        etree.SubElement(fault, "faultstring").text = _xml_text(string)
        if actor:
            etree.SubElement(fault, "faultactor").text = _xml_text(actor)
        if detail is not None:
            _fill(etree.SubElement(fault, "detail"), detail)
    else:
        base = _TO_12.get(base, "Receiver")
        code_el = etree.SubElement(fault, f"{{{ns}}}Code")
        etree.SubElement(code_el, f"{{{ns}}}Value").text = f"soap:{base}"
        parent = code_el
        for name in (part for part in rest.split(".") if part):
            parent = etree.SubElement(parent, f"{{{ns}}}Subcode")
            value = etree.SubElement(
                parent, f"{{{ns}}}Value", nsmap={"sub": subcode_namespace} if subcode_namespace else None
            )
            value.text = f"sub:{name}" if subcode_namespace else name
        reason = etree.SubElement(fault, f"{{{ns}}}Reason")
        text = etree.SubElement(reason, f"{{{ns}}}Text")
        text.set(f"{{{XML_NS}}}lang", "en")
        text.text = _xml_text(string)
        if actor:
            etree.SubElement(fault, f"{{{ns}}}Role").text = _xml_text(actor)
        if detail is not None:
            _fill(etree.SubElement(fault, f"{{{ns}}}Detail"), detail)
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def _fill(parent: Any, value: Any) -> None:
    if isinstance(value, etree._Element):
        if etree.QName(value).localname.lower() == "detail":
            parent.text = value.text
            for child in value:
                parent.append(_copy(child))
        else:
            parent.append(_copy(value))
    elif isinstance(value, Mapping):
        for name, item in value.items():
            for one in item if isinstance(item, (list, tuple)) else (item,):
                child = etree.SubElement(parent, _element_name(str(name)))
                if one is not None:
                    _fill(child, one)
    elif value is not None:
        parent.text = _xml_text(value if isinstance(value, str) else _text_of(value))


def _copy(element: Any) -> Any:
    import copy

    return copy.deepcopy(element)


def _text_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _element_name(name: str) -> str:
    try:
        etree.QName(name)
        return name
    except ValueError:
        return "item"


def _xml_text(value: str) -> str:
    """``value`` without the characters XML 1.0 cannot carry (a message may hold any text)."""
    return "".join(
        ch
        for ch in str(value)
        if ch in "\t\n\r" or (" " <= ch <= "\ud7ff") or ("\ue000" <= ch <= "\ufffd") or ch > "\uffff"
    )


def plain(value: Any) -> Any:
    """A zeep value (CompoundValue, lists of them) as plain dicts, lists and scalars."""
    if value is None or isinstance(value, (str, int, float, bytes)):
        return value
    from zeep.helpers import serialize_object

    return serialize_object(value, dict)


def detail_value(detail: Any) -> Any:
    """A fault's ``detail`` element as plain values: None when absent or empty, the text when it
    has no child elements, else a dict of its children by local name (see ``element_value``)."""
    if detail is None:
        return None
    if not isinstance(detail, etree._Element):
        return detail
    children = [child for child in detail if isinstance(child.tag, str)]
    if not children:
        text = (detail.text or "").strip()
        return text or None
    return element_value(detail)


def element_value(element: Any) -> Any:
    """An element as plain values: its text (None if empty) when it has no child elements,
    else a dict ``{local name: value}``, repeated names collected in a list."""
    children = [child for child in element if isinstance(child.tag, str)]
    if not children:
        return element.text
    result: dict[str, Any] = {}
    for child in children:
        name = etree.QName(child).localname
        value = element_value(child)
        if name in result:
            existing = result[name]
            if isinstance(existing, list):
                existing.append(value)
            else:
                result[name] = [existing, value]
        else:
            result[name] = value
    return result

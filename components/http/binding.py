"""How HTTP bodies and headers map to and from messages; shared by the consumer and the producer.

Bodies in (a request the consumer receives, a response the producer gets), by media type:

* empty -> ``None``;
* ``application/json``, ``*/*+json`` -> ``dict``/``list`` (``json.loads``);
* ``application/xml``, ``text/xml``, ``*/*+xml`` -> an lxml element, through ``eip.safe_xml``
  (entity declarations and external DTDs are refused);
* any other ``text/*`` -> ``str`` (the ``charset`` parameter, else UTF-8);
* anything else -> ``bytes``. With ``parse_body=false`` every body stays ``bytes``.

Bodies out (the consumer's reply, the producer's request), by the body's type:

* ``dict``/``list`` (and numbers, booleans) -> JSON (``Decimal`` exact), ``application/json``;
  a ``dict`` with ``Content-Type: application/x-www-form-urlencoded`` -> a form;
* an lxml element or tree -> XML with a declaration, ``application/xml``;
* ``str`` -> UTF-8 (or the header's ``charset``), ``text/plain; charset=utf-8``;
* ``bytes`` (or a ``FileBody``) -> as is, ``application/octet-stream``.

A ``Content-Type`` header the route set wins, except that a JSON or XML body is always written
in its format: the header is used only when it names a type of that format
(``application/vnd.acme+json``), so a stale ``Content-Type`` never mislabels the body.

Headers: ``Camel*`` headers never cross HTTP in either direction, nor do hop-by-hop headers
(``Connection``, ``Transfer-Encoding``, ...), ``Host`` and ``Content-Length``. Only headers
with a ``str``, number or boolean value (or a list of them) are written; a value holding a line
break is dropped (header injection). Which headers of an inbound request the producer sends on
is ``eip.header_filter``'s rule.
"""

from __future__ import annotations

import decimal
import json
import logging
import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlencode

from eip.dataformat import JsonDataFormat
from eip.header_filter import Inbound, is_inbound

log = logging.getLogger("components.http")

OCTET_STREAM = "application/octet-stream"
TEXT_PLAIN = "text/plain; charset=utf-8"
APPLICATION_JSON = "application/json"
APPLICATION_XML = "application/xml"
FORM = "application/x-www-form-urlencoded"

#: Never copied between a message and HTTP: connection-level headers and what the body decides.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "host",
        "expect",
    }
)

_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_JSON = JsonDataFormat()


class BodyParseError(ValueError):
    """A body does not parse as its media type says (malformed JSON or XML, bad charset)."""


def parse_content_type(value: Any) -> tuple[str, str | None]:
    """``("application/json", "utf-8")`` from ``application/json; charset=UTF-8``."""
    if not value:
        return "", None
    mimetype, _, params = str(value).partition(";")
    charset = None
    for param in params.split(";"):
        name, _, val = param.partition("=")
        if name.strip().lower() == "charset":
            charset = val.strip().strip('"').lower() or None
    return mimetype.strip().lower(), charset


def is_json(mimetype: str) -> bool:
    return mimetype == APPLICATION_JSON or mimetype.endswith("+json")


def is_xml(mimetype: str) -> bool:
    return mimetype in (APPLICATION_XML, "text/xml") or mimetype.endswith("+xml")


def decode_body(data: bytes, content_type: Any, parse: bool = True) -> Any:
    """The message body for HTTP content ``data`` of ``content_type`` (see the module docstring)."""
    if not data:
        return None
    if not parse:
        return data
    mimetype, charset = parse_content_type(content_type)
    if is_json(mimetype):
        try:
            return json.loads(data.decode(charset) if charset else data)
        except (ValueError, RecursionError, LookupError) as exc:
            raise BodyParseError(f"malformed JSON body: {_short(exc)}") from None
    if is_xml(mimetype):
        from lxml import etree

        from eip.safe_xml import parse_xml

        try:
            return parse_xml(data)
        except etree.XMLSyntaxError as exc:
            raise BodyParseError(f"malformed XML body: {_short(exc)}") from None
    if mimetype.startswith("text/"):
        try:
            return data.decode(charset or "utf-8")
        except (UnicodeDecodeError, LookupError) as exc:
            raise BodyParseError(f"text body does not decode as {charset or 'utf-8'}: {_short(exc)}") from None
    return data


def encode_body(body: Any, content_type: str | None) -> tuple[bytes | None, str | None]:
    """HTTP content and its ``Content-Type`` for a message body; ``content_type`` is the header
    the route set (or None). Raises TypeError for a body HTTP cannot carry."""
    if body is None:
        return None, content_type
    if hasattr(body, "read_bytes") and not isinstance(body, (str, bytes)):
        body = body.read_bytes()  # a FileBody
    mimetype, charset = parse_content_type(content_type)
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body), content_type or OCTET_STREAM
    if isinstance(body, str):
        if content_type is None:
            return body.encode("utf-8"), TEXT_PLAIN
        try:
            return body.encode(charset or "utf-8"), content_type
        except LookupError:
            raise TypeError(f"unknown charset {charset!r} in Content-Type {content_type!r}") from None
    if _is_xml_node(body):
        from lxml import etree

        data = etree.tostring(body, encoding="UTF-8", xml_declaration=True)
        return data, content_type if is_xml(mimetype) else APPLICATION_XML
    if isinstance(body, Mapping) and mimetype == FORM:
        return urlencode(list(body.items()), doseq=True).encode("ascii"), content_type
    if isinstance(body, (Mapping, list, tuple, int, float, decimal.Decimal)):
        try:
            data = _JSON.marshal(None, body)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"the body cannot be written as JSON: {exc}") from None
        return data, content_type if is_json(mimetype) else APPLICATION_JSON
    raise TypeError(
        f"a {type(body).__name__} body cannot be sent over HTTP; use str, bytes, a dict or "
        "list (JSON) or an lxml element (XML)"
    )


def _is_xml_node(value: Any) -> bool:
    module = type(value).__module__
    if not module.startswith("lxml"):
        return False
    from lxml import etree

    return isinstance(value, (etree._Element, etree._ElementTree))


def header_values(value: Any) -> list[str]:
    """The text of a header value for HTTP (several for a list); empty when it cannot be sent."""
    if isinstance(value, (list, tuple)):
        return [text for item in value if not isinstance(item, (list, tuple)) for text in header_values(item)]
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = value
    elif isinstance(value, (int, float, decimal.Decimal)):
        text = str(value)
    else:
        return []
    if "\r" in text or "\n" in text or "\0" in text:
        return []
    return [text]


def outbound_headers(
    headers: Mapping[str, Any], inbound: Inbound | None, skip: frozenset[str]
) -> Iterator[tuple[str, str]]:
    """``(name, value)`` pairs of the message headers to put on HTTP: not ``Camel*``, not in
    ``skip``, not unchanged from the inbound request, with a value HTTP can carry."""
    for name, value in headers.items():
        lower = name.lower()
        if lower.startswith("camel") or lower in skip or not _TOKEN.match(name):
            continue
        if is_inbound(name, value, inbound):
            continue
        for text in header_values(value):
            yield name, text


def route_content_type(headers: Mapping[str, Any], inbound: Inbound | None) -> str | None:
    """The ``Content-Type`` header when the route set it (not the request's own), else None."""
    value = headers.get("Content-Type")
    if value is None or is_inbound("Content-Type", value, inbound):
        return None
    values = header_values(value)
    return values[0] if values else None


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 200 else text[:200] + "..."

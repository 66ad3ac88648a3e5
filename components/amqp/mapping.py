"""AMQP messages to and from exchanges: bodies by type and content type, properties as headers.

Publishing (``to_amqp``):

* a ``dict`` or ``list`` body (and ``int``, ``float``, ``bool``) is written as JSON in UTF-8
  with content type ``application/json``; a ``str`` as UTF-8 with ``text/plain`` (and content
  encoding ``utf-8``, as Spring AMQP does); ``bytes`` as they are; ``None`` as an empty body;
  anything else with ``__bytes__`` through ``bytes()``. A ``CamelRabbitmqContentType`` header
  replaces the default content type of str and bytes bodies, and of JSON bodies when it names a
  JSON type (``application/vnd.x+json``).
* the headers named in ``PROPERTY_HEADERS`` become the AMQP properties (message id, correlation
  id, reply-to, content type and encoding, timestamp, priority, expiration, type, app id); the
  delivery mode comes from the endpoint's ``persistent`` option only. Every other header goes
  into the AMQP headers table, except the consumer-only ones (``CONSUMER_ONLY_HEADERS``).
  The producer first leaves out what ``eip.header_filter`` refuses: the headers an inbound
  HTTP request brought (none by default, ``forward_headers`` names some, never credentials), and
  the control headers (``is_control_header``: ``CONTROL_HEADERS`` and every header above that sets
  a property) that still hold what an MQ message (another protocol) came with, so an RFH2
  property cannot add ``CC`` queues or set the priority, expiration or reply-to. Those the
  route set, and those an AMQP consumer received (a bridge), go through.
  Table values keep their type when AMQP has one (str, bytes, bool, int, Decimal, datetime,
  lists and dicts of those, None); a float is sent as its text (pika writes no doubles) and
  any other value as ``str(value)``.

Consuming (``from_amqp``): the body arrives as bytes and is decoded by ``body_type``:

* ``auto`` (default): content type ``application/json`` or ``*+json`` -> ``json.loads``;
  ``text/*`` -> ``str``; anything else (or no content type) stays ``bytes``;
* ``text`` / ``json``: decode whatever the content type says; ``bytes``: never decode.

The charset is the content type's ``charset=`` parameter, else the content encoding when it
names a codec, else UTF-8. Decoding never fails a delivery: a body that does not decode as its
content type claims (a poison message) stays ``bytes``, so ``unmarshal("json")`` in the route
raises and the route's error handler decides (dead letter channel, with the cause).
"""

from __future__ import annotations

import codecs
import datetime as _dt
import decimal
import json
from collections.abc import Mapping
from typing import Any

import pika

from eip import constants as c
from eip.dataformat import JsonDataFormat
from eip.errors import TypeConversionError

#: Header name -> AMQP property, both ways.
PROPERTY_HEADERS: dict[str, str] = {
    c.AMQP_MESSAGE_ID: "message_id",
    c.AMQP_CORRELATION_ID: "correlation_id",
    c.AMQP_REPLY_TO: "reply_to",
    c.AMQP_CONTENT_TYPE: "content_type",
    c.AMQP_CONTENT_ENCODING: "content_encoding",
    c.AMQP_TIMESTAMP: "timestamp",
    c.AMQP_PRIORITY: "priority",
    c.AMQP_EXPIRATION: "expiration",
    c.AMQP_TYPE: "type",
    c.AMQP_APP_ID: "app_id",
}
#: Set by the consumer, never published (delivery facts, or properties the broker checks).
CONSUMER_ONLY_HEADERS = (
    c.AMQP_USER_ID,
    c.AMQP_DELIVERY_MODE,
    c.AMQP_EXCHANGE_NAME,
    c.AMQP_ROUTING_KEY,
    c.AMQP_DELIVERY_TAG,
    c.AMQP_REDELIVERED,
)

#: Headers a broker acts on or owns: what another protocol received may never set them
#: (``eip.header_filter``); ``CC``/``BCC`` route copies to more queues (RabbitMQ sender-selected
#: distribution), ``x-delay`` holds a message back (delayed-message exchange), the ``x-*death*``
#: and ``x-delivery-count`` ones are the broker's dead-letter and redelivery records,
#: ``x-stream-filter-value`` is what stream filters match.
CONTROL_HEADERS = frozenset(
    {
        "cc",
        "bcc",
        "x-delay",
        "x-death",
        "x-first-death-exchange",
        "x-first-death-queue",
        "x-first-death-reason",
        "x-last-death-exchange",
        "x-last-death-queue",
        "x-last-death-reason",
        "x-delivery-count",
        "x-stream-filter-value",
    }
)
#: The protocol name consumers record what they received under (``eip.header_filter.Inbound``).
PROTOCOL = "amqp"

_OUT_PROPERTY = {name.lower(): prop for name, prop in PROPERTY_HEADERS.items()}
_SKIP = frozenset(name.lower() for name in CONSUMER_ONLY_HEADERS)
_IN_PROPERTY = tuple((prop, name) for name, prop in PROPERTY_HEADERS.items() if prop != "timestamp")
_JSON = JsonDataFormat()
_JSON_TYPE = "application/json"
_TEXT_TYPE = "text/plain"
_UTF8 = "utf-8"
_Properties = pika.BasicProperties
BODY_TYPES = ("auto", "bytes", "text", "json")


def encode_body(body: Any) -> tuple[bytes, str | None]:
    """The bytes to publish and the content type they imply (None for raw bytes)."""
    cls = body.__class__
    if cls is bytes:
        return body, None
    if cls is str:
        return body.encode(_UTF8), _TEXT_TYPE
    if cls is dict or cls is list or isinstance(body, (dict, list, int, float)):
        try:
            return _JSON.marshal(None, body), _JSON_TYPE
        except (TypeError, ValueError) as exc:
            raise TypeConversionError(f"cannot publish the body as JSON: {exc}") from exc
    if body is None:
        return b"", None
    if isinstance(body, (bytearray, memoryview)):
        return bytes(body), None
    if isinstance(body, str):
        return body.encode(_UTF8), _TEXT_TYPE
    if hasattr(body, "__bytes__"):
        return bytes(body), None
    raise TypeConversionError(
        f"cannot publish a body of type {cls.__name__}: convert it to bytes, "
        "str, dict or list first (convert_body_to, marshal)"
    )


def is_control_header(name: str) -> bool:
    """True for a header that sets an AMQP property or that the broker acts on."""
    lowered = name.lower()
    return lowered in CONTROL_HEADERS or lowered in _OUT_PROPERTY or lowered in _SKIP


def to_amqp(body: Any, headers: Mapping[str, Any], persistent: bool) -> tuple[bytes, pika.BasicProperties]:
    """``(payload, properties)`` for a message with ``body`` and ``headers`` (see the module doc)."""
    payload, content_type = encode_body(body)
    props: dict[str, Any] = {}
    table: dict[str, Any] | None = None
    for name, value in headers.items():
        lowered = name.lower()
        prop = _OUT_PROPERTY.get(lowered)
        if prop is not None:
            if value is not None:
                props[prop] = value
        elif lowered not in _SKIP:
            if table is None:
                table = {}
            table[name] = _table_value(value)
    if content_type is not None:  # we encoded text: say so, unless the header names a fitting type
        given = props.get("content_type")
        if given is None or (content_type is _JSON_TYPE and not _is_json(str(given))):
            props["content_type"] = content_type
        props["content_encoding"] = _UTF8
    if props:
        _coerce_properties(props)
    return payload, _Properties(delivery_mode=2 if persistent else 1, headers=table, **props)


def _is_json(content_type: str) -> bool:
    mime = content_type.partition(";")[0].strip().lower()
    return mime == _JSON_TYPE or mime.endswith("+json")


def _coerce_properties(props: dict[str, Any]) -> None:
    timestamp = props.get("timestamp")
    if timestamp is not None:
        props["timestamp"] = int(timestamp.timestamp() if isinstance(timestamp, _dt.datetime) else timestamp)
    for name in ("priority",):
        if name in props:
            props[name] = int(props[name])
    for name in (
        "message_id",
        "correlation_id",
        "reply_to",
        "expiration",
        "type",
        "app_id",
        "content_type",
        "content_encoding",
    ):
        value = props.get(name)
        if value is not None and value.__class__ is not str:
            props[name] = str(value)


def _table_value(value: Any) -> Any:
    if value is None or isinstance(value, (str, bytes, bool, decimal.Decimal, _dt.datetime)):
        return value
    if isinstance(value, int):
        return value if -(1 << 63) <= value < (1 << 63) else str(value)
    if isinstance(value, dict):
        return {str(k): _table_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_table_value(v) for v in value]
    return str(value)


def from_amqp(method: Any, props: pika.BasicProperties, body: bytes, body_type: str) -> tuple[Any, dict[str, Any]]:
    """``(body, headers)`` of a delivered message (see the module doc)."""
    headers = properties_to_headers(props)
    headers[c.AMQP_EXCHANGE_NAME] = method.exchange
    headers[c.AMQP_ROUTING_KEY] = method.routing_key
    headers[c.AMQP_DELIVERY_TAG] = method.delivery_tag
    headers[c.AMQP_REDELIVERED] = method.redelivered
    if body_type != "bytes":
        body = decode_body(body, props.content_type, props.content_encoding, body_type)
    return body, headers


def properties_to_headers(props: pika.BasicProperties) -> dict[str, Any]:
    """The headers table and the properties of a message as exchange headers."""
    headers: dict[str, Any] = dict(props.headers) if props.headers else {}
    for prop, name in _IN_PROPERTY:
        value = getattr(props, prop)
        if value is not None:
            headers[name] = value
    if props.timestamp is not None:
        headers[c.AMQP_TIMESTAMP] = _dt.datetime.fromtimestamp(props.timestamp, _dt.UTC)
    if props.delivery_mode is not None:
        headers[c.AMQP_DELIVERY_MODE] = props.delivery_mode
    if props.user_id is not None:
        headers[c.AMQP_USER_ID] = props.user_id
    return headers


def decode_body(body: bytes, content_type: str | None, content_encoding: str | None, body_type: str) -> Any:
    """The body as the content type (or ``body_type``) says, or the bytes when it does not decode."""
    kind = body_type
    params = ""
    if content_type:
        mime, _, params = content_type.partition(";")
        if kind == "auto":
            if _is_json(mime):
                kind = "json"
            elif mime.strip().lower().startswith("text/"):
                kind = "text"
    if kind == "auto" or kind == "bytes":
        return body
    try:
        text = body.decode(_charset(params, content_encoding))
        return json.loads(text) if kind == "json" else text
    except (ValueError, LookupError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return body


def _charset(params: str, content_encoding: str | None) -> str:
    if params:
        for part in params.split(";"):
            key, _, value = part.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                return value.strip().strip('"')
    if content_encoding:
        try:
            return codecs.lookup(content_encoding).name
        except LookupError:
            pass
    return _UTF8

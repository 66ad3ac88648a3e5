"""Exchanges and messages as JSON text for durable repositories (never pickle).

What is kept:

* the body, which must be made of JSON types (None, bool, int, float, str, list, dict with
  text keys) or of these, tagged so they come back as the same type: tuple, set, frozenset,
  bytes (bytearray comes back as bytes), dict with other keys, ``Decimal``, ``datetime``,
  ``date``, ``time``, ``UUID``, nested ``Exchange`` and ``Message`` objects (the body of
  ``group_exchanges``) and exceptions (see below). Any other body type is an error
  (``TypeConversionError`` naming the path of the offending value): a body is never dropped;
* headers and exchange properties whose values are of those types; **any other header or
  property is silently left out** (a file handle, a repository, a lock...);
* the exchange id, pattern, message id, ``from_route_id``, ``from_endpoint``, ``rollback_only``;
* an exception (``exchange.exception`` or a value) as its class name and text: it comes back
  as the same class when that is a built-in exception, else as an ``ExchangeError`` whose text
  names the original class.

Not kept: the unit of work, ``route_stop``, exception tracebacks, attributes and causes.

Keys are written by ``encode_key``: canonical JSON (sorted, no spaces), so ``1`` and ``"1"``
are different keys and a tuple key comes back as a tuple.
"""

from __future__ import annotations

import base64
import builtins
import datetime as dt
import json
import uuid
from collections.abc import Hashable, Mapping
from decimal import Decimal
from typing import Any

from eip.errors import ExchangeError, TypeConversionError
from eip.exchange import Exchange, ExchangePattern
from eip.message import Headers, Message

TAG = "$eip"
FORMAT = 1


class Unencodable(TypeError):
    """A value that JSON cannot hold; ``path`` says where it is (``body[2]["x"]``)."""

    def __init__(self, path: str, value: Any) -> None:
        self.path = path
        self.type_name = type(value).__qualname__
        super().__init__(f"{path} is of type {self.type_name}, which cannot be stored as JSON")


def encode(value: Any, path: str = "value") -> Any:
    """``value`` as JSON-ready data (tagged where JSON has no such type); raises ``Unencodable``."""
    if value is None or value.__class__ in (str, int, float, bool):
        return value
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        # str/int/float subclasses (enums, ...) are kept as their plain value.
        for plain in (str, int, float):
            if isinstance(value, plain):
                return plain(value)
    if isinstance(value, list):
        return [encode(item, f"{path}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, Mapping) and not isinstance(value, Headers):
        if all(k.__class__ is str for k in value) and TAG not in value:
            return {k: encode(v, f"{path}[{k!r}]") for k, v in value.items()}
        return {
            TAG: "dict",
            "items": [[encode(k, f"{path}.key"), encode(v, f"{path}[{k!r}]")] for k, v in value.items()],
        }
    if isinstance(value, Headers):
        return {TAG: "dict", "items": [[k, encode(v, f"{path}[{k!r}]")] for k, v in value.items()]}
    if isinstance(value, tuple):
        return {TAG: "tuple", "items": [encode(item, f"{path}[{index}]") for index, item in enumerate(value)]}
    if isinstance(value, (set, frozenset)):
        kind = "set" if isinstance(value, set) else "frozenset"
        return {TAG: kind, "items": [encode(item, f"{path}.item") for item in value]}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {TAG: "bytes", "base64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, Decimal):
        return {TAG: "decimal", "value": str(value)}
    if isinstance(value, dt.datetime):
        return {TAG: "datetime", "value": value.isoformat()}
    if isinstance(value, dt.date):
        return {TAG: "date", "value": value.isoformat()}
    if isinstance(value, dt.time):
        return {TAG: "time", "value": value.isoformat()}
    if isinstance(value, uuid.UUID):
        return {TAG: "uuid", "value": str(value)}
    if isinstance(value, Exchange):
        return {TAG: "exchange", **exchange_to_data(value, path)}
    if isinstance(value, Message):
        return {TAG: "message", **message_to_data(value, path)}
    if isinstance(value, BaseException):
        cls = type(value)
        return {TAG: "exception", "type": f"{cls.__module__}.{cls.__qualname__}", "message": str(value)}
    raise Unencodable(path, value)


def decode(data: Any) -> Any:
    """The value ``encode`` wrote."""
    if isinstance(data, list):
        return [decode(item) for item in data]
    if not isinstance(data, dict):
        return data
    tag = data.get(TAG)
    if tag is None:
        return {k: decode(v) for k, v in data.items()}
    if tag == "dict":
        return {_hashable(decode(k)): decode(v) for k, v in data["items"]}
    if tag == "tuple":
        return tuple(decode(item) for item in data["items"])
    if tag == "set":
        return {_hashable(decode(item)) for item in data["items"]}
    if tag == "frozenset":
        return frozenset(_hashable(decode(item)) for item in data["items"])
    if tag == "bytes":
        return base64.b64decode(data["base64"])
    if tag == "decimal":
        return Decimal(data["value"])
    if tag == "datetime":
        return dt.datetime.fromisoformat(data["value"])
    if tag == "date":
        return dt.date.fromisoformat(data["value"])
    if tag == "time":
        return dt.time.fromisoformat(data["value"])
    if tag == "uuid":
        return uuid.UUID(data["value"])
    if tag == "exchange":
        return exchange_from_data(data)
    if tag == "message":
        return message_from_data(data)
    if tag == "exception":
        return _exception(data["type"], data["message"])
    raise ValueError(f"unknown tag {tag!r} in stored data")


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _exception(type_name: str, message: str) -> BaseException:
    module, _, name = type_name.rpartition(".")
    cls = getattr(builtins, name, None) if module == "builtins" else None
    if isinstance(cls, type) and issubclass(cls, Exception):
        try:
            return cls(message)
        except Exception as exc:  # noqa: BLE001 - a built-in that wants other arguments
            return ExchangeError(f"{type_name}: {message} (not restored: {exc})")
    return ExchangeError(f"{type_name}: {message}")


def _optional(mapping: Mapping[str, Any], path: str) -> dict[str, Any]:
    """The entries of ``mapping`` that can be encoded; the others are left out."""
    kept: dict[str, Any] = {}
    for name, value in mapping.items():
        try:
            kept[name] = encode(value, f"{path}[{name!r}]")
        except Unencodable:
            continue
    return kept


def message_to_data(message: Message, path: str = "message") -> dict[str, Any]:
    return {
        "message_id": message._message_id,
        "body": encode(message.body, f"{path}.body"),
        "headers": _optional(message.headers, f"{path}.headers"),
    }


def message_from_data(data: Mapping[str, Any]) -> Message:
    headers = {name: decode(value) for name, value in data.get("headers", {}).items()}
    return Message(decode(data.get("body")), headers, message_id=data.get("message_id"))


def exchange_to_data(exchange: Exchange, path: str = "exchange") -> dict[str, Any]:
    exception = exchange.exception
    return {
        "id": exchange.exchange_id,
        "pattern": exchange.pattern.value,
        **message_to_data(exchange.message, path),
        "properties": _optional(exchange.properties, f"{path}.properties"),
        "exception": None if exception is None else encode(exception),
        "from_route_id": exchange.from_route_id,
        "from_endpoint": exchange.from_endpoint,
        "rollback_only": exchange.rollback_only,
    }


def exchange_from_data(data: Mapping[str, Any]) -> Exchange:
    exchange = Exchange(
        pattern=ExchangePattern(data.get("pattern", "InOnly")),
        message=message_from_data(data),
        properties={name: decode(value) for name, value in data.get("properties", {}).items()},
    )
    if data.get("id"):
        exchange._id = data["id"]
    if data.get("exception") is not None:
        exchange.exception = decode(data["exception"])
    exchange.from_route_id = data.get("from_route_id")
    exchange.from_endpoint = data.get("from_endpoint")
    exchange.rollback_only = bool(data.get("rollback_only", False))
    return exchange


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def dumps_exchange(exchange: Exchange, where: str = "") -> str:
    """``exchange`` as JSON text; ``TypeConversionError`` when its body cannot be stored."""
    try:
        return _dumps({"format": FORMAT, **exchange_to_data(exchange)})
    except Unencodable as exc:
        raise _not_storable(exc, where) from None


def loads_exchange(text: str) -> Exchange:
    return exchange_from_data(json.loads(text))


def dumps_message(message: Message, where: str = "") -> str:
    try:
        return _dumps({"format": FORMAT, **message_to_data(message)})
    except Unencodable as exc:
        raise _not_storable(exc, where) from None


def loads_message(text: str) -> Message:
    return message_from_data(json.loads(text))


def encode_key(key: Hashable, where: str = "") -> str:
    """A key as canonical JSON text (the same key always gives the same text)."""
    try:
        return json.dumps(encode(key, "key"), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    except Unencodable as exc:
        raise _not_storable(exc, where) from None


def decode_key(text: str) -> Hashable:
    return _hashable(decode(json.loads(text)))  # type: ignore[no-any-return]


def _not_storable(exc: Unencodable, where: str) -> TypeConversionError:
    prefix = f"{where}: " if where else ""
    return TypeConversionError(
        f"{prefix}cannot store as JSON: {exc} (bodies and keys must be JSON "
        "types, tuples, sets, bytes, Decimal, date/time, UUID, Exchange or "
        "Message; headers and properties of other types are left out)"
    )

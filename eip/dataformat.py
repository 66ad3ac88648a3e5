"""Data formats: ``marshal(fmt)`` turns the body into bytes, ``unmarshal(fmt)`` parses bytes.

A data format is any object with ``marshal(exchange, value) -> bytes`` and
``unmarshal(exchange, data) -> value`` (the :class:`DataFormat` protocol). Built-ins by name:
``"json"``, ``"xml"`` (lxml through the one safe parser) and ``"csv"``; ``legacy`` adds
copybook and fixed-width formats the same way.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Protocol, runtime_checkable

from eip.errors import ConfigurationError


@runtime_checkable
class DataFormat(Protocol):
    def marshal(self, exchange: Any, value: Any) -> Any: ...

    def unmarshal(self, exchange: Any, data: Any) -> Any: ...


def _text(data: Any, charset: str) -> str:
    if isinstance(data, (bytes, bytearray)):
        return bytes(data).decode(charset)
    if hasattr(data, "read_text"):
        return data.read_text()
    if hasattr(data, "read"):
        content = data.read()
        return content.decode(charset) if isinstance(content, bytes) else content
    if isinstance(data, str):
        return data
    raise TypeError(f"expected text or bytes, got {type(data).__name__}")


class JsonDataFormat:
    """JSON with the standard library; ``pretty`` indents, ``charset`` encodes."""

    def __init__(self, pretty: bool = False, charset: str = "utf-8", sort_keys: bool = False) -> None:
        self.indent = 2 if pretty else None
        self.charset = charset
        self.sort_keys = sort_keys

    def marshal(self, exchange: Any, value: Any) -> bytes:
        return json.dumps(value, indent=self.indent, sort_keys=self.sort_keys, default=_json_default,
                          ensure_ascii=False).encode(self.charset)

    def unmarshal(self, exchange: Any, data: Any) -> Any:
        if isinstance(data, (dict, list)):
            return data
        return json.loads(_text(data, self.charset))


def _json_default(value: Any) -> Any:
    import datetime
    import decimal

    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class XmlDataFormat:
    """XML through the safe parser: unmarshal gives an lxml element, marshal serialises one."""

    def __init__(self, charset: str = "utf-8", pretty: bool = False) -> None:
        self.charset = charset
        self.pretty = pretty

    def marshal(self, exchange: Any, value: Any) -> bytes:
        from lxml import etree

        if isinstance(value, (bytes, str)):
            value = self.unmarshal(exchange, value)
        return etree.tostring(value, encoding=self.charset, xml_declaration=True, pretty_print=self.pretty)

    def unmarshal(self, exchange: Any, data: Any) -> Any:
        from eip.xml import parse_xml

        if not isinstance(data, (bytes, str)):
            data = _text(data, self.charset).encode(self.charset)
        return parse_xml(data)


class CsvDataFormat:
    """CSV with the standard library: rows as lists, or dicts when ``header=True``."""

    def __init__(self, delimiter: str = ",", header: bool = False, charset: str = "utf-8") -> None:
        self.delimiter = delimiter
        self.header = header
        self.charset = charset

    def marshal(self, exchange: Any, value: Any) -> bytes:
        out = io.StringIO()
        rows = list(value)
        if rows and isinstance(rows[0], dict):
            writer = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter=self.delimiter, lineterminator="\n")
            if self.header:
                writer.writeheader()
            writer.writerows(rows)
        else:
            csv.writer(out, delimiter=self.delimiter, lineterminator="\n").writerows(rows)
        return out.getvalue().encode(self.charset)

    def unmarshal(self, exchange: Any, data: Any) -> list[Any]:
        text = io.StringIO(_text(data, self.charset))
        if self.header:
            return list(csv.DictReader(text, delimiter=self.delimiter))
        return list(csv.reader(text, delimiter=self.delimiter))


_BY_NAME = {"json": JsonDataFormat, "xml": XmlDataFormat, "csv": CsvDataFormat}


def resolve_data_format(value: Any) -> DataFormat:
    """A data format from a name (``"json"``) or an object with marshal/unmarshal."""
    if isinstance(value, str):
        cls = _BY_NAME.get(value.lower())
        if cls is None:
            raise ConfigurationError(f"unknown data format {value!r}; built-in: {', '.join(sorted(_BY_NAME))}")
        return cls()
    if isinstance(value, DataFormat):
        return value
    raise ConfigurationError(f"a data format needs marshal(exchange, value) and unmarshal(exchange, data); "
                             f"got {type(value).__name__}")

"""Data formats: ``marshal(fmt)`` turns the body into bytes, ``unmarshal(fmt)`` parses bytes.

A data format is any object with ``marshal(exchange, value) -> bytes`` and
``unmarshal(exchange, data) -> value`` (the :class:`DataFormat` protocol). Built-ins by name:
``"json"``, ``"xml"`` (lxml through the one safe parser) and ``"csv"``; with options:
``JsonDataFormat(parse_float=Decimal)``, ``xml(as_dict=True)``, ``CsvDataFormat(header=True)``.
``eip.legacy_formats`` adds copybook and fixed-width formats over the ``legacy`` codecs.

JSON keeps ``decimal.Decimal`` exact both ways: marshal writes a Decimal as a JSON number with
its digits as they are (``Decimal("59.80")`` -> ``59.80``, never a string, never through
float), and ``JsonDataFormat(parse_float=Decimal)`` reads every JSON number with a fraction or
exponent back as a Decimal.

XML <-> dict (``xml(as_dict=True)`` to unmarshal; marshal takes a dict whatever the options),
a convention like xmltodict's:

- the dict has one key, the root element's name: ``{"order": {...}}``;
- attributes are keys ``"@name"``; an element's own text is ``"#text"``;
- child elements are keys by name; a name that repeats becomes a list, in document order;
- an element with text only (no attributes, no children) is just its text, an empty one None;
- text is never converted: numbers stay ``str`` when unmarshalling; marshal writes ``str``,
  ``int``, ``Decimal`` and ``float`` with ``str()``, ``True``/``False`` as ``true``/``false``,
  dates in ISO 8601, None as an empty element;
- names are as written in the document, with their prefix (``soap:Body``); namespace
  declarations are attributes ``"@xmlns"`` and ``"@xmlns:soap"`` on the element that declares
  them, and marshal resolves prefixes from them;
- lossy on purpose: comments and processing instructions are dropped; in mixed content the text
  pieces are joined into one ``#text`` (written back before the children); whitespace-only text
  between elements is dropped.
"""

from __future__ import annotations

import csv
import datetime
import decimal
import io
import json
import uuid
from collections.abc import Callable, Mapping
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
    """JSON with the standard library; ``pretty`` indents, ``charset`` encodes.

    ``Decimal`` values are written as JSON numbers with their exact digits; ``parse_float``
    (e.g. ``decimal.Decimal``) is called on every number with a fraction or exponent when
    unmarshalling, as ``json.loads`` does."""

    def __init__(
        self,
        pretty: bool = False,
        charset: str = "utf-8",
        sort_keys: bool = False,
        parse_float: Callable[[str], Any] | None = None,
    ) -> None:
        self.indent = 2 if pretty else None
        self.charset = charset
        self.sort_keys = sort_keys
        self.parse_float = parse_float

    def marshal(self, exchange: Any, value: Any) -> bytes:
        text = json.dumps(
            value, indent=self.indent, sort_keys=self.sort_keys, default=_json_number_default, ensure_ascii=False
        )
        if _DECIMAL_MARK in text:  # unquote the marked Decimal strings: they become JSON numbers
            text = text.replace(_DECIMAL_OPEN, "").replace(_DECIMAL_CLOSE, "")
        return text.encode(self.charset)

    def unmarshal(self, exchange: Any, data: Any) -> Any:
        if isinstance(data, (dict, list)):
            return data
        return json.loads(_text(data, self.charset), parse_float=self.parse_float)


# json.dumps cannot write a number it does not know, so a Decimal goes through as the string
# "<mark>59.80<mark>", and the marks and quotes are then taken out; the mark holds 32 random
# hex digits drawn when the process starts, so no string of a message carries it by chance.
_DECIMAL_MARK = f"~eip-decimal-{uuid.uuid4().hex}~"
_DECIMAL_OPEN = '"' + _DECIMAL_MARK
_DECIMAL_CLOSE = _DECIMAL_MARK + '"'


def _json_number_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return f"{_DECIMAL_MARK}{_decimal_text(value)}{_DECIMAL_MARK}"
    return _json_default(value)


def _decimal_text(value: decimal.Decimal) -> str:
    if value.is_finite():
        return str(value)
    if value.is_nan():
        return "NaN"  # what json.dumps writes for float("nan"); allow_nan is its default
    return "-Infinity" if value < 0 else "Infinity"


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class XmlDataFormat:
    """XML through the safe parser.

    unmarshal: bytes, str, a file or file body -> an lxml element (``as_dict=True``: a dict, see
    the module docstring); an element or a dict already there is converted or passed on.
    marshal: an lxml element or tree, a dict, or XML text (checked by parsing) -> bytes in
    ``charset``, with an XML declaration unless ``xml_declaration=False``."""

    def __init__(
        self, charset: str = "utf-8", pretty: bool = False, as_dict: bool = False, xml_declaration: bool = True
    ) -> None:
        self.charset = charset
        self.pretty = pretty
        self.as_dict = as_dict
        self.xml_declaration = xml_declaration

    def marshal(self, exchange: Any, value: Any) -> bytes:
        from lxml import etree

        if isinstance(value, Mapping):
            value = dict_to_xml(value)
        elif not isinstance(value, (etree._Element, etree._ElementTree)):
            value = self._parse(value)
        return etree.tostring(
            value, encoding=self.charset, xml_declaration=self.xml_declaration, pretty_print=self.pretty
        )

    def unmarshal(self, exchange: Any, data: Any) -> Any:
        from lxml import etree

        if isinstance(data, Mapping):
            return dict(data) if self.as_dict else dict_to_xml(data)
        if isinstance(data, etree._ElementTree):
            data = data.getroot()
        root = data if isinstance(data, etree._Element) else self._parse(data)
        return xml_to_dict(root) if self.as_dict else root

    def _parse(self, data: Any) -> Any:
        from eip.safe_xml import parse_xml

        return parse_xml(_bytes(data, self.charset))


def xml(
    charset: str = "utf-8", pretty: bool = False, as_dict: bool = False, xml_declaration: bool = True
) -> XmlDataFormat:
    """The XML data format with options: ``marshal(xml(pretty=True))``, ``unmarshal(xml(as_dict=True))``."""
    return XmlDataFormat(charset=charset, pretty=pretty, as_dict=as_dict, xml_declaration=xml_declaration)


def _bytes(data: Any, charset: str) -> bytes | str:
    if isinstance(data, (bytes, str)):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    if hasattr(data, "read_bytes"):
        return data.read_bytes()  # type: ignore[no-any-return]
    if hasattr(data, "read"):
        return data.read()  # type: ignore[no-any-return]
    raise TypeError(f"expected XML as bytes, str, a file or an lxml element, got {type(data).__name__}")


# -- XML <-> dict (convention in the module docstring) -------------------------------------------


def xml_to_dict(element: Any) -> dict[str, Any]:
    """``{root name: content}`` for an lxml element."""
    return {_xml_name(element): _xml_content(element, {})}


def _xml_name(element: Any) -> str:
    local = element.tag.rsplit("}", 1)[-1]
    return f"{element.prefix}:{local}" if element.prefix else local


def _xml_content(element: Any, inherited: dict[str | None, str]) -> Any:
    result: dict[str, Any] = {}
    nsmap = element.nsmap
    for prefix, uri in nsmap.items():
        if inherited.get(prefix) != uri:
            result["@xmlns" if prefix is None else f"@xmlns:{prefix}"] = uri
    for name, value in element.attrib.items():
        if name.startswith("{"):
            uri, local = name[1:].split("}", 1)
            prefix = next((p for p, u in nsmap.items() if u == uri and p is not None), None)
            name = f"{prefix}:{local}" if prefix else local
        result["@" + name] = value
    texts = [element.text] if element.text and element.text.strip() else []
    repeated: set[str] = set()
    for child in element:
        if child.tail and child.tail.strip():
            texts.append(child.tail)
        if not isinstance(child.tag, str):  # comment or processing instruction
            continue
        key = _xml_name(child)
        value = _xml_content(child, nsmap)
        if key in repeated:
            result[key].append(value)
        elif key in result:
            result[key] = [result[key], value]
            repeated.add(key)
        else:
            result[key] = value
    text = "".join(texts)
    if not result:
        return text or None
    if text:
        result["#text"] = text
    return result


def dict_to_xml(data: Mapping[str, Any]) -> Any:
    """An lxml element for ``{root name: content}``; raises TypeError or ValueError for any other shape."""
    if not isinstance(data, Mapping):
        raise TypeError(f"XML from a dict needs a dict, not {type(data).__name__}")
    if len(data) != 1:
        raise ValueError(f"XML from a dict needs exactly one key, the root element's name; got keys {list(data)!r}")
    ((name, content),) = data.items()
    if isinstance(content, list):
        raise TypeError(f"the root element {name!r} cannot be a list: a document has one root")
    return _xml_build(None, name, content, {})


def _xml_build(parent: Any, name: str, content: Any, inherited: dict[str | None, str]) -> Any:
    from lxml import etree

    declared: dict[str | None, str] = {}
    if isinstance(content, Mapping):
        for key, value in content.items():
            if key == "@xmlns":
                declared[None] = str(value)
            elif key.startswith("@xmlns:"):
                declared[key[7:]] = str(value)
    scope = {**inherited, **declared} if declared else inherited
    tag = _xml_qualify(name, scope, element=True)
    element = (
        etree.Element(tag, nsmap=declared or None)
        if parent is None
        else etree.SubElement(parent, tag, nsmap=declared or None)
    )
    if isinstance(content, Mapping):
        for key, value in content.items():
            if key == "#text":
                element.text = _xml_text(value)
            elif key.startswith("@"):
                if key != "@xmlns" and not key.startswith("@xmlns:"):
                    element.set(_xml_qualify(key[1:], scope, element=False), _xml_text(value))
            elif isinstance(value, (list, tuple)):
                for item in value:
                    _xml_build(element, key, item, scope)
            else:
                _xml_build(element, key, value, scope)
    elif content is not None:
        element.text = _xml_text(content)
    return element


def _xml_qualify(name: str, scope: dict[str | None, str], *, element: bool) -> str:
    if ":" in name:
        prefix, local = name.split(":", 1)
        if prefix not in scope:
            raise ValueError(
                f"namespace prefix {prefix!r} of {name!r} is not declared "
                f"(add '@xmlns:{prefix}' on this element or an ancestor)"
            )
        return f"{{{scope[prefix]}}}{local}"
    if element and None in scope:  # unprefixed attributes are in no namespace
        return f"{{{scope[None]}}}{name}"
    return name


def _xml_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, decimal.Decimal)):
        return str(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    raise TypeError(f"cannot write a {type(value).__name__} as XML text")


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
    raise ConfigurationError(
        f"a data format needs marshal(exchange, value) and unmarshal(exchange, data); got {type(value).__name__}"
    )

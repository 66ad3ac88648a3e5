"""MQRFH2: the header that carries message properties in folders of XML-like name/value data.

A JMS or MQ application that sets message properties sends (or a queue manager hands out, with
``MQGMO_PROPERTIES_FORCE_MQRFH2``) an RFH2 in front of the body, with ``MQMD.Format`` ``MQHRF2``::

    StrucId "RFH " | Version 2 | StrucLength | Encoding | CodedCharSetId | Format | Flags |
    NameValueCCSID | (length, folder)...

The integers are in the byte order of the *preceding* header's ``Encoding`` (the MQMD's);
``Encoding``, ``CodedCharSetId`` and ``Format`` describe what *follows* the RFH2. Each folder is
one element in ``NameValueCCSID`` (UTF-8 here), padded with spaces to a multiple of 4 bytes:

* ``<usr>``: the application's own properties (``<tenant>acme</tenant><attempt dt='i4'>3</attempt>``);
* ``<mcd>``: the message content descriptor (``<Msd>jms_text</Msd>``: a JMS TextMessage);
* ``<jms>``: JMS header fields (``<Dst>``, ``<Cid>``, ``<Rto>``, ``<Tms>``, ``<Dlv>``).

Values are typed with the ``dt`` attribute as the JMS client writes them: none or ``string`` ->
str, ``boolean`` (``1``/``0``) -> bool, ``i1``/``i2``/``i4``/``i8``/``int`` -> int, ``r4``/``r8`` ->
float, ``bin.hex`` -> bytes, ``xsi:nil='true'`` -> None. Any other Python value is written as
its text. A nested element (a property group) becomes a dotted name (``<g><x>1</x></g>`` ->
``"g.x"``), and a dotted name is written as a group. Characters that cannot start or be part of
an XML element name are escaped as ``_xHHHH_`` (as .NET's XmlConvert does) and unescaped when
read, so any header name survives the trip.

Folders are parsed with the engine's one safe XML parser (no entities, no DTD).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree

from eip.safe_xml import parse_xml
from legacy.mq.ccsid import CCSID_UTF8, ENCODING_NATIVE, byte_order, codec_for
from legacy.mq.errors import MqHeaderError
from legacy.mq.formats import STRING, format_field, format_name

STRUC_ID = b"RFH "
STRUC_ID_EBCDIC = b"\xd9\xc6\xc8\x40"
VERSION_2 = 2
FIXED_LENGTH = 36
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_NIL = f"{{{_XSI}}}nil"
_WRAP_OPEN = f'<rfh2-folder xmlns:xsi="{_XSI}">'.encode()
_WRAP_CLOSE = b"</rfh2-folder>"
_I4 = range(-(1 << 31), 1 << 31)
_I8 = range(-(1 << 63), 1 << 63)
_INTEGER_TYPES = frozenset(("i1", "i2", "i4", "i8", "int"))
_NAME_START = re.compile(r"[A-Za-z_]")
_NAME_CHAR = re.compile(r"[A-Za-z0-9_\-]")
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")


@dataclass
class Rfh2:
    """One MQRFH2 header: its folders (name -> {property: value}) and what follows it."""

    folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Format, numeric encoding and CCSID of the data after this header.
    format: str = STRING
    encoding: int = ENCODING_NATIVE
    ccsid: int = CCSID_UTF8
    flags: int = 0
    name_value_ccsid: int = CCSID_UTF8

    @property
    def properties(self) -> dict[str, Any]:
        """The application properties: the ``<usr>`` folder."""
        return self.folders.get("usr", {})

    def pack(self, encoding: int = ENCODING_NATIVE) -> bytes:
        """The header's bytes, its integers in ``encoding`` (the preceding header's)."""
        codec = codec_for(self.name_value_ccsid)
        chunks = []
        for name, values in self.folders.items():
            data = build_folder(name, values).encode(codec)
            data += b" " * (-len(data) % 4)
            chunks.append((data, len(data)))
        order = byte_order(encoding)
        length = FIXED_LENGTH + sum(4 + size for _, size in chunks)
        try:
            fixed = struct.pack(
                f"{order}4s4i8s2i",
                STRUC_ID,
                VERSION_2,
                length,
                self.encoding,
                self.ccsid,
                format_field(self.format),
                self.flags,
                self.name_value_ccsid,
            )
        except (struct.error, ValueError) as exc:
            raise MqHeaderError(f"cannot write the RFH2 header: {exc}") from None
        return fixed + b"".join(struct.pack(f"{order}i", size) + data for data, size in chunks)

    @classmethod
    def unpack(cls, data: bytes, encoding: int = ENCODING_NATIVE, offset: int = 0) -> tuple[Rfh2, int]:
        """The RFH2 at ``data[offset:]`` and the offset just after it. ``encoding`` is the
        preceding header's (the MQMD's) and gives the byte order of the integers."""
        fixed = data[offset : offset + FIXED_LENGTH]
        if len(fixed) < FIXED_LENGTH:
            raise MqHeaderError(f"an RFH2 needs {FIXED_LENGTH} bytes, only {len(fixed)} left", offset=offset)
        struc_id = fixed[:4]
        if struc_id not in (STRUC_ID, STRUC_ID_EBCDIC):
            raise MqHeaderError(f"not an RFH2: StrucId {struc_id!r}", offset=offset)
        order = byte_order(encoding)
        _, version, length, next_encoding, next_ccsid, raw_format, flags, nv_ccsid = struct.unpack(
            f"{order}4s4i8s2i", fixed
        )
        if version != VERSION_2:
            raise MqHeaderError(
                f"RFH2 version {version} (only version 2 is read; is the encoding {encoding} right?)", offset=offset + 4
            )
        end = offset + length
        if length < FIXED_LENGTH or end > len(data):
            raise MqHeaderError(
                f"RFH2 StrucLength {length} does not fit the {len(data) - offset} bytes left", offset=offset + 8
            )
        header = cls(
            {}, format_name(raw_format, ebcdic=struc_id == STRUC_ID_EBCDIC), next_encoding, next_ccsid, flags, nv_ccsid
        )
        codec = codec_for(nv_ccsid)
        position = offset + FIXED_LENGTH
        while position < end:
            if position + 4 > end:
                raise MqHeaderError("RFH2 folder length cut short", offset=position)
            (size,) = struct.unpack(f"{order}i", data[position : position + 4])
            position += 4
            if size < 0 or position + size > end:
                raise MqHeaderError(f"RFH2 folder length {size} runs past the header's end", offset=position - 4)
            raw = bytes(data[position : position + size])
            try:
                text = raw.decode(codec)
            except UnicodeDecodeError as exc:
                raise MqHeaderError(f"RFH2 folder is not {codec}: {exc.reason}", offset=position + exc.start) from None
            text = text.rstrip(" \0")
            if text:
                name, values = parse_folder(text, offset=position)
                header.folders.setdefault(name, {}).update(values)
            position += size
        return header, end


def build_folder(name: str, values: dict[str, Any]) -> str:
    """One folder's XML-like text: ``<usr><a>x</a><n dt='i4'>3</n></usr>``."""
    root: dict[str, Any] = {}
    for key, value in values.items():
        node = root
        parts = key.split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise MqHeaderError(f"RFH2 property {key!r} needs {part!r} to be a group, but it has a value")
            node = child
        if isinstance(node.get(parts[-1]), dict):
            raise MqHeaderError(f"RFH2 property {key!r} is also a group of other properties")
        node[parts[-1]] = _Leaf(value)
    out: list[str] = []
    _write(out, name, root)
    return "".join(out)


class _Leaf:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _write(out: list[str], name: str, node: dict[str, Any]) -> None:
    tag = encode_name(name)
    out.append(f"<{tag}>")
    for key, child in node.items():
        if isinstance(child, dict):
            _write(out, key, child)
        else:
            out.append(_element(encode_name(key), child.value))
    out.append(f"</{tag}>")


def _element(tag: str, value: Any) -> str:
    if value is None:
        return f"<{tag} xsi:nil='true'></{tag}>"
    if value is True or value is False:
        return f"<{tag} dt='boolean'>{int(value)}</{tag}>"
    if isinstance(value, int):
        if value in _I4:
            return f"<{tag} dt='i4'>{value}</{tag}>"
        if value in _I8:
            return f"<{tag} dt='i8'>{value}</{tag}>"
        return f"<{tag}>{value}</{tag}>"
    if isinstance(value, float):
        return f"<{tag} dt='r8'>{value!r}</{tag}>"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{tag} dt='bin.hex'>{bytes(value).hex().upper()}</{tag}>"
    return f"<{tag}>{escape(str(value))}</{tag}>"


def parse_folder(text: str, offset: int | None = None) -> tuple[str, dict[str, Any]]:
    """``(folder name, {property: value})`` from one folder's text (see the module doc)."""
    try:
        wrapper = parse_xml(_WRAP_OPEN + text.encode("utf-8") + _WRAP_CLOSE)
    except etree.XMLSyntaxError as exc:
        raise MqHeaderError(f"RFH2 folder is not well-formed: {exc}", offset=offset) from None
    elements = [child for child in wrapper if isinstance(child.tag, str)]
    if len(elements) != 1:
        raise MqHeaderError(f"an RFH2 folder holds one element, found {len(elements)}", offset=offset)
    folder = elements[0]
    values: dict[str, Any] = {}
    _read(folder, "", values, offset)
    return decode_name(folder.tag), values


def _read(element: Any, prefix: str, values: dict[str, Any], offset: int | None) -> None:
    for child in element:
        if not isinstance(child.tag, str):
            continue  # a comment or processing instruction
        name = prefix + decode_name(child.tag)
        if len(child):
            _read(child, name + ".", values, offset)
        else:
            values[name] = _typed(child, name, offset)


def _typed(element: Any, name: str, offset: int | None) -> Any:
    if element.get(_NIL) == "true" or element.get("xsi:nil") == "true":
        return None
    text = element.text or ""
    kind = (element.get("dt") or "string").strip().lower()
    try:
        if kind in ("string", ""):
            return text
        if kind == "boolean":
            lowered = text.strip().lower()
            if lowered in ("1", "true"):
                return True
            if lowered in ("0", "false"):
                return False
            raise ValueError(f"not a boolean: {text!r}")
        if kind in _INTEGER_TYPES:
            return int(text.strip())
        if kind in ("r4", "r8"):
            return float(text.strip())
        if kind == "bin.hex":
            return bytes.fromhex(text.strip())
    except ValueError as exc:
        raise MqHeaderError(f"RFH2 property {name!r} (dt='{kind}'): {exc}", offset=offset) from None
    return text  # a type this reader does not know: keep the text


def encode_name(name: str) -> str:
    """An XML element name for a property name: characters an element name cannot hold become
    ``_xHHHH_`` (``"Content Type"`` -> ``"Content_x0020_Type"``)."""
    if not name:
        raise MqHeaderError("an RFH2 property or folder needs a name")
    out = []
    for index, char in enumerate(name):
        if char == "_" and _ESCAPED.match(name, index):
            out.append("_x005F_")  # a literal "_xHHHH_" must not read back as an escape
        elif (_NAME_START if index == 0 else _NAME_CHAR).match(char):
            out.append(char)
        else:
            out.extend(f"_x{unit:04X}_" for unit in _utf16_units(char))
    return "".join(out)


def decode_name(tag: str) -> str:
    """The property name an element name stands for (undoes ``encode_name``)."""
    if "_x" not in tag:
        return tag
    out: list[str] = []
    units: list[int] = []
    position = 0
    for match in _ESCAPED.finditer(tag):
        if match.start() != position:
            if units:
                out.append(_from_units(units))
                units = []
            out.append(tag[position : match.start()])
        units.append(int(match.group(1), 16))
        position = match.end()
    if units:
        out.append(_from_units(units))
    out.append(tag[position:])
    return "".join(out)


def _utf16_units(char: str) -> list[int]:
    data = char.encode("utf-16-be")
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def _from_units(units: list[int]) -> str:
    return b"".join(unit.to_bytes(2, "big") for unit in units).decode("utf-16-be", "replace")


def is_rfh2(data: bytes, offset: int = 0) -> bool:
    """True when ``data[offset:]`` starts with an RFH2 StrucId (ASCII or EBCDIC)."""
    return data[offset : offset + 4] in (STRUC_ID, STRUC_ID_EBCDIC)


__all__ = ["FIXED_LENGTH", "STRUC_ID", "Rfh2", "build_folder", "decode_name", "encode_name", "is_rfh2", "parse_folder"]

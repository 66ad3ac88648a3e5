"""The documents of a served WSDL: the WSDL and every WSDL and XML schema it imports, loaded
once when the consumer starts.

* ``GET ...?wsdl`` serves the WSDL with the ``soap:address`` of the ports this consumer serves
  set to its real address (other ports, such as ASP.NET's HTTP GET bindings, left out), and every ``wsdl:import``/``xsd:import``/``xsd:include`` location
  rewritten to ``...?wsdl=wsdlN`` / ``...?xsd=xsdN`` on the same consumer, so a client resolves
  the whole set from us (WCF's ``?xsd=xsd0`` style). Only documents of that set are served.
* ``validator()`` compiles the schemas of the WSDL's ``types`` (and what they import) together
  with a minimal SOAP 1.1 and 1.2 envelope schema into one lxml ``XMLSchema``; requests are then
  validated whole, the Body's content ``lax`` (each element the WSDL declares is checked
  strictly: an operation's input, its declared SOAP headers).

The WSDL is trusted configuration, read without network access for DTDs or entities; imports by
``http(s)`` URL are fetched once here, with a timeout.
"""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlparse
from urllib.request import url2pathname

from lxml import etree

from eip.errors import ConfigurationError
from eip.xml_transform import trusted_parser

WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
XSD_NS = "http://www.w3.org/2001/XMLSchema"
WSDL_SOAP11 = "http://schemas.xmlsoap.org/wsdl/soap/"
WSDL_SOAP12 = "http://schemas.xmlsoap.org/wsdl/soap12/"
_REFERENCES = (f"{{{XSD_NS}}}import", f"{{{XSD_NS}}}include", f"{{{XSD_NS}}}redefine")

# Minimal envelope schemas: enough to validate the WSDL-declared parts of a request in place
# (``lax``), without the W3C documents (which would have to be fetched or bundled whole).
_ENVELOPE_SCHEMA = """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:env="{ns}"
    targetNamespace="{ns}" elementFormDefault="qualified">
  <xs:element name="Envelope"><xs:complexType><xs:sequence>
    <xs:element ref="env:Header" minOccurs="0"/><xs:element ref="env:Body"/>{trailer}
  </xs:sequence><xs:anyAttribute namespace="##other" processContents="lax"/></xs:complexType></xs:element>
  <xs:element name="Header"><xs:complexType><xs:sequence>
    <xs:any namespace="##any" processContents="lax" minOccurs="0" maxOccurs="unbounded"/>
  </xs:sequence><xs:anyAttribute namespace="##other" processContents="lax"/></xs:complexType></xs:element>
  <xs:element name="Body"><xs:complexType><xs:sequence>
    <xs:any namespace="##any" processContents="lax" minOccurs="0" maxOccurs="unbounded"/>
  </xs:sequence><xs:anyAttribute namespace="##other" processContents="lax"/></xs:complexType></xs:element>
</xs:schema>"""
_ENVELOPES = {
    "http://schemas.xmlsoap.org/soap/envelope/": '<xs:any namespace="##other" processContents="lax" minOccurs="0" maxOccurs="unbounded"/>',
    "http://www.w3.org/2003/05/soap-envelope": "",
}


@dataclass
class Document:
    """One loaded document: where it came from, its key on the consumer, its parsed tree."""

    location: str
    kind: str  # "wsdl" or "xsd"
    key: str  # "" for the root WSDL, else wsdl1, xsd1, ...
    tree: Any


def absolute(location: str, base: str) -> str:
    """``location`` made absolute against the document ``base`` it appears in."""
    if urlparse(location).scheme in ("http", "https", "file"):
        return location
    if urlparse(base).scheme in ("http", "https", "file"):
        return urljoin(base, location)
    if os.path.isabs(location):
        return os.path.normpath(location)
    return os.path.normpath(os.path.join(os.path.dirname(base), location))


def as_url(location: str) -> str:
    """A URL for libxml2 (``file:///abs/path`` for a local path)."""
    if urlparse(location).scheme in ("http", "https", "file"):
        return location
    return "file://" + os.path.abspath(location)


def default_loader(timeout: float) -> Callable[[str], bytes]:
    """Reads local paths and ``file:`` URLs; fetches ``http(s)`` URLs with ``requests``."""

    def load(location: str) -> bytes:
        scheme = urlparse(location).scheme
        if scheme in ("http", "https"):
            import requests

            response = requests.get(location, timeout=timeout)
            response.raise_for_status()
            return response.content
        path = url2pathname(urlparse(location).path) if scheme == "file" else location
        with open(path, "rb") as handle:
            return handle.read()

    return load


class WsdlDocuments:
    """The WSDL at ``location`` and every document it imports (see the module docstring)."""

    def __init__(self, location: str, load: Callable[[str], bytes]) -> None:
        if urlparse(location).scheme not in ("http", "https", "file"):
            location = os.path.abspath(location)
        self.location = location
        self._load = load
        self.documents: dict[str, Document] = {}
        self._counts = {"wsdl": 0, "xsd": 0}
        self.root = self._add(location, "wsdl")
        self._by_key = {doc.key: doc for doc in self.documents.values()}
        self._local = threading.local()
        self._compile_lock = threading.Lock()

    # -- loading ----------------------------------------------------------------------------------
    def _add(self, location: str, kind: str) -> Document:
        existing = self.documents.get(location)
        if existing is not None:
            return existing
        try:
            data = self._load(location)
        except Exception as exc:
            raise ConfigurationError(f"cannot read {kind.upper()} {location!r}: {exc}") from exc
        try:
            root = etree.fromstring(data, trusted_parser(), base_url=as_url(location))
        except etree.XMLSyntaxError as exc:
            raise ConfigurationError(f"{kind.upper()} {location!r} is not well-formed XML: {exc}") from exc
        if root.tag == f"{{{XSD_NS}}}schema":
            kind = "xsd"  # wsdl:import may name a schema
        elif root.tag != f"{{{WSDL_NS}}}definitions":
            raise ConfigurationError(
                f"{location!r} is neither a WSDL 1.1 document nor an XML schema (its root is {root.tag!r})"
            )
        key = ""
        if self.documents or kind != "wsdl":
            self._counts[kind] += 1
            key = f"{kind}{self._counts[kind]}"
        doc = Document(location, kind, key, root.getroottree())
        self.documents[location] = doc
        for element, child_kind, attribute in _references(root, kind):
            self._add(absolute(element.get(attribute), location), child_kind)
        return doc

    def document(self, key: str) -> Document | None:
        return self._by_key.get(key)

    # -- serving ----------------------------------------------------------------------------------
    def served(self, key: str, base: str, ports: Iterable[tuple[str, str]]) -> bytes | None:
        """The document ``key`` (``""`` the WSDL) with locations pointing at ``base`` (the
        consumer's URL), the ``soap:address`` of ``ports`` (``(service, port)`` names) set to
        ``base`` and every other port left out (it is not served here); None for an unknown key."""
        doc = self._by_key.get(key)
        if doc is None:
            return None
        root = copy.deepcopy(doc.tree.getroot())
        served_ports = set(ports)
        for element, _, attribute in _references(root, doc.kind):
            child = self.documents[absolute(element.get(attribute), doc.location)]
            element.set(attribute, f"{base}?{child.kind}={child.key}" if child.key else f"{base}?wsdl")
        if doc.kind == "wsdl":
            for service in list(root.iterfind(f"{{{WSDL_NS}}}service")):
                for port in list(service.iterfind(f"{{{WSDL_NS}}}port")):
                    if (service.get("name"), port.get("name")) not in served_ports:
                        service.remove(port)  # not served here: a client must not call its old address
                        continue
                    for address in port:
                        if address.tag in (f"{{{WSDL_SOAP11}}}address", f"{{{WSDL_SOAP12}}}address"):
                            address.set("location", base)
                if service.find(f"{{{WSDL_NS}}}port") is None:
                    root.remove(service)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")

    # -- validation -------------------------------------------------------------------------------
    def validator(self) -> Any:
        """This thread's compiled schema (``lxml.etree.XMLSchema``) of the WSDL's types plus the
        SOAP envelopes; raises ConfigurationError if it does not compile."""
        schema = getattr(self._local, "schema", None)
        if schema is None:
            with self._compile_lock:
                schema = self._local.schema = self._compile()
        return schema

    def _compile(self) -> Any:
        sources: dict[str, Any] = {}
        by_namespace: dict[str | None, list[str]] = {}
        inline = 0
        for doc in self.documents.values():
            if doc.kind == "xsd":
                sources[as_url(doc.location)] = etree.tostring(doc.tree)
                continue
            folder = as_url(doc.location).rsplit("/", 1)[0]
            for schema in doc.tree.getroot().iterfind(f"{{{WSDL_NS}}}types/{{{XSD_NS}}}schema"):
                inline += 1
                url = f"{folder}/__eip_inline_schema_{inline}.xsd"
                copied = _standalone(schema)
                for element in copied:
                    if element.tag in _REFERENCES and element.get("schemaLocation"):
                        element.set("schemaLocation", as_url(absolute(element.get("schemaLocation"), doc.location)))
                sources[url] = copied
                by_namespace.setdefault(schema.get("targetNamespace"), []).append(url)
        hubs: dict[str | None, str] = {}
        for namespace, urls in by_namespace.items():
            if len(urls) == 1 or namespace is None:
                hubs[namespace] = urls[0]
                continue
            hub = etree.Element(f"{{{XSD_NS}}}schema", targetNamespace=namespace, nsmap={"xs": XSD_NS})
            for url in urls:
                etree.SubElement(hub, f"{{{XSD_NS}}}include", schemaLocation=url)
            hub_url = urls[0].rsplit("/", 1)[0] + f"/__eip_namespace_{len(hubs)}.xsd"
            sources[hub_url] = etree.tostring(hub)
            hubs[namespace] = hub_url
        # An inline schema may import a namespace of another one without a location: point it there.
        for url, value in list(sources.items()):
            if isinstance(value, etree._Element):
                for reference in value.iterfind(f"{{{XSD_NS}}}import"):
                    namespace = reference.get("namespace")
                    if reference.get("schemaLocation") is None and namespace in hubs:
                        reference.set("schemaLocation", hubs[namespace])
                sources[url] = etree.tostring(value)
        folder = as_url(self.location).rsplit("/", 1)[0]
        wrapper = etree.Element(f"{{{XSD_NS}}}schema", nsmap={"xs": XSD_NS})
        for number, (namespace, template) in enumerate(_ENVELOPES.items()):
            url = f"{folder}/__eip_envelope_{number}.xsd"
            sources[url] = _ENVELOPE_SCHEMA.format(ns=namespace, trailer=template).encode("utf-8")
            etree.SubElement(wrapper, f"{{{XSD_NS}}}import", namespace=namespace, schemaLocation=url)
        for namespace, url in hubs.items():
            if namespace is None:
                for each in by_namespace[None]:
                    etree.SubElement(wrapper, f"{{{XSD_NS}}}include", schemaLocation=each)
            elif namespace not in _ENVELOPES:
                etree.SubElement(wrapper, f"{{{XSD_NS}}}import", namespace=namespace, schemaLocation=url)
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        parser.resolvers.add(_InMemory(sources))
        document = etree.fromstring(etree.tostring(wrapper), parser, base_url=f"{folder}/__eip_wrapper.xsd")
        try:
            return etree.XMLSchema(document)
        except etree.XMLSchemaParseError as exc:
            raise ConfigurationError(
                f"the schema of WSDL {self.location!r} does not compile for validation "
                f"({exc}); set validate=false to serve it without schema validation"
            ) from exc


class _InMemory(etree.Resolver):
    """Serves the documents already loaded (and the generated ones) to libxml2 by URL."""

    def __init__(self, sources: dict[str, bytes]) -> None:
        super().__init__()
        self.sources = sources
        for url in list(sources):
            if url.startswith("file://"):
                sources.setdefault(url[len("file://") :], sources[url])

    def resolve(self, url: str, pubid: str, context: Any) -> Any:
        data = self.sources.get(url)
        if data is None:
            return None
        return self.resolve_string(data, context, base_url=url if "://" in url else as_url(url))


def _standalone(schema: Any) -> Any:
    """A copy of an inline ``xs:schema`` as its own document, declaring every namespace in scope
    in the WSDL (``type="tns:Foo"`` needs ``tns`` though no element name uses it)."""
    copied = etree.Element(schema.tag, attrib=dict(schema.attrib), nsmap=schema.nsmap)
    copied.text = schema.text
    for child in schema:
        copied.append(copy.deepcopy(child))
    return copied


def _references(root: Any, kind: str) -> list[tuple[Any, str, str]]:
    """``(element, kind of the target, attribute)`` of each import/include with a location."""
    found: list[tuple[Any, str, str]] = []
    if kind == "wsdl":
        for element in root.iterfind(f"{{{WSDL_NS}}}import"):
            if element.get("location"):
                found.append((element, "wsdl", "location"))
        schemas = list(root.iterfind(f"{{{WSDL_NS}}}types/{{{XSD_NS}}}schema"))
    else:
        schemas = [root]
    for schema in schemas:
        for element in schema:
            if element.tag in _REFERENCES and element.get("schemaLocation"):
                found.append((element, "xsd", "schemaLocation"))
    return found

"""XSLT message translator: ``.process(xslt("order.xsl"))`` or ``.transform(xslt(...))``.

The stylesheet is parsed and compiled once, when ``xslt(...)`` is called (a missing file or a
broken stylesheet is a ``ConfigurationError`` before the route starts); each thread that runs
it then keeps its own compiled copy, because an lxml XSLT object is not safe to run in two
threads at once. Stylesheets are trusted configuration: they are read without network access
or external DTDs (internal entities such as ``&nbsp;`` are allowed), and while running they
may read local files (``document()``, ``xsl:include``) but never the network, nor write files.
The message body is untrusted: text is parsed with the engine's one safe parser (``eip.safe_xml``).

- input: ``str``, ``bytes``, a file or file body, or an lxml element/tree;
- ``output``: ``"str"`` (default, as Camel's XSLT component), ``"bytes"`` (encoded as the
  stylesheet's ``xsl:output`` says) or ``"element"`` (the result's root element);
- ``parameters``: ``{"name": value}``, where a value may be an expression
  (``header("x")``, any ``fn(exchange)``) evaluated per message; every value is passed as an
  XSLT string parameter (quoted safely, so a header can never inject XPath); a value of None
  leaves the stylesheet's default;
- ``headers_as_parameters=True`` also passes every header whose name is an XML name and whose
  value is a str, int, float, Decimal or bool (``parameters`` win over headers of the same name).

A failing transformation (``xsl:message terminate="yes"``, a run-time error) raises
``TransformError`` with lxml's messages; a body that is not well-formed XML raises
``TransformError`` too; an unsafe body raises ``eip.safe_xml.UnsafeXmlError``.
"""

from __future__ import annotations

import decimal
import os
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any

from lxml import etree

from eip.errors import ConfigurationError, TransformError
from eip.safe_xml import UnsafeXmlError, parse_xml

_OUTPUTS = ("str", "bytes", "element")
_XML_NAME = re.compile(r"^[A-Za-z_][\w.\-]*$")
_PARAMETER_TYPES = (str, int, float, decimal.Decimal)


def trusted_parser() -> etree.XMLParser:
    """For stylesheets and schemas (configuration, not messages): no network, no external DTD,
    internal entities expanded."""
    return etree.XMLParser(resolve_entities="internal", no_network=True, load_dtd=False, huge_tree=False)


def load_trusted_xml(source: Any, what: str) -> tuple[Any, str]:
    """A parsed document and a name for messages, from a path, XML text or an lxml tree."""
    if isinstance(source, etree._ElementTree):
        return source, f"inline {what}"
    if isinstance(source, etree._Element):
        return source.getroottree(), f"inline {what}"
    if isinstance(source, bytes) or (isinstance(source, str) and source.lstrip().startswith("<")):
        try:
            root = etree.fromstring(source.encode("utf-8") if isinstance(source, str) else source, trusted_parser())
        except etree.XMLSyntaxError as exc:
            raise ConfigurationError(f"inline {what} is not well-formed XML: {exc}") from exc
        return root.getroottree(), f"inline {what}"
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if not os.path.isfile(path):
            raise ConfigurationError(f"{what} file {path!r} not found (relative paths are relative to {os.getcwd()!r})")
        try:
            return etree.parse(path, trusted_parser()), path
        except etree.XMLSyntaxError as exc:
            raise ConfigurationError(f"{what} {path!r} is not well-formed XML: {exc}") from exc
    raise ConfigurationError(f"a {what} is a file path, XML text or an lxml tree, not {type(source).__name__}")


def document_of(body: Any) -> Any:
    """The lxml element to work on for a message body; raises XMLSyntaxError or TypeError."""
    if isinstance(body, etree._Element):
        return body
    if isinstance(body, etree._ElementTree):
        return body.getroot()
    if isinstance(body, (bytearray, memoryview)):
        body = bytes(body)
    elif not isinstance(body, (str, bytes)):
        if hasattr(body, "read_bytes"):
            body = body.read_bytes()
        elif hasattr(body, "read"):
            body = body.read()
        else:
            raise TypeError(f"expected an XML body (str, bytes, a file or an lxml element), got {type(body).__name__}")
    return parse_xml(body)


class Xslt:
    """A compiled stylesheet usable as a processor and as an expression (see the module doc)."""

    def __init__(
        self,
        stylesheet: Any,
        *,
        parameters: Mapping[str, Any] | None = None,
        headers_as_parameters: bool = False,
        output: str = "str",
    ) -> None:
        if output not in _OUTPUTS:
            raise ConfigurationError(f"xslt() output is one of {', '.join(_OUTPUTS)}, not {output!r}")
        self.output = output
        self.headers_as_parameters = headers_as_parameters
        self.parameters: dict[str, Callable[[Any], Any]] = {}
        for name, value in (parameters or {}).items():
            if not _XML_NAME.match(name):
                raise ConfigurationError(f"xslt() parameter name {name!r} is not an XML name")
            self.parameters[name] = value if callable(value) else _constant(value)
        self._doc, self.name = load_trusted_xml(stylesheet, "stylesheet")
        self._compile_lock = threading.Lock()
        self._local = threading.local()
        self._local.transform = self._compile()  # fails here, at configuration, if it must

    def _compile(self) -> Any:
        access = etree.XSLTAccessControl(
            read_file=True, write_file=False, create_dir=False, read_network=False, write_network=False
        )
        with self._compile_lock:  # compiling reads the shared stylesheet tree
            try:
                return etree.XSLT(self._doc, access_control=access)
            except etree.XSLTParseError as exc:
                raise ConfigurationError(
                    f"stylesheet {self.name} does not compile: {_log_text(exc.error_log) or exc}"
                ) from exc

    def _transformer(self) -> Any:
        transform = getattr(self._local, "transform", None)
        if transform is None:
            transform = self._local.transform = self._compile()
        return transform

    def _arguments(self, exchange: Any) -> dict[str, Any]:
        values: dict[str, Any] = {}
        if self.headers_as_parameters:
            for name, value in exchange.message.headers.items():
                if _XML_NAME.match(name) and isinstance(value, (*_PARAMETER_TYPES, bool)):
                    values[name] = value
        for name, fn in self.parameters.items():
            value = fn(exchange)
            if value is not None:
                values[name] = value
            else:
                values.pop(name, None)
        return {name: etree.XSLT.strparam(_parameter_text(value)) for name, value in values.items()}

    def transform(self, body: Any, exchange: Any = None) -> Any:
        """Transform one document; ``exchange`` supplies parameters (may be None without them)."""
        try:
            document = document_of(body)
        except UnsafeXmlError:
            raise
        except etree.XMLSyntaxError as exc:
            raise TransformError(f"xslt({self.name}): the body is not well-formed XML: {exc}") from exc
        except TypeError as exc:
            raise TransformError(f"xslt({self.name}): {exc}") from exc
        arguments = self._arguments(exchange) if exchange is not None else {}
        transform = self._transformer()
        try:
            result = transform(document, **arguments)
        except etree.XSLTApplyError as exc:
            raise TransformError(f"xslt({self.name}) failed: {_log_text(transform.error_log) or exc}") from exc
        if self.output == "str":
            return str(result)
        if self.output == "bytes":
            return bytes(result)
        root = result.getroot()
        if root is None:
            raise TransformError(f"xslt({self.name}) produced no element (text output?); use output='str'")
        return root

    def __call__(self, exchange: Any) -> Any:
        """The transformed body, for ``transform(xslt(...))``."""
        return self.transform(exchange.message.body, exchange)

    def process(self, exchange: Any) -> None:
        """Replace the body with the transformed one, for ``process(xslt(...))``."""
        exchange.message.body = self.transform(exchange.message.body, exchange)

    def __repr__(self) -> str:
        return f"xslt({self.name!r})"


def _constant(value: Any) -> Callable[[Any], Any]:
    return lambda exchange: value


def _parameter_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _log_text(log: Any) -> str:
    return "; ".join(f"line {e.line}: {e.message}" if e.line else e.message for e in log)


def xslt(
    stylesheet: Any,
    *,
    parameters: Mapping[str, Any] | None = None,
    headers_as_parameters: bool = False,
    output: str = "str",
) -> Xslt:
    """An XSLT translator: ``.process(xslt("order.xsl", parameters={"id": header("orderId")}))``."""
    return Xslt(stylesheet, parameters=parameters, headers_as_parameters=headers_as_parameters, output=output)


__all__ = ["Xslt", "document_of", "load_trusted_xml", "trusted_parser", "xslt"]

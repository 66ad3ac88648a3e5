"""XML Schema validation: ``.validate(xsd("order.xsd"))``.

``xsd(...)`` loads and compiles the schema once (a missing or broken schema is a
``ConfigurationError`` before the route starts); each thread keeps its own compiled copy,
because an lxml schema keeps its error log on the object. The schema is trusted configuration
(read without network access; ``xs:include``/``xs:import`` of local files work relative to the
schema's path); the message body is parsed with the engine's one safe parser.

Used as a predicate it returns True for a valid body and otherwise raises
``SchemaValidationError`` (a ``ValidationError``) instead of returning False, so that the error
names every problem: its ``errors`` attribute lists ``(line, column, message)`` of each schema
error, and its text says ``line 4, column 0: Element 'qty': 'x' is not a valid value of the
atomic type 'xs:int'`` for each. A body that is not well-formed XML, or that the safe parser
rejects (entities, external DTD), raises ``SchemaValidationError`` as well, with the parser's
line and message; an lxml element body has no line numbers unless it was parsed from text.
"""

from __future__ import annotations

import threading
from typing import Any

from lxml import etree

from eip.errors import ConfigurationError, SchemaValidationError
from eip.xml_transform import document_of, load_trusted_xml

_MAX_LISTED = 20  # errors spelled out in the message; ``errors`` holds them all


class Xsd:
    """A compiled XML schema usable as a ``validate()`` predicate."""

    def __init__(self, schema: Any) -> None:
        self._doc, self.name = load_trusted_xml(schema, "schema")
        self._compile_lock = threading.Lock()
        self._local = threading.local()
        self._local.schema = self._compile()

    def _compile(self) -> Any:
        with self._compile_lock:
            try:
                return etree.XMLSchema(self._doc)
            except etree.XMLSchemaParseError as exc:
                raise ConfigurationError(f"schema {self.name} does not compile: {exc}") from exc

    def _schema(self) -> Any:
        schema = getattr(self._local, "schema", None)
        if schema is None:
            schema = self._local.schema = self._compile()
        return schema

    def errors(self, body: Any) -> list[tuple[int, int, str]]:
        """``(line, column, message)`` of each problem of ``body``; empty when it is valid."""
        try:
            document = document_of(body)
        except etree.XMLSyntaxError as exc:  # UnsafeXmlError included
            line, column = exc.position if exc.position else (0, 0)
            return [(line or 0, column or 0, getattr(exc, "msg", None) or str(exc))]
        except TypeError as exc:
            return [(0, 0, str(exc))]
        schema = self._schema()
        if schema.validate(document):
            return []
        return [(e.line, e.column, e.message) for e in schema.error_log]

    def check(self, body: Any) -> None:
        """Raise ``SchemaValidationError`` unless ``body`` is valid."""
        problems = self.errors(body)
        if problems:
            listed = "; ".join(
                f"line {line}, column {column}: {message}" for line, column, message in problems[:_MAX_LISTED]
            )
            more = f"; and {len(problems) - _MAX_LISTED} more" if len(problems) > _MAX_LISTED else ""
            count = f"{len(problems)} error{'s' if len(problems) != 1 else ''}"
            raise SchemaValidationError(f"xsd({self.name}): {count}: {listed}{more}", errors=problems)

    def __call__(self, exchange: Any) -> bool:
        """True for a valid body; raises ``SchemaValidationError`` listing every error otherwise."""
        self.check(exchange.message.body)
        return True

    def __repr__(self) -> str:
        return f"xsd({self.name!r})"


def xsd(schema: Any) -> Xsd:
    """A schema validator for ``validate(xsd("order.xsd"))``: a path, schema text or an lxml tree."""
    return Xsd(schema)


__all__ = ["Xsd", "xsd"]

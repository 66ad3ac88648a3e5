"""The engine's exception tree, drawn once.

    EipError
    ├── ConfigurationError            a route or endpoint is wrong; found before anything starts
    │   ├── RouteDefinitionError      DSL misuse: when() outside choice(), unclosed block, ...
    │   ├── UnknownComponentError     no component for a URI scheme
    │   ├── EndpointOptionError       unknown or mistyped endpoint option (with a suggestion)
    │   └── ConfigFileError           the config file (or an EIP_ variable, a secret it names) is wrong
    ├── ExchangeError                 something went wrong while an exchange was routed
    │   ├── ExpressionError           an expression or predicate raised or got the wrong input
    │   ├── AggregationError          an aggregation strategy misbehaved (returned None, ...)
    │   │   ├── ClosedCorrelationKeyError  a message for a group that completed and was closed
    │   │   └── OptimisticLockingError another process changed a durable repository's group first
    │   ├── SplitError                the splitter could not split the body
    │   ├── ValidationError           validate() rejected the message
    │   │   └── SchemaValidationError xsd(): the body breaks the schema (``errors``: line, column, message)
    │   ├── TransformError            xslt() could not transform the message
    │   ├── CircuitOpenError          a circuit breaker is open and there is no fallback
    │   ├── CircuitBreakerTimeoutError a circuit breaker's block did not finish in time
    │   ├── ThrottlerRejectedError    the throttler rejected the exchange (reject_execution, stop)
    │   ├── DelayInterruptedError     the route stopped while an exchange was delayed
    │   ├── RedeliveryInterruptedError the route stopped while an exchange waited for a redelivery
    │   ├── RollbackError             rollback() failed the exchange on purpose
    │   └── TypeConversionError       convert_body_to / marshal / unmarshal could not convert
    ├── EndpointError                 an endpoint could not do its job
    │   ├── NoConsumerError           sending to direct: with no consumer
    │   ├── QueueFullError            seda: queue full and block_when_full is off
    │   ├── QueueClosedError          seda: queue closed (engine stopping or stopped)
    │   ├── ExchangeDiscardedError    seda: the engine stopped before a queued exchange ran
    │   ├── ExchangeTimedOutError     a caller waiting for a reply gave up
    │   ├── FileOperationError        file: a file could not be read, decoded, written or moved
    │   │   └── UnsafeFileNameError   file: a file name would escape its folder (``..``, absolute, NUL)
    │   ├── HttpOperationFailedError  http: a non-2xx answer (``status_code``, ``reason``, ``response_body``,
    │   │                             ``response_headers``)
    │   ├── EndpointNotConnectedError a broker, database or HTTP server is unreachable
    │   │   └── SqlConnectionError    a database connection failed or was lost (also a SqlError)
    │   ├── SqlError                  a SQL statement failed (``datasource``, ``statement``; no values):
    │   │                             raised by eip.datasources, the SQL repositories and ``sql:``
    │   │                             (core, since the core raises it; re-exported by components.sql.errors)
    │   └── (component errors)        each in its component's ``errors`` module, rooted here:
    │                                 components.amqp.errors   AmqpError, MessageUnroutableError,
    │                                                          MessageNackedError
    │                                 components.ibmmq.errors  MqError, MqConnectionError (also an
    │                                                          EndpointNotConnectedError), MqClientNotInstalledError
    │                                 components.soap.errors   SoapFault (``retryable = False``)
    └── eip.safe_xml.UnsafeXmlError        the safe XML parser rejected entity declarations or an external
                                      DTD (also an ``lxml.etree.XMLSyntaxError``; lives in eip.safe_xml)

A component's own errors live in its package and extend ``EndpointError`` (an outage also
``EndpointNotConnectedError``); this module imports no component. Their old names here and in
``eip`` (``eip.errors.SoapFault``, ``eip.MqError``, ...) still resolve, imported from the
component on first use.

Exceptions carry context as attributes (``route_id``, ``node_id``, ``uri`` with secrets masked)
so that logs and error handlers can say where it went wrong. An exception whose ``retryable``
attribute is ``False`` (``SoapFault``) is not redelivered by an error handler's general policy;
only an ``on_exception`` clause that matches it and sets its own redelivery options redelivers it.

Bad legacy data (copybook records, EBCDIC, packed decimal, MQ headers) raises errors of the
``legacy`` codecs, rooted in ``legacy.errors.LegacyFormatError`` and not in ``EipError``, so that
the codecs import without the engine. The engine's copybook and fixed-width data formats
(``eip.legacy_formats``) let them through unwrapped: error handlers match them by their class.
"""

from __future__ import annotations

import importlib
from typing import Any

from eip.secrets import mask_uri


class EipError(Exception):
    """Base of every error raised by the engine."""


class ConfigurationError(EipError):
    """A route, endpoint or option is wrong; raised before any consumer runs."""

    def __init__(
        self, message: str, *, route_id: str | None = None, node_id: str | None = None, location: str | None = None
    ) -> None:
        self.route_id = route_id
        self.node_id = node_id
        self.location = location
        where = []
        if route_id:
            where.append(f"route '{route_id}'")
        if node_id:
            where.append(f"node '{node_id}'")
        if location:
            where.append(f"at {location}")
        self.detail = message
        super().__init__(f"{', '.join(where)}: {message}" if where else message)

    def at_node(self, route_id: str | None, node: Any) -> ConfigurationError:
        """The same error (same class and detail) naming ``route_id`` and ``node``'s id and location."""
        return type(self)(
            self.detail,
            route_id=route_id,
            node_id=getattr(node, "node_id", None),
            location=getattr(node, "location", None),
        )


class RouteDefinitionError(ConfigurationError):
    """The DSL was used in a way that does not describe one route unambiguously."""


class UnknownComponentError(ConfigurationError):
    """No component is registered for a URI scheme."""


class EndpointOptionError(ConfigurationError):
    """An endpoint URI has an unknown option or a value of the wrong type."""


class ConfigFileError(ConfigurationError):
    """The config file is wrong: unknown key (with a suggestion), bad value, or a secret it
    references (``${env:NAME}``, ``${file:PATH}``) is missing. Never carries a secret's value.
    ``problems`` lists every problem found (``FILE:LINE: key.path: what``), the message all of them."""

    def __init__(self, message: str, *, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems) if problems else [message]


class ExchangeError(EipError):
    """Routing an exchange failed inside the engine (not in user code)."""

    def __init__(self, message: str, *, route_id: str | None = None, node_id: str | None = None) -> None:
        self.route_id = route_id
        self.node_id = node_id
        super().__init__(message)


class ExpressionError(ExchangeError):
    """An expression or predicate could not be evaluated."""


class AggregationError(ExchangeError):
    """An aggregation strategy returned something unusable."""


class SplitError(ExchangeError):
    """The splitter could not split the body (for example it is not iterable)."""


class ValidationError(ExchangeError):
    """validate() found the message invalid."""


class SchemaValidationError(ValidationError):
    """An XML body breaks its XML schema; ``errors`` lists ``(line, column, message)`` of each."""

    def __init__(
        self,
        message: str,
        *,
        errors: list[tuple[int, int, str]] | None = None,
        route_id: str | None = None,
        node_id: str | None = None,
    ) -> None:
        super().__init__(message, route_id=route_id, node_id=node_id)
        self.errors = list(errors or [])


class TransformError(ExchangeError):
    """An XSLT transformation failed (a stylesheet error at run time, ``xsl:message terminate``)."""


class CircuitOpenError(ExchangeError):
    """A circuit breaker is open and no fallback is configured."""


class ThrottlerRejectedError(ExchangeError):
    """The throttler rejected an exchange."""


class ClosedCorrelationKeyError(AggregationError):
    """An exchange arrived for a correlation key whose group already completed and was closed."""

    def __init__(
        self, message: str, *, key: object = None, route_id: str | None = None, node_id: str | None = None
    ) -> None:
        super().__init__(message, route_id=route_id, node_id=node_id)
        self.key = key


class OptimisticLockingError(AggregationError):
    """A durable aggregation repository's group changed between read and write (another
    process or repository wrote it first). The aggregator retries with the fresh group; it
    raises this only when retries run out, so the incoming exchange fails (never dropped)."""

    def __init__(
        self, message: str, *, key: object = None, route_id: str | None = None, node_id: str | None = None
    ) -> None:
        super().__init__(message, route_id=route_id, node_id=node_id)
        self.key = key


class CircuitBreakerTimeoutError(ExchangeError):
    """The circuit breaker's block did not finish within ``timeout``."""


class DelayInterruptedError(ExchangeError):
    """The route stopped while an exchange was being delayed."""


class RedeliveryInterruptedError(ExchangeError):
    """The route (or the engine) stopped while an exchange waited for a redelivery: the
    exchange fails without that retry, is not dead-lettered, and its source keeps the message.
    The failure that was to be redelivered is the ``__cause__``."""


class RollbackError(ExchangeError):
    """Raised by ``rollback()``: the exchange fails and its source keeps the message."""


class TypeConversionError(ExchangeError):
    """convert_body_to could not convert the body to the requested type."""


class EndpointError(EipError):
    """An endpoint failed to produce or consume."""

    def __init__(self, message: str, *, uri: str | None = None) -> None:
        self.uri = mask_uri(uri) if uri else uri  # messages are logged and returned: never a password
        super().__init__(f"{self.uri}: {message}" if uri else message)


class NoConsumerError(EndpointError):
    """A synchronous in-process endpoint has no consumer to hand the exchange to."""


class QueueFullError(EndpointError):
    """An in-memory queue is full and the producer may not block."""


class QueueClosedError(EndpointError):
    """The queue is closed (the engine is stopped or stopping): the exchange was not accepted."""


class ExchangeDiscardedError(EndpointError):
    """The engine stopped before this queued exchange ran; it was failed, not kept."""


class ExchangeTimedOutError(EndpointError):
    """A caller waiting for a reply gave up after its timeout."""


class FileOperationError(EndpointError):
    """A file endpoint could not read, decode, write or move a file; ``path`` names the file."""

    def __init__(self, message: str, *, uri: str | None = None, path: str | None = None) -> None:
        self.path = path
        super().__init__(message, uri=uri)


class UnsafeFileNameError(FileOperationError):
    """A file name (from a header or template) would escape the endpoint's folder."""


class EndpointNotConnectedError(EndpointError):
    """The system behind an endpoint is not reachable."""


class HttpOperationFailedError(EndpointError):
    """An HTTP server answered with a status outside the endpoint's ``ok_status_code_range``
    (non-2xx by default). ``status_code``, ``reason``, ``response_body`` (text), ``response_headers``
    (dict) and ``redirect_location`` (for a 3xx) say what it answered; the message names only
    the masked URI and the status, never the body."""

    def __init__(
        self,
        message: str,
        *,
        uri: str | None = None,
        status_code: int = 0,
        reason: str = "",
        response_body: str = "",
        response_headers: dict[str, str] | None = None,
        redirect_location: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.reason = reason
        self.response_body = response_body
        self.response_headers = dict(response_headers or {})
        self.redirect_location = redirect_location
        super().__init__(message, uri=uri)


class SqlError(EndpointError):
    """A SQL statement failed. ``datasource`` and ``statement`` say which; bound values are never
    part of the message. The driver's exception is the ``__cause__``."""

    def __init__(
        self, message: str, *, uri: str | None = None, datasource: str | None = None, statement: str | None = None
    ) -> None:
        self.datasource = datasource
        self.statement = statement
        super().__init__(message)  # not prefixed with the URI: it is the statement, named already
        self.uri = uri


class SqlConnectionError(SqlError, EndpointNotConnectedError):
    """The database could not be reached or dropped the connection: worth a redelivery."""


def find_cause(exc: BaseException | None, kind: type[BaseException]) -> BaseException | None:
    """``exc`` itself or the first of its ``__cause__`` chain that is a ``kind`` (20 links at most)."""
    current = exc
    for _ in range(20):
        if current is None:
            return None
        if isinstance(current, kind):
            return current
        current = current.__cause__
    return None


def is_transient(exc: BaseException | None, depth: int = 20) -> bool:
    """True when ``exc`` or an exception it came from (``__cause__``, else ``__context__``, at
    most ``depth`` links) says a system was unreachable (``EndpointNotConnectedError``): the
    message should go back to its source unchanged rather than to a dead letter."""
    for _ in range(depth):
        if exc is None:
            return False
        if isinstance(exc, EndpointNotConnectedError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


# Component errors that used to live here: resolved on first use, so importing the core
# imports no component.
MOVED = {
    "AmqpError": "components.amqp.errors",
    "MessageUnroutableError": "components.amqp.errors",
    "MessageNackedError": "components.amqp.errors",
    "MqError": "components.ibmmq.errors",
    "MqConnectionError": "components.ibmmq.errors",
    "MqClientNotInstalledError": "components.ibmmq.errors",
    "SoapFault": "components.soap.errors",
}


def __getattr__(name: str) -> type[EndpointError]:
    """A moved component error, imported from its component (``MOVED``)."""
    module = MOVED.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    cls: type[EndpointError] = getattr(importlib.import_module(module), name)
    return cls

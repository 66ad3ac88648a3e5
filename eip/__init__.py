"""A Camel-style Enterprise Integration Patterns routing engine for Python.

Route authors import from here only; ``__all__`` is the public API. Component authors use
``eip.component`` (the SPI) and ``eip.options``; tests use ``eip.testing``.
"""

from eip.dataformat import DataFormat, JsonDataFormat, xml
from eip.dsl import RouteBuilder
from eip.engine import Engine
from eip.errors import (
    AggregationError,
    CircuitOpenError,
    ClosedCorrelationKeyError,
    ConfigurationError,
    EipError,
    EndpointError,
    EndpointNotConnectedError,
    EndpointOptionError,
    ExchangeError,
    ExchangeTimedOutError,
    ExpressionError,
    FileOperationError,
    HttpOperationFailedError,
    NoConsumerError,
    OptimisticLockingError,
    QueueFullError,
    RouteDefinitionError,
    SchemaValidationError,
    SplitError,
    SqlError,
    ThrottlerRejectedError,
    TransformError,
    TypeConversionError,
    UnknownComponentError,
    ValidationError,
)
from eip.exchange import Exchange, ExchangePattern, InOnly, InOut
from eip.expressions import (
    Expression,
    body,
    constant,
    exchange_property,
    header,
    jsonpath,
    simple,
    xpath,
)
from eip.file_body import FileBody
from eip.message import Headers, Message
from eip.model.error_handling import dead_letter_channel, default_error_handler
from eip.repositories.aggregation import (
    AggregationRepository,
    MemoryAggregationRepository,
)
from eip.repositories.claim_check import (
    ClaimCheckRepository,
    MemoryClaimCheckRepository,
)
from eip.repositories.idempotent import IdempotentRepository, MemoryIdempotentRepository
from eip.repositories.sql_aggregation import SqlAggregationRepository
from eip.repositories.sql_claim_check import SqlClaimCheckRepository
from eip.repositories.sql_idempotent import SqlIdempotentRepository
from eip.strategies import (
    concat_bodies,
    group_bodies,
    group_exchanges,
    use_latest,
    use_original,
)
from eip.xml_schema import xsd
from eip.xml_transform import xslt

__all__ = [
    "MqConnectionError",
    "MqError",
    "SoapFault",
    "EndpointNotConnectedError",
    "ExchangeTimedOutError",
    "HttpOperationFailedError",
    "FileBody",
    "FileOperationError",
    "JsonDataFormat",
    "SchemaValidationError",
    "SqlError",
    "TransformError",
    "xml",
    "xsd",
    "xslt",
    "AggregationError",
    "AggregationRepository",
    "CircuitOpenError",
    "ClaimCheckRepository",
    "ClosedCorrelationKeyError",
    "ConfigurationError",
    "DataFormat",
    "EipError",
    "EndpointError",
    "EndpointOptionError",
    "Engine",
    "Exchange",
    "ExchangeError",
    "ExchangePattern",
    "Expression",
    "ExpressionError",
    "Headers",
    "IdempotentRepository",
    "InOnly",
    "InOut",
    "MemoryAggregationRepository",
    "MemoryClaimCheckRepository",
    "MemoryIdempotentRepository",
    "Message",
    "NoConsumerError",
    "OptimisticLockingError",
    "QueueFullError",
    "RouteBuilder",
    "RouteDefinitionError",
    "SplitError",
    "SqlAggregationRepository",
    "SqlClaimCheckRepository",
    "SqlIdempotentRepository",
    "ThrottlerRejectedError",
    "TypeConversionError",
    "UnknownComponentError",
    "ValidationError",
    "body",
    "concat_bodies",
    "constant",
    "dead_letter_channel",
    "default_error_handler",
    "exchange_property",
    "group_bodies",
    "group_exchanges",
    "header",
    "jsonpath",
    "simple",
    "use_latest",
    "use_original",
    "xpath",
]


def __getattr__(name: str) -> object:
    """A component error that moved to its component (``eip.errors.MOVED``: ``SoapFault``,
    ``MqError``, ...), imported on first use so that ``import eip`` imports no component."""
    from eip import errors

    if name in errors.MOVED:
        return getattr(errors, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

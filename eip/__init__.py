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
    EndpointOptionError,
    ExchangeError,
    ExchangeTimedOutError,
    ExpressionError,
    EndpointNotConnectedError,
    FileOperationError,
    HttpOperationFailedError,
    NoConsumerError,
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
from eip.expressions import Expression, body, constant, exchange_property, header, jsonpath, simple, xpath
from eip.message import Headers, Message
from eip.model.error_handling import dead_letter_channel, default_error_handler
from eip.repositories.aggregation import AggregationRepository, MemoryAggregationRepository
from eip.repositories.claim_check import ClaimCheckRepository, MemoryClaimCheckRepository
from eip.repositories.idempotent import IdempotentRepository, MemoryIdempotentRepository
from eip.file_body import FileBody
from eip.strategies import concat_bodies, group_bodies, group_exchanges, use_latest, use_original
from eip.xml_schema import xsd
from eip.xml_transform import xslt

__all__ = [
    "EndpointNotConnectedError", "ExchangeTimedOutError", "HttpOperationFailedError", "FileBody", "FileOperationError", "JsonDataFormat", "SchemaValidationError",
    "SqlError", "TransformError", "xml", "xsd", "xslt",
    "AggregationError", "AggregationRepository", "CircuitOpenError", "ClaimCheckRepository",
    "ClosedCorrelationKeyError", "ConfigurationError", "DataFormat", "EipError", "EndpointError",
    "EndpointOptionError", "Engine", "Exchange", "ExchangeError", "ExchangePattern", "Expression",
    "ExpressionError", "Headers", "IdempotentRepository", "InOnly", "InOut",
    "MemoryAggregationRepository", "MemoryClaimCheckRepository", "MemoryIdempotentRepository",
    "Message", "NoConsumerError", "QueueFullError", "RouteBuilder", "RouteDefinitionError",
    "SplitError", "ThrottlerRejectedError", "TypeConversionError", "UnknownComponentError",
    "ValidationError", "body", "concat_bodies", "constant", "dead_letter_channel",
    "default_error_handler", "exchange_property", "group_bodies", "group_exchanges", "header",
    "jsonpath", "simple", "use_latest", "use_original", "xpath",
]

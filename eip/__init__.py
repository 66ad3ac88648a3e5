"""A Camel-style Enterprise Integration Patterns routing engine for Python.

Route authors import from here only; ``__all__`` is the public API.
"""

from eip.dsl import RouteBuilder
from eip.engine import Engine
from eip.errors import (
                        ConfigurationError,
                        EipError,
                        EndpointError,
                        EndpointOptionError,
                        ExchangeError,
                        ExpressionError,
                        NoConsumerError,
                        RouteDefinitionError,
                        UnknownComponentError,
)
from eip.exchange import Exchange, ExchangePattern, InOnly, InOut
from eip.expressions import Expression, body, constant, exchange_property, header, jsonpath, simple, xpath
from eip.message import Headers, Message
from eip.model.error_handling import dead_letter_channel, default_error_handler

__all__ = [
    "ConfigurationError", "EipError", "EndpointError", "EndpointOptionError", "Engine", "Exchange",
    "ExchangeError", "ExchangePattern", "Expression", "ExpressionError", "Headers", "InOnly", "InOut",
    "Message", "NoConsumerError", "RouteBuilder", "RouteDefinitionError", "UnknownComponentError",
    "body", "constant", "dead_letter_channel", "default_error_handler", "exchange_property", "header",
    "jsonpath", "simple", "xpath",
]

"""The route model: immutable definitions that the DSL records and the compiler turns into processors."""

from eip.model.base import Block, Node
from eip.model.blocks import (
                              Aggregate,
                              Choice,
                              CircuitBreaker,
                              Filter,
                              IdempotentConsumer,
                              LoadBalance,
                              Loop,
                              Multicast,
                              OnCompletion,
                              OnFallback,
                              Otherwise,
                              Pipeline,
                              Resequence,
                              Split,
                              When,
)
from eip.model.endpoints import Enrich, From, PollEnrich, To, ToD, WireTap
from eip.model.error_handling import (
                              DeadLetterChannel,
                              DefaultErrorHandler,
                              DoCatch,
                              DoFinally,
                              DoTry,
                              OnException,
                              RedeliveryPolicy,
)
from eip.model.route import RouteDefinition
from eip.model.transformation import (
                              Bean,
                              ClaimCheck,
                              ConvertBodyTo,
                              Delay,
                              DynamicRouter,
                              Log,
                              Marshal,
                              Process,
                              RecipientList,
                              RemoveHeader,
                              RemoveHeaders,
                              Rollback,
                              RoutingSlip,
                              Sample,
                              SetBody,
                              SetHeader,
                              SetProperty,
                              Stop,
                              Throttle,
                              Transform,
                              Unmarshal,
                              Validate,
)

__all__ = [
    "Aggregate", "Bean", "Block", "Choice", "CircuitBreaker", "ClaimCheck", "ConvertBodyTo",
    "DeadLetterChannel", "DefaultErrorHandler", "Delay", "DoCatch", "DoFinally", "DoTry",
    "DynamicRouter", "Enrich", "Filter", "From", "IdempotentConsumer", "LoadBalance", "Log",
    "Loop", "Marshal", "Multicast", "Node", "OnCompletion", "OnException",
    "OnFallback", "Otherwise", "Pipeline", "PollEnrich", "Process", "RecipientList",
    "RedeliveryPolicy", "RemoveHeader", "RemoveHeaders", "Resequence", "Rollback",
    "RouteDefinition", "RoutingSlip", "Sample", "SetBody", "SetHeader", "SetProperty", "Split",
    "Stop", "Throttle", "To", "ToD", "Transform", "Unmarshal", "Validate", "When", "WireTap",
]

"""Names of the exchange properties and headers the engine sets, in one place.

Camel spells these ``CamelSplitIndex`` and so on; we keep the same names so that people
coming from Camel recognise them, and so that the values survive a hop through a broker.
"""

# Splitter
SPLIT_INDEX = "CamelSplitIndex"
SPLIT_SIZE = "CamelSplitSize"
SPLIT_COMPLETE = "CamelSplitComplete"

# Multicast / recipient list
MULTICAST_INDEX = "CamelMulticastIndex"
MULTICAST_COMPLETE = "CamelMulticastComplete"

# Aggregator
AGGREGATED_SIZE = "CamelAggregatedSize"
AGGREGATED_COMPLETED_BY = "CamelAggregatedCompletedBy"
AGGREGATED_CORRELATION_KEY = "CamelAggregatedCorrelationKey"

# Loop
LOOP_INDEX = "CamelLoopIndex"
LOOP_SIZE = "CamelLoopSize"

# Error handling (properties unless noted)
EXCEPTION_CAUGHT = "CamelExceptionCaught"
FAILURE_ENDPOINT = "CamelFailureEndpoint"
FAILURE_ROUTE_ID = "CamelFailureRouteId"
FAILURE_NODE_ID = "CamelFailureNodeId"
ERROR_HANDLER_HANDLED = "CamelErrorHandlerHandled"
REDELIVERED = "CamelRedelivered"  # header
REDELIVERY_COUNTER = "CamelRedeliveryCounter"  # header
REDELIVERY_MAX_COUNTER = "CamelRedeliveryMaxCounter"  # header
DEAD_LETTER_CAUSE = "CamelDeadLetterCause"  # header: one-line text of the cause, readable after a broker hop

# Routing
TO_ENDPOINT = "CamelToEndpoint"
SLIP_ENDPOINT = "CamelSlipEndpoint"
DUPLICATE_MESSAGE = "CamelDuplicateMessage"
FILTER_MATCHED = "CamelFilterMatched"
CIRCUIT_BREAKER_STATE = "CamelCircuitBreakerState"
RESPONSE_FROM_FALLBACK = "CamelResponseFromFallback"
RESPONSE_SHORT_CIRCUITED = "CamelResponseShortCircuited"
RESPONSE_SUCCESSFUL_EXECUTION = "CamelResponseSuccessfulExecution"
RESPONSE_TIMED_OUT = "CamelResponseTimedOut"
CLAIM_CHECK_REPOSITORY = "CamelClaimCheckRepository"
TIMER_COUNTER = "CamelTimerCounter"
TIMER_NAME = "CamelTimerName"

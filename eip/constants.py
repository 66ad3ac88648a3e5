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
TIMER_FIRED_TIME = "CamelTimerFiredTime"  # timezone-aware datetime the fire started (cron:, scheduler:)
TIMER_SCHEDULED_TIME = "CamelTimerScheduledTime"  # the datetime the fire was due (cron:, scheduler:)

# Batch consumers (properties): position of an exchange in the batch one poll took
BATCH_INDEX = "CamelBatchIndex"  # 0-based
BATCH_SIZE = "CamelBatchSize"
BATCH_COMPLETE = "CamelBatchComplete"

# SQL component (headers)
SQL_ROW_COUNT = "CamelSqlRowCount"  # rows a SELECT returned (producer), or rows one poll took (consumer)
SQL_UPDATE_COUNT = "CamelSqlUpdateCount"  # rows an INSERT/UPDATE/DELETE changed (a batch: the sum)

# File component (headers)
FILE_NAME = "CamelFileName"  # path relative to the consumer's folder; the producer writes to it
FILE_NAME_ONLY = "CamelFileNameOnly"
FILE_NAME_CONSUMED = "CamelFileNameConsumed"
FILE_RELATIVE_PATH = "CamelFileRelativePath"
FILE_ABSOLUTE_PATH = "CamelFileAbsolutePath"
FILE_PARENT = "CamelFileParent"
FILE_LENGTH = "CamelFileLength"
FILE_LAST_MODIFIED = "CamelFileLastModified"  # milliseconds since the epoch, as Camel
FILE_NAME_PRODUCED = "CamelFileNameProduced"  # absolute path the producer wrote

# AMQP component (headers), named as Camel's RabbitMQ component names them. The first group maps
# to and from the AMQP message properties; the second is set by the consumer only (never published).
AMQP_MESSAGE_ID = "CamelRabbitmqMessageId"
AMQP_CORRELATION_ID = "CamelRabbitmqCorrelationId"
AMQP_REPLY_TO = "CamelRabbitmqReplyTo"
AMQP_CONTENT_TYPE = "CamelRabbitmqContentType"
AMQP_CONTENT_ENCODING = "CamelRabbitmqContentEncoding"
AMQP_TIMESTAMP = "CamelRabbitmqTimestamp"  # timezone-aware datetime (AMQP keeps whole seconds)
AMQP_PRIORITY = "CamelRabbitmqPriority"
AMQP_EXPIRATION = "CamelRabbitmqExpiration"  # per-message TTL, milliseconds as text
AMQP_TYPE = "CamelRabbitmqType"
AMQP_APP_ID = "CamelRabbitmqAppId"
AMQP_USER_ID = "CamelRabbitmqUserId"  # consumed only: the broker rejects a user id other than the sender's
AMQP_DELIVERY_MODE = "CamelRabbitmqDeliveryMode"  # consumed only: the producer's ``persistent`` decides
AMQP_EXCHANGE_NAME = "CamelRabbitmqExchangeName"
AMQP_ROUTING_KEY = "CamelRabbitmqRoutingKey"
AMQP_DELIVERY_TAG = "CamelRabbitmqDeliveryTag"
AMQP_REDELIVERED = "CamelRabbitmqRedeliveryTag"  # the broker's redelivered flag (Camel's name)
AMQP_REDELIVERY_COUNT = "CamelRabbitmqRedeliveryCount"  # AMQP header kept by requeue_on_failure

# HTTP component (headers), named as Camel's HTTP components name them. The consumer sets the
# first four from the request; a producer takes its method and query from them (see components/http).
HTTP_METHOD = "CamelHttpMethod"  # GET, POST, ...
HTTP_PATH = "CamelHttpPath"  # the request path, decoded: /orders/42
HTTP_QUERY = "CamelHttpQuery"  # the raw query string without '?': a=1&b=2 (absent when empty)
HTTP_URI = "CamelHttpUri"  # the request target as sent: /orders/42?a=1
HTTP_RESPONSE_CODE = "CamelHttpResponseCode"  # status of a reply (consumer) or of a response (producer)
HTTP_RESPONSE_TEXT = "CamelHttpResponseText"  # reason phrase of a producer's response
HTTP_INBOUND_HEADERS = "CamelHttpInboundHeaders"  # property: the headers the http consumer set from the request

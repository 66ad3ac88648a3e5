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
INBOUND_HEADERS = "CamelInboundHeaders"  # property: what a consumer received (eip.header_filter.Inbound)

# SOAP component (headers). The consumer sets the first four from the request; the producer sets
# the envelopes when its endpoint has keep_envelope=true.
SOAP_OPERATION = "CamelSoapOperation"  # the operation's name (GetQuote)
SOAP_ACTION = "CamelSoapAction"  # the SOAPAction the client sent (1.1 header, 1.2 action parameter)
SOAP_VERSION = "CamelSoapVersion"  # "1.1" or "1.2"
SOAP_HEADERS = "CamelSoapHeaders"  # dict of the WSDL-declared SOAP header parts (consumer in; producer out)
SOAP_RESPONSE_HEADERS = "CamelSoapResponseHeaders"  # consumer: dict of declared reply header parts to send
SOAP_REQUEST_ENVELOPE = "CamelSoapRequestEnvelope"  # producer, keep_envelope: the request as sent (bytes)
SOAP_RESPONSE_ENVELOPE = "CamelSoapResponseEnvelope"  # producer, keep_envelope: the response as received (bytes)

# IBM MQ component (headers): the MQMD fields, named as IBM MQ's JMS client names them
# (``JMS_IBM_MQMD_<field>``). The consumer sets them all; the producer writes the first group into
# the MQMD it puts. Format, CodedCharSetId and Encoding describe the body as the exchange carries
# it (after any RFH2 was taken off).
IBMMQ_MSG_ID = "JMS_IBM_MQMD_MsgId"  # bytes (24); the producer also takes "ID:<hex>" or text
IBMMQ_CORREL_ID = "JMS_IBM_MQMD_CorrelId"  # bytes (24), as MsgId
IBMMQ_FORMAT = "JMS_IBM_MQMD_Format"  # "MQSTR", "" (MQFMT_NONE: binary), ...
IBMMQ_CODED_CHARSET_ID = "JMS_IBM_MQMD_CodedCharSetId"  # int: 1208 UTF-8, 37/500/1047 EBCDIC...
IBMMQ_ENCODING = "JMS_IBM_MQMD_Encoding"  # int: 546 (x86), 785 (z/OS)
IBMMQ_PERSISTENCE = "JMS_IBM_MQMD_Persistence"  # int: 0 not persistent, 1 persistent, 2 as the queue says
IBMMQ_PRIORITY = "JMS_IBM_MQMD_Priority"  # int 0-9
IBMMQ_EXPIRY = "JMS_IBM_MQMD_Expiry"  # int, tenths of a second; -1 unlimited
IBMMQ_MSG_TYPE = "JMS_IBM_MQMD_MsgType"  # int: 1 request, 2 reply, 8 datagram
IBMMQ_REPORT = "JMS_IBM_MQMD_Report"  # int: MQRO_* report options
IBMMQ_FEEDBACK = "JMS_IBM_MQMD_Feedback"  # int
IBMMQ_REPLY_TO_Q = "JMS_IBM_MQMD_ReplyToQ"  # str
IBMMQ_REPLY_TO_Q_MGR = "JMS_IBM_MQMD_ReplyToQMgr"  # str
# set by the queue manager (read only):
IBMMQ_BACKOUT_COUNT = "JMS_IBM_MQMD_BackoutCount"  # int: times this message was backed out
IBMMQ_PUT_DATE = "JMS_IBM_MQMD_PutDate"  # str YYYYMMDD (UTC)
IBMMQ_PUT_TIME = "JMS_IBM_MQMD_PutTime"  # str HHMMSSTH (UTC)
IBMMQ_PUT_APPL_NAME = "JMS_IBM_MQMD_PutApplName"  # str
IBMMQ_USER_IDENTIFIER = "JMS_IBM_MQMD_UserIdentifier"  # str

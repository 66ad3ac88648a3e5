"""``ibmmq:QUEUE``: the endpoint, its options and the component."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from components.ibmmq.client import ConnectionParams
from components.ibmmq.consumer import IbmMqConsumer
from components.ibmmq.mapping import BODY_TYPES, PROPERTY_MODES, PROTOCOL
from components.ibmmq.producer import IbmMqProducer, SessionPool
from eip.component import Component, Consumer, Endpoint, Processor, Producer
from eip.errors import EndpointOptionError
from eip.header_filter import FORWARD_HEADERS_OPTION
from eip.options import Option, OptionSpec
from legacy.mq import MqHeaderError, codec_for

if TYPE_CHECKING:
    from eip.uri import Uri

PERSISTENCE = {"persistent": 1, "not_persistent": 0, "as_queue": 2}
MAX_NAME = 48

OPTIONS = OptionSpec(
    (
        Option(
            "queue_manager",
            "str",
            "",
            "Queue manager name (empty: the default queue manager, or whichever answers on conn_name).",
        ),
        Option(
            "channel",
            "str",
            None,
            "Server-connection channel, e.g. DEV.APP.SVRCONN (client mode, with "
            "conn_name; without both: local bindings).",
        ),
        Option(
            "conn_name", "str", None, "Where the queue manager listens: host(port), or a comma-separated list of them."
        ),
        Option("user", "str", None, "User id sent in the MQCSP for authentication."),
        Option(
            "password",
            "str",
            None,
            "Password for user; write {{name}} to take it from the config or the environment. Masked in logs.",
            secret=True,
        ),
        Option(
            "cipher_spec",
            "str",
            None,
            "TLS CipherSpec of the channel (MQCD SSLCipherSpec), e.g. "
            "ANY_TLS12_OR_HIGHER; needs key_repository (or MQSSLKEYR).",
        ),
        Option(
            "key_repository",
            "str",
            None,
            "TLS key repository stem (MQSCO KeyRepository), e.g. /var/mqm/ssl/key for key.kdb/key.p12.",
        ),
        Option("certificate_label", "str", None, "Label of this client's certificate in the key repository."),
        Option(
            "ssl_peer_name",
            "str",
            None,
            "Distinguished-name pattern the queue manager's certificate must match, e.g. CN=QM1*.",
        ),
        Option(
            "wait_interval",
            "duration",
            1.0,
            "Consumer: how long one MQGET waits for a message; also how long a stop may wait for a waiting MQGET.",
        ),
        Option(
            "concurrent_consumers",
            "int",
            1,
            "Consumer: threads getting from the queue, each with its own "
            "connection (MQ connection handles and units of work belong to one thread).",
        ),
        Option(
            "backout_threshold",
            "int",
            None,
            "Consumer: a message backed out this many times goes to the "
            "backout queue (default: the queue's BOTHRESH; 5 when the queue has none; 0: never, it is "
            "delivered again forever).",
        ),
        Option(
            "dead_letter_queue",
            "str",
            None,
            "Consumer: where a message over the threshold goes, with an MQDLH "
            "header, when the queue has no backout queue (BOQNAME); default: the queue manager's dead-letter "
            "queue.",
        ),
        Option(
            "commit_timeout",
            "duration",
            60.0,
            "Consumer: longest wait, after the route finished, for "
            "confirmations downstream (an amqp publisher confirm) before the message is backed out.",
        ),
        Option(
            "body_type",
            "str",
            "auto",
            "Consumer and replies: decode MQSTR bodies to str by their CCSID "
            "(auto), always decode (text) or keep bytes.",
            choices=BODY_TYPES,
        ),
        Option(
            "convert",
            "bool",
            False,
            "Consumer: ask the queue manager to convert MQSTR messages to ccsid (MQGMO_CONVERT).",
        ),
        Option(
            "disable_reply_to",
            "bool",
            False,
            "Consumer: treat request messages (MsgType 1 with a ReplyToQ) as InOnly: send no reply.",
        ),
        Option(
            "properties",
            "str",
            "rfh2",
            "Headers other than JMS_IBM_MQMD_* travel as RFH2 <usr> properties "
            "(rfh2), or not at all (none: for applications that cannot read RFH2).",
            choices=PROPERTY_MODES,
        ),
        Option(
            "ccsid",
            "int",
            1208,
            "Producer: CCSID text bodies are encoded in (1208 UTF-8, 37/500/1047 EBCDIC...); "
            "consumer with convert: the CCSID asked for.",
        ),
        Option(
            "persistence",
            "str",
            "persistent",
            "Producer: message persistence (as_queue: the queue's DEFPSIST).",
            choices=tuple(PERSISTENCE),
        ),
        Option("priority", "int", None, "Producer: message priority 0-9 (default: the queue's DEFPRTY)."),
        Option("expiry", "duration", None, "Producer: message lifetime (default: unlimited)."),
        Option(
            "reply_to",
            "str",
            None,
            "Producer, InOut exchanges: the queue replies come to (a shared queue; "
            "replies are matched by correlation id).",
        ),
        Option(
            "reply_to_queue_manager", "str", None, "Producer, InOut: the queue manager of reply_to, when another one."
        ),
        Option(
            "request_timeout",
            "duration",
            20.0,
            "Producer: how long an InOut exchange waits for its reply; "
            "also the longest wait for a free producer connection.",
        ),
        Option(
            "join_unit_of_work",
            "bool",
            True,
            "Producer on an ibmmq consumer's thread, same queue manager: put "
            "inside the consumer's unit of work (committed or backed out with its get).",
        ),
        Option(
            "producer_connections",
            "int",
            1,
            "Producer elsewhere: connections (each owned by a thread of its "
            "own) that puts and requests are handed to; shared by the endpoints of one queue manager.",
        ),
        Option(
            "reconnect_delay",
            "duration",
            1.0,
            "First wait before reconnecting; doubles up to "
            "max_reconnect_delay. Also the pause after a backout caused by an unreachable system.",
        ),
        Option("max_reconnect_delay", "duration", 30.0, "Longest wait between reconnect attempts."),
        FORWARD_HEADERS_OPTION,
    )
)


class IbmMqEndpoint(Endpoint):
    """``ibmmq:QUEUE`` on one queue manager."""

    options = OPTIONS
    inbound_protocol = PROTOCOL
    component: IbmMqComponent

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.queue = self.parsed.path
        self.params = ConnectionParams()
        self.consumers: list[IbmMqConsumer] = []

    def _fail(self, message: str) -> EndpointOptionError:
        return EndpointOptionError(f"endpoint '{self.uri}': {message}")

    def validate(self) -> None:
        values = self.values
        if not self.queue:
            raise self._fail("ibmmq: needs a queue name (ibmmq:QUEUE?queue_manager=...)")
        if len(self.queue) > MAX_NAME:
            raise self._fail(f"queue name '{self.queue}' is longer than {MAX_NAME} characters")
        if bool(values["channel"]) != bool(values["conn_name"]):
            raise self._fail(
                "channel and conn_name go together (client mode); give both, or neither for local bindings"
            )
        if not values["channel"]:
            for name in ("cipher_spec", "key_repository", "certificate_label", "ssl_peer_name"):
                if values[name]:
                    raise self._fail(f"option '{name}' is for client connections (give channel and conn_name)")
        if values["password"] is not None and values["user"] is None:
            raise self._fail("a password needs a user")
        for name, least in (("concurrent_consumers", 1), ("producer_connections", 1), ("backout_threshold", 0)):
            if values[name] is not None and values[name] < least:
                raise self._fail(f"{name} must be at least {least}, got {values[name]}")
        for name in ("wait_interval", "request_timeout", "commit_timeout", "reconnect_delay", "max_reconnect_delay"):
            if values[name] <= 0:
                raise self._fail(f"{name} must be more than 0, got {values[name]}")
        if values["max_reconnect_delay"] < values["reconnect_delay"]:
            raise self._fail("max_reconnect_delay must not be less than reconnect_delay")
        if values["priority"] is not None and not 0 <= values["priority"] <= 9:
            raise self._fail(f"priority must be 0-9, got {values['priority']}")
        if values["expiry"] is not None and values["expiry"] <= 0:
            raise self._fail(f"expiry must be more than 0, got {values['expiry']}")
        for name in ("reply_to", "reply_to_queue_manager", "dead_letter_queue", "queue_manager"):
            if values[name] and len(values[name]) > MAX_NAME:
                raise self._fail(f"{name} '{values[name]}' is longer than {MAX_NAME} characters")
        try:
            codec_for(values["ccsid"])
        except MqHeaderError:
            raise self._fail(f"ccsid {values['ccsid']} has no codec here") from None
        self.params = ConnectionParams(
            values["queue_manager"],
            values["channel"],
            values["conn_name"],
            values["user"],
            values["password"],
            values["cipher_spec"],
            values["key_repository"],
            values["certificate_label"],
            values["ssl_peer_name"],
        )

    def producer_defaults(self) -> dict[str, Any]:
        """The MQMD values a producer starts from (headers override them)."""
        values = self.values
        expiry = values["expiry"]
        return {
            "ccsid": values["ccsid"],
            "Persistence": PERSISTENCE[values["persistence"]],
            "Priority": -1 if values["priority"] is None else values["priority"],
            "Expiry": -1 if expiry is None else max(1, round(expiry * 10)),
        }

    def create_producer(self) -> Producer:
        return IbmMqProducer(self)

    def create_consumer(self, processor: Processor) -> Consumer:
        consumer = IbmMqConsumer(self, processor)
        self.consumers.append(consumer)
        return consumer

    def stop(self) -> None:
        consumers, self.consumers = self.consumers, []
        for consumer in consumers:
            consumer.close(timeout=2.0)


class IbmMqComponent(Component):
    """ibmmq:QUEUE?queue_manager=QM1&channel=DEV.APP.SVRCONN&conn_name=host(1414) - IBM MQ through the
    MQI (IBM's ibmmq package, else pymqi; the IBM MQ client library must be installed). A message is
    got under syncpoint and committed only after its exchange completed; a failure backs it out, and
    a message backed out BOTHRESH times goes to the backout queue (or a dead-letter queue with an
    MQDLH). No real queue manager was reachable where this was built: it is tested through IBM's
    own Python layer over an in-repo stand-in for the MQI C library (see the README)."""

    endpoint_class = IbmMqEndpoint

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._pools: dict[ConnectionParams, list[Any]] = {}  # params -> [pool, users]
        self._pools_lock = threading.Lock()

    def endpoint_key(self, uri: Uri) -> str:
        """The same queue name on another queue manager (or at another address) is another endpoint."""
        query = uri.query
        extra = "&".join(f"{name}={query[name]}" for name in ("queue_manager", "conn_name") if query.get(name))
        return f"{uri.key}?{extra}" if extra else uri.key

    def acquire_pool(self, endpoint: IbmMqEndpoint, mq: Any) -> SessionPool:
        """The shared producer connections to the endpoint's queue manager (started on first use)."""
        with self._pools_lock:
            entry = self._pools.get(endpoint.params)
            if entry is not None:
                entry[1] += 1
                return entry[0]  # type: ignore[no-any-return]
            pool = SessionPool(
                mq,
                endpoint.params,
                endpoint.values["producer_connections"],
                f"ibmmq producer ({endpoint.params.describe()})",
            )
            self._pools[endpoint.params] = [pool, 1]
            return pool

    def release_pool(self, pool: SessionPool) -> None:
        with self._pools_lock:
            for key, entry in list(self._pools.items()):
                if entry[0] is pool:
                    entry[1] -= 1
                    if entry[1] > 0:
                        return
                    del self._pools[key]
                    break
            else:
                return
        pool.stop()

    def stop(self) -> None:
        with self._pools_lock:
            pools = [entry[0] for entry in self._pools.values()]
            self._pools.clear()
        for pool in pools:
            pool.stop()

"""``amqp:queue:NAME`` and ``amqp:exchange:NAME``: the endpoint, its options and the component."""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import pika

from components.amqp.consumer import AmqpConsumer
from components.amqp.mapping import BODY_TYPES, PROTOCOL
from components.amqp.producer import AmqpProducer
from components.amqp.session import Session
from components.amqp.topology import Topology
from eip.component import Component, Consumer, Endpoint, Processor, Producer
from eip.errors import EndpointOptionError
from eip.header_filter import FORWARD_HEADERS_OPTION
from eip.options import Option, OptionSpec
from eip.secrets import mask_uri

if TYPE_CHECKING:
    from eip.uri import Uri

DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
URL_PROPERTY = "amqp.url"
_DECLARE_ONLY = (
    "exchange_type",
    "durable",
    "exclusive",
    "auto_delete",
    "dead_letter_exchange",
    "dead_letter_routing_key",
    "message_ttl",
    "arguments",
)
_INTEGER = re.compile(r"^-?\d+$")

OPTIONS = OptionSpec(
    (
        Option(
            "url",
            "str",
            None,
            "Broker, amqp://user:password@host:port/vhost (default: the engine property "
            f"'{URL_PROPERTY}', then {DEFAULT_URL}).",
            secret=True,
        ),
        Option(
            "routing_key",
            "str",
            "",
            "Exchange endpoints: the routing key to publish with, and to bind the consumer's queue with.",
        ),
        Option(
            "queue",
            "str",
            None,
            "Exchange consumers: the queue to bind and consume (default: a server-named, "
            "exclusive, auto-delete queue).",
        ),
        Option(
            "declare",
            "bool",
            False,
            "Declare the queue or exchange (and binding) on the broker, again after "
            "every reconnect; by default the endpoint uses what exists.",
        ),
        Option(
            "exchange_type",
            "str",
            "direct",
            "With declare: the exchange's type.",
            choices=("direct", "fanout", "topic", "headers"),
        ),
        Option("durable", "bool", True, "With declare: the queue or exchange survives a broker restart."),
        Option("exclusive", "bool", False, "With declare: the queue belongs to this connection only."),
        Option(
            "auto_delete",
            "bool",
            False,
            "With declare: delete the queue (exchange) when its last consumer (binding) goes.",
        ),
        Option(
            "dead_letter_exchange",
            "str",
            None,
            "With declare: the queue's x-dead-letter-exchange, where the broker puts rejected and expired messages.",
        ),
        Option("dead_letter_routing_key", "str", None, "With declare: the queue's x-dead-letter-routing-key."),
        Option("message_ttl", "duration", None, "With declare: the queue's x-message-ttl (sent in milliseconds)."),
        Option(
            "arguments",
            "str",
            "",
            "With declare: more queue arguments, name=value,name=value (integers and "
            "true/false are typed), e.g. x-max-priority=10,x-queue-type=quorum.",
        ),
        Option(
            "prefetch",
            "int",
            100,
            "Consumer: deliveries in hand per session (basic.qos); also bounds the "
            "window of unconfirmed downstream publishes.",
        ),
        Option("concurrent_consumers", "int", 1, "Consumer: sessions, each its own connection and thread."),
        Option(
            "requeue_on_failure",
            "bool",
            False,
            "Consumer: a failed exchange's message goes back to the queue "
            "(counted in CamelRabbitmqRedeliveryCount) instead of being rejected (dead-lettered).",
        ),
        Option(
            "maximum_redeliveries",
            "int",
            5,
            "Consumer with requeue_on_failure: redeliveries before the message is rejected (dead-lettered) after all.",
        ),
        Option("disable_reply_to", "bool", False, "Consumer: treat messages with reply_to as InOnly (send no reply)."),
        Option(
            "body_type",
            "str",
            "auto",
            "Consumer and replies: decode the body by content type (auto: JSON and "
            "text/*), always as text or json, or keep bytes.",
            choices=BODY_TYPES,
        ),
        Option(
            "publisher_confirms",
            "bool",
            True,
            "Producer: the source is acknowledged only after the broker confirmed the publish.",
        ),
        Option("mandatory", "bool", False, "Producer: a message no queue takes fails with MessageUnroutableError."),
        Option("persistent", "bool", True, "Producer: delivery mode 2 (persistent), else 1 (transient)."),
        Option(
            "request_timeout",
            "duration",
            20.0,
            "Producer: how long an InOut exchange waits for its reply; also "
            "the longest wait for a confirm or for room in the publisher's window.",
        ),
        Option(
            "reconnect_delay",
            "duration",
            1.0,
            "First wait before reconnecting; doubles up to "
            "max_reconnect_delay. Also the pause before a message that failed for want of a connection is "
            "requeued.",
        ),
        Option("max_reconnect_delay", "duration", 30.0, "Longest wait between reconnect attempts."),
        Option("connection_name", "str", None, "Connection name the broker shows (default 'eip')."),
        FORWARD_HEADERS_OPTION,
    )
)


def raw_url(uri: Uri) -> str | None:
    """The ``url`` option as written in ``uri``, for pika to decode once.

    The endpoint URI's parser has already percent-decoded the value; decoding again in pika
    turns a vhost written ``%2F`` into ``''`` (the path ``//``). Only ``%26``, the endpoint URI's
    way to write ``&`` inside an option, is decoded here: in a broker URL it means ``&`` too."""
    decoded = uri.query.get("url")
    if decoded is None:
        return None
    for match in re.finditer(r"[?&]url=([^&]*)", uri.text):
        written = match.group(1)
        if unquote(written.replace("+", "%2B")) == decoded:
            return re.sub("%26", "&", written, flags=re.IGNORECASE)
    return decoded


def parse_arguments(text: str) -> dict[str, Any]:
    """``x-max-priority=10,x-queue-type=quorum`` -> ``{"x-max-priority": 10, ...}``."""
    arguments: dict[str, Any] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"expected name=value, got {part!r}")
        value = value.strip()
        typed: Any = value
        if _INTEGER.match(value):
            typed = int(value)
        elif value.lower() in ("true", "false"):
            typed = value.lower() == "true"
        arguments[name.strip()] = typed
    return arguments


class AmqpEndpoint(Endpoint):
    """``amqp:queue:NAME`` or ``amqp:exchange:NAME`` on one broker."""

    options = OPTIONS
    inbound_protocol = PROTOCOL
    component: AmqpComponent

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.kind, _, self.name = self.parsed.path.partition(":")
        self.broker_url = DEFAULT_URL
        self.exchange_name = ""
        self.routing_key = ""
        self.body_type = "auto"
        self.disable_reply_to = False
        self.connection_name = "eip"
        self.consumer_topology = Topology()
        self.producer_topology = Topology()
        self.consumers: list[AmqpConsumer] = []
        self._url_written = raw_url(self.parsed)

    def merge_options(self, uri: Uri, given: dict[str, Any]) -> None:
        super().merge_options(uri, given)
        if "url" in given:
            self._url_written = raw_url(uri)

    def _fail(self, message: str) -> EndpointOptionError:
        return EndpointOptionError(f"endpoint '{self.uri}': {message}")

    def validate(self) -> None:
        """Check the options and work out what this endpoint publishes to and declares."""
        values, given = self.values, self.given
        if self.kind not in ("queue", "exchange"):
            raise self._fail("expected amqp:queue:NAME or amqp:exchange:NAME?routing_key=KEY")
        if self.kind == "queue":
            if not self.name:
                raise self._fail("amqp:queue: needs a queue name")
            for name in ("routing_key", "queue"):
                if name in given:
                    raise self._fail(
                        f"option '{name}' is for amqp:exchange: endpoints "
                        "(a queue endpoint publishes through the default exchange)"
                    )
        declaring = values["declare"]
        server_named = self.kind == "exchange" and not values["queue"]
        for name in _DECLARE_ONLY:
            if name in given and not declaring and not (server_named and name == "arguments"):
                raise self._fail(
                    f"option '{name}' only applies with declare=true (topology is declared only when asked)"
                )
        for name, least in (("prefetch", 0), ("concurrent_consumers", 1), ("maximum_redeliveries", 0)):
            if values[name] < least:
                raise self._fail(f"{name} must be at least {least}, got {values[name]}")
        for name in ("reconnect_delay", "max_reconnect_delay", "request_timeout"):
            if values[name] <= 0:
                raise self._fail(f"{name} must be more than 0, got {values[name]}")
        if values["max_reconnect_delay"] < values["reconnect_delay"]:
            raise self._fail("max_reconnect_delay must not be less than reconnect_delay")
        if values["message_ttl"] is not None and values["message_ttl"] < 0:
            raise self._fail("message_ttl must not be negative")
        try:
            arguments = parse_arguments(values["arguments"])
        except ValueError as exc:
            raise self._fail(f"option 'arguments': {exc}") from None
        url = (self._url_written if values["url"] else None) or self.engine.resolve_placeholders(
            "{{" + URL_PROPERTY + ":" + DEFAULT_URL + "}}"
        )
        try:
            pika.URLParameters(url)
        except Exception as exc:  # noqa: BLE001 - pika raises ValueError and friends
            raise self._fail(f"bad broker url {mask_uri(url)!r}: {exc}") from None
        self.broker_url = url
        self.body_type = values["body_type"]
        self.disable_reply_to = values["disable_reply_to"]
        self.connection_name = values["connection_name"] or "eip"
        if values["dead_letter_exchange"] is not None:
            arguments["x-dead-letter-exchange"] = values["dead_letter_exchange"]
        if values["dead_letter_routing_key"] is not None:
            arguments["x-dead-letter-routing-key"] = values["dead_letter_routing_key"]
        if values["message_ttl"] is not None:
            arguments["x-message-ttl"] = round(values["message_ttl"] * 1000)
        queue_options = {
            "durable": values["durable"],
            "exclusive": values["exclusive"],
            "auto_delete": values["auto_delete"],
            "arguments": tuple(sorted(arguments.items())),
        }
        if self.kind == "queue":
            self.exchange_name, self.routing_key = "", self.name
            self.consumer_topology = Topology(queue=self.name, declare_queue=declaring, **queue_options)
            self.producer_topology = self.consumer_topology if declaring else Topology()
        else:
            self.exchange_name, self.routing_key = self.name, values["routing_key"]
            exchange = (
                Topology(
                    exchange=self.name,
                    exchange_type=values["exchange_type"],
                    durable=values["durable"],
                    auto_delete=values["auto_delete"],
                )
                if declaring
                else Topology()
            )
            self.producer_topology = exchange
            self.consumer_topology = Topology(
                exchange=exchange.exchange,
                exchange_type=exchange.exchange_type,
                queue=values["queue"] or "",
                declare_queue=declaring or server_named,
                bind_exchange=self.name,
                bind_routing_key=values["routing_key"],
                **queue_options,
            )

    def create_producer(self) -> Producer:
        return AmqpProducer(self)

    def create_consumer(self, processor: Processor) -> Consumer:
        if self.kind == "exchange" and not self.name:
            raise self._fail("a consumer cannot bind to the default exchange; consume amqp:queue:NAME instead")
        consumer = AmqpConsumer(self, processor)
        self.consumers.append(consumer)
        return consumer

    def stop(self) -> None:
        consumers, self.consumers = self.consumers, []
        for consumer in consumers:
            consumer.close()


class AmqpComponent(Component):
    """amqp:queue:NAME | amqp:exchange:NAME?routing_key=KEY - RabbitMQ through pika, at-least-once:
    a delivery is acked only after its exchange completed and every publish downstream was
    confirmed by the broker. Topology is declared only with declare=true."""

    endpoint_class = AmqpEndpoint

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._publishers: dict[tuple[str, str], list[Any]] = {}  # key -> [session, users]
        self._publishers_lock = threading.Lock()

    def endpoint_key(self, uri: Uri) -> str:
        """An exchange with another routing key (or another consumer queue) is another
        destination, so another endpoint: ``amqp:exchange:x?routing_key=a`` and ``...=b`` coexist."""
        query = uri.query
        extra = "&".join(f"{name}={query[name]}" for name in ("routing_key", "queue") if name in query)
        return f"{uri.key}?{extra}" if extra else uri.key

    def acquire_publisher(self, endpoint: AmqpEndpoint) -> Session:
        """The shared publisher session for the endpoint's broker (started on first use)."""
        key = (endpoint.broker_url, endpoint.connection_name)
        with self._publishers_lock:
            entry = self._publishers.get(key)
            if entry is not None:
                entry[1] += 1
                return entry[0]
            values = endpoint.values
            session = Session(
                endpoint.broker_url,
                name=f"{endpoint.connection_name} publisher",
                uri=f"amqp publisher ({mask_uri(endpoint.broker_url)})",
                reconnect_delay=values["reconnect_delay"],
                max_reconnect_delay=values["max_reconnect_delay"],
            )
            session.start()
            self._publishers[key] = [session, 1]
            return session

    def release_publisher(self, session: Session) -> None:
        with self._publishers_lock:
            for key, entry in list(self._publishers.items()):
                if entry[0] is session:
                    entry[1] -= 1
                    if entry[1] > 0:
                        return
                    del self._publishers[key]
                    break
            else:
                return
        session.stop(drain=2.0)

    def stop(self) -> None:
        with self._publishers_lock:
            sessions = [entry[0] for entry in self._publishers.values()]
            self._publishers.clear()
        for session in sessions:
            session.stop(drain=2.0)

"""The AMQP producer: publish with publisher confirms, without blocking the route on each one.

Where a publish goes:

* on an AMQP consumer's thread, to the same broker: on that consumer's own connection (a
  publishing channel next to the consuming one). The confirm arrives on the same thread, so
  the whole bridge - deliver, route, publish, confirm, ack - runs on one thread with no hand-off;
* anywhere else: through a publisher session shared by the component (one connection and thread
  per broker URL), handed over with ``run_soon``.

When the exchange's unit of work has a source waiting for its outcome (a consumer's ack, a
file move), the producer takes ``hold()`` on it and returns at once; the broker's confirm
releases it (with the error when the broker nacked or returned the message, or the connection
died first), so the source is acknowledged only after the publish is safe, and the route goes on
with the next message meanwhile: a window of unconfirmed publishes, bounded by the consumer's
``prefetch``. Without such a source (a template send, a timer) the producer waits for the
confirm and raises its error into the route, where the error handler decides.

InOut exchanges do request-reply: the message is published with ``reply_to`` set to RabbitMQ's
direct reply-to and a correlation id (the ``CamelRabbitmqCorrelationId`` header, else a new
one); the reply's body and headers become the exchange's message, or ExchangeTimedOutError is
raised after ``request_timeout``. As in Camel, an exchange consumed from a message that has
``reply_to`` is InOut, so a ``to("amqp:...")`` in its route is a request-reply too: write
``to(uri, pattern=InOnly)`` to forward it, or set ``disable_reply_to`` on the consumer.

Headers an inbound HTTP request brought are not published unless ``forward_headers`` names them,
and credentials never are; control headers (``CC``, ``BCC``, ``x-delay``, the ``CamelRabbitmq*``
properties) that still hold what another protocol's consumer received (an MQ message's RFH2
properties or MQMD) are dropped, and never forwardable; an AMQP-to-AMQP bridge keeps them all
(``eip.header_filter``). A request-reply's reply headers are recorded as received from AMQP.

What a crash loses: nothing confirmed; an unconfirmed publish's source is not acknowledged, so
it is delivered again (at-least-once, duplicates possible).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from components.amqp.mapping import (
    PROTOCOL,
    decode_body,
    is_control_header,
    properties_to_headers,
    to_amqp,
)
from components.amqp.session import Session, current_session
from eip.component import Producer
from eip.constants import INBOUND_HEADERS
from eip.errors import EndpointNotConnectedError
from eip.exchange import Exchange, ExchangePattern
from eip.header_filter import HeaderFilter, Inbound, inbound_of

if TYPE_CHECKING:
    from components.amqp.endpoint import AmqpEndpoint

_IN_OUT = ExchangePattern.IN_OUT


class AmqpProducer(Producer):
    endpoint: AmqpEndpoint

    def __init__(self, endpoint: AmqpEndpoint) -> None:
        super().__init__(endpoint)
        self._session: Session | None = None
        values = endpoint.values
        self._target = (endpoint.exchange_name, endpoint.routing_key)
        self._persistent: bool = values["persistent"]
        self._mandatory: bool = values["mandatory"]
        self._confirms: bool = values["publisher_confirms"]
        self._timeout: float = values["request_timeout"]
        self._crossing = HeaderFilter(
            values["forward_headers"], protocol=PROTOCOL, uri=endpoint.uri, control=is_control_header
        )

    def start(self) -> None:
        if self._session is None:
            session = self.endpoint.component.acquire_publisher(self.endpoint)
            self._session = session
            try:
                session.declare(self.endpoint.producer_topology, timeout=10.0)
            except Exception:
                self.stop()
                raise

    def stop(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            self.endpoint.component.release_publisher(session)

    def process(self, exchange: Exchange) -> None:
        message = exchange.message
        headers = self._crossing.apply(message.headers, exchange.properties.get(INBOUND_HEADERS))
        body, properties = to_amqp(message.body, headers, self._persistent)
        if exchange.pattern is _IN_OUT:
            self._request(exchange, body, properties)
            return
        name, routing_key = self._target
        uow = exchange.unit_of_work
        confirms = self._confirms
        hold = confirms and uow is not None and uow.has_synchronizations and not uow.finished
        session = current_session()
        if (
            session is not None
            and session.can_publish
            and session.url == self.endpoint.broker_url
            and (hold or not confirms)
        ):
            release = uow.hold() if hold else None  # type: ignore[union-attr]
            try:
                session.publish(name, routing_key, body, properties, self._mandatory, release)
            except BaseException:
                if release is not None:
                    release(None)  # the route sees the exception; the hold must not linger
                raise
            return
        own = self._publisher()
        if hold:
            release = uow.hold()  # type: ignore[union-attr]
            try:
                own.submit(name, routing_key, body, properties, self._mandatory, release, self._timeout)
            except BaseException:
                release(None)
                raise
        elif not confirms:
            own.submit(name, routing_key, body, properties, self._mandatory, None, self._timeout)
        else:
            own.publish_and_wait(name, routing_key, body, properties, self._mandatory, self._timeout)

    def _request(self, exchange: Exchange, body: bytes, properties: object) -> None:
        if properties.correlation_id is None:  # type: ignore[attr-defined]
            properties.correlation_id = uuid.uuid4().hex  # type: ignore[attr-defined]
        name, routing_key = self._target
        reply_properties, reply_body = self._publisher().request(
            name, routing_key, body, properties, self._mandatory, self._timeout
        )
        message = exchange.message
        message.body = decode_body(
            reply_body, reply_properties.content_type, reply_properties.content_encoding, self.endpoint.body_type
        )
        headers = properties_to_headers(reply_properties)
        message.headers.update(headers)
        exchange.properties[INBOUND_HEADERS] = Inbound(PROTOCOL, headers, inbound_of(exchange.properties))

    def _publisher(self) -> Session:
        session = self._session
        if session is None:
            raise EndpointNotConnectedError("the producer is not started", uri=self.endpoint.uri)
        return session

"""The AMQP consumer: deliveries through the route, acknowledged only after the exchange is done.

``concurrent_consumers`` sessions, each its own connection and thread (pika objects never cross
threads). A delivery runs through the route on its session's thread, at most ``BATCH`` (8) of
them per turn of the I/O loop: pika reads up to ~100 KB per socket event - a whole prefetch
window of small messages - so the consumer queues what pika hands it and runs one batch per turn,
and the loop writes that batch's acks before it runs the next. A delivery's unit of work settles
it once the route finished *and* every downstream publish was confirmed by the broker
(``hold()``/``release``, see the producer), on whichever thread that happens last; settling is
handed to the session's thread:

* done (or failed and handled by the error handler): acked. Acks go out in batches with
  ``multiple=True``, up to the highest tag below which every delivery is settled, so a slow
  exchange never gets acked by a later one's batch. An InOut exchange (the message has
  ``reply_to`` and ``disable_reply_to`` is off) first publishes the route's result to the
  reply-to queue with the request's correlation id, and is acked once that is confirmed.
* failed: ``basic_reject(requeue=False)``, so the broker dead-letters it when the queue has a
  dead-letter exchange (and drops it otherwise). With ``requeue_on_failure=true`` it goes back
  to the queue instead - republished to the tail of the queue with the header
  ``CamelRabbitmqRedeliveryCount`` one higher, and the original acked once that is confirmed -
  until that count reaches ``maximum_redeliveries``; then it is rejected (dead-lettered).
* failed because a system it needed was unreachable (``EndpointNotConnectedError`` in the
  cause chain, e.g. the broker of a downstream publish): requeued unchanged after
  ``reconnect_delay``, whatever the options say - the message itself is fine.

What a crash or a lost connection loses: nothing. Unacked deliveries go back to the queue when
the connection drops; the settlement of a delivery from a connection that is gone is dropped
(the broker redelivers it, so the route may see it twice: at-least-once). What a kill -9
repeats, per session: the batch that was running (at most ``BATCH`` deliveries whose route had
finished or was running; measured 6 with one consumer and 9-14 with two, against 190 and
384-388 - about a prefetch window each - when every delivery pika had read ran before the first
ack), plus the exchanges still waiting for a downstream publish's confirm (a bridge to the same
broker keeps up to ``prefetch`` of them in flight) and any settled after an earlier one that is
not (acks are cumulative, up to the first unsettled delivery).

Stopping stops new deliveries at once (prefetched ones go back to the queue); deliveries in
progress are settled as they finish, then the connection closes (within the engine's shutdown
timeout; anything still unsettled then is redelivered by the broker).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from functools import partial
from typing import TYPE_CHECKING, Any

import pika

from components.amqp.errors import AmqpError
from components.amqp.mapping import PROTOCOL, from_amqp, is_control_header, to_amqp
from components.amqp.session import Session
from components.amqp.topology import Steps
from eip import constants as c
from eip.component import Consumer, Processor
from eip.errors import EndpointNotConnectedError, is_transient
from eip.exchange import Exchange, ExchangePattern
from eip.header_filter import HeaderFilter, inbound_of

if TYPE_CHECKING:
    from components.amqp.endpoint import AmqpEndpoint

log = logging.getLogger("components.amqp")

_IN_OUT = ExchangePattern.IN_OUT
_IN_ONLY = ExchangePattern.IN_ONLY

# Deliveries run per turn of the I/O loop before it polls again (and so writes their acks): what a
# kill -9 can leave done but unacknowledged (Spring AMQP's batchSize, Camel acks every message).
BATCH = 8


class _Delivery:
    """One delivery awaiting settlement; its unit of work calls ``completed`` or ``failed``."""

    __slots__ = ("body", "generation", "properties", "session", "tag")

    def __init__(self, session: ConsumerSession, generation: int, tag: int, properties: Any, body: bytes) -> None:
        self.session = session
        self.generation = generation
        self.tag = tag
        self.properties = properties
        self.body = body

    def completed(self, exchange: Exchange) -> None:
        self.session.settle(self, exchange, True)

    def failed(self, exchange: Exchange) -> None:
        self.session.settle(self, exchange, False)


class ConsumerSession(Session):
    """A session that also consumes: one consuming channel, deliveries settled in tag order."""

    def __init__(self, consumer: AmqpConsumer, index: int) -> None:
        endpoint = consumer.endpoint
        super().__init__(
            endpoint.broker_url,
            name=f"{endpoint.connection_name} consumer {index}",
            uri=endpoint.uri,
            reconnect_delay=endpoint.values["reconnect_delay"],
            max_reconnect_delay=endpoint.values["max_reconnect_delay"],
        )
        self.consumer = consumer
        self.endpoint = endpoint
        self.consume_channel: Any = None
        self.queue_name: str | None = None
        self.unsettled = 0  # delivered and not settled; read by other threads (an int: safe)
        self._consumer_tag: str | None = None
        self._cancelled = False
        self._low = 1  # lowest delivery tag not settled yet on the current channel
        self._settled: dict[int, bool] = {}  # tag -> True: ack with the next batch; False: settled
        self._flush_scheduled = False
        self._inbox: deque[tuple[Any, Any, Any, bytes]] = deque()  # received, not run yet
        self._run_scheduled = False
        self._running = False

    # -- setup -----------------------------------------------------------------------------------
    def _setup_steps(self) -> Steps:
        yield from super()._setup_steps()
        assert self.connection is not None
        connection = self.connection
        channel = yield lambda cb: connection.channel(on_open_callback=cb)
        self.consume_channel = channel
        channel.add_on_close_callback(self._on_consume_channel_closed)
        channel.add_on_cancel_callback(self._on_cancelled_by_broker)
        queue = yield from self.endpoint.consumer_topology.steps(channel)
        prefetch = self.endpoint.values["prefetch"]
        yield lambda cb: channel.basic_qos(prefetch_count=prefetch, callback=cb)
        self.queue_name = queue
        self._low, self._settled, self.unsettled = 1, {}, 0
        self._inbox.clear()
        if self._cancelled:
            return
        frame = yield lambda cb: channel.basic_consume(queue, self._on_message, auto_ack=False, callback=cb)
        self._consumer_tag = frame.method.consumer_tag

    def _on_consume_channel_closed(self, channel: Any, reason: BaseException) -> None:
        if channel is not self.consume_channel:
            return
        self.consume_channel = None
        connection = self.connection
        if self._stopping or connection is None or not connection.is_open:
            return
        if not self._established:
            self._on_setup_error(reason)
            return
        log.warning("%s: the broker closed the consuming channel (%s); reconnecting", self.uri, reason)
        connection.close()

    def _on_cancelled_by_broker(self, _frame: Any) -> None:
        if self._cancelled:
            return
        log.warning(
            "%s: the broker cancelled the consumer (queue '%s' deleted?); reconnecting", self.uri, self.queue_name
        )
        connection = self.connection
        if connection is not None and connection.is_open:
            connection.close()

    def _on_disconnected(self) -> None:
        self.consume_channel = None
        self._consumer_tag = None
        self._settled = {}
        self._inbox.clear()
        self.unsettled = 0  # the broker puts them back in the queue

    # -- deliveries ------------------------------------------------------------------------------
    def _on_message(self, channel: Any, method: Any, properties: Any, body: bytes) -> None:
        # pika reads up to ~100 KB per readable event (a whole prefetch window of small messages)
        # and calls this for each delivery before the loop writes anything: running the route
        # here would finish them all before the first ack goes out. Queue them for _run instead.
        if self._cancelled:  # stopping: back to the queue, untouched
            channel.basic_reject(method.delivery_tag, requeue=True)
            self._settled[method.delivery_tag] = False
            return
        self._inbox.append((channel, method, properties, body))
        if not self._run_scheduled:
            self._run_scheduled = True
            assert self.ioloop is not None
            self.ioloop.call_later(0, self._run_inbox)

    def _run_inbox(self) -> None:
        """Run up to BATCH queued deliveries, ack the settled ones, and come back on the loop's
        next turn: pika runs a timer added by a timer callback only after polling again, and the
        poll writes these acks first."""
        self._run_scheduled = False
        inbox = self._inbox
        self._running = True
        try:
            for _ in range(min(BATCH, len(inbox))):
                channel, method, properties, body = inbox.popleft()
                if channel is self.consume_channel and channel.is_open:  # else redelivered anyway
                    self._deliver(channel, method, properties, body)
        finally:
            self._running = False
        if self._flush_scheduled:
            self._flush()
        if inbox and not self._run_scheduled:
            self._run_scheduled = True
            assert self.ioloop is not None
            self.ioloop.call_later(0, self._run_inbox)

    def _requeue_inbox(self) -> None:
        """Stopping: deliveries not run yet go back to the queue, untouched."""
        inbox = self._inbox
        while inbox:
            channel, method, _properties, _body = inbox.popleft()
            if channel is self.consume_channel and channel.is_open:
                channel.basic_reject(method.delivery_tag, requeue=True)
                self._settled[method.delivery_tag] = False

    def _deliver(self, channel: Any, method: Any, properties: Any, body: bytes) -> None:
        tag = method.delivery_tag
        endpoint = self.endpoint
        consumer = self.consumer
        try:
            payload, headers = from_amqp(method, properties, body, endpoint.body_type)
        except Exception:
            log.exception("%s: cannot read delivery %s; rejecting it", self.uri, tag)
            channel.basic_reject(tag, requeue=False)
            self._settled[tag] = False
            return
        pattern = _IN_OUT if properties.reply_to and not endpoint.disable_reply_to else _IN_ONLY
        exchange = consumer.create_exchange(payload, headers, pattern)
        if properties.message_id:
            exchange.message.message_id = properties.message_id
        delivery = _Delivery(self, self.generation, tag, properties, body)
        uow = exchange.unit_of_work
        assert uow is not None
        uow.on_completion(delivery.completed)
        uow.on_failure(delivery.failed)
        self.unsettled += 1
        try:
            consumer.processor.process(exchange)
        except Exception as exc:
            log.exception("%s: the route raised for delivery %s", self.uri, tag)
            if not uow.finished:
                exchange.exception = exchange.exception or exc
                uow.done(exchange)

    # -- settlement --------------------------------------------------------------------------------
    def settle(self, delivery: _Delivery, exchange: Exchange, ok: bool) -> None:
        """Settle from any thread (the unit of work's last event may be a confirm elsewhere)."""
        if self.on_own_thread:
            self._settle(delivery, exchange, ok)
            return
        try:
            self.run_soon(partial(self._settle, delivery, exchange, ok))
        except EndpointNotConnectedError:
            pass  # the session is gone; the broker redelivers the message

    def _settle(self, delivery: _Delivery, exchange: Exchange, ok: bool) -> None:
        if delivery.generation != self.generation or self.consume_channel is None:
            log.debug(
                "%s: delivery %s came on a connection that is gone; the broker redelivers it", self.uri, delivery.tag
            )
            return
        if not ok:
            self._failed(delivery, exchange)
        elif delivery.properties.reply_to and exchange.pattern is _IN_OUT:
            self._reply(delivery, exchange)
        else:
            self._mark(delivery, True)

    def _mark(self, delivery: _Delivery, ack: bool) -> None:
        if delivery.generation != self.generation:
            return
        self._settled[delivery.tag] = ack
        self.unsettled -= 1
        if not self._flush_scheduled:
            self._flush_scheduled = True
            if not self._running:  # else _run_inbox flushes at the end of its batch
                assert self.ioloop is not None
                self.ioloop.call_later(0, self._flush)

    def _flush(self) -> None:
        """Ack, with one ``multiple=True``, every delivery up to the first unsettled one."""
        self._flush_scheduled = False
        channel = self.consume_channel
        if channel is None or not channel.is_open:
            return
        settled = self._settled
        tag = self._low
        last = 0
        while True:
            state = settled.pop(tag, None)
            if state is None:
                break
            if state:
                last = tag
            tag += 1
        self._low = tag
        if last:
            try:
                channel.basic_ack(last, multiple=True)
            except Exception as exc:  # noqa: BLE001 - the channel is closing: the broker redelivers
                log.debug("%s: ack up to %s dropped: %s", self.uri, last, exc)

    def _failed(self, delivery: _Delivery, exchange: Exchange) -> None:
        endpoint = self.endpoint
        error = exchange.exception
        if is_transient(error):
            assert self.ioloop is not None
            self.ioloop.call_later(endpoint.values["reconnect_delay"], partial(self._reject, delivery, True))
            return
        if endpoint.values["requeue_on_failure"]:
            headers = delivery.properties.headers or {}
            count = headers.get(c.AMQP_REDELIVERY_COUNT, 0)
            count = count if isinstance(count, int) else 0
            if count < endpoint.values["maximum_redeliveries"]:
                self._republish(delivery, count + 1)
                return
            log.warning(
                "%s: message %s failed %d redeliveries; rejecting it (dead-lettered if the queue "
                "has a dead-letter exchange): %s",
                self.uri,
                exchange.message.message_id,
                count,
                error,
            )
        self._reject(delivery, False)

    def _reject(self, delivery: _Delivery, requeue: bool) -> None:
        channel = self.consume_channel
        if delivery.generation != self.generation or channel is None or not channel.is_open:
            return
        try:
            channel.basic_reject(delivery.tag, requeue=requeue)
        except Exception as exc:  # noqa: BLE001
            log.debug("%s: reject of %s dropped: %s", self.uri, delivery.tag, exc)
            return
        self._mark(delivery, False)

    def _republish(self, delivery: _Delivery, count: int) -> None:
        original = delivery.properties
        headers = dict(original.headers or {})
        headers[c.AMQP_REDELIVERY_COUNT] = count
        properties = pika.BasicProperties(
            content_type=original.content_type,
            content_encoding=original.content_encoding,
            headers=headers,
            delivery_mode=original.delivery_mode,
            priority=original.priority,
            correlation_id=original.correlation_id,
            reply_to=original.reply_to,
            expiration=original.expiration,
            message_id=original.message_id,
            timestamp=original.timestamp,
            type=original.type,
            user_id=original.user_id,
            app_id=original.app_id,
        )

        def confirmed(error: BaseException | None) -> None:
            if error is None:
                self._mark(delivery, True)
            else:
                log.warning(
                    "%s: could not requeue message for redelivery (%s); it goes back unchanged", self.uri, error
                )
                self._reject(delivery, True)

        try:
            self.publish("", self.queue_name or "", delivery.body, properties, False, confirmed)
        except Exception as exc:  # noqa: BLE001
            log.warning("%s: could not requeue message for redelivery (%s); it goes back unchanged", self.uri, exc)
            self._reject(delivery, True)

    def _reply(self, delivery: _Delivery, exchange: Exchange) -> None:
        request = delivery.properties
        message = exchange.message

        def confirmed(error: BaseException | None) -> None:
            if error is not None:
                log.warning("%s: reply to '%s' not delivered: %s", self.uri, request.reply_to, error)
            self._mark(delivery, True)

        try:
            headers = self.consumer.crossing.apply(message.headers, inbound_of(exchange.properties))
            body, properties = to_amqp(message.body, headers, persistent=False)
            properties.reply_to = None
            properties.correlation_id = request.correlation_id or request.message_id
            self.publish("", request.reply_to, body, properties, False, confirmed)
        except Exception as exc:  # noqa: BLE001 - the request was processed: ack it anyway
            confirmed(exc)

    # -- stopping ------------------------------------------------------------------------------------
    def stop_consuming(self, deadline: float) -> None:
        """On the session thread: no new deliveries; close once the ones in hand are settled."""
        self._cancelled = True
        channel = self.consume_channel
        if channel is not None and channel.is_open and self._consumer_tag is not None:
            try:
                channel.basic_cancel(self._consumer_tag)
            except Exception as exc:  # noqa: BLE001
                log.debug("%s: basic_cancel failed: %s", self.uri, exc)
        self._requeue_inbox()
        self._close_when_settled(deadline)

    def _close_when_settled(self, deadline: float) -> None:
        if self.unsettled > 0 and self.consume_channel is not None and time.monotonic() < deadline:
            assert self.ioloop is not None
            self.ioloop.call_later(0.01, partial(self._close_when_settled, deadline))
            return
        if self.unsettled > 0:
            log.warning(
                "%s: closing with %d unsettled deliveries; the broker redelivers them", self.uri, self.unsettled
            )
        self._flush()
        self._shutdown(time.monotonic())


class AmqpConsumer(Consumer):
    """``concurrent_consumers`` sessions consuming one queue (see the module doc)."""

    endpoint: AmqpEndpoint

    def __init__(self, endpoint: AmqpEndpoint, processor: Processor) -> None:
        super().__init__(endpoint, processor)
        self.sessions: list[ConsumerSession] = []
        self._closing: list[ConsumerSession] = []
        #: What a reply may carry: like the producer, no other protocol's header as an AMQP control.
        self.crossing = HeaderFilter(protocol=PROTOCOL, uri=endpoint.uri, control=is_control_header)

    def start(self) -> None:
        if self.sessions:
            return
        started: list[ConsumerSession] = []
        try:
            for index in range(1, self.endpoint.values["concurrent_consumers"] + 1):
                session = ConsumerSession(self, index)
                session.start()
                started.append(session)
        except AmqpError:
            for session in started:
                session.stop()
            raise
        self.sessions = started

    def stop(self) -> None:
        sessions, self.sessions = self.sessions, []
        deadline = time.monotonic() + self.endpoint.engine.shutdown_timeout
        for session in sessions:
            try:
                session.run_soon(partial(session.stop_consuming, deadline))
            except EndpointNotConnectedError:
                continue
        self._closing = [s for s in self._closing + sessions if s.alive]

    def pending_exchanges(self) -> int:
        return sum(s.unsettled for s in self._closing if s.alive)

    def close(self, timeout: float = 1.0) -> None:
        """Stop, and wait a little for the sessions to end (the endpoint's stop). A session whose
        thread is stuck in a route closes its connection when the route returns; until then its
        message stays unacknowledged (redelivered if the process dies)."""
        self.stop()
        deadline = time.monotonic() + timeout
        for session in self._closing:
            session.stop(max(0.0, deadline - time.monotonic()))
        self._closing = [s for s in self._closing if s.alive]

    @property
    def connected(self) -> bool:
        return bool(self.sessions) and all(s.ready.is_set() for s in self.sessions)

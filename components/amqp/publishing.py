"""The publishing side of a session: the publisher-confirm window, returns, request-reply and declarations."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pika
import pika.exceptions as px

from components.amqp.errors import AmqpError, MessageNackedError, MessageUnroutableError
from components.amqp.topology import Topology, drive
from eip.errors import EndpointError, EndpointNotConnectedError, ExchangeTimedOutError

log = logging.getLogger("components.amqp")


DIRECT_REPLY_TO = "amq.rabbitmq.reply-to"
Confirm = Callable[[BaseException | None], None]


def translate(exc: BaseException, uri: str | None = None) -> EndpointError:
    """pika's exception as the engine's: refusals are AmqpError, the rest not-connected."""
    if isinstance(exc, EndpointError):
        return exc
    if isinstance(exc, px.ChannelClosedByBroker):
        return AmqpError(
            f"the broker closed the channel: {exc.reply_code} {exc.reply_text}",
            uri=uri,
            reply_code=exc.reply_code,
            reply_text=exc.reply_text,
        )
    if isinstance(exc, px.ProbableAuthenticationError):
        return AmqpError(f"the broker refused the login: {exc}", uri=uri, reply_code=403, reply_text=str(exc))
    if isinstance(exc, px.ProbableAccessDeniedError):
        return AmqpError(
            f"the broker refused access to the virtual host: {exc}", uri=uri, reply_code=403, reply_text=str(exc)
        )
    if isinstance(
        exc,
        (px.AMQPConnectionError, px.ChannelWrongStateError, px.ChannelClosed, px.ConnectionWrongStateError, OSError),
    ):
        return EndpointNotConnectedError(f"not connected to the broker: {type(exc).__name__}: {exc}", uri=uri)
    return AmqpError(f"{type(exc).__name__}: {exc}", uri=uri)


def _ignore(error: BaseException | None) -> None:
    pass


class _Outcome:
    """Where a thread waits for something the session thread finishes (a declaration, a reply)."""

    __slots__ = ("body", "error", "event", "properties")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.error: BaseException | None = None
        self.properties: Any = None
        self.body: bytes | None = None

    def done(self, error: BaseException | None = None) -> None:
        if not self.event.is_set():
            self.error = error
            self.event.set()

    def reply(self, properties: Any, body: bytes) -> None:
        self.properties, self.body = properties, body
        self.event.set()

    def confirmed(self, error: BaseException | None) -> None:
        if error is not None:  # a positive confirm means nothing to a requester: the reply does
            self.done(error)


class Publishing:
    """What a Session does on its publishing channel; the state lives on the Session (``session.py``)."""

    uri: str
    broker: str
    channel: Any
    ready: threading.Event
    last_error: EndpointError | None
    max_unconfirmed: int
    _pub_ready: bool
    _established: bool
    _seq: int
    _pending: dict[int, Confirm]
    _order: deque[int]
    _details: dict[int, tuple[str, str, bytes | None]]
    _returned: dict[int, MessageUnroutableError]
    _replies: dict[str, _Outcome]
    _reply_consuming: bool
    _window: threading.Condition
    _outstanding: int
    _topologies: list[Topology]
    _declare_waiters: list[_Outcome]

    if TYPE_CHECKING:

        def run_soon(self, fn: Callable[[], Any]) -> None: ...

    # -- publishing (the session's thread) -----------------------------------------------------------
    @property
    def can_publish(self) -> bool:
        return self._pub_ready

    def publish(
        self, exchange: str, routing_key: str, body: bytes, properties: Any, mandatory: bool, on_confirm: Confirm | None
    ) -> None:
        """Publish on this thread; ``on_confirm(error_or_None)`` runs when the broker confirmed
        (or nacked, returned, or the channel died). Raises when it cannot publish at all."""
        if not self._pub_ready:
            raise EndpointNotConnectedError(
                f"not connected to the broker {self.broker} ({self.last_error})", uri=self.uri
            )
        try:
            self.channel.basic_publish(exchange, routing_key, body, properties, mandatory)
        except Exception as exc:
            raise translate(exc, self.uri) from exc
        seq = self._seq = self._seq + 1
        self._pending[seq] = on_confirm or _ignore
        self._order.append(seq)
        if mandatory or exchange:
            self._details[seq] = (exchange, routing_key, body if mandatory else None)

    def _on_confirm(self, frame: Any) -> None:
        method = frame.method
        nack = isinstance(method, pika.spec.Basic.Nack)
        tag = method.delivery_tag
        pending = self._pending
        order = self._order
        if method.multiple:
            while order and order[0] <= tag:
                seq = order.popleft()
                callback = pending.pop(seq, None)
                if callback is not None:
                    self._confirmed(seq, callback, nack)
        else:
            callback = pending.pop(tag, None)
            if callback is not None:
                self._confirmed(tag, callback, nack)
            while order and order[0] not in pending:
                order.popleft()

    def _confirmed(self, seq: int, callback: Confirm, nack: bool) -> None:
        error: BaseException | None = None
        if self._details:
            self._details.pop(seq, None)
            if self._returned:
                error = self._returned.pop(seq, None)
        if nack and error is None:
            error = MessageNackedError("the broker nacked the message (it could not take it)", uri=self.uri)
        try:
            callback(error)
        except Exception:
            log.exception("%s: publisher confirm callback failed", self.uri)

    def _on_return(self, _channel: Any, method: Any, _properties: Any, body: bytes) -> None:
        # Returns come before the confirm of the same message, in publish order: the earliest
        # unconfirmed mandatory publish with the same exchange, routing key and body is the one.
        for seq in self._order:
            entry = self._details.get(seq)
            if (
                entry is not None
                and entry[2] is not None
                and seq not in self._returned
                and entry[0] == method.exchange
                and entry[1] == method.routing_key
                and entry[2] == body
            ):
                self._returned[seq] = MessageUnroutableError(
                    f"the broker returned the message: {method.reply_code} {method.reply_text} "
                    f"(exchange '{method.exchange}', routing key '{method.routing_key}')",
                    uri=self.uri,
                    reply_code=method.reply_code,
                    reply_text=method.reply_text,
                )
                return
        log.warning(
            "%s: the broker returned a message this session no longer waits for (exchange '%s', routing key '%s')",
            self.uri,
            method.exchange,
            method.routing_key,
        )

    def _fail_pending(self, error: BaseException) -> None:
        """Report every unconfirmed publish failed. When the broker closed the channel over one
        exchange (404 no such exchange, 403 access refused), only the publishes to that exchange
        get its error; the others were merely on the same channel and get a not-connected error,
        so their sources are retried rather than dead-lettered."""
        pending, details = self._pending, self._details
        if not pending:
            return
        self._pending, self._order, self._details, self._returned = {}, deque(), {}, {}
        text = error.reply_text if isinstance(error, AmqpError) else None
        bystander = (
            EndpointNotConnectedError(
                f"the broker closed the publishing channel before confirming this message, over another "
                f"publish on it ({text})",
                uri=self.uri,
            )
            if text
            else error
        )
        for seq, callback in pending.items():
            detail = details.get(seq)
            mine = text is None or (detail is not None and f"'{detail[0]}'" in text)
            try:
                callback(error if mine else bystander)
            except Exception:
                log.exception("%s: publisher confirm callback failed", self.uri)

    def _fail_waiters(self, error: BaseException) -> None:
        self._reply_consuming = False
        replies, self._replies = self._replies, {}
        for waiter in replies.values():
            waiter.done(error)

    # -- from other threads ----------------------------------------------------------------------------
    def submit(
        self,
        exchange: str,
        routing_key: str,
        body: bytes,
        properties: Any,
        mandatory: bool,
        on_confirm: Confirm | None,
        timeout: float,
    ) -> None:
        """Publish from another thread without waiting for the confirm; ``on_confirm`` runs on
        the session's thread. Blocks while ``max_unconfirmed`` publishes are unconfirmed."""
        if not self.ready.is_set():
            raise EndpointNotConnectedError(
                f"not connected to the broker {self.broker} ({self.last_error})", uri=self.uri
            )
        window = self._window
        with window:
            if self._outstanding >= self.max_unconfirmed and not window.wait_for(
                lambda: self._outstanding < self.max_unconfirmed or not self.ready.is_set(), timeout
            ):
                raise EndpointNotConnectedError(
                    f"{self._outstanding} publishes still unconfirmed after {timeout}s", uri=self.uri
                )
            self._outstanding += 1

        def confirmed(error: BaseException | None) -> None:
            with window:
                self._outstanding -= 1
                window.notify()
            if on_confirm is not None:
                on_confirm(error)

        def publish() -> None:
            try:
                self.publish(exchange, routing_key, body, properties, mandatory, confirmed)
            except Exception as exc:  # noqa: BLE001 - reported through the callback
                confirmed(translate(exc, self.uri))

        try:
            self.run_soon(publish)
        except EndpointNotConnectedError:
            with window:
                self._outstanding -= 1
            raise

    def publish_and_wait(
        self, exchange: str, routing_key: str, body: bytes, properties: Any, mandatory: bool, timeout: float
    ) -> None:
        """Publish from another thread and wait for the broker's confirm; raises its error."""
        outcome = _Outcome()
        self.submit(exchange, routing_key, body, properties, mandatory, outcome.done, timeout)
        if not outcome.event.wait(timeout):
            raise ExchangeTimedOutError(f"no publisher confirm from the broker within {timeout}s", uri=self.uri)
        if outcome.error is not None:
            raise outcome.error

    def request(
        self, exchange: str, routing_key: str, body: bytes, properties: Any, mandatory: bool, timeout: float
    ) -> tuple[Any, bytes]:
        """Request-reply from another thread: publish with ``reply_to`` set to RabbitMQ's direct
        reply-to and wait up to ``timeout`` for the reply with the same correlation id."""
        correlation_id = properties.correlation_id
        outcome = _Outcome()

        def send() -> None:
            if not self._pub_ready:
                outcome.done(EndpointNotConnectedError(f"not connected to the broker {self.broker}", uri=self.uri))
                return
            try:
                if not self._reply_consuming:  # must consume before publishing with reply_to
                    self.channel.basic_consume(DIRECT_REPLY_TO, self._on_reply, auto_ack=True)
                    self._reply_consuming = True
                self._replies[correlation_id] = outcome
                properties.reply_to = DIRECT_REPLY_TO
                self.publish(exchange, routing_key, body, properties, mandatory, outcome.confirmed)
            except Exception as exc:  # noqa: BLE001
                self._replies.pop(correlation_id, None)
                outcome.done(translate(exc, self.uri))

        if not self.ready.is_set():
            raise EndpointNotConnectedError(
                f"not connected to the broker {self.broker} ({self.last_error})", uri=self.uri
            )
        self.run_soon(send)
        if not outcome.event.wait(timeout):
            self._replies.pop(correlation_id, None)
            raise ExchangeTimedOutError(f"no reply within {timeout}s (correlation id {correlation_id})", uri=self.uri)
        self._replies.pop(correlation_id, None)
        if outcome.error is not None:
            raise outcome.error
        return outcome.properties, outcome.body or b""

    def _on_reply(self, _channel: Any, _method: Any, properties: Any, body: bytes) -> None:
        outcome = self._replies.pop(properties.correlation_id, None)
        if outcome is None:
            log.debug(
                "%s: reply for correlation id %s came after its requester gave up", self.uri, properties.correlation_id
            )
            return
        outcome.reply(properties, body)

    def declare(self, topology: Topology, timeout: float) -> None:
        """Declare ``topology`` now and after every reconnect. Raises AmqpError when the broker
        refuses it; returns quietly when the broker cannot be reached (it is declared on connect)."""
        if topology.empty:
            return
        outcome = _Outcome()

        def run() -> None:
            if topology not in self._topologies:
                self._topologies.append(topology)
            if not self._established or not self._pub_ready:
                self._declare_waiters.append(outcome)  # declared by the next setup
                return
            self._declare_waiters.append(outcome)

            def done(_queue: Any) -> None:
                if outcome in self._declare_waiters:
                    self._declare_waiters.remove(outcome)
                outcome.done()

            drive(topology.steps(self.channel), done, lambda exc: outcome.done(translate(exc, self.uri)))

        self.run_soon(run)
        if outcome.event.wait(timeout) and isinstance(outcome.error, AmqpError):

            def forget() -> None:  # refused: do not fail every later reconnect with it
                if topology in self._topologies:
                    self._topologies.remove(topology)

            self.run_soon(forget)
            raise outcome.error

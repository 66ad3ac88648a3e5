"""One broker connection on a thread of its own, driven by pika's SelectConnection I/O loop.

pika objects never leave the session's thread: other threads hand work over with
``run_soon`` (a queue plus one wake-up of the loop, coalesced). A session keeps one publishing
channel in confirm mode with a window of unconfirmed publishes (sequence number -> callback,
settled by the broker's acks, ``multiple`` ones included), answers request-reply through
RabbitMQ's direct reply-to, re-declares its topology and reconnects by itself with exponential
back-off. The publishing side is ``publishing.py``; consumers extend a session with a
consuming channel (``consumer.py``).

What a connection loss loses: nothing confirmed. A publish still unconfirmed when the channel
or connection dies is reported failed to its callback (EndpointNotConnectedError, or the
broker's AmqpError); it may or may not have reached the queue, so a redelivery can duplicate it
(at-least-once).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import pika
from pika.adapters.select_connection import IOLoop, SelectConnection

from components.amqp.errors import AmqpError, MessageUnroutableError
from components.amqp.publishing import Confirm, Publishing, _Outcome, translate
from components.amqp.topology import Steps, Topology, drive
from eip.errors import EndpointError, EndpointNotConnectedError
from eip.secrets import mask_uri

log = logging.getLogger("components.amqp")

_local = threading.local()


def current_session() -> Session | None:
    """The session whose I/O thread is running this code, if any."""
    return getattr(_local, "session", None)


class Session(Publishing):
    """A connection, its publishing channel and its reconnect loop, all on one thread."""

    def __init__(
        self,
        url: str,
        *,
        name: str,
        uri: str,
        reconnect_delay: float = 1.0,
        max_reconnect_delay: float = 30.0,
        max_unconfirmed: int = 1000,
    ) -> None:
        self.url = url
        self.params = pika.URLParameters(url)
        properties = dict(self.params.client_properties or {})
        properties["connection_name"] = name
        self.params.client_properties = properties
        self.name = name
        self.uri = mask_uri(uri)  # for messages and logs
        self.broker = mask_uri(url)
        self.reconnect_delay = reconnect_delay
        self.max_reconnect_delay = max_reconnect_delay
        self.max_unconfirmed = max_unconfirmed
        self.ready = threading.Event()  # connected and set up
        self.last_error: EndpointError | None = None
        self.generation = 0  # bumped on every new connection: older deliveries cannot be acked
        self.thread: threading.Thread | None = None
        self.ioloop: IOLoop | None = None
        self.connection: SelectConnection | None = None
        self.channel: Any = None  # the publishing channel (confirm mode)
        self._ident: int | None = None
        self._attempted = threading.Event()
        self._finished = threading.Event()
        self._stopping = False
        self._established = False
        self._pub_ready = False
        self._failing = False
        self._delay = reconnect_delay
        self._attempt_error: EndpointError | None = None
        self._reconnect_timer: Any = None
        self._calls: deque[Callable[[], Any]] = deque()
        self._wake_pending = False
        self._topologies: list[Topology] = []
        self._declare_waiters: list[_Outcome] = []
        # publisher confirms: sequence number -> callback, in publish order
        self._seq = 0
        self._pending: dict[int, Confirm] = {}
        self._order: deque[int] = deque()
        # what a publish went to, kept for mandatory publishes (to match returns) and publishes to
        # a named exchange (to tell which one a channel error was about): seq -> (exchange, key, body)
        self._details: dict[int, tuple[str, str, bytes | None]] = {}
        self._returned: dict[int, MessageUnroutableError] = {}
        # request-reply through direct reply-to
        self._replies: dict[str, _Outcome] = {}
        self._reply_consuming = False
        # back-pressure on publishes handed over by other threads
        self._window = threading.Condition()
        self._outstanding = 0

    # -- lifecycle (any thread) -------------------------------------------------------------------
    def start(self, wait: float = 10.0) -> None:
        """Start the I/O thread and wait up to ``wait`` seconds for the first connection attempt.

        Raises the broker's AmqpError when it refused the setup (bad login, missing queue,
        queue arguments that differ): a configuration problem. A broker that cannot be reached
        is only logged; the session keeps reconnecting in the background."""
        self.ioloop = IOLoop()
        self.thread = threading.Thread(target=self._run, name=f"eip-amqp-{self.name}", daemon=True)
        self.thread.start()
        self._attempted.wait(wait)
        error = self.last_error
        if not self.ready.is_set() and isinstance(error, AmqpError):
            self.stop()
            raise error

    def stop(self, timeout: float = 5.0, drain: float = 0.0) -> None:
        """Close the connection (after up to ``drain`` seconds for outstanding confirms) and
        end the thread, waiting up to ``timeout`` seconds for it."""
        if self.thread is None:
            return
        try:
            self.run_soon(lambda: self._shutdown(time.monotonic() + drain))
        except EndpointNotConnectedError:
            pass
        if threading.get_ident() != self._ident:
            self.thread.join(timeout + drain)

    @property
    def alive(self) -> bool:
        return self.thread is not None and not self._finished.is_set()

    @property
    def on_own_thread(self) -> bool:
        return threading.get_ident() == self._ident

    def run_soon(self, fn: Callable[[], Any]) -> None:
        """Run ``fn()`` on the session's thread (thread-safe; calls keep their order)."""
        if self._finished.is_set() or self.ioloop is None:
            raise EndpointNotConnectedError(f"the AMQP session '{self.name}' is closed", uri=self.uri)
        self._calls.append(fn)
        if not self._wake_pending:
            self._wake_pending = True
            try:
                self.ioloop.add_callback_threadsafe(self._drain_calls)
            except Exception as exc:  # the loop closed under us
                self._wake_pending = False
                raise EndpointNotConnectedError(f"the AMQP session '{self.name}' is closed", uri=self.uri) from exc

    def _drain_calls(self) -> None:
        self._wake_pending = False
        calls = self._calls
        while calls:
            fn = calls.popleft()
            try:
                fn()
            except Exception:
                log.exception("%s: a call on the AMQP I/O thread failed", self.uri)

    # -- the I/O thread -----------------------------------------------------------------------------
    def _run(self) -> None:
        _local.session = self
        self._ident = threading.get_ident()
        assert self.ioloop is not None
        self.ioloop.call_later(0, self._connect)
        try:
            while True:
                try:
                    self.ioloop.start()
                    break
                except Exception:
                    log.exception("%s: the AMQP I/O loop failed; reconnecting", self.uri)
                    self._abort()
        finally:
            self._finished.set()
            self.ready.clear()
            self._attempted.set()
            self._fail_pending(EndpointNotConnectedError("the AMQP session closed", uri=self.uri))
            try:
                self.ioloop.close()
            except Exception as exc:  # noqa: BLE001
                log.debug("%s: closing the I/O loop: %s", self.uri, exc)

    def _abort(self) -> None:
        connection = self.connection
        if connection is not None and connection.is_open:
            try:
                connection.close()
                return
            except Exception as exc:  # noqa: BLE001
                log.debug("%s: closing the connection: %s", self.uri, exc)
        self._lost(EndpointNotConnectedError("the AMQP I/O loop failed", uri=self.uri))

    def _connect(self) -> None:
        self._reconnect_timer = None
        if self._stopping:
            self._stop_loop()
            return
        self._attempt_error = None
        try:
            self.connection = SelectConnection(
                self.params,
                on_open_callback=self._on_open,
                on_open_error_callback=self._on_open_error,
                on_close_callback=self._on_closed,
                custom_ioloop=self.ioloop,
            )
        except Exception as exc:  # noqa: BLE001
            self._lost(exc)

    def _on_open(self, connection: SelectConnection) -> None:
        self.generation += 1
        connection.channel(on_open_callback=self._on_channel)

    def _on_channel(self, channel: Any) -> None:
        self.channel = channel
        self._seq = 0
        self._reply_consuming = False
        channel.add_on_close_callback(self._on_channel_closed)
        channel.add_on_return_callback(self._on_return)
        channel.confirm_delivery(ack_nack_callback=self._on_confirm, callback=self._on_confirm_mode)

    def _on_confirm_mode(self, _frame: Any) -> None:
        if self._established:  # the publishing channel was reopened after a channel error
            self._pub_ready = True
            return
        drive(self._setup_steps(), self._on_setup_done, self._on_setup_error)

    def _setup_steps(self) -> Steps:
        """Declarations after every (re)connect; consumers add their consuming channel."""
        for topology in list(self._topologies):
            yield from topology.steps(self.channel)

    def _on_setup_done(self, _result: Any) -> None:
        self._established = True
        self._pub_ready = True
        self._delay = self.reconnect_delay
        self.last_error = None
        if self._failing:
            log.info("%s: connected to %s again", self.uri, self.broker)
            self._failing = False
        waiters, self._declare_waiters = self._declare_waiters, []
        for waiter in waiters:
            waiter.done()
        self.ready.set()
        self._attempted.set()

    def _on_setup_error(self, error: BaseException) -> None:
        self._attempt_error = translate(error, self.uri)
        connection = self.connection
        if connection is not None and connection.is_open:
            connection.close()
        else:
            self._lost(error)

    def _on_channel_closed(self, channel: Any, reason: BaseException) -> None:
        if channel is not self.channel:
            return
        self._pub_ready = False
        error = translate(reason, self.uri)
        self._fail_pending(error)
        self._fail_waiters(error)
        waiters, self._declare_waiters = self._declare_waiters, []
        for waiter in waiters:
            waiter.done(error)
        connection = self.connection
        if self._stopping or connection is None or not connection.is_open:
            return
        if not self._established:
            self._on_setup_error(reason)
            return
        log.warning("%s: the broker closed the publishing channel (%s); reopening it", self.uri, error)
        connection.channel(on_open_callback=self._on_channel)

    def _on_open_error(self, _connection: Any, error: BaseException) -> None:
        self._lost(error)

    def _on_closed(self, _connection: Any, reason: BaseException) -> None:
        self._lost(reason)

    def _lost(self, reason: BaseException) -> None:
        """The connection is gone (or never came): fail what waits on it, then reconnect."""
        self.channel = None
        self._pub_ready = False
        self._established = False
        self.ready.clear()
        error = self._attempt_error or translate(reason, self.uri)
        lost = EndpointNotConnectedError(
            f"connection to the broker lost before the outcome was known: {error}", uri=self.uri
        )
        self._fail_pending(lost)
        self._fail_waiters(lost)
        waiters, self._declare_waiters = self._declare_waiters, []
        for waiter in waiters:
            waiter.done(error)
        self._on_disconnected()
        if self._stopping:
            self._stop_loop()
            return
        self.last_error = error
        self._attempted.set()
        if not self._failing:
            self._failing = True
            cause = getattr(error, "reply_text", None) or f"{type(reason).__name__}: {reason}"
            log.warning(
                "%s: no connection to %s (%s); reconnecting every %.1f-%.1fs",
                self.uri,
                self.broker,
                cause,
                self.reconnect_delay,
                self.max_reconnect_delay,
            )
        assert self.ioloop is not None
        self._reconnect_timer = self.ioloop.call_later(self._delay, self._connect)
        self._delay = min(self._delay * 2, self.max_reconnect_delay)

    def _on_disconnected(self) -> None:
        """Hook: the connection is gone (consumers forget their deliveries)."""

    def _shutdown(self, deadline: float) -> None:
        if self._pending and self._pub_ready and time.monotonic() < deadline:
            assert self.ioloop is not None
            self.ioloop.call_later(0.01, lambda: self._shutdown(deadline))
            return
        self._stopping = True
        assert self.ioloop is not None
        if self._reconnect_timer is not None:
            self.ioloop.remove_timeout(self._reconnect_timer)
            self._reconnect_timer = None
        connection = self.connection
        if connection is not None and not (connection.is_closing or connection.is_closed):
            connection.close()  # also aborts an attempt still opening; _lost then stops the loop
        elif connection is None or connection.is_closed:
            self._stop_loop()

    def _stop_loop(self) -> None:
        assert self.ioloop is not None
        self.ioloop.stop()

"""``seda:NAME``: a bounded in-memory queue between routes, consumed by a fixed pool of threads.

**seda is NOT durable.** The queue lives in this process's memory only:

* a crash (kill -9, power loss, out-of-memory) loses **every exchange still queued**, and the
  exchange a consumer thread was running. The source of an exchange sent InOnly by a route was
  already acknowledged when that route finished (the file moved, the broker message acked), so
  nothing will deliver it again;
* a graceful engine stop lets the consumers drain the queue within the shutdown timeout; the
  exchanges still queued after that are **failed**, not kept (see "Stopping" below).

When a message must survive a crash, put a broker queue (``amqp:``, ``ibmmq:``) or a database
table between the routes instead: those are the durable alternatives. Use seda for work that
can be lost or redone (fan-out of cheap tasks, smoothing bursts inside one process).

Sending (Camel's semantics). ``seda:in`` and ``seda:in?concurrent_consumers=4`` name the same
queue. The producer enqueues a copy of the exchange (``exchange.copy()``): an InOnly send
returns at once. With ``wait_for_task_to_complete=IfReplyExpected`` (the default) an InOut send,
and with ``Always`` every send, waits up to ``timeout`` seconds for the consuming route to
finish, then takes back the result body and headers, or raises the route's exception. A full
queue raises ``QueueFullError`` at once, or with ``block_when_full=true`` after waiting up to
``offer_timeout`` seconds (0 waits as long as it takes).

Units of work. A copy sent from inside a route gets a unit of work of its own, owned by the
consuming route (the sender's source is acknowledged when the *sending* route finishes: that is
the asynchronous boundary above). An exchange whose unit of work no route owns yet (plain code
that attached completion callbacks and sent it here) carries it into the queue, so the
consuming route, or the shutdown, completes it.

Consuming. ``concurrent_consumers`` threads are started with the consumer (never one per
message); each takes an exchange and runs it through the route. Several routes consuming the
same queue compete for its exchanges. ``SedaEndpoint.poll(timeout)`` takes one exchange without
a route (``poll_enrich``).

Stopping.

* Stopping the route (``engine.stop_route``, suspend) stops its threads taking exchanges; the
  ones being processed finish. Queued exchanges stay queued for when the route starts again,
  and producers may keep sending until the queue is full.
* Stopping the engine: consumers keep draining the queue (still open to the in-flight exchanges
  of other routes) and the engine waits for the queue as for in-flight exchanges, up to its
  shutdown timeout. Then the endpoint closes: every exchange still queued fails with
  ``ExchangeDiscardedError`` ("engine stopped before this queued exchange ran"), its unit of
  work is completed as failed, and a caller waiting for its reply gets that error. From then on
  a send is rejected with ``QueueClosedError`` until the engine starts again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Any

from eip.component import Component, Consumer, Endpoint, Processor, Producer
from eip.errors import (
    EndpointOptionError,
    ExchangeDiscardedError,
    ExchangeTimedOutError,
    QueueClosedError,
    QueueFullError,
)
from eip.exchange import Exchange, ExchangePattern
from eip.options import Option, OptionSpec
from eip.unit_of_work import UnitOfWork

log = logging.getLogger("components.seda")

ALWAYS, IF_REPLY_EXPECTED, NEVER = "Always", "IfReplyExpected", "Never"


class _Reply:
    """Where a waiting producer gets the exchange back once the consuming route finished."""

    __slots__ = ("event", "exchange")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.exchange: Exchange | None = None

    def complete(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self.event.set()


class _Workers:
    """The threads of one ``SedaConsumer.start()``; told to stop (or drain) as a group."""

    __slots__ = ("draining", "epoch", "stopped", "threads")

    def __init__(self, epoch: int) -> None:
        self.stopped = False
        self.draining = False
        self.epoch = epoch
        self.threads: list[threading.Thread] = []


_Item = tuple[Exchange, "_Reply | None"]


class SedaProducer(Producer):
    endpoint: SedaEndpoint

    def process(self, exchange: Exchange) -> None:
        endpoint = self.endpoint
        mode = endpoint.values["wait_for_task_to_complete"]
        wait = mode == ALWAYS or (mode == IF_REPLY_EXPECTED and exchange.pattern is ExchangePattern.IN_OUT)
        copy = endpoint.prepare_copy(exchange)
        reply = _Reply() if wait else None
        endpoint.offer(copy, reply)
        if reply is None:
            return
        timeout = endpoint.values["timeout"]
        if not reply.event.wait(timeout if timeout > 0 else None):
            started = not endpoint.withdraw(copy, reply)
            raise ExchangeTimedOutError(
                f"no reply within {timeout}s for exchange {exchange.exchange_id} "
                f"({'still running in the consuming route' if started else 'never started: removed from the queue'})",
                uri=endpoint.uri,
            )
        result = reply.exchange if reply.exchange is not None else copy
        exchange.message.body = result.message.body
        exchange.message.headers = result.message.headers
        if result.exception is not None:
            raise result.exception


class SedaConsumer(Consumer):
    """``concurrent_consumers`` threads taking exchanges from the queue (see the module doc)."""

    endpoint: SedaEndpoint

    def __init__(self, endpoint: SedaEndpoint, processor: Processor) -> None:
        super().__init__(endpoint, processor)
        self._workers: _Workers | None = None
        self.in_hand = 0  # taken from the queue, not finished yet; guarded by the queue lock

    @property
    def threads(self) -> list[threading.Thread]:
        return list(self._workers.threads) if self._workers is not None else []

    def start(self) -> None:
        if self._workers is not None and not self._workers.stopped:
            return
        endpoint = self.endpoint
        workers = _Workers(endpoint.epoch)
        for index in range(endpoint.values["concurrent_consumers"]):
            thread = threading.Thread(
                target=self._run, args=(workers,), daemon=True, name=f"eip-seda-{endpoint.parsed.path}-{index + 1}"
            )
            workers.threads.append(thread)
        self._workers = workers
        for thread in workers.threads:
            thread.start()

    def stop(self) -> None:
        workers = self._workers
        if workers is None or workers.stopped:
            return
        # On engine stop keep draining until the endpoint closes; on a route stop quit at once.
        self.endpoint.stop_workers(workers, drain=self.endpoint.engine.state == "stopping")

    def pending_exchanges(self) -> int:
        workers = self._workers
        draining = workers is not None and workers.draining
        return self.in_hand + (self.endpoint.queue_size if draining else 0)

    def join(self, timeout: float | None = None) -> bool:
        """Wait for this consumer's threads to end; True when they all did."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self.threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self.threads)

    def _run(self, workers: _Workers) -> None:
        endpoint = self.endpoint
        process = self.processor.process
        while True:
            item = endpoint.take(self, workers)
            if item is None:
                return
            exchange, reply = item
            try:
                process(exchange)
            except Exception as exc:  # the route entry never raises; this thread must not die
                log.exception("%s: processing exchange %s raised", endpoint.uri, exchange.exchange_id)
                if exchange.exception is None:
                    exchange.exception = exc
            finally:
                endpoint.finished(self)
                if reply is not None:
                    reply.complete(exchange)


class SedaEndpoint(Endpoint):
    options = OptionSpec(
        (
            Option("size", "int", 1000, "Maximum number of queued exchanges."),
            Option("concurrent_consumers", "int", 1, "Threads consuming the queue, started with the route."),
            Option(
                "block_when_full",
                "bool",
                False,
                "When the queue is full, wait up to offer_timeout for room instead of failing at once.",
            ),
            Option(
                "offer_timeout",
                "duration",
                0.0,
                "With block_when_full: how long a send waits for room (0 waits as long as it takes).",
            ),
            Option(
                "timeout",
                "duration",
                30.0,
                "How long a caller waits for the reply when it waits (InOut); 0 waits forever.",
            ),
            Option(
                "wait_for_task_to_complete",
                "str",
                IF_REPLY_EXPECTED,
                "Wait for the consuming route to finish: IfReplyExpected (InOut only), Always or Never.",
                choices=(IF_REPLY_EXPECTED, ALWAYS, NEVER),
            ),
            Option(
                "poll_timeout",
                "duration",
                1.0,
                "How often an idle consumer thread wakes up to re-check its state (it is woken at once "
                "on new exchanges and on stop anyway).",
            ),
        )
    )

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._items: deque[_Item] = deque()
        self._lock = threading.Lock()
        self._not_empty = threading.Condition(self._lock)
        self._not_full = threading.Condition(self._lock)
        self._closed = False
        self.epoch = 0  # bumped on close: threads of an older epoch end
        self._capacity = self.values["size"]

    # -- configuration ------------------------------------------------------------------------
    def validate(self) -> None:
        values = self.values
        if values["size"] < 1:
            raise EndpointOptionError(f"endpoint '{self.uri}': size must be at least 1, got {values['size']}")
        if values["concurrent_consumers"] < 1:
            raise EndpointOptionError(
                f"endpoint '{self.uri}': concurrent_consumers must be at least 1, got {values['concurrent_consumers']}"
            )
        for name in ("offer_timeout", "timeout", "poll_timeout"):
            if values[name] < 0:
                raise EndpointOptionError(f"endpoint '{self.uri}': {name} must not be negative, got {values[name]}")
        if values["poll_timeout"] == 0:
            raise EndpointOptionError(f"endpoint '{self.uri}': poll_timeout must be more than 0")
        self._capacity = values["size"]

    def create_producer(self) -> Producer:
        return SedaProducer(self)

    def create_consumer(self, processor: Processor) -> Consumer:
        return SedaConsumer(self, processor)

    # -- statistics ---------------------------------------------------------------------------
    @property
    def queue_size(self) -> int:
        """Exchanges waiting in the queue now (not those being processed)."""
        return len(self._items)

    @property
    def remaining_capacity(self) -> int:
        return max(0, self._capacity - len(self._items))

    @property
    def closed(self) -> bool:
        return self._closed

    # -- producing ------------------------------------------------------------------------------
    def prepare_copy(self, exchange: Exchange) -> Exchange:
        """The copy that goes into the queue (see "Units of work" in the module doc)."""
        copy = exchange.copy(share_unit_of_work=False)
        uow = exchange.unit_of_work
        if uow is not None and uow.owner_route_id is None and not uow.finished:
            copy.unit_of_work = uow
        else:
            copy.unit_of_work = UnitOfWork(uow.original_message if uow is not None else None)
        copy.exception = None
        copy.from_route_id = None
        copy.from_endpoint = self.uri
        return copy

    def offer(self, exchange: Exchange, reply: _Reply | None = None) -> None:
        """Enqueue ``exchange``; raises QueueFullError or QueueClosedError."""
        item = (exchange, reply)
        with self._lock:
            if self._closed:
                raise self._rejected()
            if len(self._items) >= self._capacity:
                self._wait_for_room()
            self._items.append(item)
            self._not_empty.notify()

    def _wait_for_room(self) -> None:
        # called holding the lock
        if not self.values["block_when_full"]:
            raise QueueFullError(
                f"queue is full ({self._capacity} exchanges); set block_when_full=true to wait for room, or raise size",
                uri=self.uri,
            )
        timeout = self.values["offer_timeout"]
        deadline = time.monotonic() + timeout if timeout > 0 else None
        while len(self._items) >= self._capacity:
            if self._closed:
                raise self._rejected()
            if deadline is None:
                self._not_full.wait()
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                raise QueueFullError(
                    f"queue still full ({self._capacity} exchanges) after waiting {timeout}s (offer_timeout)",
                    uri=self.uri,
                )
            self._not_full.wait(left)
        if self._closed:
            raise self._rejected()

    def _rejected(self) -> QueueClosedError:
        return QueueClosedError("queue is closed (the engine is stopped); the exchange was not accepted", uri=self.uri)

    def withdraw(self, exchange: Exchange, reply: _Reply | None) -> bool:
        """Remove a queued exchange whose caller gave up; False when a consumer already took it."""
        with self._lock:
            try:
                self._items.remove((exchange, reply))
            except ValueError:
                return False
            self._not_full.notify()
            return True

    # -- consuming ------------------------------------------------------------------------------
    def take(self, consumer: SedaConsumer, workers: _Workers) -> _Item | None:
        """The next exchange for one of ``consumer``'s threads, or None when the thread must end."""
        poll_timeout = self.values["poll_timeout"]
        with self._lock:
            while True:
                if self._closed or workers.epoch != self.epoch or (workers.stopped and not workers.draining):
                    return None
                if self._items:
                    item = self._items.popleft()
                    consumer.in_hand += 1
                    self._not_full.notify()
                    return item
                self._not_empty.wait(poll_timeout)

    def finished(self, consumer: SedaConsumer) -> None:
        with self._lock:
            consumer.in_hand -= 1

    def stop_workers(self, workers: _Workers, drain: bool) -> None:
        with self._lock:
            workers.stopped = True
            workers.draining = drain
            self._not_empty.notify_all()

    def poll(self, timeout: float | None = None) -> Exchange | None:
        """Take one queued exchange (``poll_enrich``): None waits forever, 0 does not wait.

        Returns None when nothing came in time or the queue is closed. A producer waiting for
        that exchange's reply is released at once with the exchange as it was sent; completing
        the exchange's unit of work is the poller's business."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while not self._items:
                if self._closed:
                    return None
                if deadline is None:
                    self._not_empty.wait()
                    continue
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._not_empty.wait(left)
            exchange, reply = self._items.popleft()
            self._not_full.notify()
        if reply is not None:
            reply.complete(exchange)
        return exchange

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        with self._lock:
            self._closed = False

    def stop(self) -> None:
        """Close the queue: fail what is still queued, wake every waiting thread."""
        with self._lock:
            self._closed = True
            self.epoch += 1
            leftovers = list(self._items)
            self._items.clear()
            self._not_empty.notify_all()
            self._not_full.notify_all()
        if not leftovers:
            return
        log.warning(
            "%s: engine stopped with %d exchange(s) still queued; they are failed, not kept (seda is not durable): %s",
            self.uri,
            len(leftovers),
            ", ".join(ex.exchange_id for ex, _ in leftovers[:20]) + (" ..." if len(leftovers) > 20 else ""),
        )
        for exchange, reply in leftovers:
            exchange.exception = ExchangeDiscardedError(
                f"engine stopped before this queued exchange ran (exchange {exchange.exchange_id}); "
                "it was not processed and is not kept (seda is not durable)",
                uri=self.uri,
            )
            uow = exchange.unit_of_work
            if uow is not None:
                uow.done(exchange)
            if reply is not None:
                reply.complete(exchange)


class SedaComponent(Component):
    """seda:NAME - bounded in-memory queue between routes, consumed by a pool of threads.
    NOT durable: a crash loses every queued exchange; use a broker queue when that matters."""

    endpoint_class = SedaEndpoint

"""Wire Tap: send a copy of the exchange to another endpoint asynchronously; the original goes on.

The copy is shallow (``exchange.copy()``: headers and properties copied, body object shared,
so do not mutate a shared body in place on either side), always ``InOnly``, and has its own
unit of work. With ``copy=False`` a new, empty exchange is sent instead (Camel's "new exchange"
mode). It is sent on a bounded pool of threads created when the route starts and shut down when
it stops; when the pool's queue is full the send runs in the caller's thread (Camel's
CallerRuns), which slows the route down instead of dropping the tap.

A failure of the tapped send is logged; it never fails the original exchange.

What a crash loses: the tapped copies still queued or in flight. The original exchange's
source is acknowledged without waiting for them, so they are not redelivered. Tap to a durable
endpoint (a broker queue) when every copy matters. At a graceful stop the pool gets the
engine's shutdown timeout to drain its queue; copies still queued after that are dropped and
counted in the log. (Consumers stop first, so a queued copy for a ``direct:`` route that has
already stopped fails with NoConsumerError, logged.)
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from eip.exchange import Exchange, ExchangePattern
from eip.expressions import Expression

if TYPE_CHECKING:
    from eip.compiler import CompileContext
    from eip.model import WireTap

log = logging.getLogger("eip.processors.wire_tap")

#: Camel's default thread pool profile: 10 threads (we do not grow to 20), 1000 queued tasks.
DEFAULT_POOL_SIZE = 10
DEFAULT_QUEUE_SIZE = 1000


class TapPool:
    """A bounded pool: ``pool_size`` threads and at most ``queue_size`` waiting tasks.

    ``submit`` returns False when the pool is full or not running; the caller then runs the
    task itself. Threads are created at ``start()`` (lazily, up to ``pool_size``) and joined
    at ``stop()``."""

    def __init__(
        self,
        name: str,
        pool_size: int = DEFAULT_POOL_SIZE,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        shutdown_timeout: float = 10.0,
    ) -> None:
        self.name = name
        self.pool_size = pool_size
        self.queue_size = queue_size
        self.shutdown_timeout = shutdown_timeout
        self._executor: ThreadPoolExecutor | None = None
        self._slots = threading.BoundedSemaphore(pool_size + queue_size)
        self._idle = threading.Condition()
        self._pending = 0
        self.caller_runs = 0  # how often the caller had to run a task itself (statistics)

    def start(self) -> None:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.pool_size, thread_name_prefix=self.name)

    def submit(self, task: Any) -> bool:
        executor = self._executor
        if executor is None or not self._slots.acquire(blocking=False):
            self.caller_runs += 1
            return False
        with self._idle:
            self._pending += 1
        try:
            executor.submit(self._run, task)
        except RuntimeError:  # shut down between the check and the submit
            self._finished()
            self.caller_runs += 1
            return False
        return True

    def _run(self, task: Any) -> None:
        try:
            task()
        finally:
            self._finished()

    def _finished(self) -> None:
        self._slots.release()
        with self._idle:
            self._pending -= 1
            if self._pending == 0:
                self._idle.notify_all()

    @property
    def pending(self) -> int:
        with self._idle:
            return self._pending

    def stop(self) -> None:
        executor, self._executor = self._executor, None
        if executor is None:
            return
        with self._idle:
            self._idle.wait_for(lambda: self._pending == 0, self.shutdown_timeout)
            left = self._pending
        executor.shutdown(wait=left == 0, cancel_futures=True)
        if left:
            log.warning(
                "wire tap pool %s stopped with %d tapped exchange(s) queued or in flight; queued ones are dropped",
                self.name,
                left,
            )


class WireTapProcessor:
    """Sends a copy (or a new empty exchange) to a static or per-exchange URI on a pool."""

    def __init__(
        self,
        pool: TapPool,
        uri: str | None,
        producer: Any,
        resolver: Any,
        copy: bool,
        route_id: str,
        node_id: str | None,
    ) -> None:
        self.pool = pool
        self.uri = uri
        self.producer = producer
        self.resolver = resolver  # DynamicSendProcessor (its URI and producer cache) for ${...} / expression URIs
        self.copy = copy
        self.route_id = route_id
        self.node_id = node_id

    def process(self, exchange: Exchange) -> None:
        resolver = self.resolver
        if resolver is not None:
            uri = resolver.uri(exchange)
        else:
            uri, producer = self.uri, self.producer
        if self.copy:
            tapped = exchange.copy(share_unit_of_work=False)
            tapped.exception = None
        else:
            tapped = Exchange()
            tapped.from_route_id = exchange.from_route_id
            tapped.from_endpoint = exchange.from_endpoint
        tapped.pattern = ExchangePattern.IN_ONLY

        def send() -> None:
            try:
                if resolver is None:
                    producer.process(tapped)
                else:  # leased on the tap's thread: a tap dropped at stop holds nothing
                    lease = resolver.cache.acquire(uri)
                    try:
                        lease.value.process(tapped)
                    finally:
                        resolver.cache.release(lease)
            except Exception as exc:  # noqa: BLE001 - the tap must never fail the original
                log.warning(
                    "route '%s': wire tap to %s failed for exchange %s: %s: %s",
                    self.route_id,
                    uri,
                    tapped.exchange_id,
                    type(exc).__name__,
                    exc,
                )

        if not self.pool.submit(send):
            send()


def compile_wire_tap(node: WireTap, ctx: CompileContext) -> WireTapProcessor:
    from eip.processors.send import DynamicSendProcessor
    from eip.producer_cache import ComputedUri, ProducerCache

    uri = node.uri
    resolver = producer = None
    static_uri: str | None = None
    if isinstance(uri, str) and "${" not in uri:
        if not uri:
            raise ctx.error("wire_tap() needs an endpoint URI")
        endpoint = ctx.endpoint(uri)
        producer = ctx.add_service(endpoint.create_producer())
        static_uri = endpoint.uri
    elif isinstance(uri, (str, Expression)) or callable(uri):
        computed = ComputedUri(ctx, uri, "wire_tap")
        cache = ProducerCache(ctx.engine, ctx.route_id, node, what="wire_tap", statement=computed.statement)
        resolver = DynamicSendProcessor(computed, ctx.add_service(cache), ExchangePattern.IN_ONLY)
    else:
        raise ctx.error(f"wire_tap() needs a URI, a ${{...}} template or an expression, got {uri!r}")
    pool = TapPool(
        f"wire-tap-{ctx.route_id}-{ctx.node.node_id if ctx.node else ''}", shutdown_timeout=ctx.engine.shutdown_timeout
    )
    # Registered after the producers, so it stops (and drains) before they do.
    ctx.add_service(pool)
    return WireTapProcessor(
        pool, static_uri, producer, resolver, node.copy, ctx.route_id, ctx.node.node_id if ctx.node else None
    )

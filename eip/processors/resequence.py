"""Resequencer (batch mode): collect exchanges, then emit them sorted through the block's steps.

A batch is emitted when it holds ``batch_size`` exchanges (on the thread of the exchange that
filled it) or ``batch_timeout`` seconds after its first exchange arrived (on a background
thread started with the route), sorted by ``expression`` (``reverse=True``: descending).
Exchanges whose key equals one already in the batch are dropped unless ``allow_duplicates``
(then equal keys keep their arrival order). Batches are emitted one at a time, in order.

A *copy* of each incoming exchange (with its own unit of work) is collected; the incoming
exchange itself continues after the block at once, unchanged, as in Camel. A key that is None
or cannot be compared with the others fails the incoming exchange. A failure of an emitted
exchange in the block is the route's error handler's business (dead letter channel, ...);
if it is not handled it is logged.

What a crash loses: the exchanges collected and not yet emitted (at most one batch). Their
sources were acknowledged when they entered the resequencer. At a graceful stop the collected
batch is emitted before the route's producers stop.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from eip.errors import ExpressionError

if TYPE_CHECKING:
    from eip.compiler import CompileContext
    from eip.exchange import Exchange
    from eip.model import Resequence

log = logging.getLogger("eip.processors.resequence")


class ResequenceProcessor:
    def __init__(
        self,
        expression: Any,
        pipeline: Any,
        batch_size: int,
        batch_timeout: float,
        allow_duplicates: bool,
        reverse: bool,
        route_id: str,
        node_id: str | None,
    ) -> None:
        self.expression = expression
        self.pipeline = pipeline
        self.batch_size = batch_size
        self.batch_timeout = batch_timeout
        self.allow_duplicates = allow_duplicates
        self.reverse = reverse
        self.route_id = route_id
        self.node_id = node_id
        self._cond = threading.Condition()  # guards the batch
        self._emit_lock = threading.Lock()  # one batch emitted at a time, in the order taken
        self._batch: list[tuple[Any, Exchange]] = []
        self._deadline: float | None = None
        self._running = False
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        with self._cond:
            if self._running:
                return
            self._running = True
        self._thread = threading.Thread(
            target=self._timer, name=f"resequence-{self.route_id}-{self.node_id}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._running = False
            self._cond.notify_all()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()
        with self._emit_lock:
            self._emit(self._take())

    # -- collecting ---------------------------------------------------------------------------
    def process(self, exchange: Exchange) -> None:
        key = self.expression(exchange)
        if key is None:
            raise ExpressionError(
                "resequence(): the sequence expression gave None", route_id=self.route_id, node_id=self.node_id
            )
        copy = exchange.copy(share_unit_of_work=False)
        with self._cond:
            batch = self._batch
            if batch:
                first = batch[0][0]
                try:
                    key < first  # noqa: B015 - fail now, not when the batch is sorted
                    first < key  # noqa: B015
                except TypeError:
                    raise ExpressionError(
                        f"resequence(): key {key!r} cannot be compared with key {first!r}",
                        route_id=self.route_id,
                        node_id=self.node_id,
                    ) from None
            if not self.allow_duplicates and any(k == key for k, _ in batch):
                return
            batch.append((key, copy))
            if len(batch) == 1:
                self._deadline = time.monotonic() + self.batch_timeout
                self._cond.notify_all()
            full = len(batch) >= self.batch_size
        if full:
            with self._emit_lock:
                with self._cond:
                    ready = len(self._batch) >= self.batch_size
                self._emit(self._take() if ready else [])

    def _take(self) -> list[tuple[Any, Exchange]]:
        with self._cond:
            batch, self._batch = self._batch, []
            self._deadline = None
            return batch

    def _timer(self) -> None:
        while True:
            with self._cond:
                while self._running and (self._deadline is None or time.monotonic() < self._deadline):
                    self._cond.wait(None if self._deadline is None else self._deadline - time.monotonic())
                if not self._running:
                    return
            with self._emit_lock:
                with self._cond:
                    due = self._deadline is not None and time.monotonic() >= self._deadline
                self._emit(self._take() if due else [])

    def _emit(self, batch: list[tuple[Any, Exchange]]) -> None:
        if not batch:
            return
        batch.sort(key=lambda item: item[0], reverse=self.reverse)
        for _, exchange in batch:
            try:
                self.pipeline.process(exchange)
            except Exception as exc:  # noqa: BLE001 - one failure must not lose the rest
                exchange.exception = exc
                log.error(
                    "route '%s': resequenced exchange %s failed: %s: %s",
                    self.route_id,
                    exchange.exchange_id,
                    type(exc).__name__,
                    exc,
                )


def compile_resequence(node: Resequence, ctx: CompileContext) -> ResequenceProcessor:
    batch_size = ctx.positive(node.batch_size, "batch_size")
    timeout = ctx.duration(node.batch_timeout, "batch_timeout")
    pipeline = ctx.compile_steps(node.steps)
    # Added after the block's producers: stopped (and flushed) before they stop.
    return ctx.add_service(
        ResequenceProcessor(
            node.expression,
            pipeline,
            batch_size,
            timeout,
            node.allow_duplicates,
            node.reverse,
            ctx.route_id,
            node.node_id,
        )
    )

"""Multicast: send a copy of the exchange to each destination, one by one or in parallel.

Each step of the ``multicast()`` block is one destination (use ``pipeline()`` for a branch of
several steps) and gets its own shallow copy: headers and properties copied, body shared.
Without a strategy the result is the last destination's reply (Camel's default); with one,
the strategy's result becomes the message. A destination that fails does not stop the others
unless ``stop_on_exception``; its exception is raised to the parent afterwards (with a
strategy, the strategy decides: an exception left on its result is raised).

``FanOut`` here is the engine shared by multicast, recipient list and the splitter's
parallel and streaming modes (Camel's splitter is a multicast over an expression).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from eip import constants as c
from eip.errors import AggregationError
from eip.processors.parallel import DONE, shared_pool
from eip.strategies import check_strategy

if TYPE_CHECKING:
    from eip.compiler import CompileContext
    from eip.exchange import Exchange
    from eip.model import Multicast
    from eip.processors.parallel import WorkerPool

Pair = tuple[Any, "Exchange"]


def run_part(processor: Any, sub: Exchange, reset_handled: bool) -> BaseException | None:
    """Process one sub-exchange; a failure is left on ``sub.exception`` and returned."""
    if reset_handled:
        props = sub.properties
        props.pop(c.ERROR_HANDLER_HANDLED, None)
        props.pop(c.EXCEPTION_CAUGHT, None)
    try:
        processor.process(sub)
    except Exception as exc:  # noqa: BLE001 - recorded on the part; the fan-out decides
        sub.exception = exc
        return exc
    return None


def handled_failure(sub: Exchange) -> BaseException | None:
    """The exception an error handler handled on ``sub`` (dead letter, handled clause), if any."""
    if sub.properties.get(c.ERROR_HANDLER_HANDLED):
        caught = sub.properties.get(c.EXCEPTION_CAUGHT)
        if isinstance(caught, BaseException):
            return caught
    return None


def apply_result(exchange: Exchange, result: Exchange, own: tuple[str, ...]) -> None:
    """Copy the fan-out's result onto the parent exchange (message and properties), keeping
    the parent's own values of the fan-out's bookkeeping properties ``own``."""
    if result is exchange:
        return
    exchange.message = result.message
    props = exchange.properties
    for name, value in result.properties.items():
        if name not in own:
            props[name] = value


def aggregate(strategy: Any, old: Exchange | None, new: Exchange, route_id: str, node_id: str | None) -> Exchange:
    result = strategy(old, new)
    if result is None:
        raise AggregationError(
            f"aggregation strategy {getattr(strategy, '__name__', strategy)!r} returned None; "
            "a strategy must return old or new",
            route_id=route_id,
            node_id=node_id,
        )
    return result


class _Outcome:
    """What a fan-out collected so far (shared by parallel tasks under ``lock``)."""

    __slots__ = ("closed", "first_failure", "last", "lock", "result", "stop_failure")

    def __init__(self) -> None:
        self.result: Exchange | None = None
        self.last: Exchange | None = None
        self.first_failure: BaseException | None = None
        self.stop_failure: BaseException | None = None
        self.closed = False
        self.lock = threading.Lock()


class FanOut:
    """Runs (processor, sub-exchange) pairs and folds the results into the parent exchange.

    ``keep_parent``: without a strategy the parent keeps its own message (splitter) instead
    of taking the last reply (multicast, recipient list). ``own`` are the bookkeeping
    properties (index, size, complete) that never leak onto the parent.

    Sequential mode aggregates as each part finishes. Parallel mode runs parts on the route's
    pool; without ``streaming`` the pairs are materialised and results aggregated in part
    order once all finished (or ``timeout`` seconds passed: parts still running are then
    abandoned and left out); with ``streaming`` at most ``2 x pool size`` parts are in flight
    and results are aggregated in the order they finish."""

    def __init__(
        self,
        *,
        strategy: Any,
        keep_parent: bool,
        own: tuple[str, ...],
        route_id: str,
        node_id: str | None,
        parallel: bool = False,
        pool: WorkerPool | None = None,
        stop_on_exception: bool = False,
        timeout: float | None = None,
        streaming: bool = False,
    ) -> None:
        if parallel and pool is None:
            raise ValueError("a parallel fan-out needs a worker pool")
        if strategy is not None and getattr(strategy, "keeps_parent", False):
            strategy, keep_parent = None, True
        self.strategy = strategy
        self.keep_parent = keep_parent
        self.own = own
        self.route_id = route_id
        self.node_id = node_id
        self.parallel = parallel
        self.pool = pool
        self.stop_on_exception = stop_on_exception
        self.timeout = timeout
        self.streaming = streaming

    def run(self, exchange: Exchange, pairs: Iterable[Pair]) -> None:
        if not self.parallel:
            outcome = self._sequential(pairs)
        elif self.streaming:
            outcome = self._parallel_streaming(pairs)
        else:
            outcome = self._parallel_ordered(list(pairs))
        self._finish(exchange, outcome)

    # -- one by one ------------------------------------------------------------------------------
    def _sequential(self, pairs: Iterable[Pair]) -> _Outcome:
        outcome = _Outcome()
        strategy = self.strategy
        stop = self.stop_on_exception
        for processor, sub in pairs:
            failure = run_part(processor, sub, stop)
            if stop:
                failure = failure or handled_failure(sub)
                if failure is not None:
                    raise failure
            elif failure is not None and outcome.first_failure is None:
                outcome.first_failure = failure
            if strategy is not None:
                outcome.result = aggregate(strategy, outcome.result, sub, self.route_id, self.node_id)
            else:
                outcome.last = sub
        return outcome

    # -- in parallel, results in part order --------------------------------------------------------
    def _parallel_ordered(self, pairs: list[Pair]) -> _Outcome:
        outcome = _Outcome()
        batch = cast("WorkerPool", self.pool).batch()
        stop = self.stop_on_exception

        def task(processor: Any, sub: Exchange) -> None:
            failure = run_part(processor, sub, stop)
            if stop:
                failure = failure or handled_failure(sub)
                if failure is not None:
                    with outcome.lock:
                        if outcome.stop_failure is None:
                            outcome.stop_failure = failure
                    batch.cancel()

        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        tasks = [batch.submit(partial(task, processor, sub)) for processor, sub in pairs]
        batch.wait(deadline)
        if outcome.stop_failure is not None:
            raise outcome.stop_failure
        strategy = self.strategy
        for task_, (_, sub) in zip(tasks, pairs):
            if task_.state != DONE:
                continue  # cancelled, or abandoned at the timeout
            if sub.exception is not None and outcome.first_failure is None:
                outcome.first_failure = sub.exception
            if strategy is not None:
                outcome.result = aggregate(strategy, outcome.result, sub, self.route_id, self.node_id)
            else:
                outcome.last = sub
        return outcome

    # -- in parallel, lazily, results in completion order ----------------------------------------
    def _parallel_streaming(self, pairs: Iterable[Pair]) -> _Outcome:
        outcome = _Outcome()
        batch = cast("WorkerPool", self.pool).batch()
        stop = self.stop_on_exception
        strategy = self.strategy
        route_id, node_id = self.route_id, self.node_id

        def task(processor: Any, sub: Exchange) -> None:
            failure = run_part(processor, sub, stop)
            if stop:
                failure = failure or handled_failure(sub)
            with outcome.lock:
                if outcome.closed:
                    return
                if failure is not None:
                    if stop:
                        if outcome.stop_failure is None:
                            outcome.stop_failure = failure
                        batch.cancel()
                        return
                    if outcome.first_failure is None:
                        outcome.first_failure = failure
                if strategy is None:
                    outcome.last = sub
                    return
                try:
                    outcome.result = aggregate(strategy, outcome.result, sub, route_id, node_id)
                except Exception as exc:  # noqa: BLE001 - raised to the caller after the batch
                    outcome.stop_failure = exc
                    batch.cancel()

        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        window = 2 * cast("WorkerPool", self.pool).size
        try:
            for processor, sub in pairs:
                if batch.cancelled or not batch.wait_below(window, deadline):
                    break
                batch.submit(partial(task, processor, sub))
            batch.wait(deadline)
        finally:
            with outcome.lock:
                outcome.closed = True  # parts abandoned at the timeout must not aggregate late
        if outcome.stop_failure is not None:
            raise outcome.stop_failure
        return outcome

    # -- the result --------------------------------------------------------------------------------
    def _finish(self, exchange: Exchange, outcome: _Outcome) -> None:
        if self.strategy is not None:
            result = outcome.result
            if result is not None:
                apply_result(exchange, result, self.own)
                if result.exception is not None:
                    raise result.exception
            return
        if not self.keep_parent and outcome.last is not None:
            apply_result(exchange, outcome.last, self.own)
        if outcome.first_failure is not None:
            raise outcome.first_failure


class MulticastProcessor:
    """Sends a copy to each destination; see the module docstring for the result."""

    def __init__(self, destinations: list[Any], fan_out: FanOut) -> None:
        self.destinations = tuple(destinations)
        self.fan_out = fan_out

    def _pairs(self, exchange: Exchange) -> list[Pair]:
        pairs = []
        last = len(self.destinations) - 1
        for index, destination in enumerate(self.destinations):
            sub = exchange.copy()
            props = sub.properties
            props[c.MULTICAST_INDEX] = index
            props[c.MULTICAST_COMPLETE] = index == last
            pairs.append((destination, sub))
        return pairs

    def process(self, exchange: Exchange) -> None:
        if self.destinations:
            self.fan_out.run(exchange, self._pairs(exchange))


def parse_timeout(value: Any, parallel: bool, ctx: CompileContext, what: str) -> float | None:
    """Validate a fan-out ``timeout`` option (seconds; only meaningful with ``parallel``)."""
    if value is None:
        return None
    seconds = ctx.duration(value, "timeout")
    if not parallel:
        raise ctx.error(f"{what}(): timeout only applies with parallel=True")
    return seconds


def multicast_fan_out(node: Any, ctx: CompileContext, what: str) -> FanOut:
    """The fan-out of a multicast-like node (``multicast``, ``recipient_list``): its strategy
    checked, its timeout parsed, parts indexed as Camel's multicast indexes them."""
    check_strategy(node.strategy, ctx, what)
    return FanOut(
        strategy=node.strategy,
        keep_parent=False,
        own=(c.MULTICAST_INDEX, c.MULTICAST_COMPLETE),
        route_id=ctx.route_id,
        node_id=node.node_id,
        parallel=node.parallel,
        pool=shared_pool(ctx) if node.parallel else None,
        stop_on_exception=node.stop_on_exception,
        timeout=parse_timeout(node.timeout, node.parallel, ctx, what),
    )


def compile_multicast(node: Multicast, ctx: CompileContext) -> MulticastProcessor:
    fan_out = multicast_fan_out(node, ctx, "multicast")
    # Each destination runs under the route's error handler on its own.
    destinations = [ctx.compile_steps((step,)) for step in node.steps]
    return MulticastProcessor(destinations, fan_out)

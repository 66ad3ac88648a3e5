"""Circuit Breaker: stop calling a failing block for a while; ``on_fallback()`` answers instead.

States (Resilience4j's, as Camel uses them), exposed as ``processor.state`` and on each exchange
as property ``CamelCircuitBreakerState`` (the state after the call):

* ``CLOSED``: calls go through. The outcomes of the last ``sliding_window_size`` calls are
  kept; once at least ``minimum_number_of_calls`` are recorded, the breaker opens when the
  failures reach ``failure_threshold`` or, when ``failure_rate_threshold`` (a percentage,
  0-100) is set, when the failure rate reaches it.
* ``OPEN``: calls are short-circuited for ``wait_duration_in_open_state`` seconds: the fallback
  runs (properties ``CamelResponseShortCircuited`` and ``CamelResponseFromFallback`` True), or
  without one the exchange fails with CircuitOpenError.
* ``HALF_OPEN``: after the wait, ``permitted_calls_in_half_open_state`` trial calls go through
  (others are short-circuited): a failing trial opens the breaker again; when all of them have
  succeeded it closes.

A failure is an exception of ``record_exceptions`` (default: any) that is not one of
``ignore_exceptions`` (those neither count as failures nor as successes). Any failure of the
block runs the fallback when there is one (the exception in ``CamelExceptionCaught``), else
propagates. As in Camel the route's error handler is not used inside the block (redelivery
would hide the failures from the breaker); it is used for the fallback's steps.

``timeout`` (seconds) runs the block on a copy of the exchange on a pool of threads created
when the route starts; a call that takes longer counts as a failure
(CircuitBreakerTimeoutError, property ``CamelResponseTimedOut``) and its copy is abandoned:
it may still finish and have effects (a send) after the caller moved on.

State is per processor and in memory; ``clock`` (monotonic seconds) can be replaced for tests.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any

from eip import constants as c
from eip.errors import CircuitBreakerTimeoutError, CircuitOpenError

if TYPE_CHECKING:
    from eip.compiler import CompileContext
    from eip.exchange import Exchange
    from eip.model import CircuitBreaker

CLOSED = "CLOSED"
OPEN = "OPEN"
HALF_OPEN = "HALF_OPEN"

RESPONSE_SUCCESSFUL_EXECUTION = c.RESPONSE_SUCCESSFUL_EXECUTION
RESPONSE_TIMED_OUT = c.RESPONSE_TIMED_OUT

TIMEOUT_POOL_SIZE = 10


class CircuitBreakerProcessor:
    def __init__(
        self,
        body: Any,
        fallback: Any = None,
        *,
        failure_threshold: int = 5,
        failure_rate_threshold: float | None = None,
        sliding_window_size: int = 10,
        minimum_number_of_calls: int = 1,
        wait_duration_in_open_state: float = 60.0,
        permitted_calls_in_half_open_state: int = 1,
        timeout: float | None = None,
        record_exceptions: tuple[type, ...] = (Exception,),
        ignore_exceptions: tuple[type, ...] = (),
        route_id: str = "",
        node_id: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.body = body
        self.fallback = fallback
        self.failure_threshold = failure_threshold
        self.failure_rate_threshold = failure_rate_threshold
        self.minimum_number_of_calls = minimum_number_of_calls
        self.wait_duration = wait_duration_in_open_state
        self.permitted_half_open = permitted_calls_in_half_open_state
        self.timeout = timeout
        self.record_exceptions = record_exceptions
        self.ignore_exceptions = ignore_exceptions
        self.route_id = route_id
        self.node_id = node_id
        self.clock = clock
        self._lock = threading.Lock()
        self._state = CLOSED
        self._generation = 0  # bumped at each transition: late outcomes of older calls are dropped
        self._window: deque[bool] = deque(maxlen=sliding_window_size)  # True = failure
        self._failures = 0
        self._opened_at = 0.0
        self._trials = 0  # half-open permissions handed out
        self._trial_successes = 0
        self._pool: ThreadPoolExecutor | None = None

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        if self.timeout is not None and self._pool is None:
            self._pool = ThreadPoolExecutor(
                TIMEOUT_POOL_SIZE, thread_name_prefix=f"circuit-breaker-{self.route_id}-{self.node_id}"
            )

    def stop(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    # -- state machine (all under the lock) ----------------------------------------------------
    @property
    def state(self) -> str:
        with self._lock:
            self._check_wait_over()
            return self._state

    def _transition(self, state: str) -> None:
        self._state = state
        self._generation += 1
        if state == OPEN:
            self._opened_at = self.clock()
        elif state == HALF_OPEN:
            self._trials = self._trial_successes = 0
        else:
            self._window.clear()
            self._failures = 0

    def _check_wait_over(self) -> None:
        if self._state == OPEN and self.clock() - self._opened_at >= self.wait_duration:
            self._transition(HALF_OPEN)

    def _acquire(self) -> int | None:
        """The generation this call runs in, or None when it is short-circuited."""
        with self._lock:
            self._check_wait_over()
            if self._state == CLOSED:
                return self._generation
            if self._state == HALF_OPEN and self._trials < self.permitted_half_open:
                self._trials += 1
                return self._generation
            return None

    def _record(self, generation: int, failed: bool | None) -> None:
        """``failed`` None: an ignored exception (no outcome; a half-open permission is given back)."""
        with self._lock:
            if generation != self._generation:
                return
            if self._state == HALF_OPEN:
                if failed is None:
                    self._trials -= 1
                elif failed:
                    self._transition(OPEN)
                else:
                    self._trial_successes += 1
                    if self._trial_successes >= self.permitted_half_open:
                        self._transition(CLOSED)
                return
            if self._state != CLOSED or failed is None:
                return
            window = self._window
            if len(window) == window.maxlen and window[0]:
                self._failures -= 1
            window.append(failed)
            if failed:
                self._failures += 1
            calls = len(window)
            if not self._failures or calls < self.minimum_number_of_calls:
                return
            if self.failure_rate_threshold is not None:
                trip = self._failures * 100.0 / calls >= self.failure_rate_threshold
            else:
                trip = self._failures >= self.failure_threshold
            if trip:
                self._transition(OPEN)

    def reset(self) -> None:
        """Close the breaker and forget the recorded calls."""
        with self._lock:
            self._transition(CLOSED)

    # -- processing -------------------------------------------------------------------------------
    def process(self, exchange: Exchange) -> None:
        props = exchange.properties
        try:
            generation = self._acquire()
            if generation is None:
                props[c.RESPONSE_SHORT_CIRCUITED] = True
                props[RESPONSE_SUCCESSFUL_EXECUTION] = False
                if self.fallback is None:
                    props[c.RESPONSE_FROM_FALLBACK] = False
                    raise CircuitOpenError(
                        "circuit breaker is open: call short-circuited and there is no on_fallback()",
                        route_id=self.route_id,
                        node_id=self.node_id,
                    )
                props[c.RESPONSE_FROM_FALLBACK] = True
                self.fallback.process(exchange)
                return
            try:
                self._call(exchange)
            except Exception as exc:
                counted = isinstance(exc, self.record_exceptions) and not isinstance(exc, self.ignore_exceptions)
                self._record(generation, True if counted else None)
                props[RESPONSE_SUCCESSFUL_EXECUTION] = False
                props[c.RESPONSE_SHORT_CIRCUITED] = False
                if self.fallback is None:
                    props[c.RESPONSE_FROM_FALLBACK] = False
                    raise
                props[c.RESPONSE_FROM_FALLBACK] = True
                props[c.EXCEPTION_CAUGHT] = exc
                exchange.exception = None
                exchange.route_stop = False
                self.fallback.process(exchange)
                return
            self._record(generation, False)
            props[RESPONSE_SUCCESSFUL_EXECUTION] = True
            props[c.RESPONSE_FROM_FALLBACK] = False
            props[c.RESPONSE_SHORT_CIRCUITED] = False
        finally:
            props[c.CIRCUIT_BREAKER_STATE] = self.state

    def _call(self, exchange: Exchange) -> None:
        pool = self._pool
        if self.timeout is None or pool is None:
            self.body.process(exchange)
            return
        work = exchange.copy()
        future = pool.submit(self.body.process, work)
        try:
            future.result(self.timeout)
        except FutureTimeout:
            future.cancel()
            exchange.properties[RESPONSE_TIMED_OUT] = True
            raise CircuitBreakerTimeoutError(
                f"circuit breaker: the block took longer than {self.timeout:g} s",
                route_id=self.route_id,
                node_id=self.node_id,
            ) from None
        exchange.message = work.message
        exchange.properties.clear()
        exchange.properties.update(work.properties)
        exchange.route_stop = work.route_stop
        exchange.rollback_only = exchange.rollback_only or work.rollback_only


def compile_circuit_breaker(node: CircuitBreaker, ctx: CompileContext) -> CircuitBreakerProcessor:
    threshold = ctx.positive(node.failure_threshold, "failure_threshold")
    window = ctx.positive(node.sliding_window_size, "sliding_window_size")
    minimum = ctx.positive(node.minimum_number_of_calls, "minimum_number_of_calls")
    permitted = ctx.positive(node.permitted_calls_in_half_open_state, "permitted_calls_in_half_open_state")
    wait = ctx.duration(node.wait_duration_in_open_state, "wait_duration_in_open_state", allow_zero=True)
    timeout = None if node.timeout is None else ctx.duration(node.timeout, "timeout")
    rate = node.failure_rate_threshold
    if rate is not None:
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate <= 100:
            raise ctx.error(f"circuit_breaker() failure_rate_threshold is a percentage in (0, 100], got {rate!r}")
    elif threshold > window:
        raise ctx.error(
            f"circuit_breaker() failure_threshold {threshold} is larger than sliding_window_size "
            f"{window}: the breaker could never open"
        )
    for name in ("record_exceptions", "ignore_exceptions"):
        for exc in getattr(node, name):
            if not (isinstance(exc, type) and issubclass(exc, BaseException)):
                raise ctx.error(f"circuit_breaker() {name} takes exception classes, got {exc!r}")
    body = ctx.with_handler(None).compile_steps(node.steps, handler=None)
    fallback = ctx.compile_steps(node.fallback.steps) if node.fallback is not None else None
    processor = CircuitBreakerProcessor(
        body,
        fallback,
        failure_threshold=threshold,
        failure_rate_threshold=rate,
        sliding_window_size=window,
        minimum_number_of_calls=minimum,
        wait_duration_in_open_state=wait,
        permitted_calls_in_half_open_state=permitted,
        timeout=timeout,
        record_exceptions=tuple(node.record_exceptions) or (Exception,),
        ignore_exceptions=tuple(node.ignore_exceptions),
        route_id=ctx.route_id,
        node_id=node.node_id,
    )
    if timeout is not None:
        ctx.add_service(processor)
    return processor

"""Throttler: at most ``maximum_requests`` exchanges per ``time_period`` seconds (per key).

This is Camel's ``TotalRequests`` mode as a **sliding window**: each admitted exchange holds
its slot for ``time_period`` seconds after it was admitted, so any window of that length
admits at most ``maximum_requests`` (no burst of 2N at a fixed-window boundary).

An exchange over the limit blocks the caller's thread until a slot frees up, or, with
``reject_execution=True``, fails at once with ThrottlerRejectedError. ``maximum_requests``
may be an expression, evaluated per exchange (a lower value applies from the next admission
on). With ``correlation`` each key (None is a key too) has its own window. A wait is cut short
when the route stops (the exchange then fails with ThrottlerRejectedError, so its source keeps
the message). Nothing is queued by the throttler itself: a crash loses nothing it holds.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from eip.errors import ExpressionError, ThrottlerRejectedError
from eip.expressions import Expression, to_expression

if TYPE_CHECKING:
    from eip.compiler import CompileContext
    from eip.exchange import Exchange
    from eip.model import Throttle

_SWEEP_AT = 1024


class ThrottleProcessor:
    """``clock`` (monotonic seconds) and ``wait(seconds) -> stopping`` can be injected for tests."""

    def __init__(
        self,
        maximum_requests: Any,
        time_period: float,
        correlation: Any = None,
        reject_execution: bool = False,
        route_id: str = "",
        node_id: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        wait: Callable[[float], bool] | None = None,
    ) -> None:
        self.maximum_requests = maximum_requests  # an int or an expression
        self.time_period = time_period
        self.correlation = correlation
        self.reject_execution = reject_execution
        self.route_id = route_id
        self.node_id = node_id
        self.clock = clock
        self._stopping = threading.Event()
        self.wait = wait if wait is not None else self._stopping.wait
        self._lock = threading.Lock()
        self._windows: dict[Any, deque[float]] = {}
        self._sweep_at = _SWEEP_AT

    def start(self) -> None:
        self._stopping.clear()

    def stop(self) -> None:
        self._stopping.set()

    def _limit(self, exchange: Exchange) -> int:
        limit = self.maximum_requests
        if isinstance(limit, int):
            return limit
        value = limit(exchange)
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = 0
        if isinstance(value, bool) or number < 1:
            raise ExpressionError(
                f"throttle(): maximum_requests gave {value!r}; it must be a positive integer",
                route_id=self.route_id,
                node_id=self.node_id,
            )
        return number

    def _sweep(self, now: float) -> None:
        horizon = now - self.time_period
        for key in [k for k, w in self._windows.items() if not w or w[-1] <= horizon]:
            del self._windows[key]
        self._sweep_at = max(_SWEEP_AT, 2 * len(self._windows))

    def admit(self, key: Any, limit: int) -> float:
        """Take a slot for ``key`` and return 0.0, or return how long to wait for one."""
        with self._lock:
            now = self.clock()
            window = self._windows.get(key)
            if window is None:
                if len(self._windows) >= self._sweep_at:
                    self._sweep(now)
                window = self._windows[key] = deque()
            horizon = now - self.time_period
            while window and window[0] <= horizon:
                window.popleft()
            if len(window) < limit:
                window.append(now)
                return 0.0
            return max(window[len(window) - limit] + self.time_period - now, 1e-6)

    def process(self, exchange: Exchange) -> None:
        limit = self._limit(exchange)
        key = self.correlation(exchange) if self.correlation is not None else None
        while True:
            delay = self.admit(key, limit)
            if delay == 0.0:
                return
            if self.reject_execution:
                raise ThrottlerRejectedError(
                    f"throttle(): more than {limit} exchange(s) in {self.time_period:g} s"
                    f"{'' if self.correlation is None else f' for key {key!r}'}; rejected",
                    route_id=self.route_id,
                    node_id=self.node_id,
                )
            if self.wait(delay):
                raise ThrottlerRejectedError(
                    "throttle(): the route is stopping; exchange not admitted",
                    route_id=self.route_id,
                    node_id=self.node_id,
                )


def compile_throttle(node: Throttle, ctx: CompileContext) -> ThrottleProcessor:
    period = ctx.duration(node.time_period, "time_period")
    maximum = node.maximum_requests
    if isinstance(maximum, str) and "${" in maximum:
        from eip.simple_language import compile_template

        maximum = Expression(compile_template(maximum), maximum)
    elif isinstance(maximum, Expression) or (callable(maximum) and not isinstance(maximum, type)):
        maximum = to_expression(maximum)
    else:
        try:
            number = int(maximum)
        except (TypeError, ValueError):
            number = 0
        if isinstance(maximum, bool) or number < 1 or number != maximum and not isinstance(maximum, str):
            raise ctx.error(f"throttle() maximum_requests must be a positive integer or an expression, got {maximum!r}")
        maximum = number
    correlation = node.correlation
    if isinstance(correlation, str) and "${" in correlation:
        from eip.simple_language import compile_template

        correlation = Expression(compile_template(correlation), correlation)
    elif correlation is not None:
        if not callable(correlation):
            raise ctx.error(f"throttle() correlation must be an expression, got {correlation!r}")
        correlation = to_expression(correlation)
    return ctx.add_service(
        ThrottleProcessor(maximum, period, correlation, node.reject_execution, ctx.route_id, node.node_id)
    )

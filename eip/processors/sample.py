"""Sampling Throttler: let one exchange per ``period`` seconds (or one in ``message_frequency``) pass.

The others stop there (``exchange.route_stop``: routing ends and they count as completed, so
their sources are acknowledged). With a period the first exchange passes and then the first
one after each period has elapsed since the last that passed; with a frequency N the N-th,
2N-th, ... pass (Camel's counting). ``clock`` can be replaced for tests.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from eip.compiler import CompileContext
    from eip.exchange import Exchange
    from eip.model import Sample


class PeriodSampleProcessor:
    def __init__(self, period: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.period = period
        self.clock = clock
        self._last: float | None = None
        self._lock = threading.Lock()

    def process(self, exchange: Exchange) -> None:
        with self._lock:
            now = self.clock()
            if self._last is None or now - self._last >= self.period:
                self._last = now
                return
        exchange.route_stop = True


class FrequencySampleProcessor:
    def __init__(self, frequency: int) -> None:
        self.frequency = frequency
        self._counter = itertools.count(1)  # next() is atomic under the GIL

    def process(self, exchange: Exchange) -> None:
        if next(self._counter) % self.frequency:
            exchange.route_stop = True


def compile_sample(node: Sample, ctx: CompileContext) -> PeriodSampleProcessor | FrequencySampleProcessor:
    if node.message_frequency is not None:
        return FrequencySampleProcessor(ctx.positive(node.message_frequency, "message_frequency"))
    if node.period is None:
        raise ctx.error("sample() needs a period (seconds) or a message_frequency")
    return PeriodSampleProcessor(ctx.duration(node.period, "period"))

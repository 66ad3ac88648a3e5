"""``timer:NAME``: fire an exchange with an empty body every ``period`` seconds.

One thread per consuming route. Each fire creates an exchange (with its own unit of work) whose
properties ``CamelTimerName`` and ``CamelTimerCounter`` (1-based) say which timer fired and how
often; it runs through the route on the timer's thread, so a slow route delays the next fire.
``delay`` is the wait before the first fire, ``repeat_count`` stops after that many fires (0 =
forever), ``period`` 0 fires once. By default the period runs from the end of one fire to the
start of the next (fixed delay); ``fixed_rate=true`` keeps the schedule ``start + n * period``
instead and fires late ones back to back to catch up, as ``java.util.Timer.scheduleAtFixedRate``.

Stopping wakes the thread at once; a fire in progress finishes as an in-flight exchange. Nothing
is queued, so a crash loses nothing but the fire in progress. The counter starts again at 1
when the route starts again (it goes on after suspend/resume).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from eip import constants as c
from eip.component import Component, Consumer, Endpoint, Processor
from eip.errors import EndpointOptionError
from eip.options import Option, OptionSpec

log = logging.getLogger("components.timer")


class TimerConsumer(Consumer):
    endpoint: TimerEndpoint

    def __init__(self, endpoint: TimerEndpoint, processor: Processor) -> None:
        super().__init__(endpoint, processor)
        self.counter = 0
        self.thread: threading.Thread | None = None
        self._stop_event: threading.Event | None = None

    def start(self, *, _resume: bool = False) -> None:
        if self._stop_event is not None and not self._stop_event.is_set():
            return
        if not _resume:
            self.counter = 0
        stop_event = threading.Event()
        self._stop_event = stop_event
        self.thread = threading.Thread(
            target=self._run, args=(stop_event,), daemon=True, name=f"eip-timer-{self.endpoint.parsed.path}"
        )
        self.thread.start()

    def stop(self) -> None:
        if self._stop_event is not None:
            self._stop_event.set()

    def suspend(self) -> None:
        self.stop()

    def resume(self) -> None:
        self.start(_resume=True)

    def _run(self, stop_event: threading.Event) -> None:
        values = self.endpoint.values
        period, repeat, fixed_rate = values["period"], values["repeat_count"], values["fixed_rate"]
        if period <= 0:
            repeat = 1
        if stop_event.wait(values["delay"]):
            return
        due = time.monotonic()
        while not stop_event.is_set():
            if repeat and self.counter >= repeat:
                return
            self._fire()
            if repeat and self.counter >= repeat:
                return
            due = due + period if fixed_rate else time.monotonic() + period
            wait = due - time.monotonic()
            if wait > 0 and stop_event.wait(wait):
                return

    def _fire(self) -> None:
        self.counter += 1
        exchange = self.create_exchange()
        exchange.properties[c.TIMER_NAME] = self.endpoint.parsed.path
        exchange.properties[c.TIMER_COUNTER] = self.counter
        try:
            self.processor.process(exchange)
        except Exception:  # the route entry never raises; the timer must go on anyway
            log.exception("%s: fire %d raised", self.endpoint.uri, self.counter)


class TimerEndpoint(Endpoint):
    supports_producer = False
    options = OptionSpec(
        (
            Option("period", "duration", 1.0, "Time between fires; 0 fires once."),
            Option("delay", "duration", 1.0, "Time before the first fire."),
            Option("repeat_count", "int", 0, "Stop after this many fires; 0 fires forever."),
            Option(
                "fixed_rate",
                "bool",
                False,
                "Keep the schedule start + n*period (late fires catch up) instead of waiting period "
                "after each fire ends.",
            ),
        )
    )

    def validate(self) -> None:
        for name in ("period", "delay", "repeat_count"):
            if self.values[name] < 0:
                raise EndpointOptionError(
                    f"endpoint '{self.uri}': {name} must not be negative, got {self.values[name]}"
                )

    def create_consumer(self, processor: Any) -> Consumer:
        return TimerConsumer(self, processor)


class TimerComponent(Component):
    """timer:NAME - fire an exchange with an empty body every period (CamelTimerName, CamelTimerCounter)."""

    endpoint_class = TimerEndpoint

"""``scheduler:NAME``: fire an exchange with an empty body every ``delay`` seconds (Camel's scheduler).

Runs on the engine's scheduler (``eip.scheduling``, APScheduler underneath; one pool of threads
per engine, not a thread per route). By default the delay runs from the end of one run to the
start of the next (fixed delay, Camel's ``useFixedDelay=true``), so runs never overlap and a slow
route delays the next run. ``fixed_rate=true`` starts runs at ``start + n * delay`` instead; a run
due while the previous one is still going is skipped (and counted), one that could not start
within ``misfire_grace_time`` of its due time is skipped too, and with ``coalesce`` several
overdue runs collapse into one. ``initial_delay`` is the wait before the first run,
``repeat_count`` stops after that many runs (0 = forever).

Each run creates an exchange (own unit of work) with properties ``CamelTimerName`` (NAME),
``CamelTimerCounter`` (1-based; restarts at 1 when the route starts again, goes on after
suspend/resume), ``CamelTimerFiredTime`` and ``CamelTimerScheduledTime`` (timezone-aware
datetimes: when the run started and when it was due). ``engine.route_stats(route_id)`` shows
``next_fire_time`` (ISO 8601, or None), ``fires``, ``fires_skipped`` and ``fires_missed``.

Stopping removes the job at once (no wait for the next due time); a run in progress finishes as
an in-flight exchange, which a graceful stop waits for. Nothing is queued or persisted, so a
crash loses the run in progress and the runs that were due while the engine was down.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from eip import constants as c
from eip.component import Component, Consumer, Endpoint, Processor
from eip.errors import EndpointOptionError
from eip.options import Option, OptionSpec
from eip.scheduling import (
    SKIPPED_MISSED,
    SKIPPED_RUNNING,
    EngineScheduler,
    FixedDelaySchedule,
    IntervalSchedule,
    Schedule,
    scheduler_for,
)

log = logging.getLogger("components.scheduler")

MISFIRE_OPTIONS: tuple[Option, ...] = (
    Option(
        "misfire_grace_time",
        "duration",
        60.0,
        "A fire that cannot start within this time after it was due (threads busy, process "
        "stalled) is skipped and counted in fires_missed.",
    ),
    Option(
        "coalesce",
        "bool",
        True,
        "When several fires are overdue at once, run one (at the latest due time) instead of all.",
    ),
)


class ScheduledConsumer(Consumer):
    """A consumer fired by the engine scheduler; subclasses say when (``schedule()``).

    At most one run at a time per consumer, even across a restart while the previous run is
    still finishing: such a fire is skipped and counted, never queued."""

    def __init__(self, endpoint: Endpoint, processor: Processor) -> None:
        super().__init__(endpoint, processor)
        self.counter = 0
        self.skipped = 0
        self.missed = 0
        self.scheduler: EngineScheduler | None = None
        self.job_id: str | None = None
        self._generation = 0
        self._run_lock = threading.Lock()
        self._counts_lock = threading.Lock()

    def schedule(self) -> Schedule:
        raise NotImplementedError

    def start(self, *, _resume: bool = False) -> None:
        if self.job_id is not None:
            return
        if not _resume:
            self.counter = self.skipped = self.missed = 0
        scheduler = scheduler_for(self.endpoint.engine)
        self._generation += 1
        job_id = f"{self.endpoint.key}@{id(self):x}.{self._generation}"
        values = self.endpoint.values
        self.scheduler, self.job_id = scheduler, job_id
        scheduler.add_job(
            job_id,
            partial(self._fire, job_id),
            self.schedule(),
            name=self.endpoint.uri,
            misfire_grace_time=values["misfire_grace_time"],
            coalesce=values["coalesce"],
            on_skipped=self._on_skipped,
        )

    def stop(self) -> None:
        job_id, self.job_id = self.job_id, None
        if job_id is not None and self.scheduler is not None:
            self.scheduler.remove_job(job_id)

    def suspend(self) -> None:
        self.stop()

    def resume(self) -> None:
        self.start(_resume=True)

    def pending_exchanges(self) -> int:
        # Covers the moment between the scheduler handing over a fire and the route counting it.
        return 1 if self._run_lock.locked() else 0

    def stats(self) -> dict[str, Any]:
        """Merged into ``engine.route_stats()``: the next fire (ISO 8601 or None) and the counts."""
        job_id, scheduler = self.job_id, self.scheduler
        upcoming = scheduler.next_fire_time(job_id) if job_id is not None and scheduler is not None else None
        return {
            "next_fire_time": None if upcoming is None else upcoming.isoformat(),
            "fires": self.counter,
            "fires_skipped": self.skipped,
            "fires_missed": self.missed,
        }

    def _on_skipped(self, reason: str, count: int) -> None:
        with self._counts_lock:
            if reason == SKIPPED_MISSED:
                self.missed += count
            else:
                self.skipped += count

    def _fire(self, job_id: str, due: datetime) -> None:
        if not self._run_lock.acquire(blocking=False):
            self._on_skipped(SKIPPED_RUNNING, 1)
            return
        try:
            if self.job_id != job_id:  # stopped (or restarted) while this fire waited
                return
            self.counter += 1
            exchange = self.create_exchange()
            properties = exchange.properties
            properties[c.TIMER_NAME] = self.endpoint.parsed.path
            properties[c.TIMER_COUNTER] = self.counter
            properties[c.TIMER_FIRED_TIME] = datetime.now(due.tzinfo)
            properties[c.TIMER_SCHEDULED_TIME] = due
            try:
                self.processor.process(exchange)
            except Exception:  # the route entry never raises; the schedule must go on anyway
                log.exception("%s: fire %d raised", self.endpoint.uri, self.counter)
            repeat = self.endpoint.values.get("repeat_count", 0)
            if repeat and self.counter >= repeat and self.job_id == job_id:
                self.stop()
        finally:
            self._run_lock.release()


class SchedulerConsumer(ScheduledConsumer):
    endpoint: SchedulerEndpoint

    def schedule(self) -> Schedule:
        values = self.endpoint.values
        if values["fixed_rate"]:
            start = datetime.now(UTC) + timedelta(seconds=values["initial_delay"])
            return IntervalSchedule(values["delay"], start)
        return FixedDelaySchedule(values["delay"], values["initial_delay"])


class SchedulerEndpoint(Endpoint):
    supports_producer = False
    options = OptionSpec(
        (
            Option(
                "delay",
                "duration",
                0.5,
                "Time from the end of one run to the start of the next (from start to start with fixed_rate).",
            ),
            Option("initial_delay", "duration", 1.0, "Time before the first run."),
            Option("repeat_count", "int", 0, "Stop after this many runs; 0 runs forever."),
            Option(
                "fixed_rate",
                "bool",
                False,
                "Start runs every delay on a fixed schedule; a run due while the previous one is still "
                "going is skipped (counted in fires_skipped).",
            ),
            *MISFIRE_OPTIONS,
        )
    )

    def validate(self) -> None:
        values = self.values
        if values["delay"] <= 0:
            raise EndpointOptionError(f"endpoint '{self.uri}': delay must be above 0, got {values['delay']}")
        for name in ("initial_delay", "repeat_count"):
            if values[name] < 0:
                raise EndpointOptionError(f"endpoint '{self.uri}': {name} must not be negative, got {values[name]}")
        validate_misfire_options(self)

    def create_consumer(self, processor: Any) -> Consumer:
        return SchedulerConsumer(self, processor)


def validate_misfire_options(endpoint: Endpoint) -> None:
    grace = endpoint.values["misfire_grace_time"]
    if grace <= 0:
        raise EndpointOptionError(f"endpoint '{endpoint.uri}': misfire_grace_time must be above 0, got {grace}")


class SchedulerComponent(Component):
    """scheduler:NAME - fire an exchange with an empty body every delay, never overlapping
    (CamelTimerName, CamelTimerCounter, CamelTimerFiredTime, CamelTimerScheduledTime)."""

    endpoint_class = SchedulerEndpoint

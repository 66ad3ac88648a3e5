"""A running route: its consumer, its compiled pipeline, its statistics and its lifecycle."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from eip.error_handler import failure_origin
from eip.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from eip.component import Consumer, Endpoint
    from eip.error_handler import ErrorHandler
    from eip.exchange import Exchange
    from eip.model import RouteDefinition
    from eip.processors.pipeline import Pipeline

log = logging.getLogger("eip.route")
_now = time.perf_counter


class RouteStats:
    """Counters of one route. ``in_flight`` is exact; times are in seconds."""

    __slots__ = (
        "completed",
        "failed",
        "inflight",
        "last_completed_at",
        "lock",
        "max_time",
        "min_time",
        "total_time",
    )

    def __init__(self) -> None:
        self.completed = 0
        self.failed = 0
        self.total_time = 0.0
        self.min_time: float | None = None
        self.max_time = 0.0
        self.last_completed_at: float | None = None
        self.lock = threading.Lock()
        self.inflight: dict[int, Exchange] = {}

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            total = self.completed + self.failed
            return {
                "exchanges_total": total,
                "exchanges_completed": self.completed,
                "exchanges_failed": self.failed,
                "exchanges_in_flight": len(self.inflight),
                "total_processing_time": self.total_time,
                "mean_processing_time": self.total_time / total if total else 0.0,
                "min_processing_time": self.min_time or 0.0,
                "max_processing_time": self.max_time,
                "last_completed_at": None
                if self.last_completed_at is None
                else time.time() - (time.perf_counter() - self.last_completed_at),
            }


class RouteEntry:
    """The processor a consumer calls: runs the route, records stats, completes the unit of work.

    Never raises: afterwards ``exchange.exception`` tells whether the exchange failed. The
    first route an exchange enters owns its unit of work and completes it; routes reached
    through ``direct:`` share it (the source is acknowledged once, after everything)."""

    __slots__ = (
        "handler",
        "keep_original",
        "listeners",
        "on_completions",
        "pipeline",
        "route_id",
        "stats",
    )

    def __init__(
        self,
        route_id: str,
        pipeline: Pipeline,
        keep_original: bool,
        on_completions: tuple[tuple[Any, Any], ...] = (),
        handler: ErrorHandler | None = None,
    ) -> None:
        self.route_id = route_id
        self.pipeline = pipeline
        self.stats = RouteStats()
        self.keep_original = keep_original
        self.on_completions = on_completions
        self.handler = handler
        #: ``fn(route_id, exchange)`` called after each exchange finished this route (notifiers,
        #: metrics); shared with the engine, so listeners added later see every route.
        self.listeners: list[Any] = []

    def process(self, exchange: Exchange) -> None:
        uow = exchange.unit_of_work
        if uow is None:
            uow = exchange.unit_of_work = UnitOfWork(exchange.message.copy() if self.keep_original else None)
        elif self.keep_original and uow.original_message is None:
            uow.original_message = exchange.message.copy()
        owner = uow.owner_route_id is None
        if owner:
            uow.owner_route_id = self.route_id
        if exchange.from_route_id is None:
            exchange.from_route_id = self.route_id
        stats = self.stats
        inflight = stats.inflight
        key = id(exchange)
        nested = key in inflight
        inflight[key] = exchange
        started = _now()
        # In flight until the source is settled too (uow.done: a file moved, a row marked, an MQ
        # commit), so a route stopped and started again never polls what is still being settled.
        try:
            try:
                self.pipeline.process(exchange)
            except Exception as exc:
                exchange.exception = exc
            finished = _now()
            elapsed = finished - started
            with stats.lock:  # inline rather than a method call: this runs once per exchange
                if exchange.exception is None:
                    stats.completed += 1
                else:
                    stats.failed += 1
                stats.total_time += elapsed
                if stats.min_time is None or elapsed < stats.min_time:
                    stats.min_time = elapsed
                if elapsed > stats.max_time:
                    stats.max_time = elapsed
                stats.last_completed_at = finished
            if self.listeners:
                for listener in tuple(self.listeners):  # a snapshot: listeners come and go on other threads
                    try:
                        if getattr(listener, "wants_elapsed", False):  # metrics: the time just measured
                            listener(self.route_id, exchange, elapsed)
                        else:
                            listener(self.route_id, exchange)
                    except Exception:  # a listener must not skip the unit of work below
                        log.exception(
                            "route '%s': listener %r failed for exchange %s",
                            self.route_id,
                            listener,
                            exchange.exchange_id,
                        )
            if owner:
                if exchange.exception is not None:
                    _log_failure(self.route_id, exchange)
                if self.on_completions:
                    self._run_on_completions(exchange)
                uow.done(exchange)
        finally:
            if not nested:
                inflight.pop(key, None)

    def _run_on_completions(self, exchange: Exchange) -> None:
        failed = exchange.exception is not None
        for definition, pipeline in self.on_completions:
            if (definition.only_on_completion and failed) or (definition.only_on_failure and not failed):
                continue
            copy = exchange.copy()
            copy.exception = None
            try:
                pipeline.process(copy)
            except Exception as exc:  # noqa: BLE001 - on_completion must not change the outcome
                log.error(
                    "route '%s': on_completion failed for exchange %s: %s", self.route_id, exchange.exchange_id, exc
                )


def _log_failure(route_id: str, exchange: Exchange) -> None:
    """One line per failed exchange: the owning route, and where it failed (sub-route, node, part)."""
    exc = exchange.exception
    origin = failure_origin(exc) if exc is not None else None
    where = f" at {origin.describe()}" if origin is not None else ""
    log.warning(
        "route '%s': exchange %s failed%s: %s: %s", route_id, exchange.exchange_id, where, type(exc).__name__, exc
    )


class Route:
    """One route of an engine: definition, entry, consumer and the services it owns."""

    def __init__(
        self,
        definition: RouteDefinition,
        endpoint: Endpoint,
        entry: RouteEntry,
        services: list[Any],
        handler: ErrorHandler | None,
    ) -> None:
        self.definition = definition
        self.route_id = definition.route_id
        self.endpoint = endpoint
        self.entry = entry
        self.services = services
        self.handler = handler
        self.consumer: Consumer | None = None
        self.state = "stopped"
        self.services_started = False
        #: True while the engine starts this route, until its consumer started (or failed):
        #: a ``direct:`` send to it meanwhile waits for the consumer instead of failing.
        self.starting = False

    def start_services(self) -> None:
        if self.services_started:
            return
        if self.handler is not None:
            self.handler.start()
        started = []
        try:
            for service in self.services:
                start = getattr(service, "start", None)
                if start is not None:
                    start()
                started.append(service)
        except Exception:
            for service in reversed(started):
                _safe_stop(service)
            raise
        self.services_started = True

    def start_consumer(self) -> None:
        if self.consumer is None:
            self.consumer = self.endpoint.create_consumer(self.entry)
        try:
            self.consumer.start()
        finally:
            self.starting = False
        self.state = "started"

    def stop_consumer(self) -> None:
        if self.consumer is not None:
            self.consumer.stop()
        self.state = "stopped"

    def wait_in_flight(self, timeout: float) -> list[str]:
        """Wait until no exchange is in flight; return the ids of those still running."""
        deadline = time.monotonic() + timeout
        consumer = self.consumer
        while (
            self.entry.stats.inflight or (consumer is not None and consumer.pending_exchanges())
        ) and time.monotonic() < deadline:
            time.sleep(0.01)
        return [ex.exchange_id for ex in list(self.entry.stats.inflight.values())]

    def stop_services(self) -> None:
        """Stop the route's services; first wake its redelivery waits (those exchanges fail)."""
        if self.handler is not None:
            self.handler.stop()
        for service in reversed(self.services):
            _safe_stop(service)
        self.services_started = False

    def stats(self) -> dict[str, Any]:
        data = self.entry.stats.snapshot()
        data["route_id"] = self.route_id
        data["state"] = self.state
        data["endpoint"] = self.endpoint.uri
        if self.handler is not None:
            data["redeliveries"] = self.handler.redeliveries
            data["dead_lettered"] = self.handler.dead_lettered
        skipped = [s.duplicates_skipped for s in self.services if hasattr(s, "duplicates_skipped")]
        if skipped:  # idempotent consumers of this route
            data["duplicates_skipped"] = sum(skipped)
        consumer_stats = getattr(self.consumer, "stats", None)  # e.g. cron's next_fire_time
        if consumer_stats is not None:
            data.update(consumer_stats())
        return data


def _safe_stop(service: Any) -> None:
    stop = getattr(service, "stop", None)
    if stop is None:
        return
    try:
        stop()
    except Exception as exc:
        log.error("stopping %r failed: %s", service, exc, exc_info=True)

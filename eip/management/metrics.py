"""Prometheus metrics of one engine (``GET /metrics``), in a registry of its own (no global state).

Counters and gauges are read from the routes' statistics at scrape time, so they cost the
routes nothing. Only the processing-time histogram is fed per exchange, by an engine listener
that receives the time the route already measured (one dict lookup and one ``observe``).

Metrics (label ``route`` is the route id, ``endpoint`` a URI with secrets masked):

* ``eip_exchanges_total``, ``eip_exchanges_succeeded_total``, ``eip_exchanges_failed_total``:
  exchanges that finished the route (a handled exception, e.g. dead-lettered, counts succeeded)
* ``eip_exchanges_inflight``: exchanges in the route now
* ``eip_exchange_processing_seconds``: histogram of the time an exchange spent in the route
  (counts exchanges since the management API was installed)
* ``eip_redeliveries_total``, ``eip_dead_lettered_total``: from the route's error handler
* ``eip_route_state{route, state}``: 1 for the route's current state, 0 for the others
* ``eip_route_last_completed_timestamp_seconds``: when the last exchange finished (Unix time)
* ``eip_endpoint_exchanges_total{endpoint}``: exchanges consumed from a route input endpoint
* ``eip_endpoint_queue_size{endpoint}``: exchanges waiting in an in-memory queue (``seda:``)
* ``eip_engine_started``: 1 while the engine is started
* the standard ``process_*``, ``python_*`` collectors of prometheus_client

Counters restart from 0 when a route is recompiled (``advice_with``); Prometheus treats that
as a counter reset.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from eip.secrets import mask_uri

if TYPE_CHECKING:
    from eip.engine import Engine
    from eip.exchange import Exchange

#: Buckets in seconds: EIP routes often take well under a millisecond, some take minutes.
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
ROUTE_STATES = ("started", "suspended", "stopped")


def queue_size(endpoint: Any) -> int | None:
    """Exchanges waiting in the endpoint's in-memory queue (``seda:``), None if it has none."""
    try:
        size = getattr(endpoint, "queue_size", None)
        if callable(size):
            size = size()
    except Exception:  # noqa: BLE001 - a closing queue: no figure this time
        return None
    return size if isinstance(size, int) and not isinstance(size, bool) else None


class _ProcessingTimer:
    """The engine listener feeding the histogram; ``wants_elapsed`` asks the route for its timing."""

    wants_elapsed = True
    __slots__ = ("children", "histogram")

    def __init__(self, histogram: Histogram) -> None:
        self.histogram = histogram
        self.children: dict[str, Any] = {}

    def __call__(self, route_id: str, exchange: Exchange, elapsed: float) -> None:
        child = self.children.get(route_id)
        if child is None:  # once per route; labels() is thread-safe, a race just repeats it
            child = self.children[route_id] = self.histogram.labels(route_id)
        child.observe(elapsed)


class RouteCollector:
    """Reads every route's statistics when Prometheus scrapes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def describe(self) -> list[Metric]:
        return []  # families depend on the routes present at scrape time

    def collect(self) -> Iterator[Metric]:
        engine = self.engine
        total = CounterMetricFamily("eip_exchanges", "Exchanges that finished the route", labels=["route"])
        succeeded = CounterMetricFamily(
            "eip_exchanges_succeeded",
            "Exchanges that finished the route successfully (handled exceptions included)",
            labels=["route"],
        )
        failed = CounterMetricFamily("eip_exchanges_failed", "Exchanges that failed the route", labels=["route"])
        inflight = GaugeMetricFamily("eip_exchanges_inflight", "Exchanges in the route now", labels=["route"])
        redeliveries = CounterMetricFamily(
            "eip_redeliveries", "Redelivery attempts by the route's error handler", labels=["route"]
        )
        dead_lettered = CounterMetricFamily(
            "eip_dead_lettered", "Exchanges sent to the dead letter channel", labels=["route"]
        )
        state = GaugeMetricFamily("eip_route_state", "1 for the route's current state", labels=["route", "state"])
        last = GaugeMetricFamily(
            "eip_route_last_completed_timestamp_seconds",
            "When the last exchange finished the route (Unix time)",
            labels=["route"],
        )
        consumed = CounterMetricFamily(
            "eip_endpoint_exchanges", "Exchanges consumed from a route's input endpoint", labels=["endpoint"]
        )
        per_endpoint: dict[str, float] = {}
        for route_id in engine.route_ids():
            try:
                route = engine.route(route_id)
                stats = route.stats()
            except Exception:  # noqa: BLE001, S112 - a route replaced or removed while we read
                continue
            labels = [route_id]
            total.add_metric(labels, stats["exchanges_total"])
            succeeded.add_metric(labels, stats["exchanges_completed"])
            failed.add_metric(labels, stats["exchanges_failed"])
            inflight.add_metric(labels, stats["exchanges_in_flight"])
            redeliveries.add_metric(labels, stats.get("redeliveries", 0))
            dead_lettered.add_metric(labels, stats.get("dead_lettered", 0))
            for name in ROUTE_STATES:
                state.add_metric([route_id, name], 1.0 if route.state == name else 0.0)
            if stats.get("last_completed_at") is not None:
                last.add_metric(labels, stats["last_completed_at"])
            uri = mask_uri(route.endpoint.uri)
            per_endpoint[uri] = per_endpoint.get(uri, 0) + stats["exchanges_total"]
        for uri, count in per_endpoint.items():
            consumed.add_metric([uri], count)
        queue = GaugeMetricFamily(
            "eip_endpoint_queue_size", "Exchanges waiting in an in-memory queue", labels=["endpoint"]
        )
        for endpoint in engine.endpoints():
            size = queue_size(endpoint)
            if size is not None:
                queue.add_metric([mask_uri(endpoint.uri)], size)
        started = GaugeMetricFamily("eip_engine_started", "1 while the engine is started")
        started.add_metric([], 1.0 if engine.is_started else 0.0)
        yield from (
            total,
            succeeded,
            failed,
            inflight,
            redeliveries,
            dead_lettered,
            state,
            last,
            consumed,
            queue,
            started,
        )


class EngineMetrics:
    """The metrics of one engine: its registry, the route collector and the processing-time timer.

    Creating it adds an engine listener; ``close()`` removes it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(RouteCollector(engine))
        self.histogram = Histogram(
            "eip_exchange_processing_seconds",
            "Time an exchange spent in the route",
            ["route"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.timer = _ProcessingTimer(self.histogram)
        engine.add_listener(self.timer)

    def exposition(self, accept: str | None = None) -> tuple[bytes, str]:
        """The metrics as (body, content type): Prometheus text, or OpenMetrics when asked for."""
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type

    def close(self) -> None:
        self.engine.remove_listener(self.timer)

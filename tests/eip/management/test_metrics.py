"""Prometheus metrics of the management API: the text parses and the counts follow the exchanges."""

from __future__ import annotations

import threading

import pytest
from prometheus_client.parser import text_string_to_metric_families

from eip import Engine, RouteBuilder, dead_letter_channel
from eip.management.metrics import EngineMetrics


def boom(exchange):
    raise ValueError("boom")


class Routes(RouteBuilder):
    def configure(self) -> None:
        self.from_("direct:ok").route_id("ok").to("mock:ok")
        self.from_("direct:fails").route_id("fails").process(boom)
        (self.from_("direct:dlc").route_id("dlc")
            .error_handler(dead_letter_channel("mock:dead", maximum_redeliveries=2, redelivery_delay=0))
            .process(boom))
        self.from_("seda:queue").route_id("queued").to("mock:queued")


def scrape(client, **kwargs) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample as {(name, sorted labels): value}, parsed with prometheus_client's parser."""
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


@pytest.fixture
def client(engine, management):
    engine.add_routes(Routes())
    engine.start()
    return management()


def test_text_format_parses_and_counts_move(client, engine):
    response = client.get("/metrics")
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    before = scrape(client)
    assert value(before, "eip_exchanges_total", route="ok") == 0
    assert value(before, "eip_engine_started") == 1
    assert value(before, "eip_route_state", route="ok", state="started") == 1
    assert value(before, "eip_route_state", route="ok", state="stopped") == 0

    for _ in range(3):
        engine.template.send_body("direct:ok", "x")
    with pytest.raises(ValueError):
        engine.template.send_body("direct:fails", "x")
    after = scrape(client)
    assert value(after, "eip_exchanges_total", route="ok") == 3
    assert value(after, "eip_exchanges_succeeded_total", route="ok") == 3
    assert value(after, "eip_exchanges_failed_total", route="ok") == 0
    assert value(after, "eip_exchanges_total", route="fails") == 1
    assert value(after, "eip_exchanges_failed_total", route="fails") == 1
    assert value(after, "eip_exchange_processing_seconds_count", route="ok") == 3
    assert value(after, "eip_exchange_processing_seconds_bucket", route="ok", le="+Inf") == 3
    assert value(after, "eip_exchange_processing_seconds_sum", route="ok") > 0
    assert value(after, "eip_exchange_processing_seconds_count", route="fails") == 1
    assert value(after, "eip_endpoint_exchanges_total", endpoint="direct:ok") == 3
    assert value(after, "eip_route_last_completed_timestamp_seconds", route="ok") > 1e9
    assert ("eip_route_last_completed_timestamp_seconds", (("route", "queued"),)) not in after
    assert any(name.startswith("process_") for name, _ in after)


def test_redeliveries_and_dead_lettered(client, engine):
    engine.template.send_body("direct:dlc", "x")
    engine.template.send_body("direct:dlc", "y")
    samples = scrape(client)
    assert value(samples, "eip_redeliveries_total", route="dlc") == 4
    assert value(samples, "eip_dead_lettered_total", route="dlc") == 2
    # Handled by the dead letter channel: the exchange succeeded as far as the source is concerned.
    assert value(samples, "eip_exchanges_succeeded_total", route="dlc") == 2
    assert value(samples, "eip_redeliveries_total", route="ok") == 0


def test_in_flight_and_queue_size(engine, management):
    entered, release = threading.Event(), threading.Event()

    def hold(exchange):
        entered.set()
        release.wait(5)

    engine.add_routes(lambda rb: rb.from_("seda:slow").route_id("slow").process(hold))
    engine.start()
    client = management()
    engine.template.send_body("seda:slow", 1)
    engine.template.send_body("seda:slow", 2)
    assert entered.wait(2)
    try:
        samples = scrape(client)
        assert value(samples, "eip_exchanges_inflight", route="slow") == 1
        assert value(samples, "eip_endpoint_queue_size", endpoint="seda:slow") == 1
    finally:
        release.set()


def test_route_state_follows_stop(client, engine):
    engine.stop_route("ok")
    samples = scrape(client)
    assert value(samples, "eip_route_state", route="ok", state="stopped") == 1
    assert value(samples, "eip_route_state", route="ok", state="started") == 0


def test_each_engine_has_its_own_registry():
    first, second = Engine(routes=[Routes()]), Engine(routes=[Routes()])
    with first, second:
        metrics_a, metrics_b = EngineMetrics(first), EngineMetrics(second)
        first.template.send_body("direct:ok", "x")
        text_a = metrics_a.exposition()[0].decode()
        text_b = metrics_b.exposition()[0].decode()
        assert 'eip_exchanges_total{route="ok"} 1.0' in text_a
        assert 'eip_exchanges_total{route="ok"} 0.0' in text_b
        assert 'eip_exchange_processing_seconds_count{route="ok"}' not in text_b
        metrics_a.close()
        metrics_b.close()
        assert first.listeners == [] and second.listeners == []


def test_close_stops_feeding_the_histogram(engine):
    engine.add_routes(Routes())
    engine.start()
    metrics = EngineMetrics(engine)
    engine.template.send_body("direct:ok", 1)
    metrics.close()
    engine.template.send_body("direct:ok", 2)
    text = metrics.exposition()[0].decode()
    assert 'eip_exchange_processing_seconds_count{route="ok"} 1.0' in text
    assert 'eip_exchanges_total{route="ok"} 2.0' in text  # read from the route at scrape time


def test_openmetrics_when_asked(client):
    response = client.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert response.headers["Content-Type"].startswith("application/openmetrics-text")
    assert response.get_data(as_text=True).rstrip().endswith("# EOF")


def test_listener_with_wants_elapsed_gets_the_route_time(engine):
    """The engine passes the measured time to listeners that ask for it; others keep two arguments."""
    timed, plain = [], []

    class Timed:
        wants_elapsed = True

        def __call__(self, route_id, exchange, elapsed):
            timed.append((route_id, elapsed))

    engine.add_routes(Routes())
    engine.add_listener(Timed())
    engine.add_listener(lambda route_id, exchange: plain.append(route_id))
    engine.start()
    engine.template.send_body("direct:ok", "x")
    assert plain == ["ok"]
    assert timed[0][0] == "ok" and 0 < timed[0][1] < 5

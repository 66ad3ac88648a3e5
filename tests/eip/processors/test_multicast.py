"""Multicast: a copy per destination, last reply or strategy, failures, parallel processing."""

from __future__ import annotations

import threading

import pytest

from eip import ConfigurationError, dead_letter_channel
from eip import constants as c
from eip.errors import AggregationError
from eip.strategies import concat_bodies, group_bodies, use_original


class Boom(Exception):
    pass


def mock(engine, name):
    return engine.get_endpoint(f"mock:{name}")


def boom(exchange):
    raise Boom(f"{exchange.message.body} failed")


def replier(b, name, reply):
    b.from_(f"direct:{name}").transform(lambda ex: reply).set_header("by", name)


def test_each_destination_gets_its_own_copy_with_multicast_properties(engine):
    def mark(exchange):
        exchange.message.headers["seen"] = exchange.message.headers.get("seen", 0) + 1

    engine.add_routes(lambda b: b.from_("direct:in")
                      .multicast().pipeline().process(mark).to("mock:a").end()
                      .pipeline().process(mark).to("mock:b").end()
                      .to("mock:c").end())
    engine.start()
    engine.template.send_body("direct:in", "x")
    got = [mock(engine, n).received_exchanges[0] for n in "abc"]
    assert [e.message.body for e in got] == ["x", "x", "x"]
    assert [e.message.headers.get("seen") for e in got] == [1, 1, None]  # copies, not shared
    assert [e.properties[c.MULTICAST_INDEX] for e in got] == [0, 1, 2]
    assert [e.properties[c.MULTICAST_COMPLETE] for e in got] == [False, False, True]


def test_without_strategy_the_result_is_the_last_reply(engine):
    def routes(b):
        replier(b, "one", "first")
        replier(b, "two", "second")
        b.from_("direct:in").multicast().to("direct:one").to("direct:two").end().to("mock:after")

    engine.add_routes(routes)
    engine.start()
    assert engine.template.request_body("direct:in", "x") == "second"
    after = mock(engine, "after").received_exchanges[0]
    assert after.message.headers["by"] == "two"
    assert c.MULTICAST_INDEX not in after.properties


def test_strategy_combines_replies(engine):
    def routes(b):
        replier(b, "one", "first")
        replier(b, "two", "second")
        b.from_("direct:in").multicast(concat_bodies("+")).to("direct:one").to("direct:two").end()

    engine.add_routes(routes)
    engine.start()
    assert engine.template.request_body("direct:in", "x") == "first+second"


def test_use_original_keeps_the_input(engine):
    def routes(b):
        replier(b, "one", "first")
        b.from_("direct:in").multicast(use_original).to("direct:one").end()

    engine.add_routes(routes)
    engine.start()
    assert engine.template.request_body("direct:in", "x") == "x"


def test_strategy_returning_none_is_an_aggregation_error(engine):
    engine.add_routes(lambda b: b.from_("direct:in").multicast(lambda old, new: None).to("mock:a").end())
    engine.start()
    with pytest.raises(AggregationError):
        engine.template.send_body("direct:in", "x")


def test_failure_does_not_stop_other_destinations_and_is_raised(engine):
    engine.add_routes(lambda b: b.from_("direct:in")
                      .multicast().to("mock:a").to("mock:b").to("mock:c").end().to("mock:after"))
    engine.start()
    mock(engine, "a").when_any_exchange_received(boom)
    with pytest.raises(Boom):
        engine.template.send_body("direct:in", "x")
    assert [mock(engine, n).received_counter for n in "bc"] == [1, 1]
    assert mock(engine, "after").received_counter == 0


def test_stop_on_exception(engine):
    engine.add_routes(lambda b: b.from_("direct:in")
                      .multicast(stop_on_exception=True).to("mock:a").to("mock:b").to("mock:c").end())
    engine.start()
    mock(engine, "b").when_any_exchange_received(boom)
    with pytest.raises(Boom):
        engine.template.send_body("direct:in", "x")
    assert [mock(engine, n).received_counter for n in "abc"] == [1, 1, 0]


def test_dead_letter_channel_handles_one_destination(engine):
    def routes(b):
        b.error_handler(dead_letter_channel("mock:dead", redelivery_delay=0))
        b.from_("direct:in").multicast().to("mock:a").to("mock:b").end().to("mock:after")

    engine.add_routes(routes)
    engine.start()
    mock(engine, "a").when_any_exchange_received(boom)
    engine.template.send_body("direct:in", "x")
    assert mock(engine, "dead").received_bodies == ["x"]
    assert mock(engine, "b").received_counter == 1
    assert mock(engine, "after").received_counter == 1


def test_parallel_runs_on_the_pool_and_aggregates_in_destination_order(engine):
    release = threading.Event()
    threads = set()

    def slow_first(exchange):
        threads.add(threading.current_thread().name)
        assert release.wait(5)
        exchange.message.body = "a"

    def fast(exchange):
        threads.add(threading.current_thread().name)
        exchange.message.body = "b"
        release.set()

    engine.add_routes(lambda b: b.from_("direct:in").route_id("r")
                      .multicast(group_bodies, parallel=True).process(slow_first).process(fast).end()
                      .to("mock:after"))
    engine.start()
    engine.template.send_body("direct:in", "x")
    assert mock(engine, "after").received_bodies == [["a", "b"]]
    assert any(name.startswith("eip-r-parallel") for name in threads)


def test_parallel_failure_and_stop_on_exception(engine):
    engine.add_routes(lambda b: b.from_("direct:in")
                      .multicast(parallel=True).to("mock:a").to("mock:b").end())
    engine.add_routes(lambda b: b.from_("direct:stop")
                      .multicast(parallel=True, stop_on_exception=True).to("mock:a").to("mock:b").end())
    engine.start()
    mock(engine, "a").when_any_exchange_received(boom)
    with pytest.raises(Boom):
        engine.template.send_body("direct:in", "x")
    assert mock(engine, "b").received_counter == 1
    with pytest.raises(Boom):
        engine.template.send_body("direct:stop", "y")


def test_parallel_timeout_continues_with_what_finished(engine):
    release = threading.Event()
    engine.add_routes(lambda b: b.from_("direct:in")
                      .multicast(group_bodies, parallel=True, timeout=0.2)
                      .transform(lambda ex: "fast")
                      .process(lambda ex: release.wait(5))
                      .end().to("mock:after"))
    engine.start()
    try:
        engine.template.send_body("direct:in", "x")
        assert mock(engine, "after").received_bodies == [["fast"]]
    finally:
        release.set()


def test_empty_multicast_leaves_the_exchange_alone(engine):
    engine.add_routes(lambda b: b.from_("direct:in").multicast().end().to("mock:after"))
    engine.start()
    engine.template.send_body("direct:in", "x")
    assert mock(engine, "after").received_bodies == ["x"]


def test_configuration_errors(engine):
    with pytest.raises(ConfigurationError, match="parallel"):
        engine.add_routes(lambda b: b.from_("direct:in").multicast(timeout=1).to("mock:a").end())
    with pytest.raises(ConfigurationError, match="strategy"):
        engine.add_routes(lambda b: b.from_("direct:in2").multicast(strategy=42).to("mock:a").end())

"""Wire tap: an InOnly shallow copy sent on a bounded pool; the original goes on at once."""

from __future__ import annotations

import threading

import pytest

from eip import ConfigurationError, InOut
from eip.exchange import Exchange
from eip.processors.wire_tap import TapPool, WireTapProcessor


def start(engine, configure):
    engine.add_routes(configure)
    engine.start()


def test_tap_gets_an_in_only_copy_and_the_original_goes_on(engine):
    start(engine, lambda b: (b.from_("direct:in").wire_tap("mock:tap").set_body("changed").to("mock:out")))
    reply = engine.template.request_body("direct:in", "hello", headers={"h": 1})
    assert reply == "changed"
    tap = engine.get_endpoint("mock:tap")
    tap.expected_bodies_received("hello")
    tap.assert_is_satisfied(timeout=5)
    tapped = tap.received_exchanges[0]
    original = engine.get_endpoint("mock:out").received_exchanges[0]
    assert tapped.pattern.value == "InOnly"
    assert original.pattern == InOut
    assert tapped.message.headers["h"] == 1
    assert tapped.exchange_id != original.exchange_id


def test_original_does_not_wait_for_the_tap(engine):
    entered, release, finished = threading.Event(), threading.Event(), threading.Event()

    def slow(ex):
        entered.set()
        release.wait(5)
        finished.set()

    start(engine, lambda b: b.from_("direct:in").wire_tap("mock:tap").to("mock:out"))
    engine.get_endpoint("mock:tap").when_any_exchange_received(slow)
    engine.template.send_body("direct:in", "x")  # returns while the tap is blocked
    assert engine.get_endpoint("mock:out").received_bodies == ["x"]
    assert entered.wait(5)
    assert not finished.is_set()
    release.set()
    assert finished.wait(5)


def test_tap_changes_do_not_leak_into_the_original_and_back(engine):
    seen = []

    def configure(b):
        b.from_("direct:in").set_header("a", "orig").wire_tap("direct:tap").set_header("b", "orig").to("mock:out")
        b.from_("direct:tap").set_header("a", "tap").process(lambda ex: seen.append(dict(ex.message.headers))) \
            .to("mock:tap")

    start(engine, configure)
    engine.template.send_body("direct:in", "x")
    engine.get_endpoint("mock:tap").expected_message_count(1)
    engine.get_endpoint("mock:tap").assert_is_satisfied(timeout=5)
    out = engine.get_endpoint("mock:out").received_exchanges[0]
    assert out.message.headers["a"] == "orig"
    assert "b" not in seen[0]  # the copy was taken before the original went on


def test_tapped_copy_has_its_own_unit_of_work(engine):
    uows = {}

    def configure(b):
        b.from_("direct:in").process(lambda ex: uows.__setitem__("in", ex.unit_of_work)).wire_tap("direct:tap")
        b.from_("direct:tap").process(lambda ex: uows.__setitem__("tap", ex.unit_of_work)).to("mock:tap")

    start(engine, configure)
    engine.template.send_body("direct:in", "x")
    engine.get_endpoint("mock:tap").expected_message_count(1)
    engine.get_endpoint("mock:tap").assert_is_satisfied(timeout=5)
    assert uows["tap"] is not None and uows["tap"] is not uows["in"]


def test_a_failing_tap_never_fails_the_original(engine):
    start(engine, lambda b: b.from_("direct:in").wire_tap("mock:tap").to("mock:out"))
    tap = engine.get_endpoint("mock:tap")
    done = threading.Event()

    def boom(ex):
        done.set()
        raise RuntimeError("tap down")

    tap.when_any_exchange_received(boom)
    engine.template.send_body("direct:in", "x")
    assert engine.get_endpoint("mock:out").received_bodies == ["x"]
    assert done.wait(5)


def test_uri_template_is_resolved_per_exchange(engine):
    start(engine, lambda b: b.from_("direct:in").wire_tap("mock:${header.dest}"))
    engine.template.send_body("direct:in", 1, headers={"dest": "a"})
    engine.template.send_body("direct:in", 2, headers={"dest": "b"})
    for name, body in (("a", 1), ("b", 2)):
        mock = engine.get_endpoint(f"mock:{name}")
        mock.expected_bodies_received(body)
        mock.assert_is_satisfied(timeout=5)


def test_uri_expression_giving_nothing_fails_the_original(engine):
    start(engine, lambda b: b.from_("direct:in").wire_tap(lambda ex: None).to("mock:out"))
    with pytest.raises(Exception, match="URI expression gave None"):
        engine.template.send_body("direct:in", "x")
    assert engine.get_endpoint("mock:out").received_bodies == []


def test_copy_false_sends_a_new_empty_exchange(engine):
    start(engine, lambda b: b.from_("direct:in").wire_tap("mock:tap", copy=False))
    engine.template.send_body("direct:in", "x", headers={"h": 1})
    tap = engine.get_endpoint("mock:tap")
    tap.expected_message_count(1)
    tap.assert_is_satisfied(timeout=5)
    assert tap.received_bodies == [None]
    assert "h" not in tap.received_exchanges[0].message.headers


def test_unknown_scheme_is_a_configuration_error(engine):
    with pytest.raises(ConfigurationError, match="nosuch"):
        engine.add_routes(lambda b: b.from_("direct:in").wire_tap("nosuch:x"))


def test_stop_drains_the_tap_pool(engine):
    release, finished = threading.Event(), threading.Event()

    def slow(ex):
        release.wait(5)
        finished.set()

    start(engine, lambda b: b.from_("direct:in").wire_tap("mock:tap"))
    engine.get_endpoint("mock:tap").when_any_exchange_received(slow)
    engine.template.send_body("direct:in", "x")
    timer = threading.Timer(0.05, release.set)
    timer.start()
    engine.stop()  # waits for the tapped copy in flight
    assert finished.is_set()
    pool = engine.route(engine.route_ids()[0]).entry.pipeline.processors[0].pool
    assert pool.pending == 0 and pool._executor is None
    timer.join()


# -- the pool ---------------------------------------------------------------------------------

def test_pool_runs_in_the_callers_thread_when_full():
    pool = TapPool("t", pool_size=1, queue_size=1)
    pool.start()
    release = threading.Event()
    try:
        assert pool.submit(lambda: release.wait(5))  # the thread
        assert pool.submit(lambda: None)  # the queue
        assert not pool.submit(lambda: None)  # full: caller runs
        assert pool.caller_runs == 1
    finally:
        release.set()
        pool.stop()
    assert pool.pending == 0


def test_pool_not_started_means_caller_runs():
    assert not TapPool("t").submit(lambda: None)


def test_processor_sends_in_the_callers_thread_when_the_pool_is_full():
    threads = []

    class Producer:
        def process(self, exchange):
            threads.append(threading.current_thread())

    pool = TapPool("t", pool_size=1, queue_size=0)
    pool.start()
    release = threading.Event()
    try:
        assert pool.submit(lambda: release.wait(5))
        processor = WireTapProcessor(pool, "x:y", Producer(), None, True, "r", "n")
        processor.process(Exchange("a"))
        assert threads == [threading.current_thread()]
    finally:
        release.set()
        pool.stop()

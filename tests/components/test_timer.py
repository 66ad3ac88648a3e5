"""timer: fires with name and counter, delay, repeat_count, fixed rate, prompt stop."""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from eip import ConfigurationError, EndpointOptionError, Engine, Exchange, RouteBuilder
from eip.constants import TIMER_COUNTER, TIMER_NAME


def routes(fn):
    class Routes(RouteBuilder):
        def configure(self) -> None:
            fn(self)
    return Routes()


def fire_times(engine: Engine, uri: str, route_id: str = "t", work=None) -> list[float]:
    times: list[float] = []

    def record(ex: Exchange) -> None:
        times.append(time.monotonic())
        if work is not None:
            work(ex)

    engine.add_routes(routes(lambda r: r.from_(uri).route_id(route_id).process(record).to("mock:tick")))
    return times


def test_each_fire_has_name_counter_and_empty_body(engine: Engine) -> None:
    engine.add_routes(routes(lambda r: r.from_("timer:heartbeat?period=0.01&delay=0&repeat_count=3")
                             .route_id("t").to("mock:tick")))
    engine.start()
    consumer = engine.route("t").consumer
    consumer.thread.join(5)
    assert not consumer.thread.is_alive()  # repeat_count reached: the thread ends by itself
    tick = engine.get_endpoint("mock:tick")
    assert tick.received_counter == 3
    received = tick.received_exchanges
    assert [ex.properties[TIMER_COUNTER] for ex in received] == [1, 2, 3]
    assert {ex.properties[TIMER_NAME] for ex in received} == {"heartbeat"}
    assert all(ex.message.body is None for ex in received)
    assert len({ex.exchange_id for ex in received}) == 3
    assert engine.route_stats("t")["exchanges_completed"] == 3


def test_period_zero_fires_once(engine: Engine) -> None:
    engine.add_routes(routes(lambda r: r.from_("timer:once?period=0&delay=0").route_id("t").to("mock:tick")))
    engine.start()
    consumer = engine.route("t").consumer
    consumer.thread.join(5)
    assert not consumer.thread.is_alive()
    assert engine.get_endpoint("mock:tick").received_counter == 1


def test_initial_delay_is_honoured(engine: Engine) -> None:
    times = fire_times(engine, "timer:t?delay=0.2&period=0.01&repeat_count=1")
    started = time.monotonic()
    engine.start()
    tick = engine.get_endpoint("mock:tick")
    tick.expected_message_count(1)
    tick.assert_is_satisfied(5)
    assert times[0] - started >= 0.19


def test_stop_wakes_the_timer_thread_at_once(engine: Engine) -> None:
    engine.add_routes(routes(lambda r: r.from_("timer:slow?period=60&delay=60").route_id("t").to("mock:tick")))
    engine.start()
    consumer = engine.route("t").consumer
    thread = consumer.thread
    started = time.monotonic()
    engine.stop_route("t", timeout=1)
    thread.join(2)
    assert not thread.is_alive()
    assert time.monotonic() - started < 1
    assert engine.get_endpoint("mock:tick").received_counter == 0


def test_stop_between_fires_ends_the_thread_and_restart_counts_from_one(engine: Engine) -> None:
    engine.add_routes(routes(lambda r: r.from_("timer:t?period=30&delay=0").route_id("t").to("mock:tick")))
    engine.start()
    tick = engine.get_endpoint("mock:tick")
    tick.expected_message_count(1)
    tick.assert_is_satisfied(5)
    first_thread = engine.route("t").consumer.thread
    engine.stop_route("t", timeout=1)
    first_thread.join(2)
    assert not first_thread.is_alive()
    engine.start_route("t")
    tick.expected_message_count(2)
    tick.assert_is_satisfied(5)
    assert [ex.properties[TIMER_COUNTER] for ex in tick.received_exchanges] == [1, 1]


def test_suspend_and_resume_continue_the_counter(engine: Engine) -> None:
    engine.add_routes(routes(lambda r: r.from_("timer:t?period=30&delay=0").route_id("t").to("mock:tick")))
    engine.start()
    tick = engine.get_endpoint("mock:tick")
    tick.expected_message_count(1)
    tick.assert_is_satisfied(5)
    engine.suspend_route("t")
    engine.resume_route("t")
    tick.expected_message_count(2)
    tick.assert_is_satisfied(5)
    assert [ex.properties[TIMER_COUNTER] for ex in tick.received_exchanges] == [1, 2]


def test_fixed_delay_waits_a_full_period_after_each_fire_ends(engine: Engine) -> None:
    times = fire_times(engine, "timer:t?period=0.05&delay=0&repeat_count=4",
                       work=lambda ex: time.sleep(0.03))
    engine.start()
    engine.route("t").consumer.thread.join(5)
    assert len(times) == 4
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(gap >= 0.079 for gap in gaps), gaps  # 0.03 of work + a full 0.05 period


def test_fixed_rate_catches_up_after_a_slow_fire(engine: Engine) -> None:
    def slow_first(ex: Exchange) -> None:
        if ex.properties[TIMER_COUNTER] == 1:
            time.sleep(0.35)

    times = fire_times(engine, "timer:t?period=0.1&delay=0&repeat_count=4&fixed_rate=true", work=slow_first)
    engine.start()
    engine.route("t").consumer.thread.join(5)
    assert len(times) == 4
    # fires 2, 3 and 4 were due at 0.1, 0.2 and 0.3: all late, so they run back to back,
    # which a fixed-delay timer (at least 0.1 between fires) never does
    gaps = [b - a for a, b in itertools.pairwise(times[1:])]
    assert all(gap < 0.09 for gap in gaps), gaps


def test_a_failing_fire_does_not_stop_the_timer(engine: Engine) -> None:
    def fail(ex: Exchange) -> None:
        if ex.properties[TIMER_COUNTER] == 1:
            raise RuntimeError("first fire fails")

    engine.add_routes(routes(lambda r: r.from_("timer:t?period=0.01&delay=0&repeat_count=3").route_id("t")
                             .process(fail).to("mock:tick")))
    engine.start()
    engine.route("t").consumer.thread.join(5)
    assert [ex.properties[TIMER_COUNTER] for ex in engine.get_endpoint("mock:tick").received_exchanges] == [2, 3]
    stats = engine.route_stats("t")
    assert stats["exchanges_failed"] == 1 and stats["exchanges_completed"] == 2


def test_one_thread_per_timer_route(engine: Engine) -> None:
    def build(r: RouteBuilder) -> None:
        r.from_("timer:a?period=30&delay=30").route_id("a").to("mock:a")
        r.from_("timer:b?period=30&delay=30").route_id("b").to("mock:b")

    engine.add_routes(routes(build))
    before = {t.name for t in threading.enumerate()}
    engine.start()
    after = {t.name for t in threading.enumerate()} - before
    assert after == {"eip-timer-a", "eip-timer-b"}


@pytest.mark.parametrize(("uri", "message"), [
    ("timer:t?period=-1", "period must not be negative"),
    ("timer:t?repeat_count=-2", "repeat_count must not be negative"),
    ("timer:t?perod=1", "did you mean 'period'"),
    ("timer:t?fixed_rate=sometimes", "expects bool"),
])
def test_bad_options_are_rejected(engine: Engine, uri: str, message: str) -> None:
    with pytest.raises(EndpointOptionError, match=message):
        engine.get_endpoint(uri)


def test_durations_accept_units(engine: Engine) -> None:
    endpoint = engine.get_endpoint("timer:t?period=250ms&delay=2s")
    assert endpoint.values["period"] == 0.25 and endpoint.values["delay"] == 2.0


def test_a_timer_cannot_be_sent_to(engine: Engine) -> None:
    with pytest.raises(ConfigurationError, match="cannot be sent to") as info:
        engine.add_routes(routes(lambda r: r.from_("direct:a").route_id("bad").to("timer:t")))
    assert info.value.route_id == "bad"

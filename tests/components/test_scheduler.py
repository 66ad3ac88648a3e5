"""scheduler: fixed delay, fixed rate without overlap, repeat_count, properties, statistics,
prompt stop, graceful stop with a run in flight, restart and suspend."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import pytest

from eip import ConfigurationError, EndpointOptionError, Engine, Exchange, RouteBuilder
from eip.constants import (
    TIMER_COUNTER,
    TIMER_FIRED_TIME,
    TIMER_NAME,
    TIMER_SCHEDULED_TIME,
)
from eip.scheduling import EngineScheduler
from eip.testing import eventually


def routes(fn):
    class Routes(RouteBuilder):
        def configure(self) -> None:
            fn(self)
    return Routes()


def add(engine: Engine, uri: str, work=None, route_id: str = "s") -> None:
    step = work or (lambda ex: None)
    engine.add_routes(routes(lambda r: r.from_(uri).route_id(route_id).process(step).to("mock:tick")))


def test_runs_carry_name_counter_and_times_and_stop_after_repeat_count(engine: Engine) -> None:
    add(engine, "scheduler:poller?delay=20ms&initial_delay=0&repeat_count=3")
    engine.start()
    tick = engine.get_endpoint("mock:tick")
    tick.expected_message_count(3)
    tick.assert_is_satisfied(5)
    consumer = engine.route("s").consumer
    eventually(lambda: consumer.job_id is None and consumer.pending_exchanges() == 0)
    received = tick.received_exchanges
    assert [ex.properties[TIMER_COUNTER] for ex in received] == [1, 2, 3]
    assert {ex.properties[TIMER_NAME] for ex in received} == {"poller"}
    assert all(ex.message.body is None for ex in received)
    for ex in received:
        fired, due = ex.properties[TIMER_FIRED_TIME], ex.properties[TIMER_SCHEDULED_TIME]
        assert isinstance(due, datetime) and due.tzinfo is not None and fired >= due
    stats = engine.route_stats("s")
    assert stats["next_fire_time"] is None  # repeat_count reached: nothing more is scheduled
    assert stats["fires"] == 3 and stats["exchanges_completed"] == 3
    assert tick.received_counter == 3


def test_fixed_delay_waits_a_full_delay_after_each_run_ends(engine: Engine) -> None:
    starts: list[float] = []
    ends: list[float] = []

    def work(ex: Exchange) -> None:
        starts.append(time.monotonic())
        time.sleep(0.03)  # the run's own work
        ends.append(time.monotonic())

    add(engine, "scheduler:s?delay=50ms&initial_delay=0&repeat_count=3", work)
    engine.start()
    eventually(lambda: len(ends) == 3)
    gaps = [starts[i + 1] - ends[i] for i in range(2)]
    assert all(gap >= 0.049 for gap in gaps), gaps


def test_initial_delay_is_honoured_and_shown_as_next_fire_time(engine: Engine) -> None:
    add(engine, "scheduler:s?delay=10s&initial_delay=0.2&repeat_count=1")
    started, before = time.monotonic(), datetime.now().astimezone()
    engine.start()
    after = datetime.now().astimezone()
    upcoming = engine.route_stats("s")["next_fire_time"]
    assert upcoming is not None
    assert before + timedelta(seconds=0.2) <= datetime.fromisoformat(upcoming) <= after + timedelta(seconds=0.2)
    tick = engine.get_endpoint("mock:tick")
    tick.expected_message_count(1)
    tick.assert_is_satisfied(5)
    assert tick.received_exchanges[0].properties[TIMER_COUNTER] == 1
    assert time.monotonic() - started >= 0.19


def test_fixed_rate_never_overlaps_a_slow_run_and_counts_the_skipped_fires(engine: Engine) -> None:
    release = threading.Event()
    add(engine, "scheduler:s?delay=20ms&initial_delay=0&fixed_rate=true", lambda ex: release.wait(5))
    engine.start()
    try:
        eventually(lambda: engine.route_stats("s")["fires_skipped"] >= 3)
        stats = engine.route_stats("s")
        assert stats["fires"] == 1 and stats["exchanges_in_flight"] == 1
    finally:
        release.set()
    tick = engine.get_endpoint("mock:tick")
    tick.expected_minimum_message_count(2)
    tick.assert_is_satisfied(5)
    counters = [ex.properties[TIMER_COUNTER] for ex in tick.received_exchanges]
    assert counters == list(range(1, len(counters) + 1))


def test_stop_removes_the_job_at_once(engine: Engine) -> None:
    add(engine, "scheduler:s?delay=60s&initial_delay=60s")
    engine.start()
    assert engine.route_stats("s")["next_fire_time"] is not None
    started = time.monotonic()
    engine.stop_route("s", timeout=30)
    assert time.monotonic() - started < 10  # did not wait out the 30 s stop timeout (nor the 60 s delay)
    assert engine.route_stats("s")["next_fire_time"] is None
    assert engine.get_endpoint("mock:tick").received_counter == 0


def test_engine_stop_lets_a_run_in_flight_finish(engine: Engine) -> None:
    entered, release = threading.Event(), threading.Event()
    finished: list[int] = []

    def work(ex: Exchange) -> None:
        entered.set()
        release.wait(5)
        finished.append(ex.properties[TIMER_COUNTER])

    add(engine, "scheduler:s?delay=10ms&initial_delay=0", work)
    engine.start()
    assert entered.wait(5)
    result: dict = {}
    stopper = threading.Thread(target=lambda: result.update(engine.stop(timeout=5)))
    stopper.start()
    eventually(lambda: engine.route("s").consumer.job_id is None)  # no new fires
    assert stopper.is_alive()  # waiting for the run in flight
    release.set()
    stopper.join(5)
    assert not stopper.is_alive()
    assert result == {} and finished == [1]
    tick = engine.get_endpoint("mock:tick")
    assert tick.received_counter == 1 and engine.route_stats("s")["exchanges_completed"] == 1


def test_restart_counts_from_one_and_suspend_resume_goes_on(engine: Engine) -> None:
    add(engine, "scheduler:s?delay=30s&initial_delay=0")
    engine.start()
    tick = engine.get_endpoint("mock:tick")
    tick.expected_message_count(1)
    tick.assert_is_satisfied(5)
    engine.suspend_route("s")
    assert engine.route_stats("s")["next_fire_time"] is None
    engine.resume_route("s")
    tick.expected_message_count(2)
    tick.assert_is_satisfied(5)
    engine.stop_route("s", timeout=1)
    engine.start_route("s")
    tick.expected_message_count(3)
    tick.assert_is_satisfied(5)
    assert [ex.properties[TIMER_COUNTER] for ex in tick.received_exchanges] == [1, 2, 1]


def test_a_failing_run_does_not_stop_the_schedule(engine: Engine) -> None:
    def fail(ex: Exchange) -> None:
        if ex.properties[TIMER_COUNTER] == 1:
            raise RuntimeError("first run fails")

    add(engine, "scheduler:s?delay=10ms&initial_delay=0&repeat_count=3", fail)
    engine.start()
    tick = engine.get_endpoint("mock:tick")
    tick.expected_message_count(2)
    tick.assert_is_satisfied(5)
    assert [ex.properties[TIMER_COUNTER] for ex in tick.received_exchanges] == [2, 3]
    eventually(lambda: engine.route_stats("s")["exchanges_failed"] == 1)


def test_routes_share_one_scheduler_thread_and_pool_per_engine(engine: Engine) -> None:
    def build(r: RouteBuilder) -> None:
        r.from_("scheduler:a?delay=30s&initial_delay=30s").route_id("a").to("mock:a")
        r.from_("scheduler:b?delay=30s&initial_delay=30s").route_id("b").to("mock:b")
        r.from_("cron:c?schedule=@yearly").route_id("c").to("mock:c")

    engine.add_routes(routes(build))
    before = {t.name for t in threading.enumerate()}
    engine.start()
    assert {t.name for t in threading.enumerate()} - before == {"APScheduler"}
    schedulers = [s for s in engine.services if isinstance(s, EngineScheduler)]
    assert len(schedulers) == 1 and schedulers[0].running
    engine.stop()
    assert not schedulers[0].running
    assert not any(t.name == "APScheduler" for t in threading.enumerate())


@pytest.mark.parametrize(("uri", "message"), [
    ("scheduler:s?delay=0", "delay must be above 0"),
    ("scheduler:s?initial_delay=-1", "initial_delay must not be negative"),
    ("scheduler:s?repeat_count=-1", "repeat_count must not be negative"),
    ("scheduler:s?misfire_grace_time=0", "misfire_grace_time must be above 0"),
    ("scheduler:s?dealy=1", "did you mean 'delay'"),
    ("scheduler:s?fixed_rate=maybe", "expects bool"),
])
def test_bad_options_are_rejected(engine: Engine, uri: str, message: str) -> None:
    with pytest.raises(EndpointOptionError, match=message):
        engine.get_endpoint(uri)


def test_durations_accept_units(engine: Engine) -> None:
    endpoint = engine.get_endpoint("scheduler:s?delay=250ms&initial_delay=2s&misfire_grace_time=5m")
    assert (endpoint.values["delay"], endpoint.values["initial_delay"], endpoint.values["misfire_grace_time"]) \
        == (0.25, 2.0, 300.0)


def test_a_scheduler_cannot_be_sent_to(engine: Engine) -> None:
    with pytest.raises(ConfigurationError, match="cannot be sent to") as info:
        engine.add_routes(routes(lambda r: r.from_("direct:a").route_id("bad").to("scheduler:s")))
    assert info.value.route_id == "bad"

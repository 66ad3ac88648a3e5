"""cron: seconds-level schedules fire with name, counter and times; no overlapping runs; time zone,
next fire time in route statistics; bad expressions and zones fail at add_routes."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from components.cron import CronComponent
from eip import ConfigurationError, EndpointOptionError, Engine, Exchange, RouteBuilder
from eip.constants import (
    TIMER_COUNTER,
    TIMER_FIRED_TIME,
    TIMER_NAME,
    TIMER_SCHEDULED_TIME,
)
from eip.testing import eventually


def routes(fn):
    class Routes(RouteBuilder):
        def configure(self) -> None:
            fn(self)
    return Routes()


def add(engine: Engine, uri: str, work=None, route_id: str = "c") -> None:
    step = work or (lambda ex: None)
    engine.add_routes(routes(lambda r: r.from_(uri).route_id(route_id).process(step).to("mock:tick")))


def test_a_seconds_level_schedule_fires_each_second_with_name_counter_and_times(engine: Engine) -> None:
    add(engine, "cron:heartbeat?schedule=*/1+*+*+*+*+*&time_zone=UTC")  # '+' is a space, as in Camel
    engine.start()
    tick = engine.get_endpoint("mock:tick")
    tick.expected_message_count(2)
    tick.assert_is_satisfied(5)
    first, second = tick.received_exchanges[:2]
    assert [first.properties[TIMER_COUNTER], second.properties[TIMER_COUNTER]] == [1, 2]
    assert first.properties[TIMER_NAME] == "heartbeat" and first.message.body is None
    due1, due2 = first.properties[TIMER_SCHEDULED_TIME], second.properties[TIMER_SCHEDULED_TIME]
    assert due1.microsecond == 0 and due1.utcoffset() == timedelta(0)
    assert due2 > due1 and (due2 - due1) % timedelta(seconds=1) == timedelta(0)  # 1 s unless the host stalled
    assert due1 <= first.properties[TIMER_FIRED_TIME] < due1 + timedelta(seconds=1)
    stats = engine.route_stats("c")
    assert stats["fires"] >= 2 and stats["fires_skipped"] == 0
    assert datetime.fromisoformat(stats["next_fire_time"]) > due2


def test_a_fire_while_the_previous_run_is_going_is_skipped_not_overlapped(engine: Engine) -> None:
    release = threading.Event()
    running = []
    overlapped = []

    def work(ex: Exchange) -> None:
        if running:
            overlapped.append(ex.properties[TIMER_COUNTER])
        running.append(1)
        try:
            release.wait(5)
        finally:
            running.pop()

    add(engine, "cron:busy?schedule=* * * * * *", work)  # plain spaces work too
    engine.start()
    try:
        eventually(lambda: engine.route_stats("c")["fires_skipped"] >= 1, timeout=5)
        stats = engine.route_stats("c")
        assert stats["fires"] == 1 and stats["exchanges_in_flight"] == 1
    finally:
        release.set()
    eventually(lambda: engine.route_stats("c")["exchanges_completed"] >= 1)
    engine.stop()
    assert overlapped == []


def test_next_fire_time_is_in_route_stats_in_the_given_time_zone(engine: Engine) -> None:
    add(engine, "cron:morning?schedule=0 9 * * *&time_zone=Asia/Tokyo")
    assert "next_fire_time" not in engine.route_stats("c")  # no consumer yet
    engine.start()
    upcoming = datetime.fromisoformat(engine.route_stats("c")["next_fire_time"])
    now = datetime.now(ZoneInfo("Asia/Tokyo"))
    assert now < upcoming <= now + timedelta(days=1)
    local = upcoming.astimezone(ZoneInfo("Asia/Tokyo"))
    assert (local.hour, local.minute, local.second) == (9, 0, 0)
    assert upcoming.utcoffset() == timedelta(hours=9)


def test_stop_removes_the_job_at_once_and_clears_the_next_fire_time(engine: Engine) -> None:
    add(engine, "cron:yearly?schedule=@yearly")
    engine.start()
    assert engine.route_stats("c")["next_fire_time"] is not None
    started = time.monotonic()
    engine.stop_route("c", timeout=30)
    assert time.monotonic() - started < 10  # did not wait out the 30 s stop timeout
    assert engine.route_stats("c")["next_fire_time"] is None
    engine.start_route("c")
    assert engine.route_stats("c")["next_fire_time"] is not None


def test_quartz_style_expression_with_question_mark_in_a_uri(engine: Engine) -> None:
    # the '?' inside the expression is not taken for the start of the query
    add(engine, "cron:weekdays?schedule=0 0 12 ? * MON-FRI&time_zone=Europe/Paris")
    endpoint = engine.get_endpoint("cron:weekdays")
    assert endpoint.values["schedule"] == "0 0 12 ? * MON-FRI"
    upcoming = endpoint.cron_schedule().next_fire_time(datetime(2024, 1, 6, 12, 0, tzinfo=ZoneInfo("Europe/Paris")))
    assert upcoming == datetime(2024, 1, 8, 12, 0, tzinfo=ZoneInfo("Europe/Paris"))  # Saturday -> Monday


def test_an_invalid_expression_fails_add_routes_naming_route_and_expression(engine: Engine) -> None:
    with pytest.raises(EndpointOptionError) as info:
        add(engine, "cron:bad?schedule=0+61+*+*+*+*", route_id="nightly")
    assert info.value.route_id == "nightly"
    assert "route 'nightly'" in str(info.value)
    assert "'0 61 * * * *'" in str(info.value) and "minute field '61'" in str(info.value)
    assert engine.route_ids() == []


@pytest.mark.parametrize(("uri", "message"), [
    ("cron:t?schedule=*+*+*&time_zone=UTC", "has 3 fields"),
    ("cron:t?schedule=0+0+31+2+*", "never fires"),
    ("cron:t?schedule=*/5+*+*+*+*&time_zone=Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
    ("cron:t", "option 'schedule' is required"),
    ("cron:t?schedule=@daily&misfire_grace_time=0", "misfire_grace_time must be above 0"),
    ("cron:t?schedule=@daily&coalesce=perhaps", "expects bool"),
    ("cron:t?shedule=@daily", "did you mean 'schedule'"),
])
def test_bad_options_are_configuration_errors_at_add_routes(engine: Engine, uri: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as info:
        add(engine, uri, route_id="r")
    assert info.value.route_id == "r"


def test_a_cron_endpoint_cannot_be_sent_to(engine: Engine) -> None:
    with pytest.raises(ConfigurationError, match="cannot be sent to"):
        engine.add_routes(routes(lambda r: r.from_("direct:a").route_id("bad").to("cron:t?schedule=@daily")))


def test_documentation_lists_the_options() -> None:
    doc = CronComponent.documentation()
    for name in ("schedule", "time_zone", "misfire_grace_time", "coalesce"):
        assert name in doc

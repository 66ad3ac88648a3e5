"""eip.scheduling: cron parsing and next fire times against a given now, and the engine scheduler
(no overlap, misfire grace, coalesce, fixed delay, prompt removal, lazy start, one per engine)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from eip import Engine
from eip.scheduling import (
    SKIPPED_MISSED,
    SKIPPED_RUNNING,
    EngineScheduler,
    FixedDelaySchedule,
    IntervalSchedule,
    parse_cron,
    resolve_time_zone,
    scheduler_for,
)
from eip.testing import eventually

MONDAY_NOON = datetime(2024, 1, 1, 12, 3, 10, tzinfo=UTC)  # 2024-01-01 is a Monday


def fires(expression: str, now: datetime = MONDAY_NOON, count: int = 4, zone: str = "UTC") -> list[str]:
    return [t.strftime("%a %m-%d %H:%M:%S") for t in parse_cron(expression, zone).next_fire_times(now, count)]


# -- cron parsing: pure, against a given now ------------------------------------------------------

def test_five_fields_are_crontab_with_second_zero() -> None:
    assert fires("*/5 * * * *", count=2) == ["Mon 01-01 12:05:00", "Mon 01-01 12:10:00"]


def test_six_fields_put_seconds_first_as_quartz() -> None:
    assert fires("*/10 * * * * *", count=3) == ["Mon 01-01 12:03:10", "Mon 01-01 12:03:20", "Mon 01-01 12:03:30"]
    assert fires("0/1 * * * * *", count=2) == ["Mon 01-01 12:03:10", "Mon 01-01 12:03:11"]


def test_next_fire_time_is_at_or_after_now() -> None:
    schedule = parse_cron("*/10 * * * * *", "UTC")
    assert schedule.next_fire_time(MONDAY_NOON) == MONDAY_NOON
    assert schedule.next_fire_time(MONDAY_NOON + timedelta(microseconds=1)) == MONDAY_NOON + timedelta(seconds=10)


def test_seven_fields_add_a_year_and_question_mark_means_any() -> None:
    assert fires("0 30 6 ? * MON 2099", count=2) == ["Mon 01-05 06:30:00", "Mon 01-12 06:30:00"]
    assert parse_cron("0 30 6 ? * MON 2099", "UTC").next_fire_time(MONDAY_NOON).year == 2099


@pytest.mark.parametrize(("expression", "expected"), [
    ("0 9 * * 0", "Sun 01-07 09:00:00"),
    ("0 9 * * 7", "Sun 01-07 09:00:00"),
    ("0 9 * * SUN", "Sun 01-07 09:00:00"),
    ("0 9 * * 1", "Mon 01-08 09:00:00"),
    ("0 9 * * 6", "Sat 01-06 09:00:00"),
])
def test_day_of_week_counts_as_crontab_sunday_is_0_or_7(expression: str, expected: str) -> None:
    assert fires(expression, count=1) == [expected]


def test_day_of_week_ranges_steps_and_names() -> None:
    assert fires("0 0 * * 1-5", count=5) == ["Tue 01-02 00:00:00", "Wed 01-03 00:00:00", "Thu 01-04 00:00:00",
                                             "Fri 01-05 00:00:00", "Mon 01-08 00:00:00"]
    # crontab's */2 over 0-6 is sun, tue, thu, sat (APScheduler alone would say mon, wed, fri, sun)
    assert fires("0 0 * * */2", count=4) == ["Tue 01-02 00:00:00", "Thu 01-04 00:00:00", "Sat 01-06 00:00:00",
                                             "Sun 01-07 00:00:00"]
    assert fires("0 0 * * fri-sun", count=3) == ["Fri 01-05 00:00:00", "Sat 01-06 00:00:00", "Sun 01-07 00:00:00"]
    assert fires("0 0 * * MON-SUN", count=1) == ["Tue 01-02 00:00:00"]


def test_restricted_day_of_month_and_day_of_week_fire_on_either_as_crontab() -> None:
    # the 13th, and every Friday
    assert fires("0 0 13 * 5", count=4) == ["Fri 01-05 00:00:00", "Fri 01-12 00:00:00", "Sat 01-13 00:00:00",
                                            "Fri 01-19 00:00:00"]


def test_a_star_day_of_month_step_is_anded_with_day_of_week_as_crontab() -> None:
    # odd days that are Mondays: 2024-01-01 has passed, 01-08 and 01-22 are even
    assert fires("0 0 */2 * 1", count=2) == ["Mon 01-15 00:00:00", "Mon 01-29 00:00:00"]


def test_last_day_of_month_and_macros() -> None:
    assert fires("0 0 L * *", count=2) == ["Wed 01-31 00:00:00", "Thu 02-29 00:00:00"]
    assert fires("@hourly", count=1) == ["Mon 01-01 13:00:00"]
    assert fires("@daily", count=1) == ["Tue 01-02 00:00:00"]
    assert fires("@weekly", count=1) == ["Sun 01-07 00:00:00"]


def test_time_zone_applies_to_the_fields_including_daylight_saving() -> None:
    schedule = parse_cron("0 9 * * *", "Europe/Paris")
    winter = schedule.next_fire_time(MONDAY_NOON)
    assert winter.utcoffset() == timedelta(hours=1)
    assert winter.astimezone(UTC) == datetime(2024, 1, 2, 8, 0, tzinfo=UTC)
    summer = schedule.next_fire_time(datetime(2024, 7, 1, tzinfo=UTC))
    assert summer.astimezone(UTC) == datetime(2024, 7, 1, 7, 0, tzinfo=UTC)


def test_a_naive_now_is_read_in_the_schedule_zone() -> None:
    schedule = parse_cron("0 9 * * *", "Asia/Tokyo")
    assert schedule.next_fire_time(datetime(2024, 1, 1, 8, 0)) == datetime(2024, 1, 1, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


@pytest.mark.parametrize(("expression", "message"), [
    ("61 * * * *", r"invalid cron expression '61 \* \* \* \*': minute field '61'"),
    ("0 0 * 13 *", "month field '13'"),
    ("0 0 5-1 * *", "day-of-month field '5-1'"),
    ("x * * * *", "minute field 'x'"),
    ("0 0 * * 8", "day-of-week field '8'"),
    ("0 0 * * 5L", "Quartz's 'L' and '#' are not supported"),
    ("0 0 * * 1#2", "Quartz's 'L' and '#' are not supported"),
    ("* * *", "has 3 fields; expected 5"),
    ("1 2 3 4 5 6 7 8", "has 8 fields"),
    ("0 0 31 2 *", "never fires"),
    ("0 0 0 1 1 ? 2020", "never fires"),
    ("@often", "unknown cron macro"),
    ("", "empty cron expression"),
])
def test_bad_expressions_are_rejected_naming_the_expression_and_field(expression: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_cron(expression, "UTC")


def test_time_zones_resolve_by_iana_name_and_unknown_ones_are_rejected() -> None:
    assert resolve_time_zone("Europe/Paris") == ZoneInfo("Europe/Paris")
    assert resolve_time_zone(UTC) is UTC
    assert resolve_time_zone(None) is not None  # the machine's zone
    for bad in ("Mars/Olympus", "../etc/passwd"):
        with pytest.raises(ValueError, match="unknown time zone"):
            resolve_time_zone(bad)


def test_interval_and_fixed_delay_next_fire_times() -> None:
    interval = IntervalSchedule(1.0, MONDAY_NOON)
    assert interval.next_fire_time(MONDAY_NOON - timedelta(seconds=5)) == MONDAY_NOON
    assert interval.next_fire_time(MONDAY_NOON + timedelta(seconds=2.5)) == MONDAY_NOON + timedelta(seconds=3)
    assert FixedDelaySchedule(5.0, 2.0).next_fire_time(MONDAY_NOON) == MONDAY_NOON + timedelta(seconds=2)
    with pytest.raises(ValueError):
        IntervalSchedule(0, MONDAY_NOON)
    with pytest.raises(ValueError):
        IntervalSchedule(1, datetime(2024, 1, 1))
    with pytest.raises(ValueError):
        FixedDelaySchedule(0)


# -- the scheduler ------------------------------------------------------------------------------------

@pytest.fixture
def scheduler():
    s = EngineScheduler(max_workers=4)
    yield s
    s.stop()


class Recorder:
    """A job function recording due times, optionally blocking each run on an event."""

    def __init__(self, block: threading.Event | None = None) -> None:
        self.due: list[datetime] = []
        self.started: list[float] = []
        self.ended: list[float] = []
        self.skips: list[tuple[str, int]] = []
        self.block = block
        self.work = 0.0

    def __call__(self, due: datetime) -> None:
        self.started.append(time.monotonic())
        self.due.append(due)
        if self.block is not None:
            self.block.wait(5)
        if self.work:
            time.sleep(self.work)  # the run's own work, not a wait for something to happen
        self.ended.append(time.monotonic())

    def skipped(self, reason: str, count: int) -> None:
        self.skips.append((reason, count))

    def count(self, reason: str) -> int:
        return sum(n for r, n in self.skips if r == reason)


def test_scheduler_starts_lazily_and_restarts_after_stop(scheduler: EngineScheduler) -> None:
    assert not scheduler.running
    scheduler.start()
    assert not scheduler.running and not any(t.name == "APScheduler" for t in threading.enumerate())
    rec = Recorder()
    scheduler.add_job("a", rec, IntervalSchedule(0.02, datetime.now(UTC)))
    assert scheduler.running
    eventually(lambda: len(rec.due) >= 2)
    scheduler.stop()
    assert not scheduler.running and not scheduler.has_job("a")
    rec2 = Recorder()
    scheduler.add_job("a", rec2, IntervalSchedule(0.02, datetime.now(UTC)))
    eventually(lambda: len(rec2.due) >= 1)


def test_interval_fires_at_its_due_times_and_remove_stops_it_at_once(scheduler: EngineScheduler) -> None:
    rec = Recorder()
    start = datetime.now(UTC) + timedelta(seconds=0.05)
    scheduler.add_job("a", rec, IntervalSchedule(0.03, start), coalesce=False)
    eventually(lambda: len(rec.due) >= 3)
    steps = [(due - start) / timedelta(seconds=0.03) for due in rec.due]
    assert steps == sorted(set(steps)) and all(step == int(step) for step in steps), steps
    assert rec.due[0] == start
    upcoming = scheduler.next_fire_time("a")
    assert upcoming is not None and upcoming > rec.due[-1]
    assert scheduler.remove_job("a") is True
    assert scheduler.next_fire_time("a") is None and not scheduler.has_job("a")
    assert scheduler.remove_job("a") is False


def test_a_job_id_is_unique(scheduler: EngineScheduler) -> None:
    far = datetime.now(UTC) + timedelta(hours=1)
    scheduler.add_job("a", Recorder(), IntervalSchedule(60, far))
    with pytest.raises(ValueError, match="already scheduled"):
        scheduler.add_job("a", Recorder(), IntervalSchedule(60, far))


def test_a_fire_while_the_previous_run_is_going_is_skipped_and_reported(scheduler: EngineScheduler) -> None:
    release = threading.Event()
    rec = Recorder(block=release)
    scheduler.add_job("a", rec, IntervalSchedule(0.02, datetime.now(UTC)), on_skipped=rec.skipped)
    try:
        eventually(lambda: rec.count(SKIPPED_RUNNING) >= 3)
        assert len(rec.due) == 1  # never a second run in parallel
    finally:
        release.set()
    eventually(lambda: len(rec.due) >= 2)


def test_overdue_fires_coalesce_into_one_at_the_latest_due_time(scheduler: EngineScheduler) -> None:
    start = datetime.now(UTC) - timedelta(seconds=35)  # due at -35, -25, -15 and -5 s
    rec = Recorder()
    scheduler.add_job("a", rec, IntervalSchedule(10.0, start), coalesce=True, on_skipped=rec.skipped)
    eventually(lambda: len(rec.due) >= 1)
    assert rec.due[0] == start + timedelta(seconds=30)
    assert scheduler.next_fire_time("a") == start + timedelta(seconds=40)
    assert rec.skips == []


def test_without_coalesce_every_overdue_fire_runs(scheduler: EngineScheduler) -> None:
    start = datetime.now(UTC) - timedelta(seconds=35)
    rec = Recorder()
    scheduler.add_job("a", rec, IntervalSchedule(10.0, start), coalesce=False)
    eventually(lambda: len(rec.due) >= 4)
    assert rec.due == [start + timedelta(seconds=n * 10) for n in range(4)]


def test_fires_later_than_the_misfire_grace_time_are_skipped_and_reported(scheduler: EngineScheduler) -> None:
    start = datetime.now(UTC) - timedelta(seconds=35)
    rec = Recorder()
    scheduler.add_job("a", rec, IntervalSchedule(10.0, start), coalesce=False, misfire_grace_time=10.0,
                      on_skipped=rec.skipped)
    eventually(lambda: len(rec.due) >= 1)
    assert rec.due == [start + timedelta(seconds=30)]  # only the one due five seconds ago
    assert rec.count(SKIPPED_MISSED) == 3


def test_a_fire_waiting_for_a_busy_pool_past_its_grace_is_missed() -> None:
    scheduler = EngineScheduler(max_workers=1)
    try:
        release = threading.Event()
        blocker = Recorder(block=release)
        scheduler.add_job("blocker", blocker, IntervalSchedule(60, datetime.now(UTC)))
        eventually(lambda: len(blocker.due) == 1)  # holds the only thread
        late = Recorder()
        due = datetime.now(UTC) + timedelta(seconds=0.02)
        scheduler.add_job("late", late, IntervalSchedule(60, due), misfire_grace_time=0.05, on_skipped=late.skipped)
        eventually(lambda: datetime.now(UTC) > due + timedelta(seconds=0.1))
        release.set()
        eventually(lambda: late.skips == [(SKIPPED_MISSED, 1)])
        assert late.due == []
    finally:
        scheduler.stop()


def test_fixed_delay_waits_the_delay_after_each_run_ends(scheduler: EngineScheduler) -> None:
    rec = Recorder()
    rec.work = 0.03
    scheduler.add_job("a", rec, FixedDelaySchedule(0.05, 0.0))
    eventually(lambda: len(rec.ended) >= 3)
    scheduler.remove_job("a")
    gaps = [rec.started[i + 1] - rec.ended[i] for i in range(2)]
    assert all(gap >= 0.049 for gap in gaps), gaps


def test_fixed_delay_next_fire_time_and_removal_during_a_run(scheduler: EngineScheduler) -> None:
    release = threading.Event()
    rec = Recorder(block=release)
    before = datetime.now(UTC)
    scheduler.add_job("a", rec, FixedDelaySchedule(30, 0.05))
    upcoming = scheduler.next_fire_time("a")
    assert upcoming is not None and before + timedelta(seconds=0.05) <= upcoming < before + timedelta(seconds=1)
    eventually(lambda: len(rec.due) == 1)
    assert scheduler.next_fire_time("a") is None  # running: the next is planned when it ends
    scheduler.remove_job("a")
    release.set()
    eventually(lambda: len(rec.ended) == 1)
    assert scheduler.next_fire_time("a") is None and not scheduler.has_job("a")


def test_a_raising_job_keeps_its_schedule(scheduler: EngineScheduler) -> None:
    calls: list[datetime] = []

    def fail(due: datetime) -> None:
        calls.append(due)
        raise RuntimeError("boom")

    scheduler.add_job("a", fail, FixedDelaySchedule(0.01, 0.0))
    eventually(lambda: len(calls) >= 3)


def test_misfire_grace_time_must_be_positive(scheduler: EngineScheduler) -> None:
    with pytest.raises(ValueError, match="misfire_grace_time"):
        scheduler.add_job("a", Recorder(), IntervalSchedule(1, datetime.now(UTC)), misfire_grace_time=0)


def test_one_scheduler_per_engine_stopped_with_it() -> None:
    engine, other = Engine(), Engine()
    first = scheduler_for(engine)
    assert scheduler_for(engine) is first
    assert scheduler_for(other) is not first
    assert engine.services.count(first) == 1
    engine.start()
    rec = Recorder()
    first.add_job("a", rec, IntervalSchedule(0.02, datetime.now(UTC)))
    eventually(lambda: len(rec.due) >= 1)
    engine.stop()
    assert not first.running and not first.has_job("a")

"""The engine scheduler: one APScheduler 3 ``BackgroundScheduler`` per engine, behind a small adapter.

Everything that knows APScheduler lives in this module (schedules, the scheduler, its executor),
so a move to APScheduler 4 touches this module only. Components (``cron:``, ``scheduler:``) use:

* ``parse_cron(expression, time_zone)`` -> ``CronSchedule``; ``IntervalSchedule`` (fixed rate);
  ``FixedDelaySchedule`` (the next run starts ``delay`` after the previous one ended). Each
  schedule computes ``next_fire_time(now)`` as a pure function, so it can be tested against a
  given ``now``.
* ``scheduler_for(engine)`` -> the engine's ``EngineScheduler`` (created on first use and
  registered as an engine service, so it stops with the engine); ``add_job``, ``remove_job``,
  ``next_fire_time``.

Cron expressions: 5 fields (``minute hour day-of-month month day-of-week``, as crontab), 6 fields
(a seconds field first, as Quartz: ``*/10 * * * * *``) or 7 (a year last). Day of week counts as
crontab does (0 or 7 = Sunday, 1 = Monday; names ``mon``..``sun`` are unambiguous); ``?`` means
``*`` (Quartz habit); ``L`` in day-of-month is the last day; when both day-of-month and
day-of-week are restricted a day matching either fires (crontab's rule), otherwise both must
match. ``@yearly``, ``@monthly``, ``@weekly``, ``@daily`` and ``@hourly`` are accepted.

Jobs never overlap: a fire that comes while the previous run of the same job is still going is
skipped and reported to the job's ``on_skipped(reason, count)`` (``SKIPPED_RUNNING``), as is a
fire that started later than ``misfire_grace_time`` after it was due (``SKIPPED_MISSED``, for
example when all pool threads were busy). With ``coalesce`` several due fires (after the process
was stalled) run once, at the latest due time. Jobs run on a bounded thread pool
(``max_workers``); nothing is persisted, so a crash loses only the fire in progress and the fires
that were due while the process was down.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobSubmissionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from tzlocal import get_localzone  # an APScheduler 3 dependency

if TYPE_CHECKING:
    from eip.engine import Engine

log = logging.getLogger("eip.scheduling")
# APScheduler logs each job added and removed at INFO, which a fixed-delay job does on every run;
# its own logger here starts at WARNING unless the application set a level for it.
_aps_log = logging.getLogger("eip.scheduling.apscheduler")

#: ``on_skipped`` reasons: the previous run was still going / the fire started too late.
SKIPPED_RUNNING = "running"
SKIPPED_MISSED = "missed"

JobFunction = Callable[[datetime], None]  # called with the time the fire was due
SkipListener = Callable[[str, int], None]  # (reason, number of fires skipped)

# -- schedules -------------------------------------------------------------------------------------

_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_FIELDS = ("second", "minute", "hour", "day", "month", "day_of_week", "year")
_LABELS = {
    "second": "second",
    "minute": "minute",
    "hour": "hour",
    "day": "day-of-month",
    "month": "month",
    "day_of_week": "day-of-week",
    "year": "year",
}
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def resolve_time_zone(value: str | tzinfo | None) -> tzinfo:
    """A tzinfo from an IANA name (``Europe/Paris``, ``UTC``); None or ``""`` is the machine's
    local zone. Raises ValueError for an unknown name."""
    if value is None or value == "":
        return get_localzone()
    if isinstance(value, tzinfo):
        return value
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as 'Europe/Paris' or 'UTC')") from None


class Schedule:
    """When a job fires. ``next_fire_time(now)`` is pure: the first fire at or after ``now``."""

    def next_fire_time(self, now: datetime) -> datetime | None:
        raise NotImplementedError

    def _trigger(self) -> Any:  # the APScheduler trigger (adapter internal)
        raise NotImplementedError


class CronSchedule(Schedule):
    """A cron expression in a time zone; build it with ``parse_cron``."""

    def __init__(self, expression: str, time_zone: tzinfo, trigger: Any) -> None:
        self.expression = expression
        self.time_zone = time_zone
        self._aps_trigger = trigger

    def next_fire_time(self, now: datetime) -> datetime | None:
        """The first fire at or after ``now`` (a naive ``now`` is read in the schedule's zone)."""
        if now.tzinfo is None:
            now = now.replace(tzinfo=self.time_zone)
        return self._aps_trigger.get_next_fire_time(None, now)

    def next_fire_times(self, now: datetime, count: int) -> list[datetime]:
        """The next ``count`` fires at or after ``now``."""
        times: list[datetime] = []
        fire = self.next_fire_time(now)
        while fire is not None and len(times) < count:
            times.append(fire)
            fire = self.next_fire_time(fire + timedelta(microseconds=1))
        return times

    def _trigger(self) -> Any:
        return self._aps_trigger

    def __repr__(self) -> str:
        return f"CronSchedule({self.expression!r}, {self.time_zone})"


@dataclass(frozen=True)
class IntervalSchedule(Schedule):
    """Fixed rate: fires at ``start``, ``start + interval``, ... whatever each run takes."""

    interval: float
    start: datetime

    def __post_init__(self) -> None:
        if self.interval <= 0:
            raise ValueError(f"interval must be above 0, got {self.interval}")
        if self.start.tzinfo is None:
            raise ValueError("start must be a timezone-aware datetime")

    def next_fire_time(self, now: datetime) -> datetime | None:
        return self._trigger().get_next_fire_time(None, now) if now > self.start else self.start

    def _trigger(self) -> Any:
        return IntervalTrigger(seconds=self.interval, start_date=self.start, timezone=self.start.tzinfo)


@dataclass(frozen=True)
class FixedDelaySchedule(Schedule):
    """Fixed delay: the first run ``initial_delay`` after the job is added, then each run
    ``delay`` after the previous one ended (so runs never overlap and a slow run delays the rest)."""

    delay: float
    initial_delay: float = 0.0

    def __post_init__(self) -> None:
        if self.delay <= 0 or self.initial_delay < 0:
            raise ValueError(
                f"delay must be above 0 and initial_delay not negative, got {self.delay} and {self.initial_delay}"
            )

    def next_fire_time(self, now: datetime) -> datetime | None:
        """The first fire of a job added at ``now``; later ones depend on when runs end."""
        return now + timedelta(seconds=self.initial_delay)

    def _trigger(self) -> Any:  # each run is a one-shot job, see EngineScheduler._dispatch
        raise TypeError("FixedDelaySchedule is run by EngineScheduler, not by a trigger")


def parse_cron(expression: str, time_zone: str | tzinfo | None = None) -> CronSchedule:
    """A ``CronSchedule`` from a 5, 6 (seconds first) or 7 (year last) field cron expression.

    Raises ValueError naming the expression and the faulty field, or saying it never fires."""
    if not isinstance(expression, str) or not expression.strip():
        raise ValueError(f"empty cron expression {expression!r}")
    zone = resolve_time_zone(time_zone)
    text = " ".join(expression.split())
    text = _MACROS.get(text.lower(), text)
    if text.startswith("@"):
        raise ValueError(f"unknown cron macro {expression!r}; use one of {', '.join(sorted(_MACROS))}")
    raw = text.split(" ")
    if len(raw) == 5:
        raw = ["0", *raw]
    if len(raw) == 6:
        raw.append("*")
    if len(raw) != 7:
        raise ValueError(
            f"cron expression {expression!r} has {len(text.split(' '))} fields; expected 5 "
            "(minute hour day-of-month month day-of-week), 6 (seconds first, as Quartz) "
            "or 7 (seconds first, year last)"
        )
    original = dict(zip(_FIELDS, raw, strict=True))
    fields = {name: value.lower() for name, value in original.items()}
    day = "*" if fields["day"] == "?" else fields["day"]
    day = "last" if day == "l" else day
    weekday_field = "*" if fields["day_of_week"] == "?" else fields["day_of_week"]
    try:
        weekdays = _weekdays(weekday_field)
    except ValueError as exc:
        raise ValueError(
            f"invalid cron expression {expression!r}: day-of-week field {original['day_of_week']!r}: {exc}"
        ) from None
    common = {name: fields[name] for name in ("second", "minute", "hour", "month", "year")}
    try:
        if day.startswith("*") or weekday_field.startswith("*"):
            trigger: Any = CronTrigger(day=day, day_of_week=weekdays, timezone=zone, **common)
        else:  # crontab: a day matching either restricted field fires
            trigger = OrTrigger(
                [
                    CronTrigger(day=day, day_of_week="*", timezone=zone, **common),
                    CronTrigger(day="*", day_of_week=weekdays, timezone=zone, **common),
                ]
            )
    except ValueError as exc:
        culprit = _faulty_field({**common, "day": day}, zone)
        where = f"{_LABELS[culprit]} field {original[culprit]!r}: " if culprit else ""
        raise ValueError(f"invalid cron expression {expression!r}: {where}{exc}") from None
    schedule = CronSchedule(expression, zone, trigger)
    if schedule.next_fire_time(datetime.now(zone)) is None:
        raise ValueError(f"cron expression {expression!r} never fires")
    return schedule


def _faulty_field(fields: dict[str, str], zone: tzinfo) -> str | None:
    for name, value in fields.items():
        try:
            CronTrigger(**{name: value}, timezone=zone)
        except ValueError:
            return name
    return None


def _weekdays(field: str) -> str:
    """A crontab day-of-week field (0 or 7 = Sunday) as APScheduler names (it counts from Monday)."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for token in field.split(","):
        if "#" in token or token.endswith("l"):
            raise ValueError("Quartz's 'L' and '#' are not supported in day-of-week")
        base, slash, step_text = token.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ValueError(f"bad step in {token!r}")
            step = int(step_text)
        if base == "*":
            first, last = 0, 6
        elif "-" in base:
            low, _, high = base.partition("-")
            first, last = _weekday(low), _weekday(high)
            if last < first and last == 0:
                last = 7  # mon-sun, 1-0: Sunday at the end of the range
            if last < first:
                raise ValueError(f"range {token!r} runs backwards")
        else:
            first = _weekday(base)
            last = 6 if slash else first
        days.update(day % 7 for day in range(first, last + 1, step))
    return ",".join(_WEEKDAYS[day] for day in sorted(days))


def _weekday(text: str) -> int:
    if text.isdigit() and int(text) <= 7:
        return int(text)
    if text in _WEEKDAYS:
        return _WEEKDAYS.index(text)
    raise ValueError(f"{text!r} is not a day of week (0-7, 0 and 7 being Sunday, or sun..sat)")


# -- the scheduler ---------------------------------------------------------------------------------


@dataclass
class _Job:
    func: JobFunction
    schedule: Schedule
    name: str
    misfire_grace_time: float | None
    coalesce: bool
    on_skipped: SkipListener | None
    aps_id: str
    runs: int = 0


class _Executor(ThreadPoolExecutor):
    """APScheduler's thread pool, except that the job learns the time its fire was due (APScheduler
    3 calls ``job.func()`` without it) and the misfire check reports to the adapter."""

    def __init__(self, owner: EngineScheduler, max_workers: int) -> None:
        super().__init__(max_workers, pool_kwargs={"thread_name_prefix": "eip-scheduler"})
        self._owner = owner

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        future = self._pool.submit(self._owner._run, job.args[0], run_times)
        future.add_done_callback(lambda done: self._finished(job.id, done))

    def _finished(self, aps_id: str, future: Future[None]) -> None:
        exc = future.exception()
        if exc is None:
            self._run_job_success(aps_id, [])
        else:
            self._run_job_error(aps_id, exc, exc.__traceback__)


class EngineScheduler:
    """One engine's scheduler: the APScheduler ``BackgroundScheduler`` (and its pool of
    ``max_workers`` threads) is created when the first job is added and shut down by ``stop()``
    (the engine stops it after its routes). A job runs at most once at a time.

    ``stop()`` does not wait for runs in progress: the engine's graceful stop has already waited
    for in-flight exchanges. Restartable: the next ``add_job`` creates a new scheduler."""

    def __init__(self, *, max_workers: int = 10) -> None:
        self.max_workers = max_workers
        self._lock = threading.Lock()
        self._aps: BackgroundScheduler | None = None
        self._jobs: dict[str, _Job] = {}

    @property
    def running(self) -> bool:
        return self._aps is not None

    def start(self) -> None:
        """Nothing to do: the scheduler starts with the first job."""

    def stop(self) -> None:
        with self._lock:
            aps, self._aps = self._aps, None
            self._jobs.clear()
        if aps is not None:
            aps.shutdown(wait=False)

    def add_job(
        self,
        job_id: str,
        func: JobFunction,
        schedule: Schedule,
        *,
        name: str | None = None,
        misfire_grace_time: float | None = 60.0,
        coalesce: bool = True,
        on_skipped: SkipListener | None = None,
    ) -> None:
        """Run ``func(due_time)`` on ``schedule`` until ``remove_job(job_id)``.

        ``func`` should not raise (an exception is logged). ``misfire_grace_time`` (seconds; None
        = no limit) and ``coalesce`` do not apply to a ``FixedDelaySchedule``, whose next run is
        only planned when the previous one ends."""
        if misfire_grace_time is not None and misfire_grace_time <= 0:
            raise ValueError(f"misfire_grace_time must be above 0, got {misfire_grace_time}")
        fixed_delay = isinstance(schedule, FixedDelaySchedule)
        job = _Job(
            func, schedule, name or job_id, None if fixed_delay else misfire_grace_time, coalesce, on_skipped, job_id
        )
        with self._lock:
            if job_id in self._jobs:
                raise ValueError(f"a job '{job_id}' is already scheduled")
            aps = self._scheduler()
            self._jobs[job_id] = job
            if isinstance(schedule, FixedDelaySchedule):
                self._add_one_shot(aps, job_id, job, schedule.initial_delay)
            else:
                # An interval starts at its given start, even one in the past (due fires then run
                # at once, coalesced or not); a cron schedule from now.
                first = {"next_run_time": schedule.start} if isinstance(schedule, IntervalSchedule) else {}
                aps.add_job(
                    self._dispatch,
                    schedule._trigger(),
                    args=(job_id,),
                    id=job_id,
                    name=job.name,
                    max_instances=1,
                    misfire_grace_time=None,
                    coalesce=coalesce,
                    **first,
                )

    def remove_job(self, job_id: str) -> bool:
        """Stop firing ``job_id`` at once (a run in progress finishes); False if it was unknown."""
        with self._lock:
            job = self._jobs.pop(job_id, None)
            aps = self._aps
        if job is None:
            return False
        if aps is not None:
            try:
                aps.remove_job(job.aps_id)
            except JobLookupError:  # a one-shot run already taken from the store
                pass
        return True

    def has_job(self, job_id: str) -> bool:
        return job_id in self._jobs

    def next_fire_time(self, job_id: str) -> datetime | None:
        """When ``job_id`` fires next; None when it is unknown, done, or (fixed delay) running."""
        job = self._jobs.get(job_id)
        aps = self._aps
        if job is None or aps is None:
            return None
        aps_job = aps.get_job(job.aps_id)
        return None if aps_job is None else aps_job.next_run_time

    # -- internals --------------------------------------------------------------------------------
    def _scheduler(self) -> BackgroundScheduler:
        if self._aps is None:
            if _aps_log.level == logging.NOTSET:
                _aps_log.setLevel(logging.WARNING)
            aps = BackgroundScheduler(
                timezone=UTC, executors={"default": _Executor(self, self.max_workers)}, logger=_aps_log
            )
            aps.add_listener(self._on_max_instances, EVENT_JOB_MAX_INSTANCES)
            aps.start()
            self._aps = aps
        return self._aps

    def _add_one_shot(self, aps: BackgroundScheduler, job_id: str, job: _Job, delay: float) -> None:
        # A new id per run: APScheduler removes the finished one-shot job (and counts its running
        # instance) on its own thread, possibly after the next one was added.
        job.runs += 1
        job.aps_id = f"{job_id}#{job.runs}"
        when = datetime.now(UTC) + timedelta(seconds=delay)
        aps.add_job(
            self._dispatch,
            DateTrigger(when, timezone=UTC),
            args=(job_id,),
            id=job.aps_id,
            name=job.name,
            max_instances=1,
            misfire_grace_time=None,
        )

    def _run(self, job_id: str, run_times: list[datetime]) -> None:
        # The misfire check is ours, not APScheduler's (its grace time is whole seconds only).
        for due in run_times:
            job = self._jobs.get(job_id)
            if job is None:
                return
            grace = job.misfire_grace_time
            if grace is not None:
                late = datetime.now(UTC) - due
                if late > timedelta(seconds=grace):
                    log.warning(
                        "%s: fire due at %s skipped: started %.3fs late (misfire_grace_time %ss)",
                        job.name,
                        due.isoformat(),
                        late.total_seconds(),
                        grace,
                    )
                    self._skipped(job_id, SKIPPED_MISSED, 1)
                    continue
            self._dispatch(job_id, due)

    def _dispatch(self, job_id: str, due: datetime | None = None) -> None:
        job = self._jobs.get(job_id)
        if job is None:  # removed while this fire waited for a thread
            return
        try:
            job.func(due if due is not None else datetime.now(UTC))
        except Exception:
            log.exception("%s: scheduled run failed", job.name)
        finally:
            schedule = job.schedule
            if isinstance(schedule, FixedDelaySchedule):
                with self._lock:
                    if self._jobs.get(job_id) is job and self._aps is not None:
                        self._add_one_shot(self._aps, job_id, job, schedule.delay)

    def _on_max_instances(self, event: JobSubmissionEvent) -> None:
        self._skipped(event.job_id, SKIPPED_RUNNING, len(event.scheduled_run_times))

    def _skipped(self, job_id: str, reason: str, count: int) -> None:
        job = self._jobs.get(job_id)
        if job is not None and job.on_skipped is not None:
            try:
                job.on_skipped(reason, count)
            except Exception:
                log.exception("%s: on_skipped callback failed", job.name)


_LOOKUP_LOCK = threading.Lock()


def scheduler_for(engine: Engine) -> EngineScheduler:
    """The engine's scheduler, registered as an engine service on first use (stopped with it)."""
    with _LOOKUP_LOCK:
        for service in engine.services:
            if isinstance(service, EngineScheduler):
                return service
        return engine.add_service(EngineScheduler())

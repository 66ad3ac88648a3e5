"""``cron:NAME?schedule=...``: fire an exchange with an empty body on a cron schedule.

``schedule`` takes 5 fields as crontab (``minute hour day-of-month month day-of-week``: ``*/5 * * *
*`` every five minutes), 6 fields with a seconds field first as Quartz (``*/10 * * * * *`` every
ten seconds) or 7 with a year last; ``@hourly``, ``@daily``, ... too. Day of week counts as
crontab (0 or 7 = Sunday; names ``MON``..``SUN`` are clearer); ``?`` means ``*``; ``L`` in
day-of-month is the month's last day. In a URI a space may be written ``+`` as in Camel
(``schedule=0+0/5+*+*+*+?``); a real ``+`` never occurs in a cron expression. ``time_zone`` is an
IANA name (``Europe/Paris``; default the machine's zone), checked when the route is added, as
is the expression (a mistake is a ConfigurationError naming the route and the expression).

Runs on the engine's scheduler (``eip.scheduling``). A fire due while the previous run of the
route is still going is skipped and counted (``fires_skipped``), never run in parallel; a fire
that could not start within ``misfire_grace_time`` is skipped (``fires_missed``); with
``coalesce`` several overdue fires run once. Exchanges carry ``CamelTimerName``,
``CamelTimerCounter``, ``CamelTimerFiredTime`` and ``CamelTimerScheduledTime`` (see
``components.scheduler``); ``engine.route_stats()`` shows ``next_fire_time`` (ISO 8601).

Stopping removes the job at once; a run in progress finishes as an in-flight exchange. Nothing
is persisted: a crash loses the run in progress and the fires due while the engine was down.
"""

from __future__ import annotations

from typing import Any

from components.scheduler import (
    MISFIRE_OPTIONS,
    ScheduledConsumer,
    validate_misfire_options,
)
from eip.component import Component, Consumer, Endpoint
from eip.errors import EndpointOptionError
from eip.options import Option, OptionSpec
from eip.scheduling import CronSchedule, Schedule, parse_cron


class CronConsumer(ScheduledConsumer):
    endpoint: CronEndpoint

    def schedule(self) -> Schedule:
        return self.endpoint.cron_schedule()


class CronEndpoint(Endpoint):
    supports_producer = False
    options = OptionSpec(
        (
            Option(
                "schedule",
                "str",
                None,
                "Cron expression (required): 5 fields as crontab, 6 with seconds first (Quartz), or "
                "7 with a year last; '+' stands for a space.",
            ),
            Option(
                "time_zone", "str", "", "IANA time zone of the schedule (Europe/Paris); empty is the machine's zone."
            ),
            *MISFIRE_OPTIONS,
        )
    )

    def validate(self) -> None:
        self.cron_schedule()
        validate_misfire_options(self)

    def cron_schedule(self) -> CronSchedule:
        expression = self.values["schedule"]
        if not expression:
            raise EndpointOptionError(
                f"endpoint '{self.uri}': option 'schedule' is required "
                "(for example schedule=0+*/5+*+*+*+* for every five minutes)"
            )
        try:
            return parse_cron(expression.replace("+", " "), self.values["time_zone"] or None)
        except ValueError as exc:
            raise EndpointOptionError(f"endpoint '{self.uri}': {exc}") from None

    def create_consumer(self, processor: Any) -> Consumer:
        return CronConsumer(self, processor)


class CronComponent(Component):
    """cron:NAME?schedule=EXPR - fire an exchange with an empty body on a cron schedule (5 fields,
    or 6 with seconds first as Quartz), never overlapping; time_zone, misfire grace, coalesce."""

    endpoint_class = CronEndpoint

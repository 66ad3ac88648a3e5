"""Daily totals: a cron job that reports yesterday's orders from SQL to a CSV file.

Every night at 00:05 the route reads the ``order_summaries`` table that the order intake
(``routes/order_intake.py``) fills, totals yesterday's orders per service and writes
``data/reports/daily-totals-YYYY-MM-DD.csv`` (the folder is created when first written)::

    date,service,orders,lines,total_cents,total
    2024-05-01,priority,1,3,7148,71.48
    2024-05-01,standard,1,2,1539,15.39
    2024-05-01,all,2,5,8687,86.87

Both services always have a row (zeros on a day without orders), and running the report again
for the same day replaces the file (it is written atomically).

Route::

    daily-totals   cron:daily-totals (00:05) -> sql: "today" -> header reportDate = today - 1 day
                     -> sql: totals per service for reportDate -> rows -> marshal(csv)
                     -> file:data/reports

Configuration (engine properties, ``eip run --config`` properties or ``EIP_...`` variables):

=========================  ==========================================================
``reports.schedule``       ``0 5 0 * * *`` (seconds first, as Quartz): when to run
``reports.time_zone``      the machine's zone; an IANA name such as ``Europe/Paris``
``reports.today``          unset: the real date. ``2024-05-02`` pretends today is that
                           day, to produce (or produce again) the report of 2024-05-01
``reports.target``         ``file:data/reports``: the endpoint the CSV goes to
``reports.datasource``     ``default``: the datasource holding ``order_summaries``
``datasource.default.url`` ``sqlite:///./eip.db`` (see ``eip.datasources``)
=========================  ==========================================================

**Switching to PostgreSQL, by configuration alone**: point the datasource at it
(``datasources: {default: {url: postgresql+psycopg://app@db:5432/shop}}`` in the config
file, or ``EIP_DATASOURCE_DEFAULT_URL``); the statements are plain SQL both databases run.
**RabbitMQ**: to publish the report instead of writing a file, set ``reports.target`` to a
queue (``reports.target=amqp:queue:daily-totals?declare=true``): the CSV is the message body
and its file name travels in the header ``CamelFileName``.

What a run loses: nothing that cannot be redone. The cron fires are not persisted, so a night
the engine was down has no report: run it again later with ``reports.today`` set to the day
after the missing one. A failed run (database down) is logged and the next night's run does
not repeat it, for the same reason.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from eip import RouteBuilder, body, simple
from eip import constants as c
from eip.dataformat import CsvDataFormat

SERVICES = ("priority", "standard")
COLUMNS = ("date", "service", "orders", "lines", "total_cents", "total")
DATASOURCE = "datasource={{reports.datasource:default}}"

# "Today", as a bound parameter: ${date:now:FORMAT} renders the clock with strftime, and the
# property reports.today, when set, replaces the format by a date, which renders as itself.
TODAY = ("sql:SELECT :#${date:now:{{reports.today:%Y-%m-%d}}} AS today"
         f"?output_type=select_one&output_header=reportToday&{DATASOURCE}")
TOTALS = ("sql:SELECT service, COUNT(*) AS orders, SUM(line_count) AS lines, SUM(total_cents) AS total_cents "
          f"FROM order_summaries WHERE received_on = :#reportDate GROUP BY service?{DATASOURCE}")
TARGET = "{{reports.target:file:data/reports}}"


def report_date(exchange: Any) -> None:
    """Header ``reportDate`` (YYYY-MM-DD): the day before ``reportToday``."""
    headers = exchange.message.headers
    today = headers.pop("reportToday")
    try:
        day = today if isinstance(today, date) else date.fromisoformat(str(today))
    except ValueError:
        raise ValueError(f"reports.today must be a date as YYYY-MM-DD, got {today!r}") from None
    headers["reportDate"] = (day - timedelta(days=1)).isoformat()


def totals_rows(exchange: Any) -> list[dict[str, Any]]:
    """Message translator: the per-service totals become the report's rows, ``all`` last."""
    day = exchange.message.headers["reportDate"]
    found = {row["service"]: row for row in exchange.message.body}
    rows = []
    for service in (*SERVICES, *sorted(set(found) - set(SERVICES))):
        row = found.get(service, {})
        rows.append(_row(day, service, row.get("orders"), row.get("lines"), row.get("total_cents")))
    rows.append(_row(day, "all", sum(r["orders"] for r in rows), sum(r["lines"] for r in rows),
                     sum(r["total_cents"] for r in rows)))
    return rows


def _row(day: str, service: str, orders: Any, lines: Any, total_cents: Any) -> dict[str, Any]:
    cents = int(total_cents or 0)  # PostgreSQL sums as numeric (Decimal), SQLite as int
    return {"date": day, "service": service, "orders": int(orders or 0), "lines": int(lines or 0),
            "total_cents": cents, "total": f"{Decimal(cents) / 100:.2f}"}


class DailyTotals(RouteBuilder):
    """The nightly report route (see the module docstring)."""

    def configure(self) -> None:
        (self.from_("cron:daily-totals?schedule={{reports.schedule:0 5 0 * * *}}"
                    "&time_zone={{reports.time_zone:}}").route_id("daily-totals")
            .to(TODAY).id("today")
            .process(report_date).id("report-date")
            .to(TOTALS).id("totals")
            .transform(totals_rows).id("rows")
            .set_header("reportSummary", body()[-1])
            .marshal(CsvDataFormat(header=True))
            .set_header(c.FILE_NAME, simple("daily-totals-${header.reportDate}.csv"))
            .to(TARGET).id("write-report")
            .log("daily totals of ${header.reportDate}: ${header.reportSummary.orders} orders, "
                 "${header.reportSummary.total} -> ${header.CamelFileName}", logger_name="reports.daily_totals"))

"""Daily totals (``routes/daily_totals.py``): a cron route, real SQLite, a real CSV file."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from eip.loader import load_module
from eip.testing import advice_with, eventually

ROUTES = Path(__file__).resolve().parents[2] / "routes"
report = load_module(ROUTES / "daily_totals.py")
intake = load_module(ROUTES / "order_intake.py")

EVERY_SECOND = "* * * * * *"


def make_db(path: Path, orders: list[tuple]) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(intake.CREATE_ORDER_SUMMARIES)
        conn.executemany("INSERT INTO order_summaries (order_id, customer, service, line_count, total_cents, "
                         "received_on) VALUES (?, ?, ?, ?, ?, ?)", orders)


def start_report(engine, tmp_path: Path, orders: list[tuple], *, cron: bool = False, **properties) -> Path:
    """The report on a database holding ``orders``; run by the cron every second when ``cron``,
    else by sending to ``direct:run-report`` (the route as it is, its trigger replaced)."""
    make_db(tmp_path / "shop.db", orders)
    engine.properties.update({"reports.schedule": EVERY_SECOND, "reports.target": f"file:{tmp_path / 'reports'}",
                              "datasource.default.url": f"sqlite:///{tmp_path / 'shop.db'}", **properties})
    engine.add_routes(report.DailyTotals())
    if not cron:
        advice_with(engine, "daily-totals", lambda a: a.replace_from_with("direct:run-report"))
    engine.start()
    return tmp_path / "reports"


ORDERS = [
    ("1", "C-1", "standard", 2, 1539, "2024-05-01"),
    ("2", "C-2", "priority", 3, 7148, "2024-05-01"),
    ("3", "C-1", "standard", 1, 320, "2024-05-01"),
    ("4", "C-3", "priority", 9, 99999, "2024-04-30"),  # the day before: not in the report
    ("5", "C-3", "standard", 9, 88888, "2024-05-02"),  # "today": not in the report
]


def test_yesterdays_totals_go_to_a_csv_file_with_today_fixed_by_a_property(engine, tmp_path):
    reports = start_report(engine, tmp_path, ORDERS, cron=True, **{"reports.today": "2024-05-02"})
    csv_file = reports / "daily-totals-2024-05-01.csv"
    eventually(csv_file.exists, what="the report", timeout=10)
    assert csv_file.read_text() == (
        "date,service,orders,lines,total_cents,total\n"
        "2024-05-01,priority,1,3,7148,71.48\n"
        "2024-05-01,standard,2,3,1859,18.59\n"
        "2024-05-01,all,3,6,9007,90.07\n")
    assert [p.name for p in reports.iterdir()] == ["daily-totals-2024-05-01.csv"]


def test_a_day_without_orders_is_reported_with_zeros(engine, tmp_path):
    reports = start_report(engine, tmp_path, ORDERS, **{"reports.today": "2024-06-11"})
    engine.template.send_body("direct:run-report", None)
    csv_file = reports / "daily-totals-2024-06-10.csv"
    assert csv_file.read_text().splitlines()[1:] == [
        "2024-06-10,priority,0,0,0,0.00", "2024-06-10,standard,0,0,0,0.00", "2024-06-10,all,0,0,0,0.00"]


def test_without_the_property_the_report_is_of_the_real_yesterday(engine, tmp_path):
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    reports = start_report(engine, tmp_path, [("9", "C-9", "priority", 1, 1234, yesterday)])
    engine.template.send_body("direct:run-report", None)
    csv_file = reports / f"daily-totals-{yesterday}.csv"
    assert f"{yesterday},priority,1,1,1234,12.34" in csv_file.read_text().splitlines()


def test_the_report_can_go_to_another_endpoint_by_configuration(engine, tmp_path):
    start_report(engine, tmp_path, ORDERS, **{"reports.target": "mock:daily-totals", "reports.today": "2024-05-02"})
    engine.template.send_body("direct:run-report", None)
    [sent] = engine.get_endpoint("mock:daily-totals").received_exchanges
    assert sent.message.headers["CamelFileName"] == "daily-totals-2024-05-01.csv"
    assert sent.message.body.decode().endswith("2024-05-01,all,3,6,9007,90.07\n")


def test_a_run_fails_on_a_wrong_today_and_writes_nothing(engine, tmp_path):
    reports = start_report(engine, tmp_path, ORDERS, **{"reports.today": "2nd of May"})
    with pytest.raises(ValueError, match="reports.today must be a date as YYYY-MM-DD, got '2nd of May'"):
        engine.template.send_body("direct:run-report", None)
    assert not reports.exists()


def test_running_it_again_replaces_the_days_file(engine, tmp_path):
    reports = start_report(engine, tmp_path, ORDERS, **{"reports.today": "2024-05-02"})
    engine.template.send_body("direct:run-report", None)
    with sqlite3.connect(tmp_path / "shop.db") as conn:
        conn.execute("DELETE FROM order_summaries WHERE order_id = '2'")
    engine.template.send_body("direct:run-report", None)
    assert [p.name for p in reports.iterdir()] == ["daily-totals-2024-05-01.csv"]
    assert (reports / "daily-totals-2024-05-01.csv").read_text().splitlines()[-1] == "2024-05-01,all,2,3,1859,18.59"


def test_by_default_it_runs_at_five_past_midnight(engine):
    engine.add_routes(report.DailyTotals())
    engine.start()
    upcoming = datetime.fromisoformat(engine.route_stats("daily-totals")["next_fire_time"])
    assert upcoming.strftime("%H:%M:%S") == "00:05:00"


def test_the_same_route_on_postgresql(engine, tmp_path, postgresql_service):
    import uuid

    import sqlalchemy

    schema = f"report_{uuid.uuid4().hex[:10]}"
    url = postgresql_service.url.replace("postgresql://", "postgresql+psycopg://")
    admin = sqlalchemy.create_engine(url)
    try:
        with admin.begin() as conn:
            conn.execute(sqlalchemy.text(f"CREATE SCHEMA {schema}"))
            conn.execute(sqlalchemy.text(intake.CREATE_ORDER_SUMMARIES.replace("order_summaries",
                                                                               f"{schema}.order_summaries")))
            for order in ORDERS:
                conn.execute(sqlalchemy.text(f"INSERT INTO {schema}.order_summaries VALUES (:a, :b, :c, :d, :e, :f)"),
                             dict(zip("abcdef", order, strict=True)))
        engine.properties.update({"reports.target": f"file:{tmp_path / 'reports'}", "reports.today": "2024-05-02",
                                  "datasource.default.url": f"{url}?options=-csearch_path%3D{schema}"})
        engine.add_routes(report.DailyTotals())
        advice_with(engine, "daily-totals", lambda a: a.replace_from_with("direct:run-report"))
        engine.start()
        engine.template.send_body("direct:run-report", None)
        assert (tmp_path / "reports" / "daily-totals-2024-05-01.csv").read_text().splitlines()[1:] == [
            "2024-05-01,priority,1,3,7148,71.48", "2024-05-01,standard,2,3,1859,18.59", "2024-05-01,all,3,6,9007,90.07"]
    finally:
        engine.stop()
        with admin.begin() as conn:
            conn.execute(sqlalchemy.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()

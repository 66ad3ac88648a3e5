"""Order intake (``routes/order_intake.py``): real files in tmp_path, real SQLite, seda lanes."""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

from eip.loader import load_module
from eip.testing import Notifier, eventually

ROUTES = Path(__file__).resolve().parents[2] / "routes"
SAMPLE_ORDERS = ROUTES / "samples" / "orders"
intake = load_module(ROUTES / "order_intake.py")


def names(folder: Path) -> list[str]:
    """The files in ``folder``, without hidden ones: the file producer writes ``.NAME.*.part``
    first and renames it, so a hidden file is a write still in progress, not a result."""
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def start_intake(engine, tmp_path: Path, database_url: str | None = None, **options) -> SimpleNamespace:
    shop = SimpleNamespace(inbox=tmp_path / "in", out=tmp_path / "out", error=tmp_path / "error",
                           db=tmp_path / "shop.db")
    engine.properties.update({
        "orders.in": str(shop.inbox), "orders.out": str(shop.out), "orders.error": str(shop.error),
        "orders.delay": "20ms", "orders.min_age": "10ms",
        "datasource.default.url": database_url or f"sqlite:///{shop.db}"})
    options.setdefault("redelivery_delay", 0)
    shop.builder = intake.OrderIntake(**options)
    engine.add_routes(shop.builder)
    engine.start()
    assert shop.builder.db_ready.wait(5), "the tables were not set up at start"
    return shop


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def line(sku, qty, unit, surcharge_pct, number, name):
    amount = qty * unit
    return {"line": number, "sku": sku, "name": name, "qty": qty, "unit_price_cents": unit,
            "amount_cents": amount, "surcharge_cents": amount * surcharge_pct // 100}


# -- end to end on the sample files --------------------------------------------------------------------
def test_the_sample_orders_are_priced_saved_and_rejected_with_their_reasons(engine, tmp_path):
    shop = start_intake(engine, tmp_path)
    # a lane counts its line once the pricing step returned, just after the order file appeared
    lanes = [Notifier(engine, "order-lane-priority", done=3), Notifier(engine, "order-lane-standard", done=2)]
    shop.inbox.mkdir(parents=True, exist_ok=True)
    for sample in sorted(SAMPLE_ORDERS.glob("*.json")):
        shutil.copy(sample, shop.inbox)

    rejected = [f"order-{n}.json{ext}" for n in ("1003", "1004", "1005") for ext in ("", ".reason")]
    eventually(lambda: len(names(shop.inbox / ".done")) == 5 and names(shop.out) == ["1001.json", "1002.json"]
             and names(shop.error) == rejected, what="every sample order handled", timeout=10)
    assert all(lane.wait(10) for lane in lanes)

    today = time.strftime("%Y-%m-%d")
    standard = json.loads((shop.out / "1001.json").read_text())
    assert standard == {
        "order_id": "1001", "customer": "C-017", "service": "standard", "received_on": today,
        "line_count": 2,
        "lines": [line("SKU-APPLE", 2, 320, 0, 1, "Apples, Gala, 1 kg"),
                  line("SKU-COFFEE", 1, 899, 0, 2, "Coffee beans, 500 g")],
        "total_cents": 640 + 899, "total": "15.39"}
    priority = json.loads((shop.out / "1002.json").read_text())
    assert priority["lines"] == [line("SKU-KETTLE", 1, 3499, 10, 1, "Electric kettle"),
                                 line("SKU-OIL", 2, 1150, 10, 2, "Olive oil, 750 ml"),
                                 line("SKU-MANGO", 4, 175, 10, 3, "Mango, ripe")]
    assert priority["total_cents"] == 3499 + 349 + 2300 + 230 + 700 + 70 == 7148
    assert priority["total"] == "71.48" and priority["service"] == "priority"

    # the same orders, once each, in order_summaries
    assert rows(shop.db, "SELECT order_id, customer, service, line_count, total_cents, received_on "
                         "FROM order_summaries ORDER BY order_id") == [
        ("1001", "C-017", "standard", 2, 1539, today), ("1002", "C-042", "priority", 3, 7148, today)]

    # bad orders (the error folder holds exactly ``rejected``): the file as it was dropped, and why
    for number in ("1003", "1004", "1005"):
        assert (shop.error / f"order-{number}.json").read_bytes() == \
            (SAMPLE_ORDERS / f"order-{number}.json").read_bytes()
    reason = {n: (shop.error / f"order-{n}.json.reason").read_text() for n in ("1003", "1004", "1005")}
    assert reason["1003"] == "InvalidOrderError: order 1003: line 1 has quantity 0\n"
    assert reason["1004"] == "InvalidOrderError: order 1004: unknown product(s) SKU-DURIAN\n"
    assert reason["1005"].startswith("TypeConversionError: unmarshal(json) failed: Expecting ")

    # content-based router: the priority order's lines took the priority lane
    assert engine.route_stats("order-lane-priority")["exchanges_completed"] == 3
    assert engine.route_stats("order-lane-standard")["exchanges_completed"] == 2
    stats = engine.route_stats("order-files")
    assert stats["exchanges_completed"] == 5 and stats["exchanges_failed"] == 0
    assert names(shop.inbox) == []


def test_the_products_table_is_created_and_seeded_once(engine, tmp_path):
    shop = start_intake(engine, tmp_path)
    products = json.loads((ROUTES / "samples" / "products.json").read_text())
    assert rows(shop.db, "SELECT sku, name, unit_price_cents, category FROM products ORDER BY sku") == sorted(
        (p["sku"], p["name"], p["unit_price_cents"], p["category"]) for p in products)
    # seeding again (the next start, or another process) keeps what the table holds
    with sqlite3.connect(shop.db) as conn:
        conn.execute("UPDATE products SET unit_price_cents = 999 WHERE sku = 'SKU-APPLE'")
    engine.template.request_body("direct:order-db-setup", None)
    assert rows(shop.db, "SELECT count(*) FROM products") == [(len(products),)]
    assert rows(shop.db, "SELECT unit_price_cents FROM products WHERE sku = 'SKU-APPLE'") == [(999,)]


def test_an_order_is_priced_from_the_table_as_it_is_now(engine, tmp_path):
    shop = start_intake(engine, tmp_path)
    with sqlite3.connect(shop.db) as conn:
        conn.execute("UPDATE products SET unit_price_cents = 100 WHERE sku = 'SKU-APPLE'")
    shop.inbox.mkdir(parents=True, exist_ok=True)
    order = {"order_id": "A-7", "customer": "C-1", "lines": [{"sku": "SKU-APPLE", "qty": 3}]}
    (shop.inbox / "a7.json").write_text(json.dumps(order))
    eventually(lambda: (shop.out / "A-7.json").exists(), what="the priced order", timeout=10)
    result = json.loads((shop.out / "A-7.json").read_text())
    assert result["service"] == "standard"  # the default
    assert (result["total_cents"], result["lines"][0]["unit_price_cents"]) == (300, 100)


# -- the aggregator ---------------------------------------------------------------------------------
def order_line_headers(order_id: str, line_no: int, count: int, service: str = "standard") -> dict:
    return {"orderId": order_id, "customer": "C-9", "service": service, "lineCount": count,
            "lineNo": line_no, "receivedOn": "2024-05-01", "surchargePct": 0}


def test_a_line_delivered_twice_counts_once(engine, tmp_path):
    shop = start_intake(engine, tmp_path)
    send = engine.template.send_body
    send("direct:order-pricing", {"sku": "SKU-PEAR", "qty": 1}, headers=order_line_headers("D-1", 1, 2))
    send("direct:order-pricing", {"sku": "SKU-PEAR", "qty": 1}, headers=order_line_headers("D-1", 1, 2))
    assert not (shop.out / "D-1.json").exists()  # line 2 has not arrived: a duplicate does not complete it
    send("direct:order-pricing", {"sku": "SKU-OIL", "qty": 1}, headers=order_line_headers("D-1", 2, 2))
    result = json.loads((shop.out / "D-1.json").read_text())
    assert [ln["line"] for ln in result["lines"]] == [1, 2]
    assert result["total_cents"] == 290 + 1150


def test_an_order_missing_lines_is_rejected_as_incomplete_after_the_timeout(engine, tmp_path):
    shop = start_intake(engine, tmp_path, completion_timeout=0.2)
    engine.template.send_body("direct:order-pricing", {"sku": "SKU-PEAR", "qty": 2},
                              headers=order_line_headers("T-1", 1, 3))
    eventually(lambda: (shop.error / "T-1.json.reason").exists(), what="the incomplete order", timeout=10)
    assert (shop.error / "T-1.json.reason").read_text() == \
        "incomplete: 1 of 3 lines arrived (completed by timeout)\n"
    partial = json.loads((shop.error / "T-1.json").read_text())
    assert [ln["sku"] for ln in partial["lines"]] == ["SKU-PEAR"]
    assert not (shop.out / "T-1.json").exists()
    assert rows(shop.db, "SELECT count(*) FROM order_summaries") == [(0,)]


def test_an_order_still_open_when_the_engine_stops_is_rejected_not_lost(engine, tmp_path):
    shop = start_intake(engine, tmp_path)
    engine.template.send_body("direct:order-pricing", {"sku": "SKU-PEAR", "qty": 2},
                              headers=order_line_headers("S-1", 1, 2))
    engine.stop()
    assert (shop.error / "S-1.json.reason").read_text() == \
        "incomplete: 1 of 2 lines arrived (completed by force)\n"


def test_a_line_whose_product_vanished_is_rejected_after_redelivery(engine, tmp_path):
    shop = start_intake(engine, tmp_path, maximum_redeliveries=2)
    engine.template.send_body("direct:order-pricing", {"sku": "SKU-GONE", "qty": 1},
                              headers=order_line_headers("V-1", 2, 2))
    assert (shop.error / "V-1.line-2.json").exists()
    assert (shop.error / "V-1.line-2.json.reason").read_text() == \
        "InvalidOrderError: order V-1: product SKU-GONE is no longer in the products table\n"
    assert engine.route_stats("order-pricing")["redeliveries"] == 2


# -- failures that are not the order's fault ---------------------------------------------------------------
def test_a_database_failure_is_not_a_rejection_the_file_goes_to_the_failed_folder(engine, tmp_path):
    # a folder that does not exist: SQLite cannot open the database, every statement fails
    engine.properties["datasource.default.url"] = f"sqlite:///{tmp_path}/no-such-folder/shop.db"
    inbox, error = tmp_path / "in", tmp_path / "error"
    engine.properties.update({"orders.in": str(inbox), "orders.out": str(tmp_path / "out"),
                              "orders.error": str(error), "orders.delay": "20ms", "orders.min_age": "10ms"})
    engine.add_routes(intake.OrderIntake(redelivery_delay=0))
    engine.start()
    inbox.mkdir(parents=True, exist_ok=True)
    shutil.copy(SAMPLE_ORDERS / "order-1001.json", inbox)
    eventually(lambda: names(inbox / ".error") == ["order-1001.json"], what="the failed file", timeout=10)
    assert names(error) == []  # a valid order is not rejected because the database broke
    assert engine.route_stats("order-files")["exchanges_failed"] == 1


# -- validation ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("order, reason", [
    (["not", "an", "object"], "an order is a JSON object, got list"),
    ({"customer": "C", "lines": [{"sku": "S", "qty": 1}]}, "order_id must be 1 to 64 letters"),
    ({"order_id": "../etc", "customer": "C", "lines": [{"sku": "S", "qty": 1}]}, "order_id must be"),
    ({"order_id": "A", "lines": [{"sku": "S", "qty": 1}]}, "order A: no customer"),
    ({"order_id": "A", "customer": "C", "service": "express", "lines": [{"sku": "S", "qty": 1}]},
     "service must be one of priority, standard, got 'express'"),
    ({"order_id": "A", "customer": "C", "lines": []}, "order A: no order lines"),
    ({"order_id": "A", "customer": "C", "lines": [{"qty": 1}]}, "line 1 has no sku"),
    ({"order_id": "A", "customer": "C", "lines": [{"sku": "S", "qty": 1}, {"sku": "S", "qty": True}]},
     "line 2 has quantity True"),
    ({"order_id": "A", "customer": "C", "lines": [{"sku": "S", "qty": "2"}]}, "line 1 has quantity '2'"),
])
def test_validation_says_what_is_wrong(order, reason):
    exchange = SimpleNamespace(message=SimpleNamespace(body=order, headers={}))
    with pytest.raises(intake.InvalidOrderError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        intake.validate_order(exchange)


def test_a_valid_order_gets_its_routing_headers():
    order = {"order_id": "B-2", "customer": "C-5", "lines": [{"sku": "Y", "qty": 1}, {"sku": "X", "qty": 2},
                                                             {"sku": "Y", "qty": 4}]}
    exchange = SimpleNamespace(message=SimpleNamespace(body=order, headers={}))
    intake.validate_order(exchange)
    assert exchange.message.headers == {"orderId": "B-2", "customer": "C-5", "service": "standard",
                                        "lineCount": 3, "skus": ["X", "Y"]}


# -- the same routes on RabbitMQ and PostgreSQL, by configuration alone ----------------------------------
def test_the_same_routes_run_on_rabbitmq_and_postgresql(engine, tmp_path, rabbitmq_service, postgresql_service):
    import sqlalchemy

    schema = f"intake_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(postgresql_service.url.replace("postgresql://", "postgresql+psycopg://"))
    with admin.begin() as conn:
        conn.execute(sqlalchemy.text(f"CREATE SCHEMA {schema}"))
    suffix = uuid.uuid4().hex[:8]
    engine.properties.update({
        "amqp.url": rabbitmq_service.url,
        "orders.priority": f"amqp:queue:intake-priority-{suffix}?declare=true&auto_delete=true&durable=false",
        "orders.standard": f"amqp:queue:intake-standard-{suffix}?declare=true&auto_delete=true&durable=false"})
    url = postgresql_service.url.replace("postgresql://", "postgresql+psycopg://")
    try:
        shop = start_intake(engine, tmp_path, database_url=f"{url}?options=-csearch_path%3D{schema}")
        shop.inbox.mkdir(parents=True, exist_ok=True)
        for number in ("1001", "1002", "1004"):
            shutil.copy(SAMPLE_ORDERS / f"order-{number}.json", shop.inbox)
        eventually(lambda: names(shop.out) == ["1001.json", "1002.json"]
                 and names(shop.error) == ["order-1004.json", "order-1004.json.reason"], timeout=20,
                 what="the orders through RabbitMQ and PostgreSQL")
        assert json.loads((shop.out / "1002.json").read_text())["total_cents"] == 7148
        engine.stop()
        with admin.begin() as conn:
            saved = conn.execute(sqlalchemy.text(
                f"SELECT order_id, service, total_cents FROM {schema}.order_summaries ORDER BY order_id")).all()
        assert [tuple(r) for r in saved] == [("1001", "standard", 1539), ("1002", "priority", 7148)]
    finally:
        engine.stop()
        with admin.begin() as conn:
            conn.execute(sqlalchemy.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()

"""The main job in ``routes/orders.py``: sample orders routed, split, priced and totalled per batch."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from eip import cli
from eip.loader import find_builders, load_module
from eip.testing import advice_with, eventually

ROUTES = Path(__file__).resolve().parents[2] / "routes"
orders = load_module(ROUTES / "orders.py")


@pytest.fixture(autouse=True)
def restore_logging():
    import logging

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def is_bad(order_no: int) -> bool:
    return order_no % 7 == 0 or order_no % 11 == 0


def expected_report(batch: dict) -> dict:
    """The batch report worked out by hand from the order data (the job's documented rules)."""
    report = {"batch_id": batch["batch_id"], "orders": 0, "accepted": 0, "rejected": 0, "lines": 0,
              "amount": 0, "by_type": {"priority": 0, "standard": 0, "wholesale": 0}}
    for order in batch["orders"]:
        report["orders"] += 1
        if is_bad(int(order["id"].split("-")[1])):
            report["rejected"] += 1
            continue
        report["accepted"] += 1
        report["by_type"][order["type"]] += 1
        for line in order["lines"]:
            gross = line["qty"] * line["unit_price"]
            if order["type"] == "wholesale":
                gross -= gross * 10 // 100
            report["amount"] += gross
            report["lines"] += 1
        if order["type"] == "priority":
            report["amount"] += 500
    return report


def start_job(engine, **options):
    options.setdefault("source", "direct:tick")
    engine.add_routes(orders.OrderJob(report_uri="mock:report", rejected_uri="mock:rejected", **options))
    engine.start()
    return engine.get_endpoint("mock:report"), engine.get_endpoint("mock:rejected")


# -- sample data and validation ---------------------------------------------------------------
def test_sample_batches_are_deterministic_and_hold_bad_orders_at_known_places():
    first = orders.sample_batch(3)
    assert first == orders.sample_batch(3)
    assert first != orders.sample_batch(4)
    assert first["batch_id"] == "B0003"
    assert [o["id"] for o in first["orders"]] == [f"ORD-{n:05d}" for n in range(21, 31)]
    assert len(orders.sample_batch(1, size=25)["orders"]) == 25
    for number in (1, 2, 3):
        for order in orders.sample_batch(number)["orders"]:
            order_no = int(order["id"].split("-")[1])
            valid = True
            try:
                orders.validate_order(type("Ex", (), {"message": type("M", (), {"body": order})})())
            except orders.InvalidOrderError:
                valid = False
            assert valid is not is_bad(order_no), order


@pytest.mark.parametrize("order, reason", [
    ("not a dict", "must be a mapping"),
    ({"type": "standard", "lines": [{}]}, "no id"),
    ({"id": "A", "type": "express", "lines": [{}]}, "unknown type 'express'"),
    ({"id": "A", "type": "standard", "lines": []}, "A: no order lines"),
    ({"id": "A", "type": "standard"}, "A: no order lines"),
    ({"id": "A", "type": "standard", "lines": [{"qty": 1, "unit_price": 5}]}, "line 1 has no sku"),
    ({"id": "A", "type": "standard", "lines": [{"sku": "S", "qty": 1, "unit_price": 5},
                                               {"sku": "S", "qty": -2, "unit_price": 5}]},
     "line 2 has quantity -2"),
    ({"id": "A", "type": "standard", "lines": [{"sku": "S", "qty": 1, "unit_price": "5"}]},
     "line 1 has unit price '5'"),
])
def test_validate_order_names_what_is_wrong(order, reason):
    exchange = type("Ex", (), {"message": type("M", (), {"body": order})})()
    with pytest.raises(orders.InvalidOrderError, match=reason):
        orders.validate_order(exchange)


# -- the routes, end to end ---------------------------------------------------------------------
def test_a_batch_is_totalled_once_with_bad_orders_dead_lettered(engine):
    report, rejected = start_job(engine)
    batch = orders.sample_batch(1)
    engine.template.send_body("direct:order-batch", batch)
    report.expected_message_count(1)
    report.assert_is_satisfied(timeout=5)
    [body] = report.received_bodies
    expected = expected_report(batch)
    assert {k: body[k] for k in expected} == expected
    assert expected["rejected"] == 1 and expected["accepted"] == 9
    assert body["total"] == f"{expected['amount'] // 100}.{expected['amount'] % 100:02d}"
    # the dead letter channel got the bad order exactly as it arrived, with the cause
    rejected.expected_message_count(1)
    rejected.assert_is_satisfied(timeout=5)
    [dead] = rejected.received_exchanges
    assert dead.message.body == batch["orders"][6]
    assert "quantity 0" in dead.message.headers["CamelDeadLetterCause"]
    assert "InvalidOrderError" in dead.message.headers["CamelDeadLetterCause"]
    # every order completed the intake route: the bad one counts as handled, not failed
    eventually(lambda: engine.route_stats("order-intake")["exchanges_total"] == 10)
    stats = engine.route_stats("order-intake")
    assert stats["exchanges_completed"] == 10 and stats["exchanges_failed"] == 0
    assert stats["dead_lettered"] == 1


def test_each_trigger_generates_the_next_batch(engine):
    report, _ = start_job(engine)
    engine.template.send_body("direct:tick", None)
    report.expected_message_count(1)
    report.assert_is_satisfied(timeout=5)
    engine.template.send_body("direct:tick", None)
    report.expected_message_count(2)
    report.assert_is_satisfied(timeout=5)
    assert [b["batch_id"] for b in report.received_bodies] == ["B0001", "B0002"]
    expected = expected_report(orders.sample_batch(2))
    assert {k: report.received_bodies[1][k] for k in expected} == expected


def test_batches_are_kept_apart_when_they_interleave(engine):
    report, _ = start_job(engine, batch_size=30)
    batches = [orders.sample_batch(n, size=30) for n in (5, 6, 7)]
    for batch in batches:
        engine.template.send_body("direct:order-batch", batch)
    report.expected_message_count(3)
    report.assert_is_satisfied(timeout=5)
    by_id = {b["batch_id"]: b for b in report.received_bodies}
    for batch in batches:
        expected = expected_report(batch)
        assert {k: by_id[batch["batch_id"]][k] for k in expected} == expected


def test_a_batch_of_only_bad_orders_is_reported_with_nothing_accepted(engine):
    report, rejected = start_job(engine)
    batch = {"batch_id": "BAD", "orders": [{"id": f"X{n}", "type": "nope", "lines": []} for n in range(3)]}
    engine.template.send_body("direct:order-batch", batch)
    report.expected_message_count(1)
    report.assert_is_satisfied(timeout=5)
    [body] = report.received_bodies
    assert (body["orders"], body["accepted"], body["rejected"], body["amount"]) == (3, 0, 3, 0)
    assert body["total"] == "0.00"
    rejected.expected_message_count(3)
    rejected.assert_is_satisfied(timeout=5)


def test_the_timer_drives_the_job(engine):
    report, _ = start_job(engine, source="timer:orders-test?period=0.05&repeat_count=2")
    report.expected_message_count(2)
    report.assert_is_satisfied(timeout=5, assert_period=0.2)
    assert sorted(b["batch_id"] for b in report.received_bodies) == ["B0001", "B0002"]


def test_one_log_line_per_batch_not_per_order(engine, caplog):
    caplog.set_level("INFO")
    report, _ = start_job(engine)
    engine.template.send_body("direct:order-batch", orders.sample_batch(1))
    report.expected_message_count(1)
    report.assert_is_satisfied(timeout=5)
    lines = [r.getMessage() for r in caplog.records if r.name == "orders.report"]
    assert len(lines) == 1
    assert lines[0].startswith("batch B0001: 10 orders (9 accepted, 1 rejected)")
    warnings = [r.getMessage() for r in caplog.records if r.name == "orders.rejected"]
    assert len(warnings) == 1 and warnings[0].startswith("rejected order ORD-00007 of batch B0001")


def test_the_job_as_eip_run_creates_it_woven_with_advice(engine):
    engine.add_routes(orders.OrderJob())
    advice_with(engine, "order-generator", lambda a: a.replace_from_with("direct:tick"))
    advice_with(engine, "order-totals", lambda a: a.weave_by_id("log-batch").after().to("mock:report"))
    advice_with(engine, "rejected-orders", lambda a: a.weave_by_id("log-rejected").after().to("mock:rejected"))
    engine.start()
    engine.template.send_body("direct:tick", None)
    report, rejected = engine.get_endpoint("mock:report"), engine.get_endpoint("mock:rejected")
    report.expected_message_count(1)
    rejected.expected_message_count(1)
    report.assert_is_satisfied(timeout=5)
    rejected.assert_is_satisfied(timeout=5)
    expected = expected_report(orders.sample_batch(1))
    assert {k: report.received_bodies[0][k] for k in expected} == expected
    assert rejected.received_bodies[0]["id"] == "ORD-00007"


def test_a_failure_late_in_the_intake_dead_letters_the_order_as_received(engine):
    def fail_for_order_3(exchange):
        if exchange.message.headers["orderId"] == "ORD-00003":
            raise RuntimeError("pricing service broke")

    engine.add_routes(orders.OrderJob(source="direct:tick", report_uri="mock:report",
                                      rejected_uri="mock:rejected"))
    advice_with(engine, "order-intake", lambda a: a.weave_by_id("summarise").before().process(fail_for_order_3))
    engine.start()
    batch = orders.sample_batch(1)
    engine.template.send_body("direct:order-batch", batch)
    report, rejected = engine.get_endpoint("mock:report"), engine.get_endpoint("mock:rejected")
    report.expected_message_count(1)
    report.assert_is_satisfied(timeout=5)
    rejected.expected_message_count(2)
    rejected.assert_is_satisfied(timeout=5)
    late = next(ex for ex in rejected.received_exchanges if ex.message.body.get("id") == "ORD-00003")
    assert late.message.body == batch["orders"][2]  # the order, not the half-priced body
    assert "lane" not in late.message.headers  # nor the headers the route had set
    assert late.message.headers["CamelDeadLetterCause"] == "RuntimeError: pricing service broke"
    body = report.received_bodies[0]
    assert (body["orders"], body["accepted"], body["rejected"]) == (10, 8, 2)


# -- the folder as `eip` sees it ---------------------------------------------------------------
def test_the_routes_folder_holds_the_order_job_and_validates():
    assert "OrderJob" in [b.cls.__name__ for b in find_builders([ROUTES])]
    result = CliRunner().invoke(cli.main, ["validate", str(ROUTES)])
    assert result.exit_code == 0, result.output
    table = CliRunner().invoke(cli.main, ["routes", str(ROUTES)])
    assert table.exit_code == 0, table.output
    rows = {line.split()[0]: line for line in table.output.splitlines()[1:]}
    assert {"order-generator", "order-batches", "order-intake", "rejected-orders",
            "order-totals"} <= set(rows)
    assert "dead letter direct:rejected-orders" in rows["order-intake"]


def test_eip_run_on_the_routes_folder_logs_a_batch(monkeypatch, tmp_path):
    # ./routes as on a fresh clone, but the folders and the SQLite file the other example
    # routes create on start (data/..., eip.db) go into tmp_path, not into the checkout
    (tmp_path / "routes").symlink_to(ROUTES, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EIP_SERVER_PORT", "0")
    result = CliRunner().invoke(cli.main, ["run", "--duration", "1.5"])
    assert result.exit_code == 0, result.output
    assert "route 'order-generator' started: timer:orders" in result.output
    assert "batch B0001: 10 orders (9 accepted, 1 rejected)" in result.output
    assert result.output.rstrip().endswith("stopped")

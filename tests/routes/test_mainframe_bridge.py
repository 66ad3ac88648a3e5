"""Mainframe bridge (``routes/mainframe_bridge.py``): an EBCDIC copybook file in, JSON documents out."""

from __future__ import annotations

import json
import logging
import shutil
import uuid
from decimal import Decimal
from pathlib import Path

from eip.loader import load_module
from eip.testing import Notifier, eventually

ROUTES = Path(__file__).resolve().parents[2] / "routes"
SAMPLES = ROUTES / "samples" / "mainframe"
bridge = load_module(ROUTES / "mainframe_bridge.py")
make_customers = load_module(SAMPLES / "make_customers.py")


def start_bridge(engine, tmp_path: Path, out: str | None = None) -> tuple[Path, Path]:
    inbox, outbox = tmp_path / "in", tmp_path / "out"
    engine.properties.update({"mainframe.in": str(inbox), "mainframe.out": out or f"file:{outbox}",
                              "mainframe.delay": "20ms", "mainframe.min_age": "10ms"})
    engine.add_routes(bridge.MainframeBridge())
    engine.start()
    inbox.mkdir(parents=True, exist_ok=True)
    return inbox, outbox


def test_the_sample_file_is_what_the_generator_writes():
    committed = (SAMPLES / "customers.dat").read_bytes()
    assert committed == make_customers.customers_data()
    assert len(committed) == 5 * 101  # five fixed-length records of the copybook
    assert committed[:8] == "10000017".encode("cp037")  # EBCDIC zoned digits, not ASCII


def test_each_record_becomes_one_json_document(engine, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="mainframe.bridge")
    inbox, outbox = start_bridge(engine, tmp_path)
    done = Notifier(engine, "mainframe-bridge", completed=1)
    shutil.copy(SAMPLES / "customers.dat", inbox)
    assert done.wait(10)
    assert sorted(p.name for p in outbox.iterdir()) == [f"customers-{n:06d}.json" for n in range(1, 6)]
    assert (outbox / "customers-000002.json").read_text() == (
        '{"CUST-ID": 10000042, "CUST-NAME": "GRACE HOPPER", "BRANCH-CODE": "NYC2", "ACCOUNT-STATUS": "A", '
        '"OPENED-ON": 20010930, "BALANCE": -310.07, "CREDIT-LIMIT": 2500.00, "LAST-PAYMENT": 120.00, '
        '"PHONE-NUMBER": ["+1 212 555 0142", "+1 212 555 0199"]}')
    documents = [json.loads((outbox / f"customers-{n:06d}.json").read_text(), parse_float=Decimal)
                 for n in range(1, 6)]
    assert documents == make_customers.RECORDS  # every field, amounts to the cent, accents from cp037
    assert documents[4]["CUST-NAME"] == "JOSÉ MARÍA ÁLVAREZ"
    eventually(lambda: (inbox / ".done" / "customers.dat").exists(), what="the file marked done", timeout=10)
    assert "customers.dat: 5 records to JSON" in caplog.messages


def test_a_bad_record_fails_the_file_at_that_record(engine, tmp_path, caplog):
    data = bytearray(make_customers.customers_data())
    balance = 101 * 3 + 8 + 30 + 4 + 1 + 8  # record 4, first byte of BALANCE (COMP-3)
    data[balance] = 0xFF  # not a packed decimal digit
    inbox, outbox = start_bridge(engine, tmp_path)
    failed = Notifier(engine, "mainframe-bridge", failed=1)
    (inbox / "broken.dat").write_bytes(bytes(data))
    assert failed.wait(10)
    eventually(lambda: (inbox / ".error" / "broken.dat").exists(), what="the file moved to .error", timeout=10)
    written = sorted(p.name for p in outbox.iterdir()) if outbox.exists() else []
    assert set(written) <= {"broken-000001.json", "broken-000002.json", "broken-000003.json"}
    assert "broken-000004.json" not in written
    # the log names the record (counted from 0, as the legacy package does), the field and the byte
    assert any("record 3, field CUSTOMER-RECORD.BALANCE, byte 51" in message for message in caplog.messages)


def test_the_documents_can_go_to_another_endpoint_by_configuration(engine, tmp_path):
    inbox, _ = start_bridge(engine, tmp_path, out="mock:customers")
    customers = engine.get_endpoint("mock:customers")
    customers.expected_message_count(5)
    shutil.copy(SAMPLES / "customers.dat", inbox / "extract.dat")
    customers.assert_is_satisfied(timeout=10)
    first = customers.received_exchanges[0]
    assert first.message.headers["CamelFileName"] == "extract-000001.json"
    assert first.message.headers["CamelRabbitmqContentType"] == "application/json"
    assert json.loads(first.message.body)["CUST-NAME"] == "ADA LOVELACE"


def test_the_documents_can_go_to_a_postgresql_table_by_configuration(engine, tmp_path, postgresql_service):
    import sqlalchemy

    schema = f"mainframe_{uuid.uuid4().hex[:10]}"
    url = postgresql_service.url.replace("postgresql://", "postgresql+psycopg://")
    admin = sqlalchemy.create_engine(url)
    try:
        with admin.begin() as conn:
            conn.execute(sqlalchemy.text(f"CREATE SCHEMA {schema}"))
            conn.execute(sqlalchemy.text(f"CREATE TABLE {schema}.customer_records (doc jsonb NOT NULL)"))
        engine.properties["datasource.mainframe.url"] = url
        inbox, _ = start_bridge(engine, tmp_path, out=(
            f"sql:INSERT INTO {schema}.customer_records (doc) VALUES (CAST(:#${{body}} AS jsonb))"
            "?datasource=mainframe"))
        done = Notifier(engine, "mainframe-bridge", completed=1)
        shutil.copy(SAMPLES / "customers.dat", inbox)
        assert done.wait(10)
        with admin.begin() as conn:
            saved = conn.execute(sqlalchemy.text(
                f"SELECT doc->>'CUST-NAME', doc->>'BALANCE' FROM {schema}.customer_records "
                "ORDER BY (doc->>'CUST-ID')::int")).all()
        assert [tuple(r) for r in saved] == [
            ("ADA LOVELACE", "1250.50"), ("GRACE HOPPER", "-310.07"), ("ALAN TURING", "0.00"),
            ("KATHERINE JOHNSON", "987654321.99"), ("JOSÉ MARÍA ÁLVAREZ", "42.10")]
    finally:
        engine.stop()
        with admin.begin() as conn:
            conn.execute(sqlalchemy.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()

"""Mainframe payments over MQ: EBCDIC copybook records in, RabbitMQ and PostgreSQL out, one unit of work.

A mainframe program puts fixed-length payment records (code page 037, a packed-decimal amount)
on the MQ queue PAYMENTS. The route gets each one under syncpoint, decodes it with the copybook,
routes it by content (card payments and wire transfers go to different RabbitMQ queues) and
inserts it into PostgreSQL. The MQ get is committed only after the RabbitMQ publish was confirmed
*and* the row was inserted; a database failure backs the MQ message out, so it comes again (and
after BOTHRESH attempts goes to the backout queue, never looping).

RabbitMQ and PostgreSQL are real (the ``rabbitmq_service`` and ``postgresql_service`` fixtures);
MQ is the in-repo stand-in for IBM's MQI C library under IBM's real ``ibmmq`` Python layer, as no
queue manager is reachable here.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pika
import pytest
from sqlalchemy import create_engine, text

from eip import Engine, RouteBuilder
from legacy import copybook, parse_copybook

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from amqp_support import Broker
from ibmmq_standin import StoredMessage, World, put_message, standin_world

from eip.testing import eventually


@pytest.fixture
def mqi_standin() -> Iterator[World]:
    """A fresh world of queue managers behind IBM's ``ibmmq`` layer (the MQI stand-in)."""
    with standin_world() as world:
        yield world


PAYMENT = """\
      * ONE PAYMENT, AS THE MAINFRAME PUTS IT ON MQ: 25 BYTES, CODE PAGE 037.
       01  PAYMENT.
           05  PAY-ID        PIC 9(6).
           05  PAY-TYPE      PIC X.
               88  CARD      VALUE 'C'.
               88  WIRE      VALUE 'W'.
           05  ACCOUNT       PIC X(10).
           05  AMOUNT        PIC S9(7)V99 COMP-3.
           05  CURRENCY      PIC X(3).
"""
LAYOUT = parse_copybook(PAYMENT, code_page="cp037")
MQ = ("ibmmq:PAYMENTS?queue_manager=QM1&channel=DEV.APP.SVRCONN&conn_name=127.0.0.1(1414)"
      "&user=bridge&password={{mq.password}}&wait_interval=100ms&reconnect_delay=50ms")


class PaymentBridge(RouteBuilder):
    def __init__(self, cards: str, wires: str, table: str) -> None:
        super().__init__()
        self.cards, self.wires, self.table = cards, wires, table

    def configure(self) -> None:
        (self.from_(MQ).route_id("payments")
            .unmarshal(copybook(LAYOUT))
            .set_body(lambda ex: {"id": ex.message.body["PAY-ID"], "type": ex.message.body["PAY-TYPE"],
                                  "account": ex.message.body["ACCOUNT"], "amount": ex.message.body["AMOUNT"],
                                  "currency": ex.message.body["CURRENCY"]})
            .choice()
                .when(lambda ex: ex.message.body["type"] == "C").to(f"amqp:queue:{self.cards}")
                .otherwise().to(f"amqp:queue:{self.wires}")
            .end()
            .to(f"sql:INSERT INTO {self.table} (id, type, account, amount, currency) "
                "VALUES (:#id, :#type, :#account, :#amount, :#currency)?datasource=payments"))


def record(pay_id: int, kind: str, amount: str, account: str = "DE00012345", currency: str = "EUR") -> bytes:
    return LAYOUT.encode({"PAY-ID": pay_id, "PAY-TYPE": kind, "ACCOUNT": account, "AMOUNT": Decimal(amount),
                          "CURRENCY": currency})


class Systems:
    """The real RabbitMQ and PostgreSQL of one test (unique names) and the MQ stand-in."""

    def __init__(self, world: World, rabbitmq_url: str, postgresql_url: str) -> None:
        self.world = world
        self.rabbitmq_url = rabbitmq_url
        self.broker = Broker(rabbitmq_url)
        self.cards = self.broker.queue("cards")
        self.wires = self.broker.queue("wires")
        self.table = f"payments_{uuid.uuid4().hex[:10]}"
        self.db_url = postgresql_url.replace("postgresql://", "postgresql+psycopg://", 1)
        self.db = create_engine(self.db_url, isolation_level="AUTOCOMMIT")
        with self.db.connect() as conn:
            conn.execute(text(f"CREATE TABLE {self.table} (id INTEGER PRIMARY KEY, type CHAR(1) NOT NULL, "
                              "account TEXT NOT NULL, amount NUMERIC(9, 2) NOT NULL "
                              f"CONSTRAINT {self.table}_positive CHECK (amount > 0), currency CHAR(3) NOT NULL)"))
        self.qm = world.add_queue_manager("QM1", users={"bridge": "mq-pw"})
        self.qm.define_queue("PAYMENTS", backout_threshold=2, backout_queue="PAYMENTS.BOQ")
        self.qm.define_queue("PAYMENTS.BOQ")

    def engine(self) -> Engine:
        engine = Engine(properties={"amqp.url": self.rabbitmq_url, "mq.password": "mq-pw"}, shutdown_timeout=5.0)
        engine.add_datasource("payments", self.db_url)
        engine.add_routes(PaymentBridge(self.cards, self.wires, self.table))
        return engine

    def rows(self) -> list[tuple[Any, ...]]:
        with self.db.connect() as conn:
            return [tuple(row) for row in conn.execute(text(f"SELECT id, type, account, amount, currency "
                                                            f"FROM {self.table} ORDER BY id"))]

    def row_exists(self, pay_id: int) -> bool:
        with self.db.connect() as conn:
            return bool(conn.execute(text(f"SELECT count(*) FROM {self.table} WHERE id = :id"), {"id": pay_id}).scalar())

    def published(self, queue: str) -> list[dict[str, Any]]:
        """Everything in a RabbitMQ queue, taken off it (acked)."""
        documents = []
        while True:
            method, _, body = self.broker.channel.basic_get(queue, auto_ack=True)
            if method is None:
                return documents
            documents.append(json.loads(body, parse_float=Decimal))

    def cleanup(self) -> None:
        try:
            with self.db.connect() as conn:
                conn.execute(text(f"DROP TABLE IF EXISTS {self.table}"))
        finally:
            self.db.dispose()
            self.broker.cleanup()


@pytest.fixture
def systems(mqi_standin: World, rabbitmq_service: Any, postgresql_service: Any) -> Iterator[Systems]:
    systems = Systems(mqi_standin, rabbitmq_service.url, postgresql_service.url)
    yield systems
    systems.cleanup()


def published_count(url: str, queue: str) -> int:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        return connection.channel().queue_declare(queue, passive=True).method.message_count
    finally:
        connection.close()


def test_records_are_decoded_routed_published_and_inserted_before_the_mq_commit(systems: Systems) -> None:
    seen_at_commit: list[tuple[int, bool, int]] = []

    def check(connection: Any, gets: list[StoredMessage]) -> None:
        # Inside MQCMIT, before it takes effect: the row and the confirmed publish must exist already.
        for message in gets:
            pay_id = LAYOUT.decode(message.data)["PAY-ID"]
            queue = systems.cards if LAYOUT.decode(message.data)["PAY-TYPE"] == "C" else systems.wires
            seen_at_commit.append((pay_id, systems.row_exists(pay_id), published_count(systems.rabbitmq_url, queue)))

    systems.world.on_commit.append(check)
    with systems.engine():
        put_message("PAYMENTS", record(1, "C", "19.99"))
        put_message("PAYMENTS", record(2, "W", "1250.00", account="FR76300060"))
        put_message("PAYMENTS", record(3, "C", "5.10", currency="USD"))
        eventually(lambda: len(seen_at_commit) == 3 and systems.qm.queue("PAYMENTS").depth == 0, what="all committed", timeout=10)
    assert [(pay_id, exists) for pay_id, exists, _ in seen_at_commit] == [(1, True), (2, True), (3, True)]
    assert [count for _, _, count in seen_at_commit] == [1, 1, 2]  # cards: 1 then 2; wires: 1
    assert systems.rows() == [(1, "C", "DE00012345", Decimal("19.99"), "EUR"),
                              (2, "W", "FR76300060", Decimal("1250.00"), "EUR"),
                              (3, "C", "DE00012345", Decimal("5.10"), "USD")]
    assert systems.published(systems.cards) == [
        {"id": 1, "type": "C", "account": "DE00012345", "amount": Decimal("19.99"), "currency": "EUR"},
        {"id": 3, "type": "C", "account": "DE00012345", "amount": Decimal("5.10"), "currency": "USD"}]
    assert [d["id"] for d in systems.published(systems.wires)] == [2]
    assert systems.qm.queue("PAYMENTS.BOQ").depth == 0


def test_a_database_failure_backs_the_mq_message_out_and_it_comes_again(systems: Systems) -> None:
    backouts: list[int] = []

    def fix_the_database(connection: Any, gets: list[StoredMessage]) -> None:
        backouts.append(len(gets))
        with systems.db.connect() as conn:  # an operator lifts the constraint after the first failure
            conn.execute(text(f"ALTER TABLE {systems.table} DROP CONSTRAINT IF EXISTS {systems.table}_positive"))

    systems.world.on_backout.append(fix_the_database)
    with systems.engine():
        put_message("PAYMENTS", record(7, "W", "-40.00"))  # a refund: refused by the CHECK at first
        eventually(lambda: systems.row_exists(7) and systems.qm.queue("PAYMENTS").depth == 0, what="redelivered", timeout=10)
    assert backouts == [1]
    assert systems.rows() == [(7, "W", "DE00012345", Decimal("-40.00"), "EUR")]
    # At-least-once: the wire was published on both attempts (the first one's publish was already
    # confirmed when the insert failed), so RabbitMQ holds it twice; the database holds it once.
    assert [d["id"] for d in systems.published(systems.wires)] == [7, 7]


def test_a_record_the_database_always_refuses_ends_on_the_backout_queue(systems: Systems) -> None:
    with systems.engine():
        put_message("PAYMENTS", record(8, "C", "-1.00"))  # refused by the CHECK every time
        put_message("PAYMENTS", record(9, "C", "2.00"))
        eventually(lambda: systems.qm.queue("PAYMENTS.BOQ").depth == 1 and systems.row_exists(9), what="poison parked", timeout=10)
        eventually(lambda: systems.qm.queue("PAYMENTS").depth == 0, what="input queue drained", timeout=10)
    parked = systems.qm.queue("PAYMENTS.BOQ").committed()[0]
    assert LAYOUT.decode(parked.data)["PAY-ID"] == 8  # the original EBCDIC record, as it came
    assert [row[0] for row in systems.rows()] == [9]
    assert [d["id"] for d in systems.published(systems.cards)] == [8, 8, 9]  # BOTHRESH 2: two attempts

"""sql passes the shared broker/database conformance suite (``conformance.py``) on PostgreSQL.

A table is the queue: the producer inserts one row per message with ``sql:INSERT ...`` (the
body's ``n`` and the headers, each into a column of its own type); the consumer polls
``SELECT ... ORDER BY id`` (SKIP LOCKED, one transaction per poll) and marks a row with
``on_consume`` once its exchange completed. A row whose exchange failed is left unmarked and is
polled again. The suite runs twice: with the default ``skip_locked=true`` and with
``skip_locked=false`` (the SELECT and each mark in transactions of their own).

The engine logs in as a throwaway role, so "the server drops the endpoint's connections" is a
``pg_terminate_backend`` of that role's backends only: other tests' sessions on the same server
are untouched.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from eip import Engine
from eip.exchange import Exchange

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conformance import ConformanceAdapter, ConformanceSuite

DATASOURCE = "conformance"
#: Header -> column type; each header is stored in (and read back from) the column of its name.
HEADER_COLUMNS = {
    "tenant": "TEXT", "attempt": "INTEGER", "urgent": "BOOLEAN", "tags": "TEXT[]",
    "amount": "NUMERIC(10, 2)", "sent_at": "TIMESTAMPTZ", "payload": "BYTEA",
}


class SqlAdapter(ConformanceAdapter):
    """One table per test, written by ``sql:INSERT`` and polled by ``sql:SELECT ... on_consume``,
    through a datasource that logs in as a role of its own."""

    def __init__(self, url: str, skip_locked: bool = True) -> None:
        self.skip_locked = skip_locked
        suffix = uuid.uuid4().hex[:10]
        self.role = f"eip_conf_{suffix}"
        self.table = f"conf_queue_{suffix}"
        self.admin = create_engine(url, isolation_level="AUTOCOMMIT")
        self.host = url.split("://", 1)[1].split("@", 1)[1]
        columns = ", ".join(f"{name} {kind}" for name, kind in HEADER_COLUMNS.items())
        with self.admin.connect() as conn:
            conn.execute(text(f"CREATE ROLE {self.role} LOGIN"))
            conn.execute(text(f"CREATE TABLE {self.table} (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
                              f"n INTEGER NOT NULL, {columns}, status TEXT NOT NULL DEFAULT 'new')"))
            conn.execute(text(f"ALTER TABLE {self.table} OWNER TO {self.role}"))  # its identity sequence too

    def configure(self, engine: Engine) -> None:
        engine.add_datasource(DATASOURCE, f"postgresql+psycopg://{self.role}@{self.host}")

    def consumer_uri(self, **options: Any) -> str:
        extra = "".join(f"&{name}={value}" for name, value in options.items())
        return (f"sql:SELECT * FROM {self.table} WHERE status = 'new' ORDER BY id LIMIT 50"
                f"?datasource={DATASOURCE}&initial_delay=0&delay=0.02&skip_locked={str(self.skip_locked).lower()}"
                f"&on_consume=UPDATE {self.table} SET status = 'done' WHERE id = :#id{extra}")

    def producer_uri(self) -> str:
        # ":#${header.x}" is the header's value as it is, or NULL when the message has no such header.
        names = ", ".join(HEADER_COLUMNS)
        values = ", ".join(f":#${{header.{name}}}" for name in HEADER_COLUMNS)
        return f"sql:INSERT INTO {self.table}(n, {names}) VALUES (:#n, {values})?datasource={DATASOURCE}"

    def header_samples(self) -> dict[str, Any]:
        return {"tenant": "acme", "attempt": 3, "urgent": True, "tags": ["a", "b"],
                "amount": Decimal("12.50"), "sent_at": datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC),
                "payload": b"\x00\xffbin"}

    def received_headers(self, exchange: Exchange, names: Iterable[str]) -> dict[str, Any]:
        row = exchange.message.body
        return {name: row.get(name) for name in names}

    def break_connections(self, engine: Engine) -> None:
        with self.admin.connect() as conn:
            killed = conn.execute(text("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) "
                                       "FROM pg_stat_activity WHERE usename = :role"),
                                  {"role": self.role}).scalar()
        assert killed, "the engine held no connection to drop"  # the pool keeps the poller's between polls

    def cleanup(self) -> None:
        try:
            with self.admin.connect() as conn:
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :role"),
                             {"role": self.role})
                conn.execute(text(f"DROP OWNED BY {self.role}"))  # the table and its sequence
                conn.execute(text(f"DROP ROLE IF EXISTS {self.role}"))
        finally:
            self.admin.dispose()


class TestSqlConformance(ConformanceSuite):
    @pytest.fixture
    def conformance(self, postgresql_service: Any) -> Iterator[SqlAdapter]:
        adapter = SqlAdapter(postgresql_service.url.replace("postgresql://", "postgresql+psycopg://", 1))
        yield adapter
        adapter.cleanup()


class TestSqlConformanceWithoutLocking(ConformanceSuite):
    """``skip_locked=false``: the SELECT and each mark run in short transactions of their own."""

    @pytest.fixture
    def conformance(self, postgresql_service: Any) -> Iterator[SqlAdapter]:
        adapter = SqlAdapter(postgresql_service.url.replace("postgresql://", "postgresql+psycopg://", 1),
                             skip_locked=False)
        yield adapter
        adapter.cleanup()

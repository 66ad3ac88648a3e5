"""Reliability test 5: the database goes away mid-run (logins refused, every connection of the
engine killed with ``pg_terminate_backend``), then comes back.

The route polls ``src`` (SKIP LOCKED, one transaction per poll) and inserts each row into ``dst``
through a SQL producer. Expected: the producer's exchanges fail into the error handler with
``SqlConnectionError`` and its redelivery succeeds once logins work again; the poll whose
connection was killed rolls back, so its unmarked rows are polled again (``dst`` is idempotent:
``ON CONFLICT DO NOTHING``); and at every moment, no row of ``src`` is marked done without its row
in ``dst`` (sampled all along from another connection).

Only the engine's own connections are killed: the engine logs in as a throwaway role, which the
test switches to NOLOGIN for the outage, so other users of the server are not disturbed.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from sqlalchemy import create_engine, text

from eip import Engine, Exchange, default_error_handler
from eip.errors import SqlConnectionError
from eip.testing import eventually

ROWS = 300


def test_connection_loss_mid_run_is_redelivered_and_nothing_is_marked_unprocessed(
        engine: Engine, postgresql_service: Any) -> None:
    url = postgresql_service.url.replace("postgresql://", "postgresql+psycopg://", 1)
    suffix = uuid.uuid4().hex[:10]
    role, src, dst = f"eip_rel_{suffix}", f"rel_src_{suffix}", f"rel_dst_{suffix}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
        conn.execute(text(f"CREATE TABLE {src} (id INTEGER PRIMARY KEY, status TEXT NOT NULL DEFAULT 'new')"))
        conn.execute(text(f"CREATE TABLE {dst} (id INTEGER PRIMARY KEY)"))
        conn.execute(text(f"INSERT INTO {src}(id) SELECT generate_series(1, {ROWS})"))
        conn.execute(text(f"GRANT ALL ON {src}, {dst} TO {role}"))
    host = url.split("://", 1)[1].split("@", 1)[1]
    engine.add_datasource("pg", f"postgresql+psycopg://{role}@{host}")

    outage_started = threading.Event()
    violations: list[int] = []
    sampling = threading.Event()

    def outage(exchange: Exchange) -> None:
        """At the 60th row: refuse logins and kill every connection of the engine's role."""
        if exchange.message.body["id"] == 60 and not outage_started.is_set():
            with admin.connect() as conn:
                conn.execute(text(f"ALTER ROLE {role} NOLOGIN"))
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE usename = :role"), {"role": role})
            outage_started.set()

    def sample_invariant() -> None:
        with admin.connect() as conn:
            while not sampling.is_set():
                marked_unprocessed = conn.execute(text(
                    f"SELECT count(*) FROM {src} s WHERE s.status <> 'new' "
                    f"AND NOT EXISTS (SELECT 1 FROM {dst} d WHERE d.id = s.id)")).scalar()
                if marked_unprocessed:
                    violations.append(marked_unprocessed)
                time.sleep(0.01)

    def build(r: Any) -> None:
        r.error_handler(default_error_handler(maximum_redeliveries=1000, redelivery_delay=0.01))
        (r.from_(f"sql:SELECT id FROM {src} WHERE status = 'new' ORDER BY id LIMIT 25?datasource=pg"
                 f"&initial_delay=0&delay=0.02&on_consume=UPDATE {src} SET status = 'done' WHERE id = :#id"
                 f"&on_consume_failed=UPDATE {src} SET status = 'failed' WHERE id = :#id")
         .route_id("relay")
         .process(outage)
         .to(f"sql:INSERT INTO {dst}(id) VALUES (:#id) ON CONFLICT (id) DO NOTHING?datasource=pg"))

    engine.add_routes(build)
    sampler = threading.Thread(target=sample_invariant, daemon=True)
    sampler.start()
    try:
        engine.start()
        assert outage_started.wait(15), "the route never reached row 60"
        eventually(lambda: engine.route_stats("relay")["redeliveries"] >= 5, 10,
                   "the producer failing into the error handler (5 redeliveries)")
        consumer = engine.route("relay").consumer
        with admin.connect() as conn:
            conn.execute(text(f"ALTER ROLE {role} LOGIN"))  # the database is back
        with admin.connect() as conn:
            eventually(lambda: conn.execute(text(f"SELECT count(*) FROM {src} WHERE status <> 'done'")).scalar() == 0,
                       20, "every row done after the outage")
            statuses = dict(conn.execute(text(f"SELECT status, count(*) FROM {src} GROUP BY status")).all())
            delivered = set(conn.execute(text(f"SELECT id FROM {dst}")).scalars())
        assert statuses == {"done": ROWS}
        assert delivered == set(range(1, ROWS + 1))
        assert engine.route_stats("relay")["exchanges_failed"] == 0  # redelivery always got through
        assert consumer is not None and consumer.polls > 0
        sampling.set()
        sampler.join(5)
        assert violations == [], "rows were marked done before their row reached dst"
    finally:
        sampling.set()
        engine.stop()
        with admin.connect() as conn:
            conn.execute(text(f"ALTER ROLE {role} LOGIN"))
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :role"),
                         {"role": role})
            conn.execute(text(f"DROP TABLE IF EXISTS {src}, {dst}"))
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
        admin.dispose()


def test_a_poll_against_a_database_that_is_down_is_logged_and_retried(engine: Engine, postgresql_service: Any) -> None:
    url = postgresql_service.url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine.add_datasource("down", url.replace(f":{postgresql_service.port}/", ":1/"))
    engine.add_routes(lambda r: r.from_("sql:SELECT 1 AS one?datasource=down&initial_delay=0&delay=0.01")
                      .route_id("poller").to("mock:out"))
    engine.start()
    consumer = engine.route("poller").consumer
    eventually(lambda: consumer.consecutive_errors >= 3, what="three failed polls")  # it keeps polling
    assert isinstance(consumer.last_error, SqlConnectionError)
    assert "datasource 'down'" in str(consumer.last_error)

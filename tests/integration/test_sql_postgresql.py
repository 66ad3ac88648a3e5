"""sql: against the real PostgreSQL server: binding, batch, streaming, SKIP LOCKED polling (also
with two engine processes polling one table)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from eip import Engine, Exchange
from eip import constants as c
from eip.errors import SqlError
from eip.testing import eventually


def psycopg_url(service: Any) -> str:
    return service.url.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture
def pg(engine: Engine, postgresql_service: Any) -> Iterator[tuple[Any, str]]:
    """The datasource ``pg`` and a fresh table name ``orders_<random>`` (dropped afterwards)."""
    table = f"orders_{uuid.uuid4().hex[:10]}"
    source = engine.add_datasource("pg", psycopg_url(postgresql_service))
    with source.begin() as conn:
        conn.execute(text(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, total NUMERIC(10, 2), note TEXT, "
                          "status TEXT NOT NULL DEFAULT 'new')"))
    try:
        yield source, table
    finally:
        engine.stop()
        with source.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
        source.dispose()


def rows(source: Any, sql: str) -> list[dict[str, Any]]:
    with source.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text(sql))]


def insert(source: Any, table: str, ids: range | list[int]) -> None:
    with source.begin() as conn:
        conn.execute(text(f"INSERT INTO {table}(id, total) VALUES (:id, :total)"),
                     [{"id": i, "total": i} for i in ids])


# -- producer ----------------------------------------------------------------------------------------
def test_producer_binds_batches_and_returns_rows(engine: Engine, pg: tuple[Any, str]) -> None:
    source, table = pg
    engine.start()
    evil = "'; DROP TABLE x; --"
    insert_uri = f"sql:INSERT INTO {table}(id, total, note) VALUES (:#id, :#total, :#note)?datasource=pg"
    engine.template.send_body(insert_uri, {"id": 1, "total": "12.50"}, headers={"note": evil})
    batch = engine.template.send(insert_uri + "&batch=true",
                                 Exchange([{"id": i, "total": i, "note": f"n{i}"} for i in range(2, 202)]))
    assert batch.exception is None and batch.message.headers[c.SQL_UPDATE_COUNT] == 200
    got = engine.template.request_body(
        f"sql:SELECT id, note, total::text AS total FROM {table} WHERE id IN (:#in:ids) ORDER BY id?datasource=pg",
        None, {"ids": [1, 2]})
    assert got == [{"id": 1, "note": evil, "total": "12.50"}, {"id": 2, "note": "n2", "total": "2.00"}]
    returned = engine.template.request(
        f"sql:UPDATE {table} SET status = 'x' WHERE id <= :#id RETURNING id?datasource=pg", {"id": 3})
    assert sorted(r["id"] for r in returned.message.body) == [1, 2, 3]
    assert returned.message.headers[c.SQL_ROW_COUNT] == 3
    updated = engine.template.request(f"sql:UPDATE {table} SET status = 'y' WHERE id > :#id?datasource=pg", {"id": 100})
    assert updated.message.headers[c.SQL_UPDATE_COUNT] == 101
    with pytest.raises(SqlError, match="UniqueViolation") as info:
        engine.template.send_body(insert_uri + "&batch=true", [{"id": 500, "total": 1, "note": "a"},
                                                               {"id": 1, "total": 1, "note": "hidden-xyz"}])
    assert "hidden-xyz" not in str(info.value)
    assert rows(source, f"SELECT count(*) AS n FROM {table} WHERE id = 500") == [{"n": 0}]


def test_stream_uses_a_server_side_cursor_only_while_iterated(engine: Engine, pg: tuple[Any, str]) -> None:
    source, table = pg
    insert(source, table, range(1, 2001))
    engine.add_routes(lambda r: (
        r.from_("direct:in").to(f"sql:SELECT id FROM {table} ORDER BY id?datasource=pg&output_type=stream")
        .split(lambda ex: ex.message.body, streaming=True).to("mock:row").end()))
    engine.start()
    engine.template.send_body("direct:in", None)
    received = engine.get_endpoint("mock:row").received_bodies
    assert len(received) == 2000 and received[-1] == {"id": 2000}
    assert source.engine.pool.checkedout() == 0


# -- consumer ----------------------------------------------------------------------------------------
def poll_uri(table: str, extra: str = "", delay: str = "0.02") -> str:
    return (f"sql:SELECT id, total FROM {table} WHERE status = 'new' ORDER BY id LIMIT 10?datasource=pg"
            f"&initial_delay=0&delay={delay}&on_consume=UPDATE {table} SET status = 'done' WHERE id = :#id"
            f"&on_consume_failed=UPDATE {table} SET status = 'failed' WHERE id = :#id{extra}")


def test_the_poll_locks_its_rows_until_they_are_marked(engine: Engine, pg: tuple[Any, str]) -> None:
    source, table = pg
    insert(source, table, range(1, 4))
    other = create_engine(source.url)
    visible_to_another_poller: list[list[int]] = []

    def look_from_another_connection(exchange: Exchange) -> None:
        with other.begin() as conn:
            found = conn.execute(text(f"SELECT id FROM {table} WHERE status = 'new' ORDER BY id "
                                      "FOR UPDATE SKIP LOCKED")).scalars().all()
        visible_to_another_poller.append(list(found))

    engine.add_routes(lambda r: r.from_(poll_uri(table)).process(look_from_another_connection).to("mock:out"))
    out = engine.get_endpoint("mock:out")
    out.expected_message_count(3)
    try:
        engine.start()
        out.assert_is_satisfied(10)
        consumer = engine.route(engine.route_ids()[0]).consumer
        assert consumer.locking and consumer.select.source.endswith("LIMIT 10\nFOR UPDATE SKIP LOCKED")
        assert visible_to_another_poller == [[], [], []]  # the whole batch is locked while it runs
        eventually(lambda: [r["status"] for r in rows(source, f"SELECT status FROM {table} ORDER BY id")]
                 == ["done"] * 3, timeout=10)
    finally:
        other.dispose()


def test_a_failing_mark_does_not_undo_the_others(engine: Engine, pg: tuple[Any, str]) -> None:
    source, table = pg
    insert(source, table, range(1, 5))
    with source.begin() as conn:
        conn.execute(text(f"ALTER TABLE {table} ADD CONSTRAINT not_three CHECK (status <> 'done' OR id <> 3)"))
    engine.add_routes(lambda r: r.from_(poll_uri(table, delay="5")).to("mock:out"))
    out = engine.get_endpoint("mock:out")
    out.expected_message_count(4)
    engine.start()
    out.assert_is_satisfied(10)
    eventually(lambda: [r["status"] for r in rows(source, f"SELECT status FROM {table} ORDER BY id")]
             == ["done", "done", "new", "done"], timeout=10)


def test_failures_are_marked_failed_and_async_confirmations_are_awaited(engine: Engine, pg: tuple[Any, str]) -> None:
    source, table = pg
    insert(source, table, range(1, 4))

    def confirm_later(exchange: Exchange) -> None:
        if exchange.message.body["id"] == 2:
            raise ValueError("bad row")
        release = exchange.unit_of_work.hold()
        threading.Timer(0.2, release, args=(None,)).start()

    engine.add_routes(lambda r: r.from_(poll_uri(table, delay="5")).process(confirm_later).to("mock:out"))
    engine.start()
    eventually(lambda: [r["status"] for r in rows(source, f"SELECT status FROM {table} ORDER BY id")]
             == ["done", "failed", "done"], timeout=10)
    assert len(engine.get_endpoint("mock:out").received_exchanges) == 2


def test_a_written_locking_clause_or_skip_locked_false_is_respected(engine: Engine, pg: tuple[Any, str]) -> None:
    _, table = pg
    engine.add_routes(
        lambda r: r.from_(f"sql:SELECT id FROM {table} FOR SHARE?datasource=pg&initial_delay=9").to("mock:a"),
        lambda r: r.from_(f"sql:SELECT id, total FROM {table}?datasource=pg&initial_delay=9&skip_locked=false")
        .to("mock:b"))
    engine.start()
    consumers = [engine.route(route_id).consumer for route_id in engine.route_ids()]
    assert consumers[0].locking is False and "SKIP LOCKED" not in consumers[0].select.source
    assert consumers[1].locking is False and "FOR UPDATE" not in consumers[1].select.source


# -- two engine processes, one table -----------------------------------------------------------------
WORKER = textwrap.dedent("""
    import os, sys, time
    from sqlalchemy import text
    from eip import Engine

    url, table, go_file = sys.argv[1], sys.argv[2], sys.argv[3]
    engine = Engine()
    engine.add_datasource("pg", url)
    engine.add_routes(lambda r: (
        r.from_(f"sql:SELECT id FROM {table} WHERE status = 'new' ORDER BY id LIMIT 5?datasource=pg"
                f"&initial_delay=0&delay=0.01&max_messages_per_poll=5"
                f"&on_consume=UPDATE {table} SET status = 'done' WHERE id = :#id")
        .process(lambda ex: time.sleep(0.002))
        .set_body(lambda ex: {"id": ex.message.body["id"], "pid": os.getpid()})
        .to(f"sql:INSERT INTO {table}_seen(id, pid) VALUES (:#id, :#pid)?datasource=pg")))
    print("ready", flush=True)
    deadline = time.monotonic() + 20
    while not os.path.exists(go_file) and time.monotonic() < deadline:
        time.sleep(0.005)
    engine.start()
    with engine.datasource("pg").connect() as conn:
        while time.monotonic() < deadline:
            left = conn.execute(text(f"SELECT count(*) FROM {table} WHERE status = 'new'")).scalar()
            conn.rollback()
            if left == 0:
                break
            time.sleep(0.05)
    engine.stop()
""")


def test_two_engine_processes_polling_one_table_never_process_a_row_twice(
        postgresql_service: Any, tmp_path: Path) -> None:
    url = psycopg_url(postgresql_service)
    table = f"outbox_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    total = 400
    with admin.begin() as conn:
        conn.execute(text(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, status TEXT NOT NULL DEFAULT 'new')"))
        conn.execute(text(f"CREATE TABLE {table}_seen (id INTEGER NOT NULL, pid INTEGER NOT NULL)"))
        conn.execute(text(f"INSERT INTO {table}(id) SELECT generate_series(1, {total})"))
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    go = tmp_path / "go"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    workers = [subprocess.Popen([sys.executable, str(script), url, table, str(go)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    try:
        for worker in workers:
            assert worker.stdout.readline().strip() == "ready", worker.stderr.read()
        go.touch()  # both start polling at the same moment
        for worker in workers:
            worker.wait(timeout=40)
            assert worker.returncode == 0, worker.stderr.read()
        with admin.connect() as conn:
            seen = conn.execute(text(f"SELECT id, pid FROM {table}_seen")).all()
            left = conn.execute(text(f"SELECT count(*) FROM {table} WHERE status <> 'done'")).scalar()
        ids = [row.id for row in seen]
        assert left == 0
        assert len(ids) == total and len(set(ids)) == total, "a row was processed twice"
        per_process = {pid: sum(1 for row in seen if row.pid == pid) for pid in {row.pid for row in seen}}
        assert len(per_process) == 2, f"only one process got rows: {per_process}"
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        with admin.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {table}, {table}_seen"))
        admin.dispose()


def test_connection_errors_name_the_datasource(engine: Engine, postgresql_service: Any) -> None:
    engine.add_datasource("down", psycopg_url(postgresql_service).replace(f":{postgresql_service.port}/", ":1/"))
    engine.start()
    with pytest.raises(SqlError) as info:
        engine.template.send_body("sql:SELECT 1?datasource=down", None)
    assert "datasource 'down'" in str(info.value) and isinstance(info.value.__cause__, OperationalError)
    from eip.errors import EndpointNotConnectedError
    assert isinstance(info.value, EndpointNotConnectedError)

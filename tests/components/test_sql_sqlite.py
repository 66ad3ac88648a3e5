"""sql: producer, consumer and datasources against a real SQLite file (the embedded default)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from components.sql import RowStream, SqlComponent, Statement
from eip import (
    ConfigurationError,
    EndpointOptionError,
    Engine,
    Exchange,
    dead_letter_channel,
)
from eip import constants as c
from eip.datasources import DataSourceRegistry, mask_url
from eip.errors import EndpointNotConnectedError, SqlConnectionError, SqlError
from eip.testing import eventually
from eip.uri import parse_uri

INSERT = "sql:INSERT INTO orders(id, total, note) VALUES (:#id, :#total, :#note)?datasource=db"
POLL = ("sql:SELECT id, total FROM orders WHERE status = 'new' ORDER BY id?datasource=db"
        "&initial_delay=0&delay=0.02&on_consume=UPDATE orders SET status = 'done' WHERE id = :#id"
        "&on_consume_failed=UPDATE orders SET status = 'failed' WHERE id = :#id")


@pytest.fixture
def db(engine: Engine, tmp_path: Path) -> Any:
    """The datasource ``db``: a SQLite file with an ``orders`` table."""
    source = engine.add_datasource("db", f"sqlite:///{tmp_path / 'orders.db'}")
    with source.begin() as conn:
        conn.execute(text("CREATE TABLE orders (id INTEGER PRIMARY KEY, total NUMERIC, note TEXT, "
                          "status TEXT NOT NULL DEFAULT 'new')"))
    return source


def rows(source: Any, sql: str = "SELECT id, total, note, status FROM orders ORDER BY id") -> list[dict[str, Any]]:
    with source.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text(sql))]


def insert(source: Any, *ids: int) -> None:
    with source.begin() as conn:
        conn.execute(text("INSERT INTO orders(id, total) VALUES (:id, :total)"),
                     [{"id": i, "total": i * 10} for i in ids])


# -- URIs and statements -----------------------------------------------------------------------------
def test_a_statement_in_a_uri_keeps_spaces_equals_hashes_and_question_marks() -> None:
    uri = parse_uri("sql:SELECT * FROM t WHERE a = 'x?y' AND id = :#id?datasource=orders"
                    "&on_consume=UPDATE t SET done = 1, note = 'a%26b' WHERE id = :#id AND k = :#k&delay=1s")
    assert uri.path == "SELECT * FROM t WHERE a = 'x?y' AND id = :#id"
    assert uri.query["on_consume"] == "UPDATE t SET done = 1, note = 'a&b' WHERE id = :#id AND k = :#k"
    assert uri.query["delay"] == "1s"


def test_statement_binds_only_its_own_parameters() -> None:
    statement = Statement("SELECT '12:30' AS t, :other AS o FROM x -- :c\nWHERE a = :#a AND b = :#a::text "
                          "AND c IN (:#in:ids) AND d = :#${header.d}")
    compiled = statement.clause.compile()
    assert set(compiled.binds) == {"a", "in_ids", "expr_2"}  # not ":other", ":c" nor ":30"
    sql = str(compiled)
    assert "'12:30'" in sql and ":other AS o" in sql and ":a ::text" in sql and "IN (__[POSTCOMPILE_in_ids])" in sql
    assert [p.name for p in statement.params] == ["a", "ids", "${header.d}"]
    with pytest.raises(ConfigurationError, match="must be followed by a name"):
        Statement("SELECT :# FROM t")


def test_unknown_and_conflicting_options_are_rejected(engine: Engine) -> None:
    with pytest.raises(EndpointOptionError, match="did you mean 'datasource'"):
        engine.get_endpoint("sql:SELECT 1?datasourse=x")
    with pytest.raises(EndpointOptionError, match="batch=true cannot be combined"):
        engine.get_endpoint("sql:SELECT 1?batch=true&output_type=stream")
    with pytest.raises(EndpointOptionError, match="must be one of"):
        engine.get_endpoint("sql:SELECT 1?output_type=rows")
    with pytest.raises(EndpointOptionError, match="statement is empty"):
        engine.get_endpoint("sql: ?datasource=x")
    assert "on_consume" in SqlComponent.documentation()


# -- producer ----------------------------------------------------------------------------------------
def test_insert_binds_from_a_mapping_body_and_sets_the_update_count(engine: Engine, db: Any) -> None:
    engine.add_routes(lambda r: r.from_("direct:in").to(INSERT).to("mock:out"))
    engine.start()
    engine.template.send_body("direct:in", {"id": 1, "total": 9.5, "note": "first"})
    out = engine.get_endpoint("mock:out")
    assert out.received_exchanges[0].message.headers[c.SQL_UPDATE_COUNT] == 1
    assert out.received_bodies == [{"id": 1, "total": 9.5, "note": "first"}]  # body kept
    assert rows(db) == [{"id": 1, "total": 9.5, "note": "first", "status": "new"}]


def test_body_comes_first_then_headers(engine: Engine, db: Any) -> None:
    engine.start()
    engine.template.send_body(INSERT, {"id": 1, "total": 5}, headers={"id": 99, "note": "from header"})
    engine.template.send_body(INSERT, "not a mapping", headers={"id": 2, "total": 7, "note": None})
    assert rows(db) == [{"id": 1, "total": 5, "note": "from header", "status": "new"},
                        {"id": 2, "total": 7, "note": None, "status": "new"}]


def test_a_missing_parameter_is_an_error_naming_it_and_nothing_is_written(engine: Engine, db: Any) -> None:
    engine.start()
    with pytest.raises(SqlError) as info:
        engine.template.send_body(INSERT, {"id": 1, "note": "secret-value"})
    message = str(info.value)
    assert "':#total'" in message and "datasource 'db'" in message and "INSERT INTO orders" in message
    assert "secret-value" not in message
    assert info.value.datasource == "db" and info.value.statement.startswith("INSERT INTO orders")
    assert rows(db) == []


def test_values_are_bound_never_interpolated(engine: Engine, db: Any) -> None:
    engine.start()
    evil = "'; DROP TABLE orders; --"
    engine.template.send_body(INSERT, None, headers={"id": 1, "total": 1, "note": evil})
    engine.template.send_body("sql:UPDATE orders SET note = :#note WHERE id = 1?datasource=db",
                              {"note": evil + " again"})
    assert rows(db)[0]["note"] == evil + " again"
    found = engine.template.request_body("sql:SELECT note FROM orders WHERE note = :#note?datasource=db"
                                         "&output_type=select_one", {"note": evil + " again"})
    assert found == evil + " again"


def test_batch_inserts_a_list_in_one_transaction(engine: Engine, db: Any) -> None:
    engine.start()
    batch = [{"id": i, "total": i, "note": f"n{i}"} for i in range(1, 6)]
    exchange = engine.template.send(INSERT + "&batch=true", Exchange(batch, {"note": "unused"}))
    assert exchange.exception is None
    assert exchange.message.headers[c.SQL_UPDATE_COUNT] == 5
    assert [r["note"] for r in rows(db)] == ["n1", "n2", "n3", "n4", "n5"]
    # A duplicate key in the middle of a batch: nothing of that batch is stored.
    with pytest.raises(SqlError, match="IntegrityError"):
        engine.template.send_body(INSERT + "&batch=true", [{"id": 10, "total": 1, "note": "a"},
                                                           {"id": 3, "total": 1, "note": "dup"}])
    assert len(rows(db)) == 5
    # An item without a value: the error says which item; headers fill gaps.
    with pytest.raises(SqlError, match="item 1 of the batch"):
        engine.template.send_body(INSERT + "&batch=true", [{"id": 20, "total": 1}, {"id": 21}],
                                  headers={"note": "h"})
    with pytest.raises(SqlError, match="needs a list of mappings"):
        engine.template.send_body(INSERT + "&batch=true", {"id": 1})
    engine.template.send_body(INSERT + "&batch=true", [])
    assert len(rows(db)) == 5


def test_select_list_select_one_and_output_header(engine: Engine, db: Any) -> None:
    insert(db, 1, 2, 3)
    engine.start()
    send = engine.template.request
    listed = send("sql:SELECT id, total FROM orders WHERE id >= :#low ORDER BY id?datasource=db", {"low": 2})
    assert listed.message.body == [{"id": 2, "total": 20}, {"id": 3, "total": 30}]
    assert listed.message.headers[c.SQL_ROW_COUNT] == 2
    one = "sql:SELECT id, total FROM orders WHERE id = :#id?datasource=db&output_type=select_one"
    assert send(one, {"id": 3}).message.body == {"id": 3, "total": 30}
    none = send(one, {"id": 42})
    assert none.message.body is None and none.message.headers[c.SQL_ROW_COUNT] == 0
    count = send("sql:SELECT count(*) FROM orders?datasource=db&output_type=select_one", None)
    assert count.message.body == 3
    too_many = send("sql:SELECT id FROM orders?datasource=db&output_type=select_one", None)
    assert isinstance(too_many.exception, SqlError) and "returned 3 rows" in str(too_many.exception)
    kept = send("sql:SELECT id FROM orders ORDER BY id?datasource=db&output_header=ids", "the body")
    assert kept.message.body == "the body"
    assert kept.message.headers["ids"] == [{"id": 1}, {"id": 2}, {"id": 3}]


def test_in_lists_expressions_and_literals_with_colons_and_percents(engine: Engine, db: Any) -> None:
    insert(db, 1, 2, 3, 4)
    engine.start()
    got = engine.template.request_body(
        "sql:SELECT id, '12:30' AS t FROM orders WHERE id IN (:#in:ids) AND total > :#${header.min} "
        "AND 'x%' LIKE 'x%' ORDER BY id?datasource=db", None, {"ids": (1, 2, 4), "min": 15})
    assert got == [{"id": 2, "t": "12:30"}, {"id": 4, "t": "12:30"}]


def test_stream_is_lazy_and_holds_a_connection_only_while_iterated(engine: Engine, db: Any) -> None:
    insert(db, *range(1, 8))
    engine.add_routes(lambda r: (
        r.from_("direct:in").to("sql:SELECT id FROM orders ORDER BY id?datasource=db&output_type=stream")
        .split(lambda ex: ex.message.body, streaming=True).to("mock:row").end()))
    engine.start()
    pool = db.engine.pool
    stream = engine.template.request_body("sql:SELECT id FROM orders WHERE id > :#id ORDER BY id?datasource=db"
                                          "&output_type=stream", {"id": 5})
    assert isinstance(stream, RowStream)
    assert pool.checkedout() == 0  # nothing runs before the first next()
    assert next(stream) == {"id": 6}
    assert pool.checkedout() == 1
    assert list(stream) == [{"id": 7}]
    assert pool.checkedout() == 0
    closed_early = engine.template.request_body("sql:SELECT id FROM orders?datasource=db&output_type=stream", None)
    next(closed_early)
    closed_early.close()
    assert pool.checkedout() == 0 and list(closed_early) == []
    engine.template.send_body("direct:in", None)
    row = engine.get_endpoint("mock:row")
    assert [b["id"] for b in row.received_bodies] == list(range(1, 8))
    assert row.received_exchanges[-1].properties[c.SPLIT_COMPLETE] is True
    assert pool.checkedout() == 0


def test_errors_name_datasource_and_statement_but_never_values(engine: Engine, db: Any) -> None:
    engine.start()
    with pytest.raises(SqlError) as info:
        engine.template.send_body("sql:INSERT INTO nowhere(a) VALUES (:#a)?datasource=db", {"a": "hidden-123"})
    assert not isinstance(info.value, EndpointNotConnectedError)
    message = str(info.value)
    assert "datasource 'db'" in message and "no such table: nowhere" in message
    assert "INSERT INTO nowhere(a) VALUES (:#a)" in message and "hidden-123" not in message
    assert "hidden-123" not in str(info.value.__cause__)  # hide_parameters on the SQLAlchemy error too


def test_an_unreachable_database_is_a_connection_error_that_redelivery_retries(engine: Engine, tmp_path: Path) -> None:
    missing = tmp_path / "not-yet"
    engine.add_datasource("later", f"sqlite:///{missing / 'late.db'}")

    def build(r: Any) -> None:
        r.error_handler(dead_letter_channel("mock:dead", maximum_redeliveries=3, redelivery_delay=0))
        r.from_("direct:in").to("sql:SELECT 1 AS one?datasource=later&output_type=select_one").to("mock:out")

    engine.add_routes(build)
    engine.start()
    engine.template.send_body("direct:in", None)
    dead = engine.get_endpoint("mock:dead")
    assert len(dead.received_exchanges) == 1
    cause = dead.received_exchanges[0].properties[c.EXCEPTION_CAUGHT]
    assert isinstance(cause, SqlConnectionError) and isinstance(cause, EndpointNotConnectedError)
    assert "datasource 'later'" in str(cause) and "unable to open database" in str(cause)
    assert engine.route_stats(engine.route_ids()[0])["redeliveries"] == 3
    missing.mkdir()
    engine.template.send_body("direct:in", None)
    assert engine.get_endpoint("mock:out").received_bodies == [1]


# -- datasources -------------------------------------------------------------------------------------
def test_unknown_datasource_fails_the_start_with_a_clear_error(engine: Engine) -> None:
    engine.add_routes(lambda r: r.from_("direct:in").to("sql:SELECT 1?datasource=nope"))
    with pytest.raises(ConfigurationError, match="no datasource 'nope'.*datasource.nope.url"):
        engine.start()


def test_default_datasource_is_eip_db_in_the_working_folder_or_a_property(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with Engine() as engine:
        assert engine.template.request_body("sql:SELECT 40 + 2 AS n?output_type=select_one", None) == 42
    assert (tmp_path / "eip.db").exists()
    other = tmp_path / "other.db"
    with Engine(properties={"datasource.default.url": f"sqlite:///{other}", "datasource.default.pool_size": "3",
                            "datasource.reports.url": "sqlite://"}) as engine:
        engine.template.send_body("sql:CREATE TABLE t (a INT)", None)
        assert engine.datasource().url.database == str(other)
        assert engine.datasource().engine.pool.size() == 3
        assert engine.template.request_body("sql:SELECT 7?datasource=reports&output_type=select_one", None) == 7
    assert other.exists()


def test_passwords_are_masked_everywhere(caplog: pytest.LogCaptureFixture) -> None:
    registry = DataSourceRegistry()
    source = registry.add("pg", "postgresql+psycopg://app:s3cr%40t@db.example:5432/orders?sslpassword=x1y2",
                          connect_args={"password": "hunter2"})
    shown = repr(source) + repr(registry) + source.masked_url + mask_url(source.url)
    for secret in ("s3cr", "hunter2", "x1y2"):
        assert secret not in shown
    assert "app:xxxxxx@db.example" in source.masked_url
    with caplog.at_level(logging.INFO, logger="eip.datasources"):
        source.engine  # noqa: B018 - creating the engine logs its URL
    assert "db.example" in caplog.text and "s3cr" not in caplog.text


def test_the_engine_stop_disposes_every_pool(engine: Engine, db: Any) -> None:
    engine.start()
    engine.template.request_body("sql:SELECT 1?datasource=db", None)
    assert db.engine.pool.checkedin() == 1
    engine.stop()
    assert db.engine.pool.checkedin() == 0
    with db.connect() as conn:  # a datasource used after dispose reconnects
        assert conn.execute(text("SELECT 5")).scalar() == 5


# -- consumer ----------------------------------------------------------------------------------------
def test_each_row_is_an_exchange_marked_only_after_it_completed(engine: Engine, db: Any) -> None:
    insert(db, 1, 2, 3)
    seen_status: list[str] = []

    def look_at_own_row(exchange: Exchange) -> None:
        row = rows(db, f"SELECT status FROM orders WHERE id = {exchange.message.body['id']}")
        seen_status.append(row[0]["status"])

    engine.add_routes(lambda r: r.from_(POLL).process(look_at_own_row).to("mock:out"))
    out = engine.get_endpoint("mock:out")
    out.expected_message_count(3)
    engine.start()
    out.assert_is_satisfied(5)
    assert out.received_bodies == [{"id": 1, "total": 10}, {"id": 2, "total": 20}, {"id": 3, "total": 30}]
    assert seen_status == ["new", "new", "new"]
    first = out.received_exchanges[0]
    assert first.properties[c.BATCH_INDEX] == 0 and first.properties[c.BATCH_SIZE] == 3
    assert out.received_exchanges[2].properties[c.BATCH_COMPLETE] is True
    assert first.message.headers[c.SQL_ROW_COUNT] == 3
    eventually(lambda: [r["status"] for r in rows(db)] == ["done"] * 3)


def test_a_failing_row_is_marked_failed_and_the_rows_after_it_go_on(engine: Engine, db: Any) -> None:
    insert(db, 1, 2, 3)
    engine.add_routes(lambda r: r.from_(POLL).to("mock:out"))
    out = engine.get_endpoint("mock:out")
    out.expected_message_count(3)

    def fail_row_two(exchange: Exchange) -> None:
        if exchange.message.body["id"] == 2:
            raise ValueError("row two is bad")

    out.when_any_exchange_received(fail_row_two)
    engine.start()
    out.assert_is_satisfied(5)
    eventually(lambda: [r["status"] for r in rows(db)] == ["done", "failed", "done"])


def test_a_row_without_on_consume_failed_stays_and_is_polled_again(engine: Engine, db: Any) -> None:
    insert(db, 1)
    attempts: list[int] = []

    def fail_twice(exchange: Exchange) -> None:
        attempts.append(exchange.message.body["id"])
        if len(attempts) <= 2:
            raise ValueError("not yet")

    poll = POLL.split("&on_consume_failed")[0]
    engine.add_routes(lambda r: r.from_(poll).process(fail_twice).to("mock:out"))
    out = engine.get_endpoint("mock:out")
    out.expected_message_count(1)
    engine.start()
    out.assert_is_satisfied(5)
    assert attempts == [1, 1, 1]
    eventually(lambda: rows(db)[0]["status"] == "done")


def test_handled_failures_count_as_done(engine: Engine, db: Any) -> None:
    insert(db, 1)

    def build(r: Any) -> None:
        r.error_handler(dead_letter_channel("mock:dead", redelivery_delay=0))
        r.from_(POLL).process(lambda ex: 1 / 0)

    engine.add_routes(build)
    engine.start()
    engine.get_endpoint("mock:dead").expected_message_count(1)
    engine.get_endpoint("mock:dead").assert_is_satisfied(5)
    eventually(lambda: rows(db)[0]["status"] == "done")


def test_max_messages_per_poll_and_on_consume_batch_complete(engine: Engine, db: Any) -> None:
    insert(db, *range(1, 6))
    with db.begin() as conn:
        conn.execute(text("CREATE TABLE polls (n INTEGER)"))
    engine.add_routes(lambda r: r.from_(POLL + "&max_messages_per_poll=2"
                                         "&on_consume_batch_complete=INSERT INTO polls VALUES (1)").to("mock:out"))
    out = engine.get_endpoint("mock:out")
    out.expected_message_count(5)
    engine.start()
    out.assert_is_satisfied(5)
    assert [ex.properties[c.BATCH_SIZE] for ex in out.received_exchanges] == [2, 2, 2, 2, 1]
    eventually(lambda: rows(db, "SELECT count(*) AS n FROM polls")[0]["n"] == 3)


def test_marks_wait_for_asynchronous_confirmations(engine: Engine, db: Any) -> None:
    """A hold on the unit of work (a broker confirm arriving later) delays the mark until its release."""
    insert(db, 1)
    releases: list[Any] = []

    def hold(exchange: Exchange) -> None:
        assert exchange.unit_of_work is not None
        releases.append(exchange.unit_of_work.hold())

    engine.add_routes(lambda r: r.from_(POLL.replace("&delay=0.02", "&delay=5")).process(hold).to("mock:out"))
    out = engine.get_endpoint("mock:out")
    out.expected_message_count(1)
    engine.start()
    out.assert_is_satisfied(5)
    assert rows(db)[0]["status"] == "new"
    confirmer = threading.Thread(target=releases[0], args=(None,))
    confirmer.start()
    confirmer.join()
    eventually(lambda: rows(db)[0]["status"] == "done")


def test_on_consume_binds_from_the_row_then_headers_and_checks_the_update_count(
        engine: Engine, db: Any, caplog: pytest.LogCaptureFixture) -> None:
    insert(db, 1, 2)
    poll = ("sql:SELECT id FROM orders WHERE status = 'new' ORDER BY id?datasource=db&initial_delay=0"
            "&delay=5&expected_update_count=1"
            "&on_consume=UPDATE orders SET status = 'done', note = :#who WHERE id = :#id OR :#id = 2")
    engine.add_routes(lambda r: r.from_(poll).set_header("who", "route").to("mock:out"))
    out = engine.get_endpoint("mock:out")
    out.expected_message_count(2)
    with caplog.at_level(logging.ERROR):
        engine.start()
        out.assert_is_satisfied(5)
        eventually(lambda: "expected update count 1 but was 2" in caplog.text)
    assert rows(db)[0] == {"id": 1, "total": 10, "note": "route", "status": "done"}


def test_a_consumer_select_cannot_bind_message_parameters(engine: Engine, db: Any) -> None:
    engine.add_routes(lambda r: r.from_("sql:SELECT * FROM orders WHERE id = :#id?datasource=db").to("mock:out"))
    with pytest.raises(EndpointOptionError, match="cannot bind :#id"):
        engine.start()


def test_sqlite_polls_without_locking(engine: Engine, db: Any) -> None:
    engine.add_routes(lambda r: r.from_(POLL).to("mock:out"))
    engine.start()
    consumer = engine.route(engine.route_ids()[0]).consumer
    assert consumer is not None and consumer.locking is False
    assert "FOR UPDATE" not in consumer.select.source

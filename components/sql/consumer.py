"""The ``sql:`` consumer: poll a SELECT, one exchange per row, mark each row after its exchange.

It polls on a schedule (``delay``, ``initial_delay``, ``max_messages_per_poll`` and the other
polling options) and sends one exchange per row, the row as a dict body (properties
``CamelBatchIndex``, ``CamelBatchSize``, ``CamelBatchComplete``; header ``CamelSqlRowCount``).
A row is marked with ``on_consume`` only after its exchange completed (its unit of work's
completion, which waits for asynchronous confirmations downstream), or with
``on_consume_failed`` when it failed; a failing row does not stop the rows after it.
``on_consume_batch_complete`` runs once after a poll that processed rows. With
``expected_update_count`` >= 0, a mark that changed another number of rows counts as failed.
A row left unmarked is selected again by a later poll: delivery is at least once, and
``on_consume`` should make the SELECT stop matching the row.

Transactions, by database:

* PostgreSQL, MySQL/MariaDB, Oracle (``skip_locked=true``, the default): the poll appends
  ``FOR UPDATE SKIP LOCKED`` to the SELECT (unless it already has a locking clause) and keeps
  **one transaction per poll**: the SELECT locks the rows, they are processed, each mark runs
  in its own savepoint on that same connection (one failing mark does not undo the others), and
  the transaction commits after the last row. Another engine process polling the same table
  skips the locked rows, so no row is processed by two processes at once. Put a ``LIMIT`` in
  the SELECT (about ``max_messages_per_poll``): every row the SELECT returns stays locked until
  the poll commits. Do not update the polled rows from the route on *another* connection (a
  ``to("sql:UPDATE <same rows>")``): it would wait for this poll's lock forever; use
  ``on_consume``. A crash or a lost connection rolls the whole poll back: its rows are unmarked
  and are processed again by the next poll (at least once, never lost).
* SQLite, or ``skip_locked=false``: the SELECT runs in a short transaction of its own and each
  mark in another, right after its exchange completed. Nothing is locked while rows are
  processed, so run one poller per table.

No connection is held between polls. A poll that fails (database down) is logged once and
retried at the next ``delay``.
"""

from __future__ import annotations

import logging
import queue
import re
import time
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError

from components.sql.errors import translate_error
from eip import constants as c
from eip.errors import EndpointOptionError, SqlConnectionError, SqlError
from eip.exchange import Exchange
from eip.polling import ScheduledPollingConsumer

if TYPE_CHECKING:
    from components.sql.endpoint import SqlEndpoint
    from components.sql.statement import Statement
    from eip.component import Processor
    from eip.datasources import DataSource

log = logging.getLogger("components.sql")

#: Dialects whose SELECT accepts ``FOR UPDATE SKIP LOCKED``.
SKIP_LOCKED_DIALECTS = frozenset({"postgresql", "mysql", "mariadb", "oracle"})
_LOCKING_CLAUSE = re.compile(
    r"\bFOR\s+(?:NO\s+KEY\s+)?(?:UPDATE|SHARE|KEY\s+SHARE)\b|\bLOCK\s+IN\s+SHARE\s+MODE\b", re.IGNORECASE
)
#: How long a poll waits, after its last row, for outcomes that arrive asynchronously (a
#: publisher confirm downstream) before it commits without marking those rows.
OUTCOME_WAIT = 60.0


class SqlConsumer(ScheduledPollingConsumer):
    """Polls a SELECT; one exchange per row; marks rows after their exchange (see the module doc)."""

    endpoint: SqlEndpoint

    def __init__(self, endpoint: SqlEndpoint, processor: Processor) -> None:
        super().__init__(endpoint, processor)
        self.datasource: DataSource | None = None
        self.select: Statement = endpoint.statement
        self.locking = False
        self._connection_lost: SqlError | None = None

    def start(self) -> None:
        self.prepare()
        super().start()

    def prepare(self) -> None:
        """Resolve the datasource and the SELECT to poll (``start()`` does it; so does a first
        ``run_once()`` without ``start()``)."""
        endpoint = self.endpoint
        datasource = endpoint.engine.datasource(endpoint.values["datasource"])
        names = endpoint.statement.names
        if names:
            raise EndpointOptionError(
                f"endpoint '{endpoint.uri}': a consumer's SELECT cannot bind :#{names[0]} (there is no "
                "message to take it from); use a {{property}} placeholder or :#${...}"
            )
        self.datasource = datasource
        self.locking = (
            bool(endpoint.values["skip_locked"])
            and datasource.dialect_name in SKIP_LOCKED_DIALECTS
            and not _LOCKING_CLAUSE.search(endpoint.statement.source)
        )
        self.select = endpoint.statement.with_suffix("FOR UPDATE SKIP LOCKED") if self.locking else endpoint.statement

    # -- polling --------------------------------------------------------------------------------
    def poll(self) -> int:
        datasource = self.datasource
        if datasource is None:
            self.prepare()
            datasource = self.datasource
            assert datasource is not None
        try:
            return self._poll_locked(datasource) if self.locking else self._poll_plain(datasource)
        except SQLAlchemyError as exc:
            raise translate_error(exc, datasource.name, self.select.source, self.endpoint.uri) from exc

    def _fetch(self, conn: Any) -> tuple[list[str], list[Any]]:
        try:
            result = conn.execute(self.select.clause, self.select.values(Exchange(), None))
            keys = list(result.keys())
            limit = self.max_messages_per_poll
            rows = result.fetchmany(limit) if limit > 0 else result.fetchall()
            result.close()
        except SQLAlchemyError as exc:
            assert self.datasource is not None
            error = translate_error(exc, self.datasource.name, self.select.source, self.endpoint.uri)
            if self.locking and not isinstance(error, SqlConnectionError):
                error.add_note(
                    "the poll appended FOR UPDATE SKIP LOCKED to the SELECT; set "
                    "skip_locked=false if the query cannot take a locking clause"
                )
            raise error from exc
        return keys, rows

    def _exchange(self, keys: list[str], row: Any, index: int, size: int) -> tuple[Exchange, dict[str, Any]]:
        data = dict(zip(keys, row))
        exchange = self.create_exchange(data)
        exchange.message.headers[c.SQL_ROW_COUNT] = size
        props = exchange.properties
        props[c.BATCH_INDEX] = index
        props[c.BATCH_SIZE] = size
        props[c.BATCH_COMPLETE] = index == size - 1
        return exchange, dict(data)

    def _poll_plain(self, datasource: DataSource) -> int:
        with datasource.engine.connect() as conn:
            keys, rows = self._fetch(conn)
        size = len(rows)
        processed = 0
        self._connection_lost = None
        for index, row in enumerate(rows):
            if not self.is_run_allowed():
                break
            exchange, data = self._exchange(keys, row, index, size)
            uow = exchange.unit_of_work
            assert uow is not None
            uow.on_completion(partial(self._mark_own_transaction, True, data))
            uow.on_failure(partial(self._mark_own_transaction, False, data))
            self.processor.process(exchange)
            processed += 1
            if self._connection_lost is not None:
                raise self._connection_lost  # the rows after this one stay unmarked for the next poll
        if processed and self.endpoint.batch_complete is not None:
            with datasource.engine.begin() as conn:
                conn.execute(self.endpoint.batch_complete.clause, {})
        return processed

    def _mark_own_transaction(self, completed: bool, row: dict[str, Any], exchange: Exchange) -> None:
        statement = self.endpoint.on_consume if completed else self.endpoint.on_consume_failed
        if statement is None:
            return
        datasource = self.datasource
        assert datasource is not None
        try:
            with datasource.engine.begin() as conn:
                self._mark(conn, statement, row, exchange)
        except SQLAlchemyError as exc:
            error = translate_error(exc, datasource.name, statement.source, self.endpoint.uri)
            if isinstance(error, SqlConnectionError):
                self._connection_lost = error
            raise error from exc

    def _mark(self, conn: Any, statement: Statement, row: dict[str, Any], exchange: Exchange) -> None:
        count = conn.execute(statement.clause, statement.values(exchange, row, "the row")).rowcount
        expected = self.endpoint.values["expected_update_count"]
        if expected >= 0 and count != expected:
            raise SqlError(
                f"expected update count {expected} but was {count} [statement: {statement.source}]",
                statement=statement.source,
            )

    def _poll_locked(self, datasource: DataSource) -> int:
        outcomes: queue.SimpleQueue[tuple[bool, dict[str, Any], Exchange]] = queue.SimpleQueue()
        processed = pending = 0
        with datasource.engine.connect() as conn:
            transaction = conn.begin()
            keys, rows = self._fetch(conn)
            size = len(rows)
            for index, row in enumerate(rows):
                if not self.is_run_allowed():
                    break  # rows not processed are unlocked, unmarked, at the commit below
                exchange, data = self._exchange(keys, row, index, size)
                uow = exchange.unit_of_work
                assert uow is not None
                # The callbacks may run on another thread (a confirm arriving later): they only
                # queue the outcome; this thread, which owns the connection, marks the row.
                uow.on_completion(partial(_put_outcome, outcomes, True, data))
                uow.on_failure(partial(_put_outcome, outcomes, False, data))
                pending += 1
                self.processor.process(exchange)
                processed += 1
                pending -= self._apply_marks(conn, outcomes, 0.0)
            deadline = time.monotonic() + OUTCOME_WAIT
            while pending and time.monotonic() < deadline:
                pending -= self._apply_marks(conn, outcomes, 0.1)
            if pending:
                log.warning(
                    "%s: %d row(s) still waiting for their exchange to complete after %ss; "
                    "committing without marking them (a later poll takes them again)",
                    self.endpoint.uri,
                    pending,
                    OUTCOME_WAIT,
                )
            if processed and self.endpoint.batch_complete is not None:
                conn.execute(self.endpoint.batch_complete.clause, {})
            transaction.commit()
        return processed

    def _apply_marks(self, conn: Any, outcomes: queue.SimpleQueue[Any], wait: float) -> int:
        """Mark the rows whose outcome arrived, each in its own savepoint; returns how many."""
        applied = 0
        while True:
            try:
                completed, row, exchange = outcomes.get(timeout=wait) if wait and not applied else outcomes.get_nowait()
            except queue.Empty:
                return applied
            applied += 1
            statement = self.endpoint.on_consume if completed else self.endpoint.on_consume_failed
            if statement is None:
                continue
            try:
                with conn.begin_nested():
                    self._mark(conn, statement, row, exchange)
            except SQLAlchemyError as exc:
                datasource = self.datasource.name if self.datasource else "?"
                error = translate_error(exc, datasource, statement.source, self.endpoint.uri)
                if isinstance(error, SqlConnectionError):
                    raise error from exc  # the poll's transaction is gone: roll the poll back
                log.error(
                    "%s: marking row %s failed (it will be polled again): %s", self.endpoint.uri, _row_id(row), error
                )
            except SqlError as exc:
                log.error(
                    "%s: marking row %s failed (it will be polled again): %s", self.endpoint.uri, _row_id(row), exc
                )


def _put_outcome(outcomes: queue.SimpleQueue[Any], completed: bool, row: dict[str, Any], exchange: Exchange) -> None:
    outcomes.put((completed, row, exchange))


def _row_id(row: Mapping[str, Any]) -> str:
    for key in ("id", "ID", "Id"):
        if key in row:
            return f"id={row[key]!r}"
    return "(" + ", ".join(f"{k}" for k in list(row)[:5]) + ")"

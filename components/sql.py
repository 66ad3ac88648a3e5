"""``sql:STATEMENT``: run SQL through a named datasource (SQLAlchemy 2), as Camel's sql component.

The path is the statement; ``:#name`` marks a named parameter. Options come after the last
``?`` that is followed by ``name=value`` pairs, so the statement may hold spaces, ``=``, ``#``
and ``?``; an ``&`` inside the statement or an option value is written ``%26``. Values are
**always bound parameters**, never put into the SQL text.

Parameters:

* ``:#name``: from the body when it is a mapping holding ``name``, else from the header
  ``name``; missing from both is a ``SqlError`` naming it. ``batch=true``: from each item of
  the list body, then the headers. Consumer ``on_consume``: from the polled row, then headers.
* ``:#${simple}``: the value of a Simple expression (``:#${header.total}``), per exchange.
* ``:#in:name``: a list or tuple expanded to ``(v1, v2, ...)`` for ``IN``:
  ``WHERE id IN (:#in:ids)``.

Producer (``to("sql:INSERT INTO orders(id, total) VALUES (:#id, :#total)?datasource=orders")``):
each exchange runs its statement in its own transaction, committed before ``process`` returns
(so a later failure in the route does not undo it). A statement that returns rows (SELECT, or
``... RETURNING``) sets the body (or ``output_header``) and ``CamelSqlRowCount``:

* ``output_type=select_list`` (default): a list of dicts, one per row.
* ``select_one``: None for no row, the value for one row with one column, a dict for one row
  with several columns; more than one row is a ``SqlError``.
* ``stream``: a lazy iterator of dicts (``RowStream``) for ``split(body(), streaming=True)``.
  The query runs at the first ``next()``; a connection is checked out of the pool from then
  until the rows are exhausted or the iterator is closed (the splitter closes it; so does
  garbage collection). Parameters are bound when the producer runs. No ``CamelSqlRowCount``.

Other statements keep the body and set ``CamelSqlUpdateCount``. ``batch=true`` takes a list of
mappings and runs one executemany in one transaction (``CamelSqlUpdateCount`` is the total).

Consumer (``from_("sql:SELECT id, total FROM orders WHERE status = 'new' ORDER BY id LIMIT 100"
"?on_consume=UPDATE orders SET status = 'done' WHERE id = :#id&datasource=orders")``): polls on a
schedule (``delay``, ``initial_delay``, ``max_messages_per_poll`` and the other polling options)
and sends one exchange per row, the row as a dict body (properties ``CamelBatchIndex``,
``CamelBatchSize``, ``CamelBatchComplete``; header ``CamelSqlRowCount``). A row is marked with
``on_consume`` only after its exchange completed (its unit of work's completion, which waits for
asynchronous confirmations downstream), or with ``on_consume_failed`` when it failed; a failing
row does not stop the rows after it. ``on_consume_batch_complete`` runs once after a poll that
processed rows. With ``expected_update_count`` >= 0, a mark that changed another number of
rows counts as failed. A row left unmarked is selected again by a later poll: delivery is at
least once, and ``on_consume`` should make the SELECT stop matching the row.

Transactions of the consumer, by database:

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
retried at the next ``delay``. Errors are ``eip.errors.SqlError`` naming the datasource and the
statement (never the values); connection failures are ``SqlConnectionError``, also an
``EndpointNotConnectedError``, so a redelivery policy retries them.
"""

from __future__ import annotations

import logging
import queue
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy import bindparam, text
from sqlalchemy.exc import SQLAlchemyError

from eip import constants as c
from eip.component import Component, Consumer, Producer
from eip.datasources import describe_sql_error
from eip.errors import (
    ConfigurationError,
    EndpointOptionError,
    SqlConnectionError,
    SqlError,
)
from eip.exchange import Exchange
from eip.options import Option, OptionSpec
from eip.polling import POLLING_OPTIONS, ScheduledPollEndpoint, ScheduledPollingConsumer
from eip.simple_language import compile_template

if TYPE_CHECKING:
    from eip.component import Processor
    from eip.datasources import DataSource

log = logging.getLogger("components.sql")

#: Dialects whose SELECT accepts ``FOR UPDATE SKIP LOCKED``.
SKIP_LOCKED_DIALECTS = frozenset({"postgresql", "mysql", "mariadb", "oracle"})
_LOCKING_CLAUSE = re.compile(r"\bFOR\s+(?:NO\s+KEY\s+)?(?:UPDATE|SHARE|KEY\s+SHARE)\b|\bLOCK\s+IN\s+SHARE\s+MODE\b",
                             re.IGNORECASE)
_NAME = re.compile(r"[A-Za-z_]\w*")
_WORD = re.compile(r"\w")
#: How long a poll waits, after its last row, for outcomes that arrive asynchronously (a
#: publisher confirm downstream) before it commits without marking those rows.
OUTCOME_WAIT = 60.0


# -- statements ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Param:
    """One parameter of a statement: ``name`` (body/header), ``in`` (expanded list) or ``expr``."""

    bind: str
    kind: str
    name: str
    expression: Any = None


class Statement:
    """A statement with ``:#`` parameters, turned into a SQLAlchemy ``text()`` clause once."""

    __slots__ = ("clause", "params", "plain_names", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        sql, params = _translate(source)
        self.params: tuple[Param, ...] = params
        # Only ":#name" parameters bound under their own name: a dict holding every name can be
        # passed to the driver as it is (the batch fast path; extra keys are ignored).
        self.plain_names: frozenset[str] | None = (
            frozenset(p.name for p in params)
            if all(p.kind == "name" and p.bind == p.name for p in params) else None)
        clause = text(sql)
        expanding: list[Any] = [bindparam(p.bind, expanding=True) for p in params if p.kind == "in"]
        self.clause = clause.bindparams(*expanding) if expanding else clause

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params if p.kind != "expr")

    def values(self, exchange: Exchange | None, first: Any, where: str = "the body") -> dict[str, Any]:
        """Bound values: each ``:#name`` from ``first`` (a mapping) then the exchange's headers."""
        values: dict[str, Any] = {}
        headers = exchange.message.headers if exchange is not None else None
        for param in self.params:
            if param.kind == "expr":
                values[param.bind] = param.expression(exchange) if exchange is not None else None
                continue
            name = param.name
            if isinstance(first, Mapping) and name in first:
                value = first[name]
            elif headers is not None and name in headers:
                value = headers[name]
            else:
                raise SqlError(_missing(name, first, where), statement=self.source)
            if param.kind == "in":
                if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
                    raise SqlError(f"parameter ':#in:{name}' needs a list or tuple, got "
                                   f"{type(value).__name__}", statement=self.source)
                value = list(value)
            values[param.bind] = value
        return values

    def with_suffix(self, suffix: str) -> Statement:
        # On a line of its own: the statement may end with a "--" comment.
        return Statement(self.source.rstrip().rstrip(";").rstrip() + "\n" + suffix)

    def __repr__(self) -> str:
        return f"Statement({self.source!r})"


def _missing(name: str, first: Any, where: str) -> str:
    if isinstance(first, Mapping):
        keys = ", ".join(sorted(str(k) for k in first)[:20]) or "no keys"
        found = f"{where} (a mapping with {keys})"
    else:
        found = f"{where} (a {type(first).__name__}, not a mapping)"
    return f"parameter ':#{name}' has no value: not in {found} nor in the headers"


def _translate(source: str) -> tuple[str, tuple[Param, ...]]:
    """``source`` as text() SQL: ``:#x`` becomes a bind; any other ``:word`` (a time literal, a
    Oracle-style bind) is escaped so that only our parameters are bound."""
    out: list[str] = []
    params: dict[str, Param] = {}
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch in "'\"":
            end = i + 1
            while end < n:
                if source[end] == ch:
                    if end + 1 < n and source[end + 1] == ch:
                        end += 2
                        continue
                    break
                end += 1
            out.append(_escape_colons(source[i:end + 1]))
            i = end + 1
            continue
        if source.startswith("--", i) or source.startswith("/*", i):
            close = "\n" if source[i + 1] == "-" else "*/"
            end = source.find(close, i + 2)
            end = n if end < 0 else end + len(close)
            out.append(_escape_colons(source[i:end]))
            i = end
            continue
        if source.startswith(":#", i):
            start = i + 2
            if source.startswith("in:", start):
                match = _NAME.match(source, start + 3)
                if not match:
                    raise ConfigurationError(f"statement {source!r}: ':#in:' must be followed by a name")
                name = match.group(0)
                param = params.setdefault(f"in:{name}", Param(f"in_{name}", "in", name))
                # Written as Camel does, "IN (:#in:ids)": SQLAlchemy adds the parentheses itself.
                tail = re.match(r"\s*\)", source[match.end():])
                if tail and out and "".join(out).rstrip().endswith("("):
                    text_so_far = "".join(out).rstrip()
                    out = [text_so_far[:-1]]
                    i = match.end() + tail.end()
                else:
                    i = match.end()
            elif source.startswith("${", start):
                end = source.find("}", start)
                if end < 0:
                    raise ConfigurationError(f"statement {source!r}: ':#${{' has no closing '}}'")
                expression = source[start:end + 1]
                key = f"expr:{expression}"
                param = params.get(key) or Param(f"expr_{len(params)}", "expr", expression,
                                                 compile_template(expression))
                params[key] = param
                i = end + 1
            else:
                match = _NAME.match(source, start)
                if not match:
                    raise ConfigurationError(f"statement {source!r}: ':#' must be followed by a name, "
                                             "'${expression}' or 'in:name'")
                name = match.group(0)
                param = params.setdefault(name, Param(name, "name", name))
                i = match.end()
            if out and re.search(r"[\w:\\]$", out[-1]):
                out.append(" ")  # "IN(:#in:ids)": text() only sees a bind after a non-word char
            out.append(f":{param.bind}")
            if i < n and source[i] == ":":
                out.append(" ")  # ":#id::text" - text() would not see ":id" followed by ":"
            continue
        if ch == ":" and i + 1 < n:
            if source[i + 1] == ":":
                out.append("::")
                i += 2
                continue
            if _WORD.match(source[i + 1]):
                out.append("\\:")
                i += 1
                continue
        out.append(ch)
        i += 1
    return "".join(out), tuple(params.values())


def _escape_colons(text: str) -> str:
    return re.sub(r":(?=\w)", lambda m: "\\:", text)


def _decode_statement(path: str) -> str:
    return path.replace("%26", "&").strip()


# -- errors ----------------------------------------------------------------------------------------
def sql_error(datasource: str, detail: str, statement: str, uri: str | None = None,
              cls: type[SqlError] = SqlError) -> SqlError:
    """A ``SqlError`` whose message names the datasource and the statement."""
    return cls(f"datasource '{datasource}': {detail} [statement: {statement}]", uri=uri,
               datasource=datasource, statement=statement)


def translate_error(exc: BaseException, datasource: str, statement: str, uri: str | None = None) -> SqlError:
    """The eip error for a SQLAlchemy/DBAPI error: the driver's first message line, the
    datasource and the statement text (never the bound values)."""
    if isinstance(exc, SqlError):
        return exc
    cls, detail = describe_sql_error(exc, "statement failed")
    return sql_error(datasource, detail, statement, uri, cls)


# -- producer --------------------------------------------------------------------------------------
class RowStream(Iterator[dict[str, Any]]):
    """The rows of a SELECT as dicts, fetched lazily (``output_type=stream``).

    The statement runs at the first ``next()``; a pooled connection is checked out from then
    until the rows are exhausted, ``close()`` is called or the stream is garbage collected. Use
    it once, from one thread at a time (the splitter does both)."""

    def __init__(self, datasource: DataSource, statement: Statement, values: dict[str, Any],
                 uri: str | None = None) -> None:
        self.datasource = datasource
        self.statement = statement
        self.values = values
        self.uri = uri
        self._conn: Any = None
        self._rows: Iterator[Any] | None = None
        self._keys: list[str] = []
        self._closed = False

    def __iter__(self) -> RowStream:
        return self

    def __next__(self) -> dict[str, Any]:
        if self._closed:
            raise StopIteration
        try:
            if self._rows is None:
                self._open()
            assert self._rows is not None
            row = next(self._rows, None)
        except SQLAlchemyError as exc:
            self.close()
            raise translate_error(exc, self.datasource.name, self.statement.source, self.uri) from exc
        if row is None:
            self.close()
            raise StopIteration
        return dict(zip(self._keys, row))

    def _open(self) -> None:
        self._conn = self.datasource.engine.connect()
        result = self._conn.execute(self.statement.clause, self.values,
                                    execution_options={"stream_results": True})
        if not result.returns_rows:
            self.close()
            raise sql_error(self.datasource.name, "output_type=stream needs a statement that returns rows",
                            self.statement.source, self.uri)
        self._keys = list(result.keys())
        self._rows = iter(result)

    def close(self) -> None:
        """Give the connection back to the pool (the read transaction is rolled back)."""
        self._closed = True
        conn, self._conn, self._rows = self._conn, None, None
        if conn is not None:
            try:
                conn.close()
            except Exception as exc:  # noqa: BLE001 - a dead connection is already gone
                log.debug("closing a row stream of datasource '%s': %s", self.datasource.name, exc)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        if self._conn is not None:
            self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open" if self._conn is not None else "not started"
        return f"RowStream({self.datasource.name!r}, {self.statement.source!r}, {state})"


class SqlProducer(Producer):
    endpoint: SqlEndpoint

    def __init__(self, endpoint: SqlEndpoint) -> None:
        super().__init__(endpoint)
        self.datasource: DataSource | None = None

    def start(self) -> None:
        self.datasource = self.endpoint.engine.datasource(self.endpoint.values["datasource"])

    def process(self, exchange: Exchange) -> None:
        endpoint = self.endpoint
        datasource = self.datasource
        if datasource is None:
            datasource = self.datasource = endpoint.engine.datasource(endpoint.values["datasource"])
        statement = endpoint.statement
        values = endpoint.values
        message = exchange.message
        try:
            if values["output_type"] == "stream":
                stream = RowStream(datasource, statement, statement.values(exchange, message.body), endpoint.uri)
                self._set_result(exchange, stream)
                return
            if values["batch"]:
                self._batch(exchange, datasource, statement)
                return
            bound = statement.values(exchange, message.body)
            with datasource.engine.begin() as conn:
                result = conn.execute(statement.clause, bound)
                if result.returns_rows:
                    keys = list(result.keys())
                    rows = [dict(zip(keys, row)) for row in result]
                else:
                    rows = None
                    count = result.rowcount
        except SQLAlchemyError as exc:
            raise translate_error(exc, datasource.name, statement.source, endpoint.uri) from exc
        except SqlError as exc:
            if exc.datasource is None:  # a parameter without a value
                raise sql_error(datasource.name, str(exc), statement.source, endpoint.uri) from None
            raise
        if rows is None:
            message.headers[c.SQL_UPDATE_COUNT] = count
            return
        if values["output_type"] == "select_one":
            if len(rows) > 1:
                raise sql_error(datasource.name, f"output_type=select_one but the query returned "
                                f"{len(rows)} rows", statement.source, endpoint.uri)
            result_value: Any = None
            if rows:
                row = rows[0]
                result_value = next(iter(row.values())) if len(row) == 1 else row
            message.headers[c.SQL_ROW_COUNT] = len(rows)
            self._set_result(exchange, result_value)
            return
        message.headers[c.SQL_ROW_COUNT] = len(rows)
        self._set_result(exchange, rows)

    def _batch(self, exchange: Exchange, datasource: DataSource, statement: Statement) -> None:
        body = exchange.message.body
        if body is None or isinstance(body, (str, bytes, Mapping)) or not hasattr(body, "__iter__"):
            raise sql_error(datasource.name, f"batch=true needs a list of mappings as the body, got "
                            f"{type(body).__name__}", statement.source, self.endpoint.uri)
        names = statement.plain_names
        values = statement.values
        params = [item if names is not None and type(item) is dict and names <= item.keys()
                  else values(exchange, item, f"item {index} of the batch")
                  for index, item in enumerate(body)]
        count = 0
        if params:
            with datasource.engine.begin() as conn:
                count = conn.execute(statement.clause, params).rowcount
        exchange.message.headers[c.SQL_UPDATE_COUNT] = count

    def _set_result(self, exchange: Exchange, value: Any) -> None:
        header = self.endpoint.values["output_header"]
        if header:
            exchange.message.headers[header] = value
        else:
            exchange.message.body = value


# -- consumer --------------------------------------------------------------------------------------
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
                "message to take it from); use a {{property}} placeholder or :#${...}")
        self.datasource = datasource
        self.locking = bool(endpoint.values["skip_locked"]) and \
            datasource.dialect_name in SKIP_LOCKED_DIALECTS and \
            not _LOCKING_CLAUSE.search(endpoint.statement.source)
        self.select = endpoint.statement.with_suffix("FOR UPDATE SKIP LOCKED") if self.locking \
            else endpoint.statement

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
                error.add_note("the poll appended FOR UPDATE SKIP LOCKED to the SELECT; set "
                               "skip_locked=false if the query cannot take a locking clause")
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
            raise SqlError(f"expected update count {expected} but was {count} [statement: "
                           f"{statement.source}]", statement=statement.source)

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
                log.warning("%s: %d row(s) still waiting for their exchange to complete after %ss; "
                            "committing without marking them (a later poll takes them again)",
                            self.endpoint.uri, pending, OUTCOME_WAIT)
            if processed and self.endpoint.batch_complete is not None:
                conn.execute(self.endpoint.batch_complete.clause, {})
            transaction.commit()
        return processed

    def _apply_marks(self, conn: Any, outcomes: queue.SimpleQueue[Any], wait: float) -> int:
        """Mark the rows whose outcome arrived, each in its own savepoint; returns how many."""
        applied = 0
        while True:
            try:
                completed, row, exchange = outcomes.get(timeout=wait) if wait and not applied \
                    else outcomes.get_nowait()
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
                log.error("%s: marking row %s failed (it will be polled again): %s",
                          self.endpoint.uri, _row_id(row), error)
            except SqlError as exc:
                log.error("%s: marking row %s failed (it will be polled again): %s",
                          self.endpoint.uri, _row_id(row), exc)


def _put_outcome(outcomes: queue.SimpleQueue[Any], completed: bool, row: dict[str, Any], exchange: Exchange) -> None:
    outcomes.put((completed, row, exchange))


def _row_id(row: Mapping[str, Any]) -> str:
    for key in ("id", "ID", "Id"):
        if key in row:
            return f"id={row[key]!r}"
    return "(" + ", ".join(f"{k}" for k in list(row)[:5]) + ")"


# -- endpoint and component -----------------------------------------------------------------------
OUTPUT_TYPES = ("select_list", "select_one", "stream")


class SqlEndpoint(ScheduledPollEndpoint):
    options = OptionSpec(POLLING_OPTIONS + (
        Option("datasource", "str", "default",
               "Name of the datasource (engine.add_datasource, or property datasource.NAME.url); "
               "'default' is ./eip.db (SQLite) unless configured."),
        Option("batch", "bool", False,
               "Producer: the body is a list of mappings; run one executemany in one transaction."),
        Option("output_type", "str", "select_list",
               "Producer: rows as a list of dicts, one value/dict (select_one), or a lazy iterator "
               "(stream).", choices=OUTPUT_TYPES),
        Option("output_header", "str", "",
               "Producer: put the query result in this header and keep the body."),
        Option("on_consume", "str", "",
               "Consumer: statement run for each row after its exchange completed (:#name binds from "
               "the row)."),
        Option("on_consume_failed", "str", "",
               "Consumer: statement run for each row whose exchange failed."),
        Option("on_consume_batch_complete", "str", "",
               "Consumer: statement run once after a poll that processed rows."),
        Option("expected_update_count", "int", -1,
               "Consumer: a mark that changes another number of rows counts as failed; -1 = any."),
        Option("skip_locked", "bool", True,
               "Consumer: on PostgreSQL/MySQL/Oracle lock the polled rows (FOR UPDATE SKIP LOCKED) "
               "in one transaction per poll, so several processes can poll one table."),
    ))

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        text = _decode_statement(self.parsed.path)
        if not text:
            raise EndpointOptionError(f"endpoint '{self.uri}': the SQL statement is empty "
                                      "(sql:SELECT ... or sql:INSERT ...)")
        self.statement = Statement(text)
        self.on_consume: Statement | None = None
        self.on_consume_failed: Statement | None = None
        self.batch_complete: Statement | None = None

    def validate(self) -> None:
        super().validate()
        values = self.values
        if values["batch"] and values["output_type"] == "stream":
            raise EndpointOptionError(f"endpoint '{self.uri}': batch=true cannot be combined with "
                                      "output_type=stream")
        if values["expected_update_count"] < -1:
            raise EndpointOptionError(f"endpoint '{self.uri}': expected_update_count must be -1 "
                                      f"(any) or more, got {values['expected_update_count']}")
        self.on_consume = Statement(values["on_consume"]) if values["on_consume"] else None
        self.on_consume_failed = (Statement(values["on_consume_failed"])
                                  if values["on_consume_failed"] else None)
        self.batch_complete = (Statement(values["on_consume_batch_complete"])
                               if values["on_consume_batch_complete"] else None)
        if self.batch_complete is not None and self.batch_complete.params:
            raise EndpointOptionError(f"endpoint '{self.uri}': on_consume_batch_complete cannot have "
                                      ":# parameters (it runs once per poll, not per row)")

    def create_producer(self) -> Producer:
        return SqlProducer(self)

    def create_consumer(self, processor: Any) -> Consumer:
        return SqlConsumer(self, processor)


class SqlComponent(Component):
    """sql:STATEMENT - run SQL on a named datasource (SQLAlchemy): producer binds :#name from the
    body or headers; consumer polls a SELECT, one exchange per row, marking rows with on_consume."""

    endpoint_class = SqlEndpoint
    path_is_code = True  # the path is the statement: dynamic sends must not fill it from data

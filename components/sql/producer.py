"""The ``sql:`` producer: run the statement for each exchange, in a transaction of its own.

Each exchange runs its statement in its own transaction, committed before ``process`` returns
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
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError

from components.sql.errors import sql_error, translate_error
from components.sql.stream import RowStream
from eip import constants as c
from eip.component import Producer
from eip.errors import SqlError
from eip.exchange import Exchange

if TYPE_CHECKING:
    from components.sql.endpoint import SqlEndpoint
    from components.sql.statement import Statement
    from eip.datasources import DataSource


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
                raise sql_error(
                    datasource.name,
                    f"output_type=select_one but the query returned {len(rows)} rows",
                    statement.source,
                    endpoint.uri,
                )
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
            raise sql_error(
                datasource.name,
                f"batch=true needs a list of mappings as the body, got {type(body).__name__}",
                statement.source,
                self.endpoint.uri,
            )
        names = statement.plain_names
        values = statement.values
        params = [
            item
            if names is not None and type(item) is dict and names <= item.keys()
            else values(exchange, item, f"item {index} of the batch")
            for index, item in enumerate(body)
        ]
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

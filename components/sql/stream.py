"""``RowStream``: the rows of a SELECT fetched lazily, for ``output_type=stream``."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy.exc import SQLAlchemyError

from components.sql.errors import sql_error, translate_error

if TYPE_CHECKING:
    from components.sql.statement import Statement
    from eip.datasources import DataSource

log = logging.getLogger("components.sql")


class RowStream(Iterator[dict[str, Any]]):
    """The rows of a SELECT as dicts, fetched lazily (``output_type=stream``).

    The statement runs at the first ``next()``; a pooled connection is checked out from then
    until the rows are exhausted, ``close()`` is called or the stream is garbage collected. Use
    it once, from one thread at a time (the splitter does both)."""

    def __init__(
        self, datasource: DataSource, statement: Statement, values: dict[str, Any], uri: str | None = None
    ) -> None:
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
        result = self._conn.execute(self.statement.clause, self.values, execution_options={"stream_results": True})
        if not result.returns_rows:
            self.close()
            raise sql_error(
                self.datasource.name,
                "output_type=stream needs a statement that returns rows",
                self.statement.source,
                self.uri,
            )
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

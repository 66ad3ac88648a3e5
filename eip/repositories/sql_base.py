"""What the SQL repositories share: finding their datasource, creating their tables, errors.

A repository names its datasource (``"default"``, ``"orders"``: resolved through the engine
that runs the route using it, see ``eip.datasources``), or is given a database URL or a
``DataSource``. Used outside an engine, a name is looked up like an engine would without
configuration: ``EIP_DATASOURCE_<NAME>_URL``, then (for ``default``) the SQLite file ``./eip.db``.

Tables are made with SQLAlchemy Core on first use (``create_tables=True``), every value is a
bound parameter, and driver errors become ``eip.errors.SqlError`` (``SqlConnectionError``
when the database is unreachable) naming the datasource and the table, never the values.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from eip.datasources import DataSource, DataSourceRegistry, describe_sql_error
from eip.errors import ConfigurationError, SqlError

if TYPE_CHECKING:
    from sqlalchemy import MetaData
    from sqlalchemy.engine import Connection
    from sqlalchemy.engine import Engine as SqlEngine

    from eip.engine import Engine

log = logging.getLogger("eip.repositories")

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,49}$")
T = TypeVar("T")


def check_table_name(kind: str, name: Any) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigurationError(
            f"{kind}: table name must be a letter or _ then letters, digits or _ (at most 50 characters), got {name!r}"
        )
    return name


class SqlRepositoryBase:
    """Datasource resolution, lazy table creation and error translation for one repository.

    Subclasses set ``kind`` and implement ``_define(metadata)`` returning their tables."""

    kind = "SqlRepository"

    def __init__(self, datasource: str | DataSource = "default", name: str = "", *, create_tables: bool = True) -> None:
        if isinstance(datasource, str):
            if not datasource:
                raise ConfigurationError(f"{self.kind}: datasource must be a name or a URL, got ''")
        elif not isinstance(datasource, DataSource):
            raise ConfigurationError(
                f"{self.kind}: datasource must be a name, a URL or a DataSource, got {datasource!r}"
            )
        self.name = check_table_name(self.kind, name)
        self.create_tables = create_tables
        self._source_spec = datasource
        self._engine: Engine | None = None
        self._own: DataSource | None = None
        self._tables: Any = None
        self._ready_for: Any = None  # the SQLAlchemy engine the tables were checked on
        self._setup_lock = threading.Lock()

    # -- datasource --------------------------------------------------------------------------------
    def bind(self, engine: Engine) -> None:
        """Resolve a datasource name through ``engine`` (done when a route using this compiles)."""
        self._engine = engine

    @property
    def engine(self) -> Engine | None:
        """The eip engine this repository is bound to, if any."""
        return self._engine

    @property
    def datasource(self) -> DataSource:
        spec = self._source_spec
        if isinstance(spec, DataSource):
            return spec
        if "://" in spec:
            if self._own is None:
                with self._setup_lock:
                    if self._own is None:
                        self._own = DataSource(f"{self.kind}:{self.name}", spec)
            return self._own
        if self._engine is not None:
            return self._engine.datasource(spec)
        if self._own is None:
            with self._setup_lock:
                if self._own is None:
                    self._own = DataSourceRegistry().get(spec)
        return self._own

    @property
    def datasource_name(self) -> str:
        spec = self._source_spec
        if isinstance(spec, DataSource):
            return spec.name
        return self.datasource.name if "://" in spec else spec

    @property
    def dialect(self) -> str:
        return self.datasource.dialect_name

    # -- tables --------------------------------------------------------------------------------------
    def _define(self, metadata: MetaData) -> Any:
        raise NotImplementedError

    def tables(self) -> Any:
        """The SQLAlchemy ``Table`` objects (defined on first use; no I/O)."""
        if self._tables is None:
            from sqlalchemy import MetaData

            with self._setup_lock:
                if self._tables is None:
                    metadata = MetaData()
                    self._tables = (metadata, self._define(metadata))
        return self._tables[1]

    def _sql_engine(self) -> SqlEngine:
        engine = self.datasource.engine
        if self._ready_for is not engine:
            self.tables()
            with self._setup_lock:
                if self._ready_for is not engine:
                    if self.create_tables:
                        self._create(engine)
                    self._ready_for = engine
        return engine

    def _create(self, engine: SqlEngine) -> None:
        """Create the missing tables, tolerating concurrent creators (other engines, processes).

        ``checkfirst`` still races: two creators both see a table missing and one of them gets
        "already exists" (SQLite) or a unique violation in the catalogue (PostgreSQL). SQLite
        commits each CREATE on its own, so a creator can lose that race once per table. After a
        failure the missing tables are counted again: fewer than before means someone else made
        progress, so try again (it ends: each retry needs one more table to appear); none fewer
        means the error is real (no permission, database locked or unreachable) and is raised."""
        metadata = self._tables[0]
        missing = len(metadata.tables)
        while True:
            try:
                metadata.create_all(engine, checkfirst=True)
                return
            except Exception as exc:  # noqa: BLE001 - translated below unless a concurrent creator
                try:
                    now_missing = self._missing_tables(engine)
                except Exception:  # noqa: BLE001 - cannot even look: report the original error
                    now_missing = missing
                if now_missing >= missing:
                    raise self._error(exc, "creating tables") from exc
                log.debug("%s '%s': a table was created by someone else meanwhile (%s)", self.kind, self.name, exc)
                missing = now_missing

    def _missing_tables(self, engine: SqlEngine) -> int:
        from sqlalchemy import inspect

        metadata = self._tables[0]
        with engine.connect() as conn:
            inspector = inspect(conn)
            return sum(
                1 for table in metadata.tables.values() if not inspector.has_table(table.name, schema=table.schema)
            )

    def create(self) -> None:
        """Create the tables now if they do not exist (whatever ``create_tables`` says)."""
        engine = self.datasource.engine
        self.tables()
        with self._setup_lock:
            self._create(engine)
            self._ready_for = engine

    def drop_tables(self) -> None:
        """Drop this repository's tables (and everything in them)."""
        engine = self.datasource.engine
        self.tables()
        try:
            self._tables[0].drop_all(engine, checkfirst=True)
        except Exception as exc:
            raise self._error(exc, "dropping tables") from exc
        with self._setup_lock:
            self._ready_for = None

    def close(self) -> None:
        """Dispose the pool of a datasource this repository made from a URL (none otherwise)."""
        if self._own is not None and isinstance(self._source_spec, str) and "://" in self._source_spec:
            self._own.dispose()

    # -- running statements --------------------------------------------------------------------------
    @contextmanager
    def begin(self, what: str) -> Iterator[Connection]:
        """A connection in a transaction (committed at the end); errors become ``SqlError``."""
        from sqlalchemy import exc as sa_exc

        try:
            with self._sql_engine().begin() as conn:
                yield conn
        except sa_exc.SQLAlchemyError as exc:
            if isinstance(exc, sa_exc.IntegrityError):
                raise
            raise self._error(exc, what) from exc

    def run(self, what: str, work: Callable[[Connection], T]) -> T:
        with self.begin(what) as conn:
            return work(conn)

    def _error(self, exc: BaseException, what: str) -> SqlError:
        if isinstance(exc, SqlError):
            return exc
        cls, detail = describe_sql_error(exc, "failed")
        name = self.datasource_name
        return cls(f"datasource '{name}': {self.kind} '{self.name}' {what}: {detail}", datasource=name, statement=what)

    def __bool__(self) -> bool:  # a repository is there even when its table is empty
        return True

    def __repr__(self) -> str:
        return f"{type(self).__name__}(datasource={self.datasource_name!r}, name={self.name!r})"

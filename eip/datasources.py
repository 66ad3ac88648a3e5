"""Named datasources: SQLAlchemy 2 engines (connection pools) that an engine's routes share.

``engine.add_datasource("orders", "postgresql+psycopg://app:secret@db/orders", pool_size=10)``
registers one; ``engine.datasource("orders")`` returns it. The SQLAlchemy engine behind it is
created on first use (so an engine starts even while the database is down) with
``pool_pre_ping=True`` (a connection the server dropped is replaced at checkout, not handed to a
statement) and ``hide_parameters=True`` (bound values never appear in error messages or logs).
Extra keyword options go to ``sqlalchemy.create_engine`` unchanged.

A name that was not added is looked up in the engine's properties as ``datasource.NAME.url``,
then in the environment as ``EIP_DATASOURCE_NAME_URL``; the properties ``datasource.NAME.pool_size``,
``.max_overflow``, ``.pool_timeout`` and ``.pool_recycle`` (seconds) size its pool. The ``default`` datasource falls back
to the SQLite file ``./eip.db``. An in-memory SQLite URL (``sqlite://``) gets one connection
shared by every thread (``StaticPool``), else each thread would see its own empty database: fine
for tests and demos, but concurrent transactions then share that connection, so use a file.

Passwords (also one holding ``@``) and secret-named options (``eip.secrets``) are masked
(``xxxxxx``) in every repr, log line and error message. The registry
disposes every pool when the engine stops; a datasource used again after that reconnects.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from eip.errors import ConfigurationError, SqlConnectionError, SqlError
from eip.secrets import MASK, mask_mapping, mask_uri

if TYPE_CHECKING:
    from sqlalchemy.engine import URL
    from sqlalchemy.engine import Engine as SqlEngine

log = logging.getLogger("eip.datasources")

DEFAULT_NAME = "default"
DEFAULT_URL = "sqlite:///./eip.db"
#: Pool settings a configured datasource reads from ``datasource.NAME.<option>`` properties.
CONFIG_OPTIONS: dict[str, Callable[[Any], Any]] = {
    "pool_size": int,
    "max_overflow": int,
    "pool_timeout": float,
    "pool_recycle": float,
}


def mask_url(url: str | URL) -> str:
    """``url`` as text with its password (and secret query options) replaced by ``xxxxxx``."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - a URL SQLAlchemy cannot parse is masked as plain text
        return mask_uri(str(url))
    if parsed.password is not None:
        parsed = parsed.set(password=MASK)
    # SQLAlchemy ends the password at its first "@" (``p@ss@db`` leaves ``ss@`` in the host):
    # masking the rendered text as well hides everything up to the last "@".
    return mask_uri(parsed.render_as_string(hide_password=False))


class DataSource:
    """A named database: its URL, its ``create_engine`` options and its (lazy) SQLAlchemy engine."""

    def __init__(self, name: str, url: str | URL, options: Mapping[str, Any] | None = None) -> None:
        from sqlalchemy.engine import make_url

        try:
            self.url = make_url(url)
        except Exception as exc:  # noqa: BLE001 - ArgumentError, ValueError...: all say "bad URL"
            raise ConfigurationError(
                f"datasource '{name}': invalid database URL {mask_url(url)!r}: {type(exc).__name__}"
            ) from None
        self.name = name
        self.options = dict(options or {})
        self._engine: SqlEngine | None = None
        self._lock = threading.Lock()

    @property
    def masked_url(self) -> str:
        return mask_url(self.url)

    @property
    def dialect_name(self) -> str:
        """``postgresql``, ``sqlite``, ``mysql``, ... (known without connecting)."""
        return self.url.get_backend_name()

    @property
    def engine(self) -> SqlEngine:
        """The SQLAlchemy engine, created on first use."""
        engine = self._engine
        if engine is None:
            with self._lock:
                engine = self._engine
                if engine is None:
                    engine = self._engine = self._create_engine()
        return engine

    def _create_engine(self) -> SqlEngine:
        from sqlalchemy import create_engine
        from sqlalchemy.pool import StaticPool

        options: dict[str, Any] = {"pool_pre_ping": True, "hide_parameters": True}
        if self.dialect_name == "sqlite" and self.url.database in (None, "", ":memory:"):
            options["poolclass"] = StaticPool
            options["connect_args"] = {"check_same_thread": False}
        options.update(self.options)
        try:
            engine = create_engine(self.url, **options)
        except Exception as exc:  # noqa: BLE001 - a missing driver, a bad option: say which datasource
            raise ConfigurationError(
                f"datasource '{self.name}' ({self.masked_url}): cannot create the engine: {type(exc).__name__}: {exc}"
            ) from None
        log.info("datasource '%s': %s", self.name, self.masked_url)
        return engine

    def connect(self) -> Any:
        """A pooled connection (``with ds.connect() as conn:``); SQLAlchemy ``Connection``."""
        return self.engine.connect()

    def begin(self) -> Any:
        """A pooled connection in a transaction committed at the end of the ``with`` block."""
        return self.engine.begin()

    def dispose(self) -> None:
        """Close every pooled connection; the datasource reconnects if used again."""
        with self._lock:
            engine = self._engine
        if engine is not None:
            engine.dispose()

    def __repr__(self) -> str:
        options = f", {mask_mapping(self.options)!r}" if self.options else ""
        return f"DataSource({self.name!r}, {self.masked_url!r}{options})"


class DataSourceRegistry:
    """The datasources of one engine, by name. ``lookup(key)`` reads configuration properties."""

    def __init__(self, lookup: Callable[[str], Any] | None = None) -> None:
        self._lookup = lookup or (lambda key: None)
        self._sources: dict[str, DataSource] = {}
        self._lock = threading.Lock()

    def add(self, name: str, url: str | URL, **options: Any) -> DataSource:
        """Register ``name`` (replacing, and disposing, a datasource of that name)."""
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"a datasource needs a non-empty name, got {name!r}")
        source = DataSource(name, url, options)
        with self._lock:
            old = self._sources.get(name)
            self._sources[name] = source
        if old is not None:
            old.dispose()
        return source

    def get(self, name: str = DEFAULT_NAME) -> DataSource:
        """The datasource ``name``: added, configured (``datasource.NAME.url``) or the default."""
        with self._lock:
            source = self._sources.get(name)
            if source is None:
                url = self._configured_url(name)
                if url is None:
                    known = ", ".join(sorted(self._sources)) or "none"
                    raise ConfigurationError(
                        f"no datasource '{name}' (known: {known}); add it with "
                        f"engine.add_datasource({name!r}, URL) or set the property "
                        f"'datasource.{name}.url' (environment EIP_DATASOURCE_{_env(name)}_URL)"
                    )
                source = self._sources[name] = DataSource(name, url, self._configured_options(name))
            return source

    def _configured_options(self, name: str) -> dict[str, Any]:
        options: dict[str, Any] = {}
        for option, convert in CONFIG_OPTIONS.items():
            value = self._lookup(f"datasource.{name}.{option}")
            if value is not None:
                try:
                    options[option] = convert(value)
                except (TypeError, ValueError):
                    raise ConfigurationError(
                        f"property 'datasource.{name}.{option}' must be a number, got {value!r}"
                    ) from None
        return options

    def _configured_url(self, name: str) -> Any:
        url = self._lookup(f"datasource.{name}.url")
        if url is None:
            url = os.environ.get(f"EIP_DATASOURCE_{_env(name)}_URL")
        if url is None and name == DEFAULT_NAME:
            url = DEFAULT_URL
        return url

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._sources)

    def dispose(self) -> None:
        """Close the pools of every datasource (engine stop); each reconnects on next use."""
        with self._lock:
            sources = list(self._sources.values())
        for source in sources:
            try:
                source.dispose()
            except Exception as exc:  # noqa: BLE001 - one bad pool must not stop the others closing
                log.error("datasource '%s': dispose failed: %s", source.name, exc)

    def __repr__(self) -> str:
        return f"DataSourceRegistry({self.names()!r})"


def _env(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", name).upper()


# -- errors ----------------------------------------------------------------------------------------
_CONNECTION_TEXT = (
    "database is locked",
    "unable to open database",
    "server closed the connection",
    "connection refused",
    "could not connect",
    "connection is closed",
    "lost connection",
    "gone away",
    "terminating connection",
)


def is_connection_error(exc: BaseException) -> bool:
    """True when ``exc`` (a SQLAlchemy error) means the database could not be reached."""
    from sqlalchemy import exc as sa_exc

    if isinstance(exc, (sa_exc.DisconnectionError, sa_exc.TimeoutError)):
        return True
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if isinstance(state, str) and (state.startswith("08") or state in ("57P01", "57P02", "57P03")):
        return True
    if isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError)):
        if state is None and type(orig).__module__.startswith("psycopg"):
            return True  # psycopg raises connection failures without a SQLSTATE
        return any(fragment in str(orig).lower() for fragment in _CONNECTION_TEXT)
    return False


def describe_sql_error(exc: BaseException, failed: str) -> tuple[type[SqlError], str]:
    """The eip error class for a SQLAlchemy/DBAPI error (``SqlConnectionError`` when the database
    could not be reached, else ``SqlError``) and its detail: ``database unavailable`` (or
    ``failed``), the driver's exception type and its first message line (never bound values)."""
    from sqlalchemy import exc as sa_exc

    orig = exc.orig if isinstance(exc, sa_exc.DBAPIError) and exc.orig is not None else exc
    first_line = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    cls = SqlConnectionError if is_connection_error(exc) else SqlError
    what = "database unavailable" if cls is SqlConnectionError else failed
    return cls, f"{what}: {type(orig).__name__}: {first_line}"

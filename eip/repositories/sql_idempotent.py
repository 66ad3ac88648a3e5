"""SQL idempotent repository: the message ids an idempotent consumer has seen, in a table.

``SqlIdempotentRepository("orders", "orders_seen")`` keeps one row per id in the table
``orders_seen`` (``message_id`` primary key, ``created_at`` epoch seconds) of the datasource
``orders``. It survives restarts and is shared by every engine process using that table:
of two concurrent ``add`` calls for one id, in one process or in two, **exactly one** wins
(the primary key decides: ``INSERT ... ON CONFLICT DO NOTHING`` on PostgreSQL and SQLite,
``INSERT IGNORE`` on MySQL/MariaDB, a plain insert whose ``IntegrityError`` means "seen"
elsewhere). Each call is one short transaction, committed before it returns.

Ids are stored as text: a str as it is, anything else as ``str(key)`` (so ``1`` and ``"1"``
are the same id), at most 512 characters. Nothing is evicted: rows stay until ``remove``,
``clear`` or ``remove_older_than``. ``confirm`` has nothing to do (an add is committed at
once) and returns True.

What a crash loses: nothing that was added. An id added (eagerly, before its exchange ran) by
a process that then crashed stays: the redelivered message is treated as a duplicate, as in
Camel's JDBC repository. Use ``eager=False`` on the idempotent consumer when a redelivery after
a crash must pass (the id is then added after the exchange completed; two concurrent
duplicates may both pass).
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from eip.errors import SqlError
from eip.repositories.sql_base import SqlRepositoryBase

if TYPE_CHECKING:
    from sqlalchemy import MetaData

    from eip.datasources import DataSource

MAX_KEY_LENGTH = 512


class SqlIdempotentRepository(SqlRepositoryBase):
    """A durable ``IdempotentRepository`` in table ``name`` of ``datasource`` (a name, a URL or a
    ``DataSource``); the table is created on first use unless ``create_tables=False``."""

    kind = "SqlIdempotentRepository"

    def __init__(
        self, datasource: str | DataSource = "default", name: str = "idempotent", *, create_tables: bool = True
    ) -> None:
        super().__init__(datasource, name, create_tables=create_tables)

    def _define(self, metadata: MetaData) -> Any:
        from sqlalchemy import Column, Double, String, Table

        return Table(
            self.name,
            metadata,
            Column("message_id", String(MAX_KEY_LENGTH), primary_key=True),
            Column("created_at", Double, nullable=False),
        )

    def _key(self, key: Hashable) -> str:
        text = key if isinstance(key, str) else str(key)
        if len(text) > MAX_KEY_LENGTH:
            raise SqlError(
                f"{self.kind} '{self.name}': message id longer than {MAX_KEY_LENGTH} "
                f"characters ({len(text)}): {text[:40]!r}...",
                datasource=self.datasource_name,
            )
        return text

    def add(self, key: Hashable) -> bool:
        """Record ``key``; False when it was already there. Atomic across threads and processes."""
        from sqlalchemy import exc as sa_exc
        from sqlalchemy import insert

        text = self._key(key)
        table = self.tables()
        values = {"message_id": text, "created_at": time.time()}
        dialect = self.dialect
        if dialect in ("postgresql", "sqlite"):
            from sqlalchemy.dialects import postgresql, sqlite

            dialect_insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
            # RETURNING tells whether the row went in (an INSERT's rowcount is not reliable).
            statement: Any = (
                dialect_insert(table)
                .values(**values)
                .on_conflict_do_nothing(index_elements=["message_id"])
                .returning(table.c.message_id)
            )
            try:
                with self.begin("add") as conn:
                    return conn.execute(statement).first() is not None
            except sa_exc.IntegrityError:
                return False
        ignore = dialect in ("mysql", "mariadb")
        statement = insert(table).values(**values)
        if ignore:
            statement = statement.prefix_with("IGNORE")  # rowcount 0: the id was there
        try:
            with self.begin("add") as conn:
                result = conn.execute(statement)
                return result.rowcount == 1 if ignore else True
        except sa_exc.IntegrityError:
            return False

    def contains(self, key: Hashable) -> bool:
        from sqlalchemy import select

        table = self.tables()
        text = self._key(key)
        with self.begin("contains") as conn:
            row = conn.execute(select(table.c.message_id).where(table.c.message_id == text)).first()
        return row is not None

    def remove(self, key: Hashable) -> bool:
        """Forget ``key`` (a redelivery may pass again); False when it was not there."""
        from sqlalchemy import delete

        table = self.tables()
        text = self._key(key)
        with self.begin("remove") as conn:
            return conn.execute(delete(table).where(table.c.message_id == text)).rowcount > 0

    def confirm(self, key: Hashable) -> bool:
        """Nothing to do: ``add`` committed already."""
        return True

    def clear(self) -> None:
        """Forget every id of this table."""
        from sqlalchemy import delete

        with self.begin("clear") as conn:
            conn.execute(delete(self.tables()))

    def remove_older_than(self, seconds: float) -> int:
        """Forget ids added more than ``seconds`` ago (housekeeping); returns how many."""
        from sqlalchemy import delete

        table = self.tables()
        with self.begin("remove_older_than") as conn:
            return int(conn.execute(delete(table).where(table.c.created_at < time.time() - seconds)).rowcount)

    def __len__(self) -> int:
        from sqlalchemy import func, select

        with self.begin("count") as conn:
            return int(conn.execute(select(func.count()).select_from(self.tables())).scalar_one())

    def __contains__(self, key: object) -> bool:
        return self.contains(key)  # type: ignore[arg-type]

"""SQL claim-check repository: messages set aside by ``claim_check``, kept in tables.

``SqlClaimCheckRepository("default", "claim_check")`` stores keyed entries in the table
``claim_check`` (``claim_key`` primary key, the message as JSON, a version) and stacked
messages (``push``/``pop``) in ``claim_check_stack`` (an auto-increment id orders each stack).
Entries survive restarts and are shared by every engine process using the tables: a message
set by one process can be claimed by another. ``get_and_remove`` and ``pop`` are atomic across
processes (a conditional delete decides; of two concurrent pops of one entry exactly one gets
it). Each call is one short transaction, committed before it returns.

What is stored of a message: see ``eip.repositories.serialization`` (the body must be JSON
data, or bytes, tuples, Decimal, dates...; headers of other types are left out; never pickle).
Keys (and stack names) are stored as canonical JSON text of at most 512 characters, so ``1``
and ``"1"`` are different keys. Nothing expires: entries stay until claimed or ``clear``.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from eip.errors import SqlError
from eip.repositories.serialization import dumps_message, encode_key, loads_message
from eip.repositories.sql_base import SqlRepositoryBase

if TYPE_CHECKING:
    from sqlalchemy import MetaData

    from eip.datasources import DataSource
    from eip.message import Message

MAX_KEY_LENGTH = 512


class SqlClaimCheckRepository(SqlRepositoryBase):
    """A durable ``ClaimCheckRepository`` in tables ``name`` and ``name_stack`` of
    ``datasource`` (a name, a URL or a ``DataSource``), created on first use unless
    ``create_tables=False``."""

    kind = "SqlClaimCheckRepository"

    def __init__(
        self, datasource: str | DataSource = "default", name: str = "claim_check", *, create_tables: bool = True
    ) -> None:
        super().__init__(datasource, name, create_tables=create_tables)

    def _define(self, metadata: MetaData) -> Any:
        from sqlalchemy import Column, Double, Index, Integer, String, Table, Text
        from sqlalchemy.dialects.mysql import LONGTEXT

        payload = Text().with_variant(LONGTEXT(), "mysql", "mariadb")
        entries = Table(
            self.name,
            metadata,
            Column("claim_key", String(MAX_KEY_LENGTH), primary_key=True),
            Column("message", payload, nullable=False),
            Column("version", Integer, nullable=False),
            Column("created_at", Double, nullable=False),
        )
        stack = Table(
            f"{self.name}_stack",
            metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("stack", String(MAX_KEY_LENGTH), nullable=False),
            Column("message", payload, nullable=False),
            Column("created_at", Double, nullable=False),
            Index(f"ix_{self.name}_stack", "stack"),
        )
        return entries, stack

    def _key(self, key: Hashable) -> str:
        text = encode_key(key, f"{self.kind} '{self.name}' key")
        if len(text) > MAX_KEY_LENGTH:
            raise SqlError(
                f"{self.kind} '{self.name}': key longer than {MAX_KEY_LENGTH} characters as "
                f"JSON ({len(text)}): {text[:40]}...",
                datasource=self.datasource_name,
            )
        return text

    def add(self, key: Hashable, message: Message) -> bool:
        """Store a copy of ``message`` under ``key``; True when the key is new (else replaced)."""
        from sqlalchemy import exc as sa_exc
        from sqlalchemy import insert, update

        entries, _ = self.tables()
        text_key = self._key(key)
        payload = dumps_message(message, f"{self.kind} '{self.name}'")
        while True:
            try:
                with self.begin("add") as conn:
                    conn.execute(
                        insert(entries).values(claim_key=text_key, message=payload, version=1, created_at=time.time())
                    )
                return True
            except sa_exc.IntegrityError:
                pass
            with self.begin("add") as conn:
                replaced = conn.execute(
                    update(entries)
                    .where(entries.c.claim_key == text_key)
                    .values(message=payload, version=entries.c.version + 1, created_at=time.time())
                ).rowcount
            if replaced:
                return False
            # claimed by someone between our insert and our update: insert again

    def get(self, key: Hashable) -> Message | None:
        from sqlalchemy import select

        entries, _ = self.tables()
        text_key = self._key(key)
        with self.begin("get") as conn:
            row = conn.execute(select(entries.c.message).where(entries.c.claim_key == text_key)).first()
        return None if row is None else loads_message(row[0])

    def get_and_remove(self, key: Hashable) -> Message | None:
        """The entry of ``key``, removed; of concurrent callers only one gets it."""
        from sqlalchemy import delete, select

        entries, _ = self.tables()
        text_key = self._key(key)
        while True:
            with self.begin("get_and_remove") as conn:
                row = conn.execute(
                    select(entries.c.message, entries.c.version).where(entries.c.claim_key == text_key)
                ).first()
                if row is None:
                    return None
                deleted = conn.execute(
                    delete(entries).where(entries.c.claim_key == text_key).where(entries.c.version == row[1])
                ).rowcount
            if deleted:
                return loads_message(row[0])

    def contains(self, key: Hashable) -> bool:
        from sqlalchemy import select

        entries, _ = self.tables()
        text_key = self._key(key)
        with self.begin("contains") as conn:
            return conn.execute(select(entries.c.claim_key).where(entries.c.claim_key == text_key)).first() is not None

    def push(self, message: Message, stack: Hashable | None = None) -> None:
        from sqlalchemy import insert

        _, stacks = self.tables()
        name = self._key(stack)
        payload = dumps_message(message, f"{self.kind} '{self.name}'")
        with self.begin("push") as conn:
            conn.execute(insert(stacks).values(stack=name, message=payload, created_at=time.time()))

    def pop(self, stack: Hashable | None = None) -> Message | None:
        """The most recently pushed message of ``stack``, removed; None when it is empty."""
        from sqlalchemy import delete, select

        _, stacks = self.tables()
        name = self._key(stack)
        while True:
            with self.begin("pop") as conn:
                row = conn.execute(
                    select(stacks.c.id, stacks.c.message)
                    .where(stacks.c.stack == name)
                    .order_by(stacks.c.id.desc())
                    .limit(1)
                ).first()
                if row is None:
                    return None
                deleted = conn.execute(delete(stacks).where(stacks.c.id == row[0])).rowcount
            if deleted:
                return loads_message(row[1])

    def clear(self) -> None:
        from sqlalchemy import delete

        entries, stacks = self.tables()
        with self.begin("clear") as conn:
            conn.execute(delete(entries))
            conn.execute(delete(stacks))

    def __len__(self) -> int:
        """Keyed entries plus stacked messages."""
        from sqlalchemy import func, select

        entries, stacks = self.tables()
        with self.begin("count") as conn:
            return int(
                conn.execute(select(func.count()).select_from(entries)).scalar_one()
                + conn.execute(select(func.count()).select_from(stacks)).scalar_one()
            )

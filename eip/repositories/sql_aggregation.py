"""SQL aggregation repository: the aggregator's open groups and completed exchanges in tables.

``SqlAggregationRepository("default", "orders_agg")`` (datasource name, URL or ``DataSource``;
table name) keeps, as Camel's ``JdbcAggregationRepository`` does, two tables made on first use:

* ``orders_agg``: one row per open group (``correlation_key``, the aggregated exchange as
  JSON, ``version``). Every message aggregated is committed here before the aggregator returns,
  so its source may be acknowledged: **a crash loses no aggregated message**. The groups stay
  when the engine stops (unless ``force_completion_on_stop``) and the next start re-arms their
  completion timeout.
* ``orders_agg_completed``: a group that completes moves here (in the same transaction that
  deletes it above) and is **confirmed (deleted) as soon as the aggregated exchange finished
  the aggregator's steps**, their sends confirmed (the aggregator lets producers confirm before
  returning rather than later, in bursts). A crash or a failure in between leaves it here, and
  recovery redelivers it: after a crash, **at most the groups being emitted at that moment**
  are emitted twice, one per thread completing groups (consumer threads, the aggregator's
  completion checker, the recovery thread).

Exchanges are stored as JSON (``eip.repositories.serialization``: the body must be JSON data
or one of the tagged types; headers and properties that cannot be stored are left out;
never pickle). The correlation key is stored as canonical JSON text (at most 512 characters).

Optimistic locking: each group row has a version. The aggregator reads a group, aggregates,
and writes back only if the version is unchanged; when another process (or another
repository object on the same table) wrote first, the write raises ``OptimisticLockingError``
and the aggregator **retries with the fresh group** (up to ``optimistic_lock_retries`` times,
with a short random back-off, then the incoming exchange fails). An exchange is never dropped
silently (Camel's CAMEL-7810). Several engine processes may therefore share one table on
PostgreSQL (or MySQL/MariaDB); SQLite works for one process (or a few, serialised by its lock).

Recovery (``use_recovery=True``): a background thread, started with the aggregator's route,
scans ``_completed`` about 1 s after start and then every ``recovery_interval`` seconds (Camel:
5 s) and redelivers, through the aggregator's steps, each exchange nobody is working on:
headers ``CamelRedelivered=True``, ``CamelRedeliveryCounter`` (1, 2, ...). With
``maximum_redeliveries`` set, an exchange that failed that many redeliveries goes to
``dead_letter_uri`` and is confirmed; without a ``dead_letter_uri``, or when sending there
fails, it is **parked**: kept in the table, never redelivered again automatically, logged as
an error (``parked()`` lists them, ``unpark()`` makes them eligible again). No endless loop
on a failing dead letter endpoint (Camel's PR #1654). ``maximum_redeliveries=None`` (the
default, as Camel) redelivers until it succeeds.

"Nobody is working on it" is decided by a lease, which makes recovery safe with several
processes (unlike Camel's plain JDBC repository): a completed row records its owner (this
repository's ``instance_id``) and ``lease_until``; the owner's recovery thread renews the
leases of its in-flight exchanges at every scan, a failed exchange is released at once, and a
row is claimed for redelivery with a conditional update (of two processes exactly one wins).
Rows of a process that died are redelivered once their lease ran out (``recovery_lease``,
default the larger of 30 s and 3 recovery intervals); give each process a stable
``instance_id`` to have its own rows recovered at once when it starts again. Process clocks
must agree to well within the lease (NTP). Every process sharing the tables should use the
same recovery settings.

Not kept across a restart: the aggregator's closed correlation keys
(``close_correlation_key_on_completion``) and the exact completion deadlines (each open group
gets a full ``completion_timeout`` again). Use one repository (table) per aggregator.
"""

from __future__ import annotations

import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from eip.errors import ConfigurationError, OptimisticLockingError, SqlError
from eip.options import parse_duration
from eip.repositories.serialization import (
    decode_key,
    dumps_exchange,
    encode_key,
    loads_exchange,
)
from eip.repositories.sql_aggregation_recovery import PARKED, SqlCompletedExchanges

if TYPE_CHECKING:
    from sqlalchemy import MetaData

    from eip.datasources import DataSource
    from eip.exchange import Exchange

__all__ = ["MAX_KEY_LENGTH", "PARKED", "SqlAggregationRepository"]

MAX_KEY_LENGTH = 512


class SqlAggregationRepository(SqlCompletedExchanges):
    """A durable, recoverable ``AggregationRepository`` (see the module docstring)."""

    kind = "SqlAggregationRepository"

    def __init__(
        self,
        datasource: str | DataSource = "default",
        name: str = "aggregation",
        *,
        create_tables: bool = True,
        use_recovery: bool = True,
        recovery_interval: float | str = 5.0,
        maximum_redeliveries: int | None = None,
        dead_letter_uri: str | None = None,
        recovery_lease: float | str | None = None,
        instance_id: str | None = None,
        optimistic_lock_retries: int = 100,
    ) -> None:
        super().__init__(datasource, name, create_tables=create_tables)
        try:
            self.recovery_interval = parse_duration(recovery_interval)
            lease = None if recovery_lease is None else parse_duration(recovery_lease)
        except ValueError as exc:
            raise ConfigurationError(f"{self.kind} '{name}': {exc}") from None
        if self.recovery_interval <= 0:
            raise ConfigurationError(
                f"{self.kind} '{name}': recovery_interval must be positive, got {recovery_interval!r}"
            )
        if lease is not None and lease <= 0:
            raise ConfigurationError(f"{self.kind} '{name}': recovery_lease must be positive, got {recovery_lease!r}")
        self.recovery_lease = lease if lease is not None else max(30.0, 3 * self.recovery_interval)
        if maximum_redeliveries is not None and (
            not isinstance(maximum_redeliveries, int)
            or isinstance(maximum_redeliveries, bool)
            or maximum_redeliveries < 0
        ):
            raise ConfigurationError(
                f"{self.kind} '{name}': maximum_redeliveries must be None (no limit) "
                f"or an int >= 0, got {maximum_redeliveries!r}"
            )
        if dead_letter_uri is not None and (not isinstance(dead_letter_uri, str) or not dead_letter_uri):
            raise ConfigurationError(
                f"{self.kind} '{name}': dead_letter_uri must be an endpoint URI, got {dead_letter_uri!r}"
            )
        if instance_id is None:
            instance_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        if not isinstance(instance_id, str) or not instance_id or instance_id == PARKED or len(instance_id) > 255:
            raise ConfigurationError(
                f"{self.kind} '{name}': instance_id must be a text of 1 to 255 "
                f"characters other than {PARKED!r}, got {instance_id!r}"
            )
        if not isinstance(optimistic_lock_retries, int) or optimistic_lock_retries < 0:
            raise ConfigurationError(
                f"{self.kind} '{name}': optimistic_lock_retries must be an int >= 0, got {optimistic_lock_retries!r}"
            )
        self.use_recovery = use_recovery
        self.maximum_redeliveries = maximum_redeliveries
        self.dead_letter_uri = dead_letter_uri
        self.instance_id = instance_id
        self.optimistic_lock_retries = optimistic_lock_retries
        self._local = threading.local()
        self._recovery_thread: threading.Thread | None = None
        self._recovery_stop = threading.Event()
        self._recovery_lock = threading.Lock()

    def _define(self, metadata: MetaData) -> Any:
        from sqlalchemy import Column, Double, Index, Integer, String, Table, Text
        from sqlalchemy.dialects.mysql import LONGTEXT

        payload = Text().with_variant(LONGTEXT(), "mysql", "mariadb")
        groups = Table(
            self.name,
            metadata,
            Column("correlation_key", String(MAX_KEY_LENGTH), primary_key=True),
            Column("exchange", payload, nullable=False),
            Column("version", Integer, nullable=False),
        )
        completed = Table(
            f"{self.name}_completed",
            metadata,
            Column("id", String(255), primary_key=True),
            Column("correlation_key", String(MAX_KEY_LENGTH), nullable=False),
            Column("exchange", payload, nullable=False),
            Column("version", Integer, nullable=False),
            Column("redeliveries", Integer, nullable=False),
            Column("owner", String(255)),
            Column("lease_until", Double, nullable=False),
            Index(f"ix_{self.name}_lease", "lease_until"),
        )
        return groups, completed

    def _key(self, key: Hashable) -> str:
        text = encode_key(key, f"{self.kind} '{self.name}' correlation key")
        if len(text) > MAX_KEY_LENGTH:
            raise SqlError(
                f"{self.kind} '{self.name}': correlation key longer than {MAX_KEY_LENGTH} "
                f"characters as JSON ({len(text)}): {text[:40]}...",
                datasource=self.datasource_name,
            )
        return text

    def _dumps(self, exchange: Exchange) -> str:
        return dumps_exchange(exchange, f"{self.kind} '{self.name}'")

    # -- open groups (the AggregationRepository protocol) -----------------------------------------
    def get(self, key: Hashable) -> Exchange | None:
        """The group of ``key`` (a fresh object each call). Remembers, for this thread, the
        version read, which the next ``add``/``remove`` of ``key`` on this thread checks."""
        row = self._select_group(self._key(key))
        return None if row is None else loads_exchange(row[1])

    def _select_group(self, text_key: str) -> Any:
        from sqlalchemy import select

        groups, _ = self.tables()
        with self.begin("get") as conn:
            row = conn.execute(
                select(groups.c.version, groups.c.exchange).where(groups.c.correlation_key == text_key)
            ).first()
        self._local.seen = (text_key, None if row is None else row[0], None if row is None else row[1])
        return row

    def _seen(self, text_key: str) -> tuple[str, int | None, str | None] | None:
        seen = getattr(self._local, "seen", None)
        self._local.seen = None
        return seen if seen is not None and seen[0] == text_key else None

    def add(self, key: Hashable, exchange: Exchange) -> Exchange | None:
        """Store ``exchange`` as the group of ``key``; returns the previous group or None.

        After a ``get(key)`` on this thread the write is conditional on the version read:
        ``OptimisticLockingError`` when someone else wrote the group in between (the caller
        aggregates again). Without a ``get`` first it reads and writes itself, retrying."""
        text_key = self._key(key)
        payload = self._dumps(exchange)
        seen = self._seen(text_key)
        if seen is not None:
            self._write(key, text_key, payload, seen[1])
            return None if seen[2] is None else loads_exchange(seen[2])
        attempt = 0
        while True:
            row = self._select_group(text_key)
            self._local.seen = None
            try:
                self._write(key, text_key, payload, None if row is None else row[0])
            except OptimisticLockingError:
                if attempt >= self.optimistic_lock_retries:
                    raise
                attempt = _back_off(attempt)
                continue
            return None if row is None else loads_exchange(row[1])

    def _write(self, key: Hashable, text_key: str, payload: str, version: int | None) -> None:
        from sqlalchemy import exc as sa_exc
        from sqlalchemy import insert, update

        groups, _ = self.tables()
        if version is None:
            try:
                with self.begin("add") as conn:
                    conn.execute(insert(groups).values(correlation_key=text_key, exchange=payload, version=1))
            except sa_exc.IntegrityError:
                raise self._conflict(key) from None
            return
        with self.begin("add") as conn:
            changed = conn.execute(
                update(groups)
                .where(groups.c.correlation_key == text_key, groups.c.version == version)
                .values(exchange=payload, version=version + 1)
            ).rowcount
        if changed != 1:
            raise self._conflict(key)

    def _conflict(self, key: Hashable) -> OptimisticLockingError:
        return OptimisticLockingError(
            f"{self.kind} '{self.name}': the group of correlation key {key!r} "
            "was changed by someone else since it was read",
            key=key,
        )

    def remove(self, key: Hashable, exchange: Exchange) -> None:
        """The group of ``key`` completed as ``exchange``: in one transaction delete the group
        (checking the version read by ``get``) and store ``exchange`` as completed, owned by
        this instance, until ``confirm``."""
        from sqlalchemy import delete, insert
        from sqlalchemy import exc as sa_exc

        groups, completed = self.tables()
        text_key = self._key(key)
        seen = self._seen(text_key)
        payload = self._dumps(exchange)
        for attempt in range(3):
            try:
                with self.begin("remove") as conn:
                    condition = groups.c.correlation_key == text_key
                    if seen is None:
                        conn.execute(delete(groups).where(condition))
                    elif seen[1] is not None:
                        gone = conn.execute(delete(groups).where(condition, groups.c.version == seen[1])).rowcount
                        if gone != 1:
                            raise self._conflict(key)
                    conn.execute(
                        insert(completed).values(
                            id=exchange.exchange_id,
                            correlation_key=text_key,
                            exchange=payload,
                            version=1,
                            redeliveries=0,
                            owner=self.instance_id,
                            lease_until=time.time() + self.recovery_lease,
                        )
                    )
                return
            except sa_exc.IntegrityError as exc:
                if attempt == 2:
                    raise self._error(exc, "remove") from exc
                # An unconfirmed completed exchange of an earlier process has this id (ids restart
                # with the process): give this one an id of its own.
                exchange._id = f"ID-{uuid.uuid4().hex}"
                payload = self._dumps(exchange)

    def keys(self) -> set[Hashable]:
        from sqlalchemy import select

        groups, _ = self.tables()
        with self.begin("keys") as conn:
            rows = conn.execute(select(groups.c.correlation_key)).all()
        return {decode_key(row[0]) for row in rows}

    def __len__(self) -> int:
        """The number of open groups."""
        from sqlalchemy import func, select

        groups, _ = self.tables()
        with self.begin("count") as conn:
            return int(conn.execute(select(func.count()).select_from(groups)).scalar_one())


def _back_off(attempt: int) -> int:
    time.sleep(random.uniform(0.0, min(0.1, 0.002 * 2 ** min(attempt, 10))))
    return attempt + 1

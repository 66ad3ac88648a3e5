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

import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

from eip import constants as c
from eip.errors import ConfigurationError, OptimisticLockingError, SqlError
from eip.options import parse_duration
from eip.repositories.serialization import (
    decode_key,
    dumps_exchange,
    encode_key,
    loads_exchange,
)
from eip.repositories.sql_base import SqlRepositoryBase

if TYPE_CHECKING:
    from sqlalchemy import MetaData

    from eip.datasources import DataSource
    from eip.exchange import Exchange

log = logging.getLogger("eip.repositories.aggregation")

MAX_KEY_LENGTH = 512
#: ``owner`` of a parked completed exchange (never redelivered automatically).
PARKED = "parked"
_PARKED_UNTIL = 1e18
_SCAN_BATCH = 100


class SqlAggregationRepository(SqlRepositoryBase):
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

    def confirm(self, exchange_id: str) -> None:
        """The completed exchange ``exchange_id`` went through the steps: delete it for good."""
        from sqlalchemy import delete

        _, completed = self.tables()
        with self.begin("confirm") as conn:
            conn.execute(delete(completed).where(completed.c.id == exchange_id))

    def release(self, exchange_id: str) -> None:
        """The completed exchange ``exchange_id`` failed in the steps: let recovery redeliver it."""
        from sqlalchemy import update

        _, completed = self.tables()
        with self.begin("release") as conn:
            conn.execute(
                update(completed)
                .where(completed.c.id == exchange_id, completed.c.owner == self.instance_id)
                .values(owner=None, lease_until=0.0)
            )

    def __len__(self) -> int:
        """The number of open groups."""
        from sqlalchemy import func, select

        groups, _ = self.tables()
        with self.begin("count") as conn:
            return int(conn.execute(select(func.count()).select_from(groups)).scalar_one())

    # -- completed exchanges ----------------------------------------------------------------------
    def scan(self) -> list[str]:
        """Ids of every completed exchange not confirmed yet (in flight, failed or parked)."""
        from sqlalchemy import select

        _, completed = self.tables()
        with self.begin("scan") as conn:
            return [row[0] for row in conn.execute(select(completed.c.id).order_by(completed.c.id))]

    def get_completed(self, exchange_id: str) -> Exchange | None:
        """The stored completed exchange ``exchange_id`` (not claimed: for inspection)."""
        from sqlalchemy import select

        _, completed = self.tables()
        with self.begin("get_completed") as conn:
            row = conn.execute(select(completed.c.exchange).where(completed.c.id == exchange_id)).first()
        return None if row is None else loads_exchange(row[0])

    def parked(self) -> list[str]:
        """Ids of the completed exchanges parked after their redeliveries ran out."""
        from sqlalchemy import select

        _, completed = self.tables()
        with self.begin("parked") as conn:
            return [
                row[0]
                for row in conn.execute(
                    select(completed.c.id).where(completed.c.owner == PARKED).order_by(completed.c.id)
                )
            ]

    def unpark(self, exchange_id: str | None = None) -> int:
        """Make one (or every) parked exchange eligible for recovery again, with its redelivery
        count reset; returns how many."""
        from sqlalchemy import update

        _, completed = self.tables()
        statement = update(completed).where(completed.c.owner == PARKED)
        if exchange_id is not None:
            statement = statement.where(completed.c.id == exchange_id)
        with self.begin("unpark") as conn:
            return int(conn.execute(statement.values(owner=None, lease_until=0.0, redeliveries=0)).rowcount)

    def _park(self, exchange_id: str) -> None:
        from sqlalchemy import update

        _, completed = self.tables()
        with self.begin("park") as conn:
            conn.execute(
                update(completed).where(completed.c.id == exchange_id).values(owner=PARKED, lease_until=_PARKED_UNTIL)
            )

    # -- recovery ---------------------------------------------------------------------------------
    def recover(self, redeliver: Callable[[Exchange], None], stop: threading.Event | None = None) -> int:
        """One recovery scan: renew this instance's leases, then claim each completed exchange
        whose lease ran out and either ``redeliver`` it (which must confirm or release it) or,
        past ``maximum_redeliveries``, dead-letter or park it. Returns how many were claimed."""
        from sqlalchemy import select, update

        _, completed = self.tables()
        now = time.time()
        until = now + self.recovery_lease
        with self.begin("recover") as conn:
            conn.execute(update(completed).where(completed.c.owner == self.instance_id).values(lease_until=until))
            rows = conn.execute(
                select(
                    completed.c.id,
                    completed.c.version,
                    completed.c.redeliveries,
                    completed.c.correlation_key,
                    completed.c.exchange,
                )
                .where(completed.c.lease_until < now)
                .order_by(completed.c.lease_until)
                .limit(_SCAN_BATCH)
            ).all()
        claimed = 0
        for exchange_id, version, redeliveries, text_key, payload in rows:
            if stop is not None and stop.is_set():
                break
            with self.begin("recover") as conn:
                won = conn.execute(
                    update(completed)
                    .where(completed.c.id == exchange_id, completed.c.version == version)
                    .values(
                        owner=self.instance_id, lease_until=until, version=version + 1, redeliveries=redeliveries + 1
                    )
                ).rowcount
            if won != 1:
                continue  # another process claimed it first
            claimed += 1
            count = redeliveries + 1
            exchange = loads_exchange(payload)
            exchange._id = exchange_id
            headers = exchange.message.headers
            headers[c.REDELIVERED] = True
            if self.maximum_redeliveries is not None:
                headers[c.REDELIVERY_MAX_COUNTER] = self.maximum_redeliveries
            exchange.properties[c.AGGREGATED_CORRELATION_KEY] = decode_key(text_key)
            if self.maximum_redeliveries is not None and count > self.maximum_redeliveries:
                headers[c.REDELIVERY_COUNTER] = count - 1  # the redeliveries that were made
                self._exhausted(exchange, count - 1)
                continue
            headers[c.REDELIVERY_COUNTER] = count
            log.info(
                "%s '%s': redelivering completed exchange %s (attempt %d)", self.kind, self.name, exchange_id, count
            )
            try:
                redeliver(exchange)
            except Exception as exc:  # noqa: BLE001 - the aggregator logs its own; keep recovering
                log.error("%s '%s': redelivering %s failed: %s", self.kind, self.name, exchange_id, exc)
                self.release(exchange_id)
        return claimed

    def _exhausted(self, exchange: Exchange, redeliveries: int) -> None:
        exchange_id = exchange.exchange_id
        uri = self.dead_letter_uri
        engine = self.engine
        if uri is None or engine is None:
            self._park(exchange_id)
            log.error(
                "%s '%s': completed exchange %s failed %d redelivery(ies); parked in table %s_completed "
                "(%s; unpark() to retry)",
                self.kind,
                self.name,
                exchange_id,
                redeliveries,
                self.name,
                "no dead_letter_uri" if uri is None else "not bound to an engine",
            )
            return
        if exchange.exception is not None:
            exchange.properties[c.EXCEPTION_CAUGHT] = exchange.exception
            exchange.exception = None
        result = engine.template.send(uri, exchange)
        if result.exception is not None:
            self._park(exchange_id)
            log.error(
                "%s '%s': completed exchange %s could not be moved to %s (%s: %s); parked in table "
                "%s_completed (unpark() to retry)",
                self.kind,
                self.name,
                exchange_id,
                uri,
                type(result.exception).__name__,
                result.exception,
                self.name,
            )
            return
        self.confirm(exchange_id)
        log.warning(
            "%s '%s': completed exchange %s failed %d redelivery(ies); moved to %s",
            self.kind,
            self.name,
            exchange_id,
            redeliveries,
            uri,
        )

    def start_recovery(self, redeliver: Callable[[Exchange], None], name: str = "") -> None:
        """Start the recovery thread (called by the aggregator when its route starts): first scan
        after about 1 s, then every ``recovery_interval`` s. A no-op with ``use_recovery=False``."""
        if not self.use_recovery:
            return
        with self._recovery_lock:
            if self._recovery_thread is not None and self._recovery_thread.is_alive():
                raise ConfigurationError(
                    f"{self.kind} '{self.name}' is already used by a running aggregator; "
                    "give each aggregator its own repository (table)"
                )
            self._release_mine()  # left by an earlier run with this instance_id
            stop = self._recovery_stop = threading.Event()
            thread = threading.Thread(
                target=self._recovery_loop,
                args=(redeliver, stop),
                name=name or f"eip-{self.name}-recovery",
                daemon=True,
            )
            self._recovery_thread = thread
            thread.start()

    def stop_recovery(self, timeout: float = 30.0) -> None:
        """Stop the recovery thread (waiting up to ``timeout`` s for a scan in progress) and
        release the leases this instance still holds, so a restart recovers them at once."""
        with self._recovery_lock:
            thread = self._recovery_thread
            self._recovery_stop.set()
            self._recovery_thread = None
        if thread is None:
            return
        if thread is not threading.current_thread():
            thread.join(timeout)
        self._release_mine()

    def _release_mine(self) -> None:
        from sqlalchemy import update

        try:
            _, completed = self.tables()
            with self.begin("release") as conn:
                conn.execute(
                    update(completed).where(completed.c.owner == self.instance_id).values(owner=None, lease_until=0.0)
                )
        except Exception as exc:  # noqa: BLE001 - the leases then simply run out
            log.warning("%s '%s': could not release leases: %s", self.kind, self.name, exc)

    def _recovery_loop(self, redeliver: Callable[[Exchange], None], stop: threading.Event) -> None:
        delay = min(1.0, self.recovery_interval)
        while not stop.wait(delay):
            delay = self.recovery_interval
            try:
                self.recover(redeliver, stop)
            except Exception as exc:  # noqa: BLE001 - the database may be back at the next scan
                log.error("%s '%s': recovery scan failed: %s", self.kind, self.name, exc)


def _back_off(attempt: int) -> int:
    time.sleep(random.uniform(0.0, min(0.1, 0.002 * 2 ** min(attempt, 10))))
    return attempt + 1

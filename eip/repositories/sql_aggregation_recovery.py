"""Completed exchanges of the SQL aggregation repository and their recovery.

The ``<name>_completed`` table's operations (confirm, release, scan, park/unpark) and the
recovery thread that redelivers what nobody is working on (leases, dead letter, parking);
``SqlAggregationRepository`` (``eip.repositories.sql_aggregation``, whose docstring describes
the whole) inherits them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from eip import constants as c
from eip.errors import ConfigurationError
from eip.repositories.serialization import decode_key, loads_exchange
from eip.repositories.sql_base import SqlRepositoryBase

if TYPE_CHECKING:
    from eip.exchange import Exchange

log = logging.getLogger("eip.repositories.aggregation")

#: ``owner`` of a parked completed exchange (never redelivered automatically).
PARKED = "parked"
_PARKED_UNTIL = 1e18
_SCAN_BATCH = 100


class SqlCompletedExchanges(SqlRepositoryBase):
    """The completed-exchange table and recovery of ``SqlAggregationRepository`` (set up by its
    ``__init__``)."""

    kind = "SqlAggregationRepository"
    use_recovery: bool
    recovery_interval: float
    recovery_lease: float
    maximum_redeliveries: int | None
    dead_letter_uri: str | None
    instance_id: str
    _recovery_thread: threading.Thread | None
    _recovery_stop: threading.Event
    _recovery_lock: threading.Lock

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

"""Aggregator: combine related messages (same correlation key) into one, then send it on.

Contract (Camel's semantics):

* The correlation expression gives each incoming exchange's group key. None or an empty text
  is invalid: ``AggregationError``, or with ``ignore_invalid_correlation_keys`` the exchange
  simply is not aggregated. A late arrival for a key closed by
  ``close_correlation_key_on_completion`` raises ``ClosedCorrelationKeyError``.
* A **copy** of the incoming exchange (with no unit of work) is aggregated with the strategy
  (first call ``old=None``; it returns old or new, never None: ``AggregationError``). The
  incoming exchange itself continues after the aggregate block, unchanged.
* A group completes, first condition wins, checked in Camel's order: ``completion_predicate``
  (on the aggregated exchange, or on the incoming one with ``eager_check_completion``), then
  ``completion_size`` (an int, or an expression evaluated on that same exchange), then
  ``completion_timeout`` (no new message for that key for so many seconds; a number or an
  expression), or ``completion_interval`` (every so many seconds, every open group), or the
  route stopping: ``force_completion_on_stop`` completes every open group at once;
  ``complete_all_on_stop`` first lets them complete by their timeout or interval (as Camel's
  ``completeAllOnStop`` waits), within the engine's shutdown timeout, then forces the rest
  (a stopped consumer can no longer complete them by size).
* The completed exchange gets ``CamelAggregatedSize``, ``CamelAggregatedCompletedBy``
  (size, predicate, timeout, interval or force) and ``CamelAggregatedCorrelationKey``, and
  runs through the block's steps synchronously, on the thread that completed it: the incoming
  message's thread for size and predicate, the checker thread for timeout and interval, the
  stopping thread for force. With ``discard_on_completion_timeout`` a group that times out is
  dropped instead.
* A failure in those steps goes to the route's error handler; if it stays unhandled it is
  logged with the route and node and counted (``failed_completions``), never raised into the
  unrelated incoming exchange.

Asynchronous boundary, and what a crash loses: the incoming exchange completes (its source is
acknowledged) as soon as it is aggregated. With the default in-memory repository a crash
therefore loses **every open group**: each message aggregated into a group that has not
completed yet, plus a group completed but still inside the block's steps. A durable
repository (``SqlAggregationRepository``, passed as ``repository=``) commits each aggregation
before the incoming exchange goes on, and keeps a completed exchange until it went through the
steps: it is confirmed as soon as they returned (producers in the steps confirm before returning,
an AMQP publish waits for its publisher confirm; a hold a step took explicitly is waited for);
after a failure it is released, and the repository's recovery redelivers it (``redeliver``).
So a crash re-emits at most the groups being emitted at that moment: one per thread that
completes groups (each consumer thread, the completion checker, the recovery thread).
Messages aggregated whose source was not acknowledged yet are delivered again by their source
and aggregated again (its at-least-once window). A conflicting write by another process
(``OptimisticLockingError``) is retried on the fresh group, never dropped.

Threads: any number of consumer threads may aggregate at once. The groups are guarded by one
lock per aggregator (the repository's own for the in-memory one), held while the strategy and
the completion checks run and never while the completed exchange is routed.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, NoReturn, cast

from eip import constants as c
from eip.errors import (
    AggregationError,
    ClosedCorrelationKeyError,
    OptimisticLockingError,
)
from eip.processors.aggregate.completion import CompletionChecker, TimeoutMap
from eip.repositories.aggregation import MemoryAggregationRepository
from eip.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from eip.exchange import Exchange

log = logging.getLogger("eip.processors.aggregate")

_SIZE = c.AGGREGATED_SIZE


class AggregateProcessor:
    """The aggregator of one ``aggregate()`` block; a route service (checker, stop behaviour)."""

    def __init__(
        self,
        *,
        correlation: Callable[[Any], Any],
        strategy: Callable[..., Any],
        steps: Any,
        repository: Any,
        route_id: str,
        node_id: str | None,
        completion_size: int | None = None,
        completion_size_expression: Callable[[Any], Any] | None = None,
        completion_timeout: float | None = None,
        completion_timeout_expression: Callable[[Any], Any] | None = None,
        completion_interval: float | None = None,
        completion_predicate: Callable[[Any], Any] | None = None,
        eager_check_completion: bool = False,
        complete_on_stop: bool = False,
        ignore_invalid_correlation_keys: bool = False,
        close_correlation_key_on_completion: int | None = None,
        discard_on_completion_timeout: bool = False,
        checker_interval: float = 0.1,
        wait_on_stop: float = 0.0,
    ) -> None:
        self.correlation = correlation
        self.strategy = strategy
        self.reads_new_only = getattr(strategy, "reads_new_only", False)
        self.steps = steps
        self.repository = repository
        self.route_id = route_id
        self.node_id = node_id
        self.completion_size = completion_size
        self.completion_size_expression = completion_size_expression
        self.completion_timeout = completion_timeout
        self.completion_timeout_expression = completion_timeout_expression
        self.completion_interval = completion_interval
        self.completion_predicate = completion_predicate
        self.eager = eager_check_completion
        self.complete_on_stop = complete_on_stop
        #: complete_all_on_stop: seconds to let open groups complete by their own timeout or
        #: interval before the rest are forced (Camel waits for them; here bounded by the
        #: engine's shutdown timeout).
        self.wait_on_stop = wait_on_stop
        self.ignore_invalid_keys = ignore_invalid_correlation_keys
        self.discard_on_timeout = discard_on_completion_timeout
        #: Closed keys, oldest first (bounded when the option is > 0); None when not closing.
        self.closed: OrderedDict[Hashable, None] | None = (
            None if close_correlation_key_on_completion is None else OrderedDict()
        )
        self.closed_capacity = close_correlation_key_on_completion or 0
        self._check_only_size = completion_predicate is None and completion_size_expression is None

        if type(repository) is MemoryAggregationRepository:
            # Work on the dict under the repository's own lock: one acquisition per message.
            groups = repository.groups
            self.lock = repository.lock
            self._get = groups.get
            self._put = groups.__setitem__
            self._remove = groups.pop  # pop(key, exchange): no KeyError for a never-stored group
            self._keys: Callable[[], Any] = lambda: list(groups)
            self._confirm: Callable[[str], None] | None = None
            self._release: Callable[[str], None] | None = None
        else:
            self.lock = threading.Lock()
            self._get = repository.get
            self._put = repository.add
            self._remove = repository.remove
            self._keys = repository.keys
            self._confirm = repository.confirm
            # A durable repository: told when a completed exchange failed in the steps (so its
            # recovery may redeliver it); its optimistic-lock conflicts are retried here.
            self._release = getattr(repository, "release", None)
        self._lock_retries = int(getattr(repository, "optimistic_lock_retries", 0) or 0)

        timed = completion_timeout is not None or completion_timeout_expression is not None
        self.timeouts: TimeoutMap | None = TimeoutMap(ordered=completion_timeout_expression is None) if timed else None
        name = f"eip-{route_id}-{node_id or 'aggregate'}-checker"
        self.checker: CompletionChecker | None = None
        if timed:
            self.checker = CompletionChecker(name, checker_interval, self._complete_timed_out)
        elif completion_interval is not None:
            self.checker = CompletionChecker(name, completion_interval, self._complete_interval)

        # Statistics (exact: updated under the lock, failures under their own).
        self.completed_groups = 0
        self.discarded_groups = 0
        self.failed_completions = 0
        self._failure_lock = threading.Lock()
        if (
            self._check_only_size
            and completion_size is not None
            and not eager_check_completion
            and self.closed is None
            and self.timeouts is None
            and type(repository) is MemoryAggregationRepository
        ):
            self.process = self._process_by_size  # type: ignore[method-assign]

    # -- aggregating -----------------------------------------------------------------------------
    def process(self, exchange: Exchange) -> None:
        key = self.correlation(exchange)
        if key is None or (key.__class__ is str and not key):
            if self.ignore_invalid_keys:
                return
            self._invalid_key(key)
        attempt = 0
        while True:
            incoming = exchange.copy()
            incoming.unit_of_work = None
            try:
                completed = self._aggregate(key, incoming)
            except OptimisticLockingError as exc:
                # A durable repository's group was written by someone else since we read it:
                # aggregate again onto the fresh group (never drop the exchange).
                attempt += 1
                if attempt > self._lock_retries:
                    raise OptimisticLockingError(
                        f"aggregate: correlation key {key!r}: the group kept changing under us; gave up "
                        f"after {attempt} attempt(s) ({exc})",
                        key=key,
                        route_id=self.route_id,
                        node_id=self.node_id,
                    ) from exc
                time.sleep(random.uniform(0.0, min(0.1, 0.002 * 2 ** min(attempt, 10))))
                continue
            break
        if completed is not None:
            self._emit(completed[0], key, completed[1])

    def _aggregate(self, key: Hashable, incoming: Exchange) -> tuple[Exchange, str] | None:
        """Aggregate ``incoming`` into the group of ``key``; the completed group and what completed
        it, or None while the group stays open."""
        with self.lock:
            closed = self.closed
            if closed is not None and key in closed:
                raise ClosedCorrelationKeyError(
                    f"aggregate: correlation key {key!r} is closed (its group already completed)",
                    key=key,
                    route_id=self.route_id,
                    node_id=self.node_id,
                )
            old = self._get(key)
            size = 1 if old is None else old.properties.get(_SIZE, 0) + 1
            by = None
            if self.eager:
                incoming.properties[_SIZE] = size
                by = self._completed_by(incoming, size)
            aggregated = self.strategy(old, incoming)
            if aggregated is None:
                self._strategy_returned_none()
            aggregated.properties[_SIZE] = size
            if by is None and not self.eager:
                if self._check_only_size:
                    if self.completion_size is not None and size >= self.completion_size:
                        by = "size"
                else:
                    by = self._completed_by(aggregated, size)
            timeouts = self.timeouts
            if by is None:
                self._put(key, aggregated)
                if timeouts is not None:
                    self._arm(timeouts, key, aggregated)
                return None
            self._mark(aggregated, key, by)
            self._remove(key, aggregated)
            if timeouts is not None:
                timeouts.disarm(key)
            if closed is not None:
                self._close(key)
            self.completed_groups += 1
        return aggregated, by

    def _process_by_size(self, exchange: Exchange) -> None:
        """``process`` when only ``completion_size`` (an int) can complete a group from here:
        the benchmark's hot path, so nothing but the essentials."""
        key = self.correlation(exchange)
        if key is None or (key.__class__ is str and not key):
            if self.ignore_invalid_keys:
                return
            self._invalid_key(key)
        with self.lock:
            old = self._get(key)
            if old is not None and self.reads_new_only:
                # The strategy only reads ``new`` once a group exists: no copy needed.
                aggregated = self.strategy(old, exchange)
                if aggregated is exchange:
                    aggregated = exchange.copy()
                    aggregated.unit_of_work = None
            else:
                incoming = exchange.copy()
                incoming.unit_of_work = None
                aggregated = self.strategy(old, incoming)
            if aggregated is None:
                AggregateProcessor._strategy_returned_none(self)
            size = 1 if old is None else old.properties.get(_SIZE, 0) + 1
            aggregated.properties[_SIZE] = size
            if size < self.completion_size:  # type: ignore[operator]
                self._put(key, aggregated)
                return
            self._remove(key, aggregated)
            self.completed_groups += 1
        self._emit(aggregated, key, "size")

    def _invalid_key(self, key: Any) -> NoReturn:
        raise AggregationError(
            f"aggregate: invalid correlation key {key!r} (the correlation expression "
            "gave nothing); set ignore_invalid_correlation_keys=True to let such "
            "exchanges pass",
            route_id=self.route_id,
            node_id=self.node_id,
        )

    def _strategy_returned_none(self) -> NoReturn:
        raise AggregationError(
            f"aggregate: strategy {getattr(self.strategy, '__name__', self.strategy)!r} returned "
            "None; a strategy must return old or new",
            route_id=self.route_id,
            node_id=self.node_id,
        )

    def _completed_by(self, target: Exchange, size: int) -> str | None:
        predicate = self.completion_predicate
        if predicate is not None and predicate(target):
            return "predicate"
        if self.completion_size is not None:
            if size >= self.completion_size:
                return "size"
        elif self.completion_size_expression is not None:
            wanted = self.completion_size_expression(target)
            if wanted is not None and int(wanted) > 0 and size >= int(wanted):
                return "size"
        return None

    def _arm(self, timeouts: TimeoutMap, key: Hashable, aggregated: Exchange) -> None:
        timeout = self.completion_timeout
        expression = self.completion_timeout_expression
        if expression is not None:
            value = expression(aggregated)
            if value is not None and float(value) > 0:
                timeout = float(value)
        if timeout is not None:
            timeouts.arm(key, time.monotonic() + timeout)

    def _close(self, key: Hashable) -> None:
        closed = cast("OrderedDict[Hashable, None]", self.closed)
        closed[key] = None
        if self.closed_capacity and len(closed) > self.closed_capacity:
            closed.popitem(last=False)

    # -- completing ------------------------------------------------------------------------------
    @staticmethod
    def _mark(aggregated: Exchange, key: Hashable, by: str) -> None:
        props = aggregated.properties
        props[c.AGGREGATED_COMPLETED_BY] = by
        props[c.AGGREGATED_CORRELATION_KEY] = key

    def _emit(self, aggregated: Exchange, key: Hashable, by: str) -> None:
        props = aggregated.properties
        props[c.AGGREGATED_COMPLETED_BY] = by
        props[c.AGGREGATED_CORRELATION_KEY] = key
        uow = None
        if self._confirm is not None:
            # A unit of work of its own (a route reached through direct: must not finish it), with
            # nothing registered on it while the steps run: producers then confirm before returning
            # (an AMQP publish waits for its publisher confirm) instead of holding it open, and the
            # group is confirmed as soon as its steps returned. Else the confirmations come back in
            # bursts, long after, and a crash re-emits every group completed meanwhile; this way a
            # crash re-emits at most the groups being emitted at that moment (one per thread).
            uow = aggregated.unit_of_work = UnitOfWork()
            uow.owner_route_id = self.route_id
        try:
            self.steps.process(aggregated)
        except Exception as exc:  # nobody upstream waits for this exchange: log and count
            with self._failure_lock:
                self.failed_completions += 1
            log.error(
                "route '%s', node '%s': aggregated exchange %s (correlation key %r, completed "
                "by %s, %d message(s)) failed%s: %s: %s",
                self.route_id,
                self.node_id,
                aggregated.exchange_id,
                key,
                by,
                props.get(_SIZE, 0),
                "" if uow is None else " (kept in the repository for recovery)",
                type(exc).__name__,
                exc,
                exc_info=exc,
            )
            if uow is not None:
                aggregated.exception = exc
                self._settle(uow, aggregated)
            return
        if uow is not None:
            self._settle(uow, aggregated)

    def _settle(self, uow: UnitOfWork, aggregated: Exchange) -> None:
        """Confirm (or release) the completed exchange now, or when a hold a step took (an
        explicit ``hold()``) is released."""
        exchange_id = aggregated.exchange_id
        uow.add_synchronization(lambda _: self._confirmed(exchange_id), lambda _: self._unconfirmed(exchange_id))
        uow.done(aggregated)

    def _confirmed(self, exchange_id: str) -> None:
        try:
            self._confirm(exchange_id)  # type: ignore[misc]
        except Exception as exc:
            log.error(
                "route '%s', node '%s': confirming aggregated exchange %s failed: %s",
                self.route_id,
                self.node_id,
                exchange_id,
                exc,
                exc_info=exc,
            )

    def _unconfirmed(self, exchange_id: str) -> None:
        if self._release is not None:
            try:
                self._release(exchange_id)
            except Exception as exc:
                log.error(
                    "route '%s', node '%s': releasing aggregated exchange %s for recovery failed: %s",
                    self.route_id,
                    self.node_id,
                    exchange_id,
                    exc,
                    exc_info=exc,
                )

    def redeliver(self, exchange: Exchange) -> None:
        """Run a completed exchange that a durable repository recovered through the steps again
        (it is confirmed, or released for a later redelivery, as any completion)."""
        props = exchange.properties
        self._emit(
            exchange, props.get(c.AGGREGATED_CORRELATION_KEY), props.get(c.AGGREGATED_COMPLETED_BY) or "recovery"
        )

    def _take(self, keys: Any, by: str) -> list[tuple[Hashable, Exchange]]:
        """Remove the groups of ``keys`` (caller holds the lock)."""
        taken = []
        for key in keys:
            for _ in range(self._lock_retries + 1):
                aggregated = self._get(key)
                if aggregated is None:
                    break
                self._mark(aggregated, key, by)
                try:
                    self._remove(key, aggregated)
                except OptimisticLockingError:
                    continue  # another process added to the group meanwhile: take the fresh one
                if self.closed is not None:
                    self._close(key)
                taken.append((key, aggregated))
                break
            else:
                log.warning(
                    "route '%s', node '%s': group %r kept changing while completing it by %s; left open",
                    self.route_id,
                    self.node_id,
                    key,
                    by,
                )
        return taken

    def _complete_timed_out(self) -> None:
        timeouts = cast(TimeoutMap, self.timeouts)
        now = time.monotonic()
        with self.lock:
            taken = self._take(timeouts.expired(now), "timeout")
            if self.discard_on_timeout:
                self.discarded_groups += len(taken)
                return
            self.completed_groups += len(taken)
        for key, aggregated in taken:
            self._emit(aggregated, key, "timeout")

    def _complete_interval(self) -> None:
        self.complete_all("interval")

    def complete_all(self, by: str = "force") -> int:
        """Complete every open group now (as ``by``); returns how many."""
        with self.lock:
            taken = self._take(self._keys(), by)
            if self.timeouts is not None:
                self.timeouts.clear()
            self.completed_groups += len(taken)
        for key, aggregated in taken:
            self._emit(aggregated, key, by)
        return len(taken)

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> None:
        if self.timeouts is not None and self.completion_timeout is not None:
            # Groups left from before (a durable repository, a route restart) get a fresh timeout.
            deadline = time.monotonic() + self.completion_timeout
            with self.lock:
                for key in self._keys():
                    if key not in self.timeouts:
                        self.timeouts.arm(key, deadline)
        if self.checker is not None:
            self.checker.start()
        start_recovery = getattr(self.repository, "start_recovery", None)
        if start_recovery is not None:
            start_recovery(self.redeliver, f"eip-{self.route_id}-{self.node_id or 'aggregate'}-recovery")

    def stop(self) -> None:
        """Stop the checker (and a durable repository's recovery), then complete every open
        group if told to; else they stay in the repository: kept by a durable one for the next
        start, lost with the in-memory one when the process ends."""
        if self.wait_on_stop > 0 and self.checker is not None:
            deadline = time.monotonic() + self.wait_on_stop
            while self.open_groups() and time.monotonic() < deadline:
                time.sleep(0.02)  # only while stopping: the checker completes groups meanwhile
        if self.checker is not None:
            self.checker.stop()
        stop_recovery = getattr(self.repository, "stop_recovery", None)
        if stop_recovery is not None:
            stop_recovery()
        if self.complete_on_stop:
            self.complete_all("force")
            return
        try:
            with self.lock:
                left = len(self._keys())
        except Exception as exc:  # noqa: BLE001 - a repository that cannot count must not block the stop
            log.warning("route '%s', node '%s': cannot count open groups at stop: %s", self.route_id, self.node_id, exc)
            return
        if left and self._confirm is None:
            log.warning(
                "route '%s', node '%s': %d open group(s) left in the in-memory repository at stop: "
                "lost when the process ends (use a durable repository or force_completion_on_stop)",
                self.route_id,
                self.node_id,
                left,
            )
        elif left:
            log.info(
                "route '%s', node '%s': %d open group(s) kept in %r for the next start",
                self.route_id,
                self.node_id,
                left,
                self.repository,
            )

    def open_groups(self) -> int:
        with self.lock:
            return len(self._keys())

    def __repr__(self) -> str:
        return f"AggregateProcessor({self.route_id}/{self.node_id})"

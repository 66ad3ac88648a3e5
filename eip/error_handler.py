"""Error handling with Camel's semantics, decided in one place per route.

The route's pipelines call ``handle()`` when a node raises. In order:

1. Redelivery: the failing node (not the whole route) is retried as the matching
   ``on_exception`` clause's policy, or else the error handler's policy, allows. An exception
   with ``retryable = False`` (a SOAP Fault: an answer, not an outage) is redelivered only by a
   matching clause that sets its own redelivery options, never by the general policy.
2. An ``on_exception`` clause matched by the closest class in the exception's MRO (the deepest
   cause is tried first): its steps run; ``handled`` ends the route successfully, ``continued``
   resumes at the next node, neither fails the exchange.
3. Otherwise a dead letter channel sends the exchange to its endpoint and counts it handled;
   the default error handler lets the exchange fail (the source keeps the message).

Unlike Camel, a failure while sending to the dead letter endpoint fails the exchange (so the
source keeps the message) instead of being logged and swallowed.

Redelivery waits are cut short when the route stops (``stop()``: the route's services stop,
after its graceful shutdown timeout, or at once when the engine fails to start): the exchange
then fails with ``RedeliveryInterruptedError`` without that retry, skips the ``on_exception``
clauses and the dead letter channel (of this route and of any route that called it), and its
source keeps the message. A wait that ends within the shutdown timeout retries as usual.

Logging: each dead-lettered exchange logs one WARNING line (where it failed, the cause and the
redeliveries made). WARNING, not ERROR: the message is safe in the dead letter endpoint and the
source counts it done; ERROR is kept for a failed dead letter send, where the source keeps it.
Where a failure happened (route, node, split index) travels with the exception from the first
handler that saw it (``failure_origin``), so the line a parent route logs names the sub-route
and node that failed, not only the route that owns the exchange. Nothing is logged on success.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from eip import constants as c
from eip.errors import RedeliveryInterruptedError
from eip.model import (
    DeadLetterChannel,
    DefaultErrorHandler,
    OnException,
    RedeliveryPolicy,
)
from eip.uri import mask_uri

if TYPE_CHECKING:
    from eip.exchange import Exchange
    from eip.processors.pipeline import Pipeline

log = logging.getLogger("eip.error_handler")


class CompiledClause:
    """An ``on_exception`` clause with its compiled steps."""

    __slots__ = ("definition", "pipeline", "rank")

    def __init__(self, definition: OnException, pipeline: Any, rank: int) -> None:
        self.definition = definition
        self.pipeline = pipeline
        self.rank = rank


def _truth(value: Any, exchange: Exchange) -> bool:
    return bool(value(exchange)) if callable(value) else bool(value)


def _cause_chain(exc: BaseException) -> list[BaseException]:
    """The exception and its causes, deepest first."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < 20:
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    chain.reverse()
    return chain


class FailureOrigin:
    """Where an exception first failed: route, node, endpoint, split part, redeliveries made."""

    __slots__ = ("endpoint", "node_id", "redeliveries", "route_id", "split_index")

    def __init__(self, route_id: str, node_id: str, endpoint: str | None, split_index: Any, redeliveries: int) -> None:
        self.route_id = route_id
        self.node_id = node_id
        self.endpoint = endpoint
        self.split_index = split_index
        self.redeliveries = redeliveries

    def describe(self) -> str:
        """``route 'lines' node 'parse' (split index 2)``: for log lines."""
        where = f"route '{self.route_id}' node '{self.node_id}'"
        if self.split_index is not None:
            where += f" (split index {self.split_index})"
        return where


def failure_origin(exc: BaseException) -> FailureOrigin | None:
    """Where ``exc`` first failed, if an error handler saw it."""
    return getattr(exc, "_eip_failure", None)


def _note_origin(exc: BaseException, origin: FailureOrigin) -> FailureOrigin:
    """Attach ``origin`` unless an inner route's handler already did; return the one that holds."""
    known = failure_origin(exc)
    if known is not None:
        return known
    try:
        exc._eip_failure = origin  # type: ignore[attr-defined]
    except (AttributeError, TypeError):
        pass
    return origin


def _mark(exc: BaseException, route_id: str) -> None:
    try:
        exc._eip_route = route_id  # type: ignore[attr-defined]
    except (AttributeError, TypeError):
        pass


class ErrorHandler:
    """The error handler of one route: redelivery, on_exception clauses, dead letter channel."""

    def __init__(
        self,
        route_id: str,
        definition: DefaultErrorHandler | DeadLetterChannel,
        clauses: Sequence[CompiledClause],
        dead_letter_producer: Any = None,
        sleep: Any = None,
    ) -> None:
        self.route_id = route_id
        self.definition = definition
        self.policy: RedeliveryPolicy = definition.policy
        self.clauses = tuple(clauses)
        self.dead_letter_producer = dead_letter_producer
        self._stopping = threading.Event()
        #: ``sleep(seconds) -> bool``: wait before a redelivery; True means the route stopped.
        self.sleep = sleep if sleep is not None else self._stopping.wait
        self.redeliveries = 0  # counted for statistics; a rough figure under concurrency
        self.dead_lettered = 0

    def start(self) -> None:
        self._stopping.clear()

    def stop(self) -> None:
        """Wake every redelivery wait of this route; they fail instead of retrying."""
        self._stopping.set()

    # -- matching -----------------------------------------------------------------------------
    def match(self, exc: BaseException, exchange: Exchange) -> CompiledClause | None:
        for candidate in _cause_chain(exc):
            mro = type(candidate).__mro__
            best: tuple[int, int] | None = None
            chosen = None
            for clause in self.clauses:
                definition = clause.definition
                for exc_type in definition.exceptions:
                    if exc_type in mro:
                        key = (mro.index(exc_type), clause.rank)
                        if (best is None or key < best) and (
                            definition.on_when is None or _truth(definition.on_when, exchange)
                        ):
                            best, chosen = key, clause
            if chosen is not None:
                return chosen
        return None

    # -- handling -------------------------------------------------------------------------------
    def handle(self, pipeline: Pipeline, index: int, exchange: Exchange, exc: Exception) -> None:
        """Redeliver, run a clause or dead-letter; return to go on, raise to fail the exchange."""
        seen_in = getattr(exc, "_eip_route", None)
        if seen_in == self.route_id:
            raise exc  # already decided by this route's handler in a nested pipeline
        if any(isinstance(cause, RedeliveryInterruptedError) for cause in _cause_chain(exc)):
            raise exc  # a stop, not a failure to handle: no clause, no dead letter; the source keeps it
        node_id = pipeline.node_ids[index]
        clause = self.match(exc, exchange)
        redelivered = 0
        if seen_in is None:
            processor = pipeline.processors[index]
            attempt = 0
            while True:
                policy = clause.definition.policy if clause and clause.definition.policy else self.policy
                attempt += 1
                if not policy.allows(attempt):
                    break
                if getattr(exc, "retryable", True) is False and (clause is None or clause.definition.policy is None):
                    break  # an answer such as a SOAP Fault: redelivered only when a clause says so
                if (
                    clause is not None
                    and clause.definition.retry_while is not None
                    and not _truth(clause.definition.retry_while, exchange)
                ):
                    break
                delay = policy.delay_for(attempt)
                if (delay > 0 and self.sleep(delay)) or self._stopping.is_set():
                    interrupted = RedeliveryInterruptedError(
                        f"route '{self.route_id}', node '{node_id}': the route stopped before redelivery "
                        f"attempt {attempt} (after {type(exc).__name__}: {exc})",
                        route_id=self.route_id,
                        node_id=node_id,
                    )
                    _mark(interrupted, self.route_id)
                    raise interrupted from exc
                headers = exchange.message.headers
                headers[c.REDELIVERED] = True
                headers[c.REDELIVERY_COUNTER] = attempt
                headers[c.REDELIVERY_MAX_COUNTER] = policy.maximum_redeliveries
                self.redeliveries += 1
                redelivered = attempt
                exchange.exception = None
                try:
                    processor.process(exchange)
                    return
                except Exception as again:
                    exc = again
                    if getattr(exc, "_eip_route", None) == self.route_id:
                        raise
                    clause = self.match(exc, exchange)
        _mark(exc, self.route_id)
        endpoint = pipeline.endpoints[index]
        origin = _note_origin(
            exc, FailureOrigin(self.route_id, node_id, endpoint, exchange.properties.get(c.SPLIT_INDEX), redelivered)
        )
        self._record_failure(exchange, exc, node_id, endpoint, origin)
        if clause is not None:
            self._run_clause(clause, exchange, exc)
            return
        if isinstance(self.definition, DeadLetterChannel) and self.dead_letter_producer is not None:
            self._dead_letter(exchange, exc, origin)
            return
        raise exc

    def _record_failure(
        self, exchange: Exchange, exc: BaseException, node_id: str, endpoint: str | None, origin: FailureOrigin
    ) -> None:
        props = exchange.properties  # where it failed first: a sub-route's node, not the split calling it
        props[c.FAILURE_ROUTE_ID] = origin.route_id
        props[c.FAILURE_NODE_ID] = origin.node_id
        if origin.endpoint is not None:
            props[c.FAILURE_ENDPOINT] = origin.endpoint
        if not getattr(exc, "_eip_noted", False):
            try:
                exc.add_note(
                    f"(in route '{self.route_id}', node '{node_id}'{f', endpoint {endpoint}' if endpoint else ''})"
                )
                exc._eip_noted = True  # type: ignore[attr-defined]
            except (AttributeError, TypeError):
                pass

    def _original_message(self, exchange: Exchange) -> None:
        uow = exchange.unit_of_work
        if uow is not None and uow.original_message is not None:
            exchange.message = uow.original_message.copy()

    def _run_clause(self, clause: CompiledClause, exchange: Exchange, exc: Exception) -> None:
        definition = clause.definition
        handled = _truth(definition.handled, exchange)
        continued = not handled and _truth(definition.continued, exchange)
        if definition.use_original_message:
            self._original_message(exchange)
        exchange.properties[c.EXCEPTION_CAUGHT] = exc
        exchange.exception = None
        if clause.pipeline is not None:
            clause.pipeline.process(exchange)  # a failure here fails the exchange
        if handled:
            exchange.properties[c.ERROR_HANDLER_HANDLED] = True
            exchange.route_stop = True
            return
        if continued:
            exchange.route_stop = False
            return
        raise exc

    def _dead_letter(self, exchange: Exchange, exc: Exception, origin: FailureOrigin) -> None:
        definition = cast(DeadLetterChannel, self.definition)
        if definition.use_original_message:
            self._original_message(exchange)
        exchange.properties[c.EXCEPTION_CAUGHT] = exc
        exchange.message.headers[c.DEAD_LETTER_CAUSE] = f"{type(exc).__name__}: {exc}"
        exchange.exception = None
        try:
            self.dead_letter_producer.process(exchange)
        except Exception as dlq_exc:
            log.error(
                "route '%s': dead letter endpoint %s failed for exchange %s: %s (cause: %s)",
                self.route_id,
                definition.uri,
                exchange.exchange_id,
                dlq_exc,
                exc,
            )
            _mark(dlq_exc, self.route_id)
            raise dlq_exc from exc
        self.dead_lettered += 1
        log.warning(
            "route '%s': exchange %s dead-lettered to %s after %d redeliveries; failed at %s: %s: %s",
            self.route_id,
            exchange.exchange_id,
            mask_uri(definition.uri),
            origin.redeliveries,
            origin.describe(),
            type(exc).__name__,
            exc,
        )
        exchange.properties[c.ERROR_HANDLER_HANDLED] = True
        exchange.route_stop = True

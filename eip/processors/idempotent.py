"""Idempotent Consumer: run the block once per message id; skip (or mark) duplicates.

Camel's semantics:

* ``expression`` gives the message id; None is an error (ExpressionError).
* ``eager=True`` (default): the id is added *before* the block runs, so a duplicate arriving
  while the first is still in flight is rejected too. ``eager=False``: the id is only checked
  before, and added once the exchange has completed (a concurrent duplicate may pass).
* A duplicate gets property ``CamelDuplicateMessage=True``; with ``skip_duplicate=True``
  (default) it skips the block (routing goes on after ``end()``), otherwise it runs the block.
* ``remove_on_failure=True`` (default): when the block fails, or the exchange fails later in
  its route (its unit of work fails), the id is removed so a redelivery can pass. An exception
  handled by the error handler (dead letter channel, ``handled=True``) counts as success.
* When the exchange completes, the id is confirmed in the repository.
* Each skipped duplicate logs one INFO line (route, node, the id shortened; never the body) on
  ``eip.processors.idempotent`` and counts in the route's ``duplicates_skipped`` statistic, so
  a skipped message is never silent (Camel logs nothing). New messages log nothing.

Without ``repository`` each idempotent consumer gets its own ``MemoryIdempotentRepository``
(LRU of 1000 ids, lost on restart: a message redelivered after a crash passes again).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from eip.constants import DUPLICATE_MESSAGE
from eip.errors import ExpressionError
from eip.repositories.idempotent import IdempotentRepository, MemoryIdempotentRepository

if TYPE_CHECKING:
    from eip.compiler import CompileContext
    from eip.exchange import Exchange
    from eip.model import IdempotentConsumer

log = logging.getLogger("eip.processors.idempotent")

_REPOSITORY_METHODS = ("add", "contains", "remove", "confirm")
_MAX_KEY_TEXT = 80


class _Claim:
    """The id one exchange holds: completed or released exactly once."""

    __slots__ = ("key", "lock", "processor", "settled")

    def __init__(self, processor: IdempotentConsumerProcessor, key: Hashable) -> None:
        self.processor = processor
        self.key = key
        self.settled = False
        self.lock = threading.Lock()

    def _settle(self) -> bool:
        with self.lock:
            if self.settled:
                return False
            self.settled = True
            return True

    def completed(self, _: Any = None) -> None:
        if self._settle():
            repository = self.processor.repository
            if self.processor.eager:
                repository.confirm(self.key)
            else:
                repository.add(self.key)

    def failed(self, _: Any = None) -> None:
        if self._settle() and self.processor.eager and self.processor.remove_on_failure:
            self.processor.repository.remove(self.key)


class IdempotentConsumerProcessor:
    def __init__(
        self,
        expression: Any,
        pipeline: Any,
        repository: IdempotentRepository,
        skip_duplicate: bool,
        remove_on_failure: bool,
        eager: bool,
        route_id: str,
        node_id: str | None,
    ) -> None:
        self.expression = expression
        self.pipeline = pipeline
        self.repository = repository
        self.skip_duplicate = skip_duplicate
        self.remove_on_failure = remove_on_failure
        self.eager = eager
        self.route_id = route_id
        self.node_id = node_id
        self.duplicates_skipped = 0  # for route statistics; a rough figure under concurrency

    def process(self, exchange: Exchange) -> None:
        key = self.expression(exchange)
        if key is None:
            raise ExpressionError(
                "idempotent_consumer(): the message id expression gave None "
                f"({getattr(self.expression, 'text', self.expression)})",
                route_id=self.route_id,
                node_id=self.node_id,
            )
        try:
            new = self.repository.add(key) if self.eager else not self.repository.contains(key)
        except TypeError as exc:  # unhashable key
            raise ExpressionError(
                f"idempotent_consumer(): message id {key!r} cannot be used as a key: {exc}",
                route_id=self.route_id,
                node_id=self.node_id,
            ) from exc
        if not new:
            exchange.properties[DUPLICATE_MESSAGE] = True
            if not self.skip_duplicate:
                self.pipeline.process(exchange)
                return
            self.duplicates_skipped += 1
            if log.isEnabledFor(logging.INFO):
                log.info(
                    "route '%s': duplicate message id %s skipped at node '%s' (exchange %s)",
                    self.route_id,
                    _short(key),
                    self.node_id,
                    exchange.exchange_id,
                )
            return
        claim = _Claim(self, key)
        try:
            self.pipeline.process(exchange)
        except BaseException:
            claim.failed()
            raise
        uow = exchange.unit_of_work
        if uow is None or uow.finished:
            claim.completed()
        else:
            uow.add_synchronization(claim.completed, claim.failed)


def _short(key: Any) -> str:
    text = repr(key)
    return text if len(text) <= _MAX_KEY_TEXT else f"{text[: _MAX_KEY_TEXT - 3]}..."


def compile_idempotent_consumer(node: IdempotentConsumer, ctx: CompileContext) -> IdempotentConsumerProcessor:
    repository = node.repository
    if repository is None:
        repository = MemoryIdempotentRepository()
    else:
        ctx.repository(repository, _REPOSITORY_METHODS, "idempotent_consumer()", "an IdempotentRepository")
    if node.expression is None:
        raise ctx.error("idempotent_consumer() needs a message id expression")
    # a route service (nothing to start): the route reads its duplicates_skipped into its statistics
    return ctx.add_service(
        IdempotentConsumerProcessor(
            node.expression,
            ctx.compile_steps(node.steps),
            repository,
            node.skip_duplicate,
            node.remove_on_failure,
            node.eager,
            ctx.route_id,
            node.node_id,
        )
    )

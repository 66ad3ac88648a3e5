"""Unit of work: what "done" and "failed" mean for the source of one exchange.

A consumer registers callbacks (ack/nack a broker message, commit/back out an MQ syncpoint,
move a file to ``.done``/``.error``). The route that created the unit of work calls ``done()``
once the exchange has finished its whole route, including every synchronous send downstream.
A handled exception (dead letter channel, ``on_exception(handled=True)``) counts as done; an
unhandled one as failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eip.exchange import Exchange
    from eip.message import Message

log = logging.getLogger("eip.unit_of_work")

Callback = Callable[["Exchange"], Any]


class UnitOfWork:
    """Completion callbacks of one exchange's source, run exactly once by ``done()``."""

    __slots__ = ("_finished", "_on_complete", "_on_failure", "original_message", "owner_route_id")

    def __init__(self, original_message: Message | None = None) -> None:
        self.original_message = original_message
        self.owner_route_id: str | None = None
        self._on_complete: list[Callback] | None = None
        self._on_failure: list[Callback] | None = None
        self._finished = False

    def on_completion(self, callback: Callback) -> None:
        """Run ``callback(exchange)`` when the exchange completed (or its failure was handled)."""
        if self._on_complete is None:
            self._on_complete = []
        self._on_complete.append(callback)

    def on_failure(self, callback: Callback) -> None:
        """Run ``callback(exchange)`` when the exchange failed (the source must keep the message)."""
        if self._on_failure is None:
            self._on_failure = []
        self._on_failure.append(callback)

    def add_synchronization(self, on_complete: Callback | None = None, on_failure: Callback | None = None) -> None:
        if on_complete is not None:
            self.on_completion(on_complete)
        if on_failure is not None:
            self.on_failure(on_failure)

    @property
    def finished(self) -> bool:
        return self._finished

    def done(self, exchange: Exchange) -> None:
        """Run the completion or failure callbacks (once). A callback that raises makes the
        exchange failed if it was a completion callback (the ack did not happen), and is logged."""
        if self._finished:
            return
        self._finished = True
        callbacks = self._on_failure if exchange.exception is not None or exchange.rollback_only else self._on_complete
        if not callbacks:
            return
        failed_in_completion = exchange.exception is None
        for callback in callbacks:
            try:
                callback(exchange)
            except Exception as exc:
                log.error("unit of work callback %r failed for exchange %s: %s", callback,
                          exchange.exchange_id, exc, exc_info=True)
                if failed_in_completion and exchange.exception is None:
                    exchange.exception = exc

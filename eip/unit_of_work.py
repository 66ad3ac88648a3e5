"""Unit of work: what "done" and "failed" mean for the source of one exchange.

A consumer registers callbacks (ack/nack a broker message, commit/back out an MQ syncpoint,
move a file to ``.done``/``.error``). The route that created the unit of work calls ``done()``
once the exchange has finished its whole route, including every synchronous send downstream.
A handled exception (dead letter channel, ``on_exception(handled=True)``) counts as done; an
unhandled one as failed.

A producer whose send is confirmed asynchronously (a RabbitMQ publisher confirm arriving
later) calls ``hold()`` and later the returned ``release(error=None)``: the callbacks then run
only when the route has finished *and* every hold was released, on the thread of the last of
those events. A release with an error makes the outcome a failure. ``hold()`` and its release
are thread-safe: the parts of a parallel split share their exchange's unit of work and may take
their first holds at the same moment.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eip.exchange import Exchange
    from eip.message import Message

log = logging.getLogger("eip.unit_of_work")

Callback = Callable[["Exchange"], Any]

# Guards only the lazy creation of a unit of work's ``_Holds`` (once per unit of work that is
# held at all): an exchange with no asynchronous confirm never allocates or takes a lock.
_HOLDS_CREATION = threading.Lock()


class _Holds:
    """Outstanding asynchronous confirmations of one unit of work (made on first ``hold()``)."""

    __slots__ = ("count", "error", "exchange", "lock", "route_done")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0
        self.route_done = False
        self.exchange: Exchange | None = None
        self.error: BaseException | None = None


class UnitOfWork:
    """Completion callbacks of one exchange's source, run exactly once by ``done()``."""

    __slots__ = ("_finished", "_holds", "_on_complete", "_on_failure", "original_message", "owner_route_id")

    def __init__(self, original_message: Message | None = None) -> None:
        self.original_message = original_message
        self.owner_route_id: str | None = None
        self._on_complete: list[Callback] | None = None
        self._on_failure: list[Callback] | None = None
        self._finished = False
        self._holds: _Holds | None = None

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

    @property
    def has_synchronizations(self) -> bool:
        """True when a source registered callbacks, i.e. something waits for the outcome (a
        producer may then confirm asynchronously through ``hold()`` instead of blocking)."""
        return bool(self._on_complete or self._on_failure)

    @property
    def pending_holds(self) -> int:
        return 0 if self._holds is None else self._holds.count

    def hold(self) -> Callable[[BaseException | None], None]:
        """Delay the callbacks until the returned ``release(error=None)`` is called (once)."""
        holds = self._holds
        if holds is None:
            with _HOLDS_CREATION:  # two first holds at once (parallel split parts) share one _Holds
                holds = self._holds
                if holds is None:
                    holds = self._holds = _Holds()
        with holds.lock:
            if self._finished:
                raise RuntimeError("unit of work already finished; hold() must come before done()")
            holds.count += 1
        released = False

        def release(error: BaseException | None = None) -> None:
            nonlocal released
            with holds.lock:
                if released:
                    return
                released = True
                holds.count -= 1
                exchange = holds.exchange
                if error is not None:
                    if exchange is not None and exchange.exception is None:
                        exchange.exception = error
                    elif holds.error is None:
                        holds.error = error
                ready = holds.route_done and holds.count == 0
            if ready and exchange is not None:
                self._finish(exchange)

        return release

    def done(self, exchange: Exchange) -> None:
        """The route finished: run the completion or failure callbacks (once), now or when the
        last hold is released. A completion callback that raises makes the exchange failed (the
        ack did not happen) and is logged."""
        holds = self._holds
        if holds is not None:
            with holds.lock:
                holds.route_done = True
                holds.exchange = exchange
                if holds.error is not None and exchange.exception is None:
                    exchange.exception = holds.error
                if holds.count:
                    return
        self._finish(exchange)

    def _finish(self, exchange: Exchange) -> None:
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
                log.error(
                    "unit of work callback %r failed for exchange %s: %s",
                    callback,
                    exchange.exchange_id,
                    exc,
                    exc_info=True,
                )
                if failed_in_completion and exchange.exception is None:
                    exchange.exception = exc

"""Notifier: wait until routes have done N exchanges (Camel's NotifyBuilder).

Asserts on real routes without mocks: create the notifier, send, then wait::

    notifier = Notifier(engine, "orders", done=3)
    for order in orders:
        engine.template.send_body("seda:orders", order)
    assert notifier.wait(timeout=5.0)

Counts start when the notifier is created. Thread-safe: routes finish on consumer threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from eip.engine import Engine
    from eip.exchange import Exchange


class Notifier:
    """Counts exchanges as they finish, and tells when every given condition holds.

    * ``route_id``: count each time an exchange finishes that route, including when another
      route called it through ``direct:``. Without it, count each exchange once, after it
      finished the route that created it and its unit of work is done (the source message
      acknowledged or kept), as Camel's NotifyBuilder does.
    * ``done=N``: at least N finished, whatever the outcome; ``completed=N``: at least N
      succeeded (a failure handled by a dead letter channel or ``handled=True`` counts as
      success); ``failed=N``: at least N failed. Several conditions must all hold; none given
      means ``done=1``.
    * ``filter``: only exchanges for which ``filter(exchange)`` is true count.

    The listener is removed once ``wait``/``matches`` saw the conditions hold (the counts
    stop there), on ``close()``, or at the end of a ``with`` block."""

    def __init__(
        self,
        engine: Engine,
        route_id: str | None = None,
        *,
        done: int | None = None,
        completed: int | None = None,
        failed: int | None = None,
        filter: Callable[[Exchange], Any] | None = None,
    ) -> None:
        if route_id is not None:
            engine.route(route_id)  # raises, listing the routes, if there is no such route
        if done is None and completed is None and failed is None:
            done = 1
        self.engine = engine
        self.route_id = route_id
        self.expected = {"done": done, "completed": completed, "failed": failed}
        self._filter = filter
        self._cond = threading.Condition()
        self.done_count = 0
        self.completed_count = 0
        self.failed_count = 0
        self._error: BaseException | None = None
        self._listening = True
        engine.add_listener(self._on_exchange)

    def _on_exchange(self, route_id: str, exchange: Exchange) -> None:
        # Runs inline on the route's thread: it must be cheap and must never raise.
        uow = exchange.unit_of_work
        if self.route_id is None:
            if uow is not None and uow.owner_route_id != route_id:
                return
        elif route_id != self.route_id:
            return
        if self._filter is not None:
            try:
                if not self._filter(exchange):
                    return
            except Exception as exc:  # noqa: BLE001 - reported by wait()/matches()
                with self._cond:
                    self._error = self._error or exc
                    self._cond.notify_all()
                return
        if self.route_id is None and uow is not None and not uow.finished:
            # Count once the source is acknowledged (or kept), as Camel's ExchangeCompleted event.
            uow.add_synchronization(self._count, self._count)
        else:
            self._count(exchange)

    def _count(self, exchange: Exchange) -> None:
        failed = exchange.exception is not None or exchange.rollback_only
        with self._cond:
            self.done_count += 1
            if failed:
                self.failed_count += 1
            else:
                self.completed_count += 1
            self._cond.notify_all()

    def _holds(self) -> bool:
        counts = {"done": self.done_count, "completed": self.completed_count, "failed": self.failed_count}
        return all(counts[name] >= wanted for name, wanted in self.expected.items() if wanted is not None)

    def matches(self, timeout: float = 0.0) -> bool:
        """Whether the conditions hold, waiting up to ``timeout`` seconds for them."""
        with self._cond:
            ok = self._cond.wait_for(lambda: self._holds() or self._error is not None, timeout)
            error = self._error
        if error is not None:
            raise error
        if ok:
            self.close()
        return bool(ok)

    def wait(self, timeout: float = 10.0) -> bool:
        """Wait up to ``timeout`` seconds (Camel's default is 10) for the conditions to hold."""
        return self.matches(timeout)

    def assert_matches(self, timeout: float = 10.0) -> None:
        """As ``wait``, but raise an AssertionError that shows the counts."""
        if not self.wait(timeout):
            raise AssertionError(f"{self!r} did not match within {timeout} s")

    def close(self) -> None:
        """Stop counting (remove the engine listener)."""
        with self._cond:
            listening, self._listening = self._listening, False
        if listening:
            self.engine.remove_listener(self._on_exchange)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        wanted = ", ".join(f"{k}>={v}" for k, v in self.expected.items() if v is not None)
        where = f"route '{self.route_id}'" if self.route_id else "all routes"
        return (
            f"Notifier({where}: want {wanted}; got done={self.done_count}, "
            f"completed={self.completed_count}, failed={self.failed_count})"
        )

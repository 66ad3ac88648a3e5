"""MockEndpoint: records what it receives and checks expectations, waiting for async routes."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from eip.component import Endpoint, Producer
from eip.exchange import Exchange
from eip.options import Option, OptionSpec


class MockAssertionError(AssertionError):
    """A mock endpoint's expectations were not met."""


class MockProducer(Producer):
    endpoint: MockEndpoint

    def process(self, exchange: Exchange) -> None:
        self.endpoint.receive(exchange)


class MockEndpoint(Endpoint):
    """Collects copies of the exchanges sent to it.

    Expectations may be set before or after messages arrive; ``assert_is_satisfied(timeout)``
    waits up to ``timeout`` seconds for them to hold. ``when_any_exchange_received(fn)`` makes
    the endpoint run ``fn(exchange)`` on each arrival (raise in it to simulate a failure)."""

    supports_consumer = False
    options = OptionSpec((
        Option("retain_first", "int", -1, "Keep only the first N exchanges (-1 keeps all)."),
        Option("retain_last", "int", -1, "Keep only the last N exchanges (-1 keeps all)."),
    ))

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._cond = threading.Condition()
        self._received: list[Exchange] = []
        self._count = 0
        self._expected_count: int | None = None
        self._expected_minimum: int | None = None
        self._expected_bodies: list[Any] | None = None
        self._expected_any_order: list[Any] | None = None
        self._expected_headers: list[tuple[str, Any]] = []
        self._stub: Callable[[Exchange], Any] | None = None
        self._stubs_by_index: dict[int, Callable[[Exchange], Any]] = {}

    # -- receiving --------------------------------------------------------------------------
    def receive(self, exchange: Exchange) -> None:
        with self._cond:
            index = self._count
            self._count += 1
        stub = self._stubs_by_index.get(index, self._stub)
        if stub is not None:
            stub(exchange)  # may raise: the sender sees the failure
        copy = exchange.copy()
        with self._cond:
            retain_first, retain_last = self.values["retain_first"], self.values["retain_last"]
            if retain_first < 0 or len(self._received) < retain_first:
                self._received.append(copy)
            if retain_last >= 0 and len(self._received) > retain_last:
                del self._received[0]
            self._cond.notify_all()

    def create_producer(self) -> Producer:
        return MockProducer(self)

    # -- what arrived -----------------------------------------------------------------------
    @property
    def received_exchanges(self) -> list[Exchange]:
        with self._cond:
            return list(self._received)

    @property
    def received_bodies(self) -> list[Any]:
        with self._cond:
            return [ex.message.body for ex in self._received]

    @property
    def received_counter(self) -> int:
        with self._cond:
            return self._count

    def when_any_exchange_received(self, fn: Callable[[Exchange], Any]) -> None:
        self._stub = fn

    def when_exchange_received(self, index: int, fn: Callable[[Exchange], Any]) -> None:
        """Run ``fn`` for the ``index``-th (1-based) exchange only."""
        self._stubs_by_index[index - 1] = fn

    # -- expectations --------------------------------------------------------------------------
    def expected_message_count(self, count: int) -> None:
        self._expected_count = count

    def expected_minimum_message_count(self, count: int) -> None:
        self._expected_minimum = count

    def expected_bodies_received(self, *bodies: Any) -> None:
        self._expected_bodies = list(bodies)
        self._expected_count = len(bodies)

    def expected_bodies_received_in_any_order(self, *bodies: Any) -> None:
        self._expected_any_order = list(bodies)
        self._expected_count = len(bodies)

    def expected_header_received(self, name: str, value: Any) -> None:
        self._expected_headers.append((name, value))
        if self._expected_minimum is None:
            self._expected_minimum = 1

    def reset(self) -> None:
        with self._cond:
            self._received.clear()
            self._count = 0
        self._expected_count = self._expected_minimum = None
        self._expected_bodies = self._expected_any_order = None
        self._expected_headers = []
        self._stub = None
        self._stubs_by_index = {}

    def _wanted(self) -> int:
        return max(self._expected_count or 0, self._expected_minimum or 0)

    def _problems(self) -> list[str]:
        with self._cond:
            count = self._count
            bodies = [ex.message.body for ex in self._received]
            received = list(self._received)
        problems = []
        if self._expected_count is not None and count != self._expected_count:
            problems.append(f"expected {self._expected_count} message(s), received {count}")
        if self._expected_minimum is not None and count < self._expected_minimum:
            problems.append(f"expected at least {self._expected_minimum} message(s), received {count}")
        if self._expected_bodies is not None and bodies[:len(self._expected_bodies)] != self._expected_bodies:
            problems.append(f"expected bodies {self._expected_bodies!r}, received {bodies!r}")
        if self._expected_any_order is not None:
            try:
                same = Counter(map(_hashable, bodies)) == Counter(map(_hashable, self._expected_any_order))
            except TypeError:
                same = sorted(map(repr, bodies)) == sorted(map(repr, self._expected_any_order))
            if not same:
                problems.append(f"expected bodies in any order {self._expected_any_order!r}, received {bodies!r}")
        for name, value in self._expected_headers:
            if not any(ex.message.headers.get(name) == value for ex in received):
                seen = [ex.message.headers.get(name) for ex in received]
                problems.append(f"expected a message with header {name}={value!r}, saw {seen!r}")
        return problems

    def is_satisfied(self) -> bool:
        return not self._problems()

    def assert_is_satisfied(self, timeout: float = 10.0, assert_period: float = 0.0) -> None:
        """Wait up to ``timeout`` s for the expectations; with ``assert_period`` re-check after
        that many seconds (to catch extra messages, as Camel's assertPeriod)."""
        deadline = time.monotonic() + timeout
        wanted = self._wanted()
        with self._cond:
            while self._count < wanted:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
        # bodies arrive as copies after the count moves; give the copies a moment to land
        while self._problems() and time.monotonic() < deadline:
            with self._cond:
                self._cond.wait(min(0.05, max(0.0, deadline - time.monotonic())))
        problems = self._problems()
        if not problems and assert_period > 0:
            time.sleep(assert_period)
            problems = self._problems()
        if problems:
            raise MockAssertionError(f"{self.key}: " + "; ".join(problems))

    def assert_is_not_satisfied(self, timeout: float = 1.0) -> None:
        try:
            self.assert_is_satisfied(timeout)
        except MockAssertionError:
            return
        raise MockAssertionError(f"{self.key}: expectations were met but should not be")


def _hashable(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value

"""MockEndpoint: records what it receives and checks expectations, waiting for async routes.

As Camel's mock component: set expectations (before or after the messages arrive: they are
checked against everything received), send, then ``assert_is_satisfied(timeout)``, which waits
until the expected number of messages arrived and then checks every expectation once.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from eip.component import Endpoint, Producer
from eip.exchange import Exchange
from eip.options import Option, OptionSpec

if TYPE_CHECKING:
    from eip.engine import Engine

Check = Callable[[list[Exchange]], "str | None"]


class MockAssertionError(AssertionError):
    """A mock endpoint's expectations were not met."""


class MockProducer(Producer):
    endpoint: MockEndpoint

    def process(self, exchange: Exchange) -> None:
        self.endpoint.receive(exchange)


class MessageAssertion:
    """Predicates that one received message (``mock.message(i)``) or every message
    (``mock.all_messages()``) must satisfy; a predicate is any ``fn(exchange)``, such as
    ``header("x") == 1`` or ``body().contains("a")``."""

    def __init__(self, mock: MockEndpoint, index: int | None) -> None:
        self._mock = mock
        self._index = index

    def predicate(self, *predicates: Callable[[Exchange], Any]) -> MessageAssertion:
        for predicate in predicates:
            self._mock._add_check(self._make_check(predicate))
        return self

    def _make_check(self, predicate: Callable[[Exchange], Any]) -> Check:
        index = self._index

        def check(received: list[Exchange]) -> str | None:
            if index is None:
                targets = list(enumerate(received))
            elif index >= len(received):
                return f"message({index}): only {len(received)} message(s) received"
            else:
                targets = [(index, received[index])]
            for i, exchange in targets:
                try:
                    ok = predicate(exchange)
                except Exception as exc:  # noqa: BLE001 - reported as an unmet expectation
                    return f"message({i}): predicate {_text(predicate)} raised {type(exc).__name__}: {exc}"
                if not ok:
                    return (
                        f"message({i}): predicate {_text(predicate)} is false for "
                        f"body={exchange.message.body!r} headers={dict(exchange.message.headers.items())!r}"
                    )
            return None

        return check


class MockEndpoint(Endpoint):
    """Collects copies of the exchanges sent to it and checks expectations on them.

    Expectations may be set before or after messages arrive. ``assert_is_satisfied(timeout)``
    waits up to ``timeout`` seconds for the expected number of messages, then checks every
    expectation; ``assert_period`` (argument or URI option) then keeps watching that long, to
    catch extra messages (needed to assert "exactly N" or "none", as Camel's assertPeriod).

    ``when_any_exchange_received(fn)`` runs ``fn(exchange)`` on each arrival, after the
    exchange was recorded: change the exchange there to stub a reply, raise to simulate a
    failure (the sender sees the exception; a redelivery arrives again and counts again).

    ``retain_first``/``retain_last`` cap memory: only those exchanges are kept, so body and
    per-message expectations see only them, while message counts see every arrival."""

    supports_consumer = False
    options = OptionSpec(
        (
            Option("retain_first", "int", -1, "Keep only the first N exchanges (-1 keeps all)."),
            Option("retain_last", "int", -1, "Keep only the last N exchanges (-1 keeps all)."),
            Option(
                "assert_period",
                "duration",
                0.0,
                "After expectations are met, keep checking this long (catches late extra messages).",
            ),
        )
    )

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._cond = threading.Condition()
        self._first: list[Exchange] = []
        self._last: deque[Exchange] = deque()
        self._count = 0
        self._stub: Callable[[Exchange], Any] | None = None
        self._stubs_by_index: dict[int, Callable[[Exchange], Any]] = {}
        self._clear_expectations()

    def _clear_expectations(self) -> None:
        self._expected_count: int | None = None
        self._expected_minimum: int | None = None
        self._checks: list[Check] = []
        self._expected_headers: dict[str, Any] = {}
        self._expected_properties: dict[str, Any] = {}

    # -- receiving --------------------------------------------------------------------------
    def receive(self, exchange: Exchange) -> None:
        copy = exchange.copy()
        with self._cond:
            index = self._count
            self._count += 1
            self._retain(copy)
            self._cond.notify_all()
        stub = self._stubs_by_index.get(index, self._stub)
        if stub is not None:
            stub(exchange)  # may raise: the sender sees the failure

    def _retain(self, copy: Exchange) -> None:
        first, last = self.values["retain_first"], self.values["retain_last"]
        if (first < 0 and last < 0) or (first >= 0 and len(self._first) < first):
            self._first.append(copy)
        elif last > 0:
            self._last.append(copy)
            while len(self._last) > last:
                self._last.popleft()

    def create_producer(self) -> Producer:
        return MockProducer(self)

    # -- what arrived -----------------------------------------------------------------------
    @property
    def received_exchanges(self) -> list[Exchange]:
        """Copies of the retained exchanges, in arrival order."""
        with self._cond:
            return self._first + list(self._last)

    @property
    def received_bodies(self) -> list[Any]:
        return [ex.message.body for ex in self.received_exchanges]

    @property
    def received_counter(self) -> int:
        """How many exchanges arrived (retained or not)."""
        with self._cond:
            return self._count

    def when_any_exchange_received(self, fn: Callable[[Exchange], Any]) -> None:
        self._stub = fn

    def when_exchange_received(self, index: int, fn: Callable[[Exchange], Any]) -> None:
        """Run ``fn`` for the ``index``-th (1-based, as Camel) exchange only."""
        self._stubs_by_index[index - 1] = fn

    # -- expectations --------------------------------------------------------------------------
    def expected_message_count(self, count: int) -> None:
        self._expected_count = count

    def expected_minimum_message_count(self, count: int) -> None:
        self._expected_minimum = count

    def expected_bodies_received(self, *bodies: Any) -> None:
        """Exactly these bodies, in this order."""
        expected = list(bodies)
        self._expected_count = len(expected)

        def check(received: list[Exchange]) -> str | None:
            got = [ex.message.body for ex in received]
            if got[: len(expected)] != expected:
                return f"expected bodies {expected!r}, received {got!r}"
            return None

        self._add_check(check)

    def expected_bodies_received_in_any_order(self, *bodies: Any) -> None:
        expected = list(bodies)
        self._expected_count = len(expected)

        def check(received: list[Exchange]) -> str | None:
            got = [ex.message.body for ex in received]
            if not _same_multiset(got, expected):
                return f"expected bodies in any order {expected!r}, received {got!r}"
            return None

        self._add_check(check)

    def expected_header_received(self, name: str, value: Any) -> None:
        """Every message has header ``name`` equal to ``value`` (None: absent or None), as
        Camel's expectedHeaderReceived; at least one message is expected."""
        self._expected_headers[name] = value
        if self._expected_minimum is None:
            self._expected_minimum = 1

    def expected_headers_received(self, headers: Mapping[str, Any] | None = None, **more: Any) -> None:
        """Every message has all these headers with these values."""
        for name, value in {**(headers or {}), **more}.items():
            self.expected_header_received(name, value)

    def expected_header_values_received_in_any_order(self, name: str, *values: Any) -> None:
        """One message per value, the header ``name`` taking each value once, in any order."""
        expected = list(values)
        self._expected_count = len(expected)

        def check(received: list[Exchange]) -> str | None:
            got = [ex.message.headers.get(name) for ex in received]
            if not _same_multiset(got, expected):
                return f"expected header {name} values in any order {expected!r}, received {got!r}"
            return None

        self._add_check(check)

    def expected_property_received(self, name: str, value: Any) -> None:
        """Every message has exchange property ``name`` equal to ``value``."""
        self._expected_properties[name] = value
        if self._expected_minimum is None:
            self._expected_minimum = 1

    def expected_no_duplicates(self, expression: Callable[[Exchange], Any] | None = None) -> None:
        """No two messages give the same value of ``expression`` (default: the body)."""
        key_of = expression if expression is not None else _body

        def check(received: list[Exchange]) -> str | None:
            seen: dict[Any, int] = {}
            for index, exchange in enumerate(received):
                key = _hashable(key_of(exchange))
                try:
                    first = seen.setdefault(key, index)
                except TypeError:
                    key = repr(key)
                    first = seen.setdefault(key, index)
                if first != index:
                    return f"duplicate {_text(key_of)} value {key!r} in message({first}) and message({index})"
            return None

        self._add_check(check)

    def expected_ascending(self, expression: Callable[[Exchange], Any] | None = None) -> None:
        """Messages arrive in ascending order of ``expression`` (default: the body)."""
        self._add_check(_order_check(expression, descending=False))

    def expected_descending(self, expression: Callable[[Exchange], Any] | None = None) -> None:
        """Messages arrive in descending order of ``expression`` (default: the body)."""
        self._add_check(_order_check(expression, descending=True))

    def message(self, index: int) -> MessageAssertion:
        """Expectations on the ``index``-th (0-based, as Camel) message, which must arrive."""
        if index < 0:
            raise ValueError("message() index is 0-based and cannot be negative")
        self._expected_minimum = max(self._expected_minimum or 0, index + 1)
        return MessageAssertion(self, index)

    def all_messages(self) -> MessageAssertion:
        """Expectations every received message must meet."""
        return MessageAssertion(self, None)

    def expects(self, check: Callable[[list[Exchange]], str | None]) -> None:
        """A custom expectation: ``check(received_exchanges)`` returns a problem text or None."""
        self._add_check(check)

    def _add_check(self, check: Check) -> None:
        self._checks.append(check)

    def reset(self) -> None:
        """Forget received exchanges, expectations and stubs (URI options stay)."""
        with self._cond:
            self._first.clear()
            self._last.clear()
            self._count = 0
        self._clear_expectations()
        self._stub = None
        self._stubs_by_index = {}

    # -- checking ------------------------------------------------------------------------------
    def _wanted(self) -> int:
        return max(self._expected_count or 0, self._expected_minimum or 0)

    def _problems(self) -> list[str]:
        with self._cond:
            count = self._count
            received = self._first + list(self._last)
        problems = []
        if self._expected_count is not None and count != self._expected_count:
            problems.append(f"expected {self._expected_count} message(s), received {count}")
        if self._expected_minimum is not None and count < self._expected_minimum:
            problems.append(f"expected at least {self._expected_minimum} message(s), received {count}")
        checks = list(self._checks)
        if self._expected_headers:
            checks.append(_value_check("header", self._expected_headers, lambda ex: ex.message.headers))
        if self._expected_properties:
            checks.append(_value_check("property", self._expected_properties, lambda ex: ex.properties))
        for check in checks:
            problem = check(received)
            if problem:
                problems.append(problem)
        return problems

    def is_satisfied(self) -> bool:
        """Whether the expectations hold now (no waiting)."""
        return not self._problems()

    def assert_is_satisfied(self, timeout: float = 10.0, assert_period: float | None = None) -> None:
        """Wait up to ``timeout`` s for the expected message count, then check every expectation;
        with ``assert_period`` (default: the URI option) keep re-checking that many seconds."""
        wanted = self._wanted()
        with self._cond:
            self._cond.wait_for(lambda: self._count >= wanted, timeout)
        problems = self._problems()
        period = self.values["assert_period"] if assert_period is None else assert_period
        if not problems and period > 0:
            problems = self._watch(period)
        if problems:
            raise MockAssertionError(f"{self.key}: " + "; ".join(problems))

    def _watch(self, period: float) -> list[str]:
        """Re-check on every arrival until ``period`` elapses; fail fast on an extra message."""
        end = time.monotonic() + period
        while True:
            with self._cond:
                seen = self._count

                def arrived(seen: int = seen) -> bool:
                    return self._count != seen

                left = end - time.monotonic()
                if left > 0:
                    self._cond.wait_for(arrived, left)
            problems = self._problems()
            if problems or time.monotonic() >= end:
                return problems

    def assert_is_not_satisfied(self, timeout: float = 1.0) -> None:
        try:
            self.assert_is_satisfied(timeout)
        except MockAssertionError:
            return
        raise MockAssertionError(f"{self.key}: expectations were met but should not be")


def mock_endpoint(engine: Engine, uri: str) -> MockEndpoint:
    """The mock endpoint ``uri`` of ``engine``; ``"x"`` means ``"mock:x"``, so the mock that
    ``mock_endpoints()`` puts in front of ``direct:a`` is ``mock_endpoint(engine, "direct:a")``."""
    endpoint = engine.get_endpoint(uri if uri.startswith("mock:") else f"mock:{uri}")
    if not isinstance(endpoint, MockEndpoint):
        raise TypeError(f"{uri!r} is not a mock endpoint (the mock scheme is bound to {type(endpoint).__name__})")
    return endpoint


def mock_endpoints_of(engine: Engine) -> list[MockEndpoint]:
    return [ep for ep in engine.endpoints() if isinstance(ep, MockEndpoint)]


def assert_mocks_satisfied(engine: Engine, timeout: float = 10.0) -> None:
    """Assert every mock endpoint of ``engine`` within one shared ``timeout`` (Camel's
    ``MockEndpoint.assertIsSatisfied(context)``); the error lists every unmet mock."""
    deadline = time.monotonic() + timeout
    failures = []
    for mock in mock_endpoints_of(engine):
        try:
            mock.assert_is_satisfied(max(0.0, deadline - time.monotonic()))
        except MockAssertionError as exc:
            failures.append(str(exc))
    if failures:
        raise MockAssertionError("\n".join(failures))


def reset_mocks(engine: Engine) -> None:
    """Reset every mock endpoint of ``engine``."""
    for mock in mock_endpoints_of(engine):
        mock.reset()


def _value_check(what: str, expected: dict[str, Any], source: Callable[[Exchange], Mapping[str, Any]]) -> Check:
    def check(received: list[Exchange]) -> str | None:
        for index, exchange in enumerate(received):
            values = source(exchange)
            for name, value in expected.items():
                if value is not None and name not in values:
                    return f"message({index}) has no {what} {name!r} (expected {value!r})"
                actual = values.get(name)
                if actual != value:
                    return f"message({index}) has {what} {name}={actual!r}, expected {value!r}"
        return None

    return check


def _order_check(expression: Callable[[Exchange], Any] | None, descending: bool) -> Check:
    key_of = expression if expression is not None else _body
    word = "descending" if descending else "ascending"

    def check(received: list[Exchange]) -> str | None:
        keys = [key_of(ex) for ex in received]
        for index in range(1, len(keys)):
            before, after = keys[index - 1], keys[index]
            try:
                broken = (after > before) if descending else (after < before)
            except TypeError:
                return (
                    f"expected {word} order of {_text(key_of)}, message({index}) cannot be compared "
                    f"with the one before: {keys!r}"
                )
            if broken:
                return f"expected {word} order of {_text(key_of)}, message({index}) breaks it: {keys!r}"
        return None

    return check


def _same_multiset(got: list[Any], expected: list[Any]) -> bool:
    try:
        return Counter(map(_hashable, got)) == Counter(map(_hashable, expected))
    except TypeError:
        return sorted(map(repr, got)) == sorted(map(repr, expected))


def _body(exchange: Exchange) -> Any:
    return exchange.message.body


def _text(fn: Any) -> str:
    """How an expression reads in a failure message."""
    if fn is _body:
        return "body"
    text = getattr(fn, "text", None)
    if isinstance(text, str):
        return text
    return getattr(fn, "__name__", repr(fn))


def _hashable(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value

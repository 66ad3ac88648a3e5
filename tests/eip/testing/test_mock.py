"""MockEndpoint: expectations, waiting, retention and stubs, over real direct: routes."""

from __future__ import annotations

import threading
import time

import pytest

from components.direct import DirectComponent
from eip import Engine, RouteBuilder, body, default_error_handler, header
from eip.testing import (
    MockAssertionError,
    MockEndpoint,
    assert_mocks_satisfied,
    mock_endpoint,
    reset_mocks,
)


def routes(*pairs: tuple[str, str]) -> RouteBuilder:
    """direct:<name> -> <uri> routes."""
    class Routes(RouteBuilder):
        def configure(self) -> None:
            for source, target in pairs:
                self.from_(source).to(target)
    return Routes()


@pytest.fixture
def out(engine: Engine) -> MockEndpoint:
    engine.add_routes(routes(("direct:in", "mock:out")))
    engine.start()
    return mock_endpoint(engine, "out")


def send(engine: Engine, *bodies: object, **headers: object) -> None:
    for item in bodies:
        engine.template.send_body("direct:in", item, headers=headers or None)


def send_later(engine: Engine, *bodies: object, delay: float = 0.05) -> threading.Thread:
    def run() -> None:
        time.sleep(delay)  # only to make the arrival asynchronous; the assertion waits on a condition
        send(engine, *bodies)
    thread = threading.Thread(target=run)
    thread.start()
    return thread


# -- counts and bodies --------------------------------------------------------------------------
def test_expected_bodies_in_order(engine: Engine, out: MockEndpoint) -> None:
    out.expected_bodies_received("a", "b")
    send(engine, "a", "b")
    out.assert_is_satisfied(timeout=1)
    assert out.received_bodies == ["a", "b"]
    assert out.received_counter == 2


def test_wrong_order_fails_fast_with_both_lists(engine: Engine, out: MockEndpoint) -> None:
    out.expected_bodies_received("a", "b")
    send(engine, "b", "a")
    started = time.monotonic()
    with pytest.raises(MockAssertionError, match=r"mock:out: expected bodies \['a', 'b'\], received \['b', 'a'\]"):
        out.assert_is_satisfied(timeout=5)
    assert time.monotonic() - started < 1  # the count was reached: no reason to wait for the timeout


def test_expectations_set_after_arrival_count_what_arrived(engine: Engine, out: MockEndpoint) -> None:
    send(engine, 1, 2, 3)
    out.expected_message_count(3)
    out.expected_bodies_received_in_any_order(3, 1, 2)
    out.assert_is_satisfied(timeout=0)


def test_waits_for_messages_sent_on_another_thread(engine: Engine, out: MockEndpoint) -> None:
    out.expected_bodies_received("late")
    thread = send_later(engine, "late")
    out.assert_is_satisfied(timeout=5)
    thread.join()


def test_too_few_messages_fail_after_the_timeout(engine: Engine, out: MockEndpoint) -> None:
    out.expected_message_count(2)
    send(engine, "only one")
    with pytest.raises(MockAssertionError, match="expected 2 message\\(s\\), received 1"):
        out.assert_is_satisfied(timeout=0.1)


def test_too_many_messages_fail(engine: Engine, out: MockEndpoint) -> None:
    out.expected_message_count(1)
    send(engine, "x", "y")
    with pytest.raises(MockAssertionError, match="expected 1 message\\(s\\), received 2"):
        out.assert_is_satisfied(timeout=1)


def test_minimum_count(engine: Engine, out: MockEndpoint) -> None:
    out.expected_minimum_message_count(2)
    send(engine, 1, 2, 3)
    out.assert_is_satisfied(timeout=1)
    out.expected_minimum_message_count(4)
    with pytest.raises(MockAssertionError, match="at least 4"):
        out.assert_is_satisfied(timeout=0.05)


def test_assert_period_passes_when_nothing_more_arrives(engine: Engine, out: MockEndpoint) -> None:
    out.expected_message_count(0)
    out.assert_is_satisfied(timeout=0, assert_period=0.1)


def test_assert_period_catches_a_late_extra_message_at_once(engine: Engine, out: MockEndpoint) -> None:
    out.expected_message_count(0)
    thread = send_later(engine, "unexpected")
    started = time.monotonic()
    with pytest.raises(MockAssertionError, match="expected 0 message\\(s\\), received 1"):
        out.assert_is_satisfied(timeout=0, assert_period=5)
    assert time.monotonic() - started < 2  # failed on arrival, not at the end of the period
    thread.join()


def test_assert_period_as_uri_option(engine: Engine) -> None:
    engine.add_routes(routes(("direct:in", "mock:quiet?assert_period=5")))
    engine.start()
    quiet = mock_endpoint(engine, "quiet")
    quiet.expected_message_count(0)
    thread = send_later(engine, "unexpected")
    with pytest.raises(MockAssertionError):
        quiet.assert_is_satisfied(timeout=0)
    thread.join()


def test_any_order_with_unhashable_bodies_from_threads(engine: Engine, out: MockEndpoint) -> None:
    bodies = [{"id": i, "lines": [i, i + 1]} for i in range(8)]
    out.expected_bodies_received_in_any_order(*reversed(bodies))
    threads = [threading.Thread(target=send, args=(engine, item)) for item in bodies]
    for thread in threads:
        thread.start()
    out.assert_is_satisfied(timeout=5)
    for thread in threads:
        thread.join()


def test_any_order_detects_a_missing_body(engine: Engine, out: MockEndpoint) -> None:
    out.expected_bodies_received_in_any_order("a", "b")
    send(engine, "a", "a")
    with pytest.raises(MockAssertionError, match="in any order"):
        out.assert_is_satisfied(timeout=1)


# -- headers and properties ---------------------------------------------------------------------
def test_expected_header_must_hold_for_every_message_as_in_camel(engine: Engine, out: MockEndpoint) -> None:
    out.expected_header_received("type", "gold")
    send(engine, "a", type="gold")
    out.assert_is_satisfied(timeout=1)
    send(engine, "b", type="silver")
    with pytest.raises(MockAssertionError, match=r"message\(1\) has header type='silver', expected 'gold'"):
        out.assert_is_satisfied(timeout=1)


def test_expected_header_waits_for_one_message(engine: Engine, out: MockEndpoint) -> None:
    out.expected_header_received("type", "gold")
    with pytest.raises(MockAssertionError, match="at least 1"):
        out.assert_is_satisfied(timeout=0.05)


def test_expected_header_none_means_absent(engine: Engine, out: MockEndpoint) -> None:
    out.expected_header_received("secret", None)
    send(engine, "a", other=1)
    out.assert_is_satisfied(timeout=1)
    send(engine, "b", secret="x")
    with pytest.raises(MockAssertionError, match="secret='x'"):
        out.assert_is_satisfied(timeout=1)


def test_missing_header_is_reported(engine: Engine, out: MockEndpoint) -> None:
    out.expected_headers_received({"a": 1}, b=2)
    send(engine, "x", a=1)
    with pytest.raises(MockAssertionError, match="has no header 'b'"):
        out.assert_is_satisfied(timeout=1)


def test_expected_headers_received(engine: Engine, out: MockEndpoint) -> None:
    out.expected_headers_received({"a": 1}, b=2)
    send(engine, "x", A=1, b=2)  # header names are case-insensitive
    out.assert_is_satisfied(timeout=1)


def test_header_values_in_any_order(engine: Engine, out: MockEndpoint) -> None:
    out.expected_header_values_received_in_any_order("n", 2, 1)
    send(engine, "x", n=1)
    send(engine, "y", n=2)
    out.assert_is_satisfied(timeout=1)
    out.reset()
    out.expected_header_values_received_in_any_order("n", 2, 1)
    send(engine, "x", n=1)
    send(engine, "y", n=1)
    with pytest.raises(MockAssertionError, match="header n values"):
        out.assert_is_satisfied(timeout=1)


def test_expected_property_received(engine: Engine) -> None:
    class Routes(RouteBuilder):
        def configure(self) -> None:
            self.from_("direct:in").set_property("stage", "priced").to("mock:out")
    engine.add_routes(Routes())
    engine.start()
    out = mock_endpoint(engine, "out")
    out.expected_property_received("stage", "priced")
    send(engine, 1)
    out.assert_is_satisfied(timeout=1)
    out.expected_property_received("stage", "shipped")
    with pytest.raises(MockAssertionError, match="property stage='priced'"):
        out.assert_is_satisfied(timeout=1)


# -- duplicates, order, per-message predicates ------------------------------------------------
def test_no_duplicates_by_body(engine: Engine, out: MockEndpoint) -> None:
    out.expected_no_duplicates()
    send(engine, "a", "b")
    out.assert_is_satisfied(timeout=0)
    send(engine, "a")
    with pytest.raises(MockAssertionError, match=r"duplicate body value 'a' in message\(0\) and message\(2\)"):
        out.assert_is_satisfied(timeout=0)


def test_no_duplicates_by_expression(engine: Engine, out: MockEndpoint) -> None:
    out.expected_no_duplicates(header("id"))
    send(engine, "same body", id=1)
    send(engine, "same body", id=2)
    out.assert_is_satisfied(timeout=0)
    send(engine, "other", id=1)
    with pytest.raises(MockAssertionError, match="duplicate header"):
        out.assert_is_satisfied(timeout=0)


def test_ascending_and_descending(engine: Engine, out: MockEndpoint) -> None:
    out.expected_ascending(header("seq"))
    for seq in (1, 2, 2, 5):
        send(engine, "x", seq=seq)
    out.assert_is_satisfied(timeout=0)
    send(engine, "no seq")
    with pytest.raises(MockAssertionError, match="cannot be compared"):
        out.assert_is_satisfied(timeout=0)
    out.reset()
    out.expected_descending()
    send(engine, "c", "b", "b")
    out.assert_is_satisfied(timeout=0)
    send(engine, "x")
    with pytest.raises(MockAssertionError, match=r"descending order of body, message\(3\) breaks it"):
        out.assert_is_satisfied(timeout=0)


def test_message_index_predicates(engine: Engine, out: MockEndpoint) -> None:
    out.message(0).predicate(body() == "first", header("n") == 1)
    out.message(1).predicate(lambda ex: ex.message.body.endswith("nd"))
    send(engine, "first", n=1)
    send(engine, "second", n=2)
    out.assert_is_satisfied(timeout=1)


def test_message_index_predicate_failure_shows_the_message(engine: Engine, out: MockEndpoint) -> None:
    out.message(1).predicate(body() == "b")
    send(engine, "a", "c")
    with pytest.raises(MockAssertionError, match=r"message\(1\): predicate \(body\(\) == 'b'\) is false for body='c'"):
        out.assert_is_satisfied(timeout=1)


def test_message_index_waits_for_that_message(engine: Engine, out: MockEndpoint) -> None:
    out.message(2).predicate(body() == "c")
    send(engine, "a", "b")
    with pytest.raises(MockAssertionError, match="at least 3"):
        out.assert_is_satisfied(timeout=0.05)
    with pytest.raises(ValueError):
        out.message(-1)


def test_all_messages_predicate_and_raising_predicate(engine: Engine, out: MockEndpoint) -> None:
    out.all_messages().predicate(lambda ex: isinstance(ex.message.body, str))
    send(engine, "a", "b")
    out.assert_is_satisfied(timeout=0)
    out.all_messages().predicate(lambda ex: ex.message.body["key"])
    with pytest.raises(MockAssertionError, match="raised TypeError"):
        out.assert_is_satisfied(timeout=0)


def test_custom_expectation(engine: Engine, out: MockEndpoint) -> None:
    out.expects(lambda received: None if len({ex.exchange_id for ex in received}) == len(received)
                else "exchange ids repeat")
    out.expects(lambda received: "too short" if sum(len(ex.message.body) for ex in received) < 5 else None)
    send(engine, "ab", "cd")
    with pytest.raises(MockAssertionError, match="too short"):
        out.assert_is_satisfied(timeout=0)
    assert not out.is_satisfied()


def test_assert_is_not_satisfied(engine: Engine, out: MockEndpoint) -> None:
    out.expected_bodies_received("x")
    send(engine, "y")
    out.assert_is_not_satisfied(timeout=0.05)
    out.reset()
    out.expected_bodies_received("x")
    send(engine, "x")
    with pytest.raises(MockAssertionError, match="should not be"):
        out.assert_is_not_satisfied(timeout=0.05)


# -- recording ------------------------------------------------------------------------------------
def test_records_a_copy_of_what_arrived(engine: Engine) -> None:
    class Routes(RouteBuilder):
        def configure(self) -> None:
            self.from_("direct:in").to("mock:out").set_header("after", "yes").set_body("changed")
    engine.add_routes(Routes())
    engine.start()
    out = mock_endpoint(engine, "out")
    send(engine, "original", before="yes")
    [exchange] = out.received_exchanges
    assert exchange.message.body == "original"
    assert exchange.message.headers.get("before") == "yes"
    assert "after" not in exchange.message.headers


@pytest.mark.parametrize("option, kept", [
    ("retain_first=2", ["m0", "m1"]),
    ("retain_last=2", ["m3", "m4"]),
    ("retain_first=1&retain_last=2", ["m0", "m3", "m4"]),
    ("retain_first=0", []),
])
def test_retain_options_cap_memory_but_not_the_count(engine: Engine, option: str, kept: list[str]) -> None:
    engine.add_routes(routes(("direct:in", f"mock:big?{option}")))
    engine.start()
    big = mock_endpoint(engine, "big")
    big.expected_message_count(5)
    send(engine, *[f"m{i}" for i in range(5)])
    big.assert_is_satisfied(timeout=1)
    assert big.received_bodies == kept
    assert big.received_counter == 5


def test_stub_sets_the_reply_and_the_recorded_copy_keeps_the_request(engine: Engine, out: MockEndpoint) -> None:
    def reply(exchange):  # type: ignore[no-untyped-def]
        exchange.message.body = f"reply to {exchange.message.body}"
    out.when_any_exchange_received(reply)
    assert engine.template.request_body("direct:in", "ping") == "reply to ping"
    assert out.received_bodies == ["ping"]


def test_stub_that_raises_fails_the_sender_and_still_counts(engine: Engine, out: MockEndpoint) -> None:
    def boom(exchange):  # type: ignore[no-untyped-def]
        raise ConnectionError("down")
    out.when_exchange_received(2, boom)
    send(engine, "one")
    with pytest.raises(ConnectionError, match="down"):
        send(engine, "two")
    send(engine, "three")
    out.expected_bodies_received("one", "two", "three")
    out.assert_is_satisfied(timeout=0)


def test_redelivery_arrives_again(engine: Engine) -> None:
    class Routes(RouteBuilder):
        def configure(self) -> None:
            self.error_handler(default_error_handler(maximum_redeliveries=2, redelivery_delay=0))
            self.from_("direct:in").to("mock:flaky")
    engine.add_routes(Routes())
    engine.start()
    flaky = mock_endpoint(engine, "flaky")
    failures = iter([True, True, False])

    def sometimes(exchange):  # type: ignore[no-untyped-def]
        if next(failures):
            raise TimeoutError("try again")
    flaky.when_any_exchange_received(sometimes)
    send(engine, "order")
    flaky.expected_message_count(3)
    flaky.assert_is_satisfied(timeout=0)
    assert flaky.received_exchanges[-1].message.headers.get("CamelRedeliveryCounter") == 2


def test_reset_forgets_messages_expectations_and_stubs(engine: Engine, out: MockEndpoint) -> None:
    out.when_any_exchange_received(lambda ex: (_ for _ in ()).throw(RuntimeError("stub")))
    out.expected_message_count(5)
    with pytest.raises(RuntimeError):
        send(engine, "a")
    out.reset()
    assert out.received_bodies == [] and out.received_counter == 0
    send(engine, "b")
    out.assert_is_satisfied(timeout=0)
    assert out.received_bodies == ["b"]


# -- engine-wide helpers --------------------------------------------------------------------------
def test_mock_endpoint_helper_names(engine: Engine) -> None:
    assert mock_endpoint(engine, "x") is mock_endpoint(engine, "mock:x")
    assert mock_endpoint(engine, "direct:a").key == "mock:direct:a"
    other = Engine()
    other.add_component("mock", DirectComponent)
    with pytest.raises(TypeError, match="not a mock endpoint"):
        mock_endpoint(other, "y")


def test_assert_mocks_satisfied_lists_every_unmet_mock(engine: Engine) -> None:
    engine.add_routes(routes(("direct:a", "mock:a"), ("direct:b", "mock:b")))
    engine.start()
    mock_endpoint(engine, "a").expected_bodies_received("A")
    mock_endpoint(engine, "b").expected_bodies_received("B")
    engine.template.send_body("direct:a", "A")
    engine.template.send_body("direct:b", "wrong")
    with pytest.raises(MockAssertionError) as failure:
        assert_mocks_satisfied(engine, timeout=1)
    assert "mock:b" in str(failure.value) and "mock:a" not in str(failure.value)
    reset_mocks(engine)
    assert_mocks_satisfied(engine, timeout=0)
    assert mock_endpoint(engine, "b").received_counter == 0

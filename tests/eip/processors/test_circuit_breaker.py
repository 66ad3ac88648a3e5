"""Circuit breaker: closed / open / half-open, sliding window, fallback, properties, timeout."""

from __future__ import annotations

import threading

import pytest

from eip import ConfigurationError, RouteBuilder, dead_letter_channel
from eip import constants as c
from eip.errors import CircuitOpenError
from eip.processors.circuit_breaker import (
    CLOSED,
    HALF_OPEN,
    OPEN,
    RESPONSE_SUCCESSFUL_EXECUTION,
    RESPONSE_TIMED_OUT,
    CircuitBreakerTimeoutError,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Backend:
    """A service the breaker protects: fails while ``down`` is True; counts calls."""

    def __init__(self) -> None:
        self.down = False
        self.calls = 0
        self.error: Exception = OSError("backend down")

    def __call__(self, exchange) -> None:
        self.calls += 1
        if self.down:
            raise self.error
        exchange.message.body = f"ok:{exchange.message.body}"


def breaker_route(engine, backend, fallback=True, **options):
    def configure(b):
        route = b.from_("direct:in").route_id("r").circuit_breaker(**options).process(backend)
        if fallback:
            route = route.on_fallback().set_body(lambda ex: f"fallback:{ex.message.body}")
        route.end().to("mock:out")

    class Routes(RouteBuilder):
        def configure(self):
            configure(self)

    engine.add_routes(Routes())
    engine.start()
    processor = engine.route("r").entry.pipeline.processors[0]
    clock = Clock()
    processor.clock = clock
    return processor, clock


def send(engine, value="x"):
    return engine.template.request("direct:in", value)


def test_closed_calls_go_through(engine):
    backend = Backend()
    processor, _ = breaker_route(engine, backend)
    reply = send(engine)
    assert reply.message.body == "ok:x"
    props = reply.properties
    assert props[c.CIRCUIT_BREAKER_STATE] == CLOSED
    assert props[RESPONSE_SUCCESSFUL_EXECUTION] is True
    assert props[c.RESPONSE_FROM_FALLBACK] is False and props[c.RESPONSE_SHORT_CIRCUITED] is False
    assert processor.state == CLOSED


def test_failure_runs_the_fallback_with_the_exception_caught(engine):
    backend = Backend()
    backend.down = True
    breaker_route(engine, backend)
    reply = send(engine)
    assert reply.exception is None
    assert reply.message.body == "fallback:x"
    assert isinstance(reply.properties[c.EXCEPTION_CAUGHT], OSError)
    assert reply.properties[c.RESPONSE_FROM_FALLBACK] is True
    assert reply.properties[c.RESPONSE_SHORT_CIRCUITED] is False
    assert reply.properties[RESPONSE_SUCCESSFUL_EXECUTION] is False


def test_opens_at_the_threshold_and_short_circuits(engine):
    backend = Backend()
    processor, _ = breaker_route(engine, backend, failure_threshold=3, sliding_window_size=5)
    backend.down = True
    for _ in range(2):
        send(engine)
    assert processor.state == CLOSED
    third = send(engine)
    assert processor.state == OPEN
    assert third.properties[c.CIRCUIT_BREAKER_STATE] == OPEN
    backend.down = False
    reply = send(engine)  # short-circuited: the backend is not called although it is up again
    assert backend.calls == 3
    assert reply.message.body == "fallback:x"
    assert reply.properties[c.RESPONSE_SHORT_CIRCUITED] is True
    assert reply.properties[c.RESPONSE_FROM_FALLBACK] is True
    assert c.EXCEPTION_CAUGHT not in reply.properties


def test_without_fallback_failures_propagate_and_open_raises(engine):
    backend = Backend()
    breaker_route(engine, backend, fallback=False, failure_threshold=1, sliding_window_size=1)
    backend.down = True
    with pytest.raises(OSError, match="backend down"):
        engine.template.request_body("direct:in", "x")
    with pytest.raises(CircuitOpenError) as info:
        engine.template.request_body("direct:in", "x")
    assert info.value.route_id == "r"
    assert backend.calls == 1
    assert engine.get_endpoint("mock:out").received_counter == 0


def test_half_open_trial_success_closes(engine):
    backend = Backend()
    processor, clock = breaker_route(engine, backend, failure_threshold=1, sliding_window_size=1,
                                     wait_duration_in_open_state=30)
    backend.down = True
    send(engine)
    assert processor.state == OPEN
    clock.now += 29.9
    assert send(engine).properties[c.RESPONSE_SHORT_CIRCUITED] is True
    clock.now += 0.1
    assert processor.state == HALF_OPEN
    backend.down = False
    reply = send(engine)
    assert reply.message.body == "ok:x"
    assert reply.properties[c.CIRCUIT_BREAKER_STATE] == CLOSED


def test_half_open_trial_failure_opens_again(engine):
    backend = Backend()
    processor, clock = breaker_route(engine, backend, failure_threshold=1, sliding_window_size=1,
                                     wait_duration_in_open_state=30)
    backend.down = True
    send(engine)
    clock.now += 30
    send(engine)  # the trial fails
    assert processor.state == OPEN
    calls = backend.calls
    clock.now += 29
    send(engine)
    assert backend.calls == calls  # the wait started again at the trial's failure


def test_half_open_needs_all_permitted_trials_to_succeed(engine):
    backend = Backend()
    processor, clock = breaker_route(engine, backend, failure_threshold=1, sliding_window_size=1,
                                     wait_duration_in_open_state=1, permitted_calls_in_half_open_state=2)
    backend.down = True
    send(engine)
    clock.now += 1
    backend.down = False
    send(engine)
    assert processor.state == HALF_OPEN
    send(engine)
    assert processor.state == CLOSED


def test_half_open_lets_only_the_permitted_calls_through(engine):
    backend = Backend()
    entered, release = threading.Event(), threading.Event()
    processor, clock = breaker_route(engine, lambda ex: (entered.set(), release.wait(5), backend(ex)),
                                     failure_threshold=1, sliding_window_size=1, wait_duration_in_open_state=1)
    backend.down = True
    release.set()
    send(engine)
    assert processor.state == OPEN
    clock.now += 1
    backend.down = False
    release.clear()
    entered.clear()
    trial = threading.Thread(target=send, args=(engine,))
    trial.start()
    assert entered.wait(5)
    other = send(engine)  # the single trial is in flight: short-circuited
    assert other.properties[c.RESPONSE_SHORT_CIRCUITED] is True
    release.set()
    trial.join(5)
    assert processor.state == CLOSED


def test_only_the_last_window_counts(engine):
    backend = Backend()
    processor, _ = breaker_route(engine, backend, failure_threshold=2, sliding_window_size=3)
    for down in (True, False, False, True):  # window now: ok, ok, fail
        backend.down = down
        send(engine)
    assert processor.state == CLOSED
    backend.down = True
    send(engine)  # window: ok, fail, fail
    assert processor.state == OPEN


def test_failure_rate_threshold_with_minimum_calls(engine):
    backend = Backend()
    processor, _ = breaker_route(engine, backend, failure_rate_threshold=50, minimum_number_of_calls=4,
                                 sliding_window_size=10)
    for down in (True, True, False):
        backend.down = down
        send(engine)
    assert processor.state == CLOSED  # 3 calls < minimum
    backend.down = False
    send(engine)  # 4 calls, 2 failures: 50%
    assert processor.state == OPEN


def test_failure_rate_below_the_threshold_stays_closed(engine):
    backend = Backend()
    processor, _ = breaker_route(engine, backend, failure_rate_threshold=60, minimum_number_of_calls=2,
                                 sliding_window_size=4)
    for down in (False, True, False, True, False):  # never above 50%
        backend.down = down
        send(engine)
    assert processor.state == CLOSED


def test_ignored_exceptions_do_not_count(engine):
    backend = Backend()
    backend.error = ValueError("bad input")
    processor, _ = breaker_route(engine, backend, failure_threshold=1, sliding_window_size=1,
                                 ignore_exceptions=[ValueError])
    backend.down = True
    reply = send(engine)
    assert reply.message.body == "fallback:x"  # the fallback still answers
    assert processor.state == CLOSED


def test_only_recorded_exceptions_count(engine):
    backend = Backend()
    backend.error = KeyError("k")
    processor, _ = breaker_route(engine, backend, failure_threshold=1, sliding_window_size=1,
                                 record_exceptions=[OSError])
    backend.down = True
    send(engine)
    assert processor.state == CLOSED
    backend.error = OSError("io")
    send(engine)
    assert processor.state == OPEN


def test_error_handler_does_not_redeliver_inside_the_breaker(engine):
    def configure(b):
        b.error_handler(dead_letter_channel("mock:dead", maximum_redeliveries=3, redelivery_delay=0))
        (b.from_("direct:in").route_id("r").circuit_breaker(failure_threshold=5)
            .to("mock:backend")
            .on_fallback().set_body("fallback").end())

    class Routes(RouteBuilder):
        def configure(self):
            configure(self)

    engine.add_routes(Routes())
    engine.start()
    engine.get_endpoint("mock:backend").when_any_exchange_received(
        lambda ex: (_ for _ in ()).throw(OSError("down")))
    assert engine.template.request_body("direct:in", "x") == "fallback"
    assert engine.get_endpoint("mock:backend").received_counter == 1
    assert engine.get_endpoint("mock:dead").received_counter == 0


def test_timeout_counts_as_a_failure(engine):
    release = threading.Event()
    processor, _ = breaker_route(engine, lambda ex: release.wait(5), failure_threshold=1,
                                 sliding_window_size=1, timeout=0.05)
    try:
        reply = send(engine)
        assert reply.message.body == "fallback:x"
        assert reply.properties[RESPONSE_TIMED_OUT] is True
        assert isinstance(reply.properties[c.EXCEPTION_CAUGHT], CircuitBreakerTimeoutError)
        assert processor.state == OPEN
    finally:
        release.set()


def test_timeout_copies_the_result_back(engine):
    breaker_route(engine, Backend(), timeout=5)
    reply = send(engine, "y")
    assert reply.message.body == "ok:y"
    assert RESPONSE_TIMED_OUT not in reply.properties


@pytest.mark.parametrize("options, message", [
    ({"failure_threshold": 11, "sliding_window_size": 10}, "could never open"),
    ({"failure_rate_threshold": 0}, "percentage"),
    ({"failure_rate_threshold": 150}, "percentage"),
    ({"sliding_window_size": 0}, "sliding_window_size"),
    ({"wait_duration_in_open_state": -1}, "wait_duration_in_open_state"),
    ({"timeout": 0}, "timeout"),
    ({"ignore_exceptions": ["ValueError"]}, "exception classes"),
])
def test_bad_options(engine, options, message):
    with pytest.raises(ConfigurationError, match=message):
        engine.add_routes(lambda b: b.from_("direct:in").circuit_breaker(**options).to("mock:x").end())

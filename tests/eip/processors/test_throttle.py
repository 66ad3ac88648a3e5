"""Throttler: at most N exchanges per period (sliding window), per key, blocking or rejecting."""

from __future__ import annotations

import threading
import time

import pytest

from eip import ConfigurationError, ExpressionError, header
from eip.errors import ThrottlerRejectedError
from eip.exchange import Exchange
from eip.processors.throttle import ThrottleProcessor


class FakeClock:
    """A clock that only moves when a throttled caller waits."""

    def __init__(self) -> None:
        self.now = 100.0
        self.waits = []

    def __call__(self) -> float:
        return self.now

    def wait(self, seconds: float) -> bool:
        self.waits.append(round(seconds, 6))
        self.now += seconds
        return False


def throttler(maximum, period=1.0, **kwargs):
    clock = FakeClock()
    return ThrottleProcessor(maximum, period, clock=clock, wait=clock.wait, **kwargs), clock


def test_at_most_n_per_period_then_the_caller_waits():
    processor, clock = throttler(3)
    for _ in range(3):
        processor.process(Exchange())
    assert clock.waits == []
    processor.process(Exchange())  # the 4th waits until the 1st slot frees
    assert clock.waits == [1.0]
    assert clock.now == 101.0


def test_the_window_slides_with_each_admission():
    processor, clock = throttler(2, period=10.0)
    processor.process(Exchange())  # t=100
    clock.now = 104.0
    processor.process(Exchange())  # t=104
    clock.now = 108.0
    processor.process(Exchange())  # full: waits for the t=100 slot (t=110)
    assert clock.waits == [2.0]
    processor.process(Exchange())  # then for the t=104 slot (t=114)
    assert clock.waits == [2.0, 4.0]


def test_no_burst_at_a_window_boundary():
    processor, clock = throttler(2, period=1.0)
    clock.now = 100.9
    processor.process(Exchange())
    processor.process(Exchange())
    clock.now = 101.1  # a fixed window would start afresh here
    processor.process(Exchange())
    assert clock.waits == [pytest.approx(0.8)]


def test_reject_execution_fails_instead_of_waiting():
    processor, clock = throttler(1, reject_execution=True, route_id="r", node_id="t")
    processor.process(Exchange())
    with pytest.raises(ThrottlerRejectedError, match="more than 1") as info:
        processor.process(Exchange())
    assert info.value.route_id == "r" and info.value.node_id == "t"
    assert clock.waits == []
    clock.now += 1.0
    processor.process(Exchange())  # the slot is free again


def test_each_correlation_key_has_its_own_window():
    processor, clock = throttler(1, correlation=lambda ex: ex.message.headers.get("k"))
    processor.process(Exchange(headers={"k": "a"}))
    processor.process(Exchange(headers={"k": "b"}))
    processor.process(Exchange())  # None is a key too
    assert clock.waits == []
    processor.process(Exchange(headers={"k": "a"}))
    assert clock.waits == [1.0]


def test_idle_keys_are_swept(monkeypatch):
    monkeypatch.setattr("eip.processors.throttle._SWEEP_AT", 10)
    processor, clock = throttler(1, correlation=lambda ex: ex.message.body)
    processor._sweep_at = 10  # sweeps are amortised: when the number of keys doubles
    for key in range(10):
        processor.process(Exchange(key))
    clock.now += 0.5
    processor.process(Exchange("recent"))  # sweeps nothing: every key is still in its window
    assert len(processor._windows) == 11
    clock.now += 0.7
    for key in range(11, 22):
        processor.process(Exchange(key))  # the 22nd key sweeps the ten idle ones
    assert 0 not in processor._windows and "recent" in processor._windows
    assert len(processor._windows) == 12


def test_maximum_requests_may_be_an_expression():
    processor, clock = throttler(lambda ex: ex.message.headers["max"])
    for _ in range(2):
        processor.process(Exchange(headers={"max": 2}))
    processor.process(Exchange(headers={"max": 2}))
    assert clock.waits == [1.0]


@pytest.mark.parametrize("value", [0, -1, None, "x", True])
def test_maximum_requests_expression_must_give_a_positive_integer(value):
    processor, _ = throttler(lambda ex: value)
    with pytest.raises(ExpressionError, match="positive integer"):
        processor.process(Exchange())


def test_a_stopping_route_cuts_the_wait_short():
    processor = ThrottleProcessor(1, 60.0)
    processor.start()
    processor.process(Exchange())
    errors = []

    def blocked():
        try:
            processor.process(Exchange())
        except ThrottlerRejectedError as exc:
            errors.append(exc)

    thread = threading.Thread(target=blocked)
    thread.start()
    processor.stop()  # whether the thread waits already or not, it must not wait 60 s
    thread.join(5)
    assert not thread.is_alive()
    assert errors and "stopping" in str(errors[0])


# -- through the engine ----------------------------------------------------------------------

def start(engine, configure):
    engine.add_routes(configure)
    engine.start()


def test_route_throttles_real_time(engine):
    start(engine, lambda b: b.from_("direct:in").throttle(2, time_period=0.2).to("mock:out"))
    began = time.monotonic()
    for n in range(5):  # slots: 0, 0, 0.2, 0.2, 0.4
        engine.template.send_body("direct:in", n)
    assert time.monotonic() - began >= 0.39
    assert engine.get_endpoint("mock:out").received_bodies == [0, 1, 2, 3, 4]


def test_route_rejects_per_key(engine):
    start(engine, lambda b: b.from_("direct:in")
          .throttle(1, time_period=60, correlation=header("customer"), reject_execution=True).to("mock:out"))
    engine.template.send_body("direct:in", 1, headers={"customer": "a"})
    engine.template.send_body("direct:in", 2, headers={"customer": "b"})
    with pytest.raises(ThrottlerRejectedError, match="key 'a'"):
        engine.template.send_body("direct:in", 3, headers={"customer": "a"})
    assert engine.get_endpoint("mock:out").received_bodies == [1, 2]


def test_template_expression_for_maximum(engine):
    start(engine, lambda b: b.from_("direct:in")
          .throttle("${header.max}", time_period=60, reject_execution=True).to("mock:out"))
    engine.template.send_body("direct:in", 1, headers={"max": "2"})
    engine.template.send_body("direct:in", 2, headers={"max": "2"})
    with pytest.raises(ThrottlerRejectedError):
        engine.template.send_body("direct:in", 3, headers={"max": "2"})


@pytest.mark.parametrize("options, message", [
    ({"maximum_requests": 0}, "maximum_requests"),
    ({"maximum_requests": 2.5}, "maximum_requests"),
    ({"maximum_requests": 1, "time_period": 0}, "time_period"),
    ({"maximum_requests": 1, "time_period": "soon"}, "time_period"),
])
def test_bad_options_are_configuration_errors(engine, options, message):
    with pytest.raises(ConfigurationError, match=message):
        engine.add_routes(lambda b: b.from_("direct:in").throttle(**options))

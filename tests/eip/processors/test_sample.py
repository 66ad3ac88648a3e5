"""Sampling throttler: one exchange per period or one in N passes; the others stop, completed."""

from __future__ import annotations

import pytest

from eip import ConfigurationError
from eip.exchange import Exchange
from eip.processors.sample import FrequencySampleProcessor, PeriodSampleProcessor


def start(engine, configure):
    engine.add_routes(configure)
    engine.start()


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def passes(processor, count=1):
    results = []
    for _ in range(count):
        exchange = Exchange()
        processor.process(exchange)
        results.append(not exchange.route_stop)
    return results


def test_period_lets_the_first_and_then_one_per_period_pass():
    clock = Clock()
    processor = PeriodSampleProcessor(1.0, clock)
    assert passes(processor, 3) == [True, False, False]
    clock.now += 0.99
    assert passes(processor) == [False]
    clock.now += 0.01
    assert passes(processor, 2) == [True, False]
    clock.now += 5
    assert passes(processor) == [True]


def test_message_frequency_lets_every_nth_pass():
    processor = FrequencySampleProcessor(3)
    assert passes(processor, 7) == [False, False, True, False, False, True, False]


def test_frequency_one_lets_everything_pass():
    assert passes(FrequencySampleProcessor(1), 3) == [True, True, True]


def test_sampled_out_exchanges_stop_and_count_as_completed(engine):
    start(engine, lambda b: b.from_("direct:in").route_id("r").sample(message_frequency=2).to("mock:out"))
    for n in range(6):
        engine.template.send_body("direct:in", n)  # none raises
    assert engine.get_endpoint("mock:out").received_bodies == [1, 3, 5]
    stats = engine.route_stats("r")
    assert stats["exchanges_completed"] == 6 and stats["exchanges_failed"] == 0


def test_period_through_a_route(engine):
    start(engine, lambda b: b.from_("direct:in").sample(60).to("mock:out"))
    for n in range(5):
        engine.template.send_body("direct:in", n)
    assert engine.get_endpoint("mock:out").received_bodies == [0]


def test_default_period_is_one_second(engine):
    start(engine, lambda b: b.from_("direct:in").route_id("r").sample())
    assert engine.route("r").entry.pipeline.processors[0].period == 1.0


@pytest.mark.parametrize("options, message", [
    ({"period": 0}, "period"),
    ({"period": "often"}, "period"),
    ({"period": None}, "period"),
    ({"message_frequency": -2}, "message_frequency"),
])
def test_bad_options(engine, options, message):
    with pytest.raises(ConfigurationError, match=message):
        engine.add_routes(lambda b: b.from_("direct:in").sample(**options))

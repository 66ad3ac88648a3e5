"""Delayer: a fixed or per-exchange wait on the caller's thread, cut short when the route stops."""

from __future__ import annotations

import threading
import time

import pytest

from eip import ConfigurationError, ExpressionError, header
from eip.errors import DelayInterruptedError
from eip.exchange import Exchange
from eip.processors.delay import DelayProcessor
from eip.testing import eventually


def start(engine, configure):
    engine.add_routes(configure)
    engine.start()


def timed(fn):
    began = time.monotonic()
    fn()
    return time.monotonic() - began


def test_fixed_delay(engine):
    start(engine, lambda b: b.from_("direct:in").delay(0.1).to("mock:out"))
    assert timed(lambda: engine.template.send_body("direct:in", "x")) >= 0.1
    assert engine.get_endpoint("mock:out").received_bodies == ["x"]


def test_duration_text(engine):
    start(engine, lambda b: b.from_("direct:in").delay("50ms").to("mock:out"))
    assert timed(lambda: engine.template.send_body("direct:in", "x")) >= 0.05


def test_delay_expression_per_exchange(engine):
    start(engine, lambda b: b.from_("direct:in").delay(header("wait")).to("mock:out"))
    assert timed(lambda: engine.template.send_body("direct:in", 1, headers={"wait": 0.08})) >= 0.08
    assert timed(lambda: engine.template.send_body("direct:in", 2, headers={"wait": "60ms"})) >= 0.06
    engine.template.send_body("direct:in", 3)  # None: no wait
    engine.template.send_body("direct:in", 4, headers={"wait": -5})  # negative: no wait
    assert engine.get_endpoint("mock:out").received_bodies == [1, 2, 3, 4]


def test_delay_template(engine):
    start(engine, lambda b: b.from_("direct:in").delay("${header.wait}").to("mock:out"))
    assert timed(lambda: engine.template.send_body("direct:in", 1, headers={"wait": "50ms"})) >= 0.05


def test_bad_delay_value_is_an_expression_error(engine):
    start(engine, lambda b: b.from_("direct:in").route_id("r").delay(header("wait")).to("mock:out"))
    with pytest.raises(ExpressionError, match="'soon'") as info:
        engine.template.send_body("direct:in", 1, headers={"wait": "soon"})
    assert info.value.route_id == "r"


def test_bad_constant_delay_is_a_configuration_error(engine):
    with pytest.raises(ConfigurationError, match="delay"):
        engine.add_routes(lambda b: b.from_("direct:in").delay("soon"))


def test_stop_interrupts_a_delay():
    processor = DelayProcessor(60.0, "r", "d")
    processor.start()
    errors = []

    def delayed():
        try:
            processor.process(Exchange())
        except DelayInterruptedError as exc:
            errors.append(exc)

    thread = threading.Thread(target=delayed)
    thread.start()
    processor.stop()
    thread.join(5)
    assert not thread.is_alive()
    assert errors and errors[0].route_id == "r"
    processor.start()  # a restarted route delays again
    assert not processor._stopping.is_set()


def test_engine_stop_does_not_wait_for_a_long_delay(engine):
    engine.shutdown_timeout = 0.1
    start(engine, lambda b: b.from_("direct:in").delay(30).to("mock:out"))
    sender = threading.Thread(target=lambda: engine.template.send("direct:in", Exchange("x")))
    sender.start()
    eventually(lambda: engine.route(engine.route_ids()[0]).entry.stats.inflight, what="the exchange in the delay")
    assert timed(engine.stop) < 5
    sender.join(5)
    assert not sender.is_alive()
    assert engine.get_endpoint("mock:out").received_counter == 0

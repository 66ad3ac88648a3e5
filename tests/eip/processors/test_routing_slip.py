"""Routing slip: URIs computed once, run as a pipeline on the exchange."""

from __future__ import annotations

import pytest

from eip import constants as c
from eip import dead_letter_channel, header
from eip.errors import UnknownComponentError


class Boom(Exception):
    pass


def mock(engine, name):
    return engine.get_endpoint(f"mock:{name}")


def appender(b, name):
    b.from_(f"direct:{name}").transform(lambda ex: ex.message.body + name)


def test_each_hop_sees_the_previous_hops_output(engine):
    def routes(b):
        appender(b, "a")
        appender(b, "b")
        b.from_("direct:in").routing_slip(header("slip")).to("mock:after")

    engine.add_routes(routes)
    engine.start()
    reply = engine.template.request_body("direct:in", "x", headers={"slip": "direct:a, direct:b,mock:end"})
    assert reply == "xab"
    end = mock(engine, "end").received_exchanges[0]
    assert end.message.body == "xab"
    assert end.properties[c.SLIP_ENDPOINT] == "mock:end"
    assert mock(engine, "after").received_bodies == ["xab"]


def test_expression_is_evaluated_once(engine):
    calls = []

    def slip(exchange):
        calls.append(exchange.message.body)
        return ["direct:a", "direct:change", "mock:end"]

    def routes(b):
        appender(b, "a")
        b.from_("direct:change").set_header("slip", "mock:other")
        b.from_("direct:in").routing_slip(slip)

    engine.add_routes(routes)
    engine.start()
    engine.template.send_body("direct:in", "x")
    assert calls == ["x"]
    assert mock(engine, "end").received_bodies == ["xa"]
    assert mock(engine, "other").received_counter == 0


@pytest.mark.parametrize("slip", [None, "", []])
def test_empty_slip_does_nothing(engine, slip):
    engine.add_routes(lambda b: b.from_("direct:in").routing_slip(lambda ex: slip).to("mock:after"))
    engine.start()
    engine.template.send_body("direct:in", "x")
    assert mock(engine, "after").received_bodies == ["x"]


def test_failing_hop_stops_the_slip_and_raises(engine):
    engine.add_routes(lambda b: b.from_("direct:in").routing_slip(header("slip")).to("mock:after"))
    engine.start()
    mock(engine, "a").when_any_exchange_received(lambda ex: (_ for _ in ()).throw(Boom("a")))
    with pytest.raises(Boom):
        engine.template.send_body("direct:in", "x", headers={"slip": "mock:a,mock:b"})
    assert mock(engine, "b").received_counter == 0
    assert mock(engine, "after").received_counter == 0


def test_handled_failure_ends_the_slip(engine):
    def routes(b):
        b.error_handler(dead_letter_channel("mock:dead", redelivery_delay=0))
        b.from_("direct:in").routing_slip(header("slip")).to("mock:after")

    engine.add_routes(routes)
    engine.start()
    mock(engine, "a").when_any_exchange_received(lambda ex: (_ for _ in ()).throw(Boom("a")))
    engine.template.send_body("direct:in", "x", headers={"slip": "mock:a,mock:b"})
    dead = mock(engine, "dead").received_exchanges
    assert len(dead) == 1 and dead[0].properties[c.SLIP_ENDPOINT] == "mock:a"
    assert mock(engine, "b").received_counter == 0
    assert mock(engine, "after").received_counter == 0


def test_invalid_endpoint_fails_before_any_hop_unless_ignored(engine):
    engine.add_routes(lambda b: b.from_("direct:strict").routing_slip(header("slip")))
    engine.add_routes(lambda b: b.from_("direct:lenient").routing_slip(header("slip"), ignore_invalid_endpoints=True))
    engine.start()
    slip = {"slip": "mock:a,bogus:x,mock:b"}
    with pytest.raises(UnknownComponentError):
        engine.template.send_body("direct:strict", 1, headers=slip)
    assert mock(engine, "a").received_counter == 0
    engine.template.send_body("direct:lenient", 2, headers=slip)
    assert mock(engine, "a").received_bodies == [2]
    assert mock(engine, "b").received_bodies == [2]


def test_custom_delimiter(engine):
    engine.add_routes(lambda b: b.from_("direct:in").routing_slip(header("slip"), delimiter="|"))
    engine.start()
    engine.template.send_body("direct:in", 1, headers={"slip": "mock:a|mock:b"})
    assert mock(engine, "a").received_bodies == [1]
    assert mock(engine, "b").received_bodies == [1]

"""to and to_d: static and dynamic sends, exchange pattern override, direct semantics."""

from __future__ import annotations

import pytest

from eip import InOut, NoConsumerError, header


def start(engine, configure):
    engine.add_routes(configure)
    engine.start()


def test_to_several_endpoints_in_turn(engine):
    start(engine, lambda b: b.from_("direct:in").to("mock:a", "mock:b"))
    engine.template.send_body("direct:in", "x")
    assert engine.get_endpoint("mock:a").received_bodies == ["x"]
    assert engine.get_endpoint("mock:b").received_bodies == ["x"]


def test_to_d_resolves_the_uri_per_exchange(engine):
    start(engine, lambda b: b.from_("direct:in").to_d("mock:${header.region}"))
    engine.template.send_body("direct:in", 1, headers={"region": "eu"})
    engine.template.send_body("direct:in", 2, headers={"region": "us"})
    engine.template.send_body("direct:in", 3, headers={"region": "eu"})
    assert engine.get_endpoint("mock:eu").received_bodies == [1, 3]
    assert engine.get_endpoint("mock:us").received_bodies == [2]


def test_to_d_with_an_expression(engine):
    start(engine, lambda b: b.from_("direct:in").to_d(lambda ex: "mock:" + ex.message.headers["to"]))
    engine.template.send_body("direct:in", 1, headers={"to": "x"})
    assert engine.get_endpoint("mock:x").received_bodies == [1]


def test_direct_with_no_consumer_fails_at_once(engine):
    engine.start()
    with pytest.raises(NoConsumerError, match="direct:nobody"):
        engine.template.send_body("direct:nobody", "x")


def test_request_reply_through_direct_sub_route(engine):
    def configure(b):
        b.from_("direct:in").to("direct:sub").set_body(lambda ex: ex.message.body + "!")
        b.from_("direct:sub").set_body(lambda ex: ex.message.body.upper())

    start(engine, configure)
    assert engine.template.request_body("direct:in", "hi") == "HI!"


def test_pattern_override(engine):
    seen = []
    start(engine, lambda b: (b.from_("direct:in").to("direct:sub", pattern=InOut).to("mock:out")))
    engine.add_routes(lambda b: b.from_("direct:sub").process(lambda ex: seen.append(ex.pattern)))
    engine.template.send_body("direct:in", "x")
    assert seen == [InOut]
    assert engine.get_endpoint("mock:out").received_exchanges[0].pattern.value == "InOnly"


def test_headers_survive_the_route(engine):
    start(engine, lambda b: b.from_("direct:in").filter(header("keep") == True).to("mock:out").end())  # noqa: E712
    engine.template.send_body("direct:in", "x", headers={"keep": True, "Other": 1})
    out = engine.get_endpoint("mock:out").received_exchanges[0]
    assert out.message.headers["other"] == 1

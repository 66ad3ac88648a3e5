"""Dynamic router: the expression is asked again after every hop until it returns None."""

from __future__ import annotations

import pytest

from eip import constants as c
from eip.errors import ExchangeError


def mock(engine, name):
    return engine.get_endpoint(f"mock:{name}")


def test_re_evaluated_after_every_hop_until_none(engine):
    asked = []

    def next_hop(exchange):
        previous = exchange.properties.get(c.SLIP_ENDPOINT)
        asked.append((previous, exchange.message.body))
        return {None: "direct:a", "direct:a": "mock:b", "mock:b": None}[previous]

    def routes(b):
        b.from_("direct:a").transform(lambda ex: ex.message.body + "a")
        b.from_("direct:in").dynamic_router(next_hop).to("mock:after")

    engine.add_routes(routes)
    engine.start()
    assert engine.template.request_body("direct:in", "x") == "xa"
    assert asked == [(None, "x"), ("direct:a", "xa"), ("mock:b", "xa")]
    assert mock(engine, "b").received_bodies == ["xa"]
    assert mock(engine, "after").received_bodies == ["xa"]


def test_several_uris_at_once_run_in_order(engine):
    def next_hop(exchange):
        return None if exchange.properties.get(c.SLIP_ENDPOINT) else "mock:a,mock:b"

    engine.add_routes(lambda b: b.from_("direct:in").dynamic_router(next_hop))
    engine.start()
    engine.template.send_body("direct:in", 1)
    assert mock(engine, "a").received_bodies == [1]
    assert mock(engine, "b").received_bodies == [1]


def test_max_hops_guard_raises_a_clear_error(engine):
    engine.add_routes(lambda b: b.from_("direct:in").route_id("r")
                      .dynamic_router(lambda ex: "mock:loop", max_hops=5).id("router"))
    engine.start()
    with pytest.raises(ExchangeError, match="max_hops=5") as info:
        engine.template.send_body("direct:in", 1)
    assert (info.value.route_id, info.value.node_id) == ("r", "router")
    assert mock(engine, "loop").received_counter == 5


def test_ignored_invalid_endpoint_still_counts_towards_max_hops(engine):
    engine.add_routes(lambda b: b.from_("direct:in")
                      .dynamic_router(lambda ex: "bogus:x", ignore_invalid_endpoints=True, max_hops=3))
    engine.start()
    with pytest.raises(ExchangeError, match="max_hops"):
        engine.template.send_body("direct:in", 1)


def test_stop_in_a_hop_ends_routing(engine):
    def routes(b):
        b.from_("direct:stopper").stop()
        b.from_("direct:in").dynamic_router(lambda ex: "direct:stopper").to("mock:after")

    engine.add_routes(routes)
    engine.start()
    engine.template.send_body("direct:in", 1)
    assert mock(engine, "after").received_counter == 0


def test_bad_max_hops_is_a_configuration_error(engine):
    from eip import ConfigurationError

    with pytest.raises(ConfigurationError, match="max_hops"):
        engine.add_routes(lambda b: b.from_("direct:in").dynamic_router(lambda ex: None, max_hops=0))

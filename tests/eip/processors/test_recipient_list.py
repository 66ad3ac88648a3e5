"""Recipient list: URIs from an expression, resolved at run time, with a producer cache."""

from __future__ import annotations

import pytest

from eip import ConfigurationError, dead_letter_channel, header
from eip import constants as c
from eip.errors import ExpressionError, UnknownComponentError
from eip.producer_cache import ProducerCache
from eip.strategies import concat_bodies


class Boom(Exception):
    pass


def mock(engine, name):
    return engine.get_endpoint(f"mock:{name}")


def cache_of(engine, route_id):
    (cache,) = [s for s in engine.route(route_id).services if isinstance(s, ProducerCache)]
    return cache


def test_delimited_text_of_uris(engine):
    engine.add_routes(lambda b: b.from_("direct:in").recipient_list(header("to")).to("mock:after"))
    engine.start()
    engine.template.send_body("direct:in", "x", headers={"to": "mock:a, mock:b ,mock:c"})
    got = [mock(engine, n).received_exchanges[0] for n in "abc"]
    assert [e.message.body for e in got] == ["x"] * 3
    assert [e.properties[c.MULTICAST_INDEX] for e in got] == [0, 1, 2]
    assert [e.properties[c.MULTICAST_COMPLETE] for e in got] == [False, False, True]
    assert [e.properties[c.TO_ENDPOINT] for e in got] == ["mock:a", "mock:b", "mock:c"]
    assert mock(engine, "after").received_bodies == ["x"]


def test_list_of_uris_and_custom_delimiter(engine):
    engine.add_routes(lambda b: b.from_("direct:list").recipient_list(lambda ex: ["mock:a", "mock:b"]))
    engine.add_routes(lambda b: b.from_("direct:semi").recipient_list(header("to"), delimiter=";"))
    engine.start()
    engine.template.send_body("direct:list", 1)
    engine.template.send_body("direct:semi", 2, headers={"to": "mock:a;mock:b"})
    assert mock(engine, "a").received_bodies == [1, 2]
    assert mock(engine, "b").received_bodies == [1, 2]


@pytest.mark.parametrize("recipients", [None, "", " , ", []])
def test_no_recipients_sends_nothing(engine, recipients):
    engine.add_routes(lambda b: b.from_("direct:in").recipient_list(lambda ex: recipients).to("mock:after"))
    engine.start()
    engine.template.send_body("direct:in", "x")
    assert mock(engine, "after").received_bodies == ["x"]


def test_result_is_last_reply_or_strategy(engine):
    def routes(b):
        b.from_("direct:one").transform(lambda ex: "1")
        b.from_("direct:two").transform(lambda ex: "2")
        b.from_("direct:last").recipient_list(header("to"))
        b.from_("direct:joined").recipient_list(header("to"), strategy=concat_bodies(","))

    engine.add_routes(routes)
    engine.start()
    to = {"to": "direct:one,direct:two"}
    assert engine.template.request_body("direct:last", "x", headers=to) == "2"
    assert engine.template.request_body("direct:joined", "x", headers=to) == "1,2"


def test_unknown_endpoint_fails_unless_ignored(engine):
    engine.add_routes(lambda b: b.from_("direct:strict").route_id("strict").recipient_list(header("to")).id("rl"))
    engine.add_routes(lambda b: b.from_("direct:lenient")
                      .recipient_list(header("to"), ignore_invalid_endpoints=True))
    engine.start()
    to = {"to": "nosuchscheme:x,mock:a"}
    with pytest.raises(UnknownComponentError) as info:
        engine.template.send_body("direct:strict", "x", headers=to)
    assert (info.value.route_id, info.value.node_id) == ("strict", "rl")
    assert mock(engine, "a").received_counter == 0
    engine.template.send_body("direct:lenient", "y", headers=to)
    assert mock(engine, "a").received_bodies == ["y"]


def test_bad_recipient_value_is_an_expression_error(engine):
    engine.add_routes(lambda b: b.from_("direct:in").route_id("r").recipient_list(lambda ex: 42).id("rl"))
    engine.start()
    with pytest.raises(ExpressionError) as info:
        engine.template.send_body("direct:in", "x")
    assert (info.value.route_id, info.value.node_id) == ("r", "rl")


def test_producers_are_cached_and_stopped_with_the_route(engine):
    engine.add_routes(lambda b: b.from_("direct:in").route_id("r").recipient_list(header("to")))
    engine.start()
    for _ in range(3):
        engine.template.send_body("direct:in", "x", headers={"to": "mock:a,mock:b"})
    cache = cache_of(engine, "r")
    assert len(cache) == 2
    first = cache.acquire("mock:a")
    cache.release(first)
    again = cache.acquire("mock:a")
    cache.release(again)
    assert again is first
    engine.stop()
    assert len(cache) == 0


def test_failure_in_one_recipient(engine):
    def routes(b):
        b.from_("direct:plain").recipient_list(header("to"))
        b.from_("direct:stop").recipient_list(header("to"), stop_on_exception=True)

    engine.add_routes(routes)
    engine.start()
    mock(engine, "a").when_any_exchange_received(lambda ex: (_ for _ in ()).throw(Boom("a")))
    to = {"to": "mock:a,mock:b"}
    with pytest.raises(Boom):
        engine.template.send_body("direct:plain", 1, headers=to)
    assert mock(engine, "b").received_bodies == [1]
    with pytest.raises(Boom):
        engine.template.send_body("direct:stop", 2, headers=to)
    assert mock(engine, "b").received_bodies == [1]


def test_dead_letter_channel_per_recipient(engine):
    def routes(b):
        b.error_handler(dead_letter_channel("mock:dead", redelivery_delay=0))
        b.from_("direct:in").recipient_list(header("to")).to("mock:after")

    engine.add_routes(routes)
    engine.start()
    mock(engine, "a").when_any_exchange_received(lambda ex: (_ for _ in ()).throw(Boom("a")))
    engine.template.send_body("direct:in", "x", headers={"to": "mock:a,mock:b"})
    dead = mock(engine, "dead").received_exchanges
    assert [e.message.body for e in dead] == ["x"]
    assert dead[0].properties[c.FAILURE_ENDPOINT] == "mock:a"
    assert mock(engine, "b").received_counter == 1
    assert mock(engine, "after").received_counter == 1


def test_parallel_recipients(engine):
    engine.add_routes(lambda b: b.from_("direct:in")
                      .recipient_list(header("to"), parallel=True, strategy=concat_bodies("|")))
    engine.start()
    uris = ",".join(f"mock:p{i}" for i in range(8))
    assert engine.template.request_body("direct:in", "x", headers={"to": uris}) == "|".join(["x"] * 8)
    assert all(mock(engine, f"p{i}").received_counter == 1 for i in range(8))


def test_timeout_needs_parallel(engine):
    with pytest.raises(ConfigurationError, match="parallel"):
        engine.add_routes(lambda b: b.from_("direct:in").recipient_list(header("to"), timeout=1))

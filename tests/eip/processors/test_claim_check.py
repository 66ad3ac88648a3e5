"""Claim check: set/get/get_and_remove/push/pop of body and headers, per exchange or shared."""

from __future__ import annotations

import pytest

from eip import ConfigurationError, ExpressionError, header
from eip.processors.claim_check import REPOSITORY_PROPERTY
from eip.repositories.claim_check import MemoryClaimCheckRepository


def start(engine, configure):
    engine.add_routes(configure)
    engine.start()


def test_set_then_get_restores_body_and_merges_headers(engine):
    start(engine, lambda b: b.from_("direct:in")
          .claim_check("set", key="k")
          .set_body("small").set_header("h", "changed").set_header("later", 1)
          .to("mock:middle")
          .claim_check("get", key="k")
          .to("mock:out"))
    engine.template.send_body("direct:in", "big payload", headers={"h": "orig"})
    assert engine.get_endpoint("mock:middle").received_bodies == ["small"]
    out = engine.get_endpoint("mock:out").received_exchanges[0]
    assert out.message.body == "big payload"
    assert out.message.headers["h"] == "orig"  # the stored header wins
    assert out.message.headers["later"] == 1  # headers added since are kept


def test_get_leaves_the_entry_and_get_and_remove_takes_it(engine):
    start(engine, lambda b: b.from_("direct:in")
          .claim_check("set", key="k").set_body("1")
          .claim_check("get", key="k").set_body("2")
          .claim_check("get_and_remove", key="k").set_body("3")
          .claim_check("get", key="k")  # gone: unchanged
          .to("mock:out"))
    engine.template.send_body("direct:in", "stored")
    out = engine.get_endpoint("mock:out").received_exchanges[0]
    assert out.message.body == "3"
    assert not out.properties[REPOSITORY_PROPERTY].contains("k")


def test_set_replaces_an_entry(engine):
    start(engine, lambda b: b.from_("direct:in")
          .claim_check("set", key="k").set_body("second").claim_check("set", key="k")
          .set_body("other").claim_check("get", key="k").to("mock:out"))
    engine.template.send_body("direct:in", "first")
    assert engine.get_endpoint("mock:out").received_bodies == ["second"]


def test_push_and_pop_are_a_stack(engine):
    start(engine, lambda b: b.from_("direct:in")
          .claim_check("push").set_body("b").claim_check("push").set_body("c")
          .claim_check("pop").to("mock:first")
          .claim_check("pop").to("mock:second")
          .claim_check("pop").to("mock:empty"))
    engine.template.send_body("direct:in", "a")
    assert engine.get_endpoint("mock:first").received_bodies == ["b"]
    assert engine.get_endpoint("mock:second").received_bodies == ["a"]
    assert engine.get_endpoint("mock:empty").received_bodies == ["a"]  # empty stack: unchanged


def test_stored_data_is_not_changed_by_later_header_changes(engine):
    start(engine, lambda b: b.from_("direct:in")
          .claim_check("push")
          .process(lambda ex: ex.message.headers.__setitem__("h", "mutated"))
          .claim_check("pop").to("mock:out"))
    engine.template.send_body("direct:in", "x", headers={"h": "orig"})
    assert engine.get_endpoint("mock:out").received_exchanges[0].message.headers["h"] == "orig"


def test_default_repository_is_per_exchange(engine):
    start(engine, lambda b: (b.from_("direct:set").claim_check("set", key="k"),
                             b.from_("direct:get").claim_check("get", key="k")))
    engine.template.send_body("direct:set", "stored")
    assert engine.template.request_body("direct:get", "mine") == "mine"


def test_shared_repository_and_dynamic_key(engine):
    repo = MemoryClaimCheckRepository()
    start(engine, lambda b: (
        b.from_("direct:store").claim_check("set", key="${header.order}", repository=repo).set_body("ticket"),
        b.from_("direct:claim").claim_check("get_and_remove", key=header("order"), repository=repo)))
    assert engine.template.request_body("direct:store", {"order": 42}, headers={"order": "o-42"}) == "ticket"
    assert repo.contains("o-42")
    assert engine.template.request_body("direct:claim", None, headers={"order": "o-42"}) == {"order": 42}
    assert not repo.contains("o-42")


def test_push_pop_with_a_key_use_a_named_stack(engine):
    repo = MemoryClaimCheckRepository()
    start(engine, lambda b: (
        b.from_("direct:push").claim_check("push", key=header("stack"), repository=repo),
        b.from_("direct:pop").claim_check("pop", key=header("stack"), repository=repo)))
    engine.template.send_body("direct:push", "for a", headers={"stack": "a"})
    engine.template.send_body("direct:push", "for b", headers={"stack": "b"})
    assert engine.template.request_body("direct:pop", None, headers={"stack": "a"}) == "for a"
    assert engine.template.request_body("direct:pop", None, headers={"stack": "a"}) is None


def test_key_expression_giving_none_is_an_error(engine):
    start(engine, lambda b: b.from_("direct:in").route_id("r").claim_check("set", key=header("missing")))
    with pytest.raises(ExpressionError, match="None") as info:
        engine.template.send_body("direct:in", "x")
    assert info.value.route_id == "r"


@pytest.mark.parametrize("operation", ["set", "get", "get_and_remove"])
def test_keyed_operations_need_a_key(engine, operation):
    with pytest.raises(ConfigurationError, match="needs a key"):
        engine.add_routes(lambda b: b.from_("direct:in").claim_check(operation))


def test_repository_must_look_like_one(engine):
    with pytest.raises(ConfigurationError, match="lacks"):
        engine.add_routes(lambda b: b.from_("direct:in").claim_check("push", repository={}))

"""do_try / do_catch / do_finally."""

from __future__ import annotations

import pytest

from eip import body, dead_letter_channel, header
from eip.constants import EXCEPTION_CAUGHT


def fail_with(exc_type):
    def fail(exchange):
        raise exc_type(f"boom {exchange.message.body}")
    return fail


def start(engine, configure):
    engine.add_routes(configure)
    engine.start()


def test_catch_runs_first_matching_clause_and_finally_always(engine):
    start(engine, lambda b: (
        b.from_("direct:in")
        .do_try()
            .choice().when(body() == "key").process(fail_with(KeyError))
                     .when(body() == "value").process(fail_with(ValueError)).end()
            .to("mock:tried")
        .do_catch(KeyError).to("mock:key")
        .do_catch(ValueError, LookupError).to("mock:value")
        .do_finally().to("mock:finally")
        .end()
        .to("mock:after")))
    for b in ("key", "value", "fine"):
        engine.template.send_body("direct:in", b)
    assert engine.get_endpoint("mock:key").received_bodies == ["key"]
    assert engine.get_endpoint("mock:value").received_bodies == ["value"]
    assert engine.get_endpoint("mock:tried").received_bodies == ["fine"]
    assert engine.get_endpoint("mock:finally").received_bodies == ["key", "value", "fine"]
    assert engine.get_endpoint("mock:after").received_bodies == ["key", "value", "fine"]
    caught = engine.get_endpoint("mock:key").received_exchanges[0].properties[EXCEPTION_CAUGHT]
    assert isinstance(caught, KeyError)


def test_uncaught_exception_runs_finally_then_reaches_the_error_handler(engine):
    def configure(b):
        b.error_handler(dead_letter_channel("mock:dead"))
        (b.from_("direct:in")
            .do_try().process(fail_with(RuntimeError))
            .do_catch(KeyError).to("mock:key")
            .do_finally().to("mock:finally")
            .end())

    start(engine, configure)
    engine.template.send_body("direct:in", "x")
    assert engine.get_endpoint("mock:finally").received_bodies == ["x"]
    assert engine.get_endpoint("mock:dead").received_bodies == ["x"]
    assert engine.get_endpoint("mock:key").received_bodies == []


def test_on_exception_does_not_fire_inside_do_try(engine):
    def configure(b):
        b.on_exception(KeyError, handled=True).to("mock:on-exception").end()
        (b.from_("direct:in")
            .do_try().process(fail_with(KeyError))
            .do_catch(KeyError).to("mock:caught")
            .end())

    start(engine, configure)
    engine.template.send_body("direct:in", "x")
    assert engine.get_endpoint("mock:caught").received_bodies == ["x"]
    assert engine.get_endpoint("mock:on-exception").received_bodies == []


def test_catch_on_when(engine):
    start(engine, lambda b: (
        b.from_("direct:in")
        .do_try().process(fail_with(ValueError))
        .do_catch(ValueError, on_when=header("soft") == True).to("mock:soft")  # noqa: E712
        .do_catch(ValueError).to("mock:hard")
        .end()))
    engine.template.send_body("direct:in", "a", headers={"soft": True})
    engine.template.send_body("direct:in", "b", headers={"soft": False})
    assert engine.get_endpoint("mock:soft").received_bodies == ["a"]
    assert engine.get_endpoint("mock:hard").received_bodies == ["b"]


def test_exception_in_catch_propagates(engine):
    start(engine, lambda b: (
        b.from_("direct:in")
        .do_try().process(fail_with(ValueError))
        .do_catch(ValueError).process(fail_with(KeyError))
        .do_finally().to("mock:finally")
        .end()))
    with pytest.raises(KeyError):
        engine.template.send_body("direct:in", "x")
    assert engine.get_endpoint("mock:finally").received_bodies == ["x"]

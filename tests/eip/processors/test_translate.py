"""Message translator verbs: set_body, transform, headers, properties, convert_body_to, bean, process."""

from __future__ import annotations

import pytest

from eip import RouteBuilder, body, dead_letter_channel, header, simple
from eip.constants import EXCEPTION_CAUGHT
from eip.errors import TypeConversionError


def run(engine, configure, body_value, headers=None):
    class Routes(RouteBuilder):
        def configure(self):
            configure(self)

    engine.add_routes(Routes())
    engine.start()
    engine.template.send_body("direct:in", body_value, headers=headers)
    return engine.get_endpoint("mock:out").received_exchanges


def test_set_body_header_property_with_constants_expressions_and_callables(engine):
    out = run(engine, lambda b: (
        b.from_("direct:in")
        .set_header("constant", "abc")
        .set_header("copied", header("source"))
        .set_property("size", lambda ex: len(ex.message.body))
        .set_body(simple("${body}-${header.constant}"))
        .transform(body().convert_to(str))
        .remove_header("source")
        .to("mock:out")), "xy", {"source": 1})
    exchange = out[0]
    assert exchange.message.body == "xy-abc"
    assert exchange.message.headers["constant"] == "abc"
    assert exchange.message.headers["copied"] == 1
    assert "source" not in exchange.message.headers
    assert exchange.properties["size"] == 2


def test_remove_headers_by_pattern(engine):
    out = run(engine, lambda b: b.from_("direct:in").remove_headers("x-*", "x-keep").to("mock:out"),
              "b", {"X-One": 1, "x-two": 2, "x-keep": 3, "other": 4})
    assert dict(out[0].message.headers.items()) == {"x-keep": 3, "other": 4}


def test_convert_body_to(engine):
    out = run(engine, lambda b: b.from_("direct:in").convert_body_to(str).to("mock:out"), "é".encode())
    assert out[0].message.body == "é"


def test_convert_body_failure_is_a_clear_error(engine):
    def configure(b):
        b.error_handler(dead_letter_channel("mock:dead"))
        b.from_("direct:in").convert_body_to(int).to("mock:out")

    run(engine, configure, "not a number")
    dead = engine.get_endpoint("mock:dead").received_exchanges
    assert isinstance(dead[0].properties[EXCEPTION_CAUGHT], TypeConversionError)
    assert "cannot convert body of type str to int" in str(dead[0].properties[EXCEPTION_CAUGHT])


def test_bean_and_process(engine):
    class Pricing:
        def price(self, order):
            return {**order, "total": order["qty"] * 2}

    class Stamp:
        def process(self, exchange):
            exchange.message.headers["stamped"] = True

    out = run(engine, lambda b: (b.from_("direct:in").bean(Pricing(), "price").process(Stamp())
                                 .process(lambda ex: ex.message.headers.update(fn=True)).to("mock:out")),
              {"qty": 3})
    assert out[0].message.body == {"qty": 3, "total": 6}
    assert out[0].message.headers["stamped"] is True and out[0].message.headers["fn"] is True


def test_bean_with_unknown_method_is_a_build_error(engine):
    from eip import RouteDefinitionError

    class Routes(RouteBuilder):
        def configure(self):
            self.from_("direct:in").bean(object(), "missing")

    with pytest.raises(RouteDefinitionError, match="no method 'missing'"):
        engine.add_routes(Routes())


def test_marshal_and_unmarshal_json(engine):
    out = run(engine, lambda b: (b.from_("direct:in").marshal("json").to("mock:json")
                                 .unmarshal("json").to("mock:out")), {"a": [1, 2]})
    assert engine.get_endpoint("mock:json").received_bodies == [b'{"a": [1, 2]}']
    assert out[0].message.body == {"a": [1, 2]}


def test_unmarshal_bad_input_names_the_format(engine):
    def configure(b):
        b.error_handler(dead_letter_channel("mock:dead"))
        b.from_("direct:in").unmarshal("json").to("mock:out")

    run(engine, configure, b"{broken")
    cause = engine.get_endpoint("mock:dead").received_exchanges[0].properties[EXCEPTION_CAUGHT]
    assert isinstance(cause, TypeConversionError) and "unmarshal(json)" in str(cause)


def test_validate(engine):
    from eip.errors import ValidationError

    with pytest.raises(ValidationError, match="validation failed"):
        run(engine, lambda b: b.from_("direct:in").validate(body() > 0).to("mock:out"), -1)

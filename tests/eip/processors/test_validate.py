"""validate(predicate, message=...): a failure says where it happened and, if asked, why."""

from __future__ import annotations

import pytest

from eip import ConfigurationError, RouteBuilder, body, dead_letter_channel, header
from eip.constants import EXCEPTION_CAUGHT
from eip.errors import ValidationError


def start(engine, configure):
    engine.add_routes(configure)
    engine.start()


def failure(engine, configure, body_value, headers=None) -> ValidationError:
    start(engine, configure)
    with pytest.raises(ValidationError) as info:
        engine.template.send_body("direct:in", body_value, headers=headers)
    return info.value


def test_a_lambda_without_message_names_the_node_and_route_not_lambda(engine):
    exc = failure(engine, lambda b: (b.from_("direct:in").route_id("orders")
                                     .set_header("x", 1).to("mock:a").validate(lambda ex: ex.message.body > 0)
                                     .to("mock:out")), -1)
    assert str(exc) == "validation failed at node 'validate1' in route 'orders'"
    assert "<lambda>" not in str(exc)
    assert (exc.route_id, exc.node_id) == ("orders", "validate1")
    assert engine.get_endpoint("mock:out").received_bodies == []


def test_the_node_id_given_by_the_user_is_used(engine):
    exc = failure(engine, lambda b: (b.from_("direct:in").route_id("orders")
                                     .validate(lambda ex: False).id("check-total")), "x")
    assert str(exc) == "validation failed at node 'check-total' in route 'orders'"
    assert exc.node_id == "check-total"


def test_a_readable_predicate_is_still_shown(engine):
    exc = failure(engine, lambda b: b.from_("direct:in").route_id("r").validate(body() > 0), -1)
    assert str(exc) == "validation failed at node 'validate1' in route 'r': (body() > 0)"


def test_message_as_a_string(engine):
    exc = failure(engine, lambda b: (b.from_("direct:in").route_id("orders")
                                     .validate(lambda ex: ex.message.body > 0, message="total must be positive")),
                  -1)
    assert str(exc) == "total must be positive"
    assert (exc.route_id, exc.node_id) == ("orders", "validate1")


def test_message_as_a_template_reads_the_exchange(engine):
    exc = failure(engine, lambda b: (b.from_("direct:in").route_id("orders")
                                     .validate(header("qty").regex(r"^\d+$"),
                                               message="order ${header.orderId}: bad quantity")),
                  "x", {"qty": "ten", "orderId": "A-7"})
    assert str(exc) == "order A-7: bad quantity"


def test_message_as_an_expression(engine):
    exc = failure(engine, lambda b: (b.from_("direct:in").route_id("orders")
                                     .validate(lambda ex: False,
                                               message=lambda ex: f"{len(ex.message.body)} lines is too many")),
                  [1, 2, 3])
    assert str(exc) == "3 lines is too many"


def test_a_valid_message_goes_on_and_the_message_is_not_evaluated(engine):
    evaluated = []

    def message(exchange):
        evaluated.append(exchange)
        return "never"

    start(engine, lambda b: b.from_("direct:in").validate(body() > 0, message=message).to("mock:out"))
    engine.template.send_body("direct:in", 5)
    assert engine.get_endpoint("mock:out").received_bodies == [5]
    assert evaluated == []


def test_the_dead_letter_channel_sees_the_message(engine):
    def configure(b):
        b.error_handler(dead_letter_channel("mock:dead"))
        b.from_("direct:in").route_id("orders").validate(lambda ex: False, message="no good").id("v")

    start(engine, configure)
    engine.template.send_body("direct:in", "x")
    caught = engine.get_endpoint("mock:dead").received_exchanges[0].properties[EXCEPTION_CAUGHT]
    assert isinstance(caught, ValidationError) and str(caught) == "no good"
    assert (caught.route_id, caught.node_id) == ("orders", "v")


def test_a_bad_template_is_refused_before_start(engine):
    class Routes(RouteBuilder):
        def configure(self):
            self.from_("direct:in").route_id("orders").validate(body() > 0, message="bad ${nosuch.token}")

    with pytest.raises(ConfigurationError, match="route 'orders'.*validate1.*nosuch"):
        engine.add_routes(Routes())
        engine.start()


def test_message_of_the_wrong_type_is_refused(engine):
    class Routes(RouteBuilder):
        def configure(self):
            self.from_("direct:in").validate(body() > 0, message=42)

    with pytest.raises(ConfigurationError, match="message"):
        engine.add_routes(Routes())
        engine.start()

"""Loop: count (evaluated once) or do_while, CamelLoopIndex/CamelLoopSize, copy mode, guard."""

from __future__ import annotations

import pytest

from eip import ExchangeError, ExpressionError, header
from eip.constants import LOOP_INDEX, LOOP_SIZE


def start(engine, configure):
    engine.add_routes(configure)
    engine.start()


def append(suffix):
    def fn(ex):
        ex.message.body = ex.message.body + suffix
    return fn


def test_count_loop_sets_index_and_size(engine):
    start(engine, lambda b: b.from_("direct:in").loop(3).to("mock:pass").end().to("mock:out"))
    engine.template.send_body("direct:in", "x")
    passes = engine.get_endpoint("mock:pass").received_exchanges
    assert [ex.properties[LOOP_INDEX] for ex in passes] == [0, 1, 2]
    assert {ex.properties[LOOP_SIZE] for ex in passes} == {3}
    assert engine.get_endpoint("mock:out").received_counter == 1


def test_without_copy_each_pass_sees_the_previous_result(engine):
    start(engine, lambda b: b.from_("direct:in").loop(3).process(append("+")).end())
    assert engine.template.request_body("direct:in", "x") == "x+++"


def test_with_copy_each_pass_starts_from_the_input(engine):
    start(engine, lambda b: b.from_("direct:in").loop(3, copy=True).process(append("+")).to("mock:pass").end()
          .to("mock:out"))
    assert engine.template.request_body("direct:in", "x") == "x+"
    assert engine.get_endpoint("mock:pass").received_bodies == ["x+", "x+", "x+"]
    out = engine.get_endpoint("mock:out").received_exchanges[0]
    assert out.properties[LOOP_INDEX] == 2


def test_copy_mode_does_not_touch_the_input_headers(engine):
    def mark(ex):
        ex.message.headers[f"pass{ex.properties[LOOP_INDEX]}"] = True

    start(engine, lambda b: b.from_("direct:in").loop(2, copy=True).process(mark).end().to("mock:out"))
    engine.template.send_body("direct:in", "x")
    headers = engine.get_endpoint("mock:out").received_exchanges[0].message.headers
    assert "pass1" in headers and "pass0" not in headers  # the last pass's result only


def test_count_is_evaluated_once(engine):
    def configure(b):
        b.from_("direct:in").loop(header("n")) \
            .process(lambda ex: ex.message.headers.__setitem__("n", 100)).to("mock:pass").end()

    start(engine, configure)
    engine.template.send_body("direct:in", "x", headers={"n": "2"})  # a text of digits works
    assert engine.get_endpoint("mock:pass").received_counter == 2


@pytest.mark.parametrize("count", [0, -3])
def test_zero_or_negative_count_runs_no_pass(engine, count):
    start(engine, lambda b: b.from_("direct:in").loop(count).to("mock:pass").end().to("mock:out"))
    engine.template.send_body("direct:in", "x")
    assert engine.get_endpoint("mock:pass").received_counter == 0
    assert engine.get_endpoint("mock:out").received_counter == 1


def test_count_that_is_not_a_number_is_an_expression_error(engine):
    start(engine, lambda b: b.from_("direct:in").loop(header("n")).to("mock:pass").end())
    with pytest.raises(ExpressionError, match="not an integer"):
        engine.template.send_body("direct:in", "x", headers={"n": "many"})
    with pytest.raises(ExpressionError, match="None"):
        engine.template.send_body("direct:in", "x")


def test_do_while_is_tested_on_the_previous_result(engine):
    start(engine, lambda b: b.from_("direct:in")
          .loop(do_while=lambda ex: len(ex.message.body) < 4).process(append("+")).to("mock:pass").end())
    assert engine.template.request_body("direct:in", "x") == "x+++"
    passes = engine.get_endpoint("mock:pass").received_exchanges
    assert [ex.properties[LOOP_INDEX] for ex in passes] == [0, 1, 2]
    assert all(LOOP_SIZE not in ex.properties for ex in passes)


def test_do_while_false_at_once_runs_no_pass(engine):
    start(engine, lambda b: b.from_("direct:in").loop(do_while=lambda ex: False).to("mock:pass").end())
    assert engine.template.request_body("direct:in", "x") == "x"
    assert engine.get_endpoint("mock:pass").received_counter == 0


def test_do_while_with_copy_sees_the_last_pass(engine):
    def bump(ex):
        ex.message.headers["n"] = ex.message.headers.get("n", 0) + 1

    start(engine, lambda b: b.from_("direct:in")
          .loop(do_while=lambda ex: ex.message.headers.get("n", 0) < 1, copy=True, max_iterations=5)
          .process(bump).to("mock:pass").end())
    # each pass starts from the input (n absent), so n is 1 after every pass: one pass
    engine.template.send_body("direct:in", "x")
    assert engine.get_endpoint("mock:pass").received_counter == 1


def test_do_while_guard(engine):
    start(engine, lambda b: b.from_("direct:in").route_id("r")
          .loop(do_while=lambda ex: True, max_iterations=5).to("mock:pass").end())
    with pytest.raises(ExchangeError, match="max_iterations") as info:
        engine.template.send_body("direct:in", "x")
    assert info.value.route_id == "r"
    assert engine.get_endpoint("mock:pass").received_counter == 5


def test_failure_in_a_pass_fails_the_loop(engine):
    start(engine, lambda b: b.from_("direct:in").loop(3).to("mock:pass").end().to("mock:out"))
    engine.get_endpoint("mock:pass").when_exchange_received(2, lambda ex: (_ for _ in ()).throw(OSError("x")))
    with pytest.raises(OSError):
        engine.template.send_body("direct:in", "x")
    assert engine.get_endpoint("mock:pass").received_counter == 2
    assert engine.get_endpoint("mock:out").received_counter == 0


@pytest.mark.parametrize("copy", [False, True])
def test_stop_ends_the_loop_and_the_route(engine, copy):
    start(engine, lambda b: b.from_("direct:in").loop(5, copy=copy).to("mock:pass")
          .filter(lambda ex: ex.properties[LOOP_INDEX] == 1).stop().end().end().to("mock:out"))
    engine.template.send_body("direct:in", "x")
    assert engine.get_endpoint("mock:pass").received_counter == 2
    assert engine.get_endpoint("mock:out").received_counter == 0

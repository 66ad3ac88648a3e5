"""advice_with: weaving real routes (direct: in, mock: out), nested nodes included."""

from __future__ import annotations

import pytest

from eip import (
    ConfigurationError,
    Engine,
    NoConsumerError,
    RouteBuilder,
    RouteDefinitionError,
    body,
    header,
)
from eip import model as m
from eip.testing import advice_with, mock_endpoint


def upper(exchange):  # type: ignore[no-untyped-def]
    exchange.message.body = exchange.message.body.upper()


class Orders(RouteBuilder):
    """A route with nesting: choice/when/otherwise, do_try/do_catch/do_finally, filter."""

    def configure(self) -> None:
        (self.from_("direct:orders").route_id("orders")
            .to("mock:received").id("received")
            .choice().id("router")
                .when(header("type") == "gold")
                    .filter(body() != "skip").id("gold-filter")
                        .to("direct:gold").id("gold")
                    .end()
                .otherwise()
                    .do_try()
                        .process(self.check).id("check")
                        .to("mock:standard").id("standard")
                    .do_catch(ValueError)
                        .to("mock:rejected").id("rejected")
                    .do_finally()
                        .to("mock:audit").id("audit")
                    .end()
            .end()
            .to("log:orders?level=DEBUG").id("log-it")
            .to("mock:done").id("done"))
        self.from_("direct:gold").route_id("gold").to("mock:gold-desk")

    @staticmethod
    def check(exchange):  # type: ignore[no-untyped-def]
        if exchange.message.body == "bad":
            raise ValueError("bad order")


@pytest.fixture
def orders(engine: Engine) -> Engine:
    engine.add_routes(Orders())
    return engine


def ids(engine: Engine, route_id: str = "orders") -> list[str]:
    return [node.node_id for node in engine.route_definition(route_id).walk()]


def gold(engine: Engine, body_: str = "order") -> None:
    engine.template.send_body("direct:orders", body_, headers={"type": "gold"})


def standard(engine: Engine, body_: str = "order") -> None:
    engine.template.send_body("direct:orders", body_, headers={"type": "plain"})


# -- the two calling styles -----------------------------------------------------------------------
def test_replace_from_with_as_a_function(orders: Engine) -> None:
    advice_with(orders, "orders", lambda a: a.replace_from_with("direct:start"))
    orders.start()
    orders.template.send_body("direct:start", "x", headers={"type": "plain"})
    mock_endpoint(orders, "done").expected_bodies_received("x")
    mock_endpoint(orders, "done").assert_is_satisfied(timeout=1)
    assert orders.route_definition("orders").input.uri == "direct:start"
    with pytest.raises(NoConsumerError):
        standard(orders)


def test_context_manager_applies_on_exit_only(orders: Engine) -> None:
    with advice_with(orders, "orders") as a:
        a.weave_by_id("done").replace().to("mock:replaced")
        assert "done" in ids(orders)  # nothing changes before the block ends
    assert "done" not in ids(orders)
    orders.start()
    standard(orders)
    assert mock_endpoint(orders, "replaced").received_bodies == ["order"]
    assert mock_endpoint(orders, "done").received_counter == 0


def test_context_manager_does_not_apply_when_the_block_raises(orders: Engine) -> None:
    before = orders.route_definition("orders")
    with pytest.raises(KeyError), advice_with(orders, "orders") as a:
        a.weave_by_id("done").remove()
        raise KeyError("oops")
    assert orders.route_definition("orders") is before


def test_an_advice_applies_once(orders: Engine) -> None:
    advice = advice_with(orders, "orders", lambda a: a.weave_by_id("done").remove())
    with pytest.raises(RouteDefinitionError, match="already applied"):
        advice.weave_add_last()


def test_unknown_route_lists_the_routes(orders: Engine) -> None:
    with pytest.raises(ConfigurationError, match="no route 'order'; routes: orders, gold"):
        advice_with(orders, "order")


# -- weave_by_id ------------------------------------------------------------------------------------
def test_replace_before_after_and_remove_at_top_level(orders: Engine) -> None:
    with advice_with(orders, "orders") as a:
        a.weave_by_id("received").replace().to("mock:first")
        a.weave_by_id("log-it").before().process(upper)
        a.weave_by_id("log-it").after().to("mock:after-log")
        a.weave_by_id("log-it").remove()
    orders.start()
    standard(orders, "abc")
    assert mock_endpoint(orders, "first").received_bodies == ["abc"]
    assert mock_endpoint(orders, "received").received_counter == 0
    assert mock_endpoint(orders, "after-log").received_bodies == ["ABC"]
    assert mock_endpoint(orders, "done").received_bodies == ["ABC"]
    assert "log-it" not in ids(orders)


def test_weave_inside_when_and_filter(orders: Engine) -> None:
    with advice_with(orders, "orders") as a:
        a.weave_by_id("gold").replace().transform(lambda ex: f"gold:{ex.message.body}").to("mock:gold-mock")
    orders.start()
    gold(orders, "a")
    gold(orders, "skip")  # the filter around the woven step still applies
    assert mock_endpoint(orders, "gold-mock").received_bodies == ["gold:a"]
    assert mock_endpoint(orders, "gold-desk").received_counter == 0
    assert mock_endpoint(orders, "done").received_bodies == ["gold:a", "skip"]


def test_weave_inside_do_try_catch_and_finally(orders: Engine) -> None:
    with advice_with(orders, "orders") as a:
        a.weave_by_id("check").after().set_header("checked", True)
        a.weave_by_id("rejected").before().to("mock:before-reject")
        a.weave_by_id("audit").replace().to("mock:audit2")
    orders.start()
    standard(orders, "good")
    standard(orders, "bad")
    assert mock_endpoint(orders, "standard").received_exchanges[0].message.headers.get("checked") is True
    assert mock_endpoint(orders, "before-reject").received_bodies == ["bad"]
    assert mock_endpoint(orders, "rejected").received_bodies == ["bad"]
    assert mock_endpoint(orders, "audit2").received_bodies == ["good", "bad"]
    assert mock_endpoint(orders, "audit").received_counter == 0


def test_replace_a_whole_block(orders: Engine) -> None:
    advice_with(orders, "orders", lambda a: a.weave_by_id("router").replace().to("mock:no-routing"))
    orders.start()
    gold(orders)
    standard(orders)
    assert mock_endpoint(orders, "no-routing").received_counter == 2
    assert mock_endpoint(orders, "gold-desk").received_counter == 0
    assert {"router", "gold", "check", "audit"}.isdisjoint(ids(orders))


def test_after_a_block_goes_after_the_whole_block(orders: Engine) -> None:
    advice_with(orders, "orders", lambda a: a.weave_by_id("gold-filter").after().to("mock:after-filter"))
    orders.start()
    gold(orders, "skip")  # the filter drops it, but the step after the filter still runs
    assert mock_endpoint(orders, "after-filter").received_bodies == ["skip"]


def test_replace_with_several_steps_and_a_nested_block(orders: Engine) -> None:
    with advice_with(orders, "orders") as a:
        (a.weave_by_id("standard").replace()
            .set_header("n", 1)
            .choice()
                .when(header("n") == 1).to("mock:one")
                .otherwise().to("mock:other")
            .end()
            .to("mock:standard2"))
    orders.start()
    standard(orders)
    assert mock_endpoint(orders, "one").received_counter == 1
    assert mock_endpoint(orders, "standard2").received_counter == 1


def test_replace_with_nothing_removes(orders: Engine) -> None:
    advice_with(orders, "orders", lambda a: a.weave_by_id("received").replace())
    orders.start()
    standard(orders)
    assert mock_endpoint(orders, "received").received_counter == 0
    assert mock_endpoint(orders, "done").received_counter == 1


def test_unknown_id_lists_the_ids_and_suggests(orders: Engine) -> None:
    before = orders.route_definition("orders")
    with pytest.raises(RouteDefinitionError) as failure:
        advice_with(orders, "orders", lambda a: a.weave_by_id("recieved").remove())
    text = str(failure.value)
    assert "route 'orders'" in text and "weave_by_id('recieved'): no node matches" in text
    assert "did you mean 'received'?" in text
    assert "received, router, when1, gold-filter, gold, otherwise1" in text
    assert "check, standard, do_catch1, rejected, do_finally1, audit, log-it, done" in text
    assert orders.route_definition("orders") is before  # nothing applied


def test_a_branch_cannot_be_replaced(orders: Engine) -> None:
    with pytest.raises(RouteDefinitionError, match="'when1' is a When branch, not a step"):
        advice_with(orders, "orders", lambda a: a.weave_by_id("when1").replace().to("mock:x"))


def test_woven_blocks_must_be_closed(orders: Engine) -> None:
    with pytest.raises(RouteDefinitionError, match="filter\\(\\) '.*' woven in is not closed"):
        advice_with(orders, "orders",
                    lambda a: a.weave_by_id("received").before().filter(header("x")).to("mock:x"))


def test_woven_steps_are_checked_by_the_dsl(orders: Engine) -> None:
    with pytest.raises(RouteDefinitionError, match="did you mean 'streaming'"):
        advice_with(orders, "orders", lambda a: a.weave_add_last().split(body(), streamin=True))


def test_duplicate_ids_after_weaving_are_rejected(orders: Engine) -> None:
    with pytest.raises(RouteDefinitionError, match="node id 'done' is used twice"):
        advice_with(orders, "orders", lambda a: a.weave_add_first().to("mock:x").id("done"))


def test_generated_ids_do_not_clash_and_can_be_woven_later(orders: Engine) -> None:
    with advice_with(orders, "orders") as a:
        a.weave_add_first().to("mock:a").to("mock:b").id("b")
        a.weave_by_id("b").after().to("mock:c")
    woven = ids(orders)
    assert len(woven) == len(set(woven))
    assert [n.node_id for n in orders.route_definition("orders").steps[:3]] == ["to1", "b", "to3"]
    orders.start()
    standard(orders)
    assert [mock_endpoint(orders, x).received_counter for x in "abc"] == [1, 1, 1]


def test_generated_ids_continue_after_the_routes_own(engine: Engine) -> None:
    engine.add_routes(lambda b: b.from_("direct:in").route_id("r").to("mock:x").to("mock:y").set_body("z"))
    with advice_with(engine, "r") as a:
        a.weave_add_last().to("mock:z").set_body("again")
        a.weave_by_to_uri("mock:[xy]").after().to("mock:copy")
    assert ids(engine, "r") == ["from1", "to1", "to4", "to2", "to5", "set_body1", "to3", "set_body2"]


# -- weave_by_to_uri / weave_by_type / selection ---------------------------------------------------
def test_weave_by_to_uri_glob_matches_every_send_nested_too(orders: Engine) -> None:
    advice_with(orders, "orders", lambda a: a.weave_by_to_uri("mock:*").before().set_header("seen", True))
    definition = orders.route_definition("orders")
    woven = [n for n in definition.walk() if isinstance(n, m.SetHeader)]
    assert len(woven) == 5  # received, standard, rejected, audit, done: each got its own copy
    assert len({n.node_id for n in woven}) == 5
    orders.start()
    standard(orders)
    assert mock_endpoint(orders, "standard").received_exchanges[0].message.headers.get("seen") is True


def test_weave_by_to_uri_ignores_options_and_accepts_regex(orders: Engine) -> None:
    advice_with(orders, "orders", lambda a: a.weave_by_to_uri("log:orders").replace().to("mock:log"))
    advice_with(orders, "orders", lambda a: a.weave_by_to_uri(r"mock:(done|log)").select_last().remove())
    orders.start()
    standard(orders)
    assert mock_endpoint(orders, "log").received_counter == 1
    assert mock_endpoint(orders, "done").received_counter == 0


def test_selection_first_last_index(orders: Engine) -> None:
    with advice_with(orders, "orders") as a:
        a.weave_by_to_uri("mock:*").select_first().replace().to("mock:sel-first")
        a.weave_by_to_uri("mock:*").select_index(1).replace().to("mock:sel-second")
    uris = [n.uri for n in orders.route_definition("orders").walk() if isinstance(n, m.To)]
    assert uris[:2] == ["mock:sel-first", "direct:gold"]
    assert "mock:standard" not in uris and "mock:sel-second" in uris
    with pytest.raises(RouteDefinitionError, match="match but the selection is empty"):
        advice_with(orders, "orders", lambda a: a.weave_by_to_uri("mock:*").select_index(99).remove())


def test_weave_by_to_uri_without_match(orders: Engine) -> None:
    with pytest.raises(RouteDefinitionError, match="weave_by_to_uri\\('amqp:\\*'\\): no node matches"):
        advice_with(orders, "orders", lambda a: a.weave_by_to_uri("amqp:*").remove())


def test_weave_by_type(orders: Engine) -> None:
    advice_with(orders, "orders", lambda a: a.weave_by_type(m.Process).replace().set_body("checked"))
    orders.start()
    standard(orders, "bad")  # the failing check is gone
    assert mock_endpoint(orders, "standard").received_bodies == ["checked"]


def test_weave_add_first_and_last(orders: Engine) -> None:
    with advice_with(orders, "orders") as a:
        a.weave_add_first().process(upper)
        a.weave_add_last().to("mock:last")
    orders.start()
    standard(orders, "x")
    assert mock_endpoint(orders, "received").received_bodies == ["X"]
    assert mock_endpoint(orders, "last").received_bodies == ["X"]


def test_weave_inside_on_exception_and_split(engine: Engine) -> None:
    pytest.importorskip("eip.processors.split")

    class Routes(RouteBuilder):
        def configure(self) -> None:
            (self.from_("direct:in").route_id("lines")
                .on_exception(KeyError, handled=True).to("mock:error").id("on-error").end()
                .split(body())
                    .to("direct:line").id("line")
                .end())
            self.from_("direct:line").process(lambda ex: {}["missing"] if ex.message.body == 2 else None)
    engine.add_routes(Routes())
    with advice_with(engine, "lines") as a:
        a.weave_by_id("line").before().to("mock:part")
        a.weave_by_id("on-error").replace().to("mock:error2")
    engine.start()
    engine.template.send_body("direct:in", [1, 2, 3])
    assert mock_endpoint(engine, "part").received_bodies == [1, 2, 3]
    assert 2 in mock_endpoint(engine, "error2").received_bodies
    assert mock_endpoint(engine, "error").received_counter == 0


def test_weave_inside_on_exception(engine: Engine) -> None:
    class Routes(RouteBuilder):
        def configure(self) -> None:
            (self.from_("direct:in").route_id("r")
                .on_exception(KeyError, handled=True).to("mock:error").id("on-error").end()
                .process(lambda ex: {}["missing"]))
    engine.add_routes(Routes())
    advice_with(engine, "r", lambda a: a.weave_by_id("on-error").before().set_body("handled"))
    engine.start()
    engine.template.send_body("direct:in", "x")
    assert mock_endpoint(engine, "error").received_bodies == ["handled"]


# -- mock_endpoints -----------------------------------------------------------------------------------
def test_mock_endpoints_sends_to_the_mock_first_then_the_real_endpoint(orders: Engine) -> None:
    advice_with(orders, "orders", lambda a: a.mock_endpoints())
    orders.start()
    order: list[str] = []
    mock_endpoint(orders, "direct:gold").when_any_exchange_received(lambda ex: order.append("mock"))
    mock_endpoint(orders, "gold-desk").when_any_exchange_received(lambda ex: order.append("real"))
    gold(orders)
    assert order == ["mock", "real"]
    # log:orders?level=DEBUG is mocked as mock:log:orders; mock: endpoints themselves are not
    assert mock_endpoint(orders, "log:orders").received_bodies == ["order"]
    assert not orders.has_endpoint("mock:mock:done")


def test_mock_endpoints_pattern(orders: Engine) -> None:
    advice_with(orders, "orders", lambda a: a.mock_endpoints("log:*"))
    orders.start()
    gold(orders)
    assert mock_endpoint(orders, "log:orders").received_counter == 1
    assert not orders.has_endpoint("mock:direct:gold")
    assert mock_endpoint(orders, "gold-desk").received_counter == 1


def test_mock_endpoints_and_skip(engine: Engine) -> None:
    class Routes(RouteBuilder):
        def configure(self) -> None:
            (self.from_("direct:in").route_id("r")
                .to("direct:nobody-listens")  # would fail with NoConsumerError if really sent
                .to("direct:pricing")
                .to("mock:out"))
    engine.add_routes(Routes())
    advice_with(engine, "r", lambda a: a.mock_endpoints_and_skip("direct:*"))
    engine.start()
    pricing = mock_endpoint(engine, "direct:pricing")
    pricing.when_any_exchange_received(lambda ex: setattr(ex.message, "body", {"price": 10}))
    assert engine.template.request_body("direct:in", "quote") == {"price": 10}
    assert mock_endpoint(engine, "direct:nobody-listens").received_bodies == ["quote"]
    assert mock_endpoint(engine, "out").received_bodies == [{"price": 10}]


def test_mock_endpoints_and_skip_wins_over_mock_endpoints(orders: Engine) -> None:
    with advice_with(orders, "orders") as a:
        a.mock_endpoints()
        a.mock_endpoints_and_skip("direct:gold")
    orders.start()
    gold(orders)
    assert mock_endpoint(orders, "direct:gold").received_counter == 1
    assert mock_endpoint(orders, "gold-desk").received_counter == 0
    assert mock_endpoint(orders, "log:orders").received_counter == 1


def test_mock_endpoints_reaches_nested_sends_and_on_exception(engine: Engine) -> None:
    class Routes(RouteBuilder):
        def configure(self) -> None:
            (self.from_("direct:in").route_id("r")
                .on_exception(ValueError, handled=True).to("direct:errors").end()
                .filter(header("go"))
                    .do_try()
                        .to("direct:inner")
                        .process(lambda ex: (_ for _ in ()).throw(ValueError("x")))
                    .do_finally()
                        .to("direct:finally")
                    .end()
                .end())
    engine.add_routes(Routes())
    advice_with(engine, "r", lambda a: a.mock_endpoints_and_skip("direct:*"))
    engine.start()
    engine.template.send_body("direct:in", "m", headers={"go": True})
    for name in ("direct:inner", "direct:finally", "direct:errors"):
        assert mock_endpoint(engine, name).received_bodies == ["m"], name


def test_mock_endpoints_on_to_d(engine: Engine) -> None:
    class Routes(RouteBuilder):
        def configure(self) -> None:
            self.from_("direct:in").route_id("r").to_d("direct:${header.dest}")
            self.from_("direct:b").to("mock:b-real")
    engine.add_routes(Routes())
    with advice_with(engine, "r") as a:
        a.mock_endpoints("direct:b")
        a.mock_endpoints_and_skip("direct:a")
    engine.start()
    engine.template.send_body("direct:in", 1, headers={"dest": "a"})
    engine.template.send_body("direct:in", 2, headers={"dest": "b"})
    assert mock_endpoint(engine, "direct:a").received_bodies == [1]  # no consumer: skipped for real
    assert mock_endpoint(engine, "direct:b").received_bodies == [2]
    assert mock_endpoint(engine, "b-real").received_bodies == [2]


def test_a_second_advice_keeps_the_mocks_of_the_first(orders: Engine) -> None:
    advice_with(orders, "orders", lambda a: a.mock_endpoints("log:*"))
    advice_with(orders, "orders", lambda a: a.weave_by_id("received").remove())
    orders.start()
    standard(orders)
    assert mock_endpoint(orders, "log:orders").received_counter == 1
    assert mock_endpoint(orders, "received").received_counter == 0


# -- a running route ---------------------------------------------------------------------------------
def test_advising_a_running_route_restarts_it(orders: Engine) -> None:
    orders.start()
    standard(orders)
    advice_with(orders, "orders", lambda a: a.weave_by_id("done").replace().to("mock:new-done"))
    assert orders.route("orders").state == "started"
    standard(orders)
    assert mock_endpoint(orders, "done").received_counter == 1
    assert mock_endpoint(orders, "new-done").received_counter == 1


def test_a_bad_uri_woven_in_names_the_route_and_a_running_route_keeps_going(orders: Engine) -> None:
    orders.start()
    with pytest.raises(ConfigurationError, match="route 'orders'"):
        advice_with(orders, "orders", lambda a: a.weave_add_last().to("nosuchscheme:x"))
    standard(orders)  # the old route was started again
    assert mock_endpoint(orders, "done").received_counter == 1

"""The DSL records the route model; block scoping is checked while routes are built."""

from __future__ import annotations

import dataclasses

import pytest

from eip import RouteBuilder, RouteDefinitionError, body, header
from eip import model as m
from eip.dsl import FunctionRouteBuilder


def build(fn):
    return FunctionRouteBuilder(fn).build()


def test_route_records_frozen_definitions_with_generated_and_given_ids():
    routes = build(lambda b: b.from_("direct:a").route_id("r").to("mock:x").id("send-x").set_body("y"))
    route = routes[0]
    assert route.route_id == "r"
    assert route.input.uri == "direct:a"
    assert [type(s) for s in route.steps] == [m.To, m.SetBody]
    assert route.steps[0].node_id == "send-x"
    assert route.steps[1].node_id == "set_body1"
    with pytest.raises(dataclasses.FrozenInstanceError):
        route.steps[0].uri = "other"  # frozen


def test_split_inside_when_followed_by_another_when():
    route = build(lambda b: (
        b.from_("direct:a").route_id("r")
        .choice()
            .when(header("t") == 1).split(body()).to("mock:parts").end().to("mock:one")
            .when(header("t") == 2).to("mock:two")
            .otherwise().to("mock:other")
        .end()
        .to("mock:after")))[0]
    choice, after = route.steps
    assert isinstance(choice, m.Choice) and isinstance(after, m.To) and after.uri == "mock:after"
    first, second = choice.whens
    assert [type(s) for s in first.steps] == [m.Split, m.To]
    assert first.steps[0].steps[0].uri == "mock:parts"
    assert first.steps[1].uri == "mock:one"
    assert [s.uri for s in second.steps] == ["mock:two"]
    assert [s.uri for s in choice.otherwise.steps] == ["mock:other"]


def test_when_while_a_block_in_the_branch_is_still_open_is_an_error():
    with pytest.raises(RouteDefinitionError) as info:
        build(lambda b: (b.from_("direct:a").route_id("r")
                         .choice().when(header("t") == 1).split(body()).to("mock:x")
                         .when(header("t") == 2).to("mock:y").end()))
    message = str(info.value)
    assert "route 'r'" in message and "split1" in message and "end()" in message


def test_choice_inside_do_try_and_catch_finds_its_try():
    route = build(lambda b: (
        b.from_("direct:a").route_id("r")
        .do_try()
            .choice().when(header("x") == 1).to("mock:one").otherwise().to("mock:two").end()
            .to("mock:after-choice")
        .do_catch(ValueError).to("mock:caught")
        .do_finally().to("mock:finally")
        .end()
        .to("mock:end")))[0]
    do_try, end = route.steps
    assert isinstance(do_try, m.DoTry)
    assert [type(s) for s in do_try.steps] == [m.Choice, m.To]
    assert do_try.catches[0].exceptions == (ValueError,)
    assert [s.uri for s in do_try.finally_.steps] == ["mock:finally"]
    assert end.uri == "mock:end"


def test_nested_choice_inside_when_then_outer_when():
    route = build(lambda b: (
        b.from_("direct:a")
        .choice()
            .when(header("a") == 1)
                .choice().when(header("b") == 1).to("mock:ab").end()
            .when(header("a") == 2).to("mock:a2")
        .end()))[0]
    outer = route.steps[0]
    assert len(outer.whens) == 2
    inner = outer.whens[0].steps[0]
    assert isinstance(inner, m.Choice) and inner.whens[0].steps[0].uri == "mock:ab"


@pytest.mark.parametrize("fn, fragment", [
    (lambda b: b.from_("direct:a").when(header("x") == 1), "when() outside a choice()"),
    (lambda b: b.from_("direct:a").otherwise(), "otherwise() outside a choice()"),
    (lambda b: b.from_("direct:a").do_catch(ValueError), "do_catch() outside a do_try()"),
    (lambda b: b.from_("direct:a").end(), "end() with no open block"),
    (lambda b: b.from_("direct:a").split(body()).to("mock:x"), "is not closed with end()"),
    (lambda b: b.from_("direct:a").choice().to("mock:x"), "open a branch first"),
    (lambda b: b.from_("direct:a").choice().when(body() == 1).to("mock:a").otherwise().to("mock:b")
     .when(header("a") == 1), "after otherwise()"),
    (lambda b: b.from_("direct:a").choice().when(body() == 1).to("mock:a").end().when(body() == 2),
     "when() outside a choice()"),
    (lambda b: b.from_("direct:a").do_try().to("mock:x").end(), "needs a do_catch() or do_finally()"),
    (lambda b: b.from_("direct:a").split(body(), streeming=True), "did you mean 'streaming'"),
    (lambda b: b.from_("direct:a").to("mock:a").id("x").to("mock:b").id("x"), "used twice"),
])
def test_misuse_is_an_error_naming_the_problem(fn, fragment):
    with pytest.raises(RouteDefinitionError) as info:
        build(fn)
    assert fragment in str(info.value)
    assert "test_dsl.py" in str(info.value)  # the source location of the mistake


def test_builder_level_on_exception_applies_to_every_route_after_route_level_ones():
    class Routes(RouteBuilder):
        def configure(self):
            self.on_exception(KeyError, handled=True).to("mock:global").end()
            (self.from_("direct:a").route_id("a")
                .on_exception(ValueError, continued=True).to("mock:local").end()
                .to("mock:x"))
            self.from_("direct:b").route_id("b").to("mock:y")

    a, b = Routes().build()
    assert [c.exceptions for c in a.on_exceptions] == [(ValueError,), (KeyError,)]
    assert [c.exceptions for c in b.on_exceptions] == [(KeyError,)]
    assert a.on_exceptions[0].continued is True
    assert a.steps[0].uri == "mock:x"


def test_fluent_handled_and_continued_record_the_same_clause_as_the_keywords():
    class Routes(RouteBuilder):
        def configure(self):
            self.on_exception(KeyError).handled(True).to("mock:global").end()
            (self.from_("direct:a").route_id("a")
                .on_exception(ValueError).continued(True).to("mock:local").end()
                .on_exception(TypeError).to("mock:typed").handled(header("soft") == True).end()  # noqa: E712
                .to("mock:x"))

    (route,) = Routes().build()
    local, typed, builder_level = route.on_exceptions
    assert local.continued is True and local.handled is False
    assert typed.handled is not True and callable(typed.handled)  # a predicate, as with handled=...
    assert [s.uri for s in typed.steps] == ["mock:typed"]
    assert builder_level.handled is True and builder_level.continued is False
    assert route.steps[0].uri == "mock:x"


@pytest.mark.parametrize("fn, fragment", [
    (lambda b: b.from_("direct:a").handled(True), "handled() outside on_exception()"),
    (lambda b: b.from_("direct:a").split(body()).continued(True).end(), "continued() outside on_exception()"),
    (lambda b: b.from_("direct:a").on_exception(KeyError).handled(True).continued(True).end(),
     "cannot be both handled and continued"),
    (lambda b: b.on_exception(KeyError, continued=True).handled(True).end(), "cannot be both handled and continued"),
    (lambda b: b.from_("direct:a").on_exception(KeyError).handled("yes").end(),
     "handled() takes True, False or a predicate"),
])
def test_fluent_handled_and_continued_misuse_is_an_error(fn, fragment):
    with pytest.raises(RouteDefinitionError) as info:
        build(fn)
    assert fragment in str(info.value)
    assert "test_dsl.py" in str(info.value)


def test_expression_used_as_python_bool_is_rejected():
    with pytest.raises(TypeError, match="& | ~"):
        bool(header("a") == 1 and header("b") == 2)


def test_model_definitions_compare_equal_when_built_alike():
    def fn(b):
        b.from_("direct:a").route_id("r").to("mock:x").set_header("h", 1)

    assert build(fn) == build(fn)


def test_split_has_no_share_unit_of_work_option_because_parts_always_share_it():
    with pytest.raises(RouteDefinitionError, match="split\\(\\) has no option 'share_unit_of_work'"):
        build(lambda b: b.from_("direct:a").split(body(), share_unit_of_work=True).to("mock:x").end())

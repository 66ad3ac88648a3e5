"""Every DSL verb, whichever module records it, names the route author's source line."""

from __future__ import annotations

import inspect

import pytest

from eip import RouteDefinitionError, body, header
from eip.dsl import FunctionRouteBuilder

HERE = __file__


def build(fn):
    return FunctionRouteBuilder(fn).build()


def line(_recorded: object) -> int:
    """The caller's line number (the line the DSL call passed in was made on)."""
    return inspect.currentframe().f_back.f_lineno


def test_nodes_of_every_verb_group_carry_the_line_that_recorded_them():
    lines = {}

    def configure(b):
        dsl = b.from_("direct:a").route_id("r")
        lines["to1"] = line(dsl.to("mock:x"))
        lines["set_body1"] = line(dsl.set_body("y"))
        lines["throttle1"] = line(dsl.throttle(5))
        lines["split1"] = line(dsl.split(body()))
        dsl.end()
        lines["choice1"] = line(dsl.choice())
        lines["when1"] = line(dsl.when(header("t") == 1))
        lines["otherwise1"] = line(dsl.otherwise())
        dsl.end()
        lines["do_try1"] = line(dsl.do_try())
        lines["do_catch1"] = line(dsl.do_catch(ValueError))
        dsl.end()
        lines["circuit_breaker1"] = line(dsl.circuit_breaker())
        lines["on_fallback1"] = line(dsl.on_fallback())
        dsl.end()

    route = build(configure)[0]
    do_try, breaker = route.steps[-2:]
    nodes = [*route.walk(), *do_try.catches, breaker.fallback]
    seen = {node.node_id: node.location for node in nodes if node.node_id in lines}
    assert seen == {node_id: f"{HERE}:{number}" for node_id, number in lines.items()}


@pytest.mark.parametrize(
    "fn",
    [
        lambda b: b.from_("direct:a").end(),  # block tracking
        lambda b: b.from_("direct:a").to(),  # endpoint verbs
        lambda b: b.from_("direct:a").process(42),  # translator verbs
        lambda b: b.from_("direct:a").choice().otherwise(),  # routing verbs
        lambda b: b.from_("direct:a").when(body()),  # choice branches
        lambda b: b.from_("direct:a").do_catch(ValueError),  # error-handling verbs
        lambda b: b.from_("direct:a").handled(True),  # on_exception clause flags
        lambda b: b.on_exception(ValueError).to("mock:x").end().from_("direct:a").on_exception(int),
        lambda b: b.from_(""),  # the builder
        lambda b: b.rest("no-slash"),  # the REST DSL, outside eip/dsl/
        lambda b: b.rest("/x").to("mock:x"),
    ],
)
def test_mistakes_name_the_route_authors_line_whichever_module_records_the_verb(fn):
    expected = f"{HERE}:{inspect.getsourcelines(fn)[1]}"
    with pytest.raises(RouteDefinitionError) as info:
        build(fn)
    assert info.value.location == expected

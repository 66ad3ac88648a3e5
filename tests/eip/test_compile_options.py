"""The compile context's option helpers: one message shape, naming route, node, option and location."""

from __future__ import annotations

import inspect

import pytest

from eip import ConfigurationError, body


@pytest.mark.parametrize("build, text", [
    (lambda r: r.sample(period="soon"), "sample() period: not a duration: 'soon'"),
    (lambda r: r.sample(period=0), "sample() period must be positive, got 0"),
    (lambda r: r.throttle(1, time_period=-1), "throttle() time_period must be positive, got -1"),
    (lambda r: r.resequence(body(), batch_size=True).to("mock:x").end(),
     "resequence() batch_size must be a positive integer, got True"),
    (lambda r: r.circuit_breaker(wait_duration_in_open_state=-1).to("mock:x").end(),
     "circuit_breaker() wait_duration_in_open_state must be >= 0, got -1"),
    (lambda r: r.loop(2, max_iterations=True).to("mock:x").end(), "loop() max_iterations must be a positive integer"),
    (lambda r: r.multicast(parallel=True, timeout="1 week").to("mock:x").end(), "multicast() timeout: not a duration"),
])
def test_bad_option_names_route_node_option_and_location(engine, build, text):
    with pytest.raises(ConfigurationError) as info:
        engine.add_routes(lambda b: build(b.from_("direct:in").route_id("r")))
    error = info.value
    assert text in str(error)
    assert error.route_id == "r"
    assert error.node_id is not None
    assert error.location and "test_compile_options.py" in error.location


@pytest.mark.parametrize("build, text", [
    (lambda r: r.load_balance("sideways").to("mock:a").end(),
     "load_balance() policy must be one of 'round_robin', 'random', 'failover', 'weighted', 'sticky', got 'sideways'"),
    (lambda r: r.claim_check("swap", key="k"),
     "claim_check() operation must be one of 'set', 'get', 'get_and_remove', 'push', 'pop', got 'swap'"),
    (lambda r: r.aggregate(body(), "concat", completion_size=2).to("mock:a").end(),
     "aggregate() strategy must be a callable"),
    (lambda r: r.aggregate(body(), lambda old, new: new).to("mock:a").end(), "aggregate() needs a completion condition"),
    (lambda r: r.loop().to("mock:a").end(), "loop() needs either a count or do_while=predicate"),
])
def test_options_the_dsl_only_records_are_checked_once_by_the_compiler_at_the_verbs_line(engine, build, text):
    """The DSL records these options; the compiler's error still names the author's file:line."""
    line = inspect.getsourcelines(build)[1]
    with pytest.raises(ConfigurationError) as info:
        engine.add_routes(lambda b: build(b.from_("direct:in").route_id("r")))
    error = info.value
    assert text in str(error)
    assert (error.route_id, error.location) == ("r", f"{__file__}:{line}")
    assert error.node_id is not None


def test_on_exception_and_error_handlers_share_one_redelivery_parser():
    """A bad delay is a configuration error naming the verb and option, wherever the policy is
    given; an on_exception clause's also names the author's line."""
    from eip import dead_letter_channel, default_error_handler
    from eip.dsl.builder import FunctionRouteBuilder, RouteBuilder
    from eip.model import RedeliveryPolicy

    for make, verb in ((lambda: dead_letter_channel("mock:dlq", redelivery_delay="soon"), "dead_letter_channel"),
                       (lambda: default_error_handler(maximum_redelivery_delay="soon"), "default_error_handler")):
        with pytest.raises(ConfigurationError, match=rf"{verb}\(\) \w*redelivery_delay: not a duration: 'soon'"):
            make()
    builder = RouteBuilder()
    line = inspect.currentframe().f_lineno + 2
    with pytest.raises(ConfigurationError) as info:
        builder.from_("direct:in").on_exception(ValueError, redelivery_delay="soon")
    assert "on_exception() redelivery_delay: not a duration: 'soon'" in str(info.value)
    assert info.value.location == f"{__file__}:{line}"
    [route] = FunctionRouteBuilder(lambda b: b.from_("direct:in").on_exception(
        ValueError, redelivery_delay="250ms", maximum_redeliveries=2).to("mock:x").end().to("mock:out")).build()
    assert route.on_exceptions[0].policy == RedeliveryPolicy(maximum_redeliveries=2, redelivery_delay=0.25)

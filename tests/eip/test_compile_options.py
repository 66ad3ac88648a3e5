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

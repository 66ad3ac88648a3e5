"""Ready-made aggregation strategies: return old or new, never None, keep failures."""

from __future__ import annotations

import functools

import pytest

from eip import ConfigurationError, body, header
from eip.exchange import Exchange
from eip.strategies import (
    concat_bodies,
    group_bodies,
    group_exchanges,
    use_latest,
    use_original,
)


def fold(strategy, *bodies):
    result = None
    exchanges = [Exchange(b) for b in bodies]
    for exchange in exchanges:
        returned = strategy(result, exchange)
        assert returned is not None
        assert returned is exchange or returned is result  # old or new, never a new instance
        result = returned
    return result, exchanges


def test_use_latest():
    result, exchanges = fold(use_latest, 1, 2, 3)
    assert result is exchanges[-1]


def test_use_original_keeps_the_first():
    result, exchanges = fold(use_original, 1, 2, 3)
    assert result is exchanges[0] and result.message.body == 1


def test_group_bodies_in_order_with_first_headers():
    first = Exchange("a", {"h": 1})
    result = group_bodies(None, first)
    result = group_bodies(result, Exchange("b", {"h": 2}))
    assert result.message.body == ["a", "b"]
    assert result.message.headers["h"] == 1


def test_group_exchanges_keeps_first_exchange_intact():
    result, exchanges = fold(group_exchanges, "a", "b", "c")
    grouped = result.message.body
    assert [e.message.body for e in grouped] == ["a", "b", "c"]
    assert grouped[1] is exchanges[1] and grouped[2] is exchanges[2]
    assert grouped[0] is not result  # the container does not contain itself


@pytest.mark.parametrize("bodies, separator, expected", [
    (("a", "b", "c"), "", "abc"),
    (("a", "b"), ", ", "a, b"),
    ((1, 2), "-", "1-2"),
    ((b"a", b"b"), "|", b"a|b"),
    (("a", None, "c"), "+", "a+c"),
    ((b"x", "y"), "+", "x+y"),
    ((None, "b"), "+", "b"),
])
def test_concat_bodies(bodies, separator, expected):
    result, _ = fold(concat_bodies(separator), *bodies)
    assert result.message.body == expected


def test_concat_bodies_has_a_readable_name():
    assert "concat_bodies" in concat_bodies(",").__name__


@pytest.mark.parametrize("strategy", [use_latest, use_original, group_bodies, group_exchanges, concat_bodies()])
def test_a_failure_reaches_the_result(strategy):
    boom = RuntimeError("part failed")
    first, second, third = Exchange("a"), Exchange("b"), Exchange("c")
    second.exception = boom
    result = strategy(None, first)
    result = strategy(result, second)
    result = strategy(result, third)
    assert result.exception is boom


def test_use_original_is_recognised_by_fan_out_eips():
    assert getattr(use_original, "keeps_parent", False) is True


def test_concat_bodies_reads_lazy_file_bodies_not_their_paths(tmp_path):
    from eip.file_body import FileBody

    (tmp_path / "a.txt").write_text("alpha")
    (tmp_path / "b.txt").write_text("beta")
    result, _ = fold(concat_bodies("+"), FileBody(tmp_path / "a.txt"), FileBody(tmp_path / "b.txt"))
    assert result.message.body == "alpha+beta"


class Merge:
    """A strategy class: its instances are strategies, the class itself is not."""

    def __call__(self, old, new):
        return use_latest(old, new)


def _route_with(strategy):
    """One route per EIP that takes an aggregation strategy, each using ``strategy``."""
    return {
        "aggregate": lambda b: (b.from_("direct:in").route_id("r")
                                .aggregate(header("id"), strategy, completion_size=2).id("agg").to("mock:out").end()),
        "split": lambda b: b.from_("direct:in").route_id("r").split(body(), strategy).id("agg").to("mock:out").end(),
        "multicast": lambda b: (b.from_("direct:in").route_id("r")
                                .multicast(strategy).id("agg").to("mock:a", "mock:b").end()),
        "recipient_list": lambda b: (b.from_("direct:in").route_id("r")
                                     .recipient_list(header("to"), strategy=strategy).id("agg")),
        "enrich": lambda b: b.from_("direct:in").route_id("r").enrich("mock:x", strategy).id("agg"),
        "poll_enrich": lambda b: b.from_("direct:in").route_id("r").poll_enrich("seda:x", strategy).id("agg"),
    }


EIPS = list(_route_with(None))


@pytest.mark.parametrize("eip", EIPS)
def test_a_strategy_factory_passed_uncalled_fails_when_the_route_is_added(engine, eip):
    with pytest.raises(ConfigurationError) as info:
        engine.add_routes(_route_with(concat_bodies)[eip])
    error = info.value
    assert error.route_id == "r" and error.node_id == "agg"
    assert "test_strategies.py" in (error.location or "")
    assert "concat_bodies(separator='')" in str(error) and "pass concat_bodies()" in str(error)
    assert engine.route_ids() == []


@pytest.mark.parametrize("eip", EIPS)
def test_a_strategy_class_passed_instead_of_an_instance_fails_with_a_hint(engine, eip):
    with pytest.raises(ConfigurationError, match=r"strategy Merge\(\) cannot be called as .*pass Merge\(\)"):
        engine.add_routes(_route_with(Merge)[eip])


@pytest.mark.parametrize("eip", EIPS)
def test_a_callable_with_the_wrong_arity_fails_without_a_factory_hint(engine, eip):
    def three(old, new, extra):
        return new

    with pytest.raises(ConfigurationError) as info:
        engine.add_routes(_route_with(three)[eip])
    assert "three(old, new, extra) cannot be called as" in str(info.value)
    assert "pass three()" not in str(info.value)


@pytest.mark.parametrize("strategy", [
    concat_bodies(), use_latest, Merge(), functools.partial(lambda sep, old, new: new, "-"),
    lambda old, new=None, *rest: new, lambda *args: args[1], max,  # max: a builtin whose signature cannot be read
], ids=["factory-called", "function", "instance", "partial", "defaults", "varargs", "uninspectable"])
@pytest.mark.parametrize("eip", EIPS)
def test_strategies_that_take_old_and_new_are_accepted(engine, eip, strategy):
    engine.add_routes(_route_with(strategy)[eip])
    assert engine.route_ids() == ["r"]

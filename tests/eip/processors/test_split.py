"""Splitter: parts, properties, strategies, failures, streaming and parallel processing."""

from __future__ import annotations

import threading

import pytest

from eip import ConfigurationError, body, dead_letter_channel, header
from eip import constants as c
from eip.errors import AggregationError, SplitError
from eip.processors.parallel import WorkerPool
from eip.strategies import group_bodies, use_latest, use_original


class Boom(Exception):
    pass


def fail_on(value):
    def stub(exchange):
        if exchange.message.body == value:
            raise Boom(f"part {value} failed")
    return stub


def mock(engine, name):
    return engine.get_endpoint(f"mock:{name}")


# -- what gets split ---------------------------------------------------------------------------

def test_list_parts_get_copies_with_split_properties_and_original_continues(engine):
    engine.add_routes(lambda b: b.from_("direct:in")
                      .split(body()).to("mock:part").end()
                      .to("mock:after"))
    engine.start()
    engine.template.send_body("direct:in", ["a", "b", "c"], headers={"h": 1})
    part = mock(engine, "part")
    part.expected_bodies_received("a", "b", "c")
    part.assert_is_satisfied(timeout=2)
    props = [(ex.properties[c.SPLIT_INDEX], ex.properties[c.SPLIT_SIZE], ex.properties[c.SPLIT_COMPLETE])
             for ex in part.received_exchanges]
    assert props == [(0, 3, False), (1, 3, False), (2, 3, True)]
    assert all(ex.message.headers["h"] == 1 for ex in part.received_exchanges)
    after = mock(engine, "after")
    after.expected_bodies_received(["a", "b", "c"])
    after.assert_is_satisfied(timeout=2)
    assert c.SPLIT_INDEX not in after.received_exchanges[0].properties


def test_parts_are_independent_copies(engine):
    seen = []

    def mark(exchange):
        seen.append(exchange.message.headers.get("mark"))
        exchange.message.headers["mark"] = exchange.message.body
        exchange.properties["p"] = exchange.message.body

    engine.add_routes(lambda b: b.from_("direct:in")
                      .split(body()).process(mark).end()
                      .to("mock:after"))
    engine.start()
    engine.template.send_body("direct:in", [1, 2, 3])
    assert seen == [None, None, None]  # no part sees what an earlier part set
    after = mock(engine, "after").received_exchanges[0]
    assert "mark" not in after.message.headers
    assert "p" not in after.properties


@pytest.mark.parametrize("value, expected", [
    ((1, 2), [1, 2]),
    ({"k1": 1, "k2": 2}, [("k1", 1), ("k2", 2)]),
    ("a,b,,c", ["a", "b", "c"]),  # text splits on commas (Camel's default); empty tokens skipped
    ("single", ["single"]),
    ("", []),
    (None, []),
    ([1, None, 2, None], [1, 2]),  # None parts are skipped
    (range(3), [0, 1, 2]),
])
def test_splittable_values(engine, value, expected):
    engine.add_routes(lambda b: b.from_("direct:in").split(body()).to("mock:part").end().to("mock:after"))
    engine.start()
    engine.template.send_body("direct:in", value)
    part = mock(engine, "part")
    assert part.received_bodies == expected
    if expected:
        assert [ex.properties[c.SPLIT_SIZE] for ex in part.received_exchanges] == [len(expected)] * len(expected)
        assert [ex.properties[c.SPLIT_INDEX] for ex in part.received_exchanges] == list(range(len(expected)))
    assert mock(engine, "after").received_counter == 1


def test_generator_from_expression(engine):
    engine.add_routes(lambda b: b.from_("direct:in")
                      .split(lambda ex: (x * 2 for x in ex.message.body)).to("mock:part").end())
    engine.start()
    engine.template.send_body("direct:in", [1, 2, 3])
    assert mock(engine, "part").received_bodies == [2, 4, 6]


@pytest.mark.parametrize("value", [42, b"a,b"])
def test_unsplittable_body_raises_split_error_naming_route_and_node(engine, value):
    engine.add_routes(lambda b: b.from_("direct:in").route_id("orders")
                      .split(body()).id("lines").to("mock:part").end())
    engine.start()
    with pytest.raises(SplitError) as info:
        engine.template.send_body("direct:in", value)
    assert info.value.route_id == "orders"
    assert info.value.node_id == "lines"
    assert type(value).__name__ in str(info.value)
    assert mock(engine, "part").received_counter == 0


def test_expression_that_raises_propagates(engine):
    def bad(exchange):
        raise Boom("no parts")

    engine.add_routes(lambda b: b.from_("direct:in").split(bad).to("mock:part").end().to("mock:after"))
    engine.start()
    with pytest.raises(Boom, match="no parts"):
        engine.template.send_body("direct:in", [1])
    assert mock(engine, "after").received_counter == 0


def test_nested_split_has_its_own_properties(engine):
    engine.add_routes(lambda b: b.from_("direct:in")
                      .split(body()).split(body()).to("mock:inner").end().end())
    engine.start()
    engine.template.send_body("direct:in", [[1, 2], [3]])
    inner = mock(engine, "inner")
    assert inner.received_bodies == [1, 2, 3]
    assert [(e.properties[c.SPLIT_INDEX], e.properties[c.SPLIT_SIZE]) for e in inner.received_exchanges] == \
        [(0, 2), (1, 2), (0, 1)]


# -- strategies ------------------------------------------------------------------------------------

def test_strategy_result_becomes_the_message(engine):
    engine.add_routes(lambda b: b.from_("direct:in")
                      .split(body(), group_bodies).transform(lambda ex: ex.message.body * 10).end()
                      .to("mock:after"))
    engine.start()
    engine.template.send_body("direct:in", [1, 2, 3])
    after = mock(engine, "after").received_exchanges[0]
    assert after.message.body == [10, 20, 30]
    for name in (c.SPLIT_INDEX, c.SPLIT_SIZE, c.SPLIT_COMPLETE):
        assert name not in after.properties


def test_strategy_first_call_gets_none_and_request_reply_sees_result(engine):
    calls = []

    def strategy(old, new):
        calls.append((None if old is None else old.message.body, new.message.body))
        if old is None:
            return new
        old.message.body = old.message.body + new.message.body
        return old

    engine.add_routes(lambda b: b.from_("direct:in").split(body(), strategy).to("mock:part").end())
    engine.start()
    assert engine.template.request_body("direct:in", ["a", "b", "c"]) == "abc"
    assert calls == [(None, "a"), ("a", "b"), ("ab", "c")]


def test_strategy_returning_none_raises_aggregation_error(engine):
    engine.add_routes(lambda b: b.from_("direct:in").route_id("r")
                      .split(body(), lambda old, new: None).id("s").to("mock:part").end())
    engine.start()
    with pytest.raises(AggregationError) as info:
        engine.template.send_body("direct:in", [1, 2])
    assert (info.value.route_id, info.value.node_id) == ("r", "s")


def test_use_original_keeps_parent_message(engine):
    engine.add_routes(lambda b: b.from_("direct:in")
                      .split(body(), use_original).transform(lambda ex: "changed").end()
                      .to("mock:after"))
    engine.start()
    engine.template.send_body("direct:in", [1, 2])
    assert mock(engine, "after").received_bodies == [[1, 2]]


# -- failures ------------------------------------------------------------------------------------------

def test_failed_part_does_not_stop_the_rest_and_is_raised_afterwards(engine):
    engine.add_routes(lambda b: b.from_("direct:in").split(body()).to("mock:part").end().to("mock:after"))
    engine.start()
    part = mock(engine, "part")
    part.when_any_exchange_received(fail_on(2))
    with pytest.raises(Boom, match="part 2"):
        engine.template.send_body("direct:in", [1, 2, 3, 4])
    assert part.received_bodies == [1, 2, 3, 4]  # the parts after the failed one still ran
    assert mock(engine, "after").received_counter == 0


def test_first_failure_is_raised_when_several_parts_fail(engine):
    def stub(exchange):
        raise Boom(f"part {exchange.message.body}")

    engine.add_routes(lambda b: b.from_("direct:in").split(body()).to("mock:part").end())
    engine.start()
    mock(engine, "part").when_any_exchange_received(stub)
    with pytest.raises(Boom, match="part 1"):
        engine.template.send_body("direct:in", [1, 2, 3])
    assert mock(engine, "part").received_counter == 3


def test_stop_on_exception_stops_at_first_failure(engine):
    engine.add_routes(lambda b: b.from_("direct:in")
                      .split(body(), stop_on_exception=True).to("mock:part").end())
    engine.start()
    part = mock(engine, "part")
    part.when_any_exchange_received(fail_on(2))
    with pytest.raises(Boom):
        engine.template.send_body("direct:in", [1, 2, 3, 4])
    assert part.received_counter == 2  # parts 3 and 4 never ran


def test_dead_letter_handles_a_part_and_the_split_goes_on(engine):
    def routes(b):
        b.error_handler(dead_letter_channel("mock:dead", redelivery_delay=0))
        b.from_("direct:in").split(body()).to("mock:part").end().to("mock:after")

    engine.add_routes(routes)
    engine.start()
    mock(engine, "part").when_any_exchange_received(fail_on(2))
    engine.template.send_body("direct:in", [1, 2, 3])
    assert mock(engine, "part").received_bodies == [1, 2, 3]
    assert mock(engine, "dead").received_bodies == [2]
    assert mock(engine, "after").received_bodies == [[1, 2, 3]]


def test_stop_on_exception_stops_even_when_the_failure_was_handled(engine):
    def routes(b):
        b.error_handler(dead_letter_channel("mock:dead", redelivery_delay=0))
        b.from_("direct:in").split(body(), stop_on_exception=True).to("mock:part").end().to("mock:after")

    engine.add_routes(routes)
    engine.start()
    mock(engine, "part").when_any_exchange_received(fail_on(2))
    with pytest.raises(Boom):
        engine.template.send_body("direct:in", [1, 2, 3])
    assert mock(engine, "part").received_counter == 2
    assert mock(engine, "dead").received_bodies == [2]
    assert mock(engine, "after").received_counter == 0


def test_strategy_decides_about_failures(engine):
    def forgiving(old, new):
        new.exception = None
        return use_latest(old, new)

    engine.add_routes(lambda b: b.from_("direct:in").split(body(), forgiving).to("mock:part").end()
                      .to("mock:after"))
    engine.add_routes(lambda b: b.from_("direct:strict").split(body(), use_latest).to("mock:part").end())
    engine.start()
    mock(engine, "part").when_any_exchange_received(fail_on(2))
    engine.template.send_body("direct:in", [1, 2, 3])
    assert mock(engine, "after").received_bodies == [3]
    with pytest.raises(Boom):  # use_latest carries the failure over to the result
        engine.template.send_body("direct:strict", [1, 2, 3])


# -- streaming -------------------------------------------------------------------------------------------

def test_streaming_consumes_lazily_and_sets_size_on_last_part_only(engine):
    produced = []

    def numbers(exchange):
        def gen():
            for i in range(5):
                produced.append(i)
                yield i
        return gen()

    in_flight = []

    def check(exchange):
        # one part of look-ahead at most: the input is never materialised
        in_flight.append(len(produced) - exchange.message.body)

    engine.add_routes(lambda b: b.from_("direct:in")
                      .split(numbers, streaming=True).process(check).to("mock:part").end())
    engine.start()
    engine.template.send_body("direct:in", None)
    part = mock(engine, "part")
    assert part.received_bodies == [0, 1, 2, 3, 4]
    assert max(in_flight) <= 2
    assert [e.properties.get(c.SPLIT_SIZE) for e in part.received_exchanges] == [None] * 4 + [5]
    assert [e.properties[c.SPLIT_COMPLETE] for e in part.received_exchanges] == [False] * 4 + [True]


def test_streaming_with_strategy_and_stop_closes_the_iterator(engine):
    closed = threading.Event()

    def numbers(exchange):
        def gen():
            try:
                yield from range(100)
            finally:
                closed.set()
        return gen()

    engine.add_routes(lambda b: b.from_("direct:in")
                      .split(numbers, group_bodies, streaming=True).to("mock:part").end()
                      .to("mock:after"))
    engine.add_routes(lambda b: b.from_("direct:stop")
                      .split(numbers, streaming=True, stop_on_exception=True).to("mock:stopper").end())
    engine.start()
    engine.template.send_body("direct:in", None)
    assert mock(engine, "after").received_bodies == [list(range(100))]
    closed.clear()
    mock(engine, "stopper").when_any_exchange_received(fail_on(3))
    with pytest.raises(Boom):
        engine.template.send_body("direct:stop", None)
    assert closed.is_set()
    assert mock(engine, "stopper").received_counter == 4


# -- parallel -------------------------------------------------------------------------------------------------

def test_parallel_aggregates_in_split_order_and_caller_waits(engine):
    last_done = threading.Event()
    threads = set()

    def work(exchange):
        threads.add(threading.current_thread().name)
        if exchange.message.body == 0:
            assert last_done.wait(5), "part 4 never ran"  # part 0 finishes after part 4
        if exchange.message.body == 4:
            last_done.set()
        exchange.message.body = exchange.message.body * 10

    engine.add_routes(lambda b: b.from_("direct:in").route_id("r")
                      .split(body(), group_bodies, parallel=True).process(work).end()
                      .to("mock:after"))
    engine.start()
    engine.template.send_body("direct:in", [0, 1, 2, 3, 4])
    assert mock(engine, "after").received_bodies == [[0, 10, 20, 30, 40]]
    assert any(name.startswith("eip-r-parallel") for name in threads)


def test_parallel_without_strategy_keeps_original_and_raises_failure(engine):
    engine.add_routes(lambda b: b.from_("direct:in")
                      .split(body(), parallel=True).to("mock:part").end().to("mock:after"))
    engine.start()
    part = mock(engine, "part")
    part.when_any_exchange_received(fail_on(3))
    with pytest.raises(Boom):
        engine.template.send_body("direct:in", [1, 2, 3, 4, 5])
    assert sorted(part.received_bodies) == [1, 2, 3, 4, 5]
    part.when_any_exchange_received(lambda ex: None)
    engine.template.send_body("direct:in", [1, 2])
    assert mock(engine, "after").received_bodies == [[1, 2]]


def test_parallel_stop_on_exception_raises(engine):
    engine.add_routes(lambda b: b.from_("direct:in")
                      .split(body(), parallel=True, stop_on_exception=True).to("mock:part").end()
                      .to("mock:after"))
    engine.start()
    mock(engine, "part").when_any_exchange_received(fail_on(1))
    with pytest.raises(Boom):
        engine.template.send_body("direct:in", list(range(50)))
    assert mock(engine, "after").received_counter == 0


def test_parallel_timeout_leaves_unfinished_parts_out(engine):
    release = threading.Event()

    def work(exchange):
        if exchange.message.body == 2:
            release.wait(5)

    engine.add_routes(lambda b: b.from_("direct:in")
                      .split(body(), group_bodies, parallel=True, timeout=0.3).process(work).end()
                      .to("mock:after"))
    engine.start()
    try:
        engine.template.send_body("direct:in", [1, 2, 3])
        assert mock(engine, "after").received_bodies == [[1, 3]]
    finally:
        release.set()


def test_parallel_streaming_aggregates_every_part(engine):
    engine.add_routes(lambda b: b.from_("direct:in")
                      .split(lambda ex: iter(ex.message.body), group_bodies, parallel=True, streaming=True)
                      .transform(lambda ex: ex.message.body + 1).end()
                      .to("mock:after"))
    engine.start()
    engine.template.send_body("direct:in", list(range(100)))
    (result,) = mock(engine, "after").received_bodies
    assert sorted(result) == list(range(1, 101))


def test_nested_parallel_splits_do_not_deadlock_the_bounded_pool(engine):
    engine.add_routes(lambda b: b.from_("direct:in")
                      .split(body(), parallel=True)
                      .split(body(), parallel=True).to("mock:leaf").end()
                      .end())
    engine.start()
    engine.template.send_body("direct:in", [[i] * 30 for i in range(30)])
    assert mock(engine, "leaf").received_counter == 900


def test_pool_starts_and_stops_with_the_route(engine):
    engine.add_routes(lambda b: b.from_("direct:in").route_id("r")
                      .split(body(), parallel=True).to("mock:part").end()
                      .split(body(), parallel=True).to("mock:part").end())
    pools = [s for s in engine.route("r").services if isinstance(s, WorkerPool)]
    assert len(pools) == 1  # one pool shared by the route's parallel EIPs
    assert not pools[0].running
    engine.start()
    assert pools[0].running
    engine.stop()
    assert not pools[0].running


# -- configuration -----------------------------------------------------------------------------------

def test_timeout_without_parallel_is_a_configuration_error(engine):
    with pytest.raises(ConfigurationError, match="parallel"):
        engine.add_routes(lambda b: b.from_("direct:in").split(body(), timeout=1.0).to("mock:x").end())


def test_strategy_must_be_callable(engine):
    with pytest.raises(ConfigurationError, match="strategy"):
        engine.add_routes(lambda b: b.from_("direct:in").split(body(), "nope").to("mock:x").end())


def test_split_by_header_expression(engine):
    engine.add_routes(lambda b: b.from_("direct:in").split(header("items")).to("mock:part").end())
    engine.start()
    engine.template.send_body("direct:in", "body", headers={"items": "x,y"})
    assert mock(engine, "part").received_bodies == ["x", "y"]

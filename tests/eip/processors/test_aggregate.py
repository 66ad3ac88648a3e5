"""Aggregator: correlation, strategies, every completion condition, failures, threads, repositories."""

from __future__ import annotations

import logging
import threading

import pytest

from eip import ConfigurationError, body, dead_letter_channel, exchange_property, header
from eip import constants as c
from eip.errors import AggregationError, ClosedCorrelationKeyError
from eip.processors.aggregate import AggregateProcessor
from eip.repositories.aggregation import (
    AggregationRepository,
    MemoryAggregationRepository,
)
from eip.strategies import concat_bodies, group_bodies, use_latest
from eip.testing import eventually


def mock(engine, name):
    return engine.get_endpoint(f"mock:{name}")


def aggregator(engine, route_id):
    (processor,) = [s for s in engine.route(route_id).services if isinstance(s, AggregateProcessor)]
    return processor


def send_all(engine, items, uri="direct:in", key="id"):
    for value, correlation in items:
        engine.template.send_body(uri, value, headers={key: correlation})


# -- completion by size --------------------------------------------------------------------------------

def test_completion_size_emits_one_exchange_with_aggregation_properties(engine):
    engine.add_routes(lambda b: b.from_("direct:in")
                      .aggregate(header("id"), group_bodies, completion_size=3).to("mock:out").end())
    engine.start()
    send_all(engine, [(1, "a"), (2, "a"), (3, "a"), (4, "a")])
    out = mock(engine, "out")
    out.expected_bodies_received([1, 2, 3])
    out.assert_is_satisfied(timeout=2)
    props = out.received_exchanges[0].properties
    assert props[c.AGGREGATED_SIZE] == 3
    assert props[c.AGGREGATED_COMPLETED_BY] == "size"
    assert props[c.AGGREGATED_CORRELATION_KEY] == "a"


def test_groups_are_per_correlation_key(engine):
    engine.add_routes(lambda b: b.from_("direct:in")
                      .aggregate(header("id"), concat_bodies("+"), completion_size=2).to("mock:out").end())
    engine.start()
    send_all(engine, [("a1", "a"), ("b1", "b"), ("b2", "b"), ("c1", "c"), ("a2", "a")])
    assert mock(engine, "out").received_bodies == ["b1+b2", "a1+a2"]


def test_incoming_exchange_continues_unchanged_after_the_block(engine):
    def touch(exchange):
        exchange.message.headers["touched"] = True

    engine.add_routes(lambda b: b.from_("direct:in")
                      .aggregate(header("id"), group_bodies, completion_size=2).process(touch).to("mock:out").end()
                      .to("mock:after"))
    engine.start()
    send_all(engine, [("x", 1), ("y", 1)])
    after = mock(engine, "after")
    assert after.received_bodies == ["x", "y"]
    assert all("touched" not in ex.message.headers for ex in after.received_exchanges)
    assert all(c.AGGREGATED_SIZE not in ex.properties for ex in after.received_exchanges)
    assert mock(engine, "out").received_bodies == [["x", "y"]]


def test_request_reply_caller_gets_its_own_body_back(engine):
    engine.add_routes(lambda b: b.from_("direct:in")
                      .aggregate(header("id"), group_bodies, completion_size=2).to("mock:out").end())
    engine.start()
    assert engine.template.request_body("direct:in", "one", headers={"id": 1}) == "one"
    assert engine.template.request_body("direct:in", "two", headers={"id": 1}) == "two"


def test_completion_size_expression(engine):
    engine.add_routes(lambda b: b.from_("direct:in")
                      .aggregate(header("id"), group_bodies, completion_size=header("n")).to("mock:out").end())
    engine.start()
    for value in ("a", "b"):
        engine.template.send_body("direct:in", value, headers={"id": 1, "n": 2})
    assert mock(engine, "out").received_bodies == [["a", "b"]]


def test_strategy_gets_none_first_and_a_copy_of_the_incoming_exchange(engine):
    calls = []

    def strategy(old, new):
        calls.append((old, new))
        return use_latest(old, new)

    sent = []
    engine.add_routes(lambda b: b.from_("direct:in").process(sent.append)
                      .aggregate(header("id"), strategy, completion_size=2).to("mock:out").end())
    engine.start()
    send_all(engine, [(1, "k"), (2, "k")])
    assert calls[0][0] is None
    assert calls[1][0] is calls[0][1]
    assert calls[0][1] is not sent[0]  # a copy is aggregated, never the caller's exchange
    assert calls[0][1].unit_of_work is None


def test_strategy_returning_none_raises_aggregation_error_to_the_sender(engine):
    engine.add_routes(lambda b: b.from_("direct:in").route_id("r")
                      .aggregate(header("id"), lambda old, new: None, completion_size=2).id("agg")
                      .to("mock:out").end())
    engine.start()
    with pytest.raises(AggregationError) as info:
        engine.template.send_body("direct:in", 1, headers={"id": 1})
    assert (info.value.route_id, info.value.node_id) == ("r", "agg")


def test_invalid_correlation_key_raises_or_is_ignored(engine):
    engine.add_routes(lambda b: b.from_("direct:strict").route_id("strict")
                      .aggregate(header("id"), group_bodies, completion_size=1).to("mock:out").end())
    engine.add_routes(lambda b: b.from_("direct:lenient")
                      .aggregate(header("id"), group_bodies, completion_size=1,
                                 ignore_invalid_correlation_keys=True).to("mock:out").end()
                      .to("mock:after"))
    engine.start()
    with pytest.raises(AggregationError, match="correlation key") as info:
        engine.template.send_body("direct:strict", "x")
    assert info.value.route_id == "strict"
    with pytest.raises(AggregationError):
        engine.template.send_body("direct:strict", "x", headers={"id": ""})
    engine.template.send_body("direct:lenient", "y")
    assert mock(engine, "out").received_counter == 0
    assert mock(engine, "after").received_bodies == ["y"]


# -- completion by predicate -----------------------------------------------------------------------

def test_completion_predicate_is_checked_on_the_aggregated_exchange(engine):
    engine.add_routes(lambda b: b.from_("direct:in")
                      .aggregate(header("id"), group_bodies,
                                 completion_predicate=lambda ex: "END" in ex.message.body)
                      .to("mock:out").end())
    engine.start()
    send_all(engine, [("a", 1), ("b", 1), ("END", 1), ("c", 1)])
    out = mock(engine, "out")
    assert out.received_bodies == [["a", "b", "END"]]
    assert out.received_exchanges[0].properties[c.AGGREGATED_COMPLETED_BY] == "predicate"


def test_predicate_sees_aggregated_size(engine):
    engine.add_routes(lambda b: b.from_("direct:in")
                      .aggregate(header("id"), group_bodies,
                                 completion_predicate=exchange_property(c.AGGREGATED_SIZE) == 2)
                      .to("mock:out").end())
    engine.start()
    send_all(engine, [("a", 1), ("b", 1), ("c", 1)])
    assert mock(engine, "out").received_bodies == [["a", "b"]]


def test_eager_check_completion_tests_the_incoming_exchange(engine):
    # group_bodies keeps the first exchange's headers, so only the eager check sees "last".
    def routes(b):
        b.from_("direct:lazy").aggregate(header("id"), group_bodies, completion_predicate=header("last"))\
            .to("mock:lazy").end()
        b.from_("direct:eager").aggregate(header("id"), group_bodies, completion_predicate=header("last"),
                                          eager_check_completion=True).to("mock:eager").end()

    engine.add_routes(routes)
    engine.start()
    for uri in ("direct:lazy", "direct:eager"):
        engine.template.send_body(uri, 1, headers={"id": 1})
        engine.template.send_body(uri, 2, headers={"id": 1, "last": True})
    assert mock(engine, "eager").received_bodies == [[1, 2]]
    assert mock(engine, "lazy").received_counter == 0


# -- completion by time --------------------------------------------------------------------------------

def test_completion_timeout_completes_an_inactive_group_on_the_checker_thread(engine):
    threads = []
    engine.add_routes(lambda b: b.from_("direct:in").route_id("r")
                      .aggregate(header("id"), group_bodies, completion_timeout=0.2,
                                 completion_timeout_checker_interval=0.02)
                      .process(lambda ex: threads.append(threading.current_thread().name))
                      .to("mock:out").end())
    engine.start()
    send_all(engine, [("a", 1), ("b", 1), ("x", 2)])
    out = mock(engine, "out")
    out.expected_bodies_received_in_any_order(["a", "b"], ["x"])
    out.assert_is_satisfied(timeout=5)
    assert {ex.properties[c.AGGREGATED_COMPLETED_BY] for ex in out.received_exchanges} == {"timeout"}
    assert all(name.startswith("eip-r-") for name in threads)
    assert threading.current_thread().name not in threads


def test_completion_timeout_as_text_and_size_whichever_first(engine):
    engine.add_routes(lambda b: b.from_("direct:in")
                      .aggregate(header("id"), group_bodies, completion_size=2, completion_timeout="150ms",
                                 completion_timeout_checker_interval=0.02)
                      .to("mock:out").end())
    engine.start()
    send_all(engine, [("a", 1), ("b", 1), ("c", 2)])
    out = mock(engine, "out")
    out.expected_message_count(2)
    out.assert_is_satisfied(timeout=5)
    assert [(ex.message.body, ex.properties[c.AGGREGATED_COMPLETED_BY]) for ex in out.received_exchanges] == \
        [(["a", "b"], "size"), (["c"], "timeout")]


def test_completion_timeout_expression_per_group(engine):
    engine.add_routes(lambda b: b.from_("direct:in")
                      .aggregate(header("id"), group_bodies, completion_timeout=header("wait"),
                                 completion_timeout_checker_interval=0.02)
                      .to("mock:out").end())
    engine.start()
    engine.template.send_body("direct:in", "slow", headers={"id": 1, "wait": 30})
    engine.template.send_body("direct:in", "fast", headers={"id": 2, "wait": 0.05})
    out = mock(engine, "out")
    out.expected_bodies_received(["fast"])
    out.assert_is_satisfied(timeout=5, assert_period=0.2)


def test_discard_on_completion_timeout_drops_the_group(engine):
    engine.add_routes(lambda b: b.from_("direct:in").route_id("r")
                      .aggregate(header("id"), group_bodies, completion_size=5, completion_timeout=0.05,
                                 completion_timeout_checker_interval=0.01,
                                 discard_on_completion_timeout=True)
                      .to("mock:out").end())
    engine.start()
    send_all(engine, [("a", 1)])
    processor = aggregator(engine, "r")
    eventually(lambda: processor.discarded_groups, what="the timed-out group discarded")
    assert processor.discarded_groups == 1
    assert processor.open_groups() == 0
    assert mock(engine, "out").received_counter == 0


def test_completion_interval_completes_every_group(engine):
    engine.add_routes(lambda b: b.from_("direct:in")
                      .aggregate(header("id"), group_bodies, completion_interval=0.1).to("mock:out").end())
    engine.start()
    send_all(engine, [("a", 1), ("b", 2), ("c", 1)])
    out = mock(engine, "out")
    out.expected_bodies_received_in_any_order(["a", "c"], ["b"])
    out.assert_is_satisfied(timeout=5)
    assert {ex.properties[c.AGGREGATED_COMPLETED_BY] for ex in out.received_exchanges} == {"interval"}


def test_timeout_and_interval_together_is_a_configuration_error(engine):
    with pytest.raises(ConfigurationError, match="not both"):
        engine.add_routes(lambda b: b.from_("direct:in")
                          .aggregate(header("id"), group_bodies, completion_timeout=1, completion_interval=1)
                          .to("mock:out").end())


@pytest.mark.parametrize("options, message", [
    ({"completion_size": 0}, "completion_size"),
    ({"completion_size": 2, "repository": object()}, "repository"),
    ({"completion_timeout": "soon"}, "completion_timeout"),
    ({"completion_size": 2, "discard_on_completion_timeout": True}, "discard_on_completion_timeout"),
    ({"completion_size": 2, "close_correlation_key_on_completion": -1}, "close_correlation_key"),
])
def test_bad_options_are_configuration_errors(engine, options, message):
    with pytest.raises(ConfigurationError, match=message):
        engine.add_routes(lambda b: b.from_("direct:in").aggregate(header("id"), group_bodies, **options)
                          .to("mock:out").end())


# -- stopping --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("option", ["force_completion_on_stop", "complete_all_on_stop"])
def test_open_groups_complete_when_the_route_stops(engine, option):
    engine.add_routes(lambda b: b.from_("direct:in")
                      .aggregate(header("id"), group_bodies, completion_size=10, **{option: True})
                      .to("mock:out").end())
    engine.start()
    send_all(engine, [("a", 1), ("b", 2), ("c", 1)])
    out = mock(engine, "out")
    assert out.received_counter == 0
    engine.stop()
    assert sorted(out.received_bodies) == [["a", "c"], ["b"]]
    assert {ex.properties[c.AGGREGATED_COMPLETED_BY] for ex in out.received_exchanges} == {"force"}


def test_complete_all_on_stop_lets_groups_time_out_before_forcing_the_rest(engine):
    # the open group gets the chance to complete by its timeout while the engine stops
    engine.add_routes(lambda b: b.from_("direct:in")
                      .aggregate(header("id"), group_bodies, completion_size=10, completion_timeout=0.3,
                                 complete_all_on_stop=True)
                      .to("mock:out").end())
    engine.start()
    send_all(engine, [("a", 1)])
    out = mock(engine, "out")
    assert out.received_counter == 0
    engine.stop()
    assert out.received_bodies == [["a"]]
    assert out.received_exchanges[0].properties[c.AGGREGATED_COMPLETED_BY] == "timeout"


def test_without_force_open_groups_stay_and_time_out_after_a_restart(engine):
    engine.add_routes(lambda b: b.from_("direct:in").route_id("r")
                      .aggregate(header("id"), group_bodies, completion_size=10, completion_timeout=30)
                      .to("mock:out").end())
    engine.start()
    send_all(engine, [("a", 1)])
    processor = aggregator(engine, "r")
    engine.stop_route("r")
    assert mock(engine, "out").received_counter == 0
    assert processor.open_groups() == 1
    assert not processor.checker.running
    engine.start_route("r")
    assert processor.checker.running
    send_all(engine, [("b", 1)])
    processor.complete_all()
    assert mock(engine, "out").received_bodies == [["a", "b"]]


def test_groups_found_in_a_repository_at_start_get_a_timeout(engine):
    from eip.exchange import Exchange

    repository = RecordingRepository()
    leftover = Exchange(["from before the crash"])
    leftover.properties[c.AGGREGATED_SIZE] = 1
    repository.add("k", leftover)
    engine.add_routes(lambda b: b.from_("direct:in")
                      .aggregate(header("id"), group_bodies, completion_timeout=0.05,
                                 completion_timeout_checker_interval=0.01, repository=repository)
                      .to("mock:out").end())
    engine.start()
    out = mock(engine, "out")
    out.expected_bodies_received(["from before the crash"])
    out.assert_is_satisfied(timeout=5)
    assert out.received_exchanges[0].properties[c.AGGREGATED_COMPLETED_BY] == "timeout"
    assert repository.data == {}


# -- closed keys ----------------------------------------------------------------------------------------

def test_close_correlation_key_on_completion_rejects_late_arrivals(engine):
    engine.add_routes(lambda b: b.from_("direct:in")
                      .aggregate(header("id"), group_bodies, completion_size=2,
                                 close_correlation_key_on_completion=1)
                      .to("mock:out").end())
    engine.start()
    send_all(engine, [("a", 1), ("b", 1)])
    with pytest.raises(ClosedCorrelationKeyError) as info:
        send_all(engine, [("late", 1)])
    assert info.value.key == 1
    send_all(engine, [("x", 2), ("y", 2)])  # closes 2; the LRU of one forgets 1
    send_all(engine, [("again", 1)])
    assert mock(engine, "out").received_bodies == [["a", "b"], ["x", "y"]]


# -- failures of the aggregated exchange ------------------------------------------------------------

def test_unhandled_failure_downstream_is_logged_and_counted_not_raised_to_the_sender(engine, caplog):
    engine.add_routes(lambda b: b.from_("direct:in").route_id("orders")
                      .aggregate(header("id"), group_bodies, completion_size=2).id("batch").to("mock:out").end()
                      .to("mock:after"))
    engine.start()
    mock(engine, "out").when_any_exchange_received(lambda ex: (_ for _ in ()).throw(RuntimeError("down")))
    with caplog.at_level(logging.ERROR, logger="eip.processors.aggregate"):
        send_all(engine, [("a", 1), ("b", 1)])  # does not raise
    assert mock(engine, "after").received_bodies == ["a", "b"]
    assert aggregator(engine, "orders").failed_completions == 1
    records = [r for r in caplog.records if r.name == "eip.processors.aggregate"]
    assert records and "orders" in records[0].getMessage() and "batch" in records[0].getMessage()
    assert "down" in records[0].getMessage()


def test_dead_letter_channel_handles_failed_aggregated_exchange(engine):
    def routes(b):
        b.error_handler(dead_letter_channel("mock:dead", redelivery_delay=0))
        b.from_("direct:in").route_id("r").aggregate(header("id"), group_bodies, completion_size=2)\
            .to("mock:out").end()

    engine.add_routes(routes)
    engine.start()
    mock(engine, "out").when_any_exchange_received(lambda ex: (_ for _ in ()).throw(RuntimeError("down")))
    send_all(engine, [("a", 1), ("b", 1)])
    assert mock(engine, "dead").received_bodies == [["a", "b"]]
    assert aggregator(engine, "r").failed_completions == 0


# -- threads ---------------------------------------------------------------------------------------------

def test_concurrent_senders_aggregate_each_key_exactly(engine):
    keys, per_key, threads_n = 7, 60, 6
    engine.add_routes(lambda b: b.from_("direct:in").route_id("r")
                      .aggregate(header("id"), group_bodies, completion_size=per_key).to("mock:out").end())
    engine.start()
    messages = [(f"{k}-{i}", k) for k in range(keys) for i in range(per_key)]
    chunks = [messages[i::threads_n] for i in range(threads_n)]
    barrier = threading.Barrier(threads_n)
    errors = []

    def sender(chunk):
        try:
            barrier.wait(5)
            send_all(engine, chunk)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    workers = [threading.Thread(target=sender, args=(chunk,)) for chunk in chunks]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(10)
    assert not errors
    out = mock(engine, "out")
    out.expected_message_count(keys)
    out.assert_is_satisfied(timeout=5)
    for exchange in out.received_exchanges:
        key = exchange.properties[c.AGGREGATED_CORRELATION_KEY]
        assert sorted(exchange.message.body) == sorted(f"{key}-{i}" for i in range(per_key))
        assert exchange.properties[c.AGGREGATED_SIZE] == per_key
    assert aggregator(engine, "r").open_groups() == 0


# -- repositories ----------------------------------------------------------------------------------------

class RecordingRepository:
    """A repository of our own: the aggregator must use only the Protocol's methods."""

    def __init__(self):
        self.data = {}
        self.confirmed = []
        self.removed = []

    def add(self, key, exchange):
        old = self.data.get(key)
        self.data[key] = exchange
        return old

    def get(self, key):
        return self.data.get(key)

    def remove(self, key, exchange):
        self.removed.append(key)
        self.data.pop(key, None)

    def keys(self):
        return set(self.data)

    def confirm(self, exchange_id):
        self.confirmed.append(exchange_id)


def test_pluggable_repository_is_used_and_confirmed_after_success(engine):
    repository = RecordingRepository()
    assert isinstance(repository, AggregationRepository)
    ids = []
    engine.add_routes(lambda b: b.from_("direct:in")
                      .aggregate(header("id"), group_bodies, completion_size=2, repository=repository)
                      .process(lambda ex: ids.append(ex.exchange_id)).to("mock:out").end())
    engine.start()
    send_all(engine, [("a", 1), ("b", 2)])
    assert set(repository.data) == {1, 2}
    send_all(engine, [("c", 1)])
    assert mock(engine, "out").received_bodies == [["a", "c"]]
    assert repository.removed == [1]
    assert set(repository.data) == {2}
    assert repository.confirmed == ids


def test_failed_completion_is_not_confirmed(engine):
    repository = RecordingRepository()
    engine.add_routes(lambda b: b.from_("direct:in")
                      .aggregate(header("id"), group_bodies, completion_size=1, repository=repository)
                      .to("mock:out").end())
    engine.start()
    mock(engine, "out").when_any_exchange_received(lambda ex: (_ for _ in ()).throw(RuntimeError("down")))
    send_all(engine, [("a", 1)])
    assert repository.confirmed == []


def test_each_aggregator_gets_its_own_memory_repository(engine):
    engine.add_routes(lambda b: b.from_("direct:a").route_id("a")
                      .aggregate(header("id"), group_bodies, completion_size=2).to("mock:a").end())
    engine.add_routes(lambda b: b.from_("direct:b").route_id("b")
                      .aggregate(header("id"), group_bodies, completion_size=2).to("mock:b").end())
    engine.start()
    engine.template.send_body("direct:a", 1, headers={"id": 1})
    engine.template.send_body("direct:b", 2, headers={"id": 1})
    repos = [aggregator(engine, r).repository for r in ("a", "b")]
    assert all(isinstance(r, MemoryAggregationRepository) for r in repos)
    assert repos[0] is not repos[1]
    assert mock(engine, "a").received_counter == mock(engine, "b").received_counter == 0


def test_memory_repository_contract():
    from eip.exchange import Exchange

    repository = MemoryAggregationRepository()
    first, second = Exchange("a"), Exchange("b")
    assert repository.get("k") is None
    assert repository.add("k", first) is None
    assert repository.add("k", second) is first
    assert repository.get("k") is second
    assert repository.keys() == {"k"}
    repository.remove("k", second)
    repository.remove("k", second)  # removing twice is harmless
    assert repository.get("k") is None and repository.keys() == set()
    repository.confirm("any-id")
    assert isinstance(repository, AggregationRepository)


def test_memory_repository_is_thread_safe():
    from eip.exchange import Exchange

    repository = MemoryAggregationRepository()

    def worker(n):
        for i in range(500):
            repository.add((n, i), Exchange(i))
            repository.keys()
            if i % 2:
                repository.remove((n, i), None)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(repository.keys()) == 4 * 250


def test_aggregate_inside_split_benchmark_shape(engine):
    engine.add_routes(lambda b: b.from_("direct:in")
                      .choice()
                      .when(header("t") == "a").set_header("branch", "A")
                      .when(header("t") == "b").set_header("branch", "B")
                      .otherwise().set_header("branch", "C")
                      .end()
                      .split(body()).transform(lambda ex: ex.message.body * 2)
                      .aggregate(header("cid"), group_bodies, completion_size=5).to("mock:out").end()
                      .end())
    engine.start()
    for i in range(30):
        engine.template.send_body("direct:in", [1, 2, 3, 4, 5], headers={"t": "abc"[i % 3], "cid": i})
    out = mock(engine, "out")
    assert out.received_bodies == [[2, 4, 6, 8, 10]] * 30
    assert [ex.message.headers["branch"] for ex in out.received_exchanges[:3]] == ["A", "B", "C"]


def test_a_repository_without_the_protocol_methods_is_named_with_what_it_lacks(engine):
    class Incomplete:
        def add(self, key, exchange): ...
        def get(self, key): ...

    with pytest.raises(ConfigurationError, match=r"aggregate\(\) repository Incomplete lacks remove, keys, confirm\(\): use an AggregationRepository"):
        engine.add_routes(lambda b: b.from_("direct:in").aggregate(header("id"), group_bodies, completion_size=2,
                                                                   repository=Incomplete()).to("mock:out").end())

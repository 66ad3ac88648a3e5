"""Load balancer: round robin, random, weighted, sticky and failover over the block's steps."""

from __future__ import annotations

import random
import threading
from collections import Counter

import pytest

from eip import ConfigurationError, header
from eip.exchange import Exchange
from eip.processors.load_balance import (
    RandomProcessor,
    WeightedRandomProcessor,
    WeightedRoundRobinProcessor,
)


def start(engine, configure):
    engine.add_routes(configure)
    engine.start()


def three_targets(b, policy, **options):
    return (b.from_("direct:in").load_balance(policy, **options)
            .to("mock:a").to("mock:b").to("mock:c").end().to("mock:after"))


def bodies(engine, *names):
    return [engine.get_endpoint(f"mock:{name}").received_bodies for name in names]


def fail(exc):
    def raise_(ex):
        raise exc
    return raise_


def test_round_robin(engine):
    start(engine, lambda b: three_targets(b, "round_robin"))
    for n in range(7):
        engine.template.send_body("direct:in", n)
    assert bodies(engine, "a", "b", "c") == [[0, 3, 6], [1, 4], [2, 5]]
    assert engine.get_endpoint("mock:after").received_counter == 7


def test_round_robin_is_thread_safe(engine):
    start(engine, lambda b: three_targets(b, "round_robin"))
    barrier = threading.Barrier(4)

    def send():
        barrier.wait()
        for n in range(30):
            engine.template.send_body("direct:in", n)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [len(b) for b in bodies(engine, "a", "b", "c")] == [40, 40, 40]


def test_a_pipeline_step_is_one_target(engine):
    start(engine, lambda b: b.from_("direct:in").load_balance()
          .pipeline().to("mock:a1").to("mock:a2").end()
          .to("mock:b").end())
    for n in range(3):
        engine.template.send_body("direct:in", n)
    assert bodies(engine, "a1", "a2", "b") == [[0, 2], [0, 2], [1]]


def test_random_uses_every_target(engine):
    start(engine, lambda b: three_targets(b, "random"))
    for n in range(200):
        engine.template.send_body("direct:in", n)
    counts = [len(b) for b in bodies(engine, "a", "b", "c")]
    assert sum(counts) == 200 and min(counts) > 20  # P(fail) is astronomically small


def test_random_processor_with_a_seeded_generator():
    seen = []
    targets = [type("T", (), {"process": lambda self, ex, i=i: seen.append(i)})() for i in range(3)]
    processor = RandomProcessor(targets, random.Random(7))
    for _ in range(5):
        processor.process(Exchange())
    rng = random.Random(7)
    assert seen == [rng.randrange(3) for _ in range(5)]


def test_weighted_round_robin_follows_camels_order(engine):
    start(engine, lambda b: three_targets(b, "weighted", weights=(3, 1, 2), round_robin=True))
    for n in range(12):
        engine.template.send_body("direct:in", n)
    # cycle: a b c a c a | a b c a c a
    assert bodies(engine, "a", "b", "c") == [[0, 3, 5, 6, 9, 11], [1, 7], [2, 4, 8, 10]]


def test_weighted_round_robin_processor_skips_zero_weights():
    processor = WeightedRoundRobinProcessor([None, None, None], (0, 2, 1))
    assert [processor.choose(Exchange()) for _ in range(6)] == [1, 2, 1, 1, 2, 1]


def test_weighted_random_respects_the_weights():
    processor = WeightedRandomProcessor([None, None, None], (1, 0, 3), random.Random(1))
    counts = Counter(processor.choose(Exchange()) for _ in range(4000))
    assert counts[1] == 0
    assert 2.5 < counts[2] / counts[0] < 3.5


def test_weighted_random_through_a_route(engine):
    start(engine, lambda b: three_targets(b, "weighted", weights=(0, 1, 0)))
    for n in range(5):
        engine.template.send_body("direct:in", n)
    assert bodies(engine, "a", "b", "c") == [[], [0, 1, 2, 3, 4], []]


@pytest.mark.parametrize("weights, message", [
    ((1, 2), "3 target"),
    ((0, 0, 0), "not all 0"),
    ((1, -1, 1), "integers >= 0"),
])
def test_bad_weights(engine, weights, message):
    with pytest.raises(ConfigurationError, match=message):
        engine.add_routes(lambda b: three_targets(b, "weighted", weights=weights))


def test_sticky_keeps_a_key_on_one_target(engine):
    start(engine, lambda b: three_targets(b, "sticky", sticky_expression=header("session")))
    for n, session in enumerate(["s1", "s2", "s1", "s3", "s2", "s1"]):
        engine.template.send_body("direct:in", n, headers={"session": session})
    assert bodies(engine, "a", "b", "c") == [[0, 2, 5], [1, 4], [3]]


def test_sticky_needs_an_expression(engine):
    with pytest.raises(ConfigurationError, match="sticky_expression"):
        engine.add_routes(lambda b: three_targets(b, "sticky"))


def test_no_targets_is_a_configuration_error(engine):
    with pytest.raises(ConfigurationError, match="no targets"):
        engine.add_routes(lambda b: b.from_("direct:in").load_balance().end())


# -- failover -------------------------------------------------------------------------------------

def test_failover_tries_the_next_target(engine):
    start(engine, lambda b: three_targets(b, "failover"))
    engine.get_endpoint("mock:a").when_any_exchange_received(fail(OSError("a down")))
    engine.template.send_body("direct:in", "x")
    assert [engine.get_endpoint(f"mock:{n}").received_counter for n in "abc"] == [1, 1, 0]
    assert engine.get_endpoint("mock:after").received_bodies == ["x"]


def test_failover_gives_each_attempt_a_fresh_copy(engine):
    def configure(b):
        (b.from_("direct:in").load_balance("failover")
            .pipeline().set_header("touched", "a").to("mock:a").end()
            .to("mock:b").end()
            .to("mock:after"))

    start(engine, configure)
    engine.get_endpoint("mock:a").when_any_exchange_received(fail(OSError("a down")))
    engine.template.send_body("direct:in", "x")
    assert "touched" not in engine.get_endpoint("mock:b").received_exchanges[0].message.headers


def test_failover_result_is_kept(engine):
    start(engine, lambda b: b.from_("direct:in").load_balance("failover")
          .process(fail(OSError())).set_body("from b").end().to("mock:after"))
    assert engine.template.request_body("direct:in", "x") == "from b"


def test_failover_when_all_fail_raises_the_last_exception(engine):
    start(engine, lambda b: three_targets(b, "failover"))
    for name in "abc":
        engine.get_endpoint(f"mock:{name}").when_any_exchange_received(fail(OSError(f"{name} down")))
    with pytest.raises(OSError, match="c down"):
        engine.template.send_body("direct:in", "x")
    assert engine.get_endpoint("mock:after").received_counter == 0


def test_failover_only_on_the_listed_exceptions(engine):
    start(engine, lambda b: three_targets(b, "failover", failover_on=[OSError]))
    engine.get_endpoint("mock:a").when_any_exchange_received(fail(ValueError("bad data")))
    with pytest.raises(ValueError):
        engine.template.send_body("direct:in", "x")
    assert engine.get_endpoint("mock:b").received_counter == 0


def test_failover_attempts_are_limited_and_wrap_around(engine):
    start(engine, lambda b: b.from_("direct:in").load_balance("failover", maximum_failover_attempts=3)
          .to("mock:a").to("mock:b").end())
    for name in "ab":
        engine.get_endpoint(f"mock:{name}").when_any_exchange_received(fail(OSError(name)))
    with pytest.raises(OSError, match="b"):
        engine.template.send_body("direct:in", "x")
    assert [engine.get_endpoint(f"mock:{n}").received_counter for n in "ab"] == [2, 2]


def test_zero_failover_attempts_means_no_failover(engine):
    start(engine, lambda b: three_targets(b, "failover", maximum_failover_attempts=0))
    engine.get_endpoint("mock:a").when_any_exchange_received(fail(OSError("a")))
    with pytest.raises(OSError):
        engine.template.send_body("direct:in", "x")
    assert engine.get_endpoint("mock:b").received_counter == 0


def test_failover_round_robin_rotates_the_start(engine):
    start(engine, lambda b: three_targets(b, "failover", round_robin=True))
    for n in range(3):
        engine.template.send_body("direct:in", n)
    assert bodies(engine, "a", "b", "c") == [[0], [1], [2]]


def test_failover_does_not_use_the_error_handler_inside(engine):
    def configure(b):
        from eip import dead_letter_channel
        b.error_handler(dead_letter_channel("mock:dead", maximum_redeliveries=2, redelivery_delay=0))
        three_targets(b, "failover")

    start(engine, configure)
    engine.get_endpoint("mock:a").when_any_exchange_received(fail(OSError("a")))
    engine.template.send_body("direct:in", "x")
    assert engine.get_endpoint("mock:a").received_counter == 1  # not redelivered to a
    assert engine.get_endpoint("mock:b").received_counter == 1
    assert engine.get_endpoint("mock:dead").received_counter == 0


def test_bad_failover_options(engine):
    with pytest.raises(ConfigurationError, match="exception classes"):
        engine.add_routes(lambda b: three_targets(b, "failover", failover_on=["OSError"]))
    with pytest.raises(ConfigurationError, match="maximum_failover_attempts"):
        engine.add_routes(lambda b: three_targets(b, "failover", maximum_failover_attempts=-2))

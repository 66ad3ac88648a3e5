"""Concurrency: seda consumers lose and duplicate nothing, stop under load accounts for every
exchange, and failures in consumer threads end in the error handler without hanging a thread."""

from __future__ import annotations

import threading
import time
from collections import Counter

from eip import Engine, Exchange, RouteBuilder, dead_letter_channel
from eip.errors import ExchangeDiscardedError, QueueClosedError, QueueFullError
from eip.testing import Notifier, eventually
from eip.unit_of_work import UnitOfWork


def routes(fn):
    class Routes(RouteBuilder):
        def configure(self) -> None:
            fn(self)
    return Routes()


def test_four_consumers_really_run_at_the_same_time(engine: Engine) -> None:
    barrier = threading.Barrier(4, timeout=5)  # breaks unless four exchanges run concurrently
    engine.add_routes(routes(lambda r: r.from_("seda:in?concurrent_consumers=4")
                             .process(lambda ex: barrier.wait()).to("mock:out")))
    engine.start()
    for i in range(4):
        engine.template.send_body("seda:in", i)
    out = engine.get_endpoint("mock:out")
    out.expected_bodies_received_in_any_order(0, 1, 2, 3)
    out.assert_is_satisfied(5)
    assert engine.route_stats(engine.route_ids()[0])["exchanges_failed"] == 0


def test_ten_thousand_messages_over_four_consumers_lose_and_duplicate_nothing(engine: Engine) -> None:
    received: list[int] = []
    threads_seen: set[str] = set()

    def record(ex: Exchange) -> None:
        received.append(ex.message.body)
        threads_seen.add(threading.current_thread().name)

    engine.add_routes(routes(lambda r: r.from_("seda:in?concurrent_consumers=4&size=100&block_when_full=true")
                             .route_id("r").process(record)))
    engine.start()
    total, senders = 10_000, 4

    def send(start: int) -> None:
        for body in range(start, total, senders):
            engine.template.send_body("seda:in", body)

    producers = [threading.Thread(target=send, args=(i,)) for i in range(senders)]
    for p in producers:
        p.start()
    for p in producers:
        p.join(30)
    eventually(lambda: engine.route_stats("r")["exchanges_completed"] >= total, timeout=10)
    assert engine.stop(timeout=5) == {}
    assert Counter(received) == Counter(range(total))  # the exact multiset: no loss, no duplicate
    assert len(received) == total
    consumer_threads = {t.name for t in engine.route("r").consumer.threads}
    assert threads_seen <= consumer_threads and len(consumer_threads) == 4
    stats = engine.route_stats("r")
    assert (stats["exchanges_completed"], stats["exchanges_failed"], stats["exchanges_in_flight"]) == (total, 0, 0)


def test_stop_under_load_leaves_no_exchange_unaccounted_for() -> None:
    """completed + failed + rejected == sent, each exchange counted exactly once."""
    engine = Engine()
    engine.add_routes(routes(lambda r: r.from_("seda:in?concurrent_consumers=4&size=200&block_when_full=true")
                             .route_id("r").process(lambda ex: time.sleep(0.002)).to("mock:out")))
    engine.start()
    lock = threading.Lock()
    completed: set[int] = set()
    failed: dict[int, BaseException | None] = {}
    rejected: dict[int, BaseException] = {}
    sent: list[int] = []

    def on_complete(ex: Exchange) -> None:
        with lock:
            assert ex.message.body not in completed and ex.message.body not in failed
            completed.add(ex.message.body)

    def on_failure(ex: Exchange) -> None:
        with lock:
            assert ex.message.body not in completed and ex.message.body not in failed
            failed[ex.message.body] = ex.exception

    counter = iter(range(10**9))

    def send() -> None:
        while True:
            with lock:
                body = next(counter)
                sent.append(body)
            exchange = Exchange(body)
            exchange.unit_of_work = UnitOfWork()  # not owned by a route: the seda route completes it
            exchange.unit_of_work.add_synchronization(on_complete, on_failure)
            engine.template.send("seda:in", exchange)
            if exchange.exception is not None:
                with lock:
                    rejected[body] = exchange.exception
                return  # the engine is stopping: this sender is done

    producers = [threading.Thread(target=send) for _ in range(4)]
    for p in producers:
        p.start()
    eventually(lambda: len(completed) >= 200, timeout=10)
    unfinished = engine.stop(timeout=0.05)  # far too short to drain a full queue of slow work
    for p in producers:
        p.join(10)
        assert not p.is_alive()

    def accounted() -> int:
        with lock:
            return len(completed) + len(failed) + len(rejected)

    eventually(lambda: accounted() == len(sent), 5, f"all {len(sent)} sent exchanges completed, failed or rejected")
    assert completed.isdisjoint(failed) and completed.isdisjoint(rejected) and set(failed).isdisjoint(rejected)
    assert set(sent) == completed | set(failed) | set(rejected)
    assert len(rejected) == 4 and all(isinstance(e, (QueueClosedError, QueueFullError)) for e in rejected.values())
    assert failed and all(isinstance(e, ExchangeDiscardedError) for e in failed.values())
    assert engine.get_endpoint("mock:out").received_counter == len(completed)
    assert len(unfinished.get("r", [])) <= 4  # at most one per consumer thread
    assert engine.route("r").consumer.join(5)


def test_a_failing_processor_ends_in_the_dead_letter_channel_and_no_thread_hangs(engine: Engine) -> None:
    def odd_fails(ex: Exchange) -> None:
        if ex.message.body % 2:
            raise ValueError(f"odd {ex.message.body}")

    def build(r: RouteBuilder) -> None:
        (r.from_("seda:in?concurrent_consumers=2").route_id("dlc")
         .error_handler(dead_letter_channel("mock:dead", redelivery_delay=0, maximum_redeliveries=1))
         .process(odd_fails).to("mock:out"))

    engine.add_routes(routes(build))
    engine.start()
    counted = Notifier(engine, "dlc", done=101)  # a mock sees a message before its route's stats count it
    for i in range(100):
        engine.template.send_body("seda:in", i)
    dead, out = engine.get_endpoint("mock:dead"), engine.get_endpoint("mock:out")
    dead.expected_bodies_received_in_any_order(*range(1, 100, 2))
    out.expected_bodies_received_in_any_order(*range(0, 100, 2))
    dead.assert_is_satisfied(5)
    out.assert_is_satisfied(5)
    assert all("ValueError: odd" in ex.message.headers["CamelDeadLetterCause"] for ex in dead.received_exchanges)
    # handled by the dead letter channel: a waiting caller gets no exception
    assert engine.template.request_body("seda:in", 101) == 101
    consumer = engine.route("dlc").consumer
    assert all(t.is_alive() for t in consumer.threads)
    assert counted.wait(5)
    stats = engine.route_stats("dlc")
    assert stats["exchanges_completed"] == 101 and stats["exchanges_failed"] == 0
    assert engine.stop(timeout=5) == {}
    assert consumer.join(5)


def test_an_unhandled_failure_reaches_a_waiting_caller_and_the_threads_go_on(engine: Engine) -> None:
    def fail_on_boom(ex: Exchange) -> None:
        if ex.message.body == "boom":
            raise RuntimeError("boom")

    engine.add_routes(routes(lambda r: r.from_("seda:in").route_id("r").process(fail_on_boom).to("mock:out")))
    engine.start()
    for _ in range(3):
        try:
            engine.template.request_body("seda:in", "boom")
        except RuntimeError as exc:
            assert str(exc) == "boom"
        else:
            raise AssertionError("the route's failure must reach the caller")
    assert engine.template.request_body("seda:in", "fine") == "fine"
    assert engine.route_stats("r")["exchanges_failed"] == 3


def test_a_raising_listener_neither_kills_a_consumer_thread_nor_skips_the_unit_of_work(engine: Engine) -> None:
    def bad_listener(route_id: str, exchange: Exchange) -> None:
        raise RuntimeError("listener bug")

    engine.add_routes(routes(lambda r: r.from_("seda:in").route_id("r").to("mock:out")))
    engine.add_listener(bad_listener)
    engine.start()
    done = threading.Event()
    exchange = Exchange("x")
    exchange.unit_of_work = UnitOfWork()
    exchange.unit_of_work.on_completion(lambda ex: done.set())
    engine.template.send("seda:in", exchange)
    assert done.wait(5)
    assert engine.template.request_body("seda:in", "y") == "y"
    assert all(t.is_alive() for t in engine.route("r").consumer.threads)

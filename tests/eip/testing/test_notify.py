"""Notifier: waiting on real routes for N done/completed/failed exchanges, across threads."""

from __future__ import annotations

import threading

import pytest

from eip import (
    ConfigurationError,
    Engine,
    Exchange,
    RouteBuilder,
    dead_letter_channel,
    header,
)
from eip.testing import Notifier, mock_endpoint


def fail_on_bad(exchange):  # type: ignore[no-untyped-def]
    if exchange.message.body == "bad":
        raise ValueError("bad message")


class Routes(RouteBuilder):
    def configure(self) -> None:
        self.from_("direct:a").route_id("a").process(fail_on_bad).to("direct:b").to("mock:a")
        self.from_("direct:b").route_id("b").to("mock:b")
        (self.from_("direct:dlc").route_id("dlc")
            .error_handler(dead_letter_channel("mock:dead"))
            .process(fail_on_bad))


@pytest.fixture
def routes(engine: Engine) -> Engine:
    engine.add_routes(Routes())
    engine.start()
    return engine


def test_done_counts_each_exchange_once_across_direct_routes(routes: Engine) -> None:
    notifier = Notifier(routes, done=2)
    routes.template.send_body("direct:a", 1)
    assert not notifier.matches()
    routes.template.send_body("direct:a", 2)
    assert notifier.wait(timeout=1)
    assert (notifier.done_count, notifier.completed_count, notifier.failed_count) == (2, 2, 0)


def test_route_id_counts_every_pass_through_that_route(routes: Engine) -> None:
    via_b = Notifier(routes, "b", done=3)
    for i in range(3):
        routes.template.send_body("direct:a", i)
    assert via_b.wait(timeout=1)
    assert mock_endpoint(routes, "b").received_counter == 3


def test_failed_and_completed(routes: Engine) -> None:
    notifier = Notifier(routes, "a", completed=1, failed=2)
    routes.template.send("direct:a", _exchange("bad"))
    routes.template.send("direct:a", _exchange("good"))
    assert not notifier.matches()  # one failure is not enough
    routes.template.send("direct:a", _exchange("bad"))
    assert notifier.wait(timeout=1)
    assert (notifier.done_count, notifier.completed_count, notifier.failed_count) == (3, 1, 2)


def test_a_failure_handled_by_the_dead_letter_channel_counts_as_completed(routes: Engine) -> None:
    notifier = Notifier(routes, "dlc", done=1)
    routes.template.send_body("direct:dlc", "bad")
    assert notifier.wait(timeout=1)
    assert (notifier.completed_count, notifier.failed_count) == (1, 0)
    assert mock_endpoint(routes, "dead").received_bodies == ["bad"]


def test_counts_after_the_unit_of_work_is_done(routes: Engine) -> None:
    notifier = Notifier(routes)  # no condition: done=1
    seen_at_ack: list[int] = []

    class AckRoute(RouteBuilder):
        def configure(self) -> None:
            self.from_("direct:ack").process(
                lambda ex: ex.unit_of_work.on_completion(lambda _: seen_at_ack.append(notifier.done_count)))
    routes.add_routes(AckRoute())
    routes.template.send_body("direct:ack", "x")
    assert notifier.wait(timeout=1)
    assert seen_at_ack == [0]  # the source was acknowledged before the notifier counted it


def test_filter(routes: Engine) -> None:
    notifier = Notifier(routes, "b", done=1, filter=header("vip") == True)
    routes.template.send_body("direct:a", "plain")
    assert not notifier.matches()
    routes.template.send_body("direct:a", "gold", headers={"vip": True})
    assert notifier.matches()
    assert notifier.done_count == 1


def test_a_filter_that_raises_is_reported_by_wait(routes: Engine) -> None:
    notifier = Notifier(routes, "a", filter=lambda ex: ex.message.body["key"])
    routes.template.send_body("direct:a", "not a dict")  # the route itself is not disturbed
    assert mock_endpoint(routes, "a").received_counter == 1
    with pytest.raises(TypeError):
        notifier.wait(timeout=1)


def test_wait_times_out_with_false_and_assert_matches_shows_counts(routes: Engine) -> None:
    notifier = Notifier(routes, "a", done=2)
    routes.template.send_body("direct:a", 1)
    assert notifier.wait(timeout=0.05) is False
    with pytest.raises(AssertionError, match=r"route 'a': want done>=2; got done=1, completed=1, failed=0"):
        notifier.assert_matches(timeout=0.05)


def test_the_listener_is_removed_when_matched_or_closed(routes: Engine) -> None:
    others = list(routes.listeners)
    matched = Notifier(routes, "a")
    closed = Notifier(routes, "a", done=5)
    with Notifier(routes, "b") as scoped:
        assert len(routes.listeners) == len(others) + 3
    routes.template.send_body("direct:a", 1)
    assert matched.wait(timeout=1)
    closed.close()
    closed.close()  # twice is harmless
    assert routes.listeners == others
    routes.template.send_body("direct:a", 2)
    assert (matched.done_count, closed.done_count, scoped.done_count) == (1, 1, 0)


def test_unknown_route(routes: Engine) -> None:
    with pytest.raises(ConfigurationError, match="no route 'nope'"):
        Notifier(routes, "nope")


def test_thread_safe_under_concurrent_senders(routes: Engine) -> None:
    threads_, per_thread = 8, 50
    notifier = Notifier(routes, "b", done=threads_ * per_thread)
    everything = Notifier(routes, done=threads_ * per_thread)

    def sender(n: int) -> None:
        for i in range(per_thread):
            routes.template.send_body("direct:a", (n, i))
    threads = [threading.Thread(target=sender, args=(n,)) for n in range(threads_)]
    for thread in threads:
        thread.start()
    assert notifier.wait(timeout=10)
    assert everything.wait(timeout=10)
    for thread in threads:
        thread.join()
    assert notifier.done_count == everything.done_count == threads_ * per_thread


def test_routes_running_on_consumer_threads(engine: Engine) -> None:
    engine.add_routes(lambda b: b.from_("seda:work?concurrent_consumers=4").route_id("work").to("mock:work"))
    engine.start()
    notifier = Notifier(engine, "work", done=40)
    for i in range(40):
        engine.template.send_body("seda:work", i)
    assert notifier.wait(timeout=10)
    assert notifier.completed_count == 40


def _exchange(body: object) -> Exchange:
    return Exchange(body)

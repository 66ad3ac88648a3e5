"""ScheduledPollingConsumer: schedule, greedy, back-off, error streaks, prompt stop.

Tested through a small in-test polling component, ``box:NAME``, whose consumer takes messages
from a list (or raises what the test queued)."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from typing import Any

import pytest

from eip import EndpointOptionError, Engine, RouteBuilder
from eip.component import Component, Consumer
from eip.options import Option, OptionSpec
from eip.polling import POLLING_OPTIONS, ScheduledPollEndpoint, ScheduledPollingConsumer
from eip.testing import eventually


class BoxConsumer(ScheduledPollingConsumer):
    endpoint: BoxEndpoint

    def poll(self) -> int:
        box = self.endpoint
        box.poll_times.append(time.monotonic())
        if box.failures:
            raise box.failures.popleft()
        count = 0
        limit = self.max_messages_per_poll or len(box.messages)
        while box.messages and count < limit and self.is_run_allowed():
            self.processor.process(self.create_exchange(box.messages.popleft()))
            count += 1
        return count


class BoxEndpoint(ScheduledPollEndpoint):
    options = OptionSpec(POLLING_OPTIONS + (Option("label", "str", "", "An option of the box itself."),))

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.messages: deque[Any] = deque()
        self.failures: deque[Exception] = deque()
        self.poll_times: list[float] = []

    def create_consumer(self, processor: Any) -> Consumer:
        return BoxConsumer(self, processor)


class BoxComponent(Component):
    endpoint_class = BoxEndpoint


class Recorder:
    """A route entry stand-in for driving ``run_once()`` without threads."""

    def __init__(self) -> None:
        self.bodies: list[Any] = []

    def process(self, exchange: Any) -> None:
        self.bodies.append(exchange.message.body)


@pytest.fixture
def box_engine(engine: Engine) -> Engine:
    engine.add_component("box", BoxComponent)
    return engine


def consumer_for(engine: Engine, uri: str) -> tuple[BoxConsumer, BoxEndpoint, Recorder]:
    endpoint = engine.get_endpoint(uri)
    recorder = Recorder()
    return endpoint.create_consumer(recorder), endpoint, recorder


def routes(fn):
    class Routes(RouteBuilder):
        def configure(self) -> None:
            fn(self)
    return Routes()


# -- options -----------------------------------------------------------------------------------
def test_options_come_from_the_endpoint(box_engine: Engine) -> None:
    consumer, _, _ = consumer_for(box_engine, "box:a?delay=2s&initial_delay=100ms&max_messages_per_poll=5"
                                              "&greedy=true&backoff_multiplier=3&backoff_idle_threshold=2")
    assert (consumer.delay, consumer.initial_delay, consumer.max_messages_per_poll, consumer.greedy) == \
        (2.0, 0.1, 5, True)
    assert (consumer.backoff_multiplier, consumer.backoff_idle_threshold, consumer.backoff_error_threshold) == \
        (3, 2, 0)


def test_defaults_are_camels() -> None:
    defaults = {o.name: o.default for o in POLLING_OPTIONS}
    assert defaults["delay"] == 0.5 and defaults["initial_delay"] == 1.0
    assert defaults["max_messages_per_poll"] == 0 and defaults["greedy"] is False
    assert defaults["backoff_multiplier"] == 0


@pytest.mark.parametrize(("uri", "message"), [
    ("box:a?backoff_multiplier=2", "needs backoff_idle_threshold and/or backoff_error_threshold"),
    ("box:a?delay=-1", "delay must not be negative"),
    ("box:a?max_mesages_per_poll=3", "did you mean 'max_messages_per_poll'"),
])
def test_bad_polling_options_are_rejected(box_engine: Engine, uri: str, message: str) -> None:
    with pytest.raises(EndpointOptionError, match=message):
        box_engine.get_endpoint(uri)


# -- one run at a time (no threads) ---------------------------------------------------------
def test_max_messages_per_poll_is_left_to_poll(box_engine: Engine) -> None:
    consumer, box, recorder = consumer_for(box_engine, "box:a?max_messages_per_poll=2")
    box.messages.extend("abcde")
    assert [consumer.run_once() for _ in range(4)] == [2, 2, 1, 0]
    assert recorder.bodies == list("abcde")


def test_backoff_when_idle_skips_the_multiplier_polls_then_starts_counting_again(box_engine: Engine) -> None:
    consumer, box, _ = consumer_for(box_engine, "box:a?backoff_multiplier=3&backoff_idle_threshold=2")
    runs = [consumer.run_once() for _ in range(12)]
    # two idle polls, three skipped, then counters reset: as Camel's ScheduledPollConsumer
    assert runs == [0, 0, None, None, None, 0, 0, None, None, None, 0, 0]
    assert len(box.poll_times) == 6


def test_a_poll_that_finds_messages_resets_the_idle_count(box_engine: Engine) -> None:
    consumer, box, _ = consumer_for(box_engine, "box:a?backoff_multiplier=2&backoff_idle_threshold=2")
    assert consumer.run_once() == 0
    box.messages.append("x")
    assert consumer.run_once() == 1
    assert [consumer.run_once() for _ in range(5)] == [0, 0, None, None, 0]


def test_backoff_on_errors(box_engine: Engine) -> None:
    consumer, box, _ = consumer_for(box_engine, "box:a?backoff_multiplier=2&backoff_error_threshold=3")
    box.failures.extend(OSError("down") for _ in range(10))
    runs = [consumer.run_once() for _ in range(8)]
    assert runs == [0, 0, 0, None, None, 0, 0, 0]
    assert consumer.consecutive_errors == 3
    assert isinstance(consumer.last_error, OSError)


def test_idle_threshold_alone_ignores_errors(box_engine: Engine) -> None:
    consumer, box, _ = consumer_for(box_engine, "box:a?backoff_multiplier=2&backoff_idle_threshold=1")
    box.failures.extend(OSError("down") for _ in range(5))
    assert [consumer.run_once() for _ in range(5)] == [0, 0, 0, 0, 0]  # failing, never idle


def test_an_error_streak_is_logged_once_and_recovery_once(box_engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    consumer, box, _ = consumer_for(box_engine, "box:a")
    box.failures.extend([OSError("disk gone"), OSError("disk gone"), OSError("disk gone")])
    caplog.set_level(logging.INFO, logger="eip.polling")
    for _ in range(5):
        assert consumer.run_once() == 0
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "disk gone" in warnings[0].getMessage()
    assert warnings[0].exc_info is not None
    infos = [r for r in caplog.records if r.levelno == logging.INFO]
    assert len(infos) == 1 and "recovered after 3 failed poll(s)" in infos[0].getMessage()
    assert consumer.consecutive_errors == 0 and consumer.last_error is None
    # a new streak is logged again
    box.failures.append(OSError("again"))
    consumer.run_once()
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 2


def test_send_empty_message_when_idle(box_engine: Engine) -> None:
    consumer, box, recorder = consumer_for(box_engine, "box:a?send_empty_message_when_idle=true")
    assert consumer.run_once() == 0
    box.messages.append("x")
    assert consumer.run_once() == 1
    assert recorder.bodies == [None, "x"]


# -- with the thread -----------------------------------------------------------------------------
def test_a_route_polls_on_its_schedule_and_keeps_running_after_errors(box_engine: Engine) -> None:
    box_engine.add_routes(routes(lambda r: r.from_("box:in?delay=0.01&initial_delay=0").route_id("r")
                                 .to("mock:out")))
    box = box_engine.get_endpoint("box:in")
    box.failures.extend([RuntimeError("flaky"), RuntimeError("flaky")])
    box.messages.extend([1, 2, 3])
    box_engine.start()
    out = box_engine.get_endpoint("mock:out")
    out.expected_bodies_received(1, 2, 3)
    out.assert_is_satisfied(5)
    assert box_engine.route("r").consumer.consecutive_errors == 0
    assert box_engine.route_stats("r")["exchanges_completed"] == 3


def test_delay_is_measured_between_polls(box_engine: Engine) -> None:
    box_engine.add_routes(routes(lambda r: r.from_("box:in?delay=0.05&initial_delay=0").route_id("r")
                                 .to("mock:out")))
    box = box_engine.get_endpoint("box:in")
    box_engine.start()
    eventually(lambda: len(box.poll_times) >= 4, what="four polls")
    times = list(box.poll_times[:4])
    assert all(b - a >= 0.049 for a, b in itertools.pairwise(times))


def test_greedy_polls_again_at_once_while_there_are_messages(box_engine: Engine) -> None:
    box_engine.add_routes(routes(lambda r: r.from_("box:in?delay=30&initial_delay=0&greedy=true"
                                                   "&max_messages_per_poll=1").route_id("r").to("mock:out")))
    box = box_engine.get_endpoint("box:in")
    box.messages.extend(range(5))
    box_engine.start()
    out = box_engine.get_endpoint("mock:out")
    out.expected_bodies_received(0, 1, 2, 3, 4)
    out.assert_is_satisfied(5)  # without greedy this would take 4 delays of 30 s
    assert len(box.poll_times) == 6  # five with a message, then one that found nothing


def test_stop_wakes_the_thread_at_once(box_engine: Engine) -> None:
    box_engine.add_routes(routes(lambda r: r.from_("box:in?delay=60&initial_delay=0").route_id("r")
                                 .to("mock:out")))
    box = box_engine.get_endpoint("box:in")
    box_engine.start()
    eventually(lambda: box.poll_times, what="the first poll")
    thread = box_engine.route("r").consumer.thread
    started = time.monotonic()
    box_engine.stop_route("r", timeout=1)
    thread.join(2)
    assert not thread.is_alive()
    assert time.monotonic() - started < 1


def test_stop_during_the_initial_delay(box_engine: Engine) -> None:
    box_engine.add_routes(routes(lambda r: r.from_("box:in?initial_delay=60").route_id("r").to("mock:out")))
    box = box_engine.get_endpoint("box:in")
    box_engine.start()
    thread = box_engine.route("r").consumer.thread
    box_engine.stop()
    thread.join(2)
    assert not thread.is_alive()
    assert box.poll_times == []


def test_a_poll_stops_taking_messages_once_stopped(box_engine: Engine) -> None:
    stopped = threading.Event()

    def stop_after_first(ex: Any) -> None:
        threading.Thread(target=lambda: (box_engine.stop_route("r", timeout=2), stopped.set())).start()
        # give stop() time to flag the consumer before this message returns
        deadline = time.monotonic() + 2
        while box_engine.route("r").consumer.is_run_allowed() and time.monotonic() < deadline:
            time.sleep(0.005)

    box_engine.add_routes(routes(lambda r: r.from_("box:in?initial_delay=0").route_id("r")
                                 .process(stop_after_first).to("mock:out")))
    box = box_engine.get_endpoint("box:in")
    box.messages.extend([1, 2, 3])
    box_engine.start()
    assert stopped.wait(5)
    assert box_engine.get_endpoint("mock:out").received_bodies == [1]
    assert list(box.messages) == [2, 3]


def test_a_poll_still_running_after_a_quick_stop_and_start_takes_no_more_messages(box_engine: Engine) -> None:
    """The old poll asks its own thread's stop event, not the new thread's: two polls never take
    messages side by side (a table without row locks would see one row processed twice)."""
    endpoint = box_engine.get_endpoint("box:quick?initial_delay=0&delay=0.01")
    entered, release = threading.Event(), threading.Event()
    allowed_in_old_poll: list[bool] = []

    class HeldFirstPoll(BoxConsumer):
        def poll(self) -> int:
            if not entered.is_set():
                entered.set()
                release.wait(5)  # still "between SELECT and processing" when the route restarts
                allowed_in_old_poll.append(self.is_run_allowed())
                return 0
            return super().poll()

    consumer = HeldFirstPoll(endpoint, Recorder())
    consumer.start()
    assert entered.wait(5)
    old_thread = consumer.thread
    consumer.stop()
    consumer.start()
    release.set()
    assert old_thread is not None
    old_thread.join(5)
    consumer.stop()
    assert allowed_in_old_poll == [False]


def test_an_exchange_is_in_flight_until_its_source_is_settled(box_engine: Engine) -> None:
    """The source's settlement (a file move, a row mark, a commit) runs in ``uow.done``; until it
    finished, the exchange counts as in flight, so ``stop_route`` waits for it and a restarted
    poll never sees a message that is still being settled."""
    seen_in_flight: list[int] = []
    settled = threading.Event()

    def settle(exchange: Any) -> None:
        seen_in_flight.append(box_engine.route_stats("r")["exchanges_in_flight"])
        settled.set()

    box_engine.add_routes(
        lambda b: b.from_("box:settle?initial_delay=0").route_id("r").process(
            lambda ex: ex.unit_of_work.on_completion(settle)
        )
    )
    box_engine.get_endpoint("box:settle").messages.append("m-1")
    box_engine.start()
    assert settled.wait(5)
    assert seen_in_flight == [1]

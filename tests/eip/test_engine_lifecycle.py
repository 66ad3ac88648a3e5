"""Engine lifecycle: graceful stop, per-route start/stop, statistics, context manager, failed
start, validation before anything runs, direct: without a consumer."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from eip import (
    ConfigurationError,
    EndpointOptionError,
    Engine,
    Exchange,
    NoConsumerError,
    RouteBuilder,
    UnknownComponentError,
)
from eip.component import Component, Consumer, Endpoint
from eip.errors import QueueClosedError
from eip.testing import eventually
from eip.unit_of_work import UnitOfWork


def routes(fn):
    class Routes(RouteBuilder):
        def configure(self) -> None:
            fn(self)
    return Routes()


class Gate:
    """A slow processor: blocks until opened; remembers the exchanges it holds."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.opened = threading.Event()
        self.exchange_ids: list[str] = []

    def __call__(self, exchange: Exchange) -> None:
        self.exchange_ids.append(exchange.exchange_id)
        self.entered.set()
        assert self.opened.wait(10), "gate never opened"


def stop_in_background(engine: Engine, timeout: float) -> tuple[threading.Thread, dict[str, Any]]:
    result: dict[str, Any] = {}

    def run() -> None:
        started = time.monotonic()
        result["unfinished"] = engine.stop(timeout=timeout)
        result["took"] = time.monotonic() - started

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    eventually(lambda: engine.state == "stopping")
    return thread, result


# -- graceful stop -----------------------------------------------------------------------------
def test_graceful_stop_stops_consumers_first_and_lets_a_slow_exchange_finish() -> None:
    engine = Engine()
    gate = Gate()

    def build(r: RouteBuilder) -> None:
        r.from_("seda:work").route_id("slow").process(gate).to("mock:out")
        r.from_("direct:other").route_id("other").to("mock:other")

    engine.add_routes(routes(build))
    engine.start()
    engine.template.send_body("direct:other", "before")  # (the template's producer is made now)
    engine.template.send_body("seda:work", "slow one")
    assert gate.entered.wait(5)
    thread, result = stop_in_background(engine, timeout=5)
    # consumers are stopped while the slow exchange is still in flight...
    eventually(lambda: engine.route("other").state == "stopped")
    # ...but direct: routes stay callable until the others drained (Camel's ShutdownRoute.Defer),
    # so in-flight exchanges that call them can still finish
    engine.template.send_body("direct:other", "during stop")
    assert engine.route_stats("slow")["exchanges_in_flight"] == 1
    gate.opened.set()
    thread.join(5)
    assert result["unfinished"] == {}
    assert engine.get_endpoint("mock:out").received_bodies == ["slow one"]
    assert engine.get_endpoint("mock:other").received_bodies == ["before", "during stop"]
    assert engine.state == "stopped"
    with pytest.raises(NoConsumerError):
        engine.template.send_body("direct:other", "too late")


def test_engine_stop_drains_the_seda_queue_within_the_timeout() -> None:
    engine = Engine()
    gate = Gate()
    engine.add_routes(routes(lambda r: r.from_("seda:work?concurrent_consumers=2").route_id("slow")
                             .process(gate).to("mock:out")))
    engine.start()
    for i in range(10):
        engine.template.send_body("seda:work", i)
    eventually(lambda: len(gate.exchange_ids) == 2)
    assert engine.get_endpoint("seda:work").queue_size == 8
    thread, result = stop_in_background(engine, timeout=5)
    gate.opened.set()
    thread.join(5)
    assert result["unfinished"] == {}
    out = engine.get_endpoint("mock:out")
    assert sorted(out.received_bodies) == list(range(10))
    with pytest.raises(QueueClosedError):
        engine.template.send_body("seda:work", "after stop")


def test_engine_stop_waits_for_queued_exchanges_not_only_those_in_flight() -> None:
    """Between two exchanges a consumer thread has none in flight; the queue must still count."""
    engine = Engine()
    gate = Gate()
    engine.add_routes(routes(lambda r: r.from_("seda:work").route_id("slow").process(gate).to("mock:out")))
    # runs after the route took the exchange off its in-flight list, before the next one starts
    engine.add_listener(lambda route_id, exchange: time.sleep(0.03))
    engine.start()
    acknowledged: list[int] = []
    for i in range(5):
        exchange = Exchange(i)
        exchange.unit_of_work = UnitOfWork()  # completed by the seda route, after the listener
        exchange.unit_of_work.on_completion(lambda ex: acknowledged.append(ex.message.body))
        engine.template.send("seda:work", exchange)
    assert gate.entered.wait(5)
    thread, result = stop_in_background(engine, timeout=5)
    gate.opened.set()
    thread.join(5)
    assert result["unfinished"] == {}
    assert acknowledged == [0, 1, 2, 3, 4]  # every one, before stop() returned
    assert engine.get_endpoint("mock:out").received_bodies == [0, 1, 2, 3, 4]


def test_stop_returns_the_ids_of_exchanges_still_in_flight_when_the_timeout_is_too_short() -> None:
    engine = Engine()
    gate = Gate()
    engine.add_routes(routes(lambda r: r.from_("seda:work").route_id("slow").process(gate).to("mock:out")))
    engine.start()
    engine.template.send_body("seda:work", "stuck")
    assert gate.entered.wait(5)
    started = time.monotonic()
    unfinished = engine.stop(timeout=0.1)
    assert time.monotonic() - started < 2
    assert unfinished == {"slow": gate.exchange_ids}
    assert engine.state == "stopped"
    gate.opened.set()  # it still finishes afterwards, on its own thread
    engine.get_endpoint("mock:out").expected_bodies_received("stuck")
    engine.get_endpoint("mock:out").assert_is_satisfied(5)


def test_a_template_send_to_a_new_uri_during_stop_does_not_deadlock() -> None:
    engine = Engine()
    gate = Gate()
    engine.add_routes(routes(lambda r: r.from_("seda:work").route_id("slow").process(gate)))
    engine.start()
    engine.template.send_body("seda:work", "held")
    assert gate.entered.wait(5)
    thread, result = stop_in_background(engine, timeout=0.2)
    errors: list[BaseException] = []

    def send() -> None:
        try:
            engine.template.send_body("direct:new", "x")  # a URI the template has no producer for yet
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    thread.join(5)
    sender.join(5)
    gate.opened.set()
    assert not thread.is_alive() and not sender.is_alive()
    assert result["unfinished"] == {"slow": gate.exchange_ids}
    assert len(errors) == 1 and isinstance(errors[0], NoConsumerError)


def test_stop_twice_is_harmless(engine: Engine) -> None:
    engine.add_routes(routes(lambda r: r.from_("direct:a").to("mock:a")))
    engine.start()
    assert engine.stop() == {}
    assert engine.stop() == {}


# -- per-route start/stop ------------------------------------------------------------------------
def test_stop_route_and_start_route(engine: Engine) -> None:
    def build(r: RouteBuilder) -> None:
        r.from_("direct:a").route_id("a").to("mock:a")
        r.from_("direct:b").route_id("b").to("mock:b")

    engine.add_routes(routes(build))
    engine.start()
    assert engine.stop_route("a") == []
    assert engine.route_stats("a")["state"] == "stopped"
    with pytest.raises(NoConsumerError):
        engine.template.send_body("direct:a", 1)
    engine.template.send_body("direct:b", 1)  # the other route runs on
    engine.start_route("a")
    assert engine.route_stats("a")["state"] == "started"
    engine.template.send_body("direct:a", 2)
    assert engine.get_endpoint("mock:a").received_bodies == [2]
    assert engine.get_endpoint("mock:b").received_bodies == [1]


def test_stop_route_waits_for_its_in_flight_exchange_or_reports_it(engine: Engine) -> None:
    gate = Gate()
    engine.add_routes(routes(lambda r: r.from_("seda:work").route_id("slow").process(gate).to("mock:out")))
    engine.start()
    engine.template.send_body("seda:work", "x")
    assert gate.entered.wait(5)
    assert engine.stop_route("slow", timeout=0.05) == gate.exchange_ids
    gate.opened.set()
    engine.get_endpoint("mock:out").expected_message_count(1)
    engine.get_endpoint("mock:out").assert_is_satisfied(5)
    assert engine.route_stats("slow")["exchanges_in_flight"] == 0


def test_unknown_route_id_is_a_clear_error(engine: Engine) -> None:
    engine.add_routes(routes(lambda r: r.from_("direct:a").route_id("a").to("mock:a")))
    with pytest.raises(ConfigurationError, match="no route 'nope'; routes: a"):
        engine.stop_route("nope")


# -- statistics ----------------------------------------------------------------------------------
def test_route_statistics(engine: Engine) -> None:
    gate = Gate()

    def work(ex: Exchange) -> None:
        if ex.message.body == "hold":
            gate(ex)
            return
        time.sleep(0.01)
        if ex.message.body == "bad":
            raise ValueError("bad")

    engine.add_routes(routes(lambda r: r.from_("seda:in").route_id("r").process(work).to("mock:out")))
    engine.start()
    engine.template.request_body("seda:in", "good")
    engine.template.request_body("seda:in", "good")
    with pytest.raises(ValueError):
        engine.template.request_body("seda:in", "bad")
    stats = engine.route_stats("r")
    assert stats["route_id"] == "r" and stats["state"] == "started" and stats["endpoint"] == "seda:in"
    assert (stats["exchanges_total"], stats["exchanges_completed"], stats["exchanges_failed"]) == (3, 2, 1)
    assert stats["exchanges_in_flight"] == 0
    assert stats["total_processing_time"] >= 0.03
    assert stats["mean_processing_time"] == pytest.approx(stats["total_processing_time"] / 3)
    assert 0.01 <= stats["min_processing_time"] <= stats["max_processing_time"]
    assert stats["last_completed_at"] == pytest.approx(time.time(), abs=5)

    engine.template.send_body("seda:in", "hold")
    assert gate.entered.wait(5)
    assert engine.route_stats("r")["exchanges_in_flight"] == 1
    gate.opened.set()
    eventually(lambda: engine.route_stats("r")["exchanges_in_flight"] == 0)
    assert engine.route_stats("r")["exchanges_completed"] == 3


# -- context manager, failed start -------------------------------------------------------------
def test_engine_as_context_manager() -> None:
    with Engine(routes=[routes(lambda r: r.from_("direct:a").route_id("a").set_body("pong"))]) as engine:
        assert engine.is_started
        assert engine.template.request_body("direct:a", "ping") == "pong"
    assert engine.state == "stopped"
    with pytest.raises(NoConsumerError):
        engine.template.request_body("direct:a", "ping")


def test_context_manager_stops_the_engine_when_the_block_raises() -> None:
    engine = Engine(routes=[routes(lambda r: r.from_("seda:a").route_id("a").to("mock:a"))])
    with pytest.raises(RuntimeError, match="in the block"), engine:
        raise RuntimeError("in the block")
    assert engine.state == "stopped"
    assert engine.route("a").consumer.join(5)


class BrokenConsumer(Consumer):
    def start(self) -> None:
        raise OSError("cannot connect")


class BrokenEndpoint(Endpoint):
    def create_consumer(self, processor: Any) -> Consumer:
        return BrokenConsumer(self, processor)


class BrokenComponent(Component):
    endpoint_class = BrokenEndpoint


def test_stop_after_a_failed_start_is_a_no_op() -> None:
    engine = Engine()
    engine.add_component("broken", BrokenComponent)

    def build(r: RouteBuilder) -> None:
        r.from_("direct:a").route_id("a").startup_order(1).to("mock:a")
        r.from_("broken:x").route_id("b").startup_order(2).to("mock:b")

    engine.add_routes(routes(build))
    with pytest.raises(OSError, match="cannot connect"):
        engine.start()
    assert engine.state == "failed"
    # what had started was stopped again
    with pytest.raises(NoConsumerError):
        engine.template.send_body("direct:a", 1)
    assert engine.stop() == {}
    assert engine.state == "failed"


# -- validation before anything runs -------------------------------------------------------------
def test_unknown_scheme_fails_add_routes_with_the_route_and_a_suggestion(engine: Engine) -> None:
    with pytest.raises(UnknownComponentError, match="no component for scheme 'sedaa'.*'seda'") as info:
        engine.add_routes(routes(lambda r: r.from_("sedaa:x").route_id("typo").to("mock:a")))
    assert info.value.route_id == "typo"
    assert engine.route_ids() == []


def test_unknown_option_names_the_closest_one(engine: Engine) -> None:
    with pytest.raises(EndpointOptionError, match="unknown option 'concurent_consumers'; did you mean "
                                                 "'concurrent_consumers'") as info:
        engine.add_routes(routes(lambda r: r.from_("seda:x?concurent_consumers=2").route_id("r").to("mock:a")))
    assert info.value.route_id == "r"


def test_bad_option_in_a_to_names_route_and_node(engine: Engine) -> None:
    with pytest.raises(EndpointOptionError, match="option 'size' expects int") as info:
        engine.add_routes(routes(lambda r: r.from_("direct:a").route_id("r").to("seda:out?size=big").id("send")))
    assert (info.value.route_id, info.value.node_id) == ("r", "send")


def test_one_bad_route_adds_none_and_nothing_runs() -> None:
    engine = Engine()
    ticks: list[Any] = []

    def build(r: RouteBuilder) -> None:
        r.from_("timer:lifecycle-one?delay=0&period=0.01").route_id("good").process(ticks.append)
        r.from_("seda:x?concurent_consumers=2").route_id("bad").to("mock:a")

    with pytest.raises(EndpointOptionError):
        engine.add_routes(routes(build))
    assert engine.route_ids() == []
    engine.start()
    try:
        assert not any(t.name == "eip-timer-lifecycle-one" for t in threading.enumerate())
        assert ticks == []
    finally:
        engine.stop()


def test_a_bad_route_added_to_a_running_engine_starts_nothing(engine: Engine) -> None:
    engine.add_routes(routes(lambda r: r.from_("direct:a").route_id("a").to("mock:a")))
    engine.start()
    with pytest.raises(EndpointOptionError):
        engine.add_routes(routes(lambda r: (r.from_("timer:lifecycle-two?delay=0").route_id("good").to("mock:t"),
                                            r.from_("timer:u?perod=1").route_id("bad").to("mock:t"))))
    assert engine.route_ids() == ["a"]
    assert not any(t.name == "eip-timer-lifecycle-two" for t in threading.enumerate())


# -- direct: without a consumer ------------------------------------------------------------------
def test_sending_to_direct_without_a_consumer_fails_at_once(engine: Engine) -> None:
    engine.start()
    started = time.monotonic()
    with pytest.raises(NoConsumerError, match="direct:nobody: no consumer is running"):
        engine.template.send_body("direct:nobody", "hello")
    assert time.monotonic() - started < 10  # not direct's 30 s wait for a starting consumer


# -- start-up order and direct: waiting for a starting consumer (issue 9, item 13) -------------------
class Outcomes:
    """An engine listener: each exchange's exception (or None) as it leaves a route."""

    def __init__(self) -> None:
        self.by_route: dict[str, list[BaseException | None]] = {}
        self.changed = threading.Condition()

    def __call__(self, route_id: str, exchange: Exchange) -> None:
        with self.changed:
            self.by_route.setdefault(route_id, []).append(exchange.exception)
            self.changed.notify_all()

    def wait_for(self, route_id: str, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: route_id in self.by_route, timeout)


class HeldStartConsumer(Consumer):
    """Its start() is held by the test (``endpoint.hold_start``), so the consumers started after
    it start late: a stand-in for a slow broker connection."""

    def start(self) -> None:
        self.endpoint.hold_start(self)  # type: ignore[attr-defined]


class HeldStartEndpoint(Endpoint):
    hold_start: Any = staticmethod(lambda consumer: None)

    def create_consumer(self, processor: Any) -> Consumer:
        return HeldStartConsumer(self, processor)


class HeldStartComponent(Component):
    endpoint_class = HeldStartEndpoint


@pytest.mark.parametrize("how", ["engine.start", "add_routes to a running engine"])
def test_a_timer_firing_at_once_reaches_a_direct_route_declared_after_it(engine: Engine, how: str) -> None:
    fired = threading.Event()
    outcomes = Outcomes()
    engine.add_listener(outcomes)
    engine.add_component("held", HeldStartComponent)

    def hold_start(consumer: Consumer) -> None:
        # Start the direct route only after the timer fired and its send either failed (no
        # waiting: the old race, every time) or is still waiting for the direct consumer.
        assert fired.wait(5)
        outcomes.wait_for("tick", timeout=0.5)

    def build(r: RouteBuilder) -> None:  # one batch, the timer first
        (r.from_("timer:race?delay=0&repeat_count=1").route_id("tick")
         .process(lambda ex: fired.set()).to("direct:later"))
        r.from_("held:slow").route_id("slow-to-start").to("mock:unused")
        r.from_("direct:later").route_id("later").to("mock:out")

    if how == "engine.start":
        engine.add_routes(routes(build))
        engine.get_endpoint("held:slow").hold_start = hold_start  # type: ignore[attr-defined]
        engine.start()
    else:
        engine.start()
        engine.get_endpoint("held:slow").hold_start = hold_start  # type: ignore[attr-defined]
        engine.add_routes(routes(build))
    out = engine.get_endpoint("mock:out")
    out.expected_message_count(1)
    out.assert_is_satisfied(timeout=5)
    assert outcomes.wait_for("tick", timeout=5) and outcomes.by_route["tick"] == [None]


class HeldStartProducer:
    """A route service whose start(), once ``armed``, waits for ``release``: the route stays
    starting meanwhile."""

    def __init__(self, entered: threading.Event, release: threading.Event) -> None:
        self.entered, self.release = entered, release
        self.armed = False

    def start(self) -> None:
        if self.armed:
            self.entered.set()
            assert self.release.wait(10)

    def stop(self) -> None:
        pass

    def process(self, exchange: Exchange) -> None:
        pass


def start_route_held(engine: Engine, route_id: str, entered: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=engine.start_route, args=(route_id,), daemon=True)
    thread.start()
    assert entered.wait(5), "the route's start never reached its producer"
    return thread


def send_in_background(engine: Engine, uri: str, body: Any) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def send() -> None:
        try:
            engine.template.send_body(uri, body)
        except BaseException as exc:  # noqa: BLE001 - the test looks at it
            errors.append(exc)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread, errors


@pytest.fixture
def held_route(engine: Engine) -> tuple[threading.Event, threading.Event]:
    """Route 'b' (direct:b), stopped, whose next start waits for ``release``."""
    entered, release = threading.Event(), threading.Event()
    producer = HeldStartProducer(entered, release)

    def build(r: RouteBuilder) -> None:
        r.from_("direct:b").route_id("b").process(producer).to("mock:b")

    engine.add_routes(routes(build))
    engine.route("b").services.append(producer)
    engine.start()
    engine.stop_route("b")
    producer.armed = True
    yield entered, release
    release.set()


def test_a_direct_send_while_the_target_route_starts_waits_for_it(engine: Engine, held_route: Any) -> None:
    entered, release = held_route
    starter = start_route_held(engine, "b", entered)
    sender, errors = send_in_background(engine, "direct:b", "while starting")
    sender.join(0.3)  # before the route's consumer exists: the send must wait, not fail
    assert sender.is_alive() and errors == []
    release.set()
    starter.join(5)
    sender.join(5)
    assert not sender.is_alive() and errors == []
    assert engine.get_endpoint("mock:b").received_bodies == ["while starting"]


def test_a_direct_send_to_a_starting_route_gives_up_after_its_timeout(engine: Engine, held_route: Any) -> None:
    entered, release = held_route
    start_route_held(engine, "b", entered)
    began = time.monotonic()
    with pytest.raises(NoConsumerError, match="direct:b"):
        engine.template.send_body("direct:b?timeout=0.2", "too slow")
    assert 0.2 <= time.monotonic() - began < 2
    began = time.monotonic()
    with pytest.raises(NoConsumerError, match="direct:b"):
        engine.template.send_body("direct:b?block=false", "no waiting")
    assert time.monotonic() - began < 10  # not direct's 30 s wait for a starting consumer


def test_a_direct_send_to_a_suspended_route_waits_for_its_resume(engine: Engine) -> None:
    engine.add_routes(routes(lambda r: r.from_("direct:a").route_id("a").to("mock:a")))
    engine.start()
    engine.suspend_route("a")
    sender, errors = send_in_background(engine, "direct:a", "after resume")
    sender.join(0.3)
    assert sender.is_alive() and errors == []
    engine.resume_route("a")
    sender.join(5)
    assert not sender.is_alive() and errors == []
    assert engine.get_endpoint("mock:a").received_bodies == ["after resume"]


def test_a_waiting_direct_send_fails_at_once_when_the_engine_stops(engine: Engine) -> None:
    engine.add_routes(routes(lambda r: r.from_("direct:a").route_id("a").to("mock:a")))
    engine.start()
    engine.suspend_route("a")
    sender, errors = send_in_background(engine, "direct:a", "never")
    sender.join(0.2)
    assert sender.is_alive()
    began = time.monotonic()
    engine.stop(timeout=5)
    sender.join(5)
    assert not sender.is_alive() and len(errors) == 1 and isinstance(errors[0], NoConsumerError)
    assert time.monotonic() - began < 2  # neither the stop nor the send waited out a timeout
    assert engine.get_endpoint("mock:a").received_bodies == []


def test_a_stopped_route_fails_a_direct_send_at_once(engine: Engine) -> None:
    engine.add_routes(routes(lambda r: r.from_("direct:a").route_id("a").to("mock:a")))
    engine.start()
    engine.stop_route("a")
    began = time.monotonic()
    with pytest.raises(NoConsumerError, match="direct:a"):
        engine.template.send_body("direct:a", 1)
    assert time.monotonic() - began < 10  # not direct's 30 s wait for a starting consumer

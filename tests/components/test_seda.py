"""seda: bounded in-memory queue: sending, replies, full queue, consumers, poll, stop."""

from __future__ import annotations

import threading
import time

import pytest

from components.seda import (
    ExchangeDiscardedError,
    ExchangeTimedOutError,
    QueueClosedError,
    SedaEndpoint,
)
from eip import EndpointOptionError, Engine, Exchange, InOnly, InOut, RouteBuilder
from eip.errors import QueueFullError
from eip.testing import eventually
from eip.unit_of_work import UnitOfWork


class Gate:
    """A processor that blocks until opened; records that it was entered."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.opened = threading.Event()
        self.count = 0

    def __call__(self, exchange: Exchange) -> None:
        self.count += 1
        self.entered.set()
        assert self.opened.wait(10), "gate never opened"


def routes(fn):
    class Routes(RouteBuilder):
        def configure(self) -> None:
            fn(self)
    return Routes()


# -- sending ---------------------------------------------------------------------------------
def test_in_only_send_returns_before_the_route_runs_and_the_sender_keeps_its_message(engine: Engine) -> None:
    gate = Gate()
    engine.add_routes(routes(lambda r: r.from_("seda:in").process(gate).set_body("changed").to("mock:out")))
    engine.start()
    exchange = engine.template.send("seda:in", Exchange("hello", {"h": 1}))
    assert exchange.exception is None
    assert gate.entered.wait(5)
    assert exchange.message.body == "hello"  # the route works on a copy
    gate.opened.set()
    out = engine.get_endpoint("mock:out")
    out.expected_bodies_received("changed")
    out.assert_is_satisfied(5)
    assert out.received_exchanges[0].message.headers["h"] == 1
    assert exchange.message.body == "hello"  # still: the route changed only its copy


def test_in_out_waits_for_the_reply_and_copies_back_body_and_headers(engine: Engine) -> None:
    def reply(ex: Exchange) -> None:
        ex.message.body = ex.message.body.upper()
        ex.message.headers["replied"] = True

    engine.add_routes(routes(lambda r: r.from_("seda:in?concurrent_consumers=2").process(reply)))
    engine.start()
    assert engine.template.request_body("seda:in", "abc") == "ABC"
    exchange = engine.template.request("seda:in", "xyz")
    assert exchange.exception is None
    assert exchange.message.body == "XYZ"
    assert exchange.message.headers["replied"] is True


def test_in_out_raises_the_exception_of_the_consuming_route(engine: Engine) -> None:
    def boom(ex: Exchange) -> None:
        raise KeyError("missing")

    engine.add_routes(routes(lambda r: r.from_("seda:in").process(boom)))
    engine.start()
    with pytest.raises(KeyError, match="missing"):
        engine.template.request_body("seda:in", "x")


def test_in_out_times_out_and_an_unstarted_exchange_is_removed_from_the_queue(engine: Engine) -> None:
    gate = Gate()
    engine.add_routes(routes(lambda r: r.from_("seda:in?timeout=0.2").process(gate).to("mock:out")))
    engine.start()
    engine.template.send_body("seda:in", "first")  # blocks the only consumer thread
    assert gate.entered.wait(5)
    started = time.monotonic()
    with pytest.raises(ExchangeTimedOutError, match="never started"):
        engine.template.request_body("seda:in", "second")
    assert time.monotonic() - started < 2
    endpoint = engine.get_endpoint("seda:in")
    assert endpoint.queue_size == 0
    gate.opened.set()
    out = engine.get_endpoint("mock:out")
    out.expected_bodies_received("first")
    out.assert_is_satisfied(5, assert_period=0.05)


def test_in_out_timeout_while_the_route_runs_says_so(engine: Engine) -> None:
    gate = Gate()
    engine.add_routes(routes(lambda r: r.from_("seda:in?timeout=0.1").process(gate)))
    engine.start()
    try:
        with pytest.raises(ExchangeTimedOutError, match="still running"):
            engine.template.request_body("seda:in", "x")
    finally:
        gate.opened.set()


def test_wait_always_makes_an_in_only_send_wait_and_fail(engine: Engine) -> None:
    def boom(ex: Exchange) -> None:
        raise ValueError("bad")

    engine.add_routes(routes(lambda r: r.from_("seda:in?wait_for_task_to_complete=Always").process(boom)))
    engine.start()
    with pytest.raises(ValueError, match="bad"):
        engine.template.send_body("seda:in", "x")


def test_wait_never_returns_an_in_out_send_at_once_unchanged(engine: Engine) -> None:
    gate = Gate()
    engine.add_routes(routes(lambda r: r.from_("seda:in?wait_for_task_to_complete=Never")
                             .process(gate).set_body("reply")))
    engine.start()
    assert engine.template.request_body("seda:in", "request") == "request"
    assert gate.entered.wait(5)
    gate.opened.set()


def test_a_route_sends_in_out_through_seda(engine: Engine) -> None:
    def build(r: RouteBuilder) -> None:
        r.from_("direct:start").to("seda:work", pattern=InOut).to("mock:out")
        r.from_("seda:work").set_body(lambda ex: ex.message.body * 2)

    engine.add_routes(routes(build))
    engine.start()
    engine.template.send_body("direct:start", 21)
    out = engine.get_endpoint("mock:out")
    out.expected_bodies_received(42)
    out.assert_is_satisfied(5)


# -- full queue ------------------------------------------------------------------------------
def test_full_queue_fails_at_once(engine: Engine) -> None:
    endpoint = engine.get_endpoint("seda:nobody?size=2")  # no consumer: exchanges stay queued
    engine.start()
    engine.template.send_body("seda:nobody", 1)
    engine.template.send_body("seda:nobody", 2)
    assert endpoint.queue_size == 2
    with pytest.raises(QueueFullError, match=r"queue is full \(2 exchanges\)"):
        engine.template.send_body("seda:nobody", 3)
    assert endpoint.queue_size == 2


def test_block_when_full_waits_for_room_then_gives_up_after_offer_timeout(engine: Engine) -> None:
    endpoint = engine.get_endpoint("seda:q?size=1&block_when_full=true&offer_timeout=0.2")
    engine.start()
    engine.template.send_body("seda:q", 1)
    started = time.monotonic()
    with pytest.raises(QueueFullError, match="after waiting 0.2s"):
        engine.template.send_body("seda:q", 2)
    assert 0.15 < time.monotonic() - started < 2

    # a blocked producer goes on as soon as a message is taken
    done = threading.Event()

    def send() -> None:
        engine.template.send_body("seda:q", 3)
        done.set()

    thread = threading.Thread(target=send)
    thread.start()
    assert not done.wait(0.05)
    taken = endpoint.poll(0)
    assert taken is not None and taken.message.body == 1
    assert done.wait(5)
    thread.join(5)
    assert endpoint.poll(0).message.body == 3


def test_block_when_full_without_offer_timeout_is_released_by_engine_stop() -> None:
    engine = Engine()
    engine.get_endpoint("seda:q?size=1&block_when_full=true")
    engine.start()
    engine.template.send_body("seda:q", 1)
    errors: list[BaseException] = []

    def send() -> None:
        try:
            engine.template.send_body("seda:q", 2)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    thread = threading.Thread(target=send)
    thread.start()
    time.sleep(0.05)  # let it block (it would also pass if it had not blocked yet)
    engine.stop(timeout=0.1)
    thread.join(5)
    assert not thread.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], QueueClosedError)


# -- endpoints and options -------------------------------------------------------------------
def test_same_name_is_the_same_queue_and_options_merge(engine: Engine) -> None:
    plain = engine.get_endpoint("seda:in")
    tuned = engine.get_endpoint("seda:in?concurrent_consumers=4")
    assert plain is tuned
    assert plain.values["concurrent_consumers"] == 4
    with pytest.raises(EndpointOptionError, match="concurrent_consumers"):
        engine.get_endpoint("seda:in?concurrent_consumers=2")


@pytest.mark.parametrize(("uri", "message"), [
    ("seda:x?size=0", "size must be at least 1"),
    ("seda:x?concurrent_consumers=0", "concurrent_consumers must be at least 1"),
    ("seda:x?wait_for_task_to_complete=Sometimes", "must be one of"),
    ("seda:x?timeout=-1", "timeout must not be negative"),
    ("seda:x?block_when_full=maybe", "expects bool"),
    ("seda:x?concurent_consumers=2", "did you mean 'concurrent_consumers'"),
])
def test_bad_options_are_rejected(engine: Engine, uri: str, message: str) -> None:
    with pytest.raises(EndpointOptionError, match=message):
        engine.get_endpoint(uri)


def test_documentation_lists_every_option() -> None:
    from components.seda import SedaComponent
    text = SedaComponent.documentation()
    assert "NOT durable" in text
    for option in SedaEndpoint.options.options:
        assert option.name in text


# -- consumers ---------------------------------------------------------------------------------
def test_concurrent_consumers_threads_are_made_at_start_not_per_message(engine: Engine) -> None:
    names: set[str] = set()
    lock = threading.Lock()

    def record(ex: Exchange) -> None:
        with lock:
            names.add(threading.current_thread().name)

    engine.add_routes(routes(lambda r: r.from_("seda:in?concurrent_consumers=3").route_id("r")
                             .process(record).to("mock:out")))
    engine.start()
    consumer = engine.route("r").consumer
    assert len(consumer.threads) == 3 and all(t.is_alive() for t in consumer.threads)
    threads_before = threading.active_count()
    for i in range(300):
        engine.template.send_body("seda:in", i)
    out = engine.get_endpoint("mock:out")
    out.expected_message_count(300)
    out.assert_is_satisfied(5)
    assert names <= {t.name for t in consumer.threads}
    assert threading.active_count() == threads_before


def test_two_routes_on_one_queue_compete_for_its_exchanges(engine: Engine) -> None:
    def build(r: RouteBuilder) -> None:
        r.from_("seda:in").to("mock:all").to("mock:a")
        r.from_("seda:in").to("mock:all").to("mock:b")

    engine.add_routes(routes(build))
    engine.start()
    for i in range(50):
        engine.template.send_body("seda:in", i)
    every = engine.get_endpoint("mock:all")
    every.expected_bodies_received_in_any_order(*range(50))
    every.assert_is_satisfied(5)
    assert engine.get_endpoint("mock:a").received_counter + engine.get_endpoint("mock:b").received_counter == 50


def test_stopped_route_keeps_its_queue_until_started_again(engine: Engine) -> None:
    engine.add_routes(routes(lambda r: r.from_("seda:in").route_id("r").to("mock:out")))
    engine.start()
    assert engine.stop_route("r", timeout=1) == []
    for i in range(3):
        engine.template.send_body("seda:in", i)
    endpoint = engine.get_endpoint("seda:in")
    assert endpoint.queue_size == 3
    out = engine.get_endpoint("mock:out")
    assert out.received_counter == 0
    engine.start_route("r")
    out.expected_bodies_received(0, 1, 2)
    out.assert_is_satisfied(5)
    assert endpoint.queue_size == 0


# -- units of work -----------------------------------------------------------------------------
def test_a_route_sending_in_only_completes_its_source_before_the_seda_route_runs(engine: Engine) -> None:
    """The asynchronous boundary: the source is acknowledged when the sending route ends."""
    gate = Gate()

    def build(r: RouteBuilder) -> None:
        r.from_("direct:start").to("seda:work")
        r.from_("seda:work").process(gate).to("mock:out")

    engine.add_routes(routes(build))
    engine.start()
    acked = threading.Event()
    exchange = Exchange("x")
    exchange.unit_of_work = UnitOfWork()
    exchange.unit_of_work.on_completion(lambda ex: acked.set())
    engine.template.send("direct:start", exchange)
    assert acked.is_set()
    assert gate.entered.wait(5)
    gate.opened.set()
    engine.get_endpoint("mock:out").expected_message_count(1)
    engine.get_endpoint("mock:out").assert_is_satisfied(5)


def test_an_unowned_unit_of_work_is_completed_by_the_seda_route(engine: Engine) -> None:
    gate = Gate()
    engine.add_routes(routes(lambda r: r.from_("seda:work").process(gate)))
    engine.start()
    outcome: list[str] = []
    done = threading.Event()
    exchange = Exchange("x")
    exchange.unit_of_work = UnitOfWork()
    exchange.unit_of_work.add_synchronization(lambda ex: (outcome.append("done"), done.set()),
                                              lambda ex: (outcome.append("failed"), done.set()))
    engine.template.send("seda:work", exchange)
    assert gate.entered.wait(5)
    assert outcome == []
    gate.opened.set()
    assert done.wait(5)
    assert outcome == ["done"]


# -- poll ------------------------------------------------------------------------------------
def test_poll_takes_one_exchange_with_or_without_waiting(engine: Engine) -> None:
    endpoint = engine.get_endpoint("seda:box")
    engine.start()
    assert endpoint.poll(0) is None
    started = time.monotonic()
    assert endpoint.poll(0.1) is None
    assert time.monotonic() - started >= 0.09
    engine.template.send_body("seda:box", "a")
    polled = endpoint.poll(0)
    assert polled is not None and polled.message.body == "a"
    assert endpoint.queue_size == 0

    threading.Timer(0.05, lambda: engine.template.send_body("seda:box", "b")).start()
    polled = endpoint.poll(None)  # waits as long as it takes
    assert polled is not None and polled.message.body == "b"


def test_poll_releases_a_waiting_in_out_caller(engine: Engine) -> None:
    endpoint = engine.get_endpoint("seda:box")
    engine.start()
    replies: list[object] = []
    thread = threading.Thread(target=lambda: replies.append(engine.template.request_body("seda:box", "q")))
    thread.start()
    polled = endpoint.poll(5)
    assert polled is not None and polled.message.body == "q"
    thread.join(5)
    assert replies == ["q"]


def test_poll_on_a_closed_queue_returns_none_at_once() -> None:
    engine = Engine()
    endpoint = engine.get_endpoint("seda:box")
    engine.start()
    engine.stop()
    assert endpoint.poll(None) is None


# -- stopping ------------------------------------------------------------------------------------
def test_after_engine_stop_sends_are_rejected_and_restart_opens_the_queue_again() -> None:
    engine = Engine()
    engine.add_routes(routes(lambda r: r.from_("seda:in").to("mock:out")))
    engine.start()
    engine.stop()
    with pytest.raises(QueueClosedError, match="not accepted"):
        engine.template.send_body("seda:in", "late")
    engine.start()
    try:
        engine.template.send_body("seda:in", "again")
        out = engine.get_endpoint("mock:out")
        out.expected_bodies_received("again")
        out.assert_is_satisfied(5)
    finally:
        engine.stop()


def test_engine_stop_fails_what_is_still_queued_and_releases_waiting_callers() -> None:
    engine = Engine()
    gate = Gate()
    engine.add_routes(routes(lambda r: r.from_("seda:in").route_id("r").process(gate).to("mock:out")))
    engine.start()
    engine.template.send_body("seda:in", "running")
    assert gate.entered.wait(5)

    outcomes: list[tuple[str, BaseException | None]] = []

    def sync(ex: Exchange) -> None:
        outcomes.append((ex.message.body, ex.exception))

    queued = Exchange("queued", pattern=InOnly)
    queued.unit_of_work = UnitOfWork()
    queued.unit_of_work.add_synchronization(sync, sync)
    engine.template.send("seda:in", queued)
    caller_errors: list[BaseException] = []

    def request() -> None:
        try:
            engine.template.request_body("seda:in", "waiting")
        except Exception as exc:  # noqa: BLE001
            caller_errors.append(exc)

    caller = threading.Thread(target=request)
    caller.start()
    endpoint = engine.get_endpoint("seda:in")
    eventually(lambda: endpoint.queue_size >= 2, what="two exchanges queued")
    assert endpoint.queue_size == 2

    unfinished = engine.stop(timeout=0.1)  # the gate is closed: nothing can drain
    assert list(unfinished) == ["r"] and len(unfinished["r"]) == 1
    caller.join(5)
    assert not caller.is_alive()
    assert len(caller_errors) == 1 and isinstance(caller_errors[0], ExchangeDiscardedError)
    assert "engine stopped before this queued exchange ran" in str(caller_errors[0])
    assert len(outcomes) == 1
    body, error = outcomes[0]
    assert body == "queued" and isinstance(error, ExchangeDiscardedError)
    assert endpoint.queue_size == 0
    gate.opened.set()  # the in-flight one still finishes
    engine.get_endpoint("mock:out").expected_bodies_received("running")
    engine.get_endpoint("mock:out").assert_is_satisfied(5)
    assert engine.route("r").consumer.join(5)

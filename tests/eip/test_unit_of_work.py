"""The unit of work: a source message is acknowledged only after its whole route completed."""

from __future__ import annotations

from eip import RouteBuilder, dead_letter_channel
from eip.component import Component, Consumer, Endpoint


class RecordingConsumer(Consumer):
    def deliver(self, body, events):
        exchange = self.create_exchange(body)
        exchange.unit_of_work.on_completion(lambda ex: events.append(("ack", ex.message.body)))
        exchange.unit_of_work.on_failure(lambda ex: events.append(("nack", type(ex.exception).__name__)))
        self.processor.process(exchange)
        return exchange

    def start(self):
        self.endpoint.consumer = self


class RecordingEndpoint(Endpoint):
    consumer: RecordingConsumer | None = None

    def create_consumer(self, processor):
        return RecordingConsumer(self, processor)


class RecordingComponent(Component):
    """A source that records acks and nacks, standing in for a broker."""

    endpoint_class = RecordingEndpoint


def run(engine, configure, *bodies):
    class Routes(RouteBuilder):
        def configure(self):
            configure(self)

    engine.add_component("rec", RecordingComponent)
    engine.add_routes(Routes())
    engine.start()
    events: list = []
    consumer = engine.get_endpoint("rec:src").consumer
    exchanges = [consumer.deliver(b, events) for b in bodies]
    return events, exchanges


def test_ack_after_every_synchronous_send_downstream(engine):
    events: list = []

    def configure(b):
        b.from_("rec:src").to("direct:next").to("mock:out")
        b.from_("direct:next").process(lambda ex: events.append(("sub-route", ex.message.body)))

    def stub(exchange):
        events.append(("mock", exchange.message.body))

    engine.add_component("rec", RecordingComponent)

    class Routes(RouteBuilder):
        def configure(self):
            configure(self)

    engine.add_routes(Routes())
    engine.start()
    engine.get_endpoint("mock:out").when_any_exchange_received(stub)
    engine.get_endpoint("rec:src").consumer.deliver("m1", events)
    assert events == [("sub-route", "m1"), ("mock", "m1"), ("ack", "m1")]


def test_unhandled_failure_nacks(engine):
    def fail(ex):
        raise ValueError("bad")

    events, exchanges = run(engine, lambda b: b.from_("rec:src").process(fail), "m1")
    assert events == [("nack", "ValueError")]
    assert isinstance(exchanges[0].exception, ValueError)


def test_failure_in_direct_sub_route_nacks_the_source_once(engine):
    def fail(ex):
        raise ValueError("bad")

    def configure(b):
        b.from_("rec:src").to("direct:sub").to("mock:out")
        b.from_("direct:sub").process(fail)

    events, _ = run(engine, configure, "m1")
    assert events == [("nack", "ValueError")]
    assert engine.get_endpoint("mock:out").received_bodies == []


def test_handled_failure_acks_after_the_dead_letter_endpoint_has_it(engine):
    events: list = []

    def fail(ex):
        raise ValueError("bad")

    def configure(b):
        b.error_handler(dead_letter_channel("mock:dead"))
        b.from_("rec:src").process(fail)

    engine.add_component("rec", RecordingComponent)

    class Routes(RouteBuilder):
        def configure(self):
            configure(self)

    engine.add_routes(Routes())
    engine.start()
    engine.get_endpoint("mock:dead").when_any_exchange_received(lambda ex: events.append(("dead", ex.message.body)))
    engine.get_endpoint("rec:src").consumer.deliver("m1", events)
    assert events == [("dead", "m1"), ("ack", "m1")]


def test_callbacks_run_exactly_once_per_exchange(engine):
    events, _ = run(engine, lambda b: b.from_("rec:src").to("mock:out"), "a", "b", "c")
    assert events == [("ack", "a"), ("ack", "b"), ("ack", "c")]


def test_stop_counts_as_completed(engine):
    events, _ = run(engine, lambda b: b.from_("rec:src").stop().to("mock:never"), "a")
    assert events == [("ack", "a")]
    assert engine.get_endpoint("mock:never").received_bodies == []


def test_rollback_nacks(engine):
    events, _ = run(engine, lambda b: b.from_("rec:src").rollback("no thanks"), "a")
    assert events == [("nack", "RollbackError")]


def test_failing_ack_marks_the_exchange_failed(engine):
    def configure(b):
        b.from_("rec:src").to("mock:out")

    engine.add_component("rec", RecordingComponent)

    class Routes(RouteBuilder):
        def configure(self):
            configure(self)

    engine.add_routes(Routes())
    engine.start()
    consumer = engine.get_endpoint("rec:src").consumer
    exchange = consumer.create_exchange("m")

    def broken_ack(ex):
        raise ConnectionError("channel closed")

    exchange.unit_of_work.on_completion(broken_ack)
    consumer.processor.process(exchange)
    assert isinstance(exchange.exception, ConnectionError)


def test_on_completion_runs_after_the_route_on_a_copy(engine):
    def configure(b):
        (b.from_("rec:src").on_completion(only_on_failure=True).to("mock:failed").end()
            .on_completion().to("mock:always").end()
            .process(lambda ex: (_ for _ in ()).throw(ValueError("x")) if ex.message.body == "bad" else None))

    events, _ = run(engine, configure, "good", "bad")
    assert engine.get_endpoint("mock:always").received_bodies == ["good", "bad"]
    assert engine.get_endpoint("mock:failed").received_bodies == ["bad"]
    assert events == [("ack", "good"), ("nack", "ValueError")]


def test_holds_delay_the_callbacks_until_released():
    import threading

    from eip.exchange import Exchange
    from eip.unit_of_work import UnitOfWork

    events: list = []
    uow = UnitOfWork()
    uow.on_completion(lambda ex: events.append(("ack", threading.current_thread().name)))
    uow.on_failure(lambda ex: events.append(("nack", type(ex.exception).__name__)))
    first, second = uow.hold(), uow.hold()
    exchange = Exchange("x")
    uow.done(exchange)  # the route finished; two confirms are still outstanding
    assert events == [] and uow.pending_holds == 2
    first()
    assert events == []
    worker = threading.Thread(target=second, name="confirm-thread")
    worker.start()
    worker.join()
    assert events == [("ack", "confirm-thread")]
    second()  # releasing twice is harmless
    assert events == [("ack", "confirm-thread")]


def test_a_failed_confirm_turns_the_outcome_into_a_failure():
    from eip.exchange import Exchange
    from eip.unit_of_work import UnitOfWork

    events: list = []
    uow = UnitOfWork()
    uow.add_synchronization(lambda ex: events.append("ack"), lambda ex: events.append("nack"))
    release = uow.hold()
    release(ConnectionError("nacked by broker"))  # released before the route even finished
    exchange = Exchange("x")
    uow.done(exchange)
    assert events == ["nack"] and isinstance(exchange.exception, ConnectionError)


def _yield_on_every_line_of(code):
    """A ``sys.settrace`` hook that gives the GIL away on each line of ``code``: threads that
    enter it together then interleave there on every run, not once in thousands."""
    import time

    def local(frame, event, arg):
        if event == "line":
            time.sleep(0)
        return local

    def tracer(frame, event, arg):
        return local if frame.f_code is code else None

    return tracer


def test_first_holds_taken_at_once_by_parallel_threads_all_count():
    # Parallel split parts share one unit of work; each publish with a confirm takes a hold.
    # A lost hold lets the source be acked before every confirm arrived.
    import sys
    import threading

    from eip.exchange import Exchange
    from eip.unit_of_work import UnitOfWork

    parts, units = 4, 200
    uows = [UnitOfWork() for _ in range(units)]
    completions = [0] * units
    for i, uow in enumerate(uows):
        uow.on_completion(lambda ex, i=i: completions.__setitem__(i, completions[i] + 1))
    releases: list[list] = [[] for _ in range(units)]
    barrier = threading.Barrier(parts)
    tracer = _yield_on_every_line_of(UnitOfWork.hold.__code__)
    errors: list[BaseException] = []

    def part() -> None:
        sys.settrace(tracer)
        try:
            for i, uow in enumerate(uows):
                barrier.wait(timeout=10)  # every part takes its first hold at the same moment
                releases[i].append(uow.hold())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            barrier.abort()
        finally:
            sys.settrace(None)

    threads = [threading.Thread(target=part) for _ in range(parts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors and not any(thread.is_alive() for thread in threads)
    assert [uow.pending_holds for uow in uows] == [parts] * units
    for i, uow in enumerate(uows):
        uow.done(Exchange(i))  # the route finished; every part's confirm is still outstanding
        for release in releases[i][:-1]:
            release()
        assert completions[i] == 0, f"unit of work {i} completed before its last confirm"
        releases[i][-1]()
    assert completions == [1] * units

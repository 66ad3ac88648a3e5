"""Error handling: redelivery of the failing node, on_exception, dead letter channel, default handler."""

from __future__ import annotations

import threading

import pytest

from eip import RouteBuilder, body, dead_letter_channel, default_error_handler, header
from eip import constants as c
from eip.testing import eventually


class Flaky:
    """Fails the first ``failures`` calls, then succeeds; counts calls; ``called`` is set by the first."""

    def __init__(self, failures: int, exc: type[Exception] = ConnectionError) -> None:
        self.failures = failures
        self.calls = 0
        self.exc = exc
        self.called = threading.Event()

    def __call__(self, exchange) -> None:
        self.calls += 1
        self.called.set()
        if self.calls <= self.failures:
            raise self.exc(f"failure {self.calls}")
        exchange.message.body = f"ok after {self.calls}"


def start(engine, configure):
    engine.add_routes(configure)
    engine.start()


def test_redelivery_retries_only_the_failing_node(engine):
    before = []
    flaky = Flaky(2)

    def configure(b):
        b.error_handler(default_error_handler(maximum_redeliveries=3, redelivery_delay=0))
        (b.from_("direct:in").process(lambda ex: before.append(1)).process(flaky).to("mock:out"))

    start(engine, configure)
    engine.template.send_body("direct:in", "x")
    assert before == [1]  # the node before the failing one ran once
    assert flaky.calls == 3
    out = engine.get_endpoint("mock:out").received_exchanges
    assert [ex.message.body for ex in out] == ["ok after 3"]
    assert out[0].message.headers[c.REDELIVERY_COUNTER] == 2
    assert out[0].message.headers[c.REDELIVERED] is True


def test_default_error_handler_fails_the_exchange_and_raises_to_the_caller(engine):
    start(engine, lambda b: b.from_("direct:in").route_id("r").process(Flaky(5, KeyError)).to("mock:out"))
    with pytest.raises(KeyError) as info:
        engine.template.send_body("direct:in", "x")
    assert any("route 'r'" in note for note in info.value.__notes__)
    assert engine.get_endpoint("mock:out").received_bodies == []
    stats = engine.route_stats("r")
    assert stats["exchanges_failed"] == 1 and stats["exchanges_completed"] == 0


def test_dead_letter_channel_after_exhausted_redelivery_counts_as_handled(engine):
    flaky = Flaky(10)

    def configure(b):
        b.error_handler(dead_letter_channel("mock:dead", maximum_redeliveries=2, redelivery_delay=0))
        b.from_("direct:in").route_id("r").set_body(lambda ex: ex.message.body + "!").process(flaky).to("mock:out")

    start(engine, configure)
    engine.template.send_body("direct:in", "x")  # handled: no exception for the caller
    dead = engine.get_endpoint("mock:dead").received_exchanges
    assert len(dead) == 1 and flaky.calls == 3
    assert dead[0].message.body == "x!"
    assert isinstance(dead[0].properties[c.EXCEPTION_CAUGHT], ConnectionError)
    assert dead[0].properties[c.FAILURE_ROUTE_ID] == "r"
    assert dead[0].message.headers[c.DEAD_LETTER_CAUSE] == "ConnectionError: failure 3"
    assert engine.route_stats("r")["exchanges_completed"] == 1


def test_dead_letter_channel_with_original_message(engine):
    def configure(b):
        b.error_handler(dead_letter_channel("mock:dead", use_original_message=True))
        b.from_("direct:in").set_body("changed").process(Flaky(1)).to("mock:out")

    start(engine, configure)
    engine.template.send_body("direct:in", "original", headers={"k": "v"})
    dead = engine.get_endpoint("mock:dead").received_exchanges
    assert dead[0].message.body == "original" and dead[0].message.headers["k"] == "v"


def test_failing_dead_letter_endpoint_fails_the_exchange(engine):
    def configure(b):
        b.error_handler(dead_letter_channel("direct:nobody-listens"))
        b.from_("direct:in").process(Flaky(1, ValueError))

    start(engine, configure)
    with pytest.raises(Exception) as info:
        engine.template.send_body("direct:in", "x")
    assert isinstance(info.value.__cause__, ValueError)


def test_on_exception_matches_the_closest_class(engine):
    class Base(Exception):
        pass

    class Special(Base):
        pass

    def configure(b):
        b.on_exception(Exception, handled=True).to("mock:exception").end()
        b.on_exception(Base, handled=True).to("mock:base").end()
        b.from_("direct:in").choice().when(body() == "special").process(Flaky(1, Special)) \
            .otherwise().process(Flaky(1, RuntimeError)).end()

    start(engine, configure)
    engine.template.send_body("direct:in", "special")
    engine.template.send_body("direct:in", "other")
    assert engine.get_endpoint("mock:base").received_bodies == ["special"]
    assert engine.get_endpoint("mock:exception").received_bodies == ["other"]


def test_on_exception_matches_a_cause(engine):
    def fail(ex):
        try:
            raise KeyError("inner")
        except KeyError as exc:
            raise RuntimeError("outer") from exc

    def configure(b):
        b.on_exception(KeyError, handled=True).to("mock:key").end()
        b.from_("direct:in").process(fail)

    start(engine, configure)
    engine.template.send_body("direct:in", "x")
    assert engine.get_endpoint("mock:key").received_bodies == ["x"]


def test_handled_stops_the_route_and_its_output_is_the_reply(engine):
    def configure(b):
        b.on_exception(ValueError, handled=True).transform(lambda ex: "sorry: " + str(
            ex.properties[c.EXCEPTION_CAUGHT])).end()
        b.from_("direct:in").process(Flaky(1, ValueError)).to("mock:after")

    start(engine, configure)
    assert engine.template.request_body("direct:in", "x") == "sorry: failure 1"
    assert engine.get_endpoint("mock:after").received_bodies == []


def test_continued_resumes_at_the_next_node(engine):
    def configure(b):
        b.on_exception(ValueError, continued=True).set_header("recovered", True).end()
        b.from_("direct:in").process(Flaky(1, ValueError)).to("mock:after")

    start(engine, configure)
    engine.template.send_body("direct:in", "x")
    after = engine.get_endpoint("mock:after").received_exchanges
    assert len(after) == 1 and after[0].message.headers["recovered"] is True


def test_on_exception_without_handled_runs_its_steps_and_still_fails(engine):
    def configure(b):
        b.on_exception(ValueError).to("mock:notified").end()
        b.from_("direct:in").process(Flaky(1, ValueError))

    start(engine, configure)
    with pytest.raises(ValueError):
        engine.template.send_body("direct:in", "x")
    assert engine.get_endpoint("mock:notified").received_bodies == ["x"]


def test_on_exception_own_redelivery_and_original_message(engine):
    flaky = Flaky(2, ConnectionError)

    def configure(b):
        (b.from_("direct:in")
            .on_exception(ConnectionError, handled=True, maximum_redeliveries=1, redelivery_delay=0,
                          use_original_message=True).to("mock:gave-up").end()
            .set_body("changed").process(flaky).to("mock:out"))

    start(engine, configure)
    engine.template.send_body("direct:in", "original")
    assert flaky.calls == 2
    assert engine.get_endpoint("mock:gave-up").received_bodies == ["original"]


def test_on_exception_on_when_and_handled_predicate(engine):
    def configure(b):
        b.on_exception(ValueError, handled=header("soft") == True,  # noqa: E712
                       on_when=header("kind") == "watched").to("mock:watched").end()
        b.from_("direct:in").process(Flaky(10, ValueError))

    start(engine, configure)
    engine.template.send_body("direct:in", "a", headers={"kind": "watched", "soft": True})
    with pytest.raises(ValueError):
        engine.template.send_body("direct:in", "b", headers={"kind": "watched", "soft": False})
    with pytest.raises(ValueError):
        engine.template.send_body("direct:in", "c", headers={"kind": "other"})
    assert engine.get_endpoint("mock:watched").received_bodies == ["a", "b"]


def test_fluent_handled_in_a_route_level_clause_ends_the_route_successfully(engine):
    def configure(b):
        (b.from_("direct:in").route_id("r")
            .on_exception(ValueError).handled(True).transform("sorry").to("mock:handled").end()
            .process(Flaky(1, ValueError)).to("mock:after"))

    start(engine, configure)
    assert engine.template.request_body("direct:in", "x") == "sorry"
    assert engine.get_endpoint("mock:handled").received_bodies == ["sorry"]
    assert engine.get_endpoint("mock:after").received_bodies == []
    assert engine.route_stats("r")["exchanges_completed"] == 1


def test_fluent_continued_resumes_at_the_next_node_and_handled_takes_a_predicate(engine):
    def configure(b):
        b.on_exception(KeyError).handled(header("soft") == True).end()  # noqa: E712
        (b.from_("direct:in")
            .on_exception(ValueError).continued(True).set_header("recovered", True).end()
            .process(Flaky(1, ValueError)).process(Flaky(2, KeyError)).to("mock:after"))

    start(engine, configure)
    engine.template.send_body("direct:in", "a", headers={"soft": True})  # continued, then handled
    with pytest.raises(KeyError):
        engine.template.send_body("direct:in", "b", headers={"soft": False})  # the predicate says no
    engine.template.send_body("direct:in", "c")
    after = engine.get_endpoint("mock:after").received_exchanges
    assert [ex.message.body for ex in after] == ["ok after 3"]
    assert after[0].message.headers.get("recovered") is None  # set only on "a", which ended early


def test_route_level_clause_wins_over_builder_level(engine):
    def configure(b):
        b.on_exception(ValueError, handled=True).to("mock:global").end()
        (b.from_("direct:in")
            .on_exception(ValueError, handled=True).to("mock:local").end()
            .process(Flaky(1, ValueError)))

    start(engine, configure)
    engine.template.send_body("direct:in", "x")
    assert engine.get_endpoint("mock:local").received_bodies == ["x"]
    assert engine.get_endpoint("mock:global").received_bodies == []


def test_failure_in_direct_sub_route_reaches_the_callers_dead_letter_channel(engine):
    def configure(b):
        b.from_("direct:sub").route_id("sub").process(Flaky(1, ValueError))
        (b.from_("direct:in").route_id("main")
            .error_handler(dead_letter_channel("mock:dead"))
            .to("direct:sub").to("mock:out"))

    start(engine, configure)
    engine.template.send_body("direct:in", "x")
    assert engine.get_endpoint("mock:dead").received_bodies == ["x"]
    assert engine.get_endpoint("mock:out").received_bodies == []


def test_exponential_backoff_delays():
    from eip.model import RedeliveryPolicy

    policy = RedeliveryPolicy(maximum_redeliveries=5, redelivery_delay=0.1, use_exponential_backoff=True,
                              backoff_multiplier=2.0, maximum_redelivery_delay=0.5)
    assert [policy.delay_for(n) for n in range(1, 6)] == pytest.approx([0.1, 0.2, 0.4, 0.5, 0.5])
    assert policy.allows(5) and not policy.allows(6)
    assert RedeliveryPolicy(maximum_redeliveries=-1).allows(10_000)


def test_redelivery_sleeps_per_policy(engine):
    slept = []

    def configure(b):
        b.error_handler(default_error_handler(maximum_redeliveries=3, redelivery_delay="100ms",
                                              use_exponential_backoff=True))
        b.from_("direct:in").route_id("r").process(Flaky(3))

    start(engine, configure)
    engine.route("r").handler.sleep = slept.append
    engine.template.send_body("direct:in", "x")
    assert slept == pytest.approx([0.1, 0.2, 0.4])


def test_error_handler_option_typo_is_reported():
    from eip import ConfigurationError

    with pytest.raises(ConfigurationError, match="did you mean 'maximum_redeliveries'"):
        dead_letter_channel("mock:dead", maximum_redelivery=3)


def test_expression_that_raises_goes_to_the_error_handler(engine):
    def configure(b):
        b.error_handler(dead_letter_channel("mock:dead"))
        b.from_("direct:in").route_id("r").choice().when(lambda ex: 1 / 0).to("mock:never").end()

    start(engine, configure)
    engine.template.send_body("direct:in", "x")
    dead = engine.get_endpoint("mock:dead").received_exchanges
    assert isinstance(dead[0].properties[c.EXCEPTION_CAUGHT], ZeroDivisionError)
    assert dead[0].properties[c.FAILURE_NODE_ID] == "choice1"


class _Answer(Exception):
    """Like a SOAP Fault: an answer, not an outage."""

    retryable = False


def test_an_exception_marked_not_retryable_is_not_redelivered_by_the_general_policy(engine):
    flaky = Flaky(5, _Answer)

    def configure(b):
        b.error_handler(dead_letter_channel("mock:dead", maximum_redeliveries=3, redelivery_delay=0))
        b.from_("direct:in").process(flaky).to("mock:out")

    start(engine, configure)
    engine.template.send_body("direct:in", "x")
    assert flaky.calls == 1
    dead = engine.get_endpoint("mock:dead").received_exchanges
    assert len(dead) == 1 and c.REDELIVERED not in dead[0].message.headers


def test_an_on_exception_clause_with_its_own_policy_redelivers_a_non_retryable_exception(engine):
    flaky = Flaky(2, _Answer)

    def configure(b):
        b.error_handler(default_error_handler(maximum_redeliveries=0))
        b.on_exception(_Answer, maximum_redeliveries=2, redelivery_delay=0).to("mock:gave-up").end()
        b.from_("direct:in").process(flaky).to("mock:out")

    start(engine, configure)
    engine.template.send_body("direct:in", "x")
    assert flaky.calls == 3
    assert engine.get_endpoint("mock:out").received_bodies == ["ok after 3"]


def test_a_matching_clause_without_a_policy_does_not_make_it_retryable(engine):
    flaky = Flaky(5, _Answer)

    def configure(b):
        b.error_handler(default_error_handler(maximum_redeliveries=3, redelivery_delay=0))
        b.on_exception(_Answer, handled=True).to("mock:answer").end()
        b.from_("direct:in").process(flaky).to("mock:out")

    start(engine, configure)
    engine.template.send_body("direct:in", "x")
    assert flaky.calls == 1
    assert len(engine.get_endpoint("mock:answer").received_exchanges) == 1


# -- what the logs say about a failure (issue 9, item 22) -------------------------------------------

def _records(caplog, logger_names, level):
    return [r for r in caplog.records if r.name in logger_names and r.levelno >= level]


def test_failure_line_names_the_failing_sub_route_node_and_split_index(engine, caplog):
    import logging

    def fail_on_b(exchange):
        if exchange.message.body == "b":
            raise KeyError("no such sku")

    def configure(b):
        b.from_("direct:orders").route_id("orders").split(body()).to("direct:line").end()
        b.from_("direct:line").route_id("lines").to("mock:seen").process(fail_on_b).id("check-sku")

    start(engine, configure)
    with caplog.at_level(logging.INFO):
        with pytest.raises(KeyError):
            engine.template.send_body("direct:orders", ["a", "b", "c"])
    lines = [r.getMessage() for r in _records(caplog, {"eip.route"}, logging.WARNING)]
    assert len(lines) == 1, lines
    assert "route 'orders'" in lines[0]  # the route that owns the exchange
    assert "route 'lines'" in lines[0] and "node 'check-sku'" in lines[0]
    assert "split index 1" in lines[0]
    assert "KeyError" in lines[0] and "no such sku" in lines[0]


def test_dead_letter_channel_logs_one_line_per_dead_lettered_exchange(engine, caplog):
    import logging

    flaky = Flaky(10)

    def configure(b):
        b.error_handler(dead_letter_channel("mock:dead", maximum_redeliveries=2, redelivery_delay=0))
        b.from_("direct:in").route_id("r").process(flaky).id("call-partner").to("mock:out")

    start(engine, configure)
    with caplog.at_level(logging.DEBUG):
        engine.template.send_body("direct:in", "body-one")
        engine.template.send_body("direct:in", "body-two")
    lines = [r for r in _records(caplog, {"eip.error_handler", "eip.route"}, logging.INFO)]
    assert len(lines) == 2, [r.getMessage() for r in lines]
    for record in lines:
        text = record.getMessage()
        assert record.levelno == logging.WARNING
        assert "dead-lettered to mock:dead" in text
        assert "route 'r'" in text and "node 'call-partner'" in text
        assert "after 2 redeliveries" in text
        assert "ConnectionError: failure" in text
        assert "body-" not in text  # bodies may hold personal data: never logged


def test_dead_letter_from_a_split_part_in_a_sub_route_names_where_it_failed(engine, caplog):
    import logging

    def fail_on_c(exchange):
        if exchange.message.body == "c":
            raise ValueError("bad line")

    def configure(b):
        b.error_handler(dead_letter_channel("mock:dead"))
        b.from_("direct:orders").route_id("orders").split(body()).to("direct:line").end()
        b.from_("direct:line").route_id("lines").process(fail_on_c).id("parse")

    start(engine, configure)
    with caplog.at_level(logging.INFO):
        engine.template.send_body("direct:orders", ["a", "b", "c"])
    dead = engine.get_endpoint("mock:dead").received_exchanges
    assert len(dead) == 1
    assert dead[0].properties[c.FAILURE_ROUTE_ID] == "lines"
    assert dead[0].properties[c.FAILURE_NODE_ID] == "parse"
    lines = [r.getMessage() for r in _records(caplog, {"eip.error_handler", "eip.route"}, logging.INFO)]
    assert len(lines) == 1, lines
    assert "route 'lines'" in lines[0] and "node 'parse'" in lines[0] and "split index 2" in lines[0]
    assert "after 0 redeliveries" in lines[0]


def test_no_log_line_on_success(engine, caplog):
    import logging

    def configure(b):
        b.error_handler(dead_letter_channel("mock:dead"))
        b.from_("direct:orders").route_id("orders").split(body()).to("direct:line").end()
        b.from_("direct:line").route_id("lines").to("mock:out")

    start(engine, configure)
    with caplog.at_level(logging.DEBUG):
        engine.template.send_body("direct:orders", ["a", "b"])
    assert _records(caplog, {"eip.error_handler", "eip.route"}, logging.DEBUG) == []


# -- redelivery waits end when the route stops (issue 9, item 11) --------------------------------
class _FailuresSeen:
    """An engine listener: the exception of each exchange as it leaves a route, by route id."""

    def __init__(self) -> None:
        import threading

        self.by_route: dict[str, list[BaseException | None]] = {}
        self.changed = threading.Condition()

    def __call__(self, route_id, exchange) -> None:
        with self.changed:
            self.by_route.setdefault(route_id, []).append(exchange.exception)
            self.changed.notify_all()

    def wait_for(self, route_id: str, timeout: float) -> list[BaseException | None]:
        with self.changed:
            self.changed.wait_for(lambda: route_id in self.by_route, timeout)
            return list(self.by_route.get(route_id, []))


def test_engine_stop_cuts_a_redelivery_wait_short_and_the_file_is_kept(tmp_path):
    import time

    from eip import Engine
    from eip.errors import RedeliveryInterruptedError

    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "order.txt").write_text("o-1")
    failing = Flaky(failures=100)

    class Routes(RouteBuilder):
        def configure(self):
            self.error_handler(default_error_handler(maximum_redeliveries=3, redelivery_delay=5))
            self.from_(f"file:{inbox}?initial_delay=0&delay=0.05").route_id("orders").process(failing).id("call")

    engine = Engine(routes=[Routes()])
    seen = _FailuresSeen()
    engine.add_listener(seen)
    engine.start()
    try:
        assert failing.called.wait(5)
    finally:
        began = time.monotonic()
        unfinished = engine.stop(timeout=0.3)
        stopping_took = time.monotonic() - began
    assert unfinished == {"orders": unfinished["orders"]} and len(unfinished["orders"]) == 1  # it was waiting
    assert stopping_took < 3
    # The interrupted wait fails the exchange on its own thread, without the retry.
    outcomes = seen.wait_for("orders", timeout=3)
    assert len(outcomes) == 1 and isinstance(outcomes[0], RedeliveryInterruptedError)
    assert isinstance(outcomes[0].__cause__, ConnectionError)
    assert outcomes[0].route_id == "orders" and outcomes[0].node_id == "call"
    assert failing.calls == 1  # never retried, before or after stop() returned
    # The source keeps the message: the file goes to the failure folder, not to .done.
    eventually((inbox / ".error" / "order.txt").exists, 3, "the file moved to .error")
    assert (inbox / ".error" / "order.txt").read_text() == "o-1"
    assert not (inbox / ".done").exists()
    assert failing.calls == 1


def test_interrupted_redelivery_in_a_sub_route_is_not_dead_lettered_by_the_caller(engine):

    from eip.errors import RedeliveryInterruptedError

    failing = Flaky(failures=100)

    def configure(b):
        (b.from_("seda:orders").route_id("orders")
         .error_handler(dead_letter_channel("mock:dead"))
         .to("direct:pricing"))
        (b.from_("direct:pricing").route_id("pricing")
         .error_handler(default_error_handler(maximum_redeliveries=2, redelivery_delay=5))
         .process(failing))

    seen = _FailuresSeen()
    engine.add_listener(seen)
    start(engine, configure)
    engine.template.send_body("seda:orders", "o-1")
    assert failing.called.wait(5)
    dead = engine.get_endpoint("mock:dead")
    engine.stop(timeout=0.3)
    outcomes = seen.wait_for("orders", timeout=3)
    assert len(outcomes) == 1 and isinstance(outcomes[0], RedeliveryInterruptedError)
    assert dead.received_counter == 0  # a stop is not a failure to dead-letter
    assert failing.calls == 1


def test_stop_route_cuts_a_redelivery_wait_short(engine):

    from eip.errors import RedeliveryInterruptedError

    failing = Flaky(failures=100)

    def configure(b):
        b.error_handler(default_error_handler(maximum_redeliveries=-1, redelivery_delay=5))
        b.from_("seda:orders").route_id("orders").process(failing)

    seen = _FailuresSeen()
    engine.add_listener(seen)
    start(engine, configure)
    engine.template.send_body("seda:orders", "o-1")
    assert failing.called.wait(5)
    assert len(engine.stop_route("orders", timeout=0.2)) == 1
    outcomes = seen.wait_for("orders", timeout=3)
    assert len(outcomes) == 1 and isinstance(outcomes[0], RedeliveryInterruptedError)
    assert failing.calls == 1
    # Started again, the route redelivers as before.
    engine.start_route("orders")
    assert not engine.route("orders").handler.sleep(0.01)

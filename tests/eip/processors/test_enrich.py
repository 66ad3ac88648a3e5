"""Content enricher: enrich (request-reply to a resource) and poll_enrich (poll one message)."""

from __future__ import annotations

import queue

import pytest

from eip import ConfigurationError, InOnly, InOut
from eip.component import Component, Endpoint
from eip.errors import AggregationError
from eip.exchange import Exchange
from eip.unit_of_work import UnitOfWork


def start(engine, configure):
    engine.add_routes(configure)
    engine.start()


# -- enrich ----------------------------------------------------------------------------------

def test_default_replaces_body_and_headers_with_the_reply(engine):
    def configure(b):
        b.from_("direct:in").enrich("direct:resource").to("mock:out")
        b.from_("direct:resource").set_body(lambda ex: f"reply to {ex.message.body}").set_header("r", 1)

    start(engine, configure)
    engine.template.send_body("direct:in", "req", headers={"orig": "o"})
    out = engine.get_endpoint("mock:out").received_exchanges[0]
    assert out.message.body == "reply to req"
    assert out.message.headers["r"] == 1
    assert out.message.headers["orig"] == "o"  # the resource got a copy, headers included


def test_resource_is_called_in_out_and_the_pattern_of_the_exchange_is_kept(engine):
    patterns = []

    def configure(b):
        b.from_("direct:in").enrich("direct:resource").process(lambda ex: patterns.append(("in", ex.pattern)))
        b.from_("direct:resource").process(lambda ex: patterns.append(("resource", ex.pattern)))

    start(engine, configure)
    engine.template.send_body("direct:in", "x")
    assert patterns == [("resource", InOut), ("in", InOnly)]


def test_resource_works_on_a_copy(engine):
    def configure(b):
        b.from_("direct:in").enrich("direct:resource", strategy=lambda original, resource: original) \
            .to("mock:out")
        b.from_("direct:resource").set_header("leak", True).set_body("changed")

    start(engine, configure)
    engine.template.send_body("direct:in", "x")
    out = engine.get_endpoint("mock:out").received_exchanges[0]
    assert out.message.body == "x"
    assert "leak" not in out.message.headers


def test_strategy_merges_the_reply(engine):
    def merge(original, resource):
        original.message.body = f"{original.message.body}+{resource.message.body}"
        return original

    def configure(b):
        b.from_("direct:in").enrich("direct:resource", merge).to("mock:out")
        b.from_("direct:resource").set_body("extra")

    start(engine, configure)
    assert engine.template.request_body("direct:in", "base") == "base+extra"


def test_strategy_may_return_the_resource_exchange(engine):
    def configure(b):
        b.from_("direct:in").set_property("p", 1) \
            .enrich("direct:resource", lambda original, resource: resource).to("mock:out")
        b.from_("direct:resource").set_body("reply").set_property("q", 2)

    start(engine, configure)
    reply = engine.template.request("direct:in", "x")
    assert reply.exception is None
    assert reply.pattern == InOut
    out = engine.get_endpoint("mock:out").received_exchanges[0]
    assert out.message.body == "reply"
    assert out.properties["p"] == 1 and out.properties["q"] == 2


def test_strategy_returning_none_is_an_aggregation_error(engine):
    def configure(b):
        b.from_("direct:in").route_id("r").enrich("direct:resource", lambda o, r: None).id("enricher")
        b.from_("direct:resource").set_body("x")

    start(engine, configure)
    with pytest.raises(AggregationError, match="returned None") as info:
        engine.template.send_body("direct:in", "x")
    assert info.value.route_id == "r" and info.value.node_id == "enricher"


def test_resource_failure_propagates(engine):
    def configure(b):
        b.from_("direct:in").enrich("direct:resource").to("mock:out")
        b.from_("direct:resource").process(lambda ex: (_ for _ in ()).throw(ValueError("resource down")))

    start(engine, configure)
    with pytest.raises(ValueError, match="resource down"):
        engine.template.send_body("direct:in", "x")
    assert engine.get_endpoint("mock:out").received_bodies == []


def test_aggregate_on_exception_lets_the_strategy_decide(engine):
    calls = []

    def merge(original, resource):
        calls.append(type(resource.exception).__name__)
        original.message.body = "fallback"
        return original

    def configure(b):
        b.from_("direct:in").enrich("mock:resource", merge, aggregate_on_exception=True).to("mock:out")

    start(engine, configure)
    engine.get_endpoint("mock:resource").when_any_exchange_received(
        lambda ex: (_ for _ in ()).throw(KeyError("nope")))
    engine.template.send_body("direct:in", "x")
    assert calls == ["KeyError"]
    assert engine.get_endpoint("mock:out").received_bodies == ["fallback"]


def test_aggregate_on_exception_strategy_can_still_fail_the_exchange(engine):
    start(engine, lambda b: b.from_("direct:in")
          .enrich("mock:resource", lambda o, r: r, aggregate_on_exception=True).to("mock:out"))
    engine.get_endpoint("mock:resource").when_any_exchange_received(
        lambda ex: (_ for _ in ()).throw(KeyError("nope")))
    with pytest.raises(KeyError):
        engine.template.send_body("direct:in", "x")
    assert engine.get_endpoint("mock:out").received_bodies == []


def test_enrich_uri_template(engine):
    def configure(b):
        b.from_("direct:in").enrich("direct:${header.which}").to("mock:out")
        b.from_("direct:a").set_body("from a")
        b.from_("direct:b").set_body("from b")

    start(engine, configure)
    engine.template.send_body("direct:in", "x", headers={"which": "b"})
    engine.template.send_body("direct:in", "x", headers={"which": "a"})
    assert engine.get_endpoint("mock:out").received_bodies == ["from b", "from a"]


def test_enrich_strategy_must_be_callable(engine):
    with pytest.raises(ConfigurationError, match="strategy must be a callable"):
        engine.add_routes(lambda b: b.from_("direct:in").enrich("mock:x", strategy="nope"))


# -- poll_enrich -------------------------------------------------------------------------------

class PollEndpoint(Endpoint):
    """A test endpoint that can be polled: a queue, and the timeouts it was polled with."""

    def __init__(self, *args):
        super().__init__(*args)
        self.queue: queue.Queue = queue.Queue()
        self.timeouts = []

    def poll(self, timeout):
        self.timeouts.append(timeout)
        try:
            if timeout is None:
                return self.queue.get()
            if timeout == 0:
                return self.queue.get_nowait()
            return self.queue.get(timeout=timeout)
        except queue.Empty:
            return None


class PollComponent(Component):
    endpoint_class = PollEndpoint


@pytest.fixture
def pollsrc(engine):
    engine.add_component("pollsrc", PollComponent)
    return lambda name="src": engine.get_endpoint(f"pollsrc:{name}")


def test_poll_enrich_takes_one_message(engine, pollsrc):
    start(engine, lambda b: b.from_("direct:in").poll_enrich("pollsrc:src", timeout=1).to("mock:out"))
    pollsrc().queue.put(Exchange("polled", {"p": 1}))
    pollsrc().queue.put(Exchange("second"))
    engine.template.send_body("direct:in", "x", headers={"orig": 1})
    out = engine.get_endpoint("mock:out").received_exchanges[0]
    assert out.message.body == "polled"
    assert out.message.headers["p"] == 1
    assert "orig" not in out.message.headers  # the polled message replaces the message
    assert pollsrc().queue.qsize() == 1
    assert pollsrc().timeouts == [1.0]


def test_poll_enrich_timeout_without_strategy_leaves_the_message(engine, pollsrc):
    start(engine, lambda b: b.from_("direct:in").poll_enrich("pollsrc:src", timeout=0).to("mock:out"))
    engine.template.send_body("direct:in", "unchanged", headers={"h": 1})
    out = engine.get_endpoint("mock:out").received_exchanges[0]
    assert out.message.body == "unchanged" and out.message.headers["h"] == 1
    assert pollsrc().timeouts == [0.0]


def test_poll_enrich_timeout_calls_the_strategy_with_none(engine, pollsrc):
    seen = []

    def merge(original, polled):
        seen.append(polled)
        original.message.body = "nothing came" if polled is None else polled.message.body
        return original

    start(engine, lambda b: b.from_("direct:in").poll_enrich("pollsrc:src", merge, timeout="10ms").to("mock:out"))
    engine.template.send_body("direct:in", "x")
    assert seen == [None]
    assert engine.get_endpoint("mock:out").received_bodies == ["nothing came"]
    assert pollsrc().timeouts == [0.01]


def test_poll_enrich_default_and_negative_timeout_wait_forever(engine, pollsrc):
    start(engine, lambda b: (b.from_("direct:a").poll_enrich("pollsrc:a"),
                             b.from_("direct:b").poll_enrich("pollsrc:b", timeout=-1)))
    for name in ("a", "b"):
        pollsrc(name).queue.put(Exchange(name))
        assert engine.template.request_body(f"direct:{name}", "x") == name
        assert pollsrc(name).timeouts == [None]


def test_poll_enrich_needs_an_endpoint_with_poll(engine):
    with pytest.raises(ConfigurationError, match="mock:nopoll.*cannot be polled") as info:
        engine.add_routes(lambda b: b.from_("direct:in").route_id("r").poll_enrich("mock:nopoll"))
    assert info.value.route_id == "r"


def test_poll_enrich_dynamic_uri(engine, pollsrc):
    start(engine, lambda b: b.from_("direct:in").poll_enrich("${header.q}", timeout=0))
    pollsrc("two").queue.put(Exchange("from two"))
    assert engine.template.request_body("direct:in", "x", headers={"q": "pollsrc:two"}) == "from two"
    with pytest.raises(ConfigurationError, match="mock:x.*cannot be polled"):
        engine.template.request_body("direct:in", "x", headers={"q": "mock:x"})


def test_polled_unit_of_work_completes_with_the_exchange(engine, pollsrc):
    events = []

    def configure(b):
        b.from_("direct:ok").poll_enrich("pollsrc:src", timeout=0)
        b.from_("direct:bad").poll_enrich("pollsrc:src", timeout=0).process(
            lambda ex: (_ for _ in ()).throw(RuntimeError("later step fails")))

    start(engine, configure)
    for name in ("first", "second"):
        polled = Exchange(name)
        polled.unit_of_work = UnitOfWork()
        polled.unit_of_work.add_synchronization(lambda ex, n=name: events.append((n, "done")),
                                                lambda ex, n=name: events.append((n, "failed")))
        pollsrc().queue.put(polled)
    engine.template.send_body("direct:ok", "x")
    assert events == [("first", "done")]
    with pytest.raises(RuntimeError):
        engine.template.send_body("direct:bad", "x")
    assert events == [("first", "done"), ("second", "failed")]


def test_poll_enrich_from_seda(engine):
    start(engine, lambda b: b.from_("direct:in").poll_enrich("seda:stash", timeout=0))
    engine.template.send_body("seda:stash", "queued")
    assert engine.template.request_body("direct:in", "x") == "queued"
    assert engine.template.request_body("direct:in", "nothing queued") == "nothing queued"

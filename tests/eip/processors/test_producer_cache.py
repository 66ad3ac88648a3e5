"""The producer cache of dynamic sends and the engine's bounded registry of dynamic endpoints
(issue 9, items 2 and 12): bounded, nothing leaked, nothing stopped while in use."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from eip import ConfigurationError, RouteBuilder, header
from eip import constants as c
from eip.component import Component, Endpoint, Producer
from eip.producer_cache import DEFAULT_CACHE_SIZE, ProducerCache


class ProbeProducer(Producer):
    """Records its life; fails loudly (as a record) when used or stopped at the wrong time."""

    def __init__(self, endpoint: ProbeEndpoint) -> None:
        super().__init__(endpoint)
        self.started = self.stopped = False
        self.busy = 0
        self.stopped_while_busy = self.used_after_stop = False
        self._lock = threading.Lock()

    def start(self) -> None:
        self.started = True
        self.endpoint.component.on_start(self)

    def stop(self) -> None:
        with self._lock:
            self.stopped = True
            self.stopped_while_busy = self.stopped_while_busy or self.busy > 0

    def process(self, exchange) -> None:
        with self._lock:
            self.used_after_stop = self.used_after_stop or self.stopped
            self.busy += 1
        try:
            self.endpoint.component.on_process(self)
        finally:
            with self._lock:
                self.busy -= 1


class ProbeEndpoint(Endpoint):
    supports_consumer = False

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.stopped = False

    def create_producer(self) -> Producer:
        producer = ProbeProducer(self)
        with self.component.lock:
            self.component.producers.append(producer)
        return producer

    def stop(self) -> None:
        self.stopped = True


class ProbeComponent(Component):
    """probe:NAME - producers that record when they start, run and stop."""

    endpoint_class = ProbeEndpoint

    def __init__(self, engine, scheme) -> None:
        super().__init__(engine, scheme)
        self.producers: list[ProbeProducer] = []
        self.gates: dict[str, tuple[threading.Event, threading.Event]] = {}
        self.start_barriers: dict[str, threading.Barrier] = {}

    def block(self, name: str) -> tuple[threading.Event, threading.Event]:
        """(entered, release): a send to probe:NAME waits in process() until release is set."""
        self.gates[name] = (threading.Event(), threading.Event())
        return self.gates[name]

    def on_start(self, producer: ProbeProducer) -> None:
        barrier = self.start_barriers.get(producer.endpoint.parsed.path)
        if barrier is not None:
            try:  # both racing threads are inside start() at once, or the cache let only one in
                barrier.wait()
            except threading.BrokenBarrierError:
                pass

    def on_process(self, producer: ProbeProducer) -> None:
        gate = self.gates.get(producer.endpoint.parsed.path)
        if gate is not None:
            gate[0].set()
            if not gate[1].wait(10):
                raise RuntimeError("test gate never opened")

    def producers_of(self, name: str) -> list[ProbeProducer]:
        return [p for p in self.producers if p.endpoint.parsed.path == name]


def probe(engine) -> ProbeComponent:
    engine.add_component("probe", ProbeComponent)
    return engine.component("probe")


def start(engine, configure):
    class Routes(RouteBuilder):
        def configure(self):
            configure(self.from_("direct:in").route_id("r"))

    engine.add_routes(Routes())
    engine.start()


def cache_of(engine, route_id="r") -> ProducerCache:
    (cache,) = [s for s in engine.route(route_id).services if isinstance(s, ProducerCache)]
    return cache


def cached_producers(cache: ProducerCache) -> set[ProbeProducer]:
    return {lease.service for lease in cache.leases()}


def send(engine, name):
    engine.template.send_body("direct:in", None, headers={"n": name})


def test_three_thousand_distinct_uris_keep_both_registries_bounded(engine):
    prb = probe(engine)
    start(engine, lambda r: r.to_d("probe:${header.n}"))
    static = len(engine.endpoints())
    for n in range(3000):
        send(engine, f"n{n}")
    cache = cache_of(engine)
    assert len(cache) == DEFAULT_CACHE_SIZE == 1000
    assert len(engine.endpoints()) == static + 1000
    assert len(prb.producers) == 3000
    live = {p for p in prb.producers if not p.stopped}
    assert live == cached_producers(cache)
    endpoints = {p.endpoint for p in prb.producers}
    assert sum(e.stopped for e in endpoints) == 2000  # evicted endpoints are stopped
    assert not [p for p in prb.producers if p.stopped_while_busy or p.used_after_stop]


@pytest.mark.parametrize("verb", ["to_d", "recipient_list", "routing_slip", "dynamic_router", "enrich"])
def test_cache_size_option_bounds_each_dynamic_send(engine, verb):
    prb = probe(engine)

    def configure(route):
        if verb == "to_d":
            route.to_d("probe:${header.n}", cache_size=5)
        elif verb == "enrich":
            route.enrich("probe:${header.n}", cache_size=5)
        elif verb == "dynamic_router":
            route.dynamic_router(lambda ex: None if ex.properties.get(c.SLIP_ENDPOINT)
                                 else "probe:" + ex.message.headers["n"], cache_size=5)
        else:
            getattr(route, verb)(lambda ex: "probe:" + ex.message.headers["n"], cache_size=5)

    start(engine, configure)
    for n in range(40):
        send(engine, f"n{n}")
    assert len(cache_of(engine)) == 5
    assert {p for p in prb.producers if not p.stopped} == cached_producers(cache_of(engine))
    engine.stop()
    assert all(p.stopped for p in prb.producers)


def test_cache_size_minus_one_keeps_no_producer(engine):
    prb = probe(engine)
    start(engine, lambda r: r.to_d("probe:${header.n}", cache_size=-1))
    for n in ("a", "b", "a"):
        send(engine, n)
    assert len(cache_of(engine)) == 0
    assert len(prb.producers) == 3 and all(p.stopped for p in prb.producers)


@pytest.mark.parametrize("size", [0, -2, "10", 1.5])
def test_bad_cache_size_is_a_route_error(engine, size):
    probe(engine)
    with pytest.raises(ConfigurationError, match="cache_size"):
        start(engine, lambda r: r.to_d("probe:${header.n}", cache_size=size).id("send"))


@pytest.mark.eip(endpoint_cache_size=2)
def test_evicted_producer_in_use_is_stopped_by_its_last_user_not_before(engine):
    prb = probe(engine)
    start(engine, lambda r: r.to_d("probe:${header.n}", cache_size=3))
    entered, release = prb.block("slow")
    slow_send = threading.Thread(target=send, args=(engine, "slow"))
    slow_send.start()
    try:
        assert entered.wait(5)
        for n in range(20):  # evicts "slow" from the producer cache and the endpoint registry
            send(engine, f"n{n}")
        (slow,) = prb.producers_of("slow")
        assert "probe:slow" not in cache_of(engine).uris()
        assert not slow.stopped and not slow.endpoint.stopped
        assert slow.endpoint in engine.endpoints()
    finally:
        release.set()
        slow_send.join(5)
    assert slow.stopped and not slow.stopped_while_busy
    assert slow.endpoint.stopped and slow.endpoint not in engine.endpoints()
    assert len(engine.endpoints()) <= 2 + 3 + 1  # static ones + what the cache holds + none leaked


def test_a_producer_two_threads_open_at_once_is_not_leaked(engine):
    prb = probe(engine)
    prb.start_barriers["race"] = threading.Barrier(2, timeout=2)
    start(engine, lambda r: r.to_d("probe:${header.n}"))
    threads = [threading.Thread(target=send, args=(engine, "race")) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    cached = cached_producers(cache_of(engine))
    leaked = [p for p in prb.producers_of("race") if not p.stopped and p not in cached]
    assert leaked == []
    assert len([p for p in prb.producers_of("race") if not p.stopped]) == 1


def test_concurrent_sends_with_overlapping_uris_leak_nothing_and_stop_nothing_in_use(engine):
    prb = probe(engine)
    start(engine, lambda r: r.to_d("probe:${header.n}", cache_size=4))
    names = [f"k{i % 12}" for i in range(3000)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda name: send(engine, name), names))
    cache = cache_of(engine)
    live = {p for p in prb.producers if not p.stopped}
    assert live == cached_producers(cache)
    assert len(live) <= 4
    assert not [p for p in prb.producers if p.stopped_while_busy or p.used_after_stop]
    engine.stop()
    assert all(p.stopped for p in prb.producers)


def test_recipient_list_in_parallel_keeps_its_hops_until_every_copy_is_sent(engine):
    prb = probe(engine)
    start(engine, lambda r: r.recipient_list(header("to"), parallel=True, cache_size=2))
    names = [",".join(f"probe:p{(i + j) % 7}" for j in range(3)) for i in range(300)]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda to: engine.template.send_body("direct:in", None, headers={"to": to}), names))
    assert not [p for p in prb.producers if p.stopped_while_busy or p.used_after_stop]
    assert {p for p in prb.producers if not p.stopped} == cached_producers(cache_of(engine))


def test_a_static_endpoint_is_never_evicted_by_dynamic_sends(engine):
    engine.add_routes(lambda b: b.from_("seda:kept").route_id("kept").to("mock:kept"))
    engine.endpoint_cache_size = 2
    start(engine, lambda r: r.to_d("${header.n}"))
    kept = engine.get_endpoint("seda:kept")
    for n in range(10):
        send(engine, f"mock:m{n}")
    send(engine, "seda:kept")
    assert engine.get_endpoint("seda:kept") is kept
    engine.get_endpoint("mock:kept").expected_message_count(1)
    engine.get_endpoint("mock:kept").assert_is_satisfied(timeout=5)

"""The conformance suite every broker and database component passes, against the real service.

As Benthos runs one suite against every connector, each of our message sources runs the same
behaviours through a small adapter that says how to send into the source and how to consume it:

* start/stop: the route starts consuming; after ``stop_route`` a message waits at the source
  and arrives once the route starts again; stopping is prompt;
* header round-trip: headers sent through the producer come out of the consumer (skipped when
  the source keeps no headers: the adapter returns no samples; a database source gives them
  back as columns of the row: the adapter's ``received_headers``);
* ordering: one consumer sees messages in the order they were sent;
* redelivery on failure: an exchange that fails without an error handler leaves its message at
  the source, which delivers it again, and the messages after it still arrive;
* reconnect: after the server drops the endpoint's connections, consumer and producer carry on
  by themselves and nothing sent is lost.

Use it from a test module::

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from conformance import ConformanceAdapter, ConformanceSuite

    class MyAdapter(ConformanceAdapter): ...

    class TestMyConformance(ConformanceSuite):
        @pytest.fixture
        def conformance(self, my_service):
            adapter = MyAdapter(...)
            yield adapter
            adapter.cleanup()

Bodies are dicts ``{"n": 1}`` unless the adapter says otherwise (``body``/``number``); waits
are bounded by ``adapter.timeout``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar

import pytest

from eip import Engine
from eip.errors import EndpointError
from eip.exchange import Exchange
from eip.testing import eventually
from eip.testing.mock import MockEndpoint

ROUTE_ID = "conformance"


class ConformanceAdapter:
    """How the suite talks to one component. Override what your source needs."""

    #: Consumer options under which a failed exchange's message comes back (e.g. requeue).
    redelivery_options: ClassVar[Mapping[str, Any]] = {}
    #: Longest wait for any one expectation, in seconds.
    timeout: float = 10.0

    def configure(self, engine: Engine) -> None:
        """Prepare a fresh engine (properties, datasources) before routes are added."""

    def consumer_uri(self, **options: Any) -> str:
        raise NotImplementedError

    def producer_uri(self) -> str:
        raise NotImplementedError

    def header_samples(self) -> dict[str, Any]:
        """Headers that must survive producer -> source -> consumer; empty: the source keeps none."""
        return {}

    def received_headers(self, exchange: Exchange, names: Iterable[str]) -> dict[str, Any]:
        """The sent headers as the consumer delivers them: its message headers here; a database
        source, whose producer stores headers in columns, gives them back as columns of the row body."""
        return {name: exchange.message.headers.get(name) for name in names}

    def body(self, n: int) -> Any:
        return {"n": n}

    def number(self, body: Any) -> int:
        return int(body["n"])

    def send(self, engine: Engine, n: int, headers: Mapping[str, Any] | None = None) -> None:
        engine.template.send_body(self.producer_uri(), self.body(n), headers=headers)

    def break_connections(self, engine: Engine) -> None:
        """Make the server drop every connection the engine holds to it."""
        raise NotImplementedError

    def cleanup(self) -> None:
        """Remove what the adapter created (queues, tables)."""


class ConformanceSuite:
    """The behaviours; a ``Test...`` subclass provides the ``conformance`` adapter fixture."""

    @pytest.fixture
    def suite_engine(self, conformance: ConformanceAdapter) -> Iterator[Engine]:
        engine = Engine(shutdown_timeout=5.0)
        conformance.configure(engine)
        yield engine
        engine.stop()  # before the adapter cleans its source up

    def _route(self, engine: Engine, adapter: ConformanceAdapter, processor: Any = None,
               **options: Any) -> MockEndpoint:
        uri = adapter.consumer_uri(**options)

        def build(builder: Any) -> None:
            route = builder.from_(uri).route_id(ROUTE_ID)
            if processor is not None:
                route = route.process(processor)
            route.to("mock:conformance")

        engine.add_routes(build)
        endpoint = engine.get_endpoint("mock:conformance")
        assert isinstance(endpoint, MockEndpoint)
        return endpoint

    def _numbers(self, adapter: ConformanceAdapter, mock: MockEndpoint) -> list[int]:
        return [adapter.number(body) for body in mock.received_bodies]

    def _send_retrying(self, engine: Engine, adapter: ConformanceAdapter, n: int) -> None:
        """Send, retrying while the producer is still reconnecting."""
        deadline = time.monotonic() + adapter.timeout
        while True:
            try:
                adapter.send(engine, n)
                return
            except EndpointError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def test_start_stop(self, suite_engine: Engine, conformance: ConformanceAdapter) -> None:
        mock = self._route(suite_engine, conformance)
        suite_engine.start()
        conformance.send(suite_engine, 1)
        eventually(lambda: self._numbers(conformance, mock) == [1], conformance.timeout, "first message consumed")
        started = time.monotonic()
        suite_engine.stop_route(ROUTE_ID)
        assert time.monotonic() - started < 5, "stop_route must be prompt"
        conformance.send(suite_engine, 2)  # waits at the source while the route is stopped
        assert self._numbers(conformance, mock) == [1]
        suite_engine.start_route(ROUTE_ID)
        eventually(lambda: self._numbers(conformance, mock) == [1, 2], conformance.timeout,
                 "message sent while stopped consumed after the restart")
        started = time.monotonic()
        suite_engine.stop()
        assert time.monotonic() - started < 5, "engine stop must be prompt"

    def test_header_round_trip(self, suite_engine: Engine, conformance: ConformanceAdapter) -> None:
        samples = conformance.header_samples()
        if not samples:
            pytest.skip("this source keeps no headers")
        mock = self._route(suite_engine, conformance)
        suite_engine.start()
        conformance.send(suite_engine, 1, headers=samples)
        eventually(lambda: mock.received_counter == 1, conformance.timeout, "message consumed")
        exchange: Exchange = mock.received_exchanges[0]
        assert conformance.number(exchange.message.body) == 1
        assert conformance.received_headers(exchange, samples) == samples

    def test_ordering(self, suite_engine: Engine, conformance: ConformanceAdapter) -> None:
        mock = self._route(suite_engine, conformance)
        suite_engine.start()
        for n in range(1, 31):
            conformance.send(suite_engine, n)
        eventually(lambda: mock.received_counter >= 30, conformance.timeout, "30 messages consumed")
        assert self._numbers(conformance, mock) == list(range(1, 31))

    def test_redelivery_on_failure(self, suite_engine: Engine, conformance: ConformanceAdapter) -> None:
        failed: list[int] = []

        def fail_first_attempt_of_2(exchange: Exchange) -> None:
            n = conformance.number(exchange.message.body)
            if n == 2 and not failed:
                failed.append(n)
                raise RuntimeError("first attempt of message 2 fails")

        mock = self._route(suite_engine, conformance, fail_first_attempt_of_2, **conformance.redelivery_options)
        suite_engine.start()
        for n in (1, 2, 3):
            conformance.send(suite_engine, n)
        eventually(lambda: {1, 2, 3} <= set(self._numbers(conformance, mock)), conformance.timeout,
                 "every message consumed, the failed one again")
        assert failed == [2]
        assert self._numbers(conformance, mock).count(2) == 1  # its failed attempt never reached the end

    def test_reconnect(self, suite_engine: Engine, conformance: ConformanceAdapter) -> None:
        mock = self._route(suite_engine, conformance)
        suite_engine.start()
        for n in (1, 2, 3):
            conformance.send(suite_engine, n)
        eventually(lambda: set(self._numbers(conformance, mock)) >= {1, 2, 3}, conformance.timeout,
                 "messages before the connections dropped")
        conformance.break_connections(suite_engine)
        for n in (4, 5, 6):
            self._send_retrying(suite_engine, conformance, n)
        eventually(lambda: set(self._numbers(conformance, mock)) >= {1, 2, 3, 4, 5, 6}, conformance.timeout,
                 "messages after the connections dropped")

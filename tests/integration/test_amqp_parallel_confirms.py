"""A parallel split publishing to AMQP: the source is acknowledged only after every part's
publisher confirm arrived (issue 9, item 10), against the real RabbitMQ.

The parts of a parallel split share their exchange's unit of work, and each publish takes a
hold on it until its confirm arrives. A barrier makes the parts of each message publish at the
same moment, and a trace hook gives the GIL away on every line of ``UnitOfWork.hold()``, so
parts taking their first hold at once interleave there on every message, not once in thousands.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Any

from eip import Engine, RouteBuilder, body
from eip.component import Component, Consumer, Endpoint
from eip.unit_of_work import UnitOfWork

sys.path.insert(0, str(Path(__file__).resolve().parent))
from amqp_support import Broker

from eip.testing import eventually

PARTS = 4
SOURCES = 150


class CountingUnitOfWork(UnitOfWork):
    """A real unit of work that also counts the releases (confirms) of its holds."""

    __slots__ = ("confirms", "confirms_at_ack")

    def __init__(self) -> None:
        super().__init__()
        self.confirms = 0
        self.confirms_at_ack: int | None = None

    def hold(self) -> Any:
        release = super().hold()

        def counted(error: BaseException | None = None) -> None:
            self.confirms += 1  # before the release: the ack, if it comes now, must see it
            release(error)

        return counted


class SourceConsumer(Consumer):
    """Stands in for a broker consumer: records when each source message is acked."""

    def __init__(self, endpoint: Endpoint, processor: Any) -> None:
        super().__init__(endpoint, processor)
        self.acked: list[tuple[int, int | None]] = []
        self.nacked: list[int] = []
        self.lock = threading.Lock()

    def deliver(self, number: int) -> None:
        exchange = self.create_exchange([f"{number}-{part}" for part in range(PARTS)])
        uow = exchange.unit_of_work = CountingUnitOfWork()

        def ack(ex: Any) -> None:
            with self.lock:
                self.acked.append((number, uow.confirms))

        def nack(ex: Any) -> None:
            with self.lock:
                self.nacked.append(number)

        uow.add_synchronization(ack, nack)
        self.processor.process(exchange)

    def start(self) -> None:
        self.endpoint.consumer = self  # type: ignore[attr-defined]


class SourceEndpoint(Endpoint):
    def create_consumer(self, processor: Any) -> Consumer:
        return SourceConsumer(self, processor)


class SourceComponent(Component):
    endpoint_class = SourceEndpoint


def _yield_in_hold(frame: Any, event: str, arg: Any) -> Any:
    if frame.f_code is not UnitOfWork.hold.__code__:
        return None

    def each_line(frame: Any, event: str, arg: Any) -> Any:
        if event == "line":
            time.sleep(0)
        return each_line

    return each_line


def test_parallel_split_to_amqp_acks_the_source_only_after_every_confirm(broker: Broker,
                                                                        rabbitmq_service: Any) -> None:
    target = broker.queue("out")
    together = threading.Barrier(PARTS)  # the caller runs one part, pool workers the others

    class Fanout(RouteBuilder):
        def configure(self) -> None:
            (self.from_("src:orders").route_id("fanout")
             .split(body(), parallel=True)
                .process(lambda ex: together.wait(10))
                .to(f"amqp:queue:{target}")
             .end())

    engine = Engine(properties={"amqp.url": rabbitmq_service.url})
    engine.add_component("src", SourceComponent)
    engine.add_routes(Fanout())
    threading.settrace(_yield_in_hold)  # for the split's pool threads, started after this
    sys.settrace(_yield_in_hold)  # and for this thread, which runs one part of each message
    try:
        engine.start()
        consumer = engine.get_endpoint("src:orders").consumer  # type: ignore[attr-defined]
        for number in range(SOURCES):
            consumer.deliver(number)
        eventually(lambda: len(consumer.acked) + len(consumer.nacked) == SOURCES, 60,
                   "every source message acked or nacked")
    finally:
        sys.settrace(None)
        threading.settrace(None)  # type: ignore[arg-type]
        engine.stop()
    assert consumer.nacked == []
    early = [(number, confirms) for number, confirms in consumer.acked if confirms != PARTS]
    assert early == [], f"acked before all {PARTS} confirms arrived (number, confirms at ack)"
    assert sorted(number for number, _ in consumer.acked) == list(range(SOURCES))
    assert broker.wait_count(target, SOURCES * PARTS, timeout=10) == SOURCES * PARTS

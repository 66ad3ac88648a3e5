"""``direct:NAME``: synchronous in-process call of another route, on the caller's thread.

The caller's exchange runs through the consuming route and shares its unit of work, so
the original source is acknowledged once, after everything. Sending with no consumer fails
at once (or after ``timeout`` seconds of waiting for one to start)."""

from __future__ import annotations

import threading
from typing import Any

from eip.component import Component, Consumer, Endpoint, Producer
from eip.errors import ConfigurationError, NoConsumerError
from eip.exchange import Exchange
from eip.options import Option, OptionSpec


class DirectProducer(Producer):
    endpoint: DirectEndpoint

    def process(self, exchange: Exchange) -> None:
        consumer = self.endpoint.consumer
        if consumer is None:
            consumer = self.endpoint.wait_for_consumer()
        consumer.processor.process(exchange)
        exc = exchange.exception
        if exc is not None:
            exchange.exception = None
            raise exc


class DirectConsumer(Consumer):
    endpoint: DirectEndpoint

    def start(self) -> None:
        self.endpoint.attach(self)

    def stop(self) -> None:
        # While the whole engine stops, stay attached so that in-flight exchanges, draining
        # seda queues and aggregators completing on stop can still call this route (Camel's
        # ShutdownRoute.Defer); the endpoint detaches it when the engine stops endpoints.
        if self.endpoint.engine.state != "stopping":
            self.endpoint.detach(self)


class DirectEndpoint(Endpoint):
    options = OptionSpec((
        Option("timeout", "duration", 0.0, "How long a producer waits for a consumer to start before failing."),
        Option("fail_if_no_consumers", "bool", True, "Fail when there is no consumer (else drop silently)."),
    ))

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.consumer: DirectConsumer | None = None
        self._changed = threading.Condition()

    def attach(self, consumer: DirectConsumer) -> None:
        with self._changed:
            if self.consumer is not None and self.consumer is not consumer:
                raise ConfigurationError(f"endpoint '{self.key}' already has a consumer; "
                                         "a direct endpoint takes one route")
            self.consumer = consumer
            self._changed.notify_all()

    def detach(self, consumer: DirectConsumer) -> None:
        with self._changed:
            if self.consumer is consumer:
                self.consumer = None

    def wait_for_consumer(self) -> DirectConsumer:
        timeout = self.values["timeout"]
        with self._changed:
            if self.consumer is None and timeout > 0:
                self._changed.wait_for(lambda: self.consumer is not None, timeout)
            if self.consumer is None:
                raise NoConsumerError("no consumer is running (is the route started?)", uri=self.key)
            return self.consumer

    def stop(self) -> None:
        with self._changed:
            self.consumer = None

    def create_producer(self) -> Producer:
        if not self.values["fail_if_no_consumers"]:
            return _DroppingDirectProducer(self)
        return DirectProducer(self)

    def create_consumer(self, processor: Any) -> Consumer:
        return DirectConsumer(self, processor)


class _DroppingDirectProducer(DirectProducer):
    def process(self, exchange: Exchange) -> None:
        if self.endpoint.consumer is None:
            return
        super().process(exchange)


class DirectComponent(Component):
    """direct:NAME - synchronous call of the route consuming NAME."""

    endpoint_class = DirectEndpoint

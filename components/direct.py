"""``direct:NAME``: synchronous in-process call of another route, on the caller's thread.

The caller's exchange runs through the consuming route and shares its unit of work, so
the original source is acknowledged once, after everything.

With no consumer attached, a send waits (Camel's ``block=true``) up to ``timeout`` seconds
(default 30, as Camel) for a consumer that is on its way: a route consuming this endpoint that
is starting (a route of the same batch whose consumer starts a moment later, a route being
started from another thread) or suspended (``resume_route`` brings it back). It fails at once
with ``NoConsumerError`` when none can come: no route consumes the endpoint, that route is
stopped, the engine is stopping or stopped, or ``block=false``. With
``fail_if_no_consumers=false`` the exchange is dropped instead of failing (after the same wait).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from eip.component import Component, Consumer, Endpoint, Producer
from eip.errors import ConfigurationError, NoConsumerError
from eip.exchange import Exchange
from eip.options import Option, OptionSpec

#: How often a waiting send checks that a consumer can still come (a failed start, a stop).
_RECHECK = 0.05


class DirectProducer(Producer):
    endpoint: DirectEndpoint

    def process(self, exchange: Exchange) -> None:
        consumer = self.endpoint.consumer or self.endpoint.wait_for_consumer()
        if consumer is None:
            self.no_consumer()
            return
        consumer.processor.process(exchange)
        exc = exchange.exception
        if exc is not None:
            exchange.exception = None
            raise exc

    def no_consumer(self) -> None:
        raise NoConsumerError("no consumer is running (is the route started?)", uri=self.endpoint.key)


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
    options = OptionSpec(
        (
            Option(
                "block",
                "bool",
                True,
                "With no consumer, wait (up to timeout) for one that is starting instead of failing at once.",
            ),
            Option(
                "timeout",
                "duration",
                30.0,
                "How long a send waits for a starting or suspended consumer before it fails.",
            ),
            Option("fail_if_no_consumers", "bool", True, "Fail when there is no consumer (else drop silently)."),
        )
    )

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.consumer: DirectConsumer | None = None
        self._changed = threading.Condition()

    def attach(self, consumer: DirectConsumer) -> None:
        with self._changed:
            if self.consumer is not None and self.consumer is not consumer:
                raise ConfigurationError(
                    f"endpoint '{self.key}' already has a consumer; a direct endpoint takes one route"
                )
            self.consumer = consumer
            self._changed.notify_all()

    def detach(self, consumer: DirectConsumer) -> None:
        with self._changed:
            if self.consumer is consumer:
                self.consumer = None

    def wait_for_consumer(self) -> DirectConsumer | None:
        """The consumer, once one is attached; None when none can come or ``timeout`` passed."""
        values = self.values
        if not values["block"]:
            return self.consumer
        deadline = time.monotonic() + values["timeout"]
        coming = getattr(self.engine, "consumer_coming", None)
        with self._changed:
            while self.consumer is None:
                left = deadline - time.monotonic()
                if left <= 0 or coming is None or not coming(self):
                    return None
                self._changed.wait(min(left, _RECHECK))
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
    def no_consumer(self) -> None:
        pass  # fail_if_no_consumers=false: the exchange is dropped


class DirectComponent(Component):
    """direct:NAME - synchronous call of the route consuming NAME."""

    endpoint_class = DirectEndpoint

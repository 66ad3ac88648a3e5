"""Producer template: send to any endpoint from plain code (tests, scripts, HTTP handlers)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from eip.exchange import Exchange, ExchangePattern

if TYPE_CHECKING:
    from eip.component import Producer
    from eip.engine import Engine


class ProducerTemplate:
    """``send_body``/``request_body`` raise the route's unhandled exception to the caller
    (the same exception object, with a note naming the route and node); ``send`` returns the
    exchange with ``exception`` set instead."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._producers: dict[str, Producer] = {}
        self._lock = threading.Lock()

    def _producer(self, uri: str) -> Producer:
        producer = self._producers.get(uri)
        if producer is None:
            # Outside our lock: get_endpoint takes the engine's lock, which stop() holds while it
            # waits for in-flight exchanges and then takes ours (template.stop) - a deadlock.
            endpoint = self.engine.get_endpoint(uri)
            with self._lock:
                producer = self._producers.get(uri)
                if producer is None:
                    producer = endpoint.create_producer()
                    producer.start()
                    self._producers[uri] = producer
        return producer

    def send(self, uri: str, exchange: Exchange) -> Exchange:
        """Send ``exchange``; never raises for routing failures (see ``exchange.exception``)."""
        producer = self._producer(uri)
        try:
            producer.process(exchange)
        except Exception as exc:
            exchange.exception = exc
        return exchange

    def send_body(self, uri: str, body: Any, headers: Mapping[str, Any] | None = None) -> None:
        """Fire and forget (InOnly); raises the exception if the exchange failed."""
        exchange = Exchange(body, headers)
        producer = self._producers.get(uri)
        if producer is None:
            producer = self._producer(uri)
        producer.process(exchange)  # a failure raised here reaches the caller as it is
        if exchange.exception is not None:
            raise exchange.exception

    def request_body(self, uri: str, body: Any, headers: Mapping[str, Any] | None = None) -> Any:
        """Request-reply (InOut): the body after the route, or raises the route's exception."""
        exchange = self.send(uri, Exchange(body, headers, pattern=ExchangePattern.IN_OUT))
        if exchange.exception is not None:
            raise exchange.exception
        return exchange.message.body

    def request(self, uri: str, body: Any, headers: Mapping[str, Any] | None = None) -> Exchange:
        """Request-reply returning the whole exchange (exception set rather than raised)."""
        return self.send(uri, Exchange(body, headers, pattern=ExchangePattern.IN_OUT))

    def stop(self) -> None:
        with self._lock:
            producers = list(self._producers.values())
            self._producers.clear()
        for producer in producers:
            producer.stop()

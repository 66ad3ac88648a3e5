"""Send to an endpoint: ``to`` (static URI) and ``to_d`` (URI computed per exchange)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from eip import constants as c
from eip.errors import ConfigurationError, ExpressionError
from eip.exchange import Exchange, ExchangePattern
from eip.expressions import Expression

if TYPE_CHECKING:
    from eip.compiler import CompileContext
    from eip.model import To, ToD


class SendProcessor:
    """Sends the exchange to one producer, optionally with another exchange pattern."""

    __slots__ = ("pattern", "producer", "uri")

    def __init__(self, producer: Any, pattern: ExchangePattern | None, uri: str) -> None:
        self.producer = producer
        self.pattern = pattern
        self.uri = uri

    def process(self, exchange: Exchange) -> None:
        if self.pattern is None:
            self.producer.process(exchange)
            return
        saved = exchange.pattern
        exchange.pattern = self.pattern
        try:
            self.producer.process(exchange)
        finally:
            exchange.pattern = saved


def compile_to(node: To, ctx: CompileContext) -> SendProcessor:
    endpoint = ctx.endpoint(node.uri)
    producer = endpoint.create_producer()
    ctx.add_service(producer)
    return SendProcessor(producer, node.pattern, endpoint.uri)


class DynamicSendProcessor:
    """Resolves the URI per exchange and keeps an LRU cache of producers."""

    def __init__(self, ctx: CompileContext, uri: Any, pattern: ExchangePattern | None, cache_size: int) -> None:
        from eip.simple_language import compile_template

        self.engine = ctx.engine
        self.route_id = ctx.route_id
        if isinstance(uri, str):
            self.resolve = compile_template(uri)
        elif isinstance(uri, Expression) or callable(uri):
            self.resolve = uri
        else:
            raise ConfigurationError(f"to_d() needs a URI template or an expression, got {uri!r}")
        self.pattern = pattern
        self.cache_size = cache_size
        self.cache: OrderedDict[str, Any] = OrderedDict()
        self.lock = threading.Lock()

    def producer_for(self, uri: str) -> Any:
        with self.lock:
            producer = self.cache.get(uri)
            if producer is not None:
                self.cache.move_to_end(uri)
                return producer
        producer = self.engine.get_endpoint(uri).create_producer()
        producer.start()
        with self.lock:
            self.cache[uri] = producer
            while len(self.cache) > self.cache_size:
                _, old = self.cache.popitem(last=False)
                old.stop()
        return producer

    def process(self, exchange: Exchange) -> None:
        uri = self.resolve(exchange)
        if not isinstance(uri, str) or not uri:
            raise ExpressionError(f"to_d(): the URI expression gave {uri!r}", route_id=self.route_id)
        exchange.properties[c.TO_ENDPOINT] = uri
        SendProcessor(self.producer_for(uri), self.pattern, uri).process(exchange)

    def stop(self) -> None:
        with self.lock:
            producers = list(self.cache.values())
            self.cache.clear()
        for producer in producers:
            producer.stop()


def compile_to_d(node: ToD, ctx: CompileContext) -> DynamicSendProcessor:
    return ctx.add_service(DynamicSendProcessor(ctx, node.uri, node.pattern, node.cache_size))

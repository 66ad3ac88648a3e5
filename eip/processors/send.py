"""Send to an endpoint: ``to`` (static URI) and ``to_d`` (URI computed per exchange)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eip import constants as c
from eip.exchange import Exchange, ExchangePattern
from eip.producer_cache import ComputedUri, ProducerCache, check_cache_size

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
    """``to_d``: computes the URI per exchange and sends through the node's producer cache."""

    __slots__ = ("cache", "pattern", "uri")

    def __init__(self, uri: ComputedUri, cache: ProducerCache, pattern: ExchangePattern | None) -> None:
        self.uri = uri
        self.cache = cache
        self.pattern = pattern

    def process(self, exchange: Exchange) -> None:
        uri = self.uri(exchange)
        exchange.properties[c.TO_ENDPOINT] = uri
        lease = self.cache.acquire(uri)
        saved = exchange.pattern
        if self.pattern is not None:
            exchange.pattern = self.pattern
        try:
            lease.value.process(exchange)
        finally:
            exchange.pattern = saved
            self.cache.release(lease)


def compile_to_d(node: ToD, ctx: CompileContext) -> DynamicSendProcessor:
    uri = ComputedUri(ctx, node.uri, "to_d")
    cache = ProducerCache(
        ctx.engine,
        ctx.route_id,
        node,
        what="to_d",
        statement=uri.statement,
        size=check_cache_size(node.cache_size, ctx, "to_d"),
    )
    return DynamicSendProcessor(uri, ctx.add_service(cache), node.pattern)

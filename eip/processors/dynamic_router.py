"""Dynamic router: ask an expression where to go next, after every hop, until it says None.

The expression is evaluated before the first hop and again after every hop, on the exchange
as the previous hop left it (``CamelSlipEndpoint`` holds the URI of the last hop, so the
expression can tell where the exchange has been). It gives a URI, a ``delimiter``-separated
text or a list of URIs (run in order as one slip); None, an empty text or an empty list ends
the routing. Each hop runs under the route's error handler; a handled failure or a stopped
exchange ends the routing too. ``max_hops`` guards against an expression that never says
None: going past it raises ``ExchangeError`` naming the route and node. Producers are kept in
the node's producer cache (``cache_size``, see ``eip.producer_cache``; the URIs are data: no
placeholder in them is resolved, and an ``sql:`` URI is refused).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eip.errors import ExchangeError
from eip.processors.recipient_list import hop_cache, uris_of
from eip.producer_cache import ProducerCache

if TYPE_CHECKING:
    from eip.compiler import CompileContext
    from eip.exchange import Exchange
    from eip.model import DynamicRouter


class DynamicRouterProcessor:
    def __init__(self, node: DynamicRouter, cache: ProducerCache, route_id: str) -> None:
        self.expression = node.expression
        self.delimiter = node.delimiter
        self.ignore_invalid = node.ignore_invalid_endpoints
        self.max_hops = node.max_hops
        self.node_id = node.node_id
        self.cache = cache
        self.route_id = route_id

    def process(self, exchange: Exchange) -> None:
        hops = 0
        while True:
            uris = uris_of(self.expression(exchange), self.delimiter, self.route_id, self.node_id, "dynamic_router")
            if not uris:
                return
            for uri in uris:
                hops += 1  # a skipped invalid URI counts too, so a loop on one still ends
                if hops > self.max_hops:
                    raise ExchangeError(
                        f"dynamic_router: more than max_hops={self.max_hops} hops (next URI {uri!r}); "
                        "the expression must return None when routing is done",
                        route_id=self.route_id,
                        node_id=self.node_id,
                    )
                lease = self.cache.resolve(uri, self.ignore_invalid)
                if lease is None:
                    continue
                try:
                    lease.value.process(exchange)
                finally:
                    self.cache.release(lease)
                if exchange.route_stop:
                    return


def compile_dynamic_router(node: DynamicRouter, ctx: CompileContext) -> DynamicRouterProcessor:
    if not callable(node.expression):
        raise ctx.error(f"dynamic_router() needs an expression, got {node.expression!r}")
    ctx.positive(node.max_hops, "max_hops")
    cache = hop_cache(ctx, node, slip=True, what="dynamic_router")
    return DynamicRouterProcessor(node, cache, ctx.route_id)

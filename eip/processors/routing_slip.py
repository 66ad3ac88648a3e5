"""Routing slip: route the exchange through a list of endpoints computed once, in order.

The expression is evaluated **once**, when the exchange reaches the slip; it gives a list of
URIs or a ``delimiter``-separated text (as ``recipient_list``). The endpoints then run as a
pipeline on the exchange itself: each hop sees what the previous hop left (its reply for
request-reply endpoints). Before each hop ``CamelSlipEndpoint`` is set to its URI. Each hop
runs under the route's error handler; the slip ends early when a failure is handled (dead
letter channel, handled ``on_exception``) or the exchange was stopped, and an unhandled
failure propagates. ``ignore_invalid_endpoints`` skips URIs that do not resolve. Producers are
kept in the node's producer cache (``cache_size``, see ``eip.producer_cache``; the URIs are
data: no placeholder in them is resolved, and an ``sql:`` URI is refused).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eip.processors.recipient_list import acquire_all, hop_cache, uris_of
from eip.producer_cache import ProducerCache

if TYPE_CHECKING:
    from eip.compiler import CompileContext
    from eip.exchange import Exchange
    from eip.model import RoutingSlip


class RoutingSlipProcessor:
    def __init__(self, node: RoutingSlip, cache: ProducerCache, route_id: str) -> None:
        self.expression = node.expression
        self.delimiter = node.delimiter
        self.ignore_invalid = node.ignore_invalid_endpoints
        self.node_id = node.node_id
        self.cache = cache
        self.route_id = route_id

    def process(self, exchange: Exchange) -> None:
        uris = uris_of(self.expression(exchange), self.delimiter, self.route_id, self.node_id, "routing_slip")
        # Resolve every hop before the first runs: a bad URI fails the slip before any send.
        leases = acquire_all(self.cache, uris, self.ignore_invalid)
        try:
            for lease in leases:
                lease.value.process(exchange)
                if exchange.route_stop:
                    return
        finally:
            for lease in leases:
                self.cache.release(lease)


def compile_routing_slip(node: RoutingSlip, ctx: CompileContext) -> RoutingSlipProcessor:
    if not callable(node.expression):
        raise ctx.error(f"routing_slip() needs an expression, got {node.expression!r}")
    cache = hop_cache(ctx, node, slip=True, what="routing_slip")
    return RoutingSlipProcessor(node, cache, ctx.route_id)

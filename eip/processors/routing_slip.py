"""Routing slip: route the exchange through a list of endpoints computed once, in order.

The expression is evaluated **once**, when the exchange reaches the slip; it gives a list of
URIs or a ``delimiter``-separated text (as ``recipient_list``). The endpoints then run as a
pipeline on the exchange itself: each hop sees what the previous hop left (its reply for
request-reply endpoints). Before each hop ``CamelSlipEndpoint`` is set to its URI. Each hop
runs under the route's error handler; the slip ends early when a failure is handled (dead
letter channel, handled ``on_exception``) or the exchange was stopped, and an unhandled
failure propagates. ``ignore_invalid_endpoints`` skips URIs that do not resolve.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eip.processors.recipient_list import ProducerCache, uris_of

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
        uris = uris_of(self.expression(exchange), self.delimiter, self.route_id, self.node_id,
                       "routing_slip")
        # Resolve every hop before the first runs: a bad URI fails the slip before any send.
        hops: list[Any] = []
        for uri in uris:
            hop = self.cache.resolve(uri, self.ignore_invalid)
            if hop is not None:
                hops.append(hop)
        for hop in hops:
            hop.process(exchange)
            if exchange.route_stop:
                return


def compile_routing_slip(node: RoutingSlip, ctx: CompileContext) -> RoutingSlipProcessor:
    if not callable(node.expression):
        raise ctx.error(f"routing_slip() needs an expression, got {node.expression!r}")
    cache = ctx.add_service(ProducerCache(ctx, node, slip=True))
    return RoutingSlipProcessor(node, cache, ctx.route_id)

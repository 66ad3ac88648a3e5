"""Recipient list: send a copy to each endpoint URI that an expression gives at run time.

The expression gives a list (or any iterable) of URIs, or a text of URIs separated by
``delimiter`` (``","``); surrounding spaces are ignored; nothing (None, empty) sends nothing.
Endpoints are resolved per exchange through the node's producer cache (``eip.producer_cache``:
``cache_size`` producers, default 1000; the URIs are data, so placeholders in them are not
resolved, and an ``sql:`` URI is refused). ``ignore_invalid_endpoints`` skips a URI that does not resolve
(unknown scheme, bad option) instead of failing. Copies, result, ``parallel``, ``strategy``,
``stop_on_exception`` and ``timeout`` work as in ``multicast`` (without a strategy the result
is the last reply); each copy gets ``CamelMulticastIndex``/``CamelMulticastComplete`` and
``CamelToEndpoint``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eip import constants as c
from eip.errors import ExchangeError, ExpressionError
from eip.processors.multicast import FanOut, multicast_fan_out
from eip.processors.pipeline import Pipeline
from eip.producer_cache import Lease, ProducerCache, check_cache_size, open_producer

if TYPE_CHECKING:
    from eip.compiler import CompileContext
    from eip.exchange import Exchange
    from eip.model import RecipientList


def uris_of(value: Any, delimiter: str, route_id: str, node_id: str | None, what: str) -> list[str]:
    """The URIs an expression gave: a delimited text or an iterable of texts; blanks dropped."""
    if value is None:
        return []
    if isinstance(value, str):
        items: Any = value.split(delimiter) if delimiter else [value]
    elif isinstance(value, (bytes, bytearray)):
        items = bytes(value).decode("utf-8").split(delimiter)
    else:
        try:
            items = list(value)
        except TypeError:
            raise ExpressionError(
                f"{what}: the expression gave a {type(value).__name__}, not a URI text or a list of URIs",
                route_id=route_id,
                node_id=node_id,
            ) from None
    uris = []
    for item in items:
        if item is None:
            continue
        if not isinstance(item, str):
            uri = getattr(item, "uri", None)  # an Endpoint object
            if not isinstance(uri, str):
                raise ExpressionError(
                    f"{what}: recipient {item!r} is not a URI text", route_id=route_id, node_id=node_id
                )
            item = uri
        item = item.strip()
        if item:
            uris.append(item)
    return uris


class SendHop:
    """Sends to one resolved endpoint; ``slip`` also records the URI as ``CamelSlipEndpoint``."""

    __slots__ = ("producer", "slip", "uri")

    def __init__(self, uri: str, producer: Any, slip: bool) -> None:
        self.uri = uri
        self.producer = producer
        self.slip = slip

    def process(self, exchange: Exchange) -> None:
        exchange.properties[c.SLIP_ENDPOINT if self.slip else c.TO_ENDPOINT] = self.uri
        self.producer.process(exchange)


def hop_cache(ctx: CompileContext, node: Any, slip: bool, what: str) -> ProducerCache:
    """The node's producer cache, whose entries are one-step pipelines under the route's error
    handler (registered as a route service)."""
    handler = ctx.handler
    node_id = node.node_id or ""

    def open_hop(uri: str, endpoint: Any) -> tuple[Pipeline, Any]:
        producer, _ = open_producer(uri, endpoint)
        return Pipeline((SendHop(uri, producer, slip),), (node_id,), handler, (endpoint.uri,)), producer

    size = check_cache_size(node.cache_size, ctx, what)
    return ctx.add_service(ProducerCache(ctx.engine, ctx.route_id, node, what=what, size=size, opener=open_hop))


def acquire_all(cache: ProducerCache, uris: list[str], ignore_invalid: bool) -> list[Lease]:
    """Leases for every URI that resolves (all or none: a failure releases what it took)."""
    leases: list[Lease] = []
    try:
        for uri in uris:
            lease = cache.resolve(uri, ignore_invalid)
            if lease is not None:
                leases.append(lease)
    except BaseException:
        for lease in leases:
            cache.release(lease)
        raise
    return leases


class _LeasedHop:
    """One recipient: the part that runs it gives its lease back when it finishes, so a part
    still running after a parallel ``timeout`` keeps its producer; ``discard`` gives back the
    lease of a part that never started."""

    __slots__ = ("cache", "lease", "token")

    def __init__(self, cache: ProducerCache, lease: Lease) -> None:
        self.cache = cache
        self.lease = lease
        self.token: list[None] = [None]  # popped once (atomically) by whoever gives the lease back

    def process(self, exchange: Exchange) -> None:
        try:
            self.token.pop()
        except IndexError:  # the fan-out finished first and gave the lease back: do not send
            raise ExchangeError(
                "recipient_list: a recipient started after the recipient list finished",
                route_id=self.cache.route_id,
                node_id=self.cache.node_id,
            ) from None
        try:
            self.lease.value.process(exchange)
        finally:
            self.cache.release(self.lease)

    def discard(self) -> None:
        try:
            self.token.pop()
        except IndexError:
            return
        self.cache.release(self.lease)


class RecipientListProcessor:
    def __init__(self, node: RecipientList, cache: ProducerCache, fan_out: FanOut, route_id: str) -> None:
        self.expression = node.expression
        self.delimiter = node.delimiter
        self.ignore_invalid = node.ignore_invalid_endpoints
        self.node_id = node.node_id
        self.cache = cache
        self.fan_out = fan_out
        self.route_id = route_id

    def process(self, exchange: Exchange) -> None:
        uris = uris_of(self.expression(exchange), self.delimiter, self.route_id, self.node_id, "recipient_list")
        leases = acquire_all(self.cache, uris, self.ignore_invalid)
        if not leases:
            return
        hops = [_LeasedHop(self.cache, lease) for lease in leases]
        try:
            pairs = []
            last = len(hops) - 1
            for index, hop in enumerate(hops):
                sub = exchange.copy()
                props = sub.properties
                props[c.MULTICAST_INDEX] = index
                props[c.MULTICAST_COMPLETE] = index == last
                pairs.append((hop, sub))
            self.fan_out.run(exchange, pairs)
        finally:
            for hop in hops:
                hop.discard()


def compile_recipient_list(node: RecipientList, ctx: CompileContext) -> RecipientListProcessor:
    if not callable(node.expression):
        raise ctx.error(f"recipient_list() needs an expression, got {node.expression!r}")
    fan_out = multicast_fan_out(node, ctx, "recipient_list")
    cache = hop_cache(ctx, node, slip=False, what="recipient_list")
    return RecipientListProcessor(node, cache, fan_out, ctx.route_id)

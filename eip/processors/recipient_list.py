"""Recipient list: send a copy to each endpoint URI that an expression gives at run time.

The expression gives a list (or any iterable) of URIs, or a text of URIs separated by
``delimiter`` (``","``); surrounding spaces are ignored; nothing (None, empty) sends nothing.
Endpoints are resolved per exchange through the engine, with an LRU cache of producers that
is stopped with the route. ``ignore_invalid_endpoints`` skips a URI that does not resolve
(unknown scheme, bad option) instead of failing. Copies, result, ``parallel``, ``strategy``,
``stop_on_exception`` and ``timeout`` work as in ``multicast`` (without a strategy the result
is the last reply); each copy gets ``CamelMulticastIndex``/``CamelMulticastComplete`` and
``CamelToEndpoint``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from eip import constants as c
from eip.errors import ConfigurationError, ExpressionError
from eip.processors.multicast import FanOut, check_strategy, parse_timeout
from eip.processors.parallel import shared_pool
from eip.processors.pipeline import Pipeline

if TYPE_CHECKING:
    from eip.compiler import CompileContext
    from eip.exchange import Exchange
    from eip.model import RecipientList

#: Producers kept per recipient list / routing slip / dynamic router (Camel's ProducerCache).
DEFAULT_CACHE_SIZE = 1000


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
            raise ExpressionError(f"{what}: the expression gave a {type(value).__name__}, not a URI "
                                  "text or a list of URIs", route_id=route_id, node_id=node_id) from None
    uris = []
    for item in items:
        if item is None:
            continue
        if not isinstance(item, str):
            uri = getattr(item, "uri", None)  # an Endpoint object
            if not isinstance(uri, str):
                raise ExpressionError(f"{what}: recipient {item!r} is not a URI text",
                                      route_id=route_id, node_id=node_id)
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


class ProducerCache:
    """URI -> a one-step pipeline sending to it under the route's error handler, LRU-bounded.

    Producers are created and started on first use and stopped when evicted or when the route
    stops (this cache is a route service)."""

    def __init__(self, ctx: CompileContext, node: Any, slip: bool, size: int = DEFAULT_CACHE_SIZE) -> None:
        self.engine = ctx.engine
        self.route_id = ctx.route_id
        self.handler = ctx.handler
        self.node = node  # its id and location name the culprit in resolution errors
        self.node_id = node.node_id or ""
        self.slip = slip
        self.size = size
        self._cache: OrderedDict[str, Pipeline] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, uri: str) -> Pipeline:
        """The pipeline for ``uri``; raises ConfigurationError when the URI does not resolve."""
        with self._lock:
            hop = self._cache.get(uri)
            if hop is not None:
                self._cache.move_to_end(uri)
                return hop
        endpoint = self.engine.get_endpoint(uri, _route_id=self.route_id, _node=self.node)
        producer = endpoint.create_producer()
        producer.start()
        hop = Pipeline((SendHop(uri, producer, self.slip),), (self.node_id,), self.handler, (endpoint.uri,))
        evicted = []
        with self._lock:
            existing = self._cache.get(uri)
            if existing is not None:  # another thread won the race
                evicted.append(hop)
                hop = existing
            else:
                self._cache[uri] = hop
                while len(self._cache) > self.size:
                    evicted.append(self._cache.popitem(last=False)[1])
        for old in evicted:
            _stop_hop(old)
        return hop

    def resolve(self, uri: str, ignore_invalid: bool) -> Pipeline | None:
        try:
            return self.get(uri)
        except ConfigurationError:
            if ignore_invalid:
                return None
            raise

    def __len__(self) -> int:
        with self._lock:
            return len(self._cache)

    def start(self) -> None:
        pass

    def stop(self) -> None:
        with self._lock:
            hops = list(self._cache.values())
            self._cache.clear()
        for hop in hops:
            _stop_hop(hop)


def _stop_hop(hop: Pipeline) -> None:
    for processor in hop.processors:
        processor.producer.stop()


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
        uris = uris_of(self.expression(exchange), self.delimiter, self.route_id, self.node_id,
                       "recipient_list")
        hops = []
        for uri in uris:
            hop = self.cache.resolve(uri, self.ignore_invalid)
            if hop is not None:
                hops.append(hop)
        if not hops:
            return
        pairs = []
        last = len(hops) - 1
        for index, hop in enumerate(hops):
            sub = exchange.copy()
            props = sub.properties
            props[c.MULTICAST_INDEX] = index
            props[c.MULTICAST_COMPLETE] = index == last
            pairs.append((hop, sub))
        self.fan_out.run(exchange, pairs)


def compile_recipient_list(node: RecipientList, ctx: CompileContext) -> RecipientListProcessor:
    if not callable(node.expression):
        raise ctx.error(f"recipient_list() needs an expression, got {node.expression!r}")
    check_strategy(node.strategy, ctx, "recipient_list")
    timeout = parse_timeout(node.timeout, node.parallel, ctx, "recipient_list")
    cache = ctx.add_service(ProducerCache(ctx, node, slip=False))
    fan_out = FanOut(strategy=node.strategy, keep_parent=False,
                     own=(c.MULTICAST_INDEX, c.MULTICAST_COMPLETE), route_id=ctx.route_id,
                     node_id=node.node_id, parallel=node.parallel,
                     pool=shared_pool(ctx) if node.parallel else None,
                     stop_on_exception=node.stop_on_exception, timeout=timeout)
    return RecipientListProcessor(node, cache, fan_out, ctx.route_id)

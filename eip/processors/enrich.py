"""Content Enricher: ``enrich`` (request-reply to a resource) and ``poll_enrich`` (poll one message).

Both merge the resource's message into the exchange with a strategy
``(original, resource) -> exchange``, as in Camel. Without a strategy the resource's message
(body and headers) replaces the exchange's message and its properties are copied over (Camel's
CopyAggregationStrategy). A strategy returning an exchange other than
``original`` has its message, properties and exception copied onto the original (whose
exchange pattern is kept); returning None is an error.

``enrich(uri)``: a copy of the exchange is sent ``InOut`` to the resource endpoint; its reply
is merged. A failure of the resource propagates (the exchange fails), unless
``aggregate_on_exception=True``: then the strategy is called with the failed resource exchange
(its ``exception`` set) and decides.

``poll_enrich(uri, timeout=None)``: one message is taken from an endpoint that can be polled
(see :class:`PollingEndpoint`): ``timeout`` None waits for ever (Camel's -1), 0 does not wait,
``n`` waits up to n seconds. When nothing arrives the strategy is called with None, or without
a strategy the exchange is left unchanged. The polled message's own unit of work (if any) is
completed when the enriched exchange completes, so its source is acknowledged (or keeps it, on
failure) together with the exchange.

The URI of either may be a ``${...}`` template or an expression, evaluated per exchange through
the node's producer cache (``cache_size``, see ``eip.producer_cache``: placeholders are resolved
in the template only, never in exchange data; an ``sql:`` statement takes no exchange value).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from eip.errors import AggregationError, ConfigurationError
from eip.exchange import Exchange, ExchangePattern
from eip.producer_cache import (
    ComputedUri,
    Opener,
    ProducerCache,
    check_cache_size,
    open_producer,
)
from eip.strategies import check_strategy

if TYPE_CHECKING:
    from eip.compiler import CompileContext
    from eip.model import Enrich, PollEnrich


@runtime_checkable
class PollingEndpoint(Protocol):
    """An endpoint ``poll_enrich`` can take messages from (its optional ``poll`` method).

    ``poll(timeout)`` removes and returns the next exchange, or None when none arrived in time:
    ``timeout`` None waits for ever, 0 does not wait, a positive number waits up to that many
    seconds. The returned exchange may carry a unit of work; ``poll_enrich`` completes it with
    the enriched exchange (failure: its source keeps the message)."""

    uri: str

    def poll(self, timeout: float | None) -> Exchange | None: ...


def _copy_result(target: Exchange, result: Exchange) -> None:
    """Camel's copyResultsPreservePattern: ``target`` takes over what ``result`` holds."""
    if result is target:
        return
    target.message = result.message.copy()  # the polled exchange's completion may still read its own
    if result.properties is not target.properties:
        target.properties.update(result.properties)
    target.exception = result.exception
    target.route_stop = target.route_stop or result.route_stop
    target.rollback_only = target.rollback_only or result.rollback_only


class _Merger:
    __slots__ = ("node_id", "route_id", "strategy", "what")

    def __init__(self, strategy: Any, route_id: str, node_id: str | None, what: str) -> None:
        self.strategy = strategy
        self.route_id = route_id
        self.node_id = node_id
        self.what = what

    def merge(self, original: Exchange, resource: Exchange | None) -> None:
        """Merge, then raise the exception the merged result carries (if any)."""
        if self.strategy is None:  # Camel's CopyAggregationStrategy
            result = original if resource is None else resource
        else:
            result = self.strategy(original, resource)
            if not isinstance(result, Exchange):
                raise AggregationError(
                    f"{self.what}(): the aggregation strategy returned {result!r}, "
                    f"not an exchange (return the original or the resource exchange)",
                    route_id=self.route_id,
                    node_id=self.node_id,
                )
        _copy_result(original, result)
        if original.exception is not None:
            exc, original.exception = original.exception, None
            raise exc


class _Target:
    """A static endpoint URI, or a URI computed per exchange through the node's producer cache."""

    def __init__(self, ctx: CompileContext, node: Enrich | PollEnrich, what: str, opener: Opener) -> None:
        uri = node.uri
        self.uri: str | None = None
        self.dynamic: tuple[ComputedUri, ProducerCache] | None = None
        size = check_cache_size(node.cache_size, ctx, what)
        if isinstance(uri, str) and "${" not in uri:
            if not uri:
                raise ctx.error(f"{what}() needs an endpoint URI")
            self.uri = uri
            return
        computed = ComputedUri(ctx, uri, what)
        cache = ProducerCache(
            ctx.engine, ctx.route_id, node, what=what, size=size, opener=opener, statement=computed.statement
        )
        self.dynamic = computed, ctx.add_service(cache)


class EnrichProcessor:
    def __init__(self, target: _Target, producer: Any, merger: _Merger, aggregate_on_exception: bool) -> None:
        self.producer = producer
        self.dynamic = target.dynamic
        self.merger = merger
        self.aggregate_on_exception = aggregate_on_exception

    def process(self, exchange: Exchange) -> None:
        resource = exchange.copy()
        resource.pattern = ExchangePattern.IN_OUT
        resource.exception = None
        if self.dynamic is None:
            self._call(self.producer, resource)
        else:
            computed, cache = self.dynamic
            lease = cache.acquire(computed(exchange))
            try:
                self._call(lease.value, resource)
            finally:
                cache.release(lease)
        if resource.exception is not None and not self.aggregate_on_exception:
            error, resource.exception = resource.exception, None
            raise error
        self.merger.merge(exchange, resource)

    def _call(self, producer: Any, resource: Exchange) -> None:
        try:
            producer.process(resource)
        except Exception as exc:
            if not self.aggregate_on_exception:
                raise
            resource.exception = exc


def compile_enrich(node: Enrich, ctx: CompileContext) -> EnrichProcessor:
    target = _Target(ctx, node, "enrich", open_producer)
    check_strategy(node.strategy, ctx, "enrich", "(original, resource)")
    producer = None
    if target.uri is not None:
        producer = ctx.add_service(ctx.endpoint(target.uri).create_producer())
    return EnrichProcessor(
        target, producer, _Merger(node.strategy, ctx.route_id, node.node_id, "enrich"), node.aggregate_on_exception
    )


class PollEnrichProcessor:
    def __init__(self, target: _Target, endpoint: Any, merger: _Merger, timeout: float | None) -> None:
        self.dynamic = target.dynamic
        self.endpoint = endpoint
        self.merger = merger
        self.timeout = timeout

    def process(self, exchange: Exchange) -> None:
        if self.dynamic is None:
            polled = self.endpoint.poll(self.timeout)
        else:
            computed, cache = self.dynamic
            lease = cache.acquire(computed(exchange))
            try:
                polled = lease.value.poll(self.timeout)
            finally:
                cache.release(lease)
        if polled is not None:
            _hand_over(polled, exchange)
        self.merger.merge(exchange, polled)


def _polling_opener(ctx: CompileContext) -> Opener:
    route_id, node = ctx.route_id, ctx.node

    def open_polling(uri: str, endpoint: Any) -> tuple[Any, Any]:
        if not callable(getattr(endpoint, "poll", None)):
            raise ConfigurationError(
                f"poll_enrich(): endpoint '{endpoint.uri}' cannot be polled (it has no poll(timeout) method)",
                route_id=route_id,
                node_id=getattr(node, "node_id", None),
            )
        return endpoint, None

    return open_polling


def _hand_over(polled: Exchange, exchange: Exchange) -> None:
    """Complete the polled message's unit of work together with ``exchange``."""
    polled_uow = polled.unit_of_work
    if polled_uow is None or polled_uow is exchange.unit_of_work or polled_uow.finished:
        return
    uow = exchange.unit_of_work
    if uow is None or uow.finished:
        polled_uow.done(polled)
        return

    def completed(_: Exchange) -> None:
        polled_uow.done(polled)

    def failed(original: Exchange) -> None:
        polled.exception = original.exception or RuntimeError(
            f"exchange {original.exchange_id} that poll_enrich merged this message into failed"
        )
        polled_uow.done(polled)

    uow.add_synchronization(completed, failed)


def compile_poll_enrich(node: PollEnrich, ctx: CompileContext) -> PollEnrichProcessor:
    from eip.options import parse_duration

    target = _Target(ctx, node, "poll_enrich", _polling_opener(ctx))
    timeout = node.timeout
    if timeout is not None:
        try:
            timeout = parse_duration(timeout)
        except ValueError as exc:
            raise ctx.error(f"poll_enrich() timeout: {exc}") from None
        if timeout < 0:  # Camel's -1: block until a message arrives
            timeout = None
    check_strategy(node.strategy, ctx, "poll_enrich", "(original, resource)")
    endpoint = None
    if target.uri is not None:
        endpoint = ctx.endpoint(target.uri)
        if not callable(getattr(endpoint, "poll", None)):
            raise ctx.error(
                f"poll_enrich(): endpoint '{endpoint.uri}' cannot be polled "
                f"({type(endpoint).__name__} has no poll(timeout) method)"
            )
    return PollEnrichProcessor(
        target, endpoint, _Merger(node.strategy, ctx.route_id, node.node_id, "poll_enrich"), timeout
    )

"""Producer cache: what a dynamic send opens for a URI computed at run time.

Every dynamic send (``to_d``, ``recipient_list``, ``routing_slip``, ``dynamic_router``,
``enrich``, ``poll_enrich``) owns one :class:`ProducerCache` (a route service) and computes its
URIs with :class:`ComputedUri`. The rules that make exchange data safe to route on:

* ``{{placeholders}}`` are resolved once, in the static template, when the route is compiled;
  a value taken from the exchange is never resolved (it could name any property or variable).
* A value cannot add endpoint options: in the path it may not contain ``?``; in the query it is
  percent-encoded, so it stays the value of its own option. A token that starts the URI (or a
  URI computed by an expression) names the whole endpoint, as the recipient list pattern means.
* A component whose URI path is code (``Component.path_is_code``: ``sql:``) takes no value from
  the exchange in that path: a ``${...}`` there is a route error, and at run time the statement
  must be exactly the one the template declared (a value in the options cannot move the point
  where the statement ends); a URI computed wholly by an expression cannot reach such a
  component at all. Values belong in ``:#name`` parameters.
* Endpoints come from the engine's bounded registry of dynamic endpoints
  (``Engine.acquire_endpoint``), which stops what it evicts once no cache holds it.

The cache keeps at most ``size`` entries (Camel's ``cacheSize``, default 1000), least recently
used out first; -1 keeps none (each producer is stopped after its send). A send leases an entry
(``acquire``) and gives it back (``release``): an entry evicted while leased is stopped by its
last user, never under a running send. Two threads missing the same URI each open a producer;
the loser's is stopped at once, so every producer opened is either cached or stopped. A hit
takes one short lock; ``release`` takes none unless the entry was evicted.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from eip.errors import ConfigurationError, ExpressionError, RouteDefinitionError
from eip.uri import mask_uri, parse_uri

if TYPE_CHECKING:
    from eip.compiler import CompileContext
    from eip.component import Endpoint
    from eip.engine import Engine

log = logging.getLogger("eip.producer_cache")

#: Producers kept per dynamic send, as Camel's ProducerCache.
DEFAULT_CACHE_SIZE = 1000

#: ``open(uri, endpoint) -> (value, service)``: what a send uses, and what to stop when the entry
#: goes (None: nothing to stop).
Opener = Callable[[str, "Endpoint"], tuple[Any, Any]]


def open_producer(uri: str, endpoint: Endpoint) -> tuple[Any, Any]:
    producer = endpoint.create_producer()
    producer.start()
    return producer, producer


def check_cache_size(size: Any, ctx: CompileContext, what: str) -> int:
    """``None`` is the default; otherwise a positive int, or -1 to keep nothing."""
    if size is None:
        return DEFAULT_CACHE_SIZE
    if not isinstance(size, int) or isinstance(size, bool) or (size < 1 and size != -1):
        raise ctx.error(f"{what}(): cache_size must be a positive integer (or -1 to cache nothing), got {size!r}")
    return size


def _code_rule(scheme: str, what: str, problem: str = "") -> str:
    return (
        f"{what}(): '{scheme}:' endpoints run their URI path as code, so no value from the exchange "
        f"may go into it{problem}; write a fixed statement and pass values as :#name parameters "
        f"(e.g. sql:SELECT ... WHERE id = :#id, the value from the header or body 'id')"
    )


class ComputedUri:
    """The URI of a dynamic send: a ``${...}`` template (placeholders resolved once, here) or an
    expression. ``statement`` is the ``(scheme, path)`` a template fixes for a component whose
    path is code; None when the template leaves the scheme open or the URI is an expression."""

    __slots__ = ("node_id", "resolve", "route_id", "statement", "what")

    def __init__(self, ctx: CompileContext, uri: Any, what: str) -> None:
        from eip.expressions import Expression
        from eip.simple_language import compile_template

        self.what = what
        self.route_id = ctx.route_id
        self.node_id = ctx.node.node_id if ctx.node else None
        self.statement: tuple[str, str] | None = None
        if isinstance(uri, str):
            try:
                text = ctx.engine.resolve_placeholders(uri)
            except ConfigurationError as exc:
                raise ctx.error(exc.detail) from None
            if not text:
                raise ctx.error(f"{what}() needs an endpoint URI")
            self.statement = self._fixed_statement(ctx, text)
            self.resolve: Any = compile_template(text, self._quoting)
        elif isinstance(uri, Expression) or callable(uri):
            self.resolve = uri
        else:
            raise ctx.error(f"{what}() needs a URI, a ${{...}} template or an expression, got {uri!r}")

    def _quoting(self, before: str) -> Callable[[str], str] | None:
        """How a value goes into the template at a token preceded by ``before``: a token that
        starts the URI (no ``:`` yet) names the endpoint as an expression would, as it is; in the
        path a value may not contain ``?`` (it would add endpoint options); in the query it is
        percent-encoded, so it stays the value of its own option."""
        if ":" not in before:
            return None
        if "?" in before:
            return _quote_option_value
        return self._path_value

    def _path_value(self, value: str) -> str:
        if "?" in value:
            raise ExpressionError(
                f"{self.what}(): a value from the exchange put '?' into the endpoint path "
                f"({mask_uri(value)!r}); exchange data may not add endpoint options - "
                f"write the options in the template",
                route_id=self.route_id,
                node_id=self.node_id,
            )
        return value

    def _fixed_statement(self, ctx: CompileContext, text: str) -> tuple[str, str] | None:
        try:
            parsed = parse_uri(text)
        except ConfigurationError:
            return None  # not a URI until filled in (a computed scheme): checked per URI at run time
        component = ctx.engine.component(parsed.scheme)
        if not component.path_is_code:
            return None
        if "${" in parsed.path:
            node = ctx.node
            raise RouteDefinitionError(
                _code_rule(parsed.scheme, self.what),
                route_id=ctx.route_id,
                node_id=node.node_id if node else None,
                location=node.location if node else None,
            )
        return parsed.scheme, parsed.path

    def __call__(self, exchange: Any) -> str:
        uri = self.resolve(exchange)
        if not isinstance(uri, str) or not uri:
            raise ExpressionError(
                f"{self.what}(): the URI expression gave {uri!r}", route_id=self.route_id, node_id=self.node_id
            )
        return uri


def _quote_option_value(value: str) -> str:
    return quote(value, safe="")  # parse_uri decodes it back: '&' and '=' stay inside the value


class Lease:
    """One cached producer (or other opened value) and who is using it right now."""

    __slots__ = ("closed", "endpoint", "evicted", "service", "uri", "users", "value")

    def __init__(self, uri: str, endpoint: Endpoint, value: Any, service: Any) -> None:
        self.uri = uri
        self.endpoint = endpoint
        self.value = value
        self.service = service
        # One mark per send using the entry. Appended under the cache lock, popped without it
        # (list.pop is atomic): eviction sets ``evicted`` before it looks at ``users``, and a
        # user pops before it looks at ``evicted``, so one of them always sees the other.
        self.users: list[None] = []
        self.evicted = False
        self.closed = False


class ProducerCache:
    """URI -> lease, LRU-bounded, for one dynamic send node (see the module docstring)."""

    def __init__(
        self,
        engine: Engine,
        route_id: str,
        node: Any,
        *,
        what: str,
        size: int = DEFAULT_CACHE_SIZE,
        opener: Opener = open_producer,
        statement: tuple[str, str] | None = None,
    ) -> None:
        self.engine = engine
        self.route_id = route_id
        self.node = node  # its id and location name the culprit in resolution errors
        self.node_id = getattr(node, "node_id", None)
        self.what = what
        self.size = size
        self.opener = opener
        self.statement = statement
        self._entries: OrderedDict[str, Lease] = OrderedDict()
        self._lock = threading.Lock()
        self._stopped = False

    def acquire(self, uri: str) -> Lease:
        """Lease the entry for ``uri``, opening it on a miss; pair with :meth:`release`.
        Raises ConfigurationError when the URI does not resolve or is refused."""
        with self._lock:
            lease = self._entries.get(uri)
            if lease is not None:
                self._entries.move_to_end(uri)
                lease.users.append(None)
                return lease
        return self._open(uri)

    def release(self, lease: Lease) -> None:
        lease.users.pop()
        if lease.evicted and not lease.users:
            self._close(lease)

    def _open(self, uri: str) -> Lease:
        location = getattr(self.node, "location", None)
        try:
            parsed = parse_uri(uri)
            code = self.engine.component(parsed.scheme).path_is_code
        except ConfigurationError as exc:
            raise exc.at_node(self.route_id, self.node) from exc
        if code and (parsed.scheme, parsed.path) != self.statement:
            problem = (
                " (this URI was computed at run time, statement included)"
                if self.statement is None
                else " (a value in the options changed where the template's statement ends)"
            )
            raise ConfigurationError(
                _code_rule(parsed.scheme, self.what, problem),
                route_id=self.route_id,
                node_id=self.node_id,
                location=location,
            )
        endpoint = self.engine.acquire_endpoint(uri, route_id=self.route_id, node=self.node)
        try:
            value, service = self.opener(uri, endpoint)
        except BaseException:
            self.engine.release_endpoint(endpoint)
            raise
        fresh = Lease(uri, endpoint, value, service)
        closing: list[Lease] = []
        with self._lock:
            lease = self._entries.get(uri)
            if lease is not None:  # another thread opened it meanwhile: use theirs, close ours
                self._entries.move_to_end(uri)
                closing.append(fresh)
            else:
                lease = fresh
                if self.size < 1 or self._stopped:
                    lease.evicted = True  # not kept: closed by its release
                else:
                    self._entries[uri] = lease
                    while len(self._entries) > self.size:
                        old = self._entries.popitem(last=False)[1]
                        old.evicted = True
                        if not old.users:
                            closing.append(old)
            lease.users.append(None)
        for old in closing:
            self._close(old)
        return lease

    def _close(self, lease: Lease) -> None:
        with self._lock:
            if lease.closed:
                return
            lease.closed = True
        try:
            if lease.service is not None:
                lease.service.stop()
        except Exception as exc:  # noqa: BLE001 - an eviction must not fail the send that caused it
            log.warning("route '%s': producer for %s failed to stop: %s", self.route_id, mask_uri(lease.uri), exc)
        finally:
            self.engine.release_endpoint(lease.endpoint)

    def resolve(self, uri: str, ignore_invalid: bool) -> Lease | None:
        """``acquire``, or None for a URI that does not resolve when ``ignore_invalid``."""
        try:
            return self.acquire(uri)
        except ConfigurationError:
            if ignore_invalid:
                return None
            raise

    def __len__(self) -> int:
        return len(self._entries)

    def uris(self) -> list[str]:
        with self._lock:
            return list(self._entries)

    def leases(self) -> Iterator[Lease]:
        with self._lock:
            return iter(list(self._entries.values()))

    def start(self) -> None:
        self._stopped = False

    def stop(self) -> None:
        """Close every entry; one still in use is closed by its last user."""
        with self._lock:
            self._stopped = True
            leases = list(self._entries.values())
            self._entries.clear()
            idle = []
            for lease in leases:
                lease.evicted = True
                if not lease.users:
                    idle.append(lease)
        for lease in idle:
            self._close(lease)

"""The engine: routes, endpoints, components, lifecycle and statistics.

``Engine`` compiles every route when it is added (so every mistake surfaces from
``add_routes``), starts services then consumers in startup order, and stops gracefully:
consumers first, then in-flight exchanges get ``shutdown_timeout`` seconds to finish, then
services (aggregators complete their groups if told to), producers and components.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

from eip import model as m
from eip.compiler import CompileContext
from eip.component import Component, Endpoint
from eip.datasources import DataSource, DataSourceRegistry
from eip.dsl import RouteBuilder
from eip.error_handler import CompiledClause, ErrorHandler
from eip.errors import ConfigurationError, RouteDefinitionError
from eip.registry import ComponentRegistry
from eip.route import Route, RouteEntry
from eip.template import ProducerTemplate
from eip.uri import mask_uri, parse_uri

log = logging.getLogger("eip.engine")

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_.\-]+)\s*(?::([^}]*))?\}\}")
#: Endpoints kept that dynamic sends created and no producer cache holds (Camel's 1000).
DEFAULT_ENDPOINT_CACHE_SIZE = 1000


class _Held:
    """A dynamic endpoint and how many producer caches hold it."""

    __slots__ = ("count", "endpoint")

    def __init__(self, endpoint: Endpoint, count: int) -> None:
        self.endpoint = endpoint
        self.count = count


class Engine:
    """Runs routes. Use as a context manager, or call ``start()`` and ``stop()``.

    ``properties`` fill ``{{name}}`` placeholders in URIs (then the environment variable
    ``EIP_NAME``, never a bare ``NAME``); ``{{name:default}}`` gives a default.
    ``endpoint_cache_size`` bounds the endpoints that dynamic sends (``to_d``, ...) create and
    no producer cache holds (see :meth:`acquire_endpoint`)."""

    def __init__(
        self,
        routes: Iterable[Any] = (),
        *,
        registry: ComponentRegistry | None = None,
        properties: Mapping[str, Any] | None = None,
        shutdown_timeout: float = 10.0,
        error_handler: Any = None,
        endpoint_cache_size: int = DEFAULT_ENDPOINT_CACHE_SIZE,
    ) -> None:
        if not isinstance(endpoint_cache_size, int) or isinstance(endpoint_cache_size, bool) or endpoint_cache_size < 1:
            raise ConfigurationError(f"endpoint_cache_size must be a positive integer, got {endpoint_cache_size!r}")
        self.endpoint_cache_size = endpoint_cache_size
        self.registry = registry if registry is not None else ComponentRegistry()
        self.properties: dict[str, Any] = dict(properties or {})
        self.shutdown_timeout = shutdown_timeout
        self.default_error_handler = error_handler or m.DefaultErrorHandler()
        self._components: dict[str, Component] = {}
        self._endpoints: dict[str, Endpoint] = {}
        # The keys of _endpoints that only dynamic sends created, oldest use first (see acquire_endpoint).
        self._dynamic: OrderedDict[str, _Held] = OrderedDict()
        self._routes: dict[str, Route] = {}
        self._route_counter = 0
        self._lock = threading.RLock()
        self._stop_lock = threading.Lock()
        self.state = "stopped"
        self.services: list[Any] = []
        self._template: ProducerTemplate | None = None
        self.started_event = threading.Event()
        self.listeners: list[Any] = []  # fn(route_id, exchange) after each exchange leaves a route
        self.datasources = DataSourceRegistry(lambda key: self.properties.get(key))
        if routes:
            self.add_routes(*routes)

    # -- context manager ----------------------------------------------------------------------
    def __enter__(self) -> Engine:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- components and endpoints ---------------------------------------------------------------
    def add_component(self, scheme: str, component: Component | type[Component]) -> None:
        """Use ``component`` for ``scheme`` in this engine (a class or a ready instance)."""
        if isinstance(component, type):
            self.registry.register(scheme, component)
            component = component(self, scheme)
        self._components[scheme.lower()] = component

    def component(self, scheme: str) -> Component:
        scheme = scheme.lower()
        with self._lock:
            component = self._components.get(scheme)
            if component is None:
                cls = self.registry.get(scheme)
                component = cls(self, scheme)
                self._components[scheme] = component
                if self.state == "started":
                    component.start()
            return component

    def add_datasource(self, name: str, url: Any, **options: Any) -> DataSource:
        """Register a named database for ``sql:`` endpoints and SQL repositories: a SQLAlchemy
        URL (``postgresql+psycopg://user:pw@host/db``) and ``create_engine`` options."""
        return self.datasources.add(name, url, **options)

    def datasource(self, name: str = "default") -> DataSource:
        """The datasource ``name`` (see ``eip.datasources``); raises ConfigurationError if unknown."""
        return self.datasources.get(name)

    def resolve_placeholders(self, text: str) -> str:
        """Fill ``{{name}}`` / ``{{name:default}}`` from the properties, then the environment
        variable ``EIP_NAME`` (upper case, every other character ``_``); only ``EIP_`` variables
        are read, so a placeholder cannot reach the rest of the process environment. Apply it to
        configuration (route definitions), never to exchange data."""

        def lookup(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            env_name = "EIP_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()
            for source in (self.properties.get(name), os.environ.get(env_name)):
                if source is not None:
                    return str(source)
            if default is not None:
                return default
            raise ConfigurationError(
                f"property placeholder '{{{{{name}}}}}' in {mask_uri(text)!r} has no value "
                f"(set it in the engine properties or the environment as {env_name})"
            )

        return _PLACEHOLDER.sub(lookup, text) if "{{" in text else text

    def get_endpoint(self, uri: str) -> Endpoint:
        """The endpoint for ``uri`` (created on first use), placeholders resolved. ``seda:in`` and
        ``seda:in?concurrent_consumers=4`` are the same endpoint. An endpoint asked for here is
        kept for the engine's life (one a dynamic send created is kept from now on)."""
        return self._endpoint(self.resolve_placeholders(uri), dynamic=False)

    def _declared_endpoint(self, uri: str, route_id: str, node: Any) -> Endpoint:
        """:meth:`get_endpoint` for a route being compiled: an error names the route and ``node``."""
        try:
            return self.get_endpoint(uri)
        except ConfigurationError as exc:
            if exc.route_id is None:
                raise exc.at_node(route_id, node) from exc
            raise

    def acquire_endpoint(self, uri: str, *, route_id: str | None = None, node: Any = None) -> Endpoint:
        """The endpoint for a URI computed at run time (``to_d``, ``recipient_list``, ...), held
        until :meth:`release_endpoint`. The URI is taken as it is: no placeholder is resolved in
        it, since it may hold exchange data. An endpoint that no route declared and no one asked
        for through :meth:`get_endpoint` is dynamic: at most ``endpoint_cache_size`` dynamic
        endpoints that nothing holds are kept; the least recently used are stopped and dropped."""
        try:
            return self._endpoint(uri, dynamic=True)
        except ConfigurationError as exc:
            if route_id is not None and exc.route_id is None:
                raise exc.at_node(route_id, node) from exc
            raise

    def release_endpoint(self, endpoint: Endpoint) -> None:
        """Give back an endpoint from :meth:`acquire_endpoint`."""
        key = endpoint.component.endpoint_key(endpoint.parsed)
        with self._lock:
            held = self._dynamic.get(key)
            if held is None or held.endpoint is not endpoint:
                return  # static by now (or dropped with a failed add_routes)
            held.count -= 1
            evicted = self._evict_dynamic() if held.count <= 0 else []
        self._stop_evicted(evicted)

    def _endpoint(self, text: str, dynamic: bool) -> Endpoint:
        evicted: list[Endpoint] = []
        parsed = parse_uri(text)
        with self._lock:
            component = self.component(parsed.scheme)
            key = component.endpoint_key(parsed)
            endpoint = self._endpoints.get(key)
            if endpoint is None:
                endpoint = component.create_endpoint(parsed)
                endpoint.validate()
                self._endpoints[key] = endpoint
                if self.state == "started":
                    try:
                        endpoint.start()
                    except BaseException:
                        if dynamic:  # nobody will release it: do not keep it
                            del self._endpoints[key]
                        raise
                if dynamic:
                    self._dynamic[key] = _Held(endpoint, 1)
                    evicted = self._evict_dynamic()
            else:
                if parsed.options:
                    spec = type(endpoint).options
                    given = spec.parse_given(parsed.query, mask_uri(parsed.text, spec.secrets()))
                    endpoint.merge_options(parsed, given)
                    endpoint.validate()
                held = self._dynamic.get(key)
                if held is not None and held.endpoint is not endpoint:
                    del self._dynamic[key]  # stale (its endpoint went with a failed add_routes)
                elif held is not None and dynamic:
                    held.count += 1
                    self._dynamic.move_to_end(key)
                elif held is not None:
                    del self._dynamic[key]  # declared now: kept from here on
        self._stop_evicted(evicted)
        return endpoint

    def _evict_dynamic(self) -> list[Endpoint]:
        """Drop the least recently used dynamic endpoints nothing holds, down to the bound."""
        excess = len(self._dynamic) - self.endpoint_cache_size
        if excess <= 0:
            return []
        keys = []
        for key, held in self._dynamic.items():
            if held.count <= 0:
                keys.append(key)
                if len(keys) == excess:
                    break
        evicted = []
        for key in keys:
            endpoint = self._dynamic.pop(key).endpoint
            if self._endpoints.get(key) is endpoint:
                del self._endpoints[key]
            evicted.append(endpoint)
        return evicted

    def _stop_evicted(self, endpoints: list[Endpoint]) -> None:
        for endpoint in endpoints:
            try:
                endpoint.stop()
            except Exception as exc:  # noqa: BLE001 - an eviction must not fail the send that caused it
                log.warning("evicted endpoint %s failed to stop: %s", endpoint.uri, exc)

    def endpoints(self) -> list[Endpoint]:
        with self._lock:
            return list(self._endpoints.values())

    def has_endpoint(self, uri: str) -> bool:
        parsed = parse_uri(self.resolve_placeholders(uri))
        component = self._components.get(parsed.scheme)
        return component is not None and component.endpoint_key(parsed) in self._endpoints

    @property
    def template(self) -> ProducerTemplate:
        if self._template is None:
            self._template = ProducerTemplate(self)
        return self._template

    # -- routes -------------------------------------------------------------------------------------
    def add_routes(self, *builders: Any) -> list[str]:
        """Add routes from RouteBuilder instances or classes, or route definitions.

        Every route is built and compiled before any is added, so a mistake anywhere adds none."""
        definitions: list[m.RouteDefinition] = []
        for builder in builders:
            if isinstance(builder, type) and issubclass(builder, RouteBuilder):
                builder = builder()
            if isinstance(builder, RouteBuilder):
                definitions.extend(builder.build())
            elif isinstance(builder, m.RouteDefinition):
                definitions.append(builder)
            elif callable(builder):
                from eip.dsl import FunctionRouteBuilder

                definitions.extend(FunctionRouteBuilder(builder).build())
            else:
                raise ConfigurationError(f"add_routes() takes RouteBuilder objects, got {builder!r}")
        with self._lock:
            named = []
            taken = set(self._routes)
            for definition in definitions:
                if not definition.id_given:
                    self._route_counter += 1
                    while f"route{self._route_counter}" in taken:
                        self._route_counter += 1
                    definition = _replace_id(definition, f"route{self._route_counter}")
                if definition.route_id in taken:
                    raise RouteDefinitionError(
                        f"route id '{definition.route_id}' is used twice", route_id=definition.route_id
                    )
                taken.add(definition.route_id)
                named.append(definition)
            snapshot = self._endpoint_snapshot()
            try:
                compiled = [self._compile(definition) for definition in named]
            except Exception:
                self._restore_endpoints(snapshot)  # a failed batch leaves no trace
                raise
            for route in compiled:
                self._routes[route.route_id] = route
            if self.state == "started":
                self._start_routes([route for route in compiled if route.definition.auto_startup])
            return [route.route_id for route in compiled]

    def _endpoint_snapshot(self) -> dict[str, tuple[Endpoint, dict[str, Any], dict[str, Any], str]]:
        return {key: (ep, dict(ep.given), dict(ep.values), ep.uri) for key, ep in self._endpoints.items()}

    def _restore_endpoints(self, snapshot: dict[str, tuple[Endpoint, dict[str, Any], dict[str, Any], str]]) -> None:
        for key in list(self._endpoints):
            if key not in snapshot:
                del self._endpoints[key]
        for endpoint, given, values, uri in snapshot.values():
            endpoint.given, endpoint.values, endpoint.uri = given, values, uri

    def _compile(self, definition: m.RouteDefinition, interceptors: Iterable[Any] = ()) -> Route:
        handler_def = definition.error_handler or self.default_error_handler
        if not isinstance(handler_def, (m.DefaultErrorHandler, m.DeadLetterChannel)):
            raise ConfigurationError(
                f"error_handler must be dead_letter_channel(...) or default_error_handler(...), got {handler_def!r}",
                route_id=definition.route_id,
            )
        ctx = CompileContext(self, definition.route_id, None, tuple(interceptors))
        dead_letter = None
        if isinstance(handler_def, m.DeadLetterChannel):
            dead_letter = ctx.producer(handler_def.uri)
        handler = ErrorHandler(definition.route_id, handler_def, [], dead_letter)
        ctx.handler = handler
        # Clause steps run without redelivery of their own: a failure there fails the exchange.
        clause_ctx = ctx.with_handler(None)
        handler.clauses = tuple(
            CompiledClause(clause, clause_ctx.compile_steps(clause.steps, handler=None) if clause.steps else None, rank)
            for rank, clause in enumerate(definition.on_exceptions)
        )
        ctx.node = definition.input
        endpoint = ctx.endpoint(definition.input.uri)
        ctx.node = None
        if not endpoint.supports_consumer:
            raise ConfigurationError(
                f"endpoint '{endpoint.uri}' cannot be consumed from",
                route_id=definition.route_id,
                node_id=definition.input.node_id,
                location=definition.input.location,
            )
        pipeline = ctx.compile_steps(definition.steps)
        on_completions = tuple(
            (node, ctx.compile_steps(node.steps, handler=None)) for node in definition.on_completions
        )
        keep_original = getattr(handler_def, "use_original_message", False) or any(
            c.use_original_message for c in definition.on_exceptions
        )
        entry = RouteEntry(definition.route_id, pipeline, keep_original, on_completions, handler)
        entry.listeners = self.listeners
        return Route(definition, endpoint, entry, ctx.services, handler)

    def add_listener(self, listener: Any) -> None:
        """Call ``listener(route_id, exchange)`` each time an exchange finishes a route
        (``exchange.exception`` tells whether it failed). Keep it cheap: it runs inline.
        A listener with a true ``wants_elapsed`` attribute is called as
        ``listener(route_id, exchange, elapsed_seconds)`` (the route's processing time)."""
        self.listeners.append(listener)

    def remove_listener(self, listener: Any) -> None:
        if listener in self.listeners:
            self.listeners.remove(listener)

    def route_ids(self) -> list[str]:
        return list(self._routes)

    def route(self, route_id: str) -> Route:
        try:
            return self._routes[route_id]
        except KeyError:
            raise ConfigurationError(f"no route '{route_id}'; routes: {', '.join(self._routes) or 'none'}") from None

    def route_definition(self, route_id: str) -> m.RouteDefinition:
        return self.route(route_id).definition

    def replace_route(self, definition: m.RouteDefinition, interceptors: Iterable[Any] = ()) -> None:
        """Recompile a route from a new definition (advice_with); the route must be stopped."""
        with self._lock:
            old = self.route(definition.route_id)
            if old.state != "stopped":
                raise ConfigurationError(
                    "a route can only be replaced while it is stopped", route_id=definition.route_id
                )
            self._routes[definition.route_id] = self._compile(definition, interceptors)

    def route_stats(self, route_id: str) -> dict[str, Any]:
        return self.route(route_id).stats()

    def start_route(self, route_id: str) -> None:
        self._start_routes([self.route(route_id)])

    def stop_route(self, route_id: str, timeout: float | None = None) -> list[str]:
        """Stop one route gracefully; returns ids of exchanges that did not finish in time."""
        route = self.route(route_id)
        route.stop_consumer()
        unfinished = route.wait_in_flight(self.shutdown_timeout if timeout is None else timeout)
        route.stop_services()
        return unfinished

    def suspend_route(self, route_id: str) -> None:
        route = self.route(route_id)
        if route.consumer is not None:
            route.consumer.suspend()
        route.state = "suspended"

    def resume_route(self, route_id: str) -> None:
        route = self.route(route_id)
        if route.consumer is not None and route.state == "suspended":
            route.consumer.resume()
            route.state = "started"

    def _start_routes(self, routes: list[Route]) -> None:
        """Start the services of every route of the batch, then their consumers in startup order
        (as Camel does): a consumer that sends at once to a later route of the batch finds it
        starting, and a ``direct:`` send waits for its consumer (``consumer_coming``)."""
        ordered = sorted(routes, key=_startup_key)
        for route in ordered:
            route.starting = True
        try:
            for route in ordered:
                route.start_services()
            for route in ordered:
                route.start_consumer()
        finally:
            for route in ordered:
                route.starting = False

    def consumer_coming(self, endpoint: Endpoint) -> bool:
        """True while a consumer of ``endpoint`` may still come: a route consuming it is starting
        or suspended and the engine is not stopping. A producer that waits for a consumer
        (``direct:``) gives up at once when this is False."""
        if self.state not in ("starting", "started"):
            return False
        return any(
            route.endpoint is endpoint and (route.starting or route.state == "suspended")
            for route in list(self._routes.values())
        )

    # -- lifecycle ----------------------------------------------------------------------------------
    def add_service(self, service: Any) -> Any:
        """A service started and stopped with the engine (after routes stop)."""
        self.services.append(service)
        if self.state == "started":
            service.start()
        return service

    def start(self) -> None:
        """Start components, endpoints, every route's services, then consumers in startup order
        (so a route's consumer never runs before the services of a later route exist)."""
        with self._lock:
            if self.state == "started":
                return
            self.state = "starting"
            started_routes: list[Route] = []
            routes = sorted(self._routes.values(), key=_startup_key)
            for route in routes:  # until its consumer started, a direct: send to it waits
                route.starting = route.definition.auto_startup
            try:
                for component in list(self._components.values()):
                    component.start()
                for endpoint in list(self._endpoints.values()):
                    endpoint.start()
                for service in self.services:
                    service.start()
                for route in routes:
                    route.start_services()
                    started_routes.append(route)
                self.state = "started"
                for route in routes:
                    if route.definition.auto_startup:
                        route.start_consumer()
            except Exception:
                log.error("engine failed to start; stopping what started")
                self.state = "started"
                self._stop_all(0.0, started_routes)
                self.state = "failed"
                raise
            finally:
                for route in routes:
                    route.starting = False
            self.started_event.set()

    def stop(self, timeout: float | None = None) -> dict[str, list[str]]:
        """Stop gracefully; returns, per route, the ids of exchanges still in flight at the timeout.

        A no-op when the engine is not started (for example after a failed ``start()``)."""
        with self._lock:
            if self.state != "started":
                return {}
            self.state = "stopping"
            routes = list(self._routes.values())
        # Not under the engine lock: in-flight exchanges may still need get_endpoint (to_d,
        # template sends) while we wait for them.
        with self._stop_lock:
            result = self._stop_all(self.shutdown_timeout if timeout is None else timeout, routes)
            with self._lock:
                self.state = "stopped"
                self.started_event.clear()
            return result

    def _stop_all(self, timeout: float, routes: list[Route]) -> dict[str, list[str]]:
        ordered = sorted(routes, key=_startup_key, reverse=True)
        for route in ordered:
            try:
                route.stop_consumer()
            except Exception as exc:  # noqa: BLE001
                log.error("route '%s': consumer failed to stop: %s", route.route_id, exc)
        unfinished: dict[str, list[str]] = {}
        import time as _time

        deadline = _time.monotonic() + timeout
        for route in ordered:
            left = route.wait_in_flight(max(0.0, deadline - _time.monotonic()))
            if left:
                unfinished[route.route_id] = left
                log.warning(
                    "route '%s': %d exchange(s) still in flight at shutdown: %s",
                    route.route_id,
                    len(left),
                    ", ".join(left[:20]),
                )
        for route in ordered:
            route.stop_services()
        if self._template is not None:
            self._template.stop()
        for service in reversed(self.services):
            try:
                service.stop()
            except Exception as exc:  # noqa: BLE001
                log.error("service %r failed to stop: %s", service, exc)
        for endpoint in list(self._endpoints.values()):
            try:
                endpoint.stop()
            except Exception as exc:  # noqa: BLE001
                log.error("endpoint %s failed to stop: %s", endpoint.uri, exc)
        for component in list(self._components.values()):
            try:
                component.stop()
            except Exception as exc:  # noqa: BLE001
                log.error("component %s failed to stop: %s", component.scheme, exc)
        self.datasources.dispose()
        return unfinished

    @property
    def is_started(self) -> bool:
        return self.state == "started"


def _startup_key(route: Route) -> tuple[int, str]:
    order = route.definition.startup_order
    return (order if order is not None else 1_000_000, "")


def _replace_id(definition: m.RouteDefinition, route_id: str) -> m.RouteDefinition:
    from dataclasses import replace

    return replace(definition, route_id=route_id)

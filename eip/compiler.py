"""The compile step: route definitions in, processors out.

One dict maps each definition type to the function that builds its processor
(``eip/processors/<eip>.py: compile_<kind>(node, ctx)``); modules load on first use.
Every URI and option is resolved here, so all mistakes surface before anything starts.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from eip import model as m
from eip.errors import ConfigurationError
from eip.options import parse_duration
from eip.processors.pipeline import Pipeline

if TYPE_CHECKING:
    from eip.component import Endpoint, Producer
    from eip.engine import Engine
    from eip.error_handler import ErrorHandler

COMPILERS: dict[type, str] = {
    m.To: "eip.processors.send:compile_to",
    m.ToD: "eip.processors.send:compile_to_d",
    m.Process: "eip.processors.translate:compile_process",
    m.Bean: "eip.processors.translate:compile_bean",
    m.SetBody: "eip.processors.translate:compile_set_body",
    m.Transform: "eip.processors.translate:compile_set_body",
    m.SetHeader: "eip.processors.translate:compile_set_header",
    m.SetProperty: "eip.processors.translate:compile_set_property",
    m.RemoveHeader: "eip.processors.translate:compile_remove_header",
    m.RemoveHeaders: "eip.processors.translate:compile_remove_headers",
    m.ConvertBodyTo: "eip.processors.translate:compile_convert_body_to",
    m.Marshal: "eip.processors.data_format:compile_marshal",
    m.Unmarshal: "eip.processors.data_format:compile_unmarshal",
    m.Log: "eip.processors.log:compile_log",
    m.Stop: "eip.processors.stop:compile_stop",
    m.Rollback: "eip.processors.stop:compile_rollback",
    m.Validate: "eip.processors.validate:compile_validate",
    m.Choice: "eip.processors.choice:compile_choice",
    m.Filter: "eip.processors.filter:compile_filter",
    m.Pipeline: "eip.processors.pipeline_block:compile_pipeline",
    m.DoTry: "eip.processors.try_catch:compile_do_try",
    m.Split: "eip.processors.split:compile_split",
    m.Aggregate: "eip.processors.aggregate:compile_aggregate",
    m.Multicast: "eip.processors.multicast:compile_multicast",
    m.RecipientList: "eip.processors.recipient_list:compile_recipient_list",
    m.RoutingSlip: "eip.processors.routing_slip:compile_routing_slip",
    m.DynamicRouter: "eip.processors.dynamic_router:compile_dynamic_router",
    m.WireTap: "eip.processors.wire_tap:compile_wire_tap",
    m.Enrich: "eip.processors.enrich:compile_enrich",
    m.PollEnrich: "eip.processors.enrich:compile_poll_enrich",
    m.IdempotentConsumer: "eip.processors.idempotent:compile_idempotent_consumer",
    m.Throttle: "eip.processors.throttle:compile_throttle",
    m.Delay: "eip.processors.delay:compile_delay",
    m.Loop: "eip.processors.loop:compile_loop",
    m.Resequence: "eip.processors.resequence:compile_resequence",
    m.LoadBalance: "eip.processors.load_balance:compile_load_balance",
    m.CircuitBreaker: "eip.processors.circuit_breaker:compile_circuit_breaker",
    m.Sample: "eip.processors.sample:compile_sample",
    m.ClaimCheck: "eip.processors.claim_check:compile_claim_check",
}

_loaded: dict[type, Callable[[Any, CompileContext], Any]] = {}


def compiler_for(node_type: type) -> Callable[[Any, CompileContext], Any]:
    fn = _loaded.get(node_type)
    if fn is None:
        target = COMPILERS.get(node_type)
        if target is None:
            raise ConfigurationError(f"no compiler for {node_type.__name__}")
        module_name, _, func_name = target.partition(":")
        fn = getattr(importlib.import_module(module_name), func_name)
        _loaded[node_type] = fn
    return fn


class CompileContext:
    """What a compile function may use: endpoints, producers, nested pipelines, services.

    Services (anything with ``start()``/``stop()``: aggregators, thread pools, producers) are
    registered here and started/stopped with the route."""

    def __init__(
        self, engine: Engine, route_id: str, handler: ErrorHandler | None, interceptors: Sequence[Any] = ()
    ) -> None:
        self.engine = engine
        self.route_id = route_id
        self.handler = handler
        self.services: list[Any] = []
        self.interceptors = tuple(interceptors)
        self.node: m.Node | None = None

    def error(self, message: str, node: m.Node | None = None) -> ConfigurationError:
        node = node or self.node
        return ConfigurationError(
            message,
            route_id=self.route_id,
            node_id=node.node_id if node else None,
            location=node.location if node else None,
        )

    def _option(self, option: str) -> str:
        """``'sample() period'``: the verb of the node being compiled, then the option."""
        return f"{self.node.kind_name()}() {option}" if self.node is not None else option

    def duration(self, value: Any, option: str, *, allow_zero: bool = False) -> float:
        """Seconds from a number or a duration text (``500ms``, ``2s``), positive (or >= 0 with
        ``allow_zero``); a route-definition error naming the option otherwise."""
        try:
            seconds = parse_duration(value)
        except ValueError as exc:
            raise self.error(f"{self._option(option)}: {exc}") from None
        if seconds < 0 or (seconds == 0 and not allow_zero):
            raise self.error(f"{self._option(option)} must be {'>= 0' if allow_zero else 'positive'}, got {value!r}")
        return seconds

    def positive(self, value: Any, option: str) -> int:
        """An int >= 1 (not a bool); a route-definition error naming the option otherwise."""
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.error(f"{self._option(option)} must be a positive integer, got {value!r}")
        return value

    def non_negative(self, value: Any, option: str) -> int:
        """An int >= 0 (not a bool); a route-definition error naming the option otherwise."""
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.error(f"{self._option(option)} must be an integer >= 0, got {value!r}")
        return value

    def choice(self, value: Any, option: str, choices: Sequence[Any]) -> Any:
        """``value`` if it is one of ``choices``; a route-definition error listing them otherwise."""
        if value not in choices:
            raise self.error(f"{self._option(option)} must be one of {', '.join(map(repr, choices))}, got {value!r}")
        return value

    def endpoint(self, uri: str) -> Endpoint:
        return self.engine._declared_endpoint(uri, self.route_id, self.node)

    def producer(self, uri: str) -> Producer:
        """A producer for ``uri``, started and stopped with the route."""
        producer = self.endpoint(uri).create_producer()
        self.services.append(producer)
        return producer

    def repository(self, repository: Any, required: Sequence[str], what: str, protocol: str) -> Any:
        """Check a user-supplied repository has the ``required`` methods (an error naming ``what``
        and the ``protocol`` otherwise) and let a durable one find its datasource (``bind``)."""
        missing = [name for name in required if not callable(getattr(repository, name, None))]
        if missing:
            raise self.error(
                f"{what} repository {type(repository).__name__} lacks {', '.join(missing)}(): use {protocol}"
            )
        bind = getattr(repository, "bind", None)
        if callable(bind):  # an SQL repository finds its named datasource through the engine
            bind(self.engine)
        return repository

    def add_service(self, service: Any) -> Any:
        self.services.append(service)
        return service

    def compile_node(self, node: m.Node) -> Any:
        outer, self.node = self.node, node
        try:
            processor = compiler_for(type(node))(node, self)
            for interceptor in self.interceptors:
                processor = interceptor(node, processor, self)
            return processor
        except ConfigurationError as exc:
            if exc.route_id is None:
                raise ConfigurationError(
                    exc.detail, route_id=self.route_id, node_id=node.node_id, location=node.location
                ) from exc
            raise
        finally:
            self.node = outer

    def compile_steps(self, steps: Sequence[m.Node], handler: Any = "inherit") -> Pipeline:
        """Compile nested steps into a pipeline under this route's error handler (or ``handler``)."""
        processors = [self.compile_node(step) for step in steps]
        endpoints = [getattr(step, "uri", None) if isinstance(step, m.To) else None for step in steps]
        chosen = self.handler if handler == "inherit" else handler
        return Pipeline(processors, [s.node_id or "" for s in steps], chosen, endpoints)

    def with_handler(self, handler: Any) -> CompileContext:
        """A context whose nested pipelines use ``handler`` (None: propagate, as in do_try)."""
        clone = CompileContext(self.engine, self.route_id, handler, self.interceptors)
        clone.services = self.services
        clone.node = self.node
        return clone

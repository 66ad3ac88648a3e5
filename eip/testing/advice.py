"""advice_with: weave a route's model in a test before it starts (Camel's AdviceWith).

The route definition is an immutable tree, so weaving rebuilds it (``dataclasses.replace``)
and the engine recompiles the route from the new tree. Steps to weave in are recorded with
the ordinary route DSL::

    with advice_with(engine, "orders") as a:
        a.replace_from_with("direct:start")
        a.weave_by_id("enrich-customer").replace().to("mock:customer")
        a.weave_by_to_uri("amqp:*").remove()
        a.weave_add_last().to("mock:done")
        a.mock_endpoints_and_skip("http:*")
    engine.start()

Everything is applied in the order it was declared, when the ``with`` block ends (or when
``fn`` returns: ``advice_with(engine, "orders", lambda a: a.replace_from_with("direct:x"))``).
A route that is running is stopped, rewoven and started again.
"""

from __future__ import annotations

import difflib
import fnmatch
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import fields, replace
from typing import TYPE_CHECKING, Any, Self, cast

from eip import model as m
from eip.dsl import RouteBuilder, RouteDsl, _location
from eip.errors import ConfigurationError, RouteDefinitionError
from eip.producer_cache import ProducerCache
from eip.uri import parse_uri

if TYPE_CHECKING:
    from eip.compiler import CompileContext
    from eip.engine import Engine

_ID_NUMBER = re.compile(r"^(.*?)(\d+)$")


def advice_with(engine: Engine, route_id: str, fn: Callable[[AdviceWith], Any] | None = None) -> AdviceWith:
    """Weave route ``route_id`` of ``engine``.

    With ``fn``, call ``fn(advice)`` and apply at once; without, use the result as a context
    manager (``with advice_with(engine, "orders") as a: ...``), applied when the block ends
    without an exception."""
    advice = AdviceWith(engine, route_id)
    if fn is not None:
        fn(advice)
        advice.apply()
    return advice


class AdviceWith:
    """The weaving operations for one route (see the module docstring)."""

    def __init__(self, engine: Engine, route_id: str) -> None:
        self.engine = engine
        self.route_id = route_id
        self._original = engine.route_definition(route_id)  # raises, listing the routes, if unknown
        self._ops: list[Callable[[m.RouteDefinition], m.RouteDefinition]] = []
        self._mock_patterns: list[tuple[str, bool]] = []
        self._counters = _id_counters(self._original)
        self._applied = False

    # -- context manager ------------------------------------------------------------------------
    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if exc_type is None:
            self.apply()

    # -- operations ---------------------------------------------------------------------------
    def replace_from_with(self, uri: str) -> AdviceWith:
        """Consume from ``uri`` instead of the route's input (keeps the input's node id)."""
        self._check_open()
        if not isinstance(uri, str) or not uri:
            raise RouteDefinitionError(
                f"replace_from_with() needs an endpoint URI, got {uri!r}", route_id=self.route_id
            )
        self._ops.append(lambda d: replace(d, input=replace(d.input, uri=uri)))
        return self

    def weave_by_id(self, node_id: str) -> Weave:
        """The node(s) with id ``node_id``, anywhere in the route (inside choice, split, do_try...)."""
        return self._weave(f"weave_by_id({node_id!r})", lambda node: node.node_id == node_id, node_id)

    def weave_by_to_uri(self, pattern: str) -> Weave:
        """Nodes that send to an endpoint (``to``, and ``to_d``/``wire_tap``/``enrich``/
        ``poll_enrich`` with a plain URI) whose URI matches ``pattern``: exact, a glob
        (``direct:*``, ``*orders*``) or a regular expression; options are ignored unless the
        pattern names some."""
        engine = self.engine

        def matches(node: m.Node) -> bool:
            uri = getattr(node, "uri", None)
            if isinstance(node, m.From) or not isinstance(uri, str):
                return False
            return uri_matches(uri, pattern) or uri_matches(_resolve(engine, uri), pattern)

        return self._weave(f"weave_by_to_uri({pattern!r})", matches)

    def weave_by_type(self, node_type: type[m.Node]) -> Weave:
        """Nodes of a model class (``eip.model.Split``, ``eip.model.To``, ...)."""
        return self._weave(f"weave_by_type({node_type.__name__})", lambda node: isinstance(node, node_type))

    def weave_add_first(self) -> RouteDsl:
        """Record steps to put at the start of the route."""
        recorder = self._recorder()
        self._ops.append(lambda d: replace(d, steps=self._recorded(recorder) + d.steps))
        return recorder

    def weave_add_last(self) -> RouteDsl:
        """Record steps to put at the end of the route."""
        recorder = self._recorder()
        self._ops.append(lambda d: replace(d, steps=d.steps + self._recorded(recorder)))
        return recorder

    def mock_endpoints(self, pattern: str = "*") -> AdviceWith:
        """Every send to an endpoint matching ``pattern`` also goes to ``mock:<uri without
        options>`` first (``direct:a`` -> ``mock:direct:a``). Sends to ``mock:`` are left alone.

        Intercepts ``to`` and ``to_d`` (each URI as resolved per exchange); sends made inside
        other EIPs (wire_tap, enrich, recipient_list, the dead letter channel) are not: weave
        those with ``weave_by_to_uri``."""
        self._check_open()
        self._mock_patterns.append((pattern, False))
        return self

    def mock_endpoints_and_skip(self, pattern: str = "*") -> AdviceWith:
        """As ``mock_endpoints``, but send only to the mock: the real endpoint gets nothing and
        its producer is never started (so the test needs no broker, database or server). Stub
        replies with ``mock.when_any_exchange_received(fn)``."""
        self._check_open()
        self._mock_patterns.append((pattern, True))
        return self

    # -- applying -------------------------------------------------------------------------------
    def apply(self) -> m.RouteDefinition:
        """Weave, then recompile the route (stopping and restarting it if it was running).

        Returns the new definition; called for you by ``advice_with``."""
        self._check_open()
        self._applied = True
        definition = self._original
        for op in self._ops:
            definition = op(definition)
        _check_unique_ids(definition)
        route = self.engine.route(self.route_id)
        interceptors = tuple(getattr(route, "advice_interceptors", ()))
        if self._mock_patterns:
            interceptors += (_MockInterceptor(tuple(self._mock_patterns)),)
        running = route.state != "stopped"
        if running:
            self.engine.stop_route(self.route_id)
        try:
            self.engine.replace_route(definition, interceptors)
            # Kept on the route so that a later advice_with of the same route keeps these mocks.
            self.engine.route(self.route_id).advice_interceptors = interceptors  # type: ignore[attr-defined]
        finally:
            if running:  # the new route, or the old one again when the new one did not compile
                self.engine.start_route(self.route_id)
        return definition

    # -- internals ------------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._applied:
            raise RouteDefinitionError(
                "this advice_with() was already applied; start a new one", route_id=self.route_id
            )

    def _weave(self, what: str, matches: Callable[[m.Node], bool], wanted_id: str | None = None) -> Weave:
        self._check_open()
        return Weave(self, what, matches, _location(), wanted_id)

    def _recorder(self) -> RouteDsl:
        self._check_open()
        recorder = RouteDsl(RouteBuilder(), "advice", _location())
        recorder._route_id = self.route_id  # errors name the route
        recorder._counters = self._counters  # generated ids continue after the route's own
        return recorder

    def _recorded(self, recorder: RouteDsl) -> tuple[m.Node, ...]:
        """The steps a recorder holds, checked: blocks closed, no route-level clauses."""
        stack = recorder._stack
        if len(stack) > 1:
            frame = stack[-1]
            kind = (
                frame.kind.replace("_shell", "")
                .replace("try_body", "do_try")
                .replace("breaker_body", "circuit_breaker")
            )
            raise RouteDefinitionError(
                f"{kind}() '{frame.node_id}' woven in is not closed with end()",
                route_id=self.route_id,
                node_id=frame.node_id,
                location=frame.location,
            )
        if (
            recorder._on_completions
            or recorder._on_exceptions
            or recorder._route_options
            or recorder._error_handler is not None
        ):
            raise RouteDefinitionError(
                "only steps can be woven in (no on_completion, on_exception, error handler or route options)",
                route_id=self.route_id,
                location=stack[0].location,
            )
        return tuple(stack[0].steps)

    def _fresh_copy(self, node: m.Node) -> m.Node:
        """``node`` with new generated ids throughout (a second insertion of the same steps)."""

        def reid(n: m.Node) -> m.Node:
            kind = type(n).kind_name()
            counter = self._counters.setdefault(kind, itertools.count(1))
            return replace(n, node_id=f"{kind}{next(counter)}")

        return _map_all(node, reid)


class Weave:
    """Selected nodes of a route, and what to do with them. Each operation applies to every
    selected node unless narrowed with ``select_first()``/``select_last()``/``select_index(i)``."""

    def __init__(
        self,
        advice: AdviceWith,
        what: str,
        matches: Callable[[m.Node], bool],
        location: str,
        wanted_id: str | None = None,
    ) -> None:
        self._advice = advice
        self._what = what
        self._wanted_id = wanted_id
        self._matches = matches
        self._location = location
        self._pick: Callable[[list[m.Node]], list[m.Node]] = lambda found: found

    def select_first(self) -> Weave:
        self._pick = lambda found: found[:1]
        return self

    def select_last(self) -> Weave:
        self._pick = lambda found: found[-1:]
        return self

    def select_index(self, index: int) -> Weave:
        """Only the ``index``-th (0-based) match, in route order."""
        self._pick = lambda found: found[index : index + 1] if 0 <= index < len(found) else []
        return self

    def replace(self) -> RouteDsl:
        """Record the steps that replace the selected node(s)."""
        return self._with_steps(lambda new, node: new)

    def before(self) -> RouteDsl:
        """Record steps to put before the selected node(s)."""
        return self._with_steps(lambda new, node: new + (node,))

    def after(self) -> RouteDsl:
        """Record steps to put after the selected node(s) (after the whole block, for a block)."""
        return self._with_steps(lambda new, node: (node,) + new)

    def remove(self) -> None:
        """Remove the selected node(s) (a block goes with everything inside it)."""
        self._advice._check_open()
        self._advice._ops.append(lambda d: self._apply(d, lambda node, first: ()))

    def _with_steps(self, place: Callable[[tuple[m.Node, ...], m.Node], tuple[m.Node, ...]]) -> RouteDsl:
        advice = self._advice
        recorder = advice._recorder()

        def splice(node: m.Node, first: bool) -> tuple[m.Node, ...]:
            new = advice._recorded(recorder)
            if not first:
                new = tuple(advice._fresh_copy(step) for step in new)
            return place(new, node)

        advice._ops.append(lambda d: self._apply(d, splice))
        return recorder

    def _apply(
        self, definition: m.RouteDefinition, splice: Callable[[m.Node, bool], tuple[m.Node, ...]]
    ) -> m.RouteDefinition:
        found = [node for node, _ in _walk(definition) if self._matches(node)]
        chosen = self._pick(found)
        if not chosen:
            ids = [node.node_id for node, _ in _walk(definition) if node.node_id]
            hint = ""
            if self._wanted_id is not None:
                close = difflib.get_close_matches(self._wanted_id, ids, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
            what = "no node matches" if not found else f"{len(found)} node(s) match but the selection is empty"
            raise RouteDefinitionError(
                f"{self._what}: {what}{hint}; node ids in the route: {', '.join(ids)}",
                route_id=definition.route_id,
                location=self._location,
            )
        chosen_ids = {id(node) for node in chosen}
        branches = [node for node, is_step in _walk(definition) if id(node) in chosen_ids and not is_step]
        if branches:
            node = branches[0]
            raise RouteDefinitionError(
                f"{self._what}: '{node.node_id}' is a {type(node).__name__} branch, not a step; weave the "
                f"steps inside it instead",
                route_id=definition.route_id,
                node_id=node.node_id,
                location=self._location,
            )
        done = [0]

        def fn(original: m.Node, rebuilt: m.Node) -> tuple[m.Node, ...]:
            if id(original) not in chosen_ids:
                return (rebuilt,)
            done[0] += 1
            return splice(rebuilt, done[0] == 1)

        return _rebuild_route(definition, fn)


# -- tree walking and rebuilding ---------------------------------------------------------------
StepFn = Callable[[m.Node, m.Node], tuple[m.Node, ...]]


def _walk(definition: m.RouteDefinition) -> Iterator[tuple[m.Node, bool]]:
    """Every node after the input, in route order, with whether it sits in a list of steps."""
    for step in definition.steps:
        yield from _walk_node(step, True)
    for clause in definition.on_exceptions:
        yield from _walk_node(clause, False)
    for node in definition.on_completions:
        yield from _walk_node(node, False)


def _walk_node(node: m.Node, is_step: bool) -> Iterator[tuple[m.Node, bool]]:
    yield node, is_step
    for f in fields(node):
        value = getattr(node, f.name)
        if f.name == "steps" and isinstance(value, tuple):
            for child in value:
                yield from _walk_node(child, True)
        elif isinstance(value, m.Node):
            yield from _walk_node(value, False)
        elif _is_node_tuple(value):
            for child in value:
                yield from _walk_node(child, False)


def _is_node_tuple(value: Any) -> bool:
    return isinstance(value, tuple) and bool(value) and all(isinstance(v, m.Node) for v in value)


def _rebuild_route(definition: m.RouteDefinition, fn: StepFn) -> m.RouteDefinition:
    return replace(
        definition,
        steps=_rebuild_steps(definition.steps, fn),
        on_exceptions=tuple(cast(m.OnException, _rebuild(c, fn)) for c in definition.on_exceptions),
        on_completions=tuple(cast(m.OnCompletion, _rebuild(c, fn)) for c in definition.on_completions),
    )


def _rebuild_steps(steps: tuple[m.Node, ...], fn: StepFn) -> tuple[m.Node, ...]:
    out: list[m.Node] = []
    for step in steps:
        out.extend(fn(step, _rebuild(step, fn)))
    return steps if len(out) == len(steps) and all(a is b for a, b in zip(out, steps)) else tuple(out)


def _rebuild(node: m.Node, fn: StepFn) -> m.Node:
    """``node`` with its nested step lists rebuilt through ``fn`` (the node itself if unchanged)."""
    changes: dict[str, Any] = {}
    for f in fields(node):
        value = getattr(node, f.name)
        if f.name == "steps" and isinstance(value, tuple):
            new: Any = _rebuild_steps(value, fn)
        elif isinstance(value, m.Node):
            new = _rebuild(value, fn)
        elif _is_node_tuple(value):
            rebuilt = tuple(_rebuild(v, fn) for v in value)
            new = value if all(a is b for a, b in zip(rebuilt, value)) else rebuilt
        else:
            continue
        if new is not value:
            changes[f.name] = new
    return replace(node, **changes) if changes else node


def _map_all(node: m.Node, fn: Callable[[m.Node], m.Node]) -> m.Node:
    """Apply ``fn`` to ``node`` and every node inside it, bottom up."""
    changes: dict[str, Any] = {}
    for f in fields(node):
        value = getattr(node, f.name)
        if isinstance(value, m.Node):
            changes[f.name] = _map_all(value, fn)
        elif _is_node_tuple(value) or (f.name == "steps" and isinstance(value, tuple)):
            changes[f.name] = tuple(_map_all(v, fn) for v in value)
    return fn(replace(node, **changes) if changes else node)


def _id_counters(definition: m.RouteDefinition) -> dict[str, itertools.count[int]]:
    """Id counters that continue after the highest ``<kind><n>`` id already in the route."""
    highest: dict[str, int] = {}
    for node in [definition.input, *(n for n, _ in _walk(definition))]:
        match = _ID_NUMBER.match(node.node_id or "")
        if match:
            prefix, number = match.group(1), int(match.group(2))
            highest[prefix] = max(highest.get(prefix, 0), number)
    return {prefix: itertools.count(number + 1) for prefix, number in highest.items()}


def _check_unique_ids(definition: m.RouteDefinition) -> None:
    seen: dict[str, m.Node] = {}
    for node, _ in _walk(definition):
        if not node.node_id or isinstance(node, m.Pipeline):
            continue
        if node.node_id in seen:
            raise RouteDefinitionError(
                f"after weaving, node id '{node.node_id}' is used twice",
                route_id=definition.route_id,
                node_id=node.node_id,
                location=node.location,
            )
        seen[node.node_id] = node


# -- endpoint patterns and mocks ---------------------------------------------------------------
def uri_matches(uri: str, pattern: str) -> bool:
    """Camel's endpoint matching: exact, then a glob, then a regular expression. A pattern
    without ``?`` is matched against the URI without its options too."""
    candidates = [uri]
    if "?" not in pattern and "?" in uri:
        candidates.append(uri.split("?", 1)[0])
    for candidate in candidates:
        if candidate == pattern or fnmatch.fnmatchcase(candidate, pattern):
            return True
        try:
            if re.fullmatch(pattern, candidate):
                return True
        except re.error:
            pass
    return False


def mock_uri_for(uri: str) -> str:
    """``mock:`` plus the URI without options: ``direct:a?timeout=1`` -> ``mock:direct:a``,
    ``file://inbox`` -> ``mock:file:inbox``."""
    parsed = parse_uri(uri)
    path = parsed.path.removeprefix("//")
    return f"mock:{parsed.scheme}:{path}"


def _resolve(engine: Engine, uri: str) -> str:
    try:
        return engine.resolve_placeholders(uri)
    except ConfigurationError:
        return uri


class _MockInterceptor:
    """Compile-time interceptor: wraps sends to matching endpoints with a send to their mock."""

    def __init__(self, patterns: tuple[tuple[str, bool], ...]) -> None:
        self.patterns = patterns

    def decide(self, uri: str) -> bool | None:
        """None: leave alone; False: mock then send; True: mock and skip."""
        if uri.startswith("mock:"):
            return None
        decision = None
        for pattern, skip in self.patterns:
            if uri_matches(uri, pattern):
                decision = skip or bool(decision)
        return decision

    def __call__(self, node: m.Node, processor: Any, ctx: CompileContext) -> Any:
        if isinstance(node, m.To):
            uri = _resolve(ctx.engine, node.uri)
            skip = self.decide(uri)
            if skip is None:
                return processor
            mock = ctx.producer(mock_uri_for(uri))
            if skip:
                _drop_service(ctx, getattr(processor, "producer", None))
            return _MockedSend(mock, None if skip else processor, node.pattern)
        if isinstance(node, m.ToD) and isinstance(getattr(processor, "cache", None), ProducerCache):
            _mock_dynamic(processor.cache, self, ctx.engine)
        return processor


class _MockedSend:
    """Send to the mock, then (unless skipped) through the original send processor."""

    __slots__ = ("mock", "pattern", "real")

    def __init__(self, mock: Any, real: Any, pattern: Any) -> None:
        self.mock = mock
        self.real = real
        self.pattern = pattern

    def process(self, exchange: Any) -> None:
        if self.pattern is None:
            self.mock.process(exchange)
        else:
            saved, exchange.pattern = exchange.pattern, self.pattern
            try:
                self.mock.process(exchange)
            finally:
                exchange.pattern = saved
        if self.real is not None:
            self.real.process(exchange)


class _Tee:
    """A producer that sends to a mock, then to the real producer (for ``to_d``)."""

    __slots__ = ("mock", "real")

    def __init__(self, mock: Any, real: Any) -> None:
        self.mock = mock
        self.real = real

    def process(self, exchange: Any) -> None:
        self.mock.process(exchange)
        self.real.process(exchange)


def _mock_dynamic(cache: ProducerCache, interceptor: _MockInterceptor, engine: Engine) -> None:
    """Make a ``to_d`` processor's producer cache open its producers through the mocks."""
    original = cache.opener

    def opener(uri: str, endpoint: Any) -> tuple[Any, Any]:
        skip = interceptor.decide(uri)
        if skip is None:
            return original(uri, endpoint)
        mock = engine.get_endpoint(mock_uri_for(uri)).create_producer()
        if skip:
            return mock, None
        real, service = original(uri, endpoint)
        return _Tee(mock, real), service

    cache.opener = opener


def _drop_service(ctx: CompileContext, producer: Any) -> None:
    if producer is None:
        return
    for index, service in enumerate(ctx.services):
        if service is producer:
            del ctx.services[index]
            return

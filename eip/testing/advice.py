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
import itertools
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Self

from eip import model as m
from eip.dsl import RouteBuilder, RouteDsl, _location
from eip.errors import RouteDefinitionError
from eip.testing.advice_mocks import _MockInterceptor, _resolve, mock_uri_for, uri_matches
from eip.testing.advice_tree import _check_unique_ids, _id_counters, _map_all, _rebuild_route, _walk

if TYPE_CHECKING:
    from eip.engine import Engine

__all__ = ["AdviceWith", "Weave", "advice_with", "mock_uri_for", "uri_matches"]


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

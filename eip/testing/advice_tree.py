"""Walking and rebuilding a route's model tree for ``advice_with`` (``eip.testing.advice``).

The route definition is an immutable tree of ``eip.model`` nodes: these helpers visit every
node in route order and rebuild only the parts that change (``dataclasses.replace``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import fields, replace
from typing import Any, cast

from eip import model as m
from eip.errors import RouteDefinitionError

_ID_NUMBER = re.compile(r"^(.*?)(\d+)$")

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

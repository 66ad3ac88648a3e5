"""Builds the diagram from route definitions: a cluster per route, a node per step, edges between them.

Nothing is compiled, connected or started: only ``node.children()`` and ``node.describe()`` are read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from eip import model as m
from eip.errors import ConfigurationError
from eip.graph.labels import BLOCKS, LEAVES, short, title, uri_text, value_text, wrap
from eip.graph.model import Cluster, DEdge, Diagram, DNode, Port
from eip.uri import parse_uri


class _Builder:
    """Turns route definitions into one ``Diagram``: a cluster per route."""

    def __init__(self) -> None:
        self.counter = 0
        self.edges: list[DEdge] = []
        self.root = Cluster("root", "", "root")
        self.inputs: dict[str, str] = {}  # endpoint key -> input node id
        self.sends: list[tuple[str, str]] = []  # (node id, static uri)
        self.created: list[str] = []  # node ids in creation order

    def _id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def node(self, cluster: Cluster, kind: str, lines: Sequence[str]) -> str:
        node = DNode(self._id("n"), kind, [part for line in lines if line for part in wrap(line)])
        cluster.items.append(node)
        self.created.append(node.id)
        return node.id

    def cluster(self, parent: Cluster, label: str, kind: str = "block") -> Cluster:
        child = Cluster(self._id("cluster_"), short(label, 60), kind)
        parent.items.append(child)
        return child

    def connect(self, ports: Iterable[Port], dst: str, style: str = "flow") -> None:
        for src, label in ports:
            self.edges.append(DEdge(src, dst, label, style))

    # -- routes --------------------------------------------------------------------------------
    def route(self, definition: m.RouteDefinition) -> None:
        label = f"route {definition.route_id}"
        if definition.description:
            label += f": {definition.description}"
        cluster = self.cluster(self.root, label, "route")
        start = self.node(cluster, "input", [uri_text(definition.input.uri)])
        self._remember_input(definition.input.uri, start)
        exits = self.steps(cluster, definition.steps, [(start, "")])
        handler = definition.error_handler
        if isinstance(handler, m.DeadLetterChannel):
            dead = self.node(cluster, "dead_letter", ["dead letter channel", uri_text(handler.uri)])
            self._remember_send(dead, handler.uri)
            tries = handler.policy.maximum_redeliveries
            retry = f"after {tries} redeliveries" if tries > 0 else "on failure"
            self.edges.append(DEdge(start, dead, retry, "error"))
        for clause in definition.on_exceptions:
            self.on_exception(cluster, clause, start)
        for completion in definition.on_completions:
            block = self.cluster(cluster, "on completion", "block")
            entry = self._count()
            self.steps(block, completion.steps, [])
            first = self._first_since(entry)
            if first:
                self.connect(exits, first, "after")

    def on_exception(self, parent: Cluster, clause: m.OnException, start: str) -> None:
        names = ", ".join(e.__name__ for e in clause.exceptions)
        flags = [
            word for word, on in (("handled", clause.handled is True), ("continued", clause.continued is True)) if on
        ]
        block = self.cluster(parent, f"on exception {names}" + (f" ({', '.join(flags)})" if flags else ""), "error")
        entry = self._count()
        self.steps(block, clause.steps, [])
        first = self._first_since(entry)
        if first:
            self.edges.append(DEdge(start, first, names, "error"))

    def _count(self) -> int:
        """A mark for ``_first_since``: how many nodes exist now."""
        return len(self.created)

    def _first_since(self, mark: int) -> str | None:
        """The first node created after ``mark`` (a block draws its entry first), or None."""
        return self.created[mark] if mark < len(self.created) else None

    def _remember_input(self, uri: str, node_id: str) -> None:
        key = _endpoint_key(uri)
        if key:
            self.inputs.setdefault(key, node_id)

    def _remember_send(self, node_id: str, uri: Any) -> None:
        if isinstance(uri, str):
            self.sends.append((node_id, uri))

    def link_routes(self) -> None:
        """Grey arrows from each send to the input of the route that consumes it."""
        for node_id, uri in self.sends:
            target = self.inputs.get(_endpoint_key(uri) or "")
            if target:
                self.edges.append(DEdge(node_id, target, "", "link"))

    # -- steps ----------------------------------------------------------------------------------
    def steps(self, cluster: Cluster, steps: Sequence[m.Node], ports: list[Port]) -> list[Port]:
        for step in steps:
            ports = self.step(cluster, step, ports)
        return ports

    def step(self, cluster: Cluster, node: m.Node, ports: list[Port]) -> list[Port]:
        kind = node.kind_name()
        special = _SPECIAL.get(kind)
        if special is not None:
            return special(self, cluster, node, ports)
        if kind in LEAVES:
            style, lines = LEAVES[kind](node)
        elif kind in BLOCKS or node.children():
            return self.block(cluster, node, ports)
        else:
            style, lines = "translator", [node.describe()]
        node_id = self.node(cluster, style, lines)
        self.connect(ports, node_id)
        uri = getattr(node, "uri", None)
        if kind in ("to", "wire_tap", "enrich", "poll_enrich"):
            self._remember_send(node_id, uri)
        return [(node_id, "")]

    def symbol(self, cluster: Cluster, node: m.Node) -> str:
        maker = BLOCKS.get(node.kind_name())
        style, lines = maker(node) if maker else ("translator", [node.describe()])
        return self.node(cluster, style, lines)

    def block(self, cluster: Cluster, node: m.Node, ports: list[Port]) -> list[Port]:
        """Generic block: a cluster with the block's symbol, then each child list in turn."""
        block = self.cluster(cluster, title(node))
        head = self.symbol(block, node)
        self.connect(ports, head)
        exits: list[Port] = []
        for label, steps in node.children():
            inner = block if label == "steps" else self.cluster(block, label, "block")
            exits += self.steps(inner, steps, [(head, "" if label == "steps" else label)])
        return exits or [(head, "")]


_PLACEHOLDER_DEFAULT = re.compile(r"\{\{\s*[A-Za-z0-9_.\-]+\s*:([^}]*)\}\}")


def _endpoint_key(uri: Any) -> str | None:
    """``scheme:path`` of a static URI (options dropped, ``{{name:default}}`` as its default),
    to link a send to the route consuming the same endpoint; None for computed URIs."""
    if not isinstance(uri, str) or "${" in uri:
        return None
    text = _PLACEHOLDER_DEFAULT.sub(lambda match: match.group(1), uri)
    try:
        return parse_uri(text).key
    except ConfigurationError:
        return text  # still an unresolved placeholder: equal texts are the same endpoint


# -- blocks with their own layout ------------------------------------------------------------------
def _choice(b: _Builder, cluster: Cluster, node: m.Choice, ports: list[Port]) -> list[Port]:
    diamond = b.node(cluster, "router", ["choice"])
    b.connect(ports, diamond)
    join = b.node(cluster, "join", [])
    for when in node.whens:
        label = short(value_text(when.predicate), 36)
        exits = _branch(b, cluster, "when", when.steps, [(diamond, label)])
        b.connect(exits, join)
    if node.otherwise is not None:
        exits = _branch(b, cluster, "otherwise", node.otherwise.steps, [(diamond, "otherwise")])
        b.connect(exits, join)
    else:
        b.connect([(diamond, "no match")], join)
    return [(join, "")]


def _branch(b: _Builder, cluster: Cluster, label: str, steps: Sequence[m.Node], ports: list[Port]) -> list[Port]:
    if not steps:
        return ports
    return b.steps(b.cluster(cluster, label, "block"), steps, ports)


def _split(b: _Builder, cluster: Cluster, node: m.Split, ports: list[Port]) -> list[Port]:
    block = b.cluster(cluster, "split")
    head = b.symbol(block, node)
    b.connect(ports, head)
    exits = b.steps(block, node.steps, [(head, "each part")])
    if node.strategy is not None:
        merge = b.node(block, "aggregator", ["merge parts", value_text(node.strategy)])
        b.connect(exits, merge)
        return [(merge, "")]
    return exits


def _aggregate(b: _Builder, cluster: Cluster, node: m.Aggregate, ports: list[Port]) -> list[Port]:
    # The incoming exchange continues after the block; the completed group runs the steps.
    block = b.cluster(cluster, "aggregate")
    head = b.symbol(block, node)
    b.connect(ports, head)
    b.steps(block, node.steps, [(head, "completed group")])
    return [(head, "")]


def _filter(b: _Builder, cluster: Cluster, node: m.Filter, ports: list[Port]) -> list[Port]:
    block = b.cluster(cluster, "filter")
    head = b.symbol(block, node)
    b.connect(ports, head)
    exits = b.steps(block, node.steps, [(head, "true")])
    return exits + [(head, "false")] if node.steps else [(head, "")]


def _fan_out(b: _Builder, cluster: Cluster, node: m.Multicast | m.LoadBalance, ports: list[Port]) -> list[Port]:
    """multicast (every step gets a copy) and load_balance (one step gets it): one branch per step."""
    block = b.cluster(cluster, title(node))
    head = b.symbol(block, node)
    b.connect(ports, head)
    strategy = getattr(node, "strategy", None)
    join = (
        b.node(block, "aggregator", ["aggregate replies", value_text(strategy)])
        if strategy is not None
        else b.node(block, "join", [])
    )
    for step in node.steps:
        b.connect(b.step(block, step, [(head, "")]), join)
    return [(join, "")]


def _loop(b: _Builder, cluster: Cluster, node: m.Loop, ports: list[Port]) -> list[Port]:
    block = b.cluster(cluster, "loop")
    head = b.symbol(block, node)
    b.connect(ports, head)
    exits = b.steps(block, node.steps, [(head, "")])
    b.connect([(src, "again") for src, _ in exits if src != head], head, "loop")
    return [(head, "done")]


def _do_try(b: _Builder, cluster: Cluster, node: m.DoTry, ports: list[Port]) -> list[Port]:
    block = b.cluster(cluster, "do try")
    mark = b._count()
    exits = b.steps(block, node.steps, ports)
    first = b._first_since(mark)
    for catch in node.catches:
        names = ", ".join(e.__name__ for e in catch.exceptions)
        handler = b.cluster(block, f"do catch {names}", "error")
        source = [(first, names)] if first else ports
        catch_mark = b._count()
        catch_exits = b.steps(handler, catch.steps, [])
        catch_first = b._first_since(catch_mark)
        if catch_first:
            for src, label in source:
                b.edges.append(DEdge(src, catch_first, label, "error"))
            exits += catch_exits
    if node.finally_ is not None and node.finally_.steps:
        always = b.cluster(block, "do finally")
        exits = b.steps(always, node.finally_.steps, exits)
    return exits


def _circuit_breaker(b: _Builder, cluster: Cluster, node: m.CircuitBreaker, ports: list[Port]) -> list[Port]:
    block = b.cluster(cluster, "circuit breaker")
    head = b.symbol(block, node)
    b.connect(ports, head)
    exits = b.steps(block, node.steps, [(head, "closed")])
    if node.fallback is not None and node.fallback.steps:
        fallback = b.cluster(block, "on fallback", "error")
        mark = b._count()
        fallback_exits = b.steps(fallback, node.fallback.steps, [])
        first = b._first_since(mark)
        if first:
            b.edges.append(DEdge(head, first, "open or failed", "error"))
        exits += fallback_exits
    return exits


_SPECIAL: dict[str, Callable[[_Builder, Cluster, Any, list[Port]], list[Port]]] = {
    "choice": _choice,
    "split": _split,
    "aggregate": _aggregate,
    "filter": _filter,
    "multicast": _fan_out,
    "load_balance": _fan_out,
    "loop": _loop,
    "do_try": _do_try,
    "circuit_breaker": _circuit_breaker,
}


def build_diagram(definitions: Iterable[m.RouteDefinition]) -> Diagram:
    """One diagram holding every route (a cluster each), routes linked through their endpoints."""
    builder = _Builder()
    for definition in definitions:
        builder.route(definition)
    builder.link_routes()
    return Diagram(builder.root, builder.edges)

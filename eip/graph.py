"""Route diagrams drawn from the route model, with EIP shapes: ``eip graph``.

The diagram is built from the definitions alone (``node.children()``, ``node.describe()``), so
nothing is compiled, connected or started. Shapes follow the EIP notation as far as Graphviz
and Mermaid allow:

* endpoints: a flag shape labelled by the URI, secrets masked (green: a route's input, blue:
  a send, dashed: computed per exchange); a send to an endpoint another route consumes from
  (``direct:``, ``seda:``, a queue, a folder) is linked to that route's input by a grey arrow;
* content-based router (``choice``) and the other routers: a diamond, each branch's edge
  labelled with its predicate, the branches joining in a dot;
* splitter: a trapezium widening downwards (fanning out); aggregator (and a splitter's or
  multicast's strategy): one narrowing downwards (gathering in); filter and validate: a
  funnel (a house shape pointing down), a filter with ``true``/``false`` exits;
* translators (set body, transform, process, bean, marshal...): boxes; ``log``: a note;
  ``stop``/``rollback``: an octagon; claim check: a cylinder;
* every nested block (split, aggregate, filter, loop, multicast, try/catch/finally, circuit
  breaker and fallback, on_exception, on_completion, ...) is a cluster around its steps;
  error paths (catch, on_exception, the dead letter channel) are red dashed arrows.

Formats: ``dot`` and ``mermaid`` are text and need nothing else; ``svg`` and ``png`` are
rendered by Graphviz's ``dot`` program (Debian package ``graphviz``) through the ``graphviz``
Python binding. ``render()`` raises ``GraphvizMissingError`` when ``dot`` is not installed.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eip import model as m
from eip.errors import ConfigurationError
from eip.secrets import mask_uri
from eip.uri import parse_uri

FORMATS = ("svg", "png", "mermaid", "dot")
BINARY_FORMATS = ("png",)
#: Output file suffixes and the format they imply.
SUFFIXES = {".svg": "svg", ".png": "png", ".mmd": "mermaid", ".mermaid": "mermaid", ".dot": "dot", ".gv": "dot"}
MAX_LINE = 44  # characters per label line before it is cut with an ellipsis


class GraphvizMissingError(ConfigurationError):
    """``svg``/``png`` need Graphviz's ``dot`` program, which is not installed."""


# -- the diagram: nodes, edges, clusters -----------------------------------------------------------
@dataclass
class DNode:
    id: str
    kind: str  # a key of STYLES
    lines: list[str]


@dataclass
class DEdge:
    src: str
    dst: str
    label: str = ""
    style: str = "flow"  # flow | error | link | loop | after


@dataclass
class Cluster:
    id: str
    label: str
    kind: str = "block"  # route | block | branch | error
    items: list[DNode | Cluster] = field(default_factory=list)


@dataclass
class Diagram:
    root: Cluster
    edges: list[DEdge]

    def nodes(self) -> list[DNode]:
        found: list[DNode] = []

        def walk(cluster: Cluster) -> None:
            for item in cluster.items:
                if isinstance(item, Cluster):
                    walk(item)
                else:
                    found.append(item)

        walk(self.root)
        return found

    def clusters(self) -> list[Cluster]:
        found: list[Cluster] = []

        def walk(cluster: Cluster) -> None:
            for item in cluster.items:
                if isinstance(item, Cluster):
                    found.append(item)
                    walk(item)

        walk(self.root)
        return found


#: Per node kind: Graphviz attributes and the Mermaid shape (see _MERMAID_SHAPES).
STYLES: dict[str, tuple[dict[str, str], str]] = {
    "input": ({"shape": "cds", "fillcolor": "#c8e6c9", "color": "#2e7d32"}, "flag"),
    "endpoint": ({"shape": "cds", "fillcolor": "#bbdefb", "color": "#1565c0"}, "flag"),
    "dynamic": ({"shape": "cds", "fillcolor": "#e3f2fd", "color": "#1565c0", "style": "filled,dashed"}, "flag"),
    "dead_letter": ({"shape": "cds", "fillcolor": "#ffcdd2", "color": "#c62828"}, "flag"),
    "router": ({"shape": "diamond", "fillcolor": "#fff59d", "color": "#f9a825"}, "diamond"),
    "filter": ({"shape": "invhouse", "fillcolor": "#fff59d", "color": "#f9a825"}, "funnel"),
    "splitter": ({"shape": "trapezium", "fillcolor": "#ffe0b2", "color": "#ef6c00"}, "fan_out"),
    "aggregator": ({"shape": "invtrapezium", "fillcolor": "#ffe0b2", "color": "#ef6c00"}, "fan_in"),
    "translator": ({"shape": "box", "style": "rounded,filled", "fillcolor": "#f5f5f5", "color": "#616161"}, "round"),
    "control": ({"shape": "hexagon", "fillcolor": "#e1bee7", "color": "#6a1b9a"}, "hexagon"),
    "log": ({"shape": "note", "fillcolor": "#fffde7", "color": "#9e9d24"}, "box"),
    "stop": ({"shape": "octagon", "fillcolor": "#ffcdd2", "color": "#c62828"}, "circle"),
    "store": ({"shape": "cylinder", "fillcolor": "#d7ccc8", "color": "#4e342e"}, "cylinder"),
    "error": ({"shape": "box", "style": "filled,dashed", "fillcolor": "#ffebee", "color": "#c62828"}, "box"),
    "join": ({"shape": "point", "width": "0.12", "color": "#616161"}, "join"),
}

_EDGE_STYLES = {
    "flow": ({}, "-->"),
    "error": ({"style": "dashed", "color": "#c62828", "fontcolor": "#c62828"}, "-.->"),
    "link": ({"style": "dashed", "color": "#9e9e9e", "fontcolor": "#757575", "constraint": "false"}, "-.->"),
    "loop": ({"style": "dashed", "color": "#6a1b9a", "constraint": "false"}, "-.->"),
    "after": ({"style": "dotted", "color": "#616161"}, "-.->"),
}

_CLUSTER_STYLES = {
    "route": {"style": "rounded,filled", "fillcolor": "#fafafa", "color": "#424242", "fontsize": "12"},
    "block": {"style": "rounded,dashed", "color": "#9e9e9e"},
    "error": {"style": "rounded,dashed", "color": "#c62828", "fontcolor": "#c62828"},
}


# -- text helpers ------------------------------------------------------------------------------------
def _short(text: str, limit: int = MAX_LINE) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _wrap(text: str, limit: int = MAX_LINE, max_lines: int = 3) -> list[str]:
    """``text`` in lines of at most ``limit`` characters, broken before ``?``/``&`` (URI
    options) or after a space or comma; beyond ``max_lines`` the rest is cut with an ellipsis."""
    text = " ".join(str(text).split())
    lines: list[str] = []
    while len(text) > limit and len(lines) < max_lines - 1:
        window = text[: limit + 1]
        cut = max(window.rfind("&"), window.rfind("?"))
        if cut <= 0:
            cut = max(window.rfind(" "), window.rfind(", ") + 1)
            if cut <= 0:
                break
        lines.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    lines.append(_short(text, limit))
    return lines


def _unparen(text: str) -> str:
    """``a == b`` for ``(a == b)``: the outer parentheses an expression's text carries."""
    if text.startswith("(") and text.endswith(")"):
        depth = 0
        for index, char in enumerate(text):
            depth += char == "("
            depth -= char == ")"
            if depth == 0 and index < len(text) - 1:
                return text
        return text[1:-1]
    return text


def value_text(value: Any) -> str:
    """How an expression, a callable or a constant reads in a diagram."""
    if value is None:
        return ""
    text = getattr(value, "text", None)
    if isinstance(text, str):
        if text.startswith("constant(") and text.endswith(")"):
            return text[len("constant("):-1]
        return "lambda" if text == "<lambda>" else _unparen(text)
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, bool)):
        return repr(value)
    if isinstance(value, type):
        return value.__name__
    name = getattr(value, "__qualname__", None) or getattr(value, "__name__", None)
    if isinstance(name, str):
        return "lambda" if name.endswith("<lambda>") else name
    if isinstance(value, (list, tuple)):
        return ", ".join(value_text(item) for item in value)
    return type(value).__name__  # an object: its repr would show an address


def uri_text(uri: Any) -> str:
    """A static URI masked, or a computed one's template/expression text."""
    return mask_uri(uri if isinstance(uri, str) else value_text(uri))


def _title(node: m.Node) -> str:
    return node.kind_name().replace("_", " ")


# -- labels: node kind -> (style, lines) ----------------------------------------------------------
def _completion(node: m.Aggregate) -> list[str]:
    parts = []
    if node.completion_size is not None:
        parts.append(f"size {value_text(node.completion_size)}")
    if node.completion_predicate is not None:
        parts.append(f"when {value_text(node.completion_predicate)}")
    if node.completion_timeout is not None:
        parts.append(f"timeout {node.completion_timeout:g}s")
    if node.completion_interval is not None:
        parts.append(f"every {node.completion_interval:g}s")
    return [f"complete on {parts[0]}"] + [f"or {part}" for part in parts[1:]] if parts else []


def _flags(node: Any, *names: str) -> str:
    return ", ".join(name.replace("_", " ") for name in names if getattr(node, name, False))


_LEAVES: dict[str, Callable[[Any], tuple[str, list[str]]]] = {
    "to": lambda n: ("endpoint", [uri_text(n.uri)] + ([str(getattr(n.pattern, "value", n.pattern))] if n.pattern else [])),
    "to_d": lambda n: ("dynamic", ["to_d", uri_text(n.uri)]),
    "wire_tap": lambda n: ("dynamic", ["wire tap", uri_text(n.uri)]),
    "enrich": lambda n: ("endpoint", ["enrich from", uri_text(n.uri)]),
    "poll_enrich": lambda n: ("endpoint", ["poll enrich from", uri_text(n.uri)]),
    "recipient_list": lambda n: ("router", ["recipient list", value_text(n.expression)]),
    "routing_slip": lambda n: ("router", ["routing slip", value_text(n.expression)]),
    "dynamic_router": lambda n: ("router", ["dynamic router", value_text(n.expression)]),
    "process": lambda n: ("translator", ["process", value_text(n.processor)]),
    "bean": lambda n: ("translator", ["bean", value_text(n.bean) + (f".{n.method}" if n.method else "")]),
    "set_body": lambda n: ("translator", ["set body", value_text(n.expression)]),
    "transform": lambda n: ("translator", ["transform", value_text(n.expression)]),
    "set_header": lambda n: ("translator", ["set header", f"{n.name} = {value_text(n.expression)}"]),
    "set_property": lambda n: ("translator", ["set property", f"{n.name} = {value_text(n.expression)}"]),
    "remove_header": lambda n: ("translator", ["remove header", n.name]),
    "remove_headers": lambda n: ("translator", ["remove headers", n.pattern]),
    "convert_body_to": lambda n: ("translator", ["convert body to", value_text(n.type)]),
    "marshal": lambda n: ("translator", ["marshal", value_text(n.data_format)]),
    "unmarshal": lambda n: ("translator", ["unmarshal", value_text(n.data_format)]),
    "validate": lambda n: ("filter", ["validate", value_text(n.predicate)]),
    "log": lambda n: ("log", ["log", n.message]),
    "stop": lambda n: ("stop", ["stop"]),
    "rollback": lambda n: ("stop", ["rollback", n.message]),
    "delay": lambda n: ("control", ["delay", value_text(n.delay)]),
    "throttle": lambda n: ("control", ["throttle", f"{value_text(n.maximum_requests)} per {n.time_period:g}s"]),
    "sample": lambda n: ("control", ["sample", f"1 in {n.message_frequency}" if n.message_frequency
                                     else f"1 per {n.period:g}s"]),
    "claim_check": lambda n: ("store", ["claim check", f"{n.operation} {value_text(n.key)}".strip()]),
}

#: Symbol of a block node (drawn at the top of its cluster).
_BLOCKS: dict[str, Callable[[Any], tuple[str, list[str]]]] = {
    "split": lambda n: ("splitter", ["split", value_text(n.expression), _flags(n, "streaming", "parallel",
                                                                             "stop_on_exception")]),
    "aggregate": lambda n: ("aggregator", ["aggregate", f"by {value_text(n.correlation)}", value_text(n.strategy),
                                           *_completion(n)]),
    "filter": lambda n: ("filter", ["filter", value_text(n.predicate)]),
    "idempotent_consumer": lambda n: ("filter", ["idempotent consumer", f"by {value_text(n.expression)}"]),
    "loop": lambda n: ("control", ["loop", f"while {value_text(n.do_while)}" if n.do_while is not None
                                   else f"{value_text(n.count)} times"]),
    "resequence": lambda n: ("aggregator", ["resequence", f"by {value_text(n.expression)}"]),
    "multicast": lambda n: ("splitter", ["multicast", _flags(n, "parallel", "stop_on_exception")]),
    "load_balance": lambda n: ("router", ["load balance", n.policy.replace("_", " ")]),
    "circuit_breaker": lambda n: ("control", ["circuit breaker", f"opens after {n.failure_threshold} failures"]),
    "pipeline": lambda n: ("translator", ["pipeline"]),
    "on_completion": lambda n: ("control", ["on completion", "only on success" if n.only_on_completion
                                            else "only on failure" if n.only_on_failure else ""]),
}


# -- building the diagram ------------------------------------------------------------------------------
Port = tuple[str, str]  # (node id, label of the edge that leaves it)


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
        node = DNode(self._id("n"), kind, [part for line in lines if line for part in _wrap(line)])
        cluster.items.append(node)
        self.created.append(node.id)
        return node.id

    def cluster(self, parent: Cluster, label: str, kind: str = "block") -> Cluster:
        child = Cluster(self._id("cluster_"), _short(label, 60), kind)
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
        flags = [word for word, on in (("handled", clause.handled is True), ("continued", clause.continued is True))
                 if on]
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
        if kind in _LEAVES:
            style, lines = _LEAVES[kind](node)
        elif kind in _BLOCKS or node.children():
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
        maker = _BLOCKS.get(node.kind_name())
        style, lines = maker(node) if maker else ("translator", [node.describe()])
        return self.node(cluster, style, lines)

    def block(self, cluster: Cluster, node: m.Node, ports: list[Port]) -> list[Port]:
        """Generic block: a cluster with the block's symbol, then each child list in turn."""
        block = self.cluster(cluster, _title(node))
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
        label = _short(value_text(when.predicate), 36)
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
    block = b.cluster(cluster, _title(node))
    head = b.symbol(block, node)
    b.connect(ports, head)
    strategy = getattr(node, "strategy", None)
    join = (b.node(block, "aggregator", ["aggregate replies", value_text(strategy)]) if strategy is not None
            else b.node(block, "join", []))
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


# -- Graphviz ------------------------------------------------------------------------------------------
def to_graphviz(diagram: Diagram) -> Any:
    """A ``graphviz.Digraph`` of the diagram (its ``.source`` is the DOT text)."""
    import graphviz

    graph = graphviz.Digraph(
        "routes",
        graph_attr={"rankdir": "TB", "fontname": "Helvetica", "fontsize": "11", "nodesep": "0.3",
                    "ranksep": "0.35", "newrank": "true", "labeljust": "l"},
        node_attr={"fontname": "Helvetica", "fontsize": "10", "style": "filled", "margin": "0.12,0.05"},
        edge_attr={"fontname": "Helvetica", "fontsize": "9", "color": "#424242", "arrowsize": "0.7"},
    )

    def label(lines: Sequence[str]) -> str:
        return graphviz.nohtml("\\n".join(graphviz.escape(line) for line in lines))

    def add(target: Any, cluster: Cluster) -> None:
        for item in cluster.items:
            if isinstance(item, Cluster):
                with target.subgraph(name=item.id) as sub:
                    sub.attr(label=label([item.label]), **_CLUSTER_STYLES.get(item.kind, _CLUSTER_STYLES["block"]))
                    add(sub, item)
            else:
                attrs = dict(STYLES.get(item.kind, STYLES["translator"])[0])
                text = label(item.lines) if item.lines else ""
                target.node(item.id, text, **attrs)

    add(graph, diagram.root)
    for edge in diagram.edges:
        attrs = dict(_EDGE_STYLES[edge.style][0])
        if edge.label:
            attrs["label"] = label([_short(edge.label, 36)])
        graph.edge(edge.src, edge.dst, **attrs)
    return graph


def find_dot() -> str | None:
    """Path of Graphviz's ``dot`` program, or None."""
    return shutil.which("dot")


def _render_graphviz(diagram: Diagram, fmt: str) -> bytes | str:
    if find_dot() is None:
        raise GraphvizMissingError(
            f"--format {fmt} needs Graphviz's 'dot' program, which is not installed: install the "
            f"graphviz package (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz), "
            f"or use --format mermaid or --format dot, which need nothing else")
    import graphviz

    graph = to_graphviz(diagram)
    try:
        if fmt in BINARY_FORMATS:
            return bytes(graph.pipe(format=fmt))
        return str(graph.pipe(format=fmt, encoding="utf-8"))
    except graphviz.ExecutableNotFound as exc:
        raise GraphvizMissingError(f"Graphviz's 'dot' program could not be run: {exc}") from None
    except graphviz.CalledProcessError as exc:
        raise ConfigurationError(f"Graphviz failed to draw the diagram: {exc.stderr!r}") from None


# -- Mermaid -------------------------------------------------------------------------------------------
_MERMAID_SHAPES = {
    "flag": ('>"', '"]'), "diamond": ('{"', '"}'), "funnel": ('[/"', '"/]'), "fan_out": ('[/"', '"\\]'),
    "fan_in": ('[\\"', '"/]'), "round": ('("', '")'), "hexagon": ('{{"', '"}}'), "box": ('["', '"]'),
    "circle": ('(("', '"))'), "cylinder": ('[("', '")]'), "join": ('(("', '"))'),
}
_MERMAID_CLASSES = {
    "input": "fill:#c8e6c9,stroke:#2e7d32", "endpoint": "fill:#bbdefb,stroke:#1565c0",
    "dynamic": "fill:#e3f2fd,stroke:#1565c0,stroke-dasharray:4 3", "dead_letter": "fill:#ffcdd2,stroke:#c62828",
    "router": "fill:#fff59d,stroke:#f9a825", "filter": "fill:#fff59d,stroke:#f9a825",
    "splitter": "fill:#ffe0b2,stroke:#ef6c00", "aggregator": "fill:#ffe0b2,stroke:#ef6c00",
    "translator": "fill:#f5f5f5,stroke:#616161", "control": "fill:#e1bee7,stroke:#6a1b9a",
    "log": "fill:#fffde7,stroke:#9e9d24", "stop": "fill:#ffcdd2,stroke:#c62828",
    "store": "fill:#d7ccc8,stroke:#4e342e", "error": "fill:#ffebee,stroke:#c62828",
    "join": "fill:#616161,stroke:#616161",
}


def _mermaid_text(text: str) -> str:
    """Text inside a quoted Mermaid label: entity codes for what the parser would read."""
    return (text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
            .replace("|", "#124;").replace("`", "#96;"))


def to_mermaid(diagram: Diagram) -> str:
    """A Mermaid ``flowchart`` (renders on GitHub, GitLab and in the Mermaid live editor)."""
    out = ["flowchart TB"]

    def add(cluster: Cluster, depth: int) -> None:
        pad = "    " * depth
        for item in cluster.items:
            if isinstance(item, Cluster):
                out.append(f'{pad}subgraph {item.id}["{_mermaid_text(item.label)}"]')
                add(item, depth + 1)
                out.append(f"{pad}end")
            else:
                shape = STYLES.get(item.kind, STYLES["translator"])[1]
                left, right = _MERMAID_SHAPES[shape]
                text = "<br/>".join(_mermaid_text(line) for line in item.lines) or " "
                out.append(f"{pad}{item.id}{left}{text}{right}")

    add(diagram.root, 1)
    for edge in diagram.edges:
        arrow = _EDGE_STYLES[edge.style][1]
        label = f'|"{_mermaid_text(_short(edge.label, 36))}"|' if edge.label else ""
        out.append(f"    {edge.src} {arrow}{label} {edge.dst}")
    by_kind: dict[str, list[str]] = {}
    for node in diagram.nodes():
        by_kind.setdefault(node.kind, []).append(node.id)
    for kind, ids in by_kind.items():
        out.append(f"    classDef {kind} {_MERMAID_CLASSES.get(kind, _MERMAID_CLASSES['translator'])}")
        out.append(f"    class {','.join(ids)} {kind}")
    return "\n".join(out) + "\n"


# -- entry point ---------------------------------------------------------------------------------------
def render(definitions: Iterable[m.RouteDefinition], fmt: str = "mermaid") -> str | bytes:
    """The routes drawn in ``fmt``: ``mermaid`` or ``dot`` (text), ``svg`` (text), ``png`` (bytes)."""
    if fmt not in FORMATS:
        raise ConfigurationError(f"unknown diagram format {fmt!r}; formats: {', '.join(FORMATS)}")
    diagram = build_diagram(definitions)
    if fmt == "mermaid":
        return to_mermaid(diagram)
    if fmt == "dot":
        return str(to_graphviz(diagram).source)
    return _render_graphviz(diagram, fmt)


def format_for(path: str | None, fmt: str | None) -> str:
    """The format to draw: ``fmt`` if given, else from ``path``'s suffix, else ``mermaid``."""
    if fmt:
        return fmt
    if path:
        from pathlib import Path

        suffix = Path(path).suffix.lower()
        if suffix in SUFFIXES:
            return SUFFIXES[suffix]
        raise ConfigurationError(f"cannot tell the format from {path!r}: give --format "
                                 f"({', '.join(FORMATS)}) or a suffix ({', '.join(SUFFIXES)})")
    return "mermaid"

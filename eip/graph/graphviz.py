"""Graphviz rendering of a diagram: DOT text, and ``svg``/``png`` through Graphviz's ``dot`` program."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from typing import Any

from eip.errors import ConfigurationError
from eip.graph.labels import short
from eip.graph.model import Cluster, Diagram

BINARY_FORMATS = ("png",)

#: Per node kind (``model.NODE_KINDS``): its EIP shape and colours.
NODE_ATTRS: dict[str, dict[str, str]] = {
    "input": {"shape": "cds", "fillcolor": "#c8e6c9", "color": "#2e7d32"},
    "endpoint": {"shape": "cds", "fillcolor": "#bbdefb", "color": "#1565c0"},
    "dynamic": {"shape": "cds", "fillcolor": "#e3f2fd", "color": "#1565c0", "style": "filled,dashed"},
    "dead_letter": {"shape": "cds", "fillcolor": "#ffcdd2", "color": "#c62828"},
    "router": {"shape": "diamond", "fillcolor": "#fff59d", "color": "#f9a825"},
    "filter": {"shape": "invhouse", "fillcolor": "#fff59d", "color": "#f9a825"},
    "splitter": {"shape": "trapezium", "fillcolor": "#ffe0b2", "color": "#ef6c00"},
    "aggregator": {"shape": "invtrapezium", "fillcolor": "#ffe0b2", "color": "#ef6c00"},
    "translator": {"shape": "box", "style": "rounded,filled", "fillcolor": "#f5f5f5", "color": "#616161"},
    "control": {"shape": "hexagon", "fillcolor": "#e1bee7", "color": "#6a1b9a"},
    "log": {"shape": "note", "fillcolor": "#fffde7", "color": "#9e9d24"},
    "stop": {"shape": "octagon", "fillcolor": "#ffcdd2", "color": "#c62828"},
    "store": {"shape": "cylinder", "fillcolor": "#d7ccc8", "color": "#4e342e"},
    "error": {"shape": "box", "style": "filled,dashed", "fillcolor": "#ffebee", "color": "#c62828"},
    "join": {"shape": "point", "width": "0.12", "color": "#616161"},
}

#: Per edge style (``model.EDGE_STYLES``).
EDGE_ATTRS: dict[str, dict[str, str]] = {
    "flow": {},
    "error": {"style": "dashed", "color": "#c62828", "fontcolor": "#c62828"},
    "link": {"style": "dashed", "color": "#9e9e9e", "fontcolor": "#757575", "constraint": "false"},
    "loop": {"style": "dashed", "color": "#6a1b9a", "constraint": "false"},
    "after": {"style": "dotted", "color": "#616161"},
}

_CLUSTER_ATTRS = {
    "route": {"style": "rounded,filled", "fillcolor": "#fafafa", "color": "#424242", "fontsize": "12"},
    "block": {"style": "rounded,dashed", "color": "#9e9e9e"},
    "error": {"style": "rounded,dashed", "color": "#c62828", "fontcolor": "#c62828"},
}


class GraphvizMissingError(ConfigurationError):
    """``svg``/``png`` need Graphviz's ``dot`` program, which is not installed."""


def to_graphviz(diagram: Diagram) -> Any:
    """A ``graphviz.Digraph`` of the diagram (its ``.source`` is the DOT text)."""
    import graphviz

    graph = graphviz.Digraph(
        "routes",
        graph_attr={
            "rankdir": "TB",
            "fontname": "Helvetica",
            "fontsize": "11",
            "nodesep": "0.3",
            "ranksep": "0.35",
            "newrank": "true",
            "labeljust": "l",
        },
        node_attr={"fontname": "Helvetica", "fontsize": "10", "style": "filled", "margin": "0.12,0.05"},
        edge_attr={"fontname": "Helvetica", "fontsize": "9", "color": "#424242", "arrowsize": "0.7"},
    )

    def label(lines: Sequence[str]) -> str:
        return graphviz.nohtml("\\n".join(graphviz.escape(line) for line in lines))

    def add(target: Any, cluster: Cluster) -> None:
        for item in cluster.items:
            if isinstance(item, Cluster):
                with target.subgraph(name=item.id) as sub:
                    sub.attr(label=label([item.label]), **_CLUSTER_ATTRS.get(item.kind, _CLUSTER_ATTRS["block"]))
                    add(sub, item)
            else:
                attrs = dict(NODE_ATTRS.get(item.kind, NODE_ATTRS["translator"]))
                text = label(item.lines) if item.lines else ""
                target.node(item.id, text, **attrs)

    add(graph, diagram.root)
    for edge in diagram.edges:
        attrs = dict(EDGE_ATTRS[edge.style])
        if edge.label:
            attrs["label"] = label([short(edge.label, 36)])
        graph.edge(edge.src, edge.dst, **attrs)
    return graph


def find_dot() -> str | None:
    """Path of Graphviz's ``dot`` program, or None."""
    return shutil.which("dot")


def render_graphviz(diagram: Diagram, fmt: str) -> bytes | str:
    """The diagram drawn by ``dot`` in ``fmt`` (``svg``: text, ``png``: bytes).

    Raises ``GraphvizMissingError`` when ``dot`` is not installed, naming how to install it."""
    if find_dot() is None:
        raise GraphvizMissingError(
            f"--format {fmt} needs Graphviz's 'dot' program, which is not installed: install the "
            f"graphviz package (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz), "
            f"or use --format mermaid or --format dot, which need nothing else"
        )
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

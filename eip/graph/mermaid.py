"""Mermaid rendering of a diagram: a ``flowchart`` (renders on GitHub, GitLab, the Mermaid live editor)."""

from __future__ import annotations

from eip.graph.labels import short
from eip.graph.model import Cluster, Diagram

_BRACKETS = {  # shape -> the brackets around a node's label
    "flag": ('>"', '"]'),
    "diamond": ('{"', '"}'),
    "funnel": ('[/"', '"/]'),
    "fan_out": ('[/"', '"\\]'),
    "fan_in": ('[\\"', '"/]'),
    "round": ('("', '")'),
    "hexagon": ('{{"', '"}}'),
    "box": ('["', '"]'),
    "circle": ('(("', '"))'),
    "cylinder": ('[("', '")]'),
    "join": ('(("', '"))'),
}

#: Per node kind (``model.NODE_KINDS``): the nearest Mermaid shape to its EIP symbol.
NODE_SHAPES = {
    "input": "flag",
    "endpoint": "flag",
    "dynamic": "flag",
    "dead_letter": "flag",
    "router": "diamond",
    "filter": "funnel",
    "splitter": "fan_out",
    "aggregator": "fan_in",
    "translator": "round",
    "control": "hexagon",
    "log": "box",
    "stop": "circle",
    "store": "cylinder",
    "error": "box",
    "join": "join",
}

#: Per node kind: its ``classDef`` colours.
NODE_CLASSES = {
    "input": "fill:#c8e6c9,stroke:#2e7d32",
    "endpoint": "fill:#bbdefb,stroke:#1565c0",
    "dynamic": "fill:#e3f2fd,stroke:#1565c0,stroke-dasharray:4 3",
    "dead_letter": "fill:#ffcdd2,stroke:#c62828",
    "router": "fill:#fff59d,stroke:#f9a825",
    "filter": "fill:#fff59d,stroke:#f9a825",
    "splitter": "fill:#ffe0b2,stroke:#ef6c00",
    "aggregator": "fill:#ffe0b2,stroke:#ef6c00",
    "translator": "fill:#f5f5f5,stroke:#616161",
    "control": "fill:#e1bee7,stroke:#6a1b9a",
    "log": "fill:#fffde7,stroke:#9e9d24",
    "stop": "fill:#ffcdd2,stroke:#c62828",
    "store": "fill:#d7ccc8,stroke:#4e342e",
    "error": "fill:#ffebee,stroke:#c62828",
    "join": "fill:#616161,stroke:#616161",
}

#: Per edge style (``model.EDGE_STYLES``): its arrow.
EDGE_ARROWS = {"flow": "-->", "error": "-.->", "link": "-.->", "loop": "-.->", "after": "-.->"}


def _mermaid_text(text: str) -> str:
    """Text inside a quoted Mermaid label: entity codes for what the parser would read."""
    return (
        text.replace("&", "#amp;")
        .replace('"', "#quot;")
        .replace("<", "#lt;")
        .replace(">", "#gt;")
        .replace("|", "#124;")
        .replace("`", "#96;")
    )


def to_mermaid(diagram: Diagram) -> str:
    """A Mermaid ``flowchart`` of the diagram: clusters as subgraphs, node kinds as classes."""
    out = ["flowchart TB"]

    def add(cluster: Cluster, depth: int) -> None:
        pad = "    " * depth
        for item in cluster.items:
            if isinstance(item, Cluster):
                out.append(f'{pad}subgraph {item.id}["{_mermaid_text(item.label)}"]')
                add(item, depth + 1)
                out.append(f"{pad}end")
            else:
                left, right = _BRACKETS[NODE_SHAPES.get(item.kind, NODE_SHAPES["translator"])]
                text = "<br/>".join(_mermaid_text(line) for line in item.lines) or " "
                out.append(f"{pad}{item.id}{left}{text}{right}")

    add(diagram.root, 1)
    for edge in diagram.edges:
        arrow = EDGE_ARROWS[edge.style]
        label = f'|"{_mermaid_text(short(edge.label, 36))}"|' if edge.label else ""
        out.append(f"    {edge.src} {arrow}{label} {edge.dst}")
    by_kind: dict[str, list[str]] = {}
    for node in diagram.nodes():
        by_kind.setdefault(node.kind, []).append(node.id)
    for kind, ids in by_kind.items():
        out.append(f"    classDef {kind} {NODE_CLASSES.get(kind, NODE_CLASSES['translator'])}")
        out.append(f"    class {','.join(ids)} {kind}")
    return "\n".join(out) + "\n"

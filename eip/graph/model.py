"""The diagram drawn by ``eip graph``: nodes, edges and clusters, independent of any renderer."""

from __future__ import annotations

from dataclasses import dataclass, field

#: The kinds of node a diagram holds; each renderer gives every kind its shape and colours.
NODE_KINDS = (
    "input",
    "endpoint",
    "dynamic",
    "dead_letter",
    "router",
    "filter",
    "splitter",
    "aggregator",
    "translator",
    "control",
    "log",
    "stop",
    "store",
    "error",
    "join",
)
#: The kinds of edge: the normal flow, an error path, a link between routes, a loop back, an afterthought.
EDGE_STYLES = ("flow", "error", "link", "loop", "after")

Port = tuple[str, str]  # (node id, label of the edge that leaves it)


@dataclass
class DNode:
    id: str
    kind: str  # one of NODE_KINDS
    lines: list[str]


@dataclass
class DEdge:
    src: str
    dst: str
    label: str = ""
    style: str = "flow"  # one of EDGE_STYLES


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

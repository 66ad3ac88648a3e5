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

The package: ``model`` (nodes, edges, clusters), ``labels`` (how a step reads), ``builder``
(route definitions to a diagram), ``mermaid`` and ``graphviz`` (rendering).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from eip import model as m
from eip.errors import ConfigurationError
from eip.graph.builder import build_diagram
from eip.graph.graphviz import BINARY_FORMATS, GraphvizMissingError, find_dot, render_graphviz, to_graphviz
from eip.graph.labels import MAX_LINE, uri_text, value_text
from eip.graph.mermaid import to_mermaid
from eip.graph.model import Cluster, DEdge, Diagram, DNode

__all__ = [
    "BINARY_FORMATS",
    "FORMATS",
    "MAX_LINE",
    "SUFFIXES",
    "Cluster",
    "DEdge",
    "DNode",
    "Diagram",
    "GraphvizMissingError",
    "build_diagram",
    "find_dot",
    "format_for",
    "render",
    "to_graphviz",
    "to_mermaid",
    "uri_text",
    "value_text",
]

FORMATS = ("svg", "png", "mermaid", "dot")
#: Output file suffixes and the format they imply.
SUFFIXES = {".svg": "svg", ".png": "png", ".mmd": "mermaid", ".mermaid": "mermaid", ".dot": "dot", ".gv": "dot"}


def render(definitions: Iterable[m.RouteDefinition], fmt: str = "mermaid") -> str | bytes:
    """The routes drawn in ``fmt``: ``mermaid`` or ``dot`` (text), ``svg`` (text), ``png`` (bytes)."""
    if fmt not in FORMATS:
        raise ConfigurationError(f"unknown diagram format {fmt!r}; formats: {', '.join(FORMATS)}")
    diagram = build_diagram(definitions)
    if fmt == "mermaid":
        return to_mermaid(diagram)
    if fmt == "dot":
        return str(to_graphviz(diagram).source)
    return render_graphviz(diagram, fmt)


def format_for(path: str | None, fmt: str | None) -> str:
    """The format to draw: ``fmt`` if given, else from ``path``'s suffix, else ``mermaid``."""
    if fmt:
        return fmt
    if path:
        suffix = Path(path).suffix.lower()
        if suffix in SUFFIXES:
            return SUFFIXES[suffix]
        raise ConfigurationError(
            f"cannot tell the format from {path!r}: give --format "
            f"({', '.join(FORMATS)}) or a suffix ({', '.join(SUFFIXES)})"
        )
    return "mermaid"

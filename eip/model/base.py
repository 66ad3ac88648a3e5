"""Base of the route model: immutable definition nodes with an id and a source location."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, kw_only=True)
class Node:
    """One step of a route. ``node_id`` is set by ``.id()`` or generated (``split2``)."""

    node_id: str | None = None
    location: str = field(default="", compare=False, repr=False)

    @classmethod
    def kind_name(cls) -> str:
        name = cls.__name__
        return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")

    def children(self) -> tuple[tuple[str, tuple[Node, ...]], ...]:
        """Nested step lists as (label, steps) pairs; empty for leaf nodes."""
        return ()

    def describe(self) -> str:
        """A short label for diagrams, logs and the management API."""
        return self.kind_name()


@dataclass(frozen=True, kw_only=True)
class Block(Node):
    """A node that owns a list of steps (closed with ``.end()`` in the DSL)."""

    steps: tuple[Node, ...] = ()

    def children(self) -> tuple[tuple[str, tuple[Node, ...]], ...]:
        return (("steps", self.steps),)

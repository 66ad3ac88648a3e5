"""Base of the route model: immutable definition nodes with an id and a source location."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


@dataclass(frozen=True, kw_only=True, eq=False)
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

    def __eq__(self, other: object) -> bool:
        # Structural equality that treats expressions by their text: dataclass equality would
        # call Expression.__eq__, which builds a predicate instead of comparing.
        if type(other) is not type(self):
            return NotImplemented
        return all(same(getattr(self, f.name), getattr(other, f.name)) for f in fields(self) if f.compare)

    __hash__ = object.__hash__

    def describe(self) -> str:
        """A short label for diagrams, logs and the management API."""
        return self.kind_name()


@dataclass(frozen=True, kw_only=True, eq=False)
class Block(Node):
    """A node that owns a list of steps (closed with ``.end()`` in the DSL)."""

    steps: tuple[Node, ...] = ()

    def children(self) -> tuple[tuple[str, tuple[Node, ...]], ...]:
        return (("steps", self.steps),)


def same(a: Any, b: Any) -> bool:
    """Equality for definition values: expressions by text, containers element-wise."""
    if a is b:
        return True
    from eip.expressions import Expression

    if isinstance(a, Expression) or isinstance(b, Expression):
        return isinstance(a, Expression) and isinstance(b, Expression) and a.text == b.text
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return bool(a == b)

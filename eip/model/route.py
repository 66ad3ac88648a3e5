"""A whole route: its input, its steps and its route-scoped options."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from eip.model.base import Node
from eip.model.blocks import OnCompletion
from eip.model.endpoints import From
from eip.model.error_handling import OnException


@dataclass(frozen=True, kw_only=True, eq=False)
class RouteDefinition:
    route_id: str
    input: From
    steps: tuple[Node, ...]
    error_handler: Any = None
    on_exceptions: tuple[OnException, ...] = ()
    on_completions: tuple[OnCompletion, ...] = ()
    auto_startup: bool = True
    startup_order: int | None = None
    description: str | None = None
    id_given: bool = False

    def __eq__(self, other: object) -> bool:
        from dataclasses import fields

        from eip.model.base import same

        if type(other) is not type(self):
            return NotImplemented
        return all(same(getattr(self, f.name), getattr(other, f.name)) for f in fields(self))

    __hash__ = object.__hash__

    def walk(self) -> Iterator[Node]:
        """Every node of the route, depth first (the input first)."""
        yield self.input
        for clause in self.on_exceptions:
            yield from _walk(clause)
        for completion in self.on_completions:
            yield from _walk(completion)
        for step in self.steps:
            yield from _walk(step)


def _walk(node: Node) -> Iterator[Node]:
    yield node
    for _, steps in node.children():
        for child in steps:
            yield from _walk(child)

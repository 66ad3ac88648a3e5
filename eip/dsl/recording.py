"""Recording helpers: the route author's source line, definition nodes, and open-block frames."""

from __future__ import annotations

import sys
from dataclasses import MISSING, fields
from typing import Any

from eip import model as m
from eip.errors import RouteDefinitionError
from eip.expressions import to_expression
from eip.options import first_unknown

_SECTION_KINDS = {"when", "otherwise", "do_catch", "do_finally", "on_fallback", "try_body", "breaker_body"}

# Frames in eip/ (this package, the REST DSL, the testing kit) are the DSL's own, not the caller's.
_EIP_DIR = __file__.rsplit("/", 2)[0] + "/"


def _location() -> str:
    """``file:line`` of the user code that called the DSL (the first frame outside ``eip/``)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_EIP_DIR):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return ""
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _expr(value: Any) -> Any:
    return to_expression(value)


def _make(cls: type[m.Node], route_id: str | None, node_id: str | None, location: str, **kwargs: Any) -> Any:
    """Build a definition node; a misspelt keyword gets an error with the closest option."""
    names = {f.name for f in fields(cls) if f.init}
    problem = first_unknown(cls.kind_name(), kwargs, names - {"node_id", "location"})
    if problem:
        raise RouteDefinitionError(problem, route_id=route_id, node_id=node_id, location=location)
    missing = [
        f.name
        for f in fields(cls)
        if f.init and f.default is MISSING and f.default_factory is MISSING and f.name not in kwargs
    ]
    if missing:
        raise RouteDefinitionError(
            f"{cls.kind_name()}() needs {', '.join(missing)}", route_id=route_id, node_id=node_id, location=location
        )
    return cls(node_id=node_id, location=location, **kwargs)


class _Frame:
    """An open block while the DSL records it."""

    __slots__ = ("attrs", "kind", "location", "node_id", "parent_kind", "sections", "steps")

    def __init__(self, kind: str, node_id: str | None, location: str, attrs: dict[str, Any]) -> None:
        self.kind = kind
        self.node_id = node_id
        self.location = location
        self.attrs = attrs
        self.steps: list[m.Node] = []
        self.sections: list[m.Node] = []  # closed when/otherwise, do_catch/do_finally, fallback


# Block verbs: DSL name -> (definition class, its kind name)
_BLOCKS: dict[str, type] = {
    "filter": m.Filter,
    "split": m.Split,
    "aggregate": m.Aggregate,
    "multicast": m.Multicast,
    "idempotent_consumer": m.IdempotentConsumer,
    "loop": m.Loop,
    "resequence": m.Resequence,
    "load_balance": m.LoadBalance,
    "pipeline": m.Pipeline,
}

# What the user typed, for frames whose internal kind differs.
_BLOCK_NAMES = {
    "do_try_shell": "do_try",
    "try_body": "do_try",
    "circuit_breaker_shell": "circuit_breaker",
    "breaker_body": "circuit_breaker",
}


def _branch_hint(kind: str) -> str:
    return {
        "choice": "when(...) or otherwise()",
        "do_try_shell": "do_catch(...) or do_finally()",
        "circuit_breaker_shell": "on_fallback()",
    }.get(kind, "")

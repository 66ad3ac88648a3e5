"""Content-based router: the first ``when`` whose predicate holds runs, else ``otherwise``.

With no match and no otherwise the exchange continues unchanged. A predicate that raises
fails the exchange (the error handler decides), as in Camel."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eip.expressions import unwrap

if TYPE_CHECKING:
    from eip.compiler import CompileContext
    from eip.exchange import Exchange
    from eip.model import Choice


class ChoiceProcessor:
    __slots__ = ("branches", "otherwise")

    def __init__(self, branches: tuple[tuple[Any, Any], ...], otherwise: Any) -> None:
        self.branches = branches
        self.otherwise = otherwise

    def process(self, exchange: Exchange) -> None:
        for predicate, pipeline in self.branches:
            if predicate(exchange):
                pipeline.process(exchange)
                return
        if self.otherwise is not None:
            self.otherwise.process(exchange)


def compile_choice(node: Choice, ctx: CompileContext) -> ChoiceProcessor:
    branches = tuple((unwrap(when.predicate), ctx.compile_steps(when.steps)) for when in node.whens)
    otherwise = ctx.compile_steps(node.otherwise.steps) if node.otherwise is not None else None
    return ChoiceProcessor(branches, otherwise)

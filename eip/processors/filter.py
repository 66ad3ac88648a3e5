"""Message filter: the nested steps run only when the predicate holds.

After the block every exchange continues; ``CamelFilterMatched`` says what happened."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eip.constants import FILTER_MATCHED
from eip.expressions import unwrap

if TYPE_CHECKING:
    from eip.compiler import CompileContext
    from eip.exchange import Exchange
    from eip.model import Filter


class FilterProcessor:
    __slots__ = ("pipeline", "predicate")

    def __init__(self, predicate: Any, pipeline: Any) -> None:
        self.predicate = predicate
        self.pipeline = pipeline

    def process(self, exchange: Exchange) -> None:
        matched = bool(self.predicate(exchange))
        exchange.properties[FILTER_MATCHED] = matched
        if matched:
            self.pipeline.process(exchange)


def compile_filter(node: Filter, ctx: CompileContext) -> FilterProcessor:
    return FilterProcessor(unwrap(node.predicate), ctx.compile_steps(node.steps))

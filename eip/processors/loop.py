"""Loop: run the block ``count`` times, or while ``do_while`` holds.

* ``count`` is evaluated once, before the first pass (an int, or a text of digits); 0 or less
  runs no pass. ``CamelLoopIndex`` (0-based) and ``CamelLoopSize`` are set on each pass.
* ``do_while`` is tested before each pass on the exchange as the previous pass left it (the
  input the first time); ``CamelLoopIndex`` is set, ``CamelLoopSize`` is not. More than
  ``max_iterations`` passes is an error (a guard against a predicate that never turns false).
* ``copy=False`` (default): every pass works on the same exchange, so each sees the previous
  one's result. ``copy=True``: each pass starts from a fresh copy of the input; the exchange
  leaves the loop as the last pass left it.
* A failing pass fails the loop; ``stop()`` inside the block ends the loop and the route.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eip.constants import LOOP_INDEX, LOOP_SIZE
from eip.errors import ExchangeError, ExpressionError

if TYPE_CHECKING:
    from eip.compiler import CompileContext
    from eip.exchange import Exchange
    from eip.model import Loop


class LoopProcessor:
    def __init__(
        self,
        pipeline: Any,
        count: Any,
        do_while: Any,
        copy: bool,
        max_iterations: int,
        route_id: str,
        node_id: str | None,
    ) -> None:
        self.pipeline = pipeline
        self.count = count
        self.do_while = do_while
        self.copy = copy
        self.max_iterations = max_iterations
        self.route_id = route_id
        self.node_id = node_id

    def _count(self, exchange: Exchange) -> int:
        value = self.count(exchange)
        if isinstance(value, bool):
            value = None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ExpressionError(
                f"loop(): the count expression gave {value!r}, not an integer",
                route_id=self.route_id,
                node_id=self.node_id,
            ) from None

    def process(self, exchange: Exchange) -> None:
        size = self._count(exchange) if self.count is not None else None
        original = exchange.copy() if self.copy else None
        current = exchange
        index = 0
        while True:
            if size is not None:
                if index >= size:
                    break
            else:
                if not self.do_while(current):
                    break
                if index >= self.max_iterations:
                    raise ExchangeError(
                        f"loop(): do_while still holds after {self.max_iterations} "
                        f"passes (max_iterations); is the predicate ever false?",
                        route_id=self.route_id,
                        node_id=self.node_id,
                    )
            if original is not None:
                current = original.copy()
            current.properties[LOOP_INDEX] = index
            if size is not None:
                current.properties[LOOP_SIZE] = size
            self.pipeline.process(current)
            index += 1
            if current.route_stop:
                break
        if current is not exchange:
            exchange.message = current.message
            exchange.properties.clear()
            exchange.properties.update(current.properties)
            exchange.route_stop = current.route_stop
            exchange.rollback_only = exchange.rollback_only or current.rollback_only


def compile_loop(node: Loop, ctx: CompileContext) -> LoopProcessor:
    if (node.count is None) == (node.do_while is None):
        raise ctx.error("loop() needs either a count or do_while=predicate")
    ctx.positive(node.max_iterations, "max_iterations")
    return LoopProcessor(
        ctx.compile_steps(node.steps),
        node.count,
        node.do_while,
        node.copy,
        node.max_iterations,
        ctx.route_id,
        node.node_id,
    )

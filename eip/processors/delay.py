"""Delayer: hold the exchange ``delay`` seconds on the caller's thread, then go on.

``delay`` is a number of seconds, a duration text (``"500ms"``), a ``${...}`` template or an
expression evaluated per exchange (its value: seconds or a duration text; None or <= 0 means
no wait). Unlike Camel (``asyncDelayed=true``) the wait blocks the caller's thread, as
everything here is synchronous. The wait is cut short when the route stops: the exchange then
fails (its source keeps the message, nothing is lost).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from eip.errors import DelayInterruptedError, ExpressionError
from eip.expressions import Expression, to_expression
from eip.options import parse_duration

if TYPE_CHECKING:
    from eip.compiler import CompileContext
    from eip.exchange import Exchange
    from eip.model import Delay


class DelayProcessor:
    def __init__(self, delay: Any, route_id: str = "", node_id: str | None = None) -> None:
        self.delay = delay  # seconds (float) or an expression
        self.route_id = route_id
        self.node_id = node_id
        self._stopping = threading.Event()

    def start(self) -> None:
        self._stopping.clear()

    def stop(self) -> None:
        self._stopping.set()

    def seconds(self, exchange: Exchange) -> float:
        if isinstance(self.delay, float):
            return self.delay
        value = self.delay(exchange)
        if value is None:
            return 0.0
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise ExpressionError(
                f"delay(): the delay expression gave {value!r}: {exc}", route_id=self.route_id, node_id=self.node_id
            ) from None

    def process(self, exchange: Exchange) -> None:
        seconds = self.seconds(exchange)
        if seconds > 0 and self._stopping.wait(seconds):
            raise DelayInterruptedError(
                f"delay(): the route stopped during a {seconds:g} s delay", route_id=self.route_id, node_id=self.node_id
            )


def compile_delay(node: Delay, ctx: CompileContext) -> DelayProcessor:
    value = node.delay
    if isinstance(value, str) and "${" in value:
        from eip.simple_language import compile_template

        delay: Any = Expression(compile_template(value), value)
    elif isinstance(value, Expression) or (callable(value) and not isinstance(value, type)):
        delay = to_expression(value)
    else:
        try:
            delay = parse_duration(value)
        except ValueError as exc:
            raise ctx.error(f"delay() needs seconds, a duration text or an expression: {exc}") from None
    return ctx.add_service(DelayProcessor(delay, ctx.route_id, node.node_id))

"""``do_try``/``do_catch``/``do_finally``: Python's try statement inside a route.

The try block has no error handler of its own (on_exception does not fire inside it, as in
Camel). The first ``do_catch`` whose class matches (and whose ``on_when`` holds) runs with
the exception moved to ``CamelExceptionCaught``; ``do_finally`` always runs; an exception no
catch matches propagates to the route's error handler after the finally block."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eip import constants as c

if TYPE_CHECKING:
    from eip.compiler import CompileContext
    from eip.exchange import Exchange
    from eip.model import DoTry


class TryProcessor:
    def __init__(self, body: Any, catches: list[tuple[tuple[type, ...], Any, Any]], finally_: Any) -> None:
        self.body = body
        self.catches = catches
        self.finally_ = finally_

    def _catch_for(self, exc: BaseException, exchange: Exchange) -> Any:
        for types, on_when, pipeline in self.catches:
            if isinstance(exc, types) and (on_when is None or on_when(exchange)):
                return pipeline
        return None

    def process(self, exchange: Exchange) -> None:
        try:
            self.body.process(exchange)
        except Exception as exc:
            pipeline = self._catch_for(exc, exchange)
            if pipeline is None:
                self._finally(exchange)
                raise
            exchange.properties[c.EXCEPTION_CAUGHT] = exc
            exchange.exception = None
            try:
                pipeline.process(exchange)
            except Exception:
                self._finally(exchange)
                raise
        self._finally(exchange)

    def _finally(self, exchange: Exchange) -> None:
        if self.finally_ is not None:
            stopped = exchange.route_stop
            exchange.route_stop = False
            self.finally_.process(exchange)
            exchange.route_stop = exchange.route_stop or stopped


def compile_do_try(node: DoTry, ctx: CompileContext) -> TryProcessor:
    inner = ctx.with_handler(None)
    body = inner.compile_steps(node.steps, handler=None)
    catches = [
        (catch.exceptions, catch.on_when, inner.compile_steps(catch.steps, handler=None)) for catch in node.catches
    ]
    finally_ = inner.compile_steps(node.finally_.steps, handler=None) if node.finally_ else None
    return TryProcessor(body, catches, finally_)

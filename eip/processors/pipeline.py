"""Pipes and filters: run processors in order; on failure the route's error handler decides."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eip.error_handler import ErrorHandler
    from eip.exchange import Exchange


class Pipeline:
    """Runs each processor on the same exchange until the end, a stop or an unhandled failure.

    ``handler`` None means exceptions propagate untouched (inside ``do_try``)."""

    __slots__ = ("calls", "endpoints", "handler", "node_ids", "processors")

    def __init__(
        self,
        processors: Sequence[Any],
        node_ids: Sequence[str],
        handler: ErrorHandler | None,
        endpoints: Sequence[str | None] | None = None,
    ) -> None:
        self.processors = tuple(processors)
        self.calls = tuple(p.process for p in self.processors)  # bound once, not per exchange
        self.node_ids = tuple(node_ids)
        self.endpoints = tuple(endpoints) if endpoints is not None else (None,) * len(self.processors)
        self.handler = handler

    def process(self, exchange: Exchange) -> None:
        for index, call in enumerate(self.calls):
            try:
                call(exchange)
            except Exception as exc:
                if self.handler is None:
                    raise
                self.handler.handle(self, index, exchange, exc)
            if exchange.route_stop:
                return

    def start(self) -> None:
        for processor in self.processors:
            start = getattr(processor, "start", None)
            if start is not None:
                start()

    def __repr__(self) -> str:
        return f"Pipeline({', '.join(self.node_ids)})"

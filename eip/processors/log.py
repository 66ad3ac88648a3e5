"""``log(message)``: log a ``${...}`` template once per exchange (not meant for hot paths)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from eip.expressions import text_of_file
from eip.simple_language import compile_template

if TYPE_CHECKING:
    from eip.compiler import CompileContext
    from eip.exchange import Exchange
    from eip.model import Log


class LogProcessor:
    def __init__(self, logger: logging.Logger, level: int, render: Any) -> None:
        self.logger = logger
        self.level = level
        self.render = render

    def process(self, exchange: Exchange) -> None:
        if self.logger.isEnabledFor(self.level):
            # ${body} alone is the body itself: a lazy file body logs its text, not its path.
            self.logger.log(self.level, "%s", text_of_file(self.render(exchange)))


def compile_log(node: Log, ctx: CompileContext) -> LogProcessor:
    level = logging.getLevelName(node.level)
    if not isinstance(level, int):
        raise ctx.error(f"log(): unknown level {node.level!r}")
    logger = logging.getLogger(node.logger_name or f"eip.route.{ctx.route_id}")
    return LogProcessor(logger, level, compile_template(node.message))

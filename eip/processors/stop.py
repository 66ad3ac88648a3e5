"""``stop()`` ends routing of the exchange (it counts as completed); ``rollback()`` fails it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eip.errors import RollbackError

if TYPE_CHECKING:
    from eip.compiler import CompileContext
    from eip.exchange import Exchange
    from eip.model import Rollback, Stop


class StopProcessor:
    __slots__ = ()

    def process(self, exchange: Exchange) -> None:
        exchange.route_stop = True


class RollbackProcessor:
    def __init__(self, message: str) -> None:
        self.message = message

    def process(self, exchange: Exchange) -> None:
        exchange.rollback_only = True
        raise RollbackError(self.message)


def compile_stop(node: Stop, ctx: CompileContext) -> StopProcessor:
    return StopProcessor()


def compile_rollback(node: Rollback, ctx: CompileContext) -> RollbackProcessor:
    return RollbackProcessor(node.message)

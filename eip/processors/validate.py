"""``validate(predicate)``: fail with ValidationError when the predicate does not hold."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eip.errors import ValidationError

if TYPE_CHECKING:
    from eip.compiler import CompileContext
    from eip.exchange import Exchange
    from eip.model import Validate


class ValidateProcessor:
    def __init__(self, predicate: Any, route_id: str, node_id: str | None) -> None:
        self.predicate = predicate
        self.route_id = route_id
        self.node_id = node_id

    def process(self, exchange: Exchange) -> None:
        try:
            valid = self.predicate(exchange)
        except ValidationError as exc:  # a validator with its own details (xsd): add where it happened
            if exc.route_id is None:
                exc.route_id, exc.node_id = self.route_id, self.node_id
            raise
        if not valid:
            raise ValidationError(f"validation failed: {getattr(self.predicate, 'text', self.predicate)}",
                                  route_id=self.route_id, node_id=self.node_id)


def compile_validate(node: Validate, ctx: CompileContext) -> ValidateProcessor:
    return ValidateProcessor(node.predicate, ctx.route_id, node.node_id)

"""``validate(predicate, message=None)``: fail with ValidationError when the predicate does not hold."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eip.errors import ConfigurationError, ValidationError
from eip.expressions import Expression
from eip.simple_language import compile_template

if TYPE_CHECKING:
    from eip.compiler import CompileContext
    from eip.exchange import Exchange
    from eip.model import Validate


class ValidateProcessor:
    """Raises ValidationError (with ``route_id`` and ``node_id``) when the predicate is false.

    The text is ``message`` rendered against the exchange when given, else one that names the
    node and route (and the predicate when it reads as more than ``<lambda>``). The message is
    only evaluated for an invalid exchange."""

    def __init__(self, predicate: Any, route_id: str, node_id: str | None, message: Any = None) -> None:
        self.predicate = predicate
        self.route_id = route_id
        self.node_id = node_id
        self.message = message
        self.default = _default_text(predicate, route_id, node_id)

    def process(self, exchange: Exchange) -> None:
        try:
            valid = self.predicate(exchange)
        except ValidationError as exc:  # a validator with its own details (xsd): add where it happened
            if exc.route_id is None:
                exc.route_id, exc.node_id = self.route_id, self.node_id
            raise
        if not valid:
            text = self.default if self.message is None else str(self.message(exchange))
            raise ValidationError(text, route_id=self.route_id, node_id=self.node_id)


def _default_text(predicate: Any, route_id: str, node_id: str | None) -> str:
    text = f"validation failed at node '{node_id}' in route '{route_id}'"
    shown = getattr(predicate, "text", None)
    if isinstance(shown, str) and shown and not shown.startswith("<") and shown != "callable":
        text += f": {shown}"  # a readable expression such as (body() > 0); a lambda says nothing
    return text


def compile_validate(node: Validate, ctx: CompileContext) -> ValidateProcessor:
    message = node.message
    if isinstance(message, str):
        try:
            message = compile_template(message)
        except ConfigurationError as exc:
            raise ctx.error(f"validate(message=...): {exc.detail}") from None
    elif message is not None and not (callable(message) or isinstance(message, Expression)):
        raise ctx.error(f"validate(message=...) takes a str or an expression, got {type(message).__name__}")
    return ValidateProcessor(node.predicate, ctx.route_id, node.node_id, message)

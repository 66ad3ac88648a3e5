"""Claim Check: put the message (body and headers) aside and take it back later in the route.

Operations (Camel's):

* ``set``: store a copy of the message under ``key`` (an existing entry is replaced).
* ``get``: merge the entry back, leaving it stored; ``get_and_remove``: merge and remove it.
* ``push``: store a copy on a stack; ``pop``: merge the most recently pushed entry back.

Merging back replaces the body and sets the stored headers on the message (headers added
since are kept, unless the stored message has the same name). A ``get``/``pop`` with nothing
stored leaves the message unchanged, as in Camel. ``key`` is needed by set/get/get_and_remove
and may be a constant, a ``${...}`` template or an expression; with push/pop an optional key
names the stack (Camel has a single stack).

Without ``repository`` the data lives on the exchange itself (property ``CamelClaimCheckRepository``,
Camel's default): it follows the exchange and its copies and goes away with it. A shared
repository (``MemoryClaimCheckRepository()`` or an SQL one) lets one exchange claim what
another stored. The memory store is lost on a crash.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eip import constants as c
from eip.errors import ExpressionError
from eip.expressions import Expression, to_expression
from eip.repositories.claim_check import MemoryClaimCheckRepository

if TYPE_CHECKING:
    from eip.compiler import CompileContext
    from eip.exchange import Exchange
    from eip.message import Message
    from eip.model import ClaimCheck

REPOSITORY_PROPERTY = c.CLAIM_CHECK_REPOSITORY

_REPOSITORY_METHODS = ("add", "get", "get_and_remove", "push", "pop")


def _merge(exchange: Exchange, stored: Message | None) -> None:
    if stored is None:
        return
    message = exchange.message
    message.body = stored.body
    for name, value in stored.headers.items():
        message.headers[name] = value


class ClaimCheckProcessor:
    def __init__(self, operation: str, key: Any, repository: Any, route_id: str, node_id: str | None) -> None:
        self.operation = operation
        self.key = key  # an expression, or None
        self.repository = repository  # None: the exchange's own
        self.route_id = route_id
        self.node_id = node_id

    def _repository(self, exchange: Exchange) -> Any:
        if self.repository is not None:
            return self.repository
        repository = exchange.properties.get(REPOSITORY_PROPERTY)
        if repository is None:
            repository = exchange.properties[REPOSITORY_PROPERTY] = MemoryClaimCheckRepository()
        return repository

    def _key(self, exchange: Exchange) -> Any:
        if self.key is None:
            return None
        key = self.key(exchange)
        if key is None and self.operation not in ("push", "pop"):
            raise ExpressionError(
                f"claim_check({self.operation!r}): the key expression gave None",
                route_id=self.route_id,
                node_id=self.node_id,
            )
        return key

    def process(self, exchange: Exchange) -> None:
        key = self._key(exchange)
        repository = self._repository(exchange)
        operation = self.operation
        if operation == "set":
            repository.add(key, exchange.message)
        elif operation == "get":
            _merge(exchange, repository.get(key))
        elif operation == "get_and_remove":
            _merge(exchange, repository.get_and_remove(key))
        elif operation == "push":
            repository.push(exchange.message, key)
        else:
            _merge(exchange, repository.pop(key))


def compile_claim_check(node: ClaimCheck, ctx: CompileContext) -> ClaimCheckProcessor:
    operation = ctx.choice(node.operation, "operation", ("set", "get", "get_and_remove", "push", "pop"))
    key = node.key
    if key is None:
        if operation in ("set", "get", "get_and_remove"):
            raise ctx.error(f"claim_check({operation!r}) needs a key")
    elif isinstance(key, str) and "${" in key:
        from eip.simple_language import compile_template

        key = Expression(compile_template(key), key)
    else:
        key = to_expression(key)  # a callable is an expression, anything else a constant
    repository = node.repository
    if repository is not None:
        ctx.repository(repository, _REPOSITORY_METHODS, "claim_check()", "a ClaimCheckRepository")
    return ClaimCheckProcessor(operation, key, repository, ctx.route_id, node.node_id)

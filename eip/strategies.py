"""Ready-made aggregation strategies for ``aggregate``, ``split``, ``multicast`` and ``recipient_list``.

An aggregation strategy is any callable ``(old: Exchange | None, new: Exchange) -> Exchange``,
as in Camel:

* the first call of a group gets ``old=None``;
* it returns ``old`` or ``new`` (updated in place), **never None** (the engine raises
  ``AggregationError``) and never a brand-new exchange (its headers and properties would be
  lost);
* the exchange it returns is ``old`` at the next call, and at the end the result.

In a splitter or multicast a part that failed reaches the strategy with ``new.exception``
set. The strategies here keep the first such exception on the result, so that the failure
reaches the parent exchange instead of vanishing; a strategy of your own decides for itself
(clear ``exception`` on what you return to swallow a failure).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from eip.expressions import text_of_file
from eip.file_body import FileBody

if TYPE_CHECKING:
    from eip.compiler import CompileContext
    from eip.exchange import Exchange

Strategy = Callable[["Exchange | None", "Exchange"], "Exchange"]

__all__ = ["Strategy", "concat_bodies", "group_bodies", "group_exchanges", "use_latest", "use_original"]


def check_strategy(
    strategy: Any, ctx: CompileContext, what: str, shape: str = "(old, new)", required: bool = False
) -> None:
    """At compile time: raise ``ctx.error`` (naming the route and node) unless ``strategy`` is a
    callable that takes two positional arguments (None is accepted unless ``required``). A
    strategy factory passed uncalled (``concat_bodies``, a strategy class) gets a hint to call it.
    A callable whose signature cannot be read (some builtins) is accepted."""
    if strategy is None and not required:
        return
    if not callable(strategy):
        raise ctx.error(f"{what}() strategy must be a callable {shape} -> exchange, got {strategy!r}")
    try:
        signature = inspect.signature(strategy)
    except (TypeError, ValueError):
        return
    if _accepts(signature, 2):
        return
    name = getattr(strategy, "__name__", None) or type(strategy).__name__
    shown = signature.replace(
        parameters=[p.replace(annotation=p.empty) for p in signature.parameters.values()],
        return_annotation=signature.empty,
    )
    hint = f"; it makes a strategy: pass {name}() instead" if _accepts(signature, 0) else ""
    raise ctx.error(f"{what}() strategy {name}{shown} cannot be called as {shape} -> exchange{hint}")


def _accepts(signature: inspect.Signature, count: int) -> bool:
    try:
        signature.bind(*([None] * count))
    except TypeError:
        return False
    return True


def _keep_failure(target: Exchange, other: Exchange) -> None:
    if target.exception is None and other.exception is not None:
        target.exception = other.exception


def use_latest(old: Exchange | None, new: Exchange) -> Exchange:
    """The newest exchange wins (Camel's ``UseLatestAggregationStrategy``); an earlier
    failure is carried over to it."""
    if old is not None:
        _keep_failure(new, old)
    return new


def use_original(old: Exchange | None, new: Exchange) -> Exchange:
    """The first exchange wins and later ones are dropped (a later failure is carried over).

    In ``split``/``multicast``/``recipient_list`` this means Camel's
    ``UseOriginalAggregationStrategy``: the parent exchange continues as it was before the
    fan-out (a failure of a part is still raised)."""
    if old is None:
        return new
    _keep_failure(old, new)
    return old


# The fan-out EIPs recognise it and keep the parent's own message.
use_original.keeps_parent = True  # type: ignore[attr-defined]

# ``reads_new_only``: once a group exists (old is not None) the strategy only reads ``new``
# and returns ``old``, so the aggregator may pass the live exchange instead of a copy.


def group_bodies(old: Exchange | None, new: Exchange) -> Exchange:
    """The body becomes the list of every body, in aggregation order (Camel's
    ``GroupedBodyAggregationStrategy``); headers are those of the first exchange."""
    if old is None:
        new.message.body = [new.message.body]
        return new
    old.message.body.append(new.message.body)
    _keep_failure(old, new)
    return old


use_original.reads_new_only = True  # type: ignore[attr-defined]
group_bodies.reads_new_only = True  # type: ignore[attr-defined]


def group_exchanges(old: Exchange | None, new: Exchange) -> Exchange:
    """The body becomes the list of every exchange, in aggregation order (Camel's
    ``GroupedExchangeAggregationStrategy``). The first exchange is recorded as a copy taken
    before its body was replaced by the list."""
    if old is None:
        first = new.copy()
        new.message.body = [first]
        return new
    old.message.body.append(new)
    _keep_failure(old, new)
    return old


def concat_bodies(separator: str = "") -> Strategy:
    """A strategy joining the bodies as text with ``separator`` (Camel's
    ``StringAggregationStrategy``). Bytes bodies stay bytes; other bodies are turned into
    text with ``str()`` (bytes inside a text join are decoded as UTF-8); None bodies are skipped."""
    byte_separator = separator.encode("utf-8")

    def concat(old: Exchange | None, new: Exchange) -> Exchange:
        body = new.message.body
        if old is None:
            if not isinstance(body, (str, bytes)):
                new.message.body = _text(body)
            return new
        _keep_failure(old, new)
        if body is None:
            return old
        current = old.message.body
        if isinstance(current, bytes) and isinstance(body, bytes):
            old.message.body = current + byte_separator + body if current else body
        else:
            text = _text(current)
            old.message.body = text + separator + _text(body) if text else _text(body)
        return old

    concat.reads_new_only = True  # type: ignore[attr-defined]
    concat.__name__ = f"concat_bodies({separator!r})"
    concat.__qualname__ = concat.__name__
    return concat


def _text(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8")
    if isinstance(value, FileBody):  # a file consumer's lazy body: its content, not its path
        return text_of_file(value)
    return "" if value is None else str(value)

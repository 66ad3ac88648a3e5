"""Splitter: run the block's steps once per part of a message, each part on its own copy.

The expression gives the parts: a list, tuple, set, dict (its ``(key, value)`` items),
generator or any iterable; a ``str`` splits on commas (Camel's default; empty tokens are
skipped; use ``body().tokenize(sep)`` for anything else); None gives no parts. None parts are
skipped. Anything else (an int, bytes) raises ``SplitError`` naming the route and node.

Each part runs on ``exchange.copy()`` with the part as body, with properties
``CamelSplitIndex`` (0-based), ``CamelSplitSize`` and ``CamelSplitComplete``. The copies always
share the parent's unit of work (so there is no Camel ``shareUnitOfWork`` option): the source is
acknowledged once, after the parent finished (a part never acknowledges it), and a part that
fails fails the parent as described below.

* Without a strategy the parent continues unchanged; with one, the strategy's result becomes
  the message (``use_original`` keeps the parent's).
* A part that fails does not stop the others; afterwards its exception (the first one) is
  raised to the parent, unless a strategy decides otherwise (an exception on its result is
  raised). A failure the route's error handler handled (dead letter channel, handled
  ``on_exception``) counts as done.
* ``stop_on_exception``: stop at the first failure, even a handled one, and raise it.
* ``streaming``: the parts are consumed lazily (one part of look-ahead), never materialised;
  ``CamelSplitSize`` is only known, and set, on the last part.
* ``parallel``: the parts run on the route's bounded pool; the caller waits for all of them
  (or ``timeout`` seconds, after which unfinished parts are left out); results are aggregated
  in split order (in completion order when streaming too).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, cast

from eip import constants as c
from eip.errors import AggregationError, SplitError
from eip.expressions import unwrap
from eip.processors.multicast import (
    FanOut,
    apply_result,
    handled_failure,
    parse_timeout,
)
from eip.processors.parallel import shared_pool
from eip.strategies import check_strategy

if TYPE_CHECKING:
    from eip.compiler import CompileContext
    from eip.exchange import Exchange
    from eip.model import Split

_SPLIT_PROPS = (c.SPLIT_INDEX, c.SPLIT_SIZE, c.SPLIT_COMPLETE)
_INDEX, _SIZE, _COMPLETE = _SPLIT_PROPS
_END = object()


class SplitProcessor:
    __slots__ = (
        "expression",
        "fan_out",
        "keep_parent",
        "node_id",
        "route_id",
        "steps",
        "stop_on_exception",
        "strategy",
    )

    def __init__(
        self,
        expression: Any,
        steps: Any,
        strategy: Any,
        stop_on_exception: bool,
        fan_out: FanOut | None,
        route_id: str,
        node_id: str | None,
    ) -> None:
        self.expression = expression
        self.steps = steps
        self.keep_parent = strategy is not None and getattr(strategy, "keeps_parent", False)
        self.strategy = None if self.keep_parent else strategy
        self.stop_on_exception = stop_on_exception
        self.fan_out = fan_out  # streaming or parallel
        self.route_id = route_id
        self.node_id = node_id

    def process(self, exchange: Exchange) -> None:
        value = self.expression(exchange)
        if self.fan_out is not None:
            self._fan_out(exchange, value)
            return
        # The sequential path: one copy per part and nothing else allocated per part.
        cls = value.__class__
        if cls is list or cls is tuple:
            parts = [part for part in value if part is not None]
        else:
            parts = self._materialise(value)
        size = len(parts)
        if not size:
            return
        steps = self.steps
        strategy = self.strategy
        stop = self.stop_on_exception
        result = None
        first_failure = None
        last = size - 1
        for index, part in enumerate(parts):
            sub = exchange.copy()
            sub.message.body = part
            props = sub.properties
            props[_INDEX] = index
            props[_SIZE] = size
            props[_COMPLETE] = index == last
            if stop:
                props.pop(c.ERROR_HANDLER_HANDLED, None)
                props.pop(c.EXCEPTION_CAUGHT, None)
            try:
                steps.process(sub)
            except Exception as exc:
                if stop:
                    raise
                sub.exception = exc
                if first_failure is None:
                    first_failure = exc
            else:
                if stop:
                    handled = handled_failure(sub)
                    if handled is not None:
                        raise handled
            if strategy is not None:
                result = strategy(result, sub)
                if result is None:
                    raise AggregationError(
                        f"aggregation strategy {getattr(strategy, '__name__', strategy)!r} returned "
                        "None; a strategy must return old or new",
                        route_id=self.route_id,
                        node_id=self.node_id,
                    )
        if result is not None:
            apply_result(exchange, result, _SPLIT_PROPS)
            if result.exception is not None:
                raise result.exception
        elif first_failure is not None and strategy is None:
            raise first_failure

    # -- what to split ------------------------------------------------------------------------
    def _iterable(self, value: Any) -> Any:
        if value is None:
            return ()
        if isinstance(value, str):
            return [token for token in value.split(",") if token]
        if isinstance(value, (bytes, bytearray, memoryview)):
            raise SplitError(
                f"split: cannot split a {type(value).__name__} body; convert it to "
                "str first (convert_body_to(str)) or use body().tokenize(...)",
                route_id=self.route_id,
                node_id=self.node_id,
            )
        if isinstance(value, Mapping):
            return value.items()
        try:
            iter(value)
        except TypeError:
            raise SplitError(
                f"split: the expression gave a {type(value).__name__} ({_short(value)}), which is not iterable",
                route_id=self.route_id,
                node_id=self.node_id,
            ) from None
        return value

    def _materialise(self, value: Any) -> list[Any]:
        return [part for part in self._iterable(value) if part is not None]

    # -- streaming and parallel -----------------------------------------------------------------
    def _fan_out(self, exchange: Exchange, value: Any) -> None:
        fan_out = cast(FanOut, self.fan_out)
        if fan_out.streaming:
            iterable = self._iterable(value)
            iterator = iter(iterable)
            try:
                fan_out.run(exchange, self._stream(exchange, iterator))
            finally:
                if iterator is iterable:  # the expression handed us an iterator: close it
                    close = getattr(iterator, "close", None)
                    if close is not None:
                        close()
            return
        parts = self._materialise(value)
        size = len(parts)
        if not size:
            return
        pairs = []
        steps = self.steps
        last = size - 1
        for index, part in enumerate(parts):
            sub = exchange.copy()
            sub.message.body = part
            props = sub.properties
            props[_INDEX] = index
            props[_SIZE] = size
            props[_COMPLETE] = index == last
            pairs.append((steps, sub))
        fan_out.run(exchange, pairs)

    def _stream(self, exchange: Exchange, iterator: Iterator[Any]) -> Iterator[tuple[Any, Exchange]]:
        """Pairs made lazily; looks one part ahead to know which part is the last."""
        steps = self.steps
        upcoming = _next_part(iterator)
        index = 0
        while upcoming is not _END:
            part, upcoming = upcoming, _next_part(iterator)
            sub = exchange.copy()
            sub.message.body = part
            props = sub.properties
            props[c.SPLIT_INDEX] = index
            if upcoming is _END:
                props[c.SPLIT_SIZE] = index + 1
                props[c.SPLIT_COMPLETE] = True
            else:
                props.pop(c.SPLIT_SIZE, None)  # an outer split's size must not show through
                props[c.SPLIT_COMPLETE] = False
            index += 1
            yield steps, sub


def _next_part(iterator: Iterator[Any]) -> Any:
    for part in iterator:
        if part is not None:
            return part
    return _END


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def compile_split(node: Split, ctx: CompileContext) -> SplitProcessor:
    if not callable(node.expression):
        raise ctx.error(f"split() needs an expression, got {node.expression!r}")
    check_strategy(node.strategy, ctx, "split")
    timeout = parse_timeout(node.timeout, node.parallel, ctx, "split")
    steps = ctx.compile_steps(node.steps)
    fan_out = None
    if node.parallel or node.streaming:
        fan_out = FanOut(
            strategy=node.strategy,
            keep_parent=True,
            own=_SPLIT_PROPS,
            route_id=ctx.route_id,
            node_id=node.node_id,
            parallel=node.parallel,
            pool=shared_pool(ctx) if node.parallel else None,
            stop_on_exception=node.stop_on_exception,
            timeout=timeout,
            streaming=node.streaming,
        )
    return SplitProcessor(
        unwrap(node.expression), steps, node.strategy, node.stop_on_exception, fan_out, ctx.route_id, node.node_id
    )

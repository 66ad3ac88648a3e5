"""Load Balancer: each step of the block is one target; a policy picks the target per exchange.

Policies (Camel's):

* ``round_robin``: targets in turn.
* ``random``: a target at random.
* ``weighted``: ``weights=(w1, w2, ...)``, one per target (0 = never). With
  ``round_robin=True`` a weighted round robin in Camel's order (for (3, 1): A, B, A, A, then
  again from A),
  otherwise a weighted random choice.
* ``sticky``: ``sticky_expression`` gives a key; the first exchange of a key gets the next
  target in turn and later ones of that key the same target (the last 10000 keys are kept; a
  None key is not remembered).
* ``failover``: try a target; when it raises one of ``failover_on`` (default: any exception)
  try the next, each attempt on a fresh copy of the exchange (a half-done attempt leaves no
  trace). ``maximum_failover_attempts=-1`` (default) tries each target at most once (unlike
  Camel, where -1 retries for ever); ``n`` allows ``n`` failovers, wrapping around the list.
  ``round_robin=True`` starts each exchange at the next target instead of the first. When
  every attempt failed, the last exception propagates to the route's error handler. The
  targets of a failover run without the route's error handler (Camel's
  ``inheritErrorHandler=false``), so a failure fails over at once instead of being retried
  or dead-lettered inside the target.

Use ``pipeline()`` as a step to make one target of several steps. Counters are thread-safe.
"""

from __future__ import annotations

import itertools
import random
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from eip.exchange import Exchange
from eip.expressions import Expression, to_expression

if TYPE_CHECKING:
    from eip.compiler import CompileContext
    from eip.model import LoadBalance

STICKY_KEYS = 10000


class _RoundRobin:
    __slots__ = ("counter", "size")

    def __init__(self, size: int) -> None:
        self.counter = itertools.count()  # next() on a count is atomic under the GIL
        self.size = size

    def next_index(self) -> int:
        return next(self.counter) % self.size


class LoadBalanceProcessor:
    """Base: ``choose(exchange)`` gives the index of the target."""

    def __init__(self, targets: list[Any]) -> None:
        self.targets = targets

    def choose(self, exchange: Exchange) -> int:
        raise NotImplementedError

    def process(self, exchange: Exchange) -> None:
        self.targets[self.choose(exchange)].process(exchange)


class RoundRobinProcessor(LoadBalanceProcessor):
    def __init__(self, targets: list[Any]) -> None:
        super().__init__(targets)
        self._rr = _RoundRobin(len(targets))

    def choose(self, exchange: Exchange) -> int:
        return self._rr.next_index()


class RandomProcessor(LoadBalanceProcessor):
    def __init__(self, targets: list[Any], rng: random.Random | None = None) -> None:
        super().__init__(targets)
        self.random = rng or random.Random()

    def choose(self, exchange: Exchange) -> int:
        return self.random.randrange(len(self.targets))


class WeightedRandomProcessor(LoadBalanceProcessor):
    def __init__(self, targets: list[Any], weights: tuple[int, ...], rng: random.Random | None = None) -> None:
        super().__init__(targets)
        self.weights = weights
        self.random = rng or random.Random()
        self._indexes = list(range(len(targets)))

    def choose(self, exchange: Exchange) -> int:
        return self.random.choices(self._indexes, self.weights)[0]


class WeightedRoundRobinProcessor(LoadBalanceProcessor):
    """Camel's weighted round robin: go round the targets, each taking a turn while it has
    weight left in this cycle; a new cycle starts when every weight is used up."""

    def __init__(self, targets: list[Any], weights: tuple[int, ...]) -> None:
        super().__init__(targets)
        self.weights = weights
        self._left = list(weights)
        self._index = 0
        self._lock = threading.Lock()

    def choose(self, exchange: Exchange) -> int:
        with self._lock:
            if not any(self._left):
                self._left = list(self.weights)
                self._index = 0
            size = len(self.targets)
            while self._left[self._index] == 0:
                self._index = (self._index + 1) % size
            chosen = self._index
            self._left[chosen] -= 1
            self._index = (chosen + 1) % size
            return chosen


class StickyProcessor(LoadBalanceProcessor):
    def __init__(self, targets: list[Any], expression: Any) -> None:
        super().__init__(targets)
        self.expression = expression
        self._rr = _RoundRobin(len(targets))
        self._keys: OrderedDict[Any, int] = OrderedDict()
        self._lock = threading.Lock()

    def choose(self, exchange: Exchange) -> int:
        key = self.expression(exchange)
        if key is None:
            return self._rr.next_index()
        with self._lock:
            index = self._keys.get(key)
            if index is None:
                index = self._keys[key] = self._rr.next_index()
                if len(self._keys) > STICKY_KEYS:
                    self._keys.popitem(last=False)
            else:
                self._keys.move_to_end(key)
            return index


class FailoverProcessor(LoadBalanceProcessor):
    def __init__(
        self,
        targets: list[Any],
        failover_on: tuple[type[BaseException], ...],
        maximum_failover_attempts: int,
        round_robin: bool,
    ) -> None:
        super().__init__(targets)
        self.failover_on: tuple[type[BaseException], ...] = failover_on or (Exception,)
        self.maximum_failover_attempts = maximum_failover_attempts
        self.round_robin = round_robin
        self._rr = _RoundRobin(len(targets))

    def choose(self, exchange: Exchange) -> int:
        return self._rr.next_index() if self.round_robin else 0

    def process(self, exchange: Exchange) -> None:
        size = len(self.targets)
        attempts = size if self.maximum_failover_attempts < 0 else self.maximum_failover_attempts + 1
        start = self.choose(exchange)
        for attempt in range(attempts):
            work = exchange.copy()
            work.exception = None
            try:
                self.targets[(start + attempt) % size].process(work)
            except self.failover_on:
                if attempt + 1 >= attempts:
                    raise
                continue
            exchange.message = work.message
            exchange.properties.clear()
            exchange.properties.update(work.properties)
            exchange.route_stop = work.route_stop
            exchange.rollback_only = exchange.rollback_only or work.rollback_only
            return


_POLICIES = ("round_robin", "random", "failover", "weighted", "sticky")


def compile_load_balance(node: LoadBalance, ctx: CompileContext) -> LoadBalanceProcessor:
    if not node.steps:
        raise ctx.error("load_balance() has no targets: add one step per target inside the block")
    policy = ctx.choice(node.policy, "policy", _POLICIES)
    if policy == "failover":
        inner = ctx.with_handler(None)
        targets = [inner.compile_steps([step], handler=None) for step in node.steps]
    else:
        targets = [ctx.compile_steps([step]) for step in node.steps]
    if policy == "round_robin":
        return RoundRobinProcessor(targets)
    if policy == "random":
        return RandomProcessor(targets)
    if policy == "weighted":
        weights = tuple(node.weights)
        if len(weights) != len(targets):
            raise ctx.error(
                f"load_balance('weighted') has {len(targets)} target(s) but "
                f"{len(weights)} weight(s): give one weight per target"
            )
        if any(isinstance(w, bool) or not isinstance(w, int) or w < 0 for w in weights) or not any(weights):
            raise ctx.error(f"load_balance('weighted') weights must be integers >= 0, not all 0; got {weights!r}")
        if node.round_robin:
            return WeightedRoundRobinProcessor(targets, weights)
        return WeightedRandomProcessor(targets, weights)
    if policy == "sticky":
        expression = node.sticky_expression
        if expression is None:
            raise ctx.error("load_balance('sticky') needs sticky_expression=...")
        if isinstance(expression, str) and "${" in expression:
            from eip.simple_language import compile_template

            expression = Expression(compile_template(expression), expression)
        elif isinstance(expression, Expression) or callable(expression):
            expression = to_expression(expression)
        else:
            raise ctx.error(f"load_balance('sticky') sticky_expression must be an expression, got {expression!r}")
        return StickyProcessor(targets, expression)
    # failover: the only policy left
    for exc in node.failover_on:
        if not (isinstance(exc, type) and issubclass(exc, BaseException)):
            raise ctx.error(f"load_balance('failover') failover_on takes exception classes, got {exc!r}")
    if not isinstance(node.maximum_failover_attempts, int) or node.maximum_failover_attempts < -1:
        raise ctx.error(
            f"load_balance('failover') maximum_failover_attempts must be -1 or >= 0, "
            f"got {node.maximum_failover_attempts!r}"
        )
    return FailoverProcessor(targets, tuple(node.failover_on), node.maximum_failover_attempts, node.round_robin)

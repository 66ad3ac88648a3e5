"""Definitions of the EIPs that own nested steps (closed with ``.end()``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eip.model.base import Block, Node


@dataclass(frozen=True, kw_only=True, eq=False)
class When(Block):
    predicate: Any

    def describe(self) -> str:
        return f"when {getattr(self.predicate, 'text', self.predicate)}"


@dataclass(frozen=True, kw_only=True, eq=False)
class Otherwise(Block):
    pass


@dataclass(frozen=True, kw_only=True, eq=False)
class Choice(Node):
    """Content-based router: the first matching ``when`` runs; else ``otherwise``; else nothing."""

    whens: tuple[When, ...] = ()
    otherwise: Otherwise | None = None

    def children(self) -> tuple[tuple[str, tuple[Node, ...]], ...]:
        branches: tuple[Node, ...] = tuple(self.whens)
        if self.otherwise is not None:
            branches += (self.otherwise,)
        return (("branches", branches),)


@dataclass(frozen=True, kw_only=True, eq=False)
class Filter(Block):
    """Message filter: the steps run only when the predicate holds; everything continues after."""

    predicate: Any


@dataclass(frozen=True, kw_only=True, eq=False)
class Pipeline(Block):
    """Steps run in order (useful as one branch of a multicast)."""


@dataclass(frozen=True, kw_only=True, eq=False)
class Split(Block):
    expression: Any
    strategy: Any = None
    streaming: bool = False
    parallel: bool = False
    stop_on_exception: bool = False
    timeout: float | None = None


@dataclass(frozen=True, kw_only=True, eq=False)
class Aggregate(Block):
    correlation: Any
    strategy: Any
    completion_size: Any = None
    completion_timeout: float | None = None
    completion_interval: float | None = None
    completion_predicate: Any = None
    eager_check_completion: bool = False
    force_completion_on_stop: bool = False
    complete_all_on_stop: bool = False
    repository: Any = None
    ignore_invalid_correlation_keys: bool = False
    close_correlation_key_on_completion: int | None = None
    discard_on_completion_timeout: bool = False
    completion_timeout_checker_interval: float = 0.1


@dataclass(frozen=True, kw_only=True, eq=False)
class Multicast(Block):
    """Each step is one destination and gets its own copy (use ``pipeline()`` for several steps)."""

    strategy: Any = None
    parallel: bool = False
    stop_on_exception: bool = False
    timeout: float | None = None


@dataclass(frozen=True, kw_only=True, eq=False)
class IdempotentConsumer(Block):
    expression: Any
    repository: Any = None
    skip_duplicate: bool = True
    remove_on_failure: bool = True
    eager: bool = True


@dataclass(frozen=True, kw_only=True, eq=False)
class Loop(Block):
    """Run the steps ``count`` times, or while ``do_while`` holds (``copy`` gives each pass a copy)."""

    count: Any = None
    do_while: Any = None
    copy: bool = False
    max_iterations: int = 10000


@dataclass(frozen=True, kw_only=True, eq=False)
class Resequence(Block):
    """Batch resequencer: collect up to ``batch_size`` or ``batch_timeout`` s, sort by expression."""

    expression: Any
    batch_size: int = 100
    batch_timeout: float = 1.0
    allow_duplicates: bool = False
    reverse: bool = False


@dataclass(frozen=True, kw_only=True, eq=False)
class LoadBalance(Block):
    """Each step is one target; ``policy`` is round_robin, random, failover (or weighted/sticky)."""

    policy: str = "round_robin"
    failover_on: tuple[type, ...] = ()
    maximum_failover_attempts: int = -1
    round_robin: bool = False
    sticky_expression: Any = None
    weights: tuple[int, ...] = ()


@dataclass(frozen=True, kw_only=True, eq=False)
class OnFallback(Block):
    pass


@dataclass(frozen=True, kw_only=True, eq=False)
class CircuitBreaker(Block):
    failure_threshold: int = 5
    failure_rate_threshold: float | None = None
    sliding_window_size: int = 10
    minimum_number_of_calls: int = 1
    wait_duration_in_open_state: float = 60.0
    permitted_calls_in_half_open_state: int = 1
    timeout: float | None = None
    record_exceptions: tuple[type, ...] = (Exception,)
    ignore_exceptions: tuple[type, ...] = ()
    fallback: OnFallback | None = None

    def children(self) -> tuple[tuple[str, tuple[Node, ...]], ...]:
        result: tuple[tuple[str, tuple[Node, ...]], ...] = (("steps", self.steps),)
        if self.fallback is not None:
            result += (("fallback", self.fallback.steps),)
        return result


@dataclass(frozen=True, kw_only=True, eq=False)
class OnCompletion(Block):
    """Steps run after the exchange finished its route (on a copy): always, only on success or on failure."""

    only_on_completion: bool = False
    only_on_failure: bool = False

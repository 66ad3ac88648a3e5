"""Aggregator EIP: ``compile_aggregate`` turns an ``Aggregate`` definition into its processor.

The processor and its contract (what completes a group, what a crash loses) are in
``processor.py``; the timeout map and checker thread in ``completion.py``; repositories in
``eip.repositories.aggregation``; ready-made strategies in ``eip.strategies``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eip.errors import ClosedCorrelationKeyError
from eip.expressions import unwrap
from eip.processors.aggregate.processor import AggregateProcessor
from eip.repositories.aggregation import MemoryAggregationRepository
from eip.strategies import check_strategy

if TYPE_CHECKING:
    from eip.compiler import CompileContext
    from eip.model import Aggregate

_REPOSITORY_METHODS = ("add", "get", "remove", "keys", "confirm")  # the AggregationRepository protocol

__all__ = ["AggregateProcessor", "ClosedCorrelationKeyError", "compile_aggregate"]


def _is_expression(value: Any) -> bool:
    return callable(value) and not isinstance(value, type)


def compile_aggregate(node: Aggregate, ctx: CompileContext) -> AggregateProcessor:
    if not _is_expression(node.correlation):
        raise ctx.error(f"aggregate() needs a correlation expression, got {node.correlation!r}")
    check_strategy(node.strategy, ctx, "aggregate", required=True)

    size: int | None = None
    size_expression: Any = None
    if node.completion_size is not None:
        if _is_expression(node.completion_size):
            size_expression = node.completion_size
        elif (
            isinstance(node.completion_size, int)
            and not isinstance(node.completion_size, bool)
            and node.completion_size > 0
        ):
            size = node.completion_size
        else:
            raise ctx.error(
                f"aggregate(): completion_size must be a positive int or an expression, got {node.completion_size!r}"
            )

    timeout: float | None = None
    timeout_expression: Any = None
    if node.completion_timeout is not None:
        if _is_expression(node.completion_timeout):
            timeout_expression = node.completion_timeout
        else:
            timeout = ctx.duration(node.completion_timeout, "completion_timeout")
    interval = None
    if node.completion_interval is not None:
        interval = ctx.duration(node.completion_interval, "completion_interval")
    if interval is not None and (timeout is not None or timeout_expression is not None):
        raise ctx.error("aggregate(): use completion_timeout or completion_interval, not both")
    if node.completion_predicate is not None and not _is_expression(node.completion_predicate):
        raise ctx.error(f"aggregate(): completion_predicate must be a predicate, got {node.completion_predicate!r}")
    if (
        size is None
        and size_expression is None
        and timeout is None
        and timeout_expression is None
        and interval is None
        and node.completion_predicate is None
    ):
        raise ctx.error(
            "aggregate() needs a completion condition: completion_size, completion_timeout, "
            "completion_interval or completion_predicate"
        )
    if node.discard_on_completion_timeout and timeout is None and timeout_expression is None:
        raise ctx.error("aggregate(): discard_on_completion_timeout needs completion_timeout")
    checker_interval = ctx.duration(node.completion_timeout_checker_interval, "completion_timeout_checker_interval")

    close = node.close_correlation_key_on_completion
    if close is not None:  # the number of closed keys to remember (0: all)
        ctx.non_negative(close, "close_correlation_key_on_completion")

    repository = node.repository
    if repository is None:
        repository = MemoryAggregationRepository()
    else:
        ctx.repository(repository, _REPOSITORY_METHODS, "aggregate()", "an AggregationRepository")

    steps = ctx.compile_steps(node.steps)
    processor = AggregateProcessor(
        correlation=unwrap(node.correlation),
        strategy=node.strategy,
        steps=steps,
        repository=repository,
        route_id=ctx.route_id,
        node_id=node.node_id,
        completion_size=size,
        completion_size_expression=size_expression,
        completion_timeout=timeout,
        completion_timeout_expression=timeout_expression,
        completion_interval=interval,
        completion_predicate=node.completion_predicate,
        eager_check_completion=node.eager_check_completion,
        complete_on_stop=node.force_completion_on_stop or node.complete_all_on_stop,
        ignore_invalid_correlation_keys=node.ignore_invalid_correlation_keys,
        close_correlation_key_on_completion=close,
        discard_on_completion_timeout=node.discard_on_completion_timeout,
        checker_interval=checker_interval,
        wait_on_stop=ctx.engine.shutdown_timeout if node.complete_all_on_stop else 0.0,
    )
    return ctx.add_service(processor)

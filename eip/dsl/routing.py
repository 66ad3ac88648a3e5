"""Routing verbs: recipient lists, slips, throttling, the block EIPs (split, aggregate, ...) and choice."""

from __future__ import annotations

from typing import Any, Self

from eip import model as m
from eip.dsl.blocks import BlockTracker
from eip.dsl.recording import _expr, _location


class RoutingVerbs(BlockTracker):
    """Verbs that decide where, when and how often a message goes; blocks close with ``end()``."""

    def recipient_list(self, expression: Any, delimiter: str = ",", **options: Any) -> Self:
        return self._add(m.RecipientList, expression=_expr(expression), delimiter=delimiter, **options)

    def routing_slip(self, expression: Any, delimiter: str = ",", **options: Any) -> Self:
        return self._add(m.RoutingSlip, expression=_expr(expression), delimiter=delimiter, **options)

    def dynamic_router(self, expression: Any, **options: Any) -> Self:
        return self._add(m.DynamicRouter, expression=_expr(expression), **options)

    def throttle(self, maximum_requests: Any, time_period: float = 1.0, **options: Any) -> Self:
        return self._add(m.Throttle, maximum_requests=maximum_requests, time_period=time_period, **options)

    def delay(self, delay: Any) -> Self:
        return self._add(m.Delay, delay=delay)

    def sample(self, period: float | None = 1.0, message_frequency: int | None = None) -> Self:
        return self._add(m.Sample, period=None if message_frequency else period, message_frequency=message_frequency)

    # -- blocks ---------------------------------------------------------------------------------
    def filter(self, predicate: Any) -> Self:
        return self._open("filter", m.Filter, predicate=_expr(predicate))

    def split(self, expression: Any, strategy: Any = None, **options: Any) -> Self:
        return self._open("split", m.Split, expression=_expr(expression), strategy=strategy, **options)

    def aggregate(self, correlation: Any, strategy: Any, **options: Any) -> Self:
        if "completion_predicate" in options and options["completion_predicate"] is not None:
            options["completion_predicate"] = _expr(options["completion_predicate"])
        return self._open("aggregate", m.Aggregate, correlation=_expr(correlation), strategy=strategy, **options)

    def multicast(self, strategy: Any = None, **options: Any) -> Self:
        return self._open("multicast", m.Multicast, strategy=strategy, **options)

    def pipeline(self) -> Self:
        return self._open("pipeline", m.Pipeline)

    def idempotent_consumer(self, expression: Any, repository: Any = None, **options: Any) -> Self:
        return self._open(
            "idempotent_consumer", m.IdempotentConsumer, expression=_expr(expression), repository=repository, **options
        )

    def loop(self, count: Any = None, do_while: Any = None, **options: Any) -> Self:
        return self._open(
            "loop",
            m.Loop,
            count=None if count is None else _expr(count),
            do_while=None if do_while is None else _expr(do_while),
            **options,
        )

    def resequence(self, expression: Any, **options: Any) -> Self:
        return self._open("resequence", m.Resequence, expression=_expr(expression), **options)

    def load_balance(self, policy: str = "round_robin", **options: Any) -> Self:
        if "failover_on" in options:
            options["failover_on"] = tuple(options["failover_on"])
        return self._open("load_balance", m.LoadBalance, policy=policy, **options)

    def choice(self) -> Self:
        return self._open("choice", None)

    def when(self, predicate: Any) -> Self:
        self._check_open()
        location = _location()
        top = self._top
        if top.kind == "when":
            self._close_section()
        elif top.kind == "otherwise":
            raise self._error("when() after otherwise(): otherwise() must be the last branch", top.node_id, location)
        elif top.kind != "choice":
            raise self._misplaced("when()", "choice()", top, location)
        return self._push_section("when", location, {"predicate": _expr(predicate)})

    def otherwise(self) -> Self:
        self._check_open()
        location = _location()
        top = self._top
        if top.kind == "when":
            self._close_section()
        elif top.kind == "otherwise":
            raise self._error("a choice() has only one otherwise()", top.node_id, location)
        elif top.kind == "choice":
            raise self._error("otherwise() before any when()", top.node_id, location)
        else:
            raise self._misplaced("otherwise()", "choice()", top, location)
        return self._push_section("otherwise", location, {})

"""RouteDsl: the fluent recorder of one route, with its options and every verb."""

from __future__ import annotations

from dataclasses import replace
from typing import Self

from eip import model as m
from eip.dsl.endpoints import EndpointVerbs
from eip.dsl.error_handling import ErrorHandlingVerbs
from eip.dsl.routing import RoutingVerbs
from eip.dsl.translator import TranslatorVerbs


class RouteDsl(EndpointVerbs, TranslatorVerbs, RoutingVerbs, ErrorHandlingVerbs):
    """Fluent recorder for one route (or one builder-level ``on_exception`` clause)."""

    # -- route options ------------------------------------------------------------------------
    def route_id(self, route_id: str) -> Self:
        if not isinstance(route_id, str) or not route_id:
            raise self._error("route_id() needs a non-empty string")
        self._route_id = route_id
        return self

    def description(self, text: str) -> Self:
        self._route_options["description"] = text
        return self

    def auto_startup(self, flag: bool = True) -> Self:
        self._route_options["auto_startup"] = bool(flag)
        return self

    def startup_order(self, order: int) -> Self:
        self._route_options["startup_order"] = int(order)
        return self

    def id(self, node_id: str) -> Self:
        """Name the node just added (or the block just opened, or the branch just started)."""
        if self._last is None:
            raise self._error("id() must follow a step; use route_id() to name the route")
        what, frame = self._last
        if what == "frame":
            frame.node_id = node_id
            if frame.kind in ("try_body", "breaker_body") and len(self._stack) >= 2:
                self._stack[-2].node_id = node_id
        else:
            frame.steps[-1] = replace(frame.steps[-1], node_id=node_id)
        return self

    def on_completion(self, only_on_completion: bool = False, only_on_failure: bool = False) -> Self:
        if len(self._stack) != 1:
            raise self._error("on_completion() inside a block: declare it at the top level of the route")
        return self._open(
            "on_completion", m.OnCompletion, only_on_completion=only_on_completion, only_on_failure=only_on_failure
        )

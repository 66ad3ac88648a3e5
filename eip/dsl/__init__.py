"""The Python DSL: ``RouteBuilder.configure()`` records immutable route definitions."""

from __future__ import annotations

from eip.dsl.builder import FunctionRouteBuilder, RouteBuilder
from eip.dsl.recording import _location as _location
from eip.dsl.route import RouteDsl

__all__ = ["FunctionRouteBuilder", "RouteBuilder", "RouteDsl"]

"""RouteBuilder: records routes in configure(), with builder-level error handler and on_exception clauses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from eip import model as m
from eip.dsl.blocks import BlockTracker
from eip.dsl.error_handling import _on_exception_attrs
from eip.dsl.recording import _location, _make
from eip.dsl.route import RouteDsl
from eip.errors import RouteDefinitionError


class _ClauseDsl(RouteDsl):
    """Records a builder-level ``on_exception(...)...end()`` clause."""


class RouteBuilder:
    """Subclass it and record routes in ``configure()`` with ``self.from_(...)``.

    Builder-level ``error_handler()`` and ``on_exception()`` (declared before ``from_``) apply to
    every route of this builder; route-level ones (inside a route) to that route only and win.
    """

    def __init__(self) -> None:
        self._routes: list[RouteDsl] = []
        self._clauses: list[m.OnException] = []
        self._open_clause: RouteDsl | None = None
        self._builder_error_handler: Any = None
        self._built: list[m.RouteDefinition] | None = None

    def configure(self) -> None:
        """Record routes here."""
        raise NotImplementedError(f"{type(self).__name__}.configure() records no routes")

    def from_(self, uri: str) -> RouteDsl:
        if self._open_clause is not None:
            raise self._open_clause._error("on_exception() before this from_() is not closed with end()")
        if not isinstance(uri, str) or not uri:
            raise RouteDefinitionError(f"from_() needs an endpoint URI, got {uri!r}", location=_location())
        dsl = RouteDsl(self, "route", _location(), input_uri=uri)
        self._routes.append(dsl)
        return dsl

    def error_handler(self, handler: Any) -> None:
        """Use ``handler`` for every route of this builder (unless a route sets its own)."""
        self._builder_error_handler = handler

    def rest(self, path: str = "/") -> Any:
        """REST DSL: ``self.rest("/orders").get("/{id}").to("direct:get-order").post().to(...)``;
        each verb records an ordinary route from an ``http:`` consumer (see ``eip.rest``)."""
        from eip.rest import RestDsl

        return RestDsl(self, path)

    def on_exception(self, *exceptions: type[BaseException], **options: Any) -> _ClauseDsl:
        """Builder-level clause for every route of this builder; close it with ``end()``."""
        if self._open_clause is not None:
            raise self._open_clause._error("previous on_exception() is not closed with end()")
        dsl = _ClauseDsl(self, "on_exception_root", _location())
        dsl._stack[0].attrs.update(_on_exception_attrs(dsl, exceptions, options))
        self._open_clause = dsl
        return dsl

    def _finish_clause(self, dsl: BlockTracker) -> RouteBuilder:
        root = dsl._stack[0]
        clause = _make(
            m.OnException,
            None,
            f"on_exception{len(self._clauses) + 1}",
            root.location,
            steps=tuple(root.steps),
            **root.attrs,
        )
        self._clauses.append(clause)
        self._open_clause = None
        dsl._closed = True
        return self

    def build(self) -> list[m.RouteDefinition]:
        """Run ``configure()`` once and return the route definitions; raises on any DSL mistake."""
        if self._built is None:
            self.configure()
            if self._open_clause is not None:
                raise self._open_clause._error(
                    "on_exception() is not closed with end()", location=self._open_clause._stack[0].location
                )
            routes = []
            for index, dsl in enumerate(self._routes, 1):
                route = dsl._build_route(f"route{index}")
                handler = route.error_handler if route.error_handler is not None else self._builder_error_handler
                route = replace(route, error_handler=handler, on_exceptions=route.on_exceptions + tuple(self._clauses))
                routes.append(route)
            self._built = routes
        return list(self._built)


class FunctionRouteBuilder(RouteBuilder):
    """A RouteBuilder from a plain function ``fn(builder)``."""

    def __init__(self, fn: Callable[[RouteBuilder], None]) -> None:
        super().__init__()
        self._fn = fn

    def configure(self) -> None:
        self._fn(self)

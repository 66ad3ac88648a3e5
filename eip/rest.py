"""REST DSL: REST services declared verb by verb, each one an ordinary route from an http consumer.

::

    class OrderApi(RouteBuilder):
        def configure(self):
            (self.rest("/orders")
                .get("/{id}").route_id("get-order").to("direct:get-order")
                .post().to("direct:new-order"))

records the same routes as::

    self.from_("http:/orders/{id}?methods=GET").route_id("get-order").to("direct:get-order")
    self.from_("http:/orders?methods=POST").to("direct:new-order")

so validation, diagrams, ``advice_with`` and the management API see plain routes. A verb's path
joins the ``rest()`` path (``/orders`` + ``/{id}``); path parameters arrive as headers (``id``),
the reply is the body after the route (see ``components.http``). ``route()`` instead of ``to()``
gives the verb's route to continue with any steps. A verb without ``to()`` or ``route()`` steps
is an error when the builder is built. Keyword options of a verb are http consumer options
(``match_on_uri_prefix=True``, ``parse_body=False``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eip.dsl import RouteDsl, _location
from eip.errors import RouteDefinitionError
from eip.uri import build_uri

if TYPE_CHECKING:
    from eip import model as m
    from eip.dsl import RouteBuilder


class _RestRoute(RouteDsl):
    """The route of one REST verb; refuses to be built without a step."""

    rest_verb = ""

    def _build_route(self, default_id: str) -> m.RouteDefinition:
        if not self._stack[0].steps and len(self._stack) == 1:
            raise self._error(
                f"rest {self.rest_verb} has nothing to call: add .to(uri) or .route() steps",
                location=self._stack[0].location,
            )
        return super()._build_route(default_id)


class RestDsl:
    """What ``RouteBuilder.rest(path)`` returns: verbs (``get``, ``post``, ``put``, ``delete``,
    ``patch``, ``head``, ``options``), each followed by ``to(uri)`` or ``route()``."""

    def __init__(self, builder: RouteBuilder, path: str = "/") -> None:
        if not isinstance(path, str) or not path.startswith("/"):
            raise RouteDefinitionError(f"rest() path must start with '/', got {path!r}", location=_location())
        self._builder = builder
        self._path = path
        self._current: _RestRoute | None = None

    # -- verbs ------------------------------------------------------------------------------------
    def get(self, path: str = "", **options: Any) -> RestDsl:
        return self.verb("GET", path, **options)

    def post(self, path: str = "", **options: Any) -> RestDsl:
        return self.verb("POST", path, **options)

    def put(self, path: str = "", **options: Any) -> RestDsl:
        return self.verb("PUT", path, **options)

    def delete(self, path: str = "", **options: Any) -> RestDsl:
        return self.verb("DELETE", path, **options)

    def patch(self, path: str = "", **options: Any) -> RestDsl:
        return self.verb("PATCH", path, **options)

    def head(self, path: str = "", **options: Any) -> RestDsl:
        return self.verb("HEAD", path, **options)

    def options(self, path: str = "", **options: Any) -> RestDsl:
        return self.verb("OPTIONS", path, **options)

    def verb(self, method: str, path: str = "", **options: Any) -> RestDsl:
        """Serve ``method`` on the rest path joined with ``path``."""
        location = _location()
        builder = self._builder
        if builder._open_clause is not None:
            raise builder._open_clause._error("on_exception() before this rest verb is not closed with end()")
        if not isinstance(path, str):
            raise RouteDefinitionError(f"rest verb path must be a string, got {path!r}", location=location)
        full = _join(self._path, path)
        method = method.upper()
        uri = build_uri("http", full, [("methods", method), *sorted(options.items())])
        route = _RestRoute(builder, "route", location, input_uri=uri)
        route.rest_verb = f"{method} {full}"
        builder._routes.append(route)
        self._current = route
        return self

    # -- what a verb does -------------------------------------------------------------------------
    def to(self, *uris: str) -> RestDsl:
        """Send the request to ``uris`` in turn; the reply is the body they leave."""
        self._verb_route("to").to(*uris)
        return self

    def route(self) -> RouteDsl:
        """The verb's route, to continue with any steps (``.process(...)``, ``.choice()``, ...)."""
        return self._verb_route("route")

    def route_id(self, route_id: str) -> RestDsl:
        """Name the route of the current verb."""
        self._verb_route("route_id").route_id(route_id)
        return self

    def description(self, text: str) -> RestDsl:
        self._verb_route("description").description(text)
        return self

    def _verb_route(self, what: str) -> _RestRoute:
        if self._current is None:
            raise RouteDefinitionError(
                f"rest('{self._path}').{what}() needs a verb first: .get(), .post(), ...", location=_location()
            )
        return self._current


def _join(base: str, path: str) -> str:
    if not path or path == "/":
        return base if base == "/" else base.rstrip("/")
    return base.rstrip("/") + "/" + path.lstrip("/")

"""The management API as a WSGI app: health, metrics, routes and endpoints, with roles.

=====================================  =========  ==================================================
``GET /health/live``                   open       200 while the process serves
``GET /health/ready``                  open [2]_  200 when ready, else 503 and the failed categories
``GET /metrics``                       open [1]_  Prometheus text (OpenMetrics when asked for)
``GET /api/routes``                    viewer     every route: id, state, input URI, statistics
``GET /api/routes/{id}``               viewer     one route, with its definition as a tree
``POST /api/routes/{id}/start``        operator   also ``stop``, ``suspend``, ``resume``
``GET /api/endpoints``                 viewer     every endpoint: URI, component, statistics
=====================================  =========  ==================================================

.. [1] ``management.metrics_require_auth: true`` asks for the ``viewer`` role.
.. [2] Without credentials: ``{"status": "DOWN", "failed": ["datasources", "routes"]}`` only; with
   credentials of the ``viewer`` role, every check by name (``checks``, ``not_ready``). Credentials
   that are wrong or lack the role answer 401/403, as for ``/api``.

Everything answers JSON, errors too: ``{"error": "not_found", "message": "..."}`` with 401 (and
``WWW-Authenticate: Bearer``), 403, 404 (unknown route), 405 (with ``Allow``), 409 (an action
the route's state does not allow), 500 (with an ``error_id`` that is also in the log; never a
stack trace). Every ``/api`` request is authenticated before anything else, so a caller without
credentials learns nothing, not even which routes exist. URIs are shown with secrets masked.
Paths are matched by the HTTP server's routing (``eip.http_server.routing``), as ``http:``
consumers' are; a path with an empty segment (``/api//routes``) is a 404.
"""

from __future__ import annotations

import enum
import functools
import json
import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from eip.errors import ConfigurationError
from eip.http_server.routing import HandlerRegistration, find, ranked
from eip.http_server.templates import PathTemplate
from eip.management.auth import OPERATOR, VIEWER, Authenticator, AuthError, Principal
from eip.management.health import Readiness
from eip.management.metrics import EngineMetrics, queue_size
from eip.secrets import mask_uri

if TYPE_CHECKING:
    from eip.engine import Engine
    from eip.model import Node
    from eip.route import Route

log = logging.getLogger("eip.management")

REALM = "eip-management"
_ACTIONS = ("start", "stop", "suspend", "resume")
# The action paths are matched one by one, and reserved on the HTTP server as one template.
_ACTION_PATHS = "/api/routes/{route_id}/{action}"
_MANAGEMENT_KEYS = {"metrics_require_auth", "health_timeout", "health_cache", "enabled"}


class ApiError(Exception):
    """An error answered as JSON with ``status``."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message


def _flag(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "on", "1", "false", "no", "off", "0", ""):
        return value.strip().lower() in ("true", "yes", "on", "1")
    if value is None:
        return False
    raise ConfigurationError(f"{where} must be true or false, got {value!r}")


def _seconds(value: Any, default: float, where: str) -> float:
    if value is None:
        return default
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{where} must be a number of seconds, got {value!r}") from None
    if seconds <= 0:
        raise ConfigurationError(f"{where} must be more than 0")
    return seconds


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    body = json.dumps(data, default=_json_default, indent=None, separators=(",", ":"))
    response = Response(body + "\n", status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


class ManagementApp:
    """The WSGI app for one engine. ``config`` is a mapping (see ``eip.management``)."""

    def __init__(self, engine: Engine, config: Mapping[str, Any] | None = None) -> None:
        config = _as_mapping(config)
        self.engine = engine
        self.auth = Authenticator(config.get("auth"))
        management = config.get("management") or {}
        if not isinstance(management, Mapping):
            raise ConfigurationError("management must be a mapping")
        unknown = sorted(set(management) - _MANAGEMENT_KEYS)
        if unknown:
            raise ConfigurationError(
                f"management: unknown key(s) {', '.join(map(str, unknown))}; "
                f"known: {', '.join(sorted(_MANAGEMENT_KEYS))}"
            )
        self.metrics_require_auth = _flag(management.get("metrics_require_auth"), "management.metrics_require_auth")
        self.readiness = Readiness(
            engine,
            timeout=_seconds(management.get("health_timeout"), 2.0, "management.health_timeout"),
            ttl=_seconds(management.get("health_cache"), 5.0, "management.health_cache"),
        )
        self.metrics = EngineMetrics(engine)
        self._action_lock = threading.Lock()
        if not self.auth.configured:
            log.warning(
                "management API: no credentials configured (auth.jwt, auth.api_keys): "
                "every /api call is refused with 401"
            )
        # The HTTP server's routing (eip.http_server.routing) matches the paths: one router.
        views: list[tuple[str, str, Callable[..., Response]]] = [
            ("GET", "/health/live", self.live),
            ("GET", "/health/ready", self.ready),
            ("GET", "/metrics", self.metrics_view),
            ("GET", "/api/routes", self.routes),
            ("GET", "/api/routes/{route_id}", self.route),
            ("GET", "/api/endpoints", self.endpoints),
        ]
        self._paths = [*(path for _, path, _ in views), _ACTION_PATHS]
        views += [
            ("POST", f"/api/routes/{{route_id}}/{name}", functools.partial(self.action, action=name))
            for name in _ACTIONS
        ]
        self._routes = ranked(
            HandlerRegistration(frozenset({method}), PathTemplate(path), _bound(view), "the management API")
            for method, path, view in views
        )

    def paths(self) -> list[str]:
        """Every path this app answers, as ``eip.http_server`` templates (``/api/routes/{route_id}``)."""
        return list(self._paths)

    # -- WSGI -------------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        response = self.dispatch(request)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        try:
            path = request.path
            if path == "/api" or path.startswith("/api/"):
                # Authenticate before routing: without credentials not even a 404 says what exists.
                self._authorize(request, VIEWER)
            registration, params, methods = find(self._routes, path, request.method)
            if registration is None:
                if not methods:
                    raise ApiError(404, "not_found", f"no such resource: {path}")
                allowed = ", ".join(sorted(methods))
                return json_response(
                    {"error": "method_not_allowed", "message": f"{request.method} is not allowed here; use {allowed}"},
                    405,
                    {"Allow": allowed},
                )
            return registration.handler(request, params)  # type: ignore[no-any-return]
        except AuthError as exc:
            return self._refusal(exc)
        except ApiError as exc:
            return json_response({"error": exc.error, "message": exc.message}, exc.status)
        except HTTPException as exc:
            code = exc.code or 500
            return json_response(
                {"error": (exc.name or "error").lower().replace(" ", "_"), "message": exc.description or exc.name}, code
            )
        except Exception as exc:  # never a stack trace in a response
            error_id = uuid.uuid4().hex[:12]
            log.error(
                "management API: %s %s failed (error id %s)", request.method, request.path, error_id, exc_info=exc
            )
            return json_response(
                {
                    "error": "internal_error",
                    "error_id": error_id,
                    "message": f"internal error; see the server log for error id {error_id}",
                },
                500,
            )

    def _authorize(self, request: Request, role: str) -> Principal:
        """The request's principal if it holds ``role`` (authenticated once per request)."""
        principal = request.environ.get("eip.management.principal")
        if principal is None:
            principal = self.auth.authenticate(request.headers)
            request.environ["eip.management.principal"] = principal
        if not principal.may(role):
            raise AuthError(403, f"this needs the role '{role}'", "insufficient_scope")
        return principal

    def _refusal(self, exc: AuthError) -> Response:
        challenge = f'Bearer realm="{REALM}"'
        if exc.error:
            challenge += f', error="{exc.error}", error_description="{exc.message}"'
        log.debug("management API: refused (%d): %s", exc.status, exc.message)
        error = "unauthorized" if exc.status == 401 else "forbidden"
        return json_response({"error": error, "message": exc.message}, exc.status, {"WWW-Authenticate": challenge})

    # -- health and metrics -----------------------------------------------------------------------------
    def live(self, request: Request) -> Response:
        return json_response({"status": "UP"})

    def ready(self, request: Request) -> Response:
        # Route ids, URIs and datasource names map the system: only a viewer sees them.
        detailed = _has_credentials(request)
        if detailed:
            self._authorize(request, VIEWER)
        ok, checks = self.readiness.ready()
        data: dict[str, Any] = {"status": "UP" if ok else "DOWN"}
        if not ok:
            data["failed"] = sorted({c.category for c in checks if not c.ok})
        if detailed:
            if not ok:
                data["not_ready"] = [c.as_dict() for c in checks if not c.ok]
            data["checks"] = [c.as_dict() for c in checks]
        return json_response(data, 200 if ok else 503)

    def metrics_view(self, request: Request) -> Response:
        if self.metrics_require_auth:
            self._authorize(request, VIEWER)
        body, content_type = self.metrics.exposition(request.headers.get("Accept"))
        response = Response(body, status=200, content_type=content_type)
        response.headers["Cache-Control"] = "no-store"
        return response

    # -- routes and endpoints -------------------------------------------------------------------------
    def _route(self, route_id: str) -> Route:
        if route_id not in self.engine.route_ids():
            raise ApiError(404, "not_found", f"no route '{route_id}'")
        return self.engine.route(route_id)

    def _secrets(self) -> frozenset[str]:
        """Names of every secret option the engine's endpoints know, to mask labels with."""
        names: set[str] = set()
        for endpoint in self.engine.endpoints():
            names.update(type(endpoint).options.secrets())
        return frozenset(names)

    def _summary(self, route: Route) -> dict[str, Any]:
        stats = route.stats()
        for key in ("route_id", "state", "endpoint"):
            stats.pop(key, None)
        definition = route.definition
        return {
            "id": route.route_id,
            "state": route.state,
            "input": mask_uri(route.endpoint.uri),
            "auto_startup": definition.auto_startup,
            "description": definition.description,
            "stats": stats,
        }

    def routes(self, request: Request) -> Response:
        summaries = []
        for route_id in self.engine.route_ids():
            try:
                route = self.engine.route(route_id)
            except ConfigurationError:  # removed while we listed
                continue
            summaries.append(self._summary(route))
        return json_response({"routes": summaries})

    def route(self, request: Request, route_id: str) -> Response:
        route = self._route(route_id)
        data = self._summary(route)
        data["startup_order"] = route.definition.startup_order
        data["tree"] = route_tree(route, self._secrets())
        return json_response(data)

    def action(self, request: Request, route_id: str, action: str) -> Response:
        principal = self._authorize(request, OPERATOR)
        route = self._route(route_id)
        engine = self.engine
        unfinished: list[str] = []
        with self._action_lock:
            before = route.state
            if action == "start":
                if not engine.is_started:
                    raise ApiError(409, "conflict", f"the engine is {engine.state}; routes start with it")
                if before == "suspended":
                    engine.resume_route(route_id)
                elif before != "started":
                    engine.start_route(route_id)
            elif action == "stop":
                if before != "stopped":
                    unfinished = engine.stop_route(route_id)
            elif action == "suspend":
                if before == "stopped":
                    raise ApiError(409, "conflict", f"route '{route_id}' is stopped; start it instead")
                if before == "started":
                    engine.suspend_route(route_id)
            elif action == "resume":
                if before == "stopped":
                    raise ApiError(409, "conflict", f"route '{route_id}' is stopped; start it instead")
                if before == "suspended":
                    engine.resume_route(route_id)
            after = route.state
        log.info(
            "management API: %s route '%s' (%s -> %s) by %s '%s'",
            action,
            route_id,
            before,
            after,
            principal.method,
            principal.name,
        )
        data: dict[str, Any] = {"id": route_id, "action": action, "previous_state": before, "state": after}
        if action == "stop":
            data["unfinished_exchanges"] = unfinished
        return json_response(data)

    def endpoints(self, request: Request) -> Response:
        consumed_by: dict[int, list[Route]] = {}
        for route_id in self.engine.route_ids():
            try:
                route = self.engine.route(route_id)
            except ConfigurationError:
                continue
            consumed_by.setdefault(id(route.endpoint), []).append(route)
        result = []
        for endpoint in self.engine.endpoints():
            routes = consumed_by.get(id(endpoint), [])
            stats: dict[str, Any] = {}
            own = getattr(endpoint, "stats", None)
            if callable(own):
                try:
                    stats.update(own())
                except Exception:  # noqa: BLE001, S110 - statistics are best effort
                    pass
            size = queue_size(endpoint)
            if size is not None:
                stats["queue_size"] = size
            if routes:
                stats["exchanges_consumed"] = sum(r.entry.stats.completed + r.entry.stats.failed for r in routes)
            result.append(
                {
                    "uri": mask_uri(endpoint.uri),
                    "component": endpoint.component.scheme,
                    "type": type(endpoint).__name__,
                    "consumed_by": [r.route_id for r in routes],
                    "stats": stats,
                }
            )
        return json_response({"endpoints": result})

    def close(self) -> None:
        """Stop feeding metrics (removes the engine listener)."""
        self.metrics.close()


def _has_credentials(request: Request) -> bool:
    return bool(request.headers.get("Authorization") or request.headers.get("X-API-Key"))


def _bound(view: Callable[..., Response], **arguments: str) -> Callable[[Request, dict[str, str]], Response]:
    """``view(request, **arguments, **path_params)`` as a handler of ``eip.http_server.routing``."""
    return lambda request, params: view(request, **arguments, **params)


def _as_mapping(config: Any) -> Mapping[str, Any]:
    if config is None:
        return {}
    if isinstance(config, Mapping):
        return config
    if callable(getattr(config, "get", None)):  # eip.config.Config: sections by .get()
        return {name: config.get(name) for name in ("auth", "management")}
    raise ConfigurationError(f"the management config must be a mapping, got {type(config).__name__}")


def node_tree(node: Node, secrets: frozenset[str] = frozenset(), group: str | None = None) -> dict[str, Any]:
    """A definition node as JSON: kind, id, label (``describe()``, secrets masked), children."""
    try:
        label = node.describe()
    except Exception:  # noqa: BLE001 - a label must not break the API
        label = node.kind_name()
    data: dict[str, Any] = {"kind": node.kind_name(), "id": node.node_id, "label": mask_uri(label, secrets)}
    if group is not None:
        data["group"] = group
    children = [node_tree(child, secrets, name) for name, steps in node.children() for child in steps]
    if children:
        data["children"] = children
    return data


def route_tree(route: Route, secrets: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The route's definition as a tree: the input, then on_exception, on_completion and steps."""
    definition = route.definition
    children = [node_tree(definition.input, secrets, "input")]
    children += [node_tree(n, secrets, "on_exception") for n in definition.on_exceptions]
    children += [node_tree(n, secrets, "on_completion") for n in definition.on_completions]
    children += [node_tree(n, secrets, "steps") for n in definition.steps]
    return {
        "kind": "route",
        "id": route.route_id,
        "label": definition.description or route.route_id,
        "children": children,
    }

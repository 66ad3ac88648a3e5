"""Routing: handler registration, mounted WSGI apps, reserved paths and dispatch.

Two ways to serve:

* ``server.add_handler(methods, path_template, handler)``: ``http:`` consumers register a handler
  ``handler(request, path_params) -> response`` (a ``werkzeug.wrappers.Request`` in, any WSGI
  application out, usually a ``werkzeug.wrappers.Response``) for a path template such as
  ``/orders/{id}`` (each ``{name}`` matches one non-empty path segment; a trailing ``/`` is
  ignored). When several templates match a path, literal segments beat parameters, left to
  right. ``methods`` ``None`` takes every method; a GET handler also answers HEAD.
* ``server.mount(prefix, wsgi_app)``: any WSGI application under a path prefix (the management
  API mounts itself at ``/``); the longest matching prefix wins, and the app sees the prefix in
  ``SCRIPT_NAME`` and the rest in ``PATH_INFO``.

``server.reserve(paths, owner)`` keeps path templates for a mounted app (the management API
reserves its own): a handler that could answer one of them is refused with ConfigurationError
when it registers (and ``reserve`` is refused while such a handler is registered), so no
``http:`` consumer can silently hide them.

Dispatch: a handler whose template matches the path wins over every mounted app. A path that
some handler matches but not with this method answers 405 with ``Allow`` (OPTIONS answers 204
with ``Allow``); a path nothing matches answers 404. A paused handler (its route suspended, or
the engine stopping) answers 503. A request body over ``max_request_body`` answers 413 before
any application runs. These answers are small JSON documents ``{"error": "..."}``. An exception
escaping a handler or a mounted app answers 500 with ``{"error": "internal error", "error_id":
"..."}``; the same id is logged at ERROR with the traceback, and the response never carries it.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from eip.errors import ConfigurationError
from eip.http_server.responses import internal_error, json_error
from eip.http_server.settings import DEFAULT_MAX_REQUEST_BODY
from eip.http_server.templates import PathTemplate

LIVENESS_PATH = "/health/live"  # answered on the I/O thread (see eip.http_server.waitress_server)
ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE")

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Handler = Callable[[Any, dict[str, str]], Any]


class HandlerRegistration:
    """One handler of the server (what ``add_handler`` returns; give it to ``remove_handler``).

    ``paused`` True answers 503 instead of calling the handler (a suspended route)."""

    __slots__ = ("handler", "methods", "owner", "paused", "template")

    def __init__(
        self, methods: frozenset[str] | None, template: PathTemplate, handler: Handler, owner: str | None = None
    ) -> None:
        self.methods = methods
        self.template = template
        self.handler = handler
        self.owner = owner
        self.paused = False

    def allows(self, method: str) -> bool:
        methods = self.methods
        return methods is None or method in methods or (method == "HEAD" and "GET" in methods)

    def overlaps(self, other: HandlerRegistration) -> bool:
        if self.template.regex.pattern != other.template.regex.pattern:
            return False
        return self.methods is None or other.methods is None or bool(self.methods & other.methods)

    def __repr__(self) -> str:
        methods = ",".join(sorted(self.methods)) if self.methods else "*"
        return f"HandlerRegistration({methods} {self.template.text})"


def ranked(registrations: Iterable[HandlerRegistration]) -> tuple[HandlerRegistration, ...]:
    """``registrations`` in dispatch order (``PathTemplate.rank``), as ``find`` expects them."""
    return tuple(sorted(registrations, key=lambda r: r.template.rank))


def find(
    registrations: Iterable[HandlerRegistration], path: str, method: str
) -> tuple[HandlerRegistration | None, dict[str, str], set[str]]:
    """The first of ``registrations`` (``ranked``) whose template matches ``path`` and that allows
    ``method``, with its path parameters. Else None, no parameters and the methods the templates
    matching ``path`` allow (HEAD with GET): empty when nothing matches (404), else a 405."""
    allowed: set[str] = set()
    for registration in registrations:
        found = registration.template.match(path)
        if found is None:
            continue
        if registration.allows(method):
            return registration, found, allowed
        allowed.update(registration.methods or ())
    if "GET" in allowed:
        allowed.add("HEAD")
    return None, {}, allowed


class Router:
    """Handlers, mounted apps and reserved paths, and the WSGI dispatch between them (see the
    module docstring); ``HttpServer`` is one. Requests over ``max_request_body`` answer 413."""

    max_request_body: int

    def __init__(self) -> None:
        self.max_request_body = DEFAULT_MAX_REQUEST_BODY
        self._lock = threading.Lock()
        # Copy-on-write: dispatch reads these tuples without a lock.
        self._handlers: tuple[HandlerRegistration, ...] = ()
        self._mounts: tuple[tuple[str, WsgiApp], ...] = ()
        self._reserved: tuple[tuple[PathTemplate, str], ...] = ()

    # -- what it serves ------------------------------------------------------------------------------
    def mount(self, prefix: str, app: WsgiApp) -> None:
        """Serve the WSGI application ``app`` under ``prefix`` (``/`` for everything not served
        elsewhere). Raises ConfigurationError if the prefix is taken."""
        key = _prefix_key(prefix)
        if not callable(app):
            raise ConfigurationError(f"mount({prefix!r}) needs a WSGI application, got {app!r}")
        with self._lock:
            if any(existing == key for existing, _ in self._mounts):
                raise ConfigurationError(f"HTTP prefix {prefix!r} already has an application mounted")
            mounts = [*self._mounts, (key, app)]
            mounts.sort(key=lambda item: len(item[0]), reverse=True)
            self._mounts = tuple(mounts)

    def unmount(self, prefix: str) -> None:
        key = _prefix_key(prefix)
        with self._lock:
            self._mounts = tuple(item for item in self._mounts if item[0] != key)

    def reserve(self, path_templates: Iterable[str], owner: str) -> None:
        """Keep ``path_templates`` for a mounted application (``owner`` names it in errors): no
        handler may take a path they match, so handlers can never hide them.

        Raises ConfigurationError naming the handler that already takes such a path."""
        templates = [PathTemplate(text) for text in path_templates]
        with self._lock:
            for template in templates:
                for existing in self._handlers:
                    if existing.template.overlaps(template):
                        raise ConfigurationError(_taken(existing, template, owner))
            self._reserved = (*self._reserved, *((template, owner) for template in templates))

    def release(self, owner: str) -> None:
        """Forget the paths ``reserve`` kept for ``owner``."""
        with self._lock:
            self._reserved = tuple(item for item in self._reserved if item[1] != owner)

    def add_handler(
        self,
        methods: Iterable[str] | str | None,
        path_template: str,
        handler: Handler,
        *,
        match_prefix: bool = False,
        owner: str | None = None,
    ) -> HandlerRegistration:
        """Call ``handler(request, path_params)`` for requests to ``path_template`` with one of
        ``methods`` (None: any). ``match_prefix`` also takes every path below the template.
        ``owner`` (an ``http:`` consumer's URI) names the handler in errors.

        Raises ConfigurationError when another handler has the same template and a common method,
        or when the template could answer a reserved path (the management API's)."""
        template = PathTemplate(path_template, match_prefix)
        registration = HandlerRegistration(_methods(methods), template, handler, owner)
        with self._lock:
            for reserved, reserved_by in self._reserved:
                if template.overlaps(reserved):
                    raise ConfigurationError(_taken(registration, reserved, reserved_by))
            for existing in self._handlers:
                if existing.overlaps(registration):
                    raise ConfigurationError(
                        f"HTTP {_describe(registration)} is already served by another consumer ({_describe(existing)})"
                    )
            self._handlers = ranked([*self._handlers, registration])
        return registration

    def remove_handler(self, registration: HandlerRegistration) -> None:
        with self._lock:
            self._handlers = tuple(r for r in self._handlers if r is not registration)

    def handlers(self) -> list[HandlerRegistration]:
        return list(self._handlers)

    # -- WSGI -----------------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        from werkzeug.wsgi import get_path_info

        path = get_path_info(environ) or "/"
        method = environ.get("REQUEST_METHOD", "GET").upper()
        chosen, params, allowed = find(self._handlers, path, method)
        if chosen is not None:
            return self._call_handler(chosen, params, environ, start_response)
        if allowed:
            allow = ", ".join(sorted(allowed | {"OPTIONS"}))
            if method == "OPTIONS":
                start_response("204 No Content", [("Allow", allow)])
                return []
            response = json_error(405, "method not allowed")
            response.headers["Allow"] = allow
            return response(environ, start_response)
        for prefix, app in self._mounts:
            if prefix == "" or path == prefix or path.startswith(prefix + "/"):
                return self._call_app(prefix, app, environ, start_response)
        return json_error(404, "not found")(environ, start_response)

    def _too_large(self, environ: dict[str, Any]) -> bool:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return False
        return length > self.max_request_body

    def _call_handler(
        self,
        registration: HandlerRegistration,
        params: dict[str, str],
        environ: dict[str, Any],
        start_response: Callable[..., Any],
    ) -> Iterable[bytes]:
        from werkzeug.wrappers import Request

        if self._too_large(environ):
            return json_error(413, "request body too large", max_bytes=self.max_request_body)(environ, start_response)
        if registration.paused:
            response = json_error(503, "service unavailable")
            response.headers["Retry-After"] = "5"
            return response(environ, start_response)
        request = Request(environ)
        request.max_content_length = self.max_request_body
        try:
            response = registration.handler(request, params)
        except Exception as exc:  # noqa: BLE001 - never a stack trace to the client
            _, response = internal_error(f"HTTP {request.method} {request.path}: handler failed", exc)
        return response(environ, start_response)

    def serves_on_io_thread(self, request: Any) -> bool:
        """Whether waitress's parsed ``request`` is the liveness probe, served on the I/O thread:
        ``GET``/``HEAD`` of exactly ``LIVENESS_PATH``, no body, the path reserved for a mounted app."""
        return (
            request.path == LIVENESS_PATH
            and request.command in ("GET", "HEAD")
            and request.error is None
            and not request.chunked
            and not request.content_length
            and bool(self._mounts)
            and any(template.text == LIVENESS_PATH for template, _ in self._reserved)
        )

    def _call_app(
        self, prefix: str, app: WsgiApp, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if self._too_large(environ):
            return json_error(413, "request body too large", max_bytes=self.max_request_body)(environ, start_response)
        if prefix:
            environ = dict(environ)
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
            environ["PATH_INFO"] = environ.get("PATH_INFO", "")[len(prefix) :]
        try:
            return app(environ, start_response)
        except Exception as exc:  # noqa: BLE001
            _, response = internal_error(
                f"HTTP {environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}: "
                f"application mounted at {prefix or '/'!r} failed",
                exc,
            )
            start_response(response.status, list(response.headers.items()), sys.exc_info())
            return [response.get_data()]


def _prefix_key(prefix: str) -> str:
    if not isinstance(prefix, str) or not prefix.startswith("/"):
        raise ConfigurationError(f"mount prefix must start with '/', got {prefix!r}")
    return prefix.rstrip("/")


def _methods(methods: Iterable[str] | str | None) -> frozenset[str] | None:
    if methods is None:
        return None
    if isinstance(methods, str):
        methods = methods.split(",")
    chosen = frozenset(m.strip().upper() for m in methods if m.strip())
    unknown = chosen - set(ALL_METHODS)
    if unknown:
        raise ConfigurationError(f"unknown HTTP method(s) {', '.join(sorted(unknown))}; use {', '.join(ALL_METHODS)}")
    return chosen or None


def _describe(registration: HandlerRegistration) -> str:
    methods = ",".join(sorted(registration.methods)) if registration.methods else "any method"
    return f"{methods} {registration.template.text}{'/*' if registration.template.prefix else ''}"


def _taken(registration: HandlerRegistration, reserved: PathTemplate, reserved_by: str) -> str:
    template = registration.template
    path = f"'{template.text}'{' and every path below it' if template.prefix else ''}"
    return (
        f"HTTP path {path} ({registration.owner or 'a handler'}) would answer '{reserved.text}', "
        f"which {reserved_by} serves; choose a path that does not overlap it"
    )

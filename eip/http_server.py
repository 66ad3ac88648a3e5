"""The engine's one HTTP server: waitress (WSGI, a bounded thread pool) shared by the management
API and by ``http:`` consumers.

``http_server(engine)`` gets or creates it; it is registered with ``engine.add_service``, so it
starts and stops with the engine (at once if the engine already runs). Two ways to serve:

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

Configuration comes from engine properties (or ``EIP_SERVER_...`` environment variables, as
placeholders resolve), read when the server starts:

===========================  =========================================================  ==========
property                     meaning                                                    default
===========================  =========================================================  ==========
``server.host``              address to listen on                                       127.0.0.1
``server.port``              port; 0 picks a free one (``server.port`` after start)     8080
``server.threads``           WSGI worker threads (requests served at once)              8
``server.max_request_body``  largest request body, bytes or ``512KB``/``10MB``/``1GB``  10MB
``server.connection_limit``  connections open at once                                   1000
``server.idle_timeout``      seconds a connection may be idle before it is closed       30
===========================  =========================================================  ==========

Idle connections cannot lock the server out (nor its health probes): at the connection limit a
new connection is still accepted, and the connection idle the longest (no request in progress,
nothing left to write; one that never sent a whole request counts as idle) is closed to make
room. Only when every connection has a request in progress do new ones wait in the listen
backlog. Connections idle for ``idle_timeout`` are closed anyway (checked every few seconds).

Liveness never waits for a worker thread. When every worker is busy (slow routes), waitress
queues new requests, and a liveness probe with a 1 s timeout would fail and restart a process
that is merely busy. So a complete ``GET`` or ``HEAD`` request for exactly ``LIVENESS_PATH``
(``/health/live``; a query string is allowed, a body is not) is served on the server's I/O thread
as soon as it is parsed, through the same WSGI dispatch, so its answer is the same. That happens
only while a mounted app has reserved the path (the management API does; its liveness answer
does no I/O, takes no lock and needs no credentials), so no ``http:`` route can serve it and no
route's code ever runs on the I/O thread. The work is bounded: the probes of one read (at most
8 KB of pipelined requests), and a connection reads no more until its answers are written.
Every other request, readiness included (it checks datasources), waits for a worker as before;
requests on one connection are still answered in order.

Stopping is graceful: the listening socket closes first (new connections are refused), then
requests already being served get up to ``stop_timeout`` seconds to finish and be written out,
then every connection closes. The engine stops its routes, and so the ``http:`` consumers,
before its services, so route exchanges have finished by then.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from eip.errors import ConfigurationError
from eip.options import parse_duration

if TYPE_CHECKING:
    from eip.engine import Engine

log = logging.getLogger("eip.http_server")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_THREADS = 8
DEFAULT_MAX_REQUEST_BODY = 10 * 1024 * 1024
DEFAULT_CONNECTION_LIMIT = 1000
DEFAULT_IDLE_TIMEOUT = 30.0
LIVENESS_PATH = "/health/live"  # answered on the I/O thread (see the module docstring)
ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE")

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Handler = Callable[[Any, dict[str, str]], Any]
_Segment = tuple[str | None, re.Pattern[str] | None]  # a template's path segment: literal text, or a regex

_SIZE = re.compile(r"^\s*(\d+)\s*([kmg]?)i?b?\s*$", re.IGNORECASE)
_PARAM = re.compile(r"\{([^{}/]+)\}")
_create_lock = threading.Lock()


def http_server(engine: Engine) -> HttpServer:
    """The engine's HTTP server, created and registered with ``engine.add_service`` on first
    use (and started now if the engine runs)."""
    with _create_lock:
        server = next((s for s in engine.services if isinstance(s, HttpServer)), None)
        if server is None:
            server = HttpServer(engine)
            engine.add_service(server)
        elif engine.state == "started" and not server.running:
            server.start()  # a start that failed earlier (port taken) is retried
        return server


def parse_size(value: Any) -> int:
    """Bytes from an int or a text such as ``1048576``, ``512KB``, ``10MB``, ``1GB`` (1024-based)."""
    if isinstance(value, bool):
        raise TypeError(f"not a size: {value!r}")
    if isinstance(value, int):
        return value
    match = _SIZE.match(str(value))
    if not match:
        raise ValueError(f"not a size: {value!r} (use bytes, or a suffix: 512KB, 10MB, 1GB)")
    return int(match.group(1)) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[match.group(2).lower()]


def status_line(code: int) -> str:
    """``201 Created``: the standard reason phrase (werkzeug's own are upper case)."""
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"{code} Unknown"


def json_error(status: int, error: str, **fields: Any) -> Any:
    """A small JSON error response ``{"error": ..., **fields}``."""
    import json

    from werkzeug.wrappers import Response

    return Response(json.dumps({"error": error, **fields}), status=status_line(status), mimetype="application/json")


def internal_error(what: str, exc: BaseException | None = None) -> tuple[str, Any]:
    """Log ``what`` at ERROR with a new error id (and the traceback of ``exc``); return the id and
    the 500 response that names only the id."""
    error_id = uuid.uuid4().hex
    log.error(
        "%s (error id %s)", what, error_id, exc_info=(type(exc), exc, exc.__traceback__) if exc is not None else None
    )
    return error_id, json_error(500, "internal error", error_id=error_id)


class PathTemplate:
    """``/orders/{id}`` compiled: ``match(path)`` gives the parameters or None."""

    __slots__ = ("names", "prefix", "rank", "regex", "segments", "text")

    def __init__(self, text: str, prefix: bool = False) -> None:
        if not isinstance(text, str) or not text.startswith("/"):
            raise ConfigurationError(f"HTTP path template must start with '/', got {text!r}")
        self.text = text
        self.prefix = prefix
        body = text.rstrip("/")
        names: list[str] = []
        pattern = []
        position = 0
        for match in _PARAM.finditer(body):
            name = match.group(1).strip()
            if not name or name in names:
                raise ConfigurationError(f"HTTP path template {text!r}: parameter {{{name}}} is empty or used twice")
            pattern.append(re.escape(body[position : match.start()]))
            pattern.append(f"(?P<p{len(names)}>[^/]+)")
            names.append(name)
            position = match.end()
        rest = body[position:]
        if "{" in rest or "}" in rest:
            raise ConfigurationError(f"HTTP path template {text!r} has an unbalanced brace")
        pattern.append(re.escape(rest))
        tail = "(?:/.*)?" if prefix else "/?"
        self.regex = re.compile("^" + "".join(pattern) + tail + "$", re.DOTALL)
        self.names = tuple(names)
        segments = [s for s in body.split("/") if s]
        # Literal segments beat parameters, left to right; exact templates beat prefixes, and a
        # longer prefix beats a shorter one.
        self.rank = (
            prefix,
            len(segments) if not prefix else -len(segments),
            tuple(1 if "{" in s else 0 for s in segments),
        )
        # Per segment: the literal text, or a regex for a segment holding parameters.
        self.segments = tuple(
            (None, re.compile("[^/]+".join(re.escape(part) for part in _PARAM.split(segment)[::2])))
            if "{" in segment
            else (segment, None)
            for segment in (body.split("/")[1:] if body else ())
        )

    def match(self, path: str) -> dict[str, str] | None:
        found = self.regex.match(path)
        if found is None:
            return None
        return {name: found.group(f"p{i}") for i, name in enumerate(self.names)}

    def overlaps(self, other: PathTemplate) -> bool:
        """True when some request path would match both templates."""
        mine, theirs = self.segments, other.segments
        if not self.prefix and not other.prefix and len(mine) != len(theirs):
            return False
        if self.prefix and not other.prefix and len(theirs) < len(mine):
            return False
        if other.prefix and not self.prefix and len(mine) < len(theirs):
            return False
        return all(_segments_meet(a, b) for a, b in zip(mine, theirs, strict=False))

    def __repr__(self) -> str:
        return f"PathTemplate({self.text!r}{', prefix' if self.prefix else ''})"


def _segments_meet(a: _Segment, b: _Segment) -> bool:
    """Whether one path segment can match both template segments (two parameterised segments
    are taken to meet: a plain ``{name}`` takes any segment)."""
    (text_a, regex_a), (text_b, regex_b) = a, b
    if text_a is not None and text_b is not None:
        return text_a == text_b
    if text_a is not None:
        return regex_b is not None and regex_b.fullmatch(text_a) is not None
    if text_b is not None:
        return regex_a is not None and regex_a.fullmatch(text_b) is not None
    return True


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


class HttpServer:
    """One waitress server per engine (see the module docstring). A WSGI application itself."""

    def __init__(
        self,
        engine: Engine | None = None,
        *,
        host: str | None = None,
        port: int | None = None,
        threads: int | None = None,
        max_request_body: int | str | None = None,
        connection_limit: int | None = None,
        idle_timeout: float | str | None = None,
        stop_timeout: float = 5.0,
    ) -> None:
        self.engine = engine
        self._overrides = {
            "host": host,
            "port": port,
            "threads": threads,
            "max_request_body": max_request_body,
            "connection_limit": connection_limit,
            "idle_timeout": idle_timeout,
        }
        self.stop_timeout = stop_timeout
        self.host = host or DEFAULT_HOST
        self.threads = threads or DEFAULT_THREADS
        self.max_request_body = DEFAULT_MAX_REQUEST_BODY if max_request_body is None else parse_size(max_request_body)
        self.connection_limit = connection_limit or DEFAULT_CONNECTION_LIMIT
        self.idle_timeout = DEFAULT_IDLE_TIMEOUT if idle_timeout is None else parse_duration(idle_timeout)
        self._configured_port = DEFAULT_PORT if port is None else port
        self._bound_port: int | None = None
        self._lock = threading.Lock()
        self._server: Any = None
        self._thread: threading.Thread | None = None
        # Copy-on-write: dispatch reads these tuples without a lock.
        self._handlers: tuple[HandlerRegistration, ...] = ()
        self._mounts: tuple[tuple[str, WsgiApp], ...] = ()
        self._reserved: tuple[tuple[PathTemplate, str], ...] = ()

    # -- configuration ----------------------------------------------------------------------------
    def _configure(self) -> None:
        def prop(name: str, default: Any) -> Any:
            override = self._overrides[name]
            if override is not None:
                return override
            if self.engine is None:
                return default
            return self.engine.resolve_placeholders(f"{{{{server.{name}:{default}}}}}")

        def typed(name: str, default: Any, convert: Callable[[Any], Any], what: str = "a whole number") -> Any:
            value = prop(name, default)
            try:
                return convert(value)
            except (TypeError, ValueError):
                raise ConfigurationError(f"HTTP server: server.{name} is {value!r}, not {what}") from None

        self.host = str(prop("host", DEFAULT_HOST)).strip()
        self._configured_port = typed("port", DEFAULT_PORT, int)
        self.threads = typed("threads", DEFAULT_THREADS, int)
        self.max_request_body = typed("max_request_body", DEFAULT_MAX_REQUEST_BODY, parse_size, "a size")
        self.connection_limit = typed("connection_limit", DEFAULT_CONNECTION_LIMIT, int)
        self.idle_timeout = typed("idle_timeout", DEFAULT_IDLE_TIMEOUT, parse_duration, "a duration")
        if not 0 <= self._configured_port <= 65535:
            raise ConfigurationError(f"server.port must be 0..65535, got {self._configured_port}")
        if self.threads < 1:
            raise ConfigurationError(f"server.threads must be at least 1, got {self.threads}")
        if self.max_request_body < 0:
            raise ConfigurationError("server.max_request_body must not be negative")
        if self.connection_limit < 1:
            raise ConfigurationError(f"server.connection_limit must be at least 1, got {self.connection_limit}")
        if self.idle_timeout <= 0:
            raise ConfigurationError(f"server.idle_timeout must be more than 0 seconds, got {self.idle_timeout:g}")

    # -- where --------------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        """The bound port while running (the free port picked for ``server.port`` 0), else the
        configured one."""
        return self._bound_port if self._bound_port is not None else self._configured_port

    @property
    def url(self) -> str:
        """``http://host:port`` for clients (``127.0.0.1`` when listening on every address)."""
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.host, self.host)
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def health(self) -> tuple[bool, str]:
        """``(ok, detail)`` for readiness checks: serving, and where."""
        return (True, f"listening on {self.url}") if self.running else (False, "not listening")

    # -- lifecycle ----------------------------------------------------------------------------------
    def start(self) -> None:
        """Bind and serve on a background thread; raises ConfigurationError if it cannot listen."""
        with self._lock:
            if self._server is not None:
                return
            self._configure()
            sock = self._bind()
            try:
                server = self._create(sock)
            except Exception:
                sock.close()
                raise
            self._bound_port = int(server.effective_port)
            thread = threading.Thread(
                target=self._run, args=(server,), name=f"eip-http-{self._bound_port}", daemon=True
            )
            self._server, self._thread = server, thread
            thread.start()
        log.info("HTTP server listening on %s", self.url)

    def _create(self, sock: socket.socket) -> Any:
        from waitress.adjustments import Adjustments
        from waitress.task import ThreadedTaskDispatcher

        idle = max(1, math.ceil(self.idle_timeout))
        adjustments = Adjustments(
            sockets=[sock],
            threads=self.threads,
            ident="eip",
            expose_tracebacks=False,
            # waitress refuses a body of exactly max_request_body_size: allow one byte more.
            max_request_body_size=self.max_request_body + 1,
            # waitress counts its listening socket and its trigger as connections too.
            connection_limit=self.connection_limit + 2,
            channel_timeout=idle,
            cleanup_interval=max(1, min(idle // 2, 10)),
            # poll(), not select(): select() fails on descriptors numbered 1024 and up.
            asyncore_use_poll=True,
        )
        dispatcher = ThreadedTaskDispatcher()
        dispatcher.set_thread_count(adjustments.threads)
        server = _server_class()(
            self,
            {},
            True,
            sock,
            dispatcher=dispatcher,
            adj=adjustments,
            bind_socket=False,
            sockinfo=(sock.family, sock.type, sock.proto, sock.getsockname()),
        )
        server.eip_server = self  # its ``application`` may be waitress's proxy-headers wrapper around self
        return server

    def _bind(self) -> socket.socket:
        try:
            infos = socket.getaddrinfo(
                self.host or None, self._configured_port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
            )
            family, kind, proto, _, address = infos[0]
            sock = socket.socket(family, kind, proto)
        except OSError as exc:
            raise ConfigurationError(
                f"HTTP server cannot listen on {self.host}:{self._configured_port}: "
                f"{exc.strerror or exc} (engine property server.host)"
            ) from None
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
            sock.listen(1024)
        except OSError as exc:
            sock.close()
            raise ConfigurationError(
                f"HTTP server cannot listen on {self.host}:{self._configured_port}: "
                f"{exc.strerror or exc} (engine property server.port; 0 picks a "
                "free port)"
            ) from None
        return sock

    @staticmethod
    def _run(server: Any) -> None:
        try:
            server.run()
        except Exception:
            log.exception("HTTP server loop failed")

    def stop(self) -> None:
        """Graceful: refuse new connections, let requests being served finish (up to
        ``stop_timeout`` seconds), write them out, then close every connection."""
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
            self._bound_port = None
        if server is None:
            return
        from waitress import wasyncore

        deadline = time.monotonic() + self.stop_timeout
        in_loop = thread is not None and thread.is_alive()

        def call_in_loop(fn: Callable[[], None]) -> None:
            if not in_loop:
                fn()
                return
            done = threading.Event()

            def thunk() -> None:
                try:
                    fn()
                finally:
                    done.set()

            server.trigger.pull_trigger(thunk)
            done.wait(max(0.1, deadline - time.monotonic()))

        # 1. stop accepting (only the listening socket; the trigger stays for step 4)
        call_in_loop(lambda: wasyncore.dispatcher.close(server))
        # 2. requests queued or running finish
        dispatcher = server.task_dispatcher
        while (dispatcher.queue or dispatcher.active_count) and time.monotonic() < deadline:
            time.sleep(0.01)
        # 3. their responses are written out
        channels = server.active_channels
        while any(ch.total_outbufs_len for ch in list(channels.values())) and time.monotonic() < deadline:
            time.sleep(0.01)
        dispatcher.shutdown(cancel_pending=True, timeout=max(0.1, deadline - time.monotonic()))
        # 4. close every connection and the trigger: the loop ends with an empty map
        call_in_loop(lambda: wasyncore.close_all(server._map, ignore_all=True))
        if thread is not None:
            thread.join(max(0.1, deadline - time.monotonic()))
            if thread.is_alive():
                log.warning("HTTP server thread did not stop within %.1fs", self.stop_timeout)
        log.info("HTTP server stopped")

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
            handlers = sorted([*self._handlers, registration], key=lambda r: r.template.rank)
            self._handlers = tuple(handlers)
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
        chosen: HandlerRegistration | None = None
        params: dict[str, str] | None = None
        allowed: set[str] = set()
        for registration in self._handlers:
            found = registration.template.match(path)
            if found is None:
                continue
            if registration.allows(method):
                chosen, params = registration, found
                break
            allowed.update(registration.methods or ())
        if chosen is not None:
            return self._call_handler(chosen, params or {}, environ, start_response)
        if allowed:
            if "GET" in allowed:
                allowed.add("HEAD")
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

    def __repr__(self) -> str:
        return f"HttpServer({self.url}, {'running' if self.running else 'stopped'})"


@functools.cache
def _server_class() -> type:
    """waitress's TCP server, except that at the connection limit it closes the connection idle
    the longest to take a new one instead of no longer accepting, and that it serves liveness
    probes on its I/O thread (see the module docstring).
    Made on first use, so importing this module does not import waitress."""
    from waitress.channel import HTTPChannel
    from waitress.server import TcpWSGIServer

    class Channel(HTTPChannel):
        """Serves a liveness probe right after parsing it, on the I/O thread (``received`` runs
        there) instead of queueing it for a worker; see the module docstring."""

        receiving = 0  # the id of the thread inside ``received``, 0 outside it
        serve_now = False  # set by the server's add_task: the request at the head is served here

        def received(self, data: bytes) -> bool:
            self.receiving = threading.get_ident()
            try:
                result = super().received(data)
                # waitress queues a channel only when the request at its head has none before it
                # (and after each one served, for the next): responses stay in order. Serving
                # pops the request; a pipelined next one comes back through add_task.
                while self.serve_now:
                    self.serve_now = False
                    self.service()
                return bool(result)
            finally:
                self.receiving = 0

    class EvictingServer(TcpWSGIServer):
        channel_class = Channel
        overflowing = False
        next_channel_cleanup: float
        eip_server: HttpServer

        def add_task(self, channel: Any) -> None:
            # Called with the channel's requests_lock held: only mark it; Channel.received serves it.
            if channel.receiving == threading.get_ident() and self.eip_server.serves_on_io_thread(channel.requests[0]):
                channel.serve_now = True
            else:
                super().add_task(channel)

        def readable(self) -> bool:
            now = time.time()
            if now >= self.next_channel_cleanup:
                self.next_channel_cleanup = now + self.adj.cleanup_interval
                self.maintenance(now)
            if not self.accepting:
                return False
            if len(self._map) < self.adj.connection_limit:
                self.overflowing = False
                return True
            if not self.overflowing:
                self.overflowing = True
                log.warning(
                    "HTTP server: %d connections open, the limit (server.connection_limit): closing the "
                    "longest idle connection for each new one",
                    len(self.active_channels),
                )
            return self._longest_idle() is not None  # else every connection is busy: leave new ones queued

        def handle_accept(self) -> None:
            if len(self._map) >= self.adj.connection_limit:
                idle = self._longest_idle()
                if idle is None:
                    return
                idle.handle_close()
            super().handle_accept()

        def _longest_idle(self) -> Any:
            chosen = None
            for channel in self.active_channels.values():
                if channel.requests or channel.total_outbufs_len or channel.will_close:
                    continue
                if chosen is None or channel.last_activity < chosen.last_activity:
                    chosen = channel
            return chosen

    return EvictingServer


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

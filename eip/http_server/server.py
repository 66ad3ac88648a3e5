"""The engine's one HTTP server: waitress (WSGI, a bounded thread pool) shared by the management
API and by ``http:`` consumers.

``http_server(engine)`` gets or creates it; it is registered with ``engine.add_service``, so it
starts and stops with the engine (at once if the engine already runs). What it serves and how it
dispatches is ``eip.http_server.routing``; its settings are ``eip.http_server.settings``; the
waitress server it runs (idle eviction, liveness on the I/O thread) is
``eip.http_server.waitress_server``.

Stopping is graceful: the listening socket closes first (new connections are refused), then
requests already being served get up to ``stop_timeout`` seconds to finish and be written out,
then every connection closes. The engine stops its routes, and so the ``http:`` consumers,
before its services, so route exchanges have finished by then.
"""

from __future__ import annotations

import logging
import math
import socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from eip.errors import ConfigurationError
from eip.http_server.routing import Router
from eip.http_server.settings import (
    DEFAULT_CONNECTION_LIMIT,
    DEFAULT_HOST,
    DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_REQUEST_BODY,
    DEFAULT_PORT,
    DEFAULT_THREADS,
    parse_size,
)
from eip.http_server.waitress_server import _server_class
from eip.options import parse_duration

if TYPE_CHECKING:
    from eip.engine import Engine

log = logging.getLogger("eip.http_server")

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


class HttpServer(Router):
    """One waitress server per engine (see the module docstring). A WSGI application itself: the
    ``Router`` dispatches its requests."""

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
        super().__init__()
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
        self._server: Any = None
        self._thread: threading.Thread | None = None

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

    def __repr__(self) -> str:
        return f"HttpServer({self.url}, {'running' if self.running else 'stopped'})"

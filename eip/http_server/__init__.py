"""The engine's one HTTP server (waitress), shared by the management API and ``http:`` consumers.

``http_server(engine)`` gets or creates it. The package by concept: ``server`` (``HttpServer``:
lifecycle, waitress wiring, graceful stop), ``waitress_server`` (idle eviction at the connection
limit, the liveness fast path on the I/O thread), ``routing`` (handlers, mounted apps, reserved
paths, dispatch), ``templates`` (path templates and their overlap checks), ``settings`` (the
``server.*`` properties, their defaults, ``parse_size``) and ``responses`` (status lines, JSON
errors, logged 500s).
"""

from __future__ import annotations

from eip.http_server.responses import internal_error, json_error, status_line
from eip.http_server.routing import (
    ALL_METHODS,
    LIVENESS_PATH,
    Handler,
    HandlerRegistration,
    Router,
    WsgiApp,
    _methods,
)
from eip.http_server.server import HttpServer, http_server
from eip.http_server.settings import (
    DEFAULT_CONNECTION_LIMIT,
    DEFAULT_HOST,
    DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_REQUEST_BODY,
    DEFAULT_PORT,
    DEFAULT_THREADS,
    parse_size,
)
from eip.http_server.templates import PathTemplate

__all__ = [
    "ALL_METHODS",
    "DEFAULT_CONNECTION_LIMIT",
    "DEFAULT_HOST",
    "DEFAULT_IDLE_TIMEOUT",
    "DEFAULT_MAX_REQUEST_BODY",
    "DEFAULT_PORT",
    "DEFAULT_THREADS",
    "LIVENESS_PATH",
    "Handler",
    "HandlerRegistration",
    "HttpServer",
    "PathTemplate",
    "Router",
    "WsgiApp",
    "_methods",
    "http_server",
    "internal_error",
    "json_error",
    "parse_size",
    "status_line",
]

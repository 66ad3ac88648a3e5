"""The management API: health, Prometheus metrics, routes and endpoints, behind roles.

``install(engine, config)`` builds the WSGI app (``eip.management.app.ManagementApp``) and mounts
it at ``/`` on the engine's HTTP server (``eip.http_server``)::

    from eip.management import install
    install(engine, {"auth": {"api_keys": [{"key_env": "EIP_OPS_KEY", "roles": ["operator"]}]}})
    engine.start()

``/health/live`` and ``/health/ready`` always answer without credentials (readiness then says
only UP or DOWN and the categories that failed; its checks by name need ``viewer``); ``/metrics`` too,
unless ``management.metrics_require_auth`` is true; everything under ``/api`` needs a JWT or an
API key, and with no credentials configured every ``/api`` call is refused with 401 (the
server still starts). Role ``viewer`` reads; ``operator`` also starts, stops, suspends and
resumes routes. See ``app.py`` for the endpoints, ``auth.py``, ``health.py``, ``metrics.py``.

Config (a mapping, e.g. from the YAML config file; other top-level keys are ignored)::

    auth:
      jwt:                          # bearer JWTs, validated with PyJWT
        secret_env: EIP_JWT_SECRET  # HS256: secret | secret_file | secret_env
        # public_key_file: /etc/eip/jwt.pem   # RS256/ES256: public_key | public_key_file | public_key_env
        algorithms: [HS256]         # default HS256 with a secret, [RS256, ES256] with a public key
        issuer: https://login.example.com/   # checked when set (recommended)
        audience: eip-management             # checked when set (recommended)
        roles_claim: roles          # default "roles"; dotted path for nested claims (realm_access.roles)
        leeway: 0                   # seconds of clock skew allowed on exp/nbf/iat
      api_keys:                     # static keys: "X-API-Key: <key>" or "Authorization: Bearer <key>"
        - key_env: EIP_OPS_KEY      # key | key_file | key_env
          roles: [operator]         # viewer and/or operator
          name: ops                 # shown in the audit log line (default api-key-N)
    management:
      metrics_require_auth: false   # true: /metrics needs the viewer role
      health_timeout: 2             # seconds a readiness probe (SELECT 1) may take
      health_cache: 5               # seconds a probe's answer is reused
      enabled: true                 # read by ``eip run``, ignored here

Secrets are read from the environment or files (or inline, for tests); they are never logged
and never returned. An ``exp`` claim is required in every JWT.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from eip.management.app import ManagementApp

if TYPE_CHECKING:
    from eip.engine import Engine

__all__ = ["ManagementApp", "create_app", "install"]

OWNER = "the management API"


def create_app(engine: Engine, config: Mapping[str, Any] | None = None) -> ManagementApp:
    """The management WSGI app for ``engine``, not mounted anywhere (serve it as you like)."""
    return ManagementApp(engine, config)


def install(engine: Engine, config: Mapping[str, Any] | None = None) -> ManagementApp:
    """Build the management app and mount it at ``/`` on the engine's HTTP server, reserving its
    paths there: an ``http:`` consumer whose path could answer one of them (``http:/metrics``,
    ``http:/?match_on_uri_prefix=true``) is refused when its route starts, with a
    ConfigurationError naming the route and the path, instead of hiding the API."""
    from eip.http_server import http_server

    app = ManagementApp(engine, config)
    server = http_server(engine)
    try:
        server.reserve(app.paths(), OWNER)
        try:
            server.mount("/", app)
        except Exception:
            server.release(OWNER)
            raise
    except Exception:
        app.close()  # installed twice, a path taken, or no server: leave no metrics listener behind
        raise
    return app

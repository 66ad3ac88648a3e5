"""The HTTP router on its own (``eip.http_server.routing``): dispatch without a server socket,
and the package imports without waitress."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Response

from eip import ConfigurationError
from eip.http_server.routing import Router


def handler(name: str):
    def handle(request, params):
        return Response(json.dumps({"handler": name, "params": params}), mimetype="application/json")

    return handle


def mounted(environ, start_response):
    body = f"{environ['SCRIPT_NAME']}|{environ['PATH_INFO']}".encode()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]


def test_a_router_dispatches_handlers_and_mounts_without_a_server() -> None:
    router = Router()
    router.add_handler("GET", "/orders/{id}", handler("by-id"))
    router.add_handler("GET", "/orders/latest", handler("latest"))
    router.mount("/admin", mounted)
    client = Client(router)

    assert client.get("/orders/latest").json == {"handler": "latest", "params": {}}
    assert client.get("/orders/7").json == {"handler": "by-id", "params": {"id": "7"}}
    assert client.get("/admin/x").text == "/admin|/x"
    refused = client.post("/orders/7")
    assert refused.status_code == 405 and refused.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert client.get("/nowhere").status_code == 404
    router.max_request_body = 3
    assert client.get("/orders/7", data=b"four").status_code == 413


def test_a_router_refuses_a_handler_over_a_reserved_path() -> None:
    router = Router()
    router.reserve(["/health/live"], "the management API")
    with pytest.raises(ConfigurationError, match="the management API serves"):
        router.add_handler(None, "/health/{probe}", handler("probe"))


def test_importing_the_http_server_package_does_not_import_waitress() -> None:
    code = "import eip.http_server, sys; print(sorted(n for n in sys.modules if n.split('.')[0] == 'waitress'))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == "[]"

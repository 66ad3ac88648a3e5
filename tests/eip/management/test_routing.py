"""The management API's paths go through the HTTP server's routing (``eip.http_server.routing``):
the same 404/405 answers as before, and no redirect without a ``Location`` for odd paths."""

from __future__ import annotations

import pytest
from management_support import OPERATOR, VIEWER

from eip import RouteBuilder


class Two(RouteBuilder):
    def configure(self) -> None:
        self.from_("direct:a").route_id("a").to("mock:a")


@pytest.fixture
def client(engine, management):
    engine.add_routes(Two())
    engine.start()
    return management()


@pytest.mark.parametrize("path", ["/api//routes", "/api/routes/%2F", "/api/routes//a"])
def test_a_path_with_an_empty_segment_is_not_found(client, path):
    response = client.get(path, headers=VIEWER)
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"
    assert "Location" not in response.headers


def test_actions_are_post_only_and_unknown_actions_are_not_found(client):
    wrong_method = client.get("/api/routes/a/suspend", headers=OPERATOR)
    assert wrong_method.status_code == 405 and wrong_method.headers["Allow"] == "POST"
    assert client.post("/api/routes/a/explode", headers=OPERATOR).get_json()["error"] == "not_found"
    assert client.get("/api/routes/a/", headers=VIEWER).get_json()["id"] == "a"  # a trailing / is ignored
    suspended = client.post("/api/routes/a/suspend/", headers=OPERATOR)
    assert suspended.status_code == 200 and suspended.get_json()["state"] == "suspended"

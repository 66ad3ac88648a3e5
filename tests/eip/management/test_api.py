"""The management API's routes and endpoints resources, and route control by an operator."""

from __future__ import annotations

import logging
import threading

import pytest
from management_support import OPERATOR, VAULT_PASSWORD, VIEWER, bearer, make_token

from eip import NoConsumerError, RouteBuilder, body, dead_letter_channel, header

OPERATOR_KEY_FOR_SERVER = "server-operator-key-5e6f7a8b9c0d"


class Shop(RouteBuilder):
    def configure(self) -> None:
        (self.from_("direct:orders").route_id("orders").description("order intake")
            .choice().id("by-priority")
                .when(header("priority") == "high").to("mock:priority")
                .otherwise().to("mock:standard")
            .end()
            .split(body()).id("lines").to(f"vault:archive?passphrase={VAULT_PASSWORD}").end())
        self.from_("seda:work").route_id("work").to("mock:work")
        self.from_(f"vault:inbox?password={VAULT_PASSWORD}").route_id("inbox").to("mock:inbox")
        self.from_("direct:later").route_id("later").auto_startup(False).to("mock:later")


@pytest.fixture
def client(engine, management, vault):
    engine.add_routes(Shop())
    engine.start()
    return management()


def test_list_routes(client, engine):
    engine.template.send_body("direct:orders", [1, 2], headers={"priority": "high"})
    response = client.get("/api/routes", headers=VIEWER)
    assert response.status_code == 200 and response.mimetype == "application/json"
    routes = {r["id"]: r for r in response.get_json()["routes"]}
    assert list(routes) == ["orders", "work", "inbox", "later"]
    orders = routes["orders"]
    assert orders["state"] == "started" and orders["input"] == "direct:orders"
    assert orders["description"] == "order intake" and orders["auto_startup"] is True
    assert orders["stats"]["exchanges_total"] == 1 and orders["stats"]["exchanges_failed"] == 0
    assert orders["stats"]["max_processing_time"] > 0
    assert routes["later"]["state"] == "stopped" and routes["later"]["auto_startup"] is False
    assert routes["inbox"]["input"] == "vault:inbox?password=xxxxxx"
    assert VAULT_PASSWORD not in response.get_data(as_text=True)


def test_route_detail_with_tree(client):
    response = client.get("/api/routes/orders", headers=bearer(make_token(["viewer"])))
    assert response.status_code == 200
    data = response.get_json()
    assert data["id"] == "orders" and data["state"] == "started" and data["stats"]["exchanges_total"] == 0
    tree = data["tree"]
    assert tree["kind"] == "route" and tree["label"] == "order intake"
    source, choice, split = tree["children"]
    assert (source["kind"], source["label"], source["group"]) == ("from", "from direct:orders", "input")
    assert (choice["kind"], choice["id"], choice["group"]) == ("choice", "by-priority", "steps")
    when, otherwise = choice["children"]
    assert when["kind"] == "when" and when["group"] == "branches" and "priority" in when["label"]
    assert [c["label"] for c in when["children"]] == ["to mock:priority"]
    assert otherwise["kind"] == "otherwise" and otherwise["children"][0]["label"] == "to mock:standard"
    assert split["kind"] == "split" and split["id"] == "lines"
    # The secret option is masked although its name says nothing: the endpoint's spec says so.
    assert split["children"][0]["label"] == "to vault:archive?passphrase=xxxxxx"
    assert VAULT_PASSWORD not in response.get_data(as_text=True)


def test_route_tree_shows_error_handling():
    from eip import Engine

    class Guarded(RouteBuilder):
        def configure(self) -> None:
            self.error_handler(dead_letter_channel("mock:dead", maximum_redeliveries=1, redelivery_delay=0))
            self.on_exception(KeyError, handled=True).to("mock:bad").end()
            self.from_("direct:g").route_id("g").on_completion().to("mock:done").end().to("mock:out")

    from eip.management.app import route_tree
    engine = Engine(routes=[Guarded()])
    tree = route_tree(engine.route("g"))
    assert [(c["group"], c["kind"]) for c in tree["children"]] == [
        ("input", "from"), ("on_exception", "on_exception"), ("on_completion", "on_completion"), ("steps", "to")]
    assert tree["children"][1]["label"] == "on_exception KeyError"


def test_unknown_route_is_404_and_wrong_methods_405(client):
    for path in ("/api/routes/nope", "/api/routes/nope/stop"):
        method = "POST" if path.endswith("stop") else "GET"
        response = client.open(path, method=method, headers=OPERATOR)
        assert response.status_code == 404
        assert response.get_json() == {"error": "not_found", "message": "no route 'nope'"}
    response = client.get("/api/routes/orders/stop", headers=OPERATOR)
    assert response.status_code == 405 and response.headers["Allow"] == "POST"
    assert response.get_json()["error"] == "method_not_allowed"
    response = client.post("/api/routes", headers=OPERATOR)
    assert response.status_code == 405 and "GET" in response.headers["Allow"]
    assert client.delete("/api/routes/orders", headers=OPERATOR).status_code == 405
    assert client.post("/api/routes/orders/restart", headers=OPERATOR).status_code == 404
    assert client.get("/api/nothing-here", headers=VIEWER).status_code == 404
    assert client.get("/elsewhere").status_code == 404
    assert client.get("/elsewhere").mimetype == "application/json"


def test_operator_stops_and_starts_a_real_route(client, engine):
    out = engine.get_endpoint("mock:standard")
    response = client.post("/api/routes/orders/stop", headers=OPERATOR)
    assert response.status_code == 200
    assert response.get_json() == {"id": "orders", "action": "stop", "previous_state": "started",
                                   "state": "stopped", "unfinished_exchanges": []}
    assert engine.route("orders").state == "stopped"
    with pytest.raises(NoConsumerError):
        engine.template.send_body("direct:orders", [1])
    assert client.get("/api/routes/orders", headers=VIEWER).get_json()["state"] == "stopped"
    # Stopping again is a no-op, not an error.
    assert client.post("/api/routes/orders/stop", headers=OPERATOR).get_json()["previous_state"] == "stopped"

    response = client.post("/api/routes/orders/start", headers=bearer(make_token(["operator"])))
    assert response.status_code == 200 and response.get_json()["state"] == "started"
    out.expected_bodies_received([1])
    engine.template.send_body("direct:orders", [1])
    out.assert_is_satisfied(timeout=2.0)
    assert client.post("/api/routes/orders/start", headers=OPERATOR).get_json()["previous_state"] == "started"


def test_operator_starts_a_route_that_does_not_start_by_itself(client, engine):
    assert client.post("/api/routes/later/start", headers=OPERATOR).get_json()["state"] == "started"
    later = engine.get_endpoint("mock:later")
    later.expected_message_count(1)
    engine.template.send_body("direct:later", "x")
    later.assert_is_satisfied(timeout=2.0)


def test_suspend_and_resume_a_seda_route(client, engine):
    work = engine.get_endpoint("mock:work")
    assert client.post("/api/routes/work/suspend", headers=OPERATOR).get_json()["state"] == "suspended"
    assert engine.route("work").state == "suspended"
    engine.template.send_body("seda:work", "queued")
    assert engine.get_endpoint("seda:work").queue_size == 1
    assert work.received_bodies == []
    assert client.post("/api/routes/work/suspend", headers=OPERATOR).status_code == 200  # idempotent
    work.expected_bodies_received("queued")
    response = client.post("/api/routes/work/resume", headers=OPERATOR)
    assert response.get_json()["state"] == "started"
    work.assert_is_satisfied(timeout=2.0)


def test_start_resumes_a_suspended_route(client, engine):
    client.post("/api/routes/work/suspend", headers=OPERATOR)
    response = client.post("/api/routes/work/start", headers=OPERATOR)
    assert response.get_json()["previous_state"] == "suspended" and engine.route("work").state == "started"


def test_actions_the_state_does_not_allow_are_409(client, engine):
    client.post("/api/routes/orders/stop", headers=OPERATOR)
    for action in ("suspend", "resume"):
        response = client.post(f"/api/routes/orders/{action}", headers=OPERATOR)
        assert response.status_code == 409 and "start it instead" in response.get_json()["message"]
    assert engine.route("orders").state == "stopped"


def test_start_is_409_while_the_engine_is_stopped(engine, management):
    engine.add_routes(lambda rb: rb.from_("direct:x").route_id("x").to("mock:x"))
    client = management()
    response = client.post("/api/routes/x/start", headers=OPERATOR)
    assert response.status_code == 409 and "engine is stopped" in response.get_json()["message"]
    assert engine.route("x").state == "stopped"


def test_viewer_cannot_stop(client, engine):
    for action in ("stop", "suspend", "start", "resume"):
        assert client.post(f"/api/routes/orders/{action}", headers=VIEWER).status_code == 403
    assert engine.route("orders").state == "started"


def test_stop_reports_exchanges_that_did_not_finish(engine, management):
    release, entered = threading.Event(), threading.Event()

    def slow(exchange):
        entered.set()
        release.wait(5)

    engine.shutdown_timeout = 0.05
    engine.add_routes(lambda rb: rb.from_("seda:slow").route_id("slow").process(slow))
    engine.start()
    client = management()
    engine.template.send_body("seda:slow", "x")
    assert entered.wait(2)
    try:
        response = client.post("/api/routes/slow/stop", headers=OPERATOR)
        data = response.get_json()
        assert data["state"] == "stopped" and len(data["unfinished_exchanges"]) == 1
    finally:
        release.set()


def test_endpoints(client, engine):
    engine.template.send_body("direct:orders", [1])
    engine.route("work").stop_consumer()
    engine.template.send_body("seda:work", "a")
    response = client.get("/api/endpoints", headers=VIEWER)
    assert response.status_code == 200
    endpoints = {e["uri"]: e for e in response.get_json()["endpoints"]}
    assert endpoints["direct:orders"]["component"] == "direct"
    assert endpoints["direct:orders"]["consumed_by"] == ["orders"]
    assert endpoints["direct:orders"]["stats"]["exchanges_consumed"] == 1
    assert endpoints["seda:work"]["stats"]["queue_size"] == 1
    assert endpoints["mock:standard"]["consumed_by"] == [] and endpoints["mock:standard"]["type"] == "MockEndpoint"
    assert "vault:archive?passphrase=xxxxxx" in endpoints and "vault:inbox?password=xxxxxx" in endpoints
    assert VAULT_PASSWORD not in response.get_data(as_text=True)


def test_internal_error_is_500_with_an_error_id_and_no_trace(client, engine, caplog):
    consumer = engine.route("inbox").consumer

    def broken_stats():
        raise RuntimeError("secret internals")

    consumer.stats = broken_stats  # Route.stats() merges the consumer's statistics
    with caplog.at_level(logging.ERROR, logger="eip.management"):
        response = client.get("/api/routes", headers=VIEWER)
    assert response.status_code == 500
    data = response.get_json()
    assert data["error"] == "internal_error" and len(data["error_id"]) == 12
    assert "secret internals" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    assert data["error_id"] in caplog.text and "secret internals" in caplog.text


def test_responses_are_json_and_not_cached(client):
    for path in ("/api/routes", "/api/endpoints", "/health/live", "/health/ready"):
        response = client.get(path, headers=VIEWER)
        assert response.mimetype == "application/json", path
        assert response.headers["Cache-Control"] == "no-store"


def test_install_serves_the_api_over_the_engine_http_server(engine):
    """The real thing: waitress on a free port, requests as the client."""
    import requests
    from prometheus_client.parser import text_string_to_metric_families

    from eip.config import Config
    from eip.http_server import http_server
    from eip.management import install

    engine.properties["server.port"] = 0
    engine.add_routes(lambda rb: rb.from_("direct:orders").route_id("orders").to("mock:out"))
    config = Config({"auth": {"api_keys": [{"key": OPERATOR_KEY_FOR_SERVER, "roles": ["operator"]}]},
                     "management": {"metrics_require_auth": False}})
    app = install(engine, config)
    try:
        engine.start()
        base = http_server(engine).url
        with requests.Session() as http:
            assert http.get(f"{base}/health/live", timeout=5).json() == {"status": "UP"}
            assert http.get(f"{base}/health/ready", timeout=5).status_code == 200
            refused = http.get(f"{base}/api/routes", timeout=5)
            assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")
            key = {"X-API-Key": OPERATOR_KEY_FOR_SERVER}
            assert [r["id"] for r in http.get(f"{base}/api/routes", headers=key, timeout=5).json()["routes"]] \
                == ["orders"]
            engine.template.send_body("direct:orders", "x")
            metrics = http.get(f"{base}/metrics", timeout=5)
            families = {f.name: f for f in text_string_to_metric_families(metrics.text)}
            assert [s.value for s in families["eip_exchanges"].samples if s.name == "eip_exchanges_total"] == [1.0]
            stopped = http.post(f"{base}/api/routes/orders/stop", headers=key, timeout=5)
            assert stopped.status_code == 200 and engine.route("orders").state == "stopped"
            not_ready = http.get(f"{base}/health/ready", timeout=5)
            assert not_ready.status_code == 503 and not_ready.json() == {"status": "DOWN", "failed": ["routes"]}
            not_ready = http.get(f"{base}/health/ready", headers=key, timeout=5)
            assert not_ready.status_code == 503 and not_ready.json()["not_ready"][0]["name"] == "orders"
            assert http.get(f"{base}/nowhere", timeout=5).status_code == 404
    finally:
        engine.stop()
        app.close()


# -- http: consumers cannot hide the API ---------------------------------------------------------------------
@pytest.mark.parametrize("uri, path", [
    ("http:/metrics", "'/metrics'"),
    ("http:/?match_on_uri_prefix=true", "'/' and every path below it"),
    ("http:/health?match_on_uri_prefix=true", "'/health' and every path below it"),
    ("http:/api/routes/{id}", "'/api/routes/{id}'"),
])
def test_an_http_consumer_overlapping_the_api_is_refused_at_start_naming_route_and_path(engine, uri, path):
    import requests

    from eip import ConfigurationError
    from eip.http_server import http_server
    from eip.management import install

    engine.properties["server.port"] = 0
    engine.add_routes(lambda rb: rb.from_(uri).route_id("greedy").set_body("hijacked"))
    app = install(engine, {"auth": {"api_keys": [{"key": OPERATOR_KEY_FOR_SERVER, "roles": ["operator"]}]}})
    try:
        with pytest.raises(ConfigurationError) as refused:
            engine.start()
        message = str(refused.value)
        assert message.startswith("route 'greedy': HTTP path " + path) and "the management API serves" in message
        assert refused.value.route_id == "greedy"
        assert engine.state == "failed"
    finally:
        engine.stop()
        app.close()
    # The same route beside an API it does not overlap serves, and so does the API.
    other = type(engine)(properties={"server.port": 0})
    other.add_routes(lambda rb: rb.from_("http:/api/orders").route_id("orders").set_body("mine"))
    app = install(other, {})
    try:
        other.start()
        base = http_server(other).url
        assert requests.get(f"{base}/api/orders", timeout=5).text == "mine"
        assert requests.get(f"{base}/metrics", timeout=5).status_code == 200
        assert requests.get(f"{base}/health/live", timeout=5).json() == {"status": "UP"}
    finally:
        other.stop()
        app.close()


def test_installing_the_api_over_a_running_consumer_that_overlaps_it_is_refused(engine):
    from eip import ConfigurationError
    from eip.http_server import http_server
    from eip.management import install

    engine.properties["server.port"] = 0
    engine.add_routes(lambda rb: rb.from_("http:/?match_on_uri_prefix=true").route_id("catch-all").set_body("x"))
    engine.start()
    with pytest.raises(ConfigurationError, match=r"HTTP path '/' and every path below it \(http:/\?match_on_uri_"
                                                 r"prefix=true\) would answer '/health/live'"):
        install(engine, {})
    server = http_server(engine)
    assert server._mounts == () and server._reserved == ()  # nothing half-installed

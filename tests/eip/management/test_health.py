"""Liveness and readiness: routes, connections (SQL datasources, health() on endpoints), caching."""

from __future__ import annotations

import json
import logging
import socket
import threading

import pytest
from management_support import VAULT_PASSWORD, VIEWER, bearer, make_token

from eip import RouteBuilder
from eip.management.health import DataSourceCheck, probe


class Routes(RouteBuilder):
    def configure(self) -> None:
        self.from_("direct:orders").route_id("orders").to("mock:out")
        self.from_("seda:work").route_id("work").to("mock:work")
        self.from_("direct:manual").route_id("manual").auto_startup(False).to("mock:manual")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def client(engine, management):
    engine.add_routes(Routes())
    engine.start()
    return management()


def ready(client):
    """The readiness answer with details (the viewer's)."""
    return client.get("/health/ready", headers=VIEWER)


def not_ready(response) -> list[tuple[str, str, str]]:
    assert response.status_code == 503
    assert response.mimetype == "application/json"
    data = response.get_json()
    assert data["status"] == "DOWN"
    return [(c["check"], c["name"], c["detail"]) for c in data["not_ready"]]


def test_live_always_answers(engine, management):
    client = management({})
    assert client.get("/health/live").get_json() == {"status": "UP"}
    engine.start()
    assert client.get("/health/live").status_code == 200


def test_ready_when_every_auto_start_route_is_started(client):
    response = ready(client)
    assert response.status_code == 200
    data = response.get_json()
    assert data["status"] == "UP" and "not_ready" not in data
    names = {(c["check"], c["name"]) for c in data["checks"]}
    assert {("engine", "engine"), ("route", "orders"), ("route", "work")} <= names
    assert ("route", "manual") not in names  # auto_startup(False): not required


def test_stopped_route_is_not_ready_until_started_again(client, engine):
    engine.stop_route("orders")
    assert not_ready(ready(client)) == [("route", "orders", "stopped")]
    engine.start_route("orders")
    assert ready(client).status_code == 200
    engine.suspend_route("work")
    assert not_ready(ready(client)) == [("route", "work", "suspended")]


def test_engine_not_started_is_not_ready(engine, management):
    client = management()
    assert not_ready(ready(client)) == [("engine", "engine", "stopped")]


def test_health_needs_no_credentials_even_when_everything_else_does(engine, management):
    engine.start()
    client = management({"auth": {"api_keys": [{"key": "k" * 20, "roles": ["viewer"]}]},
                         "management": {"metrics_require_auth": True}})
    assert client.get("/health/ready").status_code == 200
    assert client.get("/health/live").status_code == 200
    assert client.get("/metrics").status_code == 401



def test_anonymous_readiness_names_only_the_failed_categories(engine, management, tmp_path):
    engine.add_routes(Routes())
    engine.add_datasource("orders-db", f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'eip.db'}")
    engine.start()
    engine.stop_route("orders")
    client = management()
    anonymous = client.get("/health/ready")
    assert anonymous.status_code == 503
    assert anonymous.get_json() == {"status": "DOWN", "failed": ["datasources", "routes"]}
    text = anonymous.get_data(as_text=True)
    assert "orders" not in text and "orders-db" not in text and "direct:" not in text

    viewer = ready(client)
    assert viewer.status_code == 503
    data = viewer.get_json()
    assert data["failed"] == ["datasources", "routes"]
    assert {(c["check"], c["name"]) for c in data["not_ready"]} == {("route", "orders"), ("datasource", "orders-db")}
    assert ("route", "work") in {(c["check"], c["name"]) for c in data["checks"]}


def test_anonymous_readiness_when_ready_is_only_up(client):
    assert client.get("/health/ready").get_json() == {"status": "UP"}
    assert ready(client).get_json()["checks"]


def test_readiness_details_refuse_bad_or_roleless_credentials(client):
    assert client.get("/health/ready", headers={"X-API-Key": "not-a-key-0123456789"}).status_code == 401
    assert client.get("/health/ready", headers=bearer(make_token([]))).status_code == 403
    assert client.get("/health/ready", headers=bearer(make_token(["viewer"]))).get_json()["checks"]


# -- the health() protocol --------------------------------------------------------------------------
def test_endpoint_health_protocol(engine, management, vault):
    engine.add_routes(lambda rb: rb.from_("direct:in").route_id("in").to(f"vault:out?passphrase={VAULT_PASSWORD}"))
    engine.start()
    client = management()
    endpoint = engine.get_endpoint("vault:out")
    response = ready(client)
    assert response.status_code == 200
    assert {"check": "endpoint", "name": "vault:out?passphrase=xxxxxx", "ok": True, "detail": "fine"} \
        in response.get_json()["checks"]
    endpoint.healthy = (False, "sealed")
    assert not_ready(ready(client)) == [("endpoint", "vault:out?passphrase=xxxxxx", "sealed")]
    endpoint.healthy = RuntimeError("exploded")
    assert not_ready(ready(client)) == [
        ("endpoint", "vault:out?passphrase=xxxxxx", "health check failed: RuntimeError")]
    assert VAULT_PASSWORD not in ready(client).get_data(as_text=True)


def test_consumer_connected_property(engine, management, vault):
    engine.add_routes(lambda rb: rb.from_("vault:inbox").route_id("inbox").to("mock:x"))
    engine.start()
    client = management()
    assert ready(client).status_code == 200
    engine.get_endpoint("vault:inbox").consumer.is_connected = False
    assert not_ready(ready(client)) == [("consumer", "inbox <- vault:inbox", "not connected")]


def test_probe_adapters():
    class Publisher:  # what an AMQP producer looks like: a private session with a ready event
        def __init__(self) -> None:
            self._session = type("Session", (), {"ready": threading.Event()})()

    publisher = Publisher()
    assert probe(publisher) == (False, "not connected (reconnecting)")
    publisher._session.ready.set()
    assert probe(publisher) == (True, "connected")
    assert probe(object()) is None
    assert probe(None) is None


# -- SQL datasources -------------------------------------------------------------------------------------
def test_sqlite_datasource_up_and_unreachable(engine, management, tmp_path):
    engine.add_routes(Routes())
    engine.add_datasource("local", f"sqlite:///{tmp_path / 'eip.db'}")
    engine.start()
    client = management()
    response = ready(client)
    assert response.status_code == 200
    assert {"check": "datasource", "name": "local", "ok": True, "detail": "connected"} in response.get_json()["checks"]

    engine.add_datasource("broken", f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'eip.db'}")
    assert not_ready(ready(client)) == [("datasource", "broken", "cannot connect: OperationalError")]


def test_postgresql_on_a_closed_port_is_not_ready(engine, management, caplog):
    engine.add_routes(Routes())
    engine.add_datasource("orders", f"postgresql+psycopg://app:{VAULT_PASSWORD}@127.0.0.1:{closed_port()}/test")
    engine.start()
    client = management()
    with caplog.at_level(logging.WARNING, logger="eip.management.health"):
        response = ready(client)
    assert not_ready(response) == [("datasource", "orders", "cannot connect: OperationalError")]
    assert "datasource 'orders'" in caplog.text and "not reachable" in caplog.text
    assert VAULT_PASSWORD not in caplog.text + response.get_data(as_text=True)


def test_postgresql_up_is_ready(engine, management, postgresql_service):
    url = postgresql_service.url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine.add_routes(Routes())
    engine.add_datasource("orders", url)
    engine.start()
    response = management().get("/health/ready", headers=VIEWER)
    assert response.status_code == 200
    assert {"check": "datasource", "name": "orders", "ok": True, "detail": "connected"} in response.get_json()["checks"]


class _Connection:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, statement):
        return self

    def scalar(self):
        return 1


class _Source:
    """A datasource stand-in whose connect() counts calls and can be held."""

    name, dialect_name, masked_url = "stub", "sqlite", "sqlite://"

    def __init__(self) -> None:
        self.calls = 0
        self.gate = threading.Event()
        self.gate.set()

    def connect(self):
        self.calls += 1
        if not self.gate.wait(5):
            raise TimeoutError("held too long")
        return _Connection()


def test_datasource_probe_is_cached():
    source = _Source()
    check = DataSourceCheck(source, timeout=2.0, ttl=60.0)
    assert check.health() == (True, "connected")
    assert check.health() == (True, "connected")
    assert source.calls == 1
    uncached = DataSourceCheck(source, timeout=2.0, ttl=0.0)
    uncached.health()
    uncached.health()
    assert source.calls == 3


def test_a_slow_database_times_out_and_is_probed_once_at_a_time():
    source = _Source()
    source.gate.clear()
    check = DataSourceCheck(source, timeout=0.05, ttl=60.0)
    try:
        assert check.health() == (False, "no answer within 0.05 s")
        assert check.health() == (False, "no answer within 0.05 s")
        assert source.calls == 1  # the second caller waited on the probe already running
    finally:
        source.gate.set()
    check.timeout = 5.0
    assert check.health() == (True, "connected")
    assert source.calls == 1


# -- under connection exhaustion ------------------------------------------------------------------------
@pytest.mark.parametrize("limit", [None, 50])  # the default limit (1000), and one the 200 exhaust
def test_live_answers_within_a_second_while_200_idle_connections_are_open(engine, limit):
    import time

    import requests

    from eip.http_server import http_server
    from eip.management import install

    engine.properties["server.port"] = 0
    if limit is not None:
        engine.properties["server.connection_limit"] = limit
    app = install(engine, {})
    idle: list[socket.socket] = []
    try:
        engine.start()
        server = http_server(engine)
        idle = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(200)]
        started = time.monotonic()
        response = requests.get(server.url + "/health/live", timeout=5)
        elapsed = time.monotonic() - started
        assert response.status_code == 200 and response.json() == {"status": "UP"}
        assert elapsed < 1.0, f"/health/live took {elapsed:.2f} s behind 200 idle connections"
    finally:
        for sock in idle:
            sock.close()
        engine.stop()
        app.close()


# -- while every worker thread is busy --------------------------------------------------------------------
def _answer(response) -> tuple[int, bytes, list[tuple[str, str]]]:
    """What a probe sees: status, body, headers (all but Date, which moves)."""
    return response.status_code, response.content, [(k, v) for k, v in response.headers.items() if k != "Date"]


def test_live_answers_within_a_second_while_every_worker_thread_is_busy(engine):
    import requests

    from eip.http_server import http_server
    from eip.management import install

    engine.properties["server.port"] = 0
    engine.properties["server.threads"] = 2
    arrived, release = threading.Semaphore(0), threading.Event()

    def hold(exchange):
        arrived.release()
        release.wait(30)
        exchange.body = "released"

    engine.add_routes(lambda r: r.from_("http:/slow").process(hold))
    app = install(engine, {})
    results: list[tuple[int, str]] = []
    callers: list[threading.Thread] = []
    try:
        engine.start()
        url = http_server(engine).url
        idle = {method: _answer(requests.request(method, url + "/health/live", timeout=5))
                for method in ("GET", "HEAD")}

        def call_slow() -> None:
            response = requests.get(url + "/slow", timeout=30)
            results.append((response.status_code, response.text))

        callers = [threading.Thread(target=call_slow) for _ in range(2)]
        for caller in callers:
            caller.start()
        for _ in callers:  # both worker threads are now held in the route
            assert arrived.acquire(timeout=10)
        for method in ("GET", "HEAD"):  # a probe with a 1 s timeout, as Kubernetes sends it
            busy = _answer(requests.request(method, url + "/health/live", timeout=1))
            assert busy == idle[method]  # the same answer as when a worker serves it
        # two probes pipelined on one connection: both answered, in order
        with socket.create_connection(("127.0.0.1", http_server(engine).port), timeout=1) as sock:
            sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n"
                         b"HEAD /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            received = b""
            while chunk := sock.recv(4096):
                received += chunk
        assert received.count(b"HTTP/1.1 200 OK\r\n") == 2 and received.count(b'{"status":"UP"}') == 1
        assert idle["GET"][0] == 200 and json.loads(idle["GET"][1]) == {"status": "UP"}
        release.set()
        for caller in callers:
            caller.join(30)
        assert results == [(200, "released"), (200, "released")]
    finally:
        release.set()
        engine.stop()
        app.close()


def test_a_user_route_on_the_liveness_path_runs_on_a_worker_thread(engine):
    """Without the management API ``/health/live`` is an ordinary path: a user route there runs
    on a worker thread like any other, never on the server's I/O thread."""
    import requests

    from eip.http_server import http_server

    engine.properties["server.port"] = 0
    threads: list[str] = []

    def record(exchange):
        threads.append(threading.current_thread().name)
        exchange.body = "mine"

    engine.add_routes(lambda r: r.from_("http:/health/live").process(record))
    try:
        engine.start()
        server = http_server(engine)
        assert requests.get(server.url + "/health/live", timeout=5).text == "mine"
        assert threads and threads[0] != f"eip-http-{server.port}"
    finally:
        engine.stop()

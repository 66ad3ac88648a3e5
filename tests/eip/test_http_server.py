"""The engine's HTTP server: one per engine, dispatch (handlers, mounts, 404/405/413/503/500),
configuration from engine properties, graceful stop."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator

import pytest
import requests
from werkzeug.wrappers import Response

from eip import ConfigurationError, Engine
from eip.http_server import HttpServer, PathTemplate, http_server, parse_size
from eip.testing import eventually

pytestmark = pytest.mark.eip(properties={"server.port": 0})
TIMEOUT = 5


@pytest.fixture
def server() -> Iterator[HttpServer]:
    """A standalone server on a free port (no engine)."""
    srv = HttpServer(port=0, max_request_body=100)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def echo_app(environ, start_response):
    text = f"{environ['SCRIPT_NAME']}|{environ['PATH_INFO']}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(text)))])
    return [text]


def text_handler(text: str):
    def handle(request, params):
        return Response(json.dumps({"handler": text, "params": params, "method": request.method}),
                        mimetype="application/json")
    return handle


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    return False


# -- one server per engine, lifecycle ----------------------------------------------------------------
def test_http_server_is_created_once_per_engine_and_starts_and_stops_with_it(engine: Engine) -> None:
    server = http_server(engine)
    assert http_server(engine) is server
    assert server in engine.services
    assert not server.running
    assert server.health() == (False, "not listening")
    engine.start()
    assert server.running
    port = server.port
    assert server.health() == (True, f"listening on http://127.0.0.1:{port}")
    assert port > 0  # server.port 0 picked a free port, readable after start
    assert server.url == f"http://127.0.0.1:{port}"
    assert requests.get(server.url + "/nothing", timeout=TIMEOUT).status_code == 404
    engine.stop()
    assert not server.running
    assert refused(port)


def test_created_while_the_engine_runs_it_starts_at_once_and_a_restart_serves_again(engine: Engine) -> None:
    engine.start()
    server = http_server(engine)
    assert server.running
    server.mount("/", echo_app)
    engine.stop()
    engine.start()
    assert server.running
    assert requests.get(server.url + "/x", timeout=TIMEOUT).text == "|/x"  # mounts survive a restart


def test_host_port_threads_and_body_limit_come_from_engine_properties() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    engine = Engine(properties={"server.port": str(free), "server.host": "127.0.0.1", "server.threads": "3",
                                "server.max_request_body": "1KB"})
    server = http_server(engine)
    with engine:
        assert (server.port, server.threads, server.max_request_body) == (free, 3, 1024)
        assert requests.get(f"http://127.0.0.1:{free}/", timeout=TIMEOUT).status_code == 404


def test_a_port_in_use_fails_the_engine_start_naming_the_property(engine: Engine) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        engine.properties["server.port"] = busy.getsockname()[1]
        http_server(engine)
        with pytest.raises(ConfigurationError, match="server.port"):
            engine.start()


@pytest.mark.parametrize("name, value", [("server.port", "http"), ("server.port", "70000"),
                                         ("server.threads", "0"), ("server.max_request_body", "lots")])
def test_bad_server_properties_are_configuration_errors(name: str, value: str) -> None:
    server = HttpServer(Engine(properties={"server.port": 0, name: value}))
    with pytest.raises(ConfigurationError, match=name.split(".")[1] if name != "server.port" else "port"):
        server.start()
    assert not server.running


def test_parse_size() -> None:
    assert parse_size(123) == 123
    assert parse_size("512KB") == 512 * 1024
    assert parse_size("10MB") == 10 * 1024 ** 2
    assert parse_size("1 GiB") == 1024 ** 3
    with pytest.raises(ValueError):
        parse_size("ten")


# -- mounted WSGI apps ----------------------------------------------------------------------------------
def test_the_longest_mount_prefix_wins_and_sees_its_prefix_in_script_name(server: HttpServer) -> None:
    server.mount("/", echo_app)
    server.mount("/api", echo_app)
    server.mount("/api/v2/", echo_app)

    def get(path: str) -> str:
        return requests.get(server.url + path, timeout=TIMEOUT).text

    assert get("/api/v2/routes") == "/api/v2|/routes"
    assert get("/api/routes") == "/api|/routes"
    assert get("/api") == "/api|"
    assert get("/apix") == "|/apix"  # a prefix matches whole segments only
    assert get("/") == "|/"
    with pytest.raises(ConfigurationError, match="already"):
        server.mount("/api", echo_app)
    server.unmount("/api")
    assert get("/api/routes") == "|/api/routes"


def test_a_mounted_app_that_raises_answers_500_with_an_error_id_that_is_logged(
        server: HttpServer, caplog: pytest.LogCaptureFixture) -> None:
    def broken(environ, start_response):
        raise RuntimeError("database password is hunter2")

    server.mount("/broken", broken)
    with caplog.at_level(logging.ERROR, logger="eip.http_server"):
        response = requests.get(server.url + "/broken/x", timeout=TIMEOUT)
    assert response.status_code == 500
    body = response.json()
    assert body["error"] == "internal error"
    assert "hunter2" not in response.text and "Traceback" not in response.text
    record = next(r for r in caplog.records if body["error_id"] in r.getMessage())
    assert record.levelno == logging.ERROR and record.exc_info is not None


# -- handlers --------------------------------------------------------------------------------------------
def test_handlers_win_over_mounted_apps_and_get_path_parameters(server: HttpServer) -> None:
    server.mount("/", echo_app)
    server.add_handler(["GET"], "/orders/{id}", text_handler("order"))
    response = requests.get(server.url + "/orders/42", timeout=TIMEOUT)
    assert response.json() == {"handler": "order", "params": {"id": "42"}, "method": "GET"}
    assert requests.get(server.url + "/orders/42/", timeout=TIMEOUT).json()["params"] == {"id": "42"}
    # the path is a handler's: a wrong method is 405, not the mounted app
    response = requests.post(server.url + "/orders/42", timeout=TIMEOUT)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert response.json() == {"error": "method not allowed"}
    assert requests.get(server.url + "/orders", timeout=TIMEOUT).text == "|/orders"


def test_literal_segments_beat_parameters_and_methods_pick_among_matches(server: HttpServer) -> None:
    server.add_handler("GET", "/orders/new", text_handler("new"))
    server.add_handler("GET,PUT", "/orders/{id}", text_handler("by-id"))
    server.add_handler(None, "/files", text_handler("files"), match_prefix=True)
    url = server.url
    assert requests.get(url + "/orders/new", timeout=TIMEOUT).json()["handler"] == "new"
    assert requests.get(url + "/orders/7", timeout=TIMEOUT).json()["handler"] == "by-id"
    put = requests.put(url + "/orders/new", timeout=TIMEOUT).json()
    assert put["handler"] == "by-id" and put["params"] == {"id": "new"}
    response = requests.delete(url + "/orders/new", timeout=TIMEOUT)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS, PUT"
    options = requests.options(url + "/orders/new", timeout=TIMEOUT)
    assert options.status_code == 204 and options.headers["Allow"] == "GET, HEAD, OPTIONS, PUT"
    head = requests.head(url + "/orders/7", timeout=TIMEOUT)
    assert head.status_code == 200 and head.content == b""
    assert requests.delete(url + "/files/a/b.txt", timeout=TIMEOUT).json()["handler"] == "files"
    assert requests.get(url + "/filesystem", timeout=TIMEOUT).status_code == 404


def test_parameters_inside_segments_and_percent_decoding(server: HttpServer) -> None:
    server.add_handler("GET", "/reports/{year}-{month}.{fmt}", text_handler("report"))
    response = requests.get(server.url + "/reports/2024-05.csv", timeout=TIMEOUT)
    assert response.json()["params"] == {"year": "2024", "month": "05", "fmt": "csv"}
    server.add_handler("GET", "/people/{name}", text_handler("person"))
    assert requests.get(server.url + "/people/J%C3%BCrgen", timeout=TIMEOUT).json()["params"] == {"name": "Jürgen"}


def test_overlapping_handlers_are_refused_and_removed_handlers_stop_answering(server: HttpServer) -> None:
    first = server.add_handler("GET,POST", "/a/{x}", text_handler("first"))
    with pytest.raises(ConfigurationError, match="already served"):
        server.add_handler("POST", "/a/{y}", text_handler("second"))
    with pytest.raises(ConfigurationError, match="already served"):
        server.add_handler(None, "/a/{x}/", text_handler("any"))
    server.add_handler("DELETE", "/a/{x}", text_handler("delete"))  # other methods are fine
    server.remove_handler(first)
    assert requests.get(server.url + "/a/1", timeout=TIMEOUT).status_code == 405
    assert requests.delete(server.url + "/a/1", timeout=TIMEOUT).json()["handler"] == "delete"
    with pytest.raises(ConfigurationError, match="unknown HTTP method"):
        server.add_handler("FETCH", "/b", text_handler("b"))


@pytest.mark.parametrize("template", ["orders", "/orders/{id", "/a/{x}/{x}", "/a/{}"])
def test_bad_path_templates_are_refused(template: str) -> None:
    with pytest.raises(ConfigurationError):
        PathTemplate(template)


def test_a_paused_handler_answers_503(server: HttpServer) -> None:
    registration = server.add_handler("GET", "/busy", text_handler("busy"))
    registration.paused = True
    response = requests.get(server.url + "/busy", timeout=TIMEOUT)
    assert response.status_code == 503 and response.headers["Retry-After"]
    registration.paused = False
    assert requests.get(server.url + "/busy", timeout=TIMEOUT).status_code == 200


def test_a_handler_that_raises_answers_500_with_the_logged_error_id_only(
        server: HttpServer, caplog: pytest.LogCaptureFixture) -> None:
    def broken(request, params):
        raise KeyError("secret-key-name")

    server.add_handler("GET", "/broken", broken)
    with caplog.at_level(logging.ERROR, logger="eip.http_server"):
        response = requests.get(server.url + "/broken", timeout=TIMEOUT)
    assert response.status_code == 500
    assert set(response.json()) == {"error", "error_id"}
    assert "secret-key-name" not in response.text
    assert any(response.json()["error_id"] in r.getMessage() and r.exc_info for r in caplog.records)


# -- request size ------------------------------------------------------------------------------------------
def test_request_bodies_over_the_limit_answer_413_before_any_handler_runs(server: HttpServer) -> None:
    called = []

    def size(request, params):
        called.append(1)
        return Response(str(len(request.get_data())))

    server.add_handler("POST", "/upload", size)
    server.mount("/", echo_app)
    assert requests.post(server.url + "/upload", data=b"x" * 100, timeout=TIMEOUT).text == "100"
    response = requests.post(server.url + "/upload", data=b"x" * 101, timeout=TIMEOUT)
    assert response.status_code == 413
    assert len(called) == 1
    # chunked (no Content-Length) is counted as it arrives
    chunked = requests.post(server.url + "/upload", data=iter([b"x" * 60, b"y" * 60]), timeout=TIMEOUT)
    assert chunked.status_code == 413
    # mounted apps are protected too
    assert requests.post(server.url + "/elsewhere", data=b"x" * 101, timeout=TIMEOUT).status_code == 413
    assert len(called) == 1


# -- threads and graceful stop ------------------------------------------------------------------------------
def test_requests_are_served_concurrently_on_the_worker_threads() -> None:
    server = HttpServer(port=0, threads=2)
    server.start()
    barrier = threading.Barrier(2, timeout=TIMEOUT)

    def meet(request, params):
        barrier.wait()  # both requests must be in handlers at once, or this times out
        return Response("met")

    server.add_handler("GET", "/meet", meet)
    try:
        results: list[str] = []
        threads = [threading.Thread(target=lambda: results.append(
            requests.get(server.url + "/meet", timeout=TIMEOUT).text)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(TIMEOUT)
        assert results == ["met", "met"]
    finally:
        server.stop()


def test_stop_refuses_new_connections_but_lets_a_running_request_finish() -> None:
    server = HttpServer(port=0)
    server.start()
    entered, release = threading.Event(), threading.Event()

    def slow(request, params):
        entered.set()
        release.wait(TIMEOUT)
        return Response("finished")

    server.add_handler("GET", "/slow", slow)
    port = server.port
    result: list[requests.Response] = []
    client = threading.Thread(target=lambda: result.append(requests.get(server.url + "/slow", timeout=TIMEOUT)))
    client.start()
    assert entered.wait(TIMEOUT)
    stopper = threading.Thread(target=server.stop)
    stopper.start()
    eventually(lambda: refused(port), what="the listening socket closed")  # it closes first
    assert stopper.is_alive()  # still waiting for the request in flight
    release.set()
    client.join(TIMEOUT)
    stopper.join(TIMEOUT)
    assert not stopper.is_alive()
    assert result and result[0].status_code == 200 and result[0].text == "finished"
    assert not server.running


# -- reserved paths (the management API's) ----------------------------------------------------------------
@pytest.mark.parametrize("template, prefix, reserved, overlap", [
    ("/metrics", False, "/metrics", True),
    ("/metrics/", False, "/metrics", True),
    ("/", True, "/health/live", True),
    ("/health", True, "/health/ready", True),
    ("/api", True, "/api/routes/{route_id}", True),
    ("/api/{anything}", False, "/api/routes", True),
    ("/api/routes/{id}", False, "/api/routes/{route_id}", True),
    ("/{a}/{b}/{c}", False, "/api/routes/{route_id}", True),
    ("/api/routes/x-{id}", False, "/api/routes/{route_id}", True),
    ("/api/orders", False, "/api/routes", False),
    ("/api/orders", True, "/api/routes/{route_id}", False),
    ("/api/{x}/{y}/{z}/{w}", False, "/api/routes/{route_id}/{action}", False),
    ("/metrics2", False, "/metrics", False),
    ("/health", False, "/health/live", False),
    ("/", False, "/metrics", False),
    ("/orders", True, "/metrics", False),
])
def test_path_templates_know_when_they_overlap(template: str, prefix: bool, reserved: str, overlap: bool) -> None:
    mine, theirs = PathTemplate(template, prefix), PathTemplate(reserved)
    assert mine.overlaps(theirs) is overlap
    assert theirs.overlaps(mine) is overlap


def test_a_handler_on_a_reserved_path_is_refused_naming_its_owner(server: HttpServer) -> None:
    server.mount("/", echo_app)
    server.reserve(["/metrics", "/api/routes/{route_id}"], "the management API")
    with pytest.raises(ConfigurationError, match=r"HTTP path '/metrics' \(http:/metrics\) would answer "
                                                 r"'/metrics', which the management API serves"):
        server.add_handler(None, "/metrics", text_handler("mine"), owner="http:/metrics")
    with pytest.raises(ConfigurationError, match="'/' and every path below it"):
        server.add_handler("GET", "/", text_handler("mine"), match_prefix=True)
    server.add_handler("GET", "/api/orders", text_handler("orders"))  # not the management API's
    assert requests.get(server.url + "/metrics", timeout=TIMEOUT).text == "|/metrics"
    assert requests.get(server.url + "/api/orders", timeout=TIMEOUT).json()["handler"] == "orders"
    server.add_handler(None, "/api/{x}", text_handler("x"), owner="late")
    with pytest.raises(ConfigurationError, match=r"'/api/\{x\}' \(late\) would answer '/api/health'"):
        server.reserve(["/api/health"], "another app")
    server.release("the management API")
    server.add_handler(None, "/metrics", text_handler("mine"))


# -- connection exhaustion and idle connections ----------------------------------------------------------
def idle_connections(port: int, count: int) -> list[socket.socket]:
    return [socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) for _ in range(count)]


def closed_by_server(sock: socket.socket, within: float) -> bool:
    """True when the server closes ``sock`` (EOF or reset) within ``within`` seconds."""
    sock.settimeout(within)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_idle_connections_over_the_limit_never_lock_out_a_request() -> None:
    srv = HttpServer(port=0, connection_limit=10)
    slow = _Gate()
    srv.add_handler("GET", "/slow", slow)
    srv.add_handler("GET", "/ping", text_handler("pong"))
    srv.start()
    sockets: list[socket.socket] = []
    try:
        # a connection with a request in progress is never the one closed to make room
        busy = threading.Thread(target=lambda: slow.results.append(
            requests.get(srv.url + "/slow", timeout=TIMEOUT).text))
        busy.start()
        assert slow.entered.wait(TIMEOUT)
        sockets = idle_connections(srv.port, 30)
        for _ in range(3):  # each new request evicts an idle connection, again and again
            assert requests.get(srv.url + "/ping", timeout=TIMEOUT).json()["handler"] == "pong"
        assert closed_by_server(sockets[0], TIMEOUT)  # the longest idle went first
        slow.release.set()
        busy.join(TIMEOUT)
        assert slow.results == ["released"]
    finally:
        slow.release.set()
        for sock in sockets:
            sock.close()
        srv.stop()


def test_an_idle_connection_is_closed_after_idle_timeout() -> None:
    srv = HttpServer(port=0, idle_timeout="1s")
    srv.start()
    try:
        (sock,) = idle_connections(srv.port, 1)
        assert closed_by_server(sock, 4.0)  # idle 1 s, checked every second
        sock.close()
    finally:
        srv.stop()


def test_connection_limit_and_idle_timeout_come_from_engine_properties() -> None:
    engine = Engine(properties={"server.port": 0, "server.connection_limit": "50", "server.idle_timeout": "15s"})
    server = http_server(engine)
    with engine:
        assert (server.connection_limit, server.idle_timeout) == (50, 15.0)
    defaults = HttpServer(Engine(properties={"server.port": 0}))
    defaults.start()
    try:
        assert (defaults.connection_limit, defaults.idle_timeout) == (1000, 30.0)
    finally:
        defaults.stop()


def test_connection_settings_in_the_config_file_reach_the_server(tmp_path) -> None:
    from eip.config import load_config

    path = tmp_path / "eip.yaml"
    path.write_text("server:\n  port: 0\n  connection_limit: 64\n  idle_timeout: 5s\n")
    engine = Engine(properties=load_config(path, environ={}).engine_properties())
    server = http_server(engine)
    with engine:
        assert (server.connection_limit, server.idle_timeout) == (64, 5.0)
    path.write_text("server:\n  connection_limit: 0\n  idle_timeout: 0s\n")
    with pytest.raises(ConfigurationError, match="connection_limit") as refused:
        load_config(path, environ={})
    assert "idle_timeout" in str(refused.value)  # every problem at once


@pytest.mark.parametrize("name, value", [("server.connection_limit", "0"), ("server.connection_limit", "many"),
                                         ("server.idle_timeout", "0"), ("server.idle_timeout", "soon")])
def test_bad_connection_settings_are_configuration_errors(name: str, value: str) -> None:
    server = HttpServer(Engine(properties={"server.port": 0, name: value}))
    with pytest.raises(ConfigurationError, match=name):
        server.start()
    assert not server.running


class _Gate:
    """A handler that holds its request until ``release`` is set."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.results: list[str] = []

    def __call__(self, request, params):
        self.entered.set()
        self.release.wait(TIMEOUT)
        return Response("released")

"""http: consumer on the engine's server, producer with requests, the REST DSL; against a real
server on a free port and a real client."""

from __future__ import annotations

import logging
import threading

import pytest
import requests
from lxml import etree

from eip import (
    ConfigurationError,
    EndpointError,
    EndpointNotConnectedError,
    EndpointOptionError,
    Engine,
    RouteBuilder,
    RouteDefinitionError,
    dead_letter_channel,
    header,
)
from eip import constants as c
from eip.errors import ExchangeTimedOutError, HttpOperationFailedError
from eip.http_server import http_server
from eip.testing import eventually

pytestmark = pytest.mark.eip(properties={"server.port": 0})
TIMEOUT = 5


def routes(fn):
    class Routes(RouteBuilder):
        def configure(self) -> None:
            fn(self)
    return Routes()


def start(engine: Engine, fn) -> str:
    """Add the routes, start the engine, return the server's base URL."""
    engine.add_routes(routes(fn))
    engine.start()
    return http_server(engine).url


def closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- consumer: bodies in and out ------------------------------------------------------------------------
def test_json_in_becomes_a_dict_and_a_dict_reply_is_json(engine: Engine) -> None:
    seen = []

    def handle(exchange):
        seen.append(exchange.body)
        exchange.body = {"total": sum(line["qty"] for line in exchange.body["lines"]), "ok": True}

    url = start(engine, lambda r: r.from_("http:/orders?methods=POST").process(handle))
    response = requests.post(url + "/orders", json={"lines": [{"qty": 2}, {"qty": 3}]}, timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"total": 5, "ok": True}
    assert seen == [{"lines": [{"qty": 2}, {"qty": 3}]}]


def test_xml_in_becomes_an_element_and_an_element_reply_is_xml(engine: Engine) -> None:
    def handle(exchange):
        root = exchange.body
        reply = etree.Element("ack", id=root.get("id"))
        reply.text = root.findtext("item")
        exchange.body = reply

    url = start(engine, lambda r: r.from_("http:/xml").process(handle))
    response = requests.post(url + "/xml", data=b"<order id='7'><item>pen</item></order>",
                             headers={"Content-Type": "application/xml"}, timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/xml"
    root = etree.fromstring(response.content)
    assert (root.tag, root.get("id"), root.text) == ("ack", "7", "pen")


def test_text_bytes_and_empty_bodies(engine: Engine) -> None:
    bodies = []

    def record(exchange):
        bodies.append(exchange.body)

    url = start(engine, lambda r: (
        r.from_("http:/text").process(record).set_body(lambda ex: ex.body.upper()),
        r.from_("http:/bytes").process(record).set_body(b"\x00\x01"),
        r.from_("http:/raw?parse_body=false").process(record).set_body(lambda ex: ex.body),
        r.from_("http:/none").process(record).set_body(None),
    ))
    response = requests.post(url + "/text", data="grüße".encode("latin-1"),
                             headers={"Content-Type": "text/plain; charset=latin-1"}, timeout=TIMEOUT)
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.text == "GRÜSSE"
    response = requests.post(url + "/bytes", data=b"\xff", headers={"Content-Type": "image/png"},
                             timeout=TIMEOUT)
    assert (response.headers["Content-Type"], response.content) == ("application/octet-stream", b"\x00\x01")
    response = requests.post(url + "/raw", json={"a": 1}, timeout=TIMEOUT)
    assert response.content == b'{"a": 1}'
    response = requests.get(url + "/none", timeout=TIMEOUT)
    assert response.status_code == 204 and response.content == b""  # no body: 204, as Camel
    assert "Content-Type" not in response.headers
    assert bodies == ["grüße", b"\xff", b'{"a": 1}', None]


def test_status_content_type_and_headers_set_by_the_route_make_the_reply(engine: Engine) -> None:
    url = start(engine, lambda r: r.from_("http:/made")
                .set_header(c.HTTP_RESPONSE_CODE, 201)
                .set_header("Location", "/made/1")
                .set_header("X-Count", 3)
                .set_header("X-Bad", "a\r\nSet-Cookie: evil=1")
                .set_header("Content-Type", "application/vnd.acme+json")
                .set_body({"id": 1}))
    response = requests.post(url + "/made", data="x", headers={"X-Trace": "t-1", "Content-Type": "text/plain"},
                             timeout=TIMEOUT)
    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/vnd.acme+json"
    assert response.headers["Location"] == "/made/1"
    assert response.headers["X-Count"] == "3"
    assert "X-Bad" not in response.headers and "evil" not in response.headers.get("Set-Cookie", "")
    assert "X-Trace" not in response.headers  # request headers are not echoed
    assert not any(name.lower().startswith("camel") for name in response.headers)


def test_a_stale_content_type_never_mislabels_a_json_body(engine: Engine) -> None:
    # the request was XML; the route answers a dict: JSON, whatever the inherited header says
    url = start(engine, lambda r: r.from_("http:/convert").set_header("Content-Type", "text/xml")
                .set_body({"converted": True}))
    response = requests.post(url + "/convert", data=b"<a/>", headers={"Content-Type": "application/xml"},
                             timeout=TIMEOUT)
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"converted": True}


# -- consumer: headers in ------------------------------------------------------------------------------
def test_request_line_query_path_parameters_and_http_headers_become_headers(engine: Engine) -> None:
    seen = []
    url = start(engine, lambda r: r.from_("http:/shops/{shop}/orders/{id}")
                .process(lambda ex: seen.append(dict(ex.message.headers.items()))).set_body("ok"))
    response = requests.get(url + "/shops/s1/orders/42?expand=lines&tag=a&tag=b&X-User=spoof&id=9&"
                                  "CamelHttpResponseCode=500",
                            headers={"X-User": "alice", "CamelFileName": "../../etc/passwd"}, timeout=TIMEOUT)
    assert response.status_code == 200
    (headers,) = seen
    assert headers[c.HTTP_METHOD] == "GET"
    assert headers[c.HTTP_PATH] == "/shops/s1/orders/42"
    assert headers[c.HTTP_QUERY] == "expand=lines&tag=a&tag=b&X-User=spoof&id=9&CamelHttpResponseCode=500"
    assert headers[c.HTTP_URI] == "/shops/s1/orders/42?" + headers[c.HTTP_QUERY]
    assert headers["shop"] == "s1"
    assert headers["id"] == "42"  # a path parameter beats a query parameter
    assert headers["expand"] == "lines"
    assert headers["tag"] == ["a", "b"]
    assert headers["X-User"] == "alice"  # a query parameter never overrides an HTTP header
    assert c.HTTP_RESPONSE_CODE not in headers and "CamelFileName" not in headers  # Camel* from clients dropped


def test_malformed_and_unsafe_request_bodies_answer_400_before_the_route(engine: Engine) -> None:
    calls = []
    url = start(engine, lambda r: r.from_("http:/in").process(lambda ex: calls.append(ex.body)))
    response = requests.post(url + "/in", data=b'{"a": ', headers={"Content-Type": "application/json"},
                             timeout=TIMEOUT)
    assert response.status_code == 400
    assert response.json()["error"] == "bad request" and "malformed JSON" in response.json()["message"]
    billion_laughs = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                      b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>')
    response = requests.post(url + "/in", data=billion_laughs, headers={"Content-Type": "text/xml"},
                             timeout=TIMEOUT)
    assert response.status_code == 400 and "entit" in response.json()["message"]
    xxe = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    response = requests.post(url + "/in", data=xxe, headers={"Content-Type": "application/xml"}, timeout=TIMEOUT)
    assert response.status_code == 400 and "root:" not in response.text
    assert calls == []


# -- consumer: failures -------------------------------------------------------------------------------------
def test_an_unhandled_error_is_a_500_with_an_error_id_logged_with_the_traceback(
        engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    def fail(exchange):
        raise RuntimeError("connection string postgres://admin:s3cret@db")

    url = start(engine, lambda r: r.from_("http:/fail").route_id("failing").process(fail))
    with caplog.at_level(logging.ERROR):
        response = requests.get(url + "/fail", timeout=TIMEOUT)
    assert response.status_code == 500
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert body["error"] == "internal error" and len(body["error_id"]) >= 16
    assert "s3cret" not in response.text and "RuntimeError" not in response.text
    logged = [r for r in caplog.records if body["error_id"] in r.getMessage()]
    assert len(logged) == 1 and logged[0].levelno == logging.ERROR
    assert "failing" in logged[0].getMessage()
    assert logged[0].exc_info is not None and logged[0].exc_info[1].args[0].startswith("connection string")


def test_a_body_http_cannot_carry_or_a_bad_status_header_is_a_500(engine: Engine) -> None:
    url = start(engine, lambda r: (r.from_("http:/object").set_body(lambda ex: object()),
                                   r.from_("http:/status").set_header(c.HTTP_RESPONSE_CODE, "teapot")))
    for path in ("/object", "/status"):
        response = requests.get(url + path, timeout=TIMEOUT)
        assert response.status_code == 500 and "error_id" in response.json()


def test_validation_errors_answer_400_with_their_message(engine: Engine) -> None:
    url = start(engine, lambda r: r.from_("http:/validated").validate(header("qty").regex(r"^\d+$"))
                .set_body("accepted"))
    response = requests.get(url + "/validated?qty=x", timeout=TIMEOUT)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid request"
    assert "validation failed" in response.json()["message"]
    assert requests.get(url + "/validated?qty=3", timeout=TIMEOUT).text == "accepted"


def test_a_handled_failure_replies_with_the_body_the_handler_left(engine: Engine) -> None:
    def fail(exchange):
        raise ValueError("bad order")

    def configure(r):
        r.error_handler(dead_letter_channel("mock:dead"))
        r.on_exception(KeyError, handled=True).set_header(c.HTTP_RESPONSE_CODE, 422) \
            .set_body({"error": "unknown product"}).end()
        r.from_("http:/dlc").process(fail)
        r.from_("http:/clause").process(lambda ex: {}["missing"])

    url = start(engine, configure)
    dead = engine.get_endpoint("mock:dead")
    response = requests.post(url + "/dlc", json={"order": 1}, timeout=TIMEOUT)
    assert response.status_code == 200 and response.json() == {"order": 1}
    assert dead.received_bodies == [{"order": 1}]
    response = requests.post(url + "/clause", json={}, timeout=TIMEOUT)
    assert response.status_code == 422 and response.json() == {"error": "unknown product"}


# -- consumer: lifecycle -------------------------------------------------------------------------------------
def test_a_suspended_route_answers_503_and_a_stopped_one_404(engine: Engine) -> None:
    url = start(engine, lambda r: r.from_("http:/life").route_id("life").set_body("up"))
    assert requests.get(url + "/life", timeout=TIMEOUT).text == "up"
    engine.suspend_route("life")
    assert requests.get(url + "/life", timeout=TIMEOUT).status_code == 503
    engine.resume_route("life")
    assert requests.get(url + "/life", timeout=TIMEOUT).text == "up"
    engine.stop_route("life")
    assert requests.get(url + "/life", timeout=TIMEOUT).status_code == 404
    engine.start_route("life")
    assert requests.get(url + "/life", timeout=TIMEOUT).text == "up"


def test_two_routes_on_one_path_and_method_are_refused_when_added(engine: Engine) -> None:
    with pytest.raises(EndpointOptionError, match="already serves this path"):
        engine.add_routes(routes(lambda r: (r.from_("http:/dup?methods=POST").set_body("a"),
                                            r.from_("http:/dup/{x}?methods=GET").set_body("b"),
                                            r.from_("http:/dup/?methods=GET,POST").set_body("c"))))
    assert engine.route_ids() == []
    # other methods, or a prefix consumer below the path, are fine
    url = start(engine, lambda r: (r.from_("http:/dup?methods=POST").set_body("a"),
                                   r.from_("http:/dup?methods=GET").set_body("b"),
                                   r.from_("http:/dup?match_on_uri_prefix=true").set_body(
                                       lambda ex: ex.message.headers[c.HTTP_PATH])))
    assert requests.post(url + "/dup", timeout=TIMEOUT).text == "a"
    assert requests.get(url + "/dup", timeout=TIMEOUT).text == "b"
    assert requests.get(url + "/dup/files/a.txt", timeout=TIMEOUT).text == "/dup/files/a.txt"


def test_http_routes_serve_again_after_an_engine_restart(engine: Engine) -> None:
    url = start(engine, lambda r: r.from_("http:/again").set_body("here"))
    assert requests.get(url + "/again", timeout=TIMEOUT).text == "here"
    engine.stop()
    engine.start()
    url = http_server(engine).url  # port 0: a new free port
    assert requests.get(url + "/again", timeout=TIMEOUT).text == "here"


@pytest.mark.parametrize("uri, message", [
    ("http:/x?method=GET", "only apply to a producer"),
    ("http:/x?methods=FETCH", "unknown HTTP method"),
    ("http:/x/{id", "unbalanced"),
    ("https:/x", "plain HTTP"),
    ("http://backend/x", "cannot be consumed from"),
])
def test_consumer_uri_mistakes_are_found_when_routes_are_added(engine: Engine, uri: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        engine.add_routes(routes(lambda r: r.from_(uri).to("mock:x")))


# -- producer ---------------------------------------------------------------------------------------------------
def test_producer_calls_a_server_and_takes_its_response(engine: Engine) -> None:
    seen = []

    def backend(exchange):
        headers = exchange.message.headers
        seen.append((headers[c.HTTP_METHOD], headers.get(c.HTTP_QUERY), headers.get("X-Api-Key"), exchange.body))
        headers["X-Backend"] = "v1"
        headers[c.HTTP_RESPONSE_CODE] = 201
        exchange.body = {"created": exchange.body["name"]}

    engine.add_routes(routes(lambda r: r.from_("http:/backend/items").process(backend)))
    engine.start()
    engine.properties["backend.port"] = http_server(engine).port
    engine.add_routes(routes(lambda r: r.from_("direct:create").set_header("X-Api-Key", "k-1")
                             .to("http://127.0.0.1:{{backend.port}}/backend/items?source=eip")))
    exchange = engine.template.request("direct:create", {"name": "pen"})
    assert exchange.exception is None
    assert exchange.message.body == {"created": "pen"}
    headers = exchange.message.headers
    assert headers[c.HTTP_RESPONSE_CODE] == 201
    assert headers[c.HTTP_RESPONSE_TEXT] == "Created"
    assert headers["X-Backend"] == "v1"
    assert headers["Content-Type"] == "application/json"
    assert seen == [("POST", "source=eip", "k-1", {"name": "pen"})]


def test_method_and_query_come_from_headers_and_the_option_wins(engine: Engine) -> None:
    seen = []
    url = start(engine, lambda r: r.from_("http:/echo").process(
        lambda ex: seen.append((ex.message.headers[c.HTTP_METHOD], ex.message.headers.get(c.HTTP_QUERY),
                                ex.body))).set_body("done"))
    template = engine.template
    assert template.request_body(url + "/echo", None) == "done"  # no body: GET
    template.request_body(url + "/echo", "text")  # a body: POST
    template.request_body(url + "/echo", "patch", headers={c.HTTP_METHOD: "patch", c.HTTP_QUERY: "a=1&b=2"})
    template.request_body(url + "/echo?method=PUT", "put", headers={c.HTTP_METHOD: "DELETE"})
    template.request_body(url + "/echo?q=x%26y", None, headers={c.HTTP_METHOD: "GET"})
    template.request_body(url + "/echo", "ignored", headers={c.HTTP_METHOD: "GET"})  # GET sends no body
    assert seen == [("GET", None, None), ("POST", None, "text"), ("PATCH", "a=1&b=2", "patch"),
                    ("PUT", None, "put"), ("GET", "q=x%26y", None), ("GET", None, None)]
    with pytest.raises(EndpointError, match="not an HTTP method"):
        template.request_body(url + "/echo", "x", headers={c.HTTP_METHOD: "FETCH"})


def test_xml_and_bytes_bodies_round_trip_through_the_producer(engine: Engine) -> None:
    url = start(engine, lambda r: (
        r.from_("http:/xml-echo").set_body(lambda ex: ex.body),
        r.from_("http:/bytes-echo").set_body(lambda ex: ex.body),
    ))
    element = etree.fromstring(b"<quote><price>9.50</price></quote>")
    reply = engine.template.request_body(url + "/xml-echo", element)
    assert isinstance(reply, etree._Element) and reply.findtext("price") == "9.50"
    assert engine.template.request_body(url + "/bytes-echo", b"\x00\xff") == b"\x00\xff"


def test_inbound_request_headers_are_not_relayed_unless_asked(engine: Engine) -> None:
    seen = []

    def configure(r):
        r.from_("http:/backend").process(lambda ex: seen.append(
            {name: ex.message.headers.get(name) for name in ("Authorization", "Cookie", "id", "X-Added", "X-Tenant",
                                                             "X-Other")})).set_body("ok")
        r.from_("http:/front/{id}").set_header("X-Added", "yes").to("http://127.0.0.1:{{port}}/backend")
        r.from_("http:/bridge/{id}").to("http://127.0.0.1:{{port}}/backend?forward_request_headers=true")
        r.from_("http:/named/{id}").to("http://127.0.0.1:{{port}}/backend?forward_headers=X-Tenant")

    engine.start()
    server = http_server(engine)
    engine.properties["port"] = server.port
    engine.add_routes(routes(configure))
    sent = {"Authorization": "Bearer user-token", "Cookie": "session=abc", "X-Tenant": "acme", "X-Other": "o"}
    for path in ("/front/5", "/bridge/6", "/named/7"):
        assert requests.get(server.url + path, headers=sent, timeout=TIMEOUT).text == "ok"
    none = dict.fromkeys(("Authorization", "Cookie", "id", "X-Added", "X-Tenant", "X-Other"))
    assert seen == [
        {**none, "X-Added": "yes"},  # the route's own header only
        {**none, "id": "6", "X-Tenant": "acme", "X-Other": "o"},  # a bridge relays all but credentials
        {**none, "X-Tenant": "acme"},  # forward_headers: the named ones
    ]


def test_forward_headers_refuses_credentials(engine: Engine) -> None:
    with pytest.raises(ConfigurationError, match="forward_headers cannot name Authorization"):
        engine.add_routes(routes(lambda r: r.from_("direct:a").to(
            "http://127.0.0.1:9/x?forward_headers=X-Tenant,Authorization")))


def test_a_non_2xx_answer_raises_with_status_body_and_headers(engine: Engine) -> None:
    url = start(engine, lambda r: r.from_("http:/missing").set_header(c.HTTP_RESPONSE_CODE, 404)
                .set_header("X-Reason", "gone").set_body({"error": "no such order"}))
    with pytest.raises(HttpOperationFailedError) as caught:
        engine.template.request_body(url + "/missing", None)
    error = caught.value
    assert (error.status_code, error.reason) == (404, "Not Found")
    assert error.response_body == '{"error": "no such order"}'
    assert error.response_headers["X-Reason"] == "gone"
    assert "404" in str(error) and "no such order" not in str(error)
    assert isinstance(error, EndpointError)
    # throw_exception_on_failure=false: the response is the result
    exchange = engine.template.request(url + "/missing?throw_exception_on_failure=false", None)
    assert exchange.exception is None
    assert exchange.message.body == {"error": "no such order"}
    assert exchange.message.headers[c.HTTP_RESPONSE_CODE] == 404
    # a wider ok range
    assert engine.template.request_body(url + "/missing?ok_status_code_range=200-299,404", None) == \
        {"error": "no such order"}


def test_redirects_fail_unless_followed(engine: Engine) -> None:
    url = start(engine, lambda r: (
        r.from_("http:/old").set_header(c.HTTP_RESPONSE_CODE, 302).set_header("Location", "/new").set_body(""),
        r.from_("http:/new").set_body("moved here"),
    ))
    with pytest.raises(HttpOperationFailedError) as caught:
        engine.template.request_body(url + "/old", None)
    assert caught.value.status_code == 302 and caught.value.redirect_location == "/new"
    assert engine.template.request_body(url + "/old?follow_redirects=true", None) == "moved here"


def test_non_2xx_goes_to_the_dead_letter_channel_after_redeliveries(engine: Engine) -> None:
    attempts = []

    def backend(exchange):
        attempts.append(exchange.body)
        exchange.message.headers[c.HTTP_RESPONSE_CODE] = 503
        exchange.body = "overloaded"

    def configure(r):
        r.from_("http:/flaky").process(backend)
        r.from_("direct:send").error_handler(dead_letter_channel("mock:dead", maximum_redeliveries=2,
                                                                 redelivery_delay=0)) \
            .to("http://127.0.0.1:{{port}}/flaky")

    engine.start()
    engine.properties["port"] = http_server(engine).port
    engine.add_routes(routes(configure))
    dead = engine.get_endpoint("mock:dead")
    engine.template.send_body("direct:send", {"n": 1})
    assert attempts == [{"n": 1}] * 3  # the first try and two redeliveries
    assert dead.received_bodies == [{"n": 1}]
    caught = dead.received_exchanges[0].properties[c.EXCEPTION_CAUGHT]
    assert isinstance(caught, HttpOperationFailedError) and caught.status_code == 503
    assert caught.response_body == "overloaded"
    assert dead.received_exchanges[0].message.headers[c.REDELIVERY_COUNTER] == 2


def test_a_redelivery_succeeds_once_the_server_recovers(engine: Engine) -> None:
    calls = []

    def backend(exchange):
        calls.append(1)
        if len(calls) < 3:
            exchange.message.headers[c.HTTP_RESPONSE_CODE] = 500
        exchange.body = {"try": len(calls)}

    def configure(r):
        r.from_("http:/recovering").process(backend)
        r.from_("direct:call").error_handler(dead_letter_channel("mock:dead", maximum_redeliveries=5,
                                                                 redelivery_delay=0)) \
            .to("http://127.0.0.1:{{port}}/recovering").to("mock:out")

    engine.start()
    engine.properties["port"] = http_server(engine).port
    engine.add_routes(routes(configure))
    engine.template.send_body("direct:call", "x")
    assert engine.get_endpoint("mock:out").received_bodies == [{"try": 3}]
    assert engine.get_endpoint("mock:dead").received_bodies == []


def test_an_unreachable_server_raises_endpoint_not_connected(engine: Engine) -> None:
    engine.start()
    port = closed_port()
    with pytest.raises(EndpointNotConnectedError) as caught:
        engine.template.request_body(f"http://127.0.0.1:{port}/x?connect_timeout=2s", "x")
    assert "refused" in str(caught.value).lower()


def test_a_slow_server_raises_exchange_timed_out_after_read_timeout(engine: Engine) -> None:
    release = threading.Event()
    url = start(engine, lambda r: r.from_("http:/slow").process(lambda ex: release.wait(TIMEOUT)).set_body("late"))
    try:
        with pytest.raises(ExchangeTimedOutError, match="no response within 0.2s"):
            engine.template.request_body(url + "/slow?read_timeout=200ms", None)
    finally:
        release.set()


def test_basic_auth_from_the_uri_is_sent_and_masked(engine: Engine) -> None:
    seen = []
    url = start(engine, lambda r: r.from_("http:/secure").process(
        lambda ex: seen.append(ex.message.headers.get("Authorization"))).set_body("in"))
    port = http_server(engine).port
    uri = f"http://svc:s3cret@127.0.0.1:{port}/secure"
    assert engine.template.request_body(uri, None) == "in"
    endpoint = engine.get_endpoint(uri)
    assert "s3cret" not in endpoint.uri and "xxxxxx" in endpoint.uri
    assert engine.template.request_body(url + "/secure?username=svc&password=pw2", None) == "in"
    assert "pw2" not in engine.get_endpoint(url + "/secure?username=svc&password=pw2").uri
    import base64
    assert seen == ["Basic " + base64.b64encode(b"svc:s3cret").decode(),
                    "Basic " + base64.b64encode(b"svc:pw2").decode()]


def test_cookies_from_one_response_never_ride_along_with_the_next_request(engine: Engine) -> None:
    seen = []
    url = start(engine, lambda r: r.from_("http:/cookie").process(
        lambda ex: seen.append(ex.message.headers.get("Cookie"))).set_header("Set-Cookie", "session=abc")
        .set_body("x"))
    engine.template.request_body(url + "/cookie", None)
    engine.template.request_body(url + "/cookie", None)
    assert seen == [None, None]


def test_producer_uri_options_and_query_parameters(engine: Engine) -> None:
    endpoint = engine.get_endpoint("https://api.example.com/v1/search?q=x&page=2&read_timeout=5s")
    assert endpoint.url == "https://api.example.com/v1/search"
    assert endpoint.query == "q=x&page=2"
    assert endpoint.values["read_timeout"] == 5.0
    with pytest.raises(EndpointOptionError, match="read_timeout"):
        engine.get_endpoint("http://api/x?read_timout=5s")  # a typo is not a query parameter
    with pytest.raises(EndpointOptionError, match="throw_exception_on_failure"):
        engine.get_endpoint("http://api/x?throwExceptionOnFailure=false")
    with pytest.raises(EndpointOptionError, match="read_timeout"):
        engine.get_endpoint("http://api/x?timeout=5")
    with pytest.raises(EndpointOptionError, match="only apply to a consumer"):
        engine.get_endpoint("http://api/x?methods=GET")
    with pytest.raises(EndpointOptionError, match="method"):
        engine.get_endpoint("http://api/x?method=FETCH")
    with pytest.raises(EndpointOptionError, match="ok_status_code_range"):
        engine.get_endpoint("http://api/x?ok_status_code_range=2xx")
    # different options, different endpoints (never merged into a conflict)
    assert engine.get_endpoint("http://api/x?method=GET") is not engine.get_endpoint("http://api/x?method=POST")


def test_the_http_component_documents_its_options() -> None:
    from components.http import HttpComponent

    text = HttpComponent.documentation()
    for name in ("methods", "read_timeout", "throw_exception_on_failure", "forward_request_headers"):
        assert name in text


# -- REST DSL ---------------------------------------------------------------------------------------------
class OrderApi(RouteBuilder):
    def configure(self) -> None:
        (self.rest("/api/orders")
            .get("/{id}").route_id("get-order").to("direct:get-order")
            .post().to("direct:new-order")
            .delete("/{id}").route().set_header(c.HTTP_RESPONSE_CODE, 204).set_body(None))
        self.from_("direct:get-order").choice() \
            .when(header("id") == "404").set_header(c.HTTP_RESPONSE_CODE, 404).set_body({"error": "not found"}) \
            .otherwise().set_body(lambda ex: {"id": ex.message.headers["id"], "status": "open"}).end()
        self.from_("direct:new-order").set_header(c.HTTP_RESPONSE_CODE, 201) \
            .set_header("Location", lambda ex: f"/api/orders/{ex.body['id']}").set_body(lambda ex: ex.body)


def test_rest_dsl_serves_verbs_with_path_parameters(engine: Engine) -> None:
    engine.add_routes(OrderApi())
    assert "get-order" in engine.route_ids()
    assert engine.route_definition("get-order").input.uri == "http:/api/orders/{id}?methods=GET"
    engine.start()
    url = http_server(engine).url
    assert requests.get(url + "/api/orders/17", timeout=TIMEOUT).json() == {"id": "17", "status": "open"}
    missing = requests.get(url + "/api/orders/404", timeout=TIMEOUT)
    assert missing.status_code == 404 and missing.json() == {"error": "not found"}
    created = requests.post(url + "/api/orders", json={"id": 8, "item": "pen"}, timeout=TIMEOUT)
    assert created.status_code == 201 and created.headers["Location"] == "/api/orders/8"
    assert created.json() == {"id": 8, "item": "pen"}
    assert requests.delete(url + "/api/orders/8", timeout=TIMEOUT).status_code == 204
    wrong = requests.put(url + "/api/orders/8", timeout=TIMEOUT)
    assert wrong.status_code == 405 and "DELETE" in wrong.headers["Allow"] and "GET" in wrong.headers["Allow"]


def test_rest_dsl_mistakes_are_reported_where_they_are_made() -> None:
    with pytest.raises(RouteDefinitionError, match="nothing to call"):
        Engine().add_routes(routes(lambda r: r.rest("/a").get("/{id}")))
    with pytest.raises(RouteDefinitionError, match="needs a verb first"):
        routes(lambda r: r.rest("/a").to("direct:x")).build()
    with pytest.raises(RouteDefinitionError, match="must start with '/'"):
        routes(lambda r: r.rest("a")).build()
    with pytest.raises(EndpointOptionError, match="has no|unknown option"):
        Engine().add_routes(routes(lambda r: r.rest("/a").get(colour="red").to("mock:x")))


# -- graceful stop ------------------------------------------------------------------------------------------
def test_engine_stop_lets_a_request_in_flight_finish_and_answers_503_meanwhile(engine: Engine) -> None:
    entered, release = threading.Event(), threading.Event()

    def slow(exchange):
        entered.set()
        release.wait(TIMEOUT)

    url = start(engine, lambda r: (r.from_("http:/slow").process(slow).set_body("finished"),
                                   r.from_("http:/other").set_body("other")))
    results: list[requests.Response] = []
    client = threading.Thread(target=lambda: results.append(requests.get(url + "/slow", timeout=TIMEOUT)))
    client.start()
    assert entered.wait(TIMEOUT)
    stopper = threading.Thread(target=engine.stop)
    stopper.start()
    # the routes' consumers stop first: new requests are turned away
    eventually(lambda: engine.state == "stopping" and requests.get(url + "/other", timeout=TIMEOUT).status_code == 503,
               what="a new request turned away with 503 while stopping")
    assert requests.get(url + "/other", timeout=TIMEOUT).status_code == 503
    release.set()
    client.join(TIMEOUT)
    stopper.join(TIMEOUT)
    assert results[0].status_code == 200 and results[0].text == "finished"
    assert engine.state == "stopped"


# -- body mapping rules ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("body, content_type, expected_data, expected_type", [
    ({"a": 1}, None, b'{"a": 1}', "application/json"),
    ([1, 2], "application/problem+json", b"[1, 2]", "application/problem+json"),
    ({"a": 1}, "text/plain", b'{"a": 1}', "application/json"),
    ({"q": "a b", "n": [1, 2]}, "application/x-www-form-urlencoded", b"q=a+b&n=1&n=2",
     "application/x-www-form-urlencoded"),
    ("héllo", None, "héllo".encode(), "text/plain; charset=utf-8"),
    ("héllo", "text/csv; charset=latin-1", "héllo".encode("latin-1"), "text/csv; charset=latin-1"),
    (b"\x01", None, b"\x01", "application/octet-stream"),
    (b"\x01", "image/png", b"\x01", "image/png"),
    (None, None, None, None),
])
def test_encode_body(body, content_type, expected_data, expected_type) -> None:
    from components.http import encode_body

    assert encode_body(body, content_type) == (expected_data, expected_type)


def test_encode_body_keeps_decimals_exact_and_refuses_objects() -> None:
    from decimal import Decimal

    from components.http import encode_body

    assert encode_body({"price": Decimal("9.50")}, None)[0] == b'{"price": 9.50}'
    with pytest.raises(TypeError, match="cannot be sent"):
        encode_body(object(), None)


@pytest.mark.parametrize("data, content_type, expected", [
    (b"", "application/json", None),
    (b'{"a": [1]}', "application/json; charset=utf-8", {"a": [1]}),
    (b'{"a": 1}', "application/vnd.acme+json", {"a": 1}),
    (b"plain", "text/plain", "plain"),
    (b"\x00", None, b"\x00"),
    (b"\x00", "application/pdf", b"\x00"),
])
def test_decode_body(data, content_type, expected) -> None:
    from components.http import decode_body

    assert decode_body(data, content_type) == expected

"""Which names are secret and how they are masked (``eip/secrets.py``), checked where text leaves
a real engine: ``eip run``'s start-up lines, the management API, ``eip routes``/``eip graph``,
exceptions and log records."""

from __future__ import annotations

import logging
import socket
import textwrap

import pytest
from click.testing import CliRunner
from werkzeug.test import Client

from eip import Engine, RouteBuilder, cli
from eip.component import Component, Endpoint, Producer
from eip.datasources import DataSource
from eip.errors import EndpointNotConnectedError
from eip.management import create_app
from eip.options import Option, OptionSpec
from eip.secrets import MASK, is_secret_name, mask_mapping, mask_text, mask_uri

#: Every name the issue found shown in clear.
ISSUE_NAMES = ["api-key", "apikey", "key", "sig", "signature", "code", "pass", "pwd", "auth", "token",
               "signing_key"]
SECRET = "S3cretValue-9f8e7d6c"
AT_PASSWORD = "p@ss@w0rd-tail"  # unencoded "@"s: only the last one ends the user info
VIEWER_KEY = "viewer-key-for-secrets-test-0123"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def leaky_routes(name: str, port: int) -> str:
    return textwrap.dedent(f"""
        from eip import RouteBuilder

        class Leaky(RouteBuilder):
            def configure(self):
                (self.from_("direct:in").route_id("leaky")
                    .to("http://127.0.0.1:{port}/api?{name}={SECRET}&routing_key=visible-rk")
                    .to("http://app:{AT_PASSWORD}@127.0.0.1:{port}/basic"))
    """)


def assert_masked(text: str) -> None:
    assert SECRET not in text
    assert "w0rd-tail" not in text and "ss@" not in text  # no part of the "@" password
    assert MASK in text


# -- the rule ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ISSUE_NAMES + [
    "password", "passwd", "secret", "client_secret", "X-API-Key", "apiKey", "APIKey", "sas_key",
    "access_token", "X-Auth-Token", "Authorization", "Set-Cookie", "private_key", "api_keys", "SIGNING-KEY",
    "sslpassword", "wsse_password", "basic_auth", "credentials"])
def test_secret_names(name):
    assert is_secret_name(name)


@pytest.mark.parametrize("name", [
    "routing_key", "routingKey", "dead_letter_routing_key", "partition_key", "key_deserializer",
    "keep_alive", "monkey", "tokenize", "token_url", "passive", "status_code", "ok_status_code_range",
    "reply_code", "access_key_id", "auth_method", "sort_keys", "user", "username", "url", "queue",
    "Content-Type", "next_page_token"])
def test_names_that_are_not_secret(name):
    assert not is_secret_name(name)


@pytest.mark.parametrize("name", ISSUE_NAMES)
def test_uri_options_of_every_issue_name_are_masked_and_routing_key_is_not(name):
    masked = mask_uri(f"http://h/x?{name}={SECRET}&routing_key=rk&q=1")
    assert masked == f"http://h/x?{name}={MASK}&routing_key=rk&q=1"
    assert mask_text(f"calling http://h/x?{name}={SECRET} failed") == f"calling http://h/x?{name}={MASK} failed"


@pytest.mark.parametrize(("text", "shown"), [
    (f"amqp://user:{AT_PASSWORD}@rabbit:5672/vh", f"amqp://user:{MASK}@rabbit:5672/vh"),
    (f"amqp://user:{AT_PASSWORD}@rabbit", f"amqp://user:{MASK}@rabbit"),
    (f"postgresql+psycopg://app:{AT_PASSWORD}@db/orders?x=1", f"postgresql+psycopg://app:{MASK}@db/orders?x=1"),
    ("amqp://a@corp.example:pw@host/", f"amqp://a@corp.example:{MASK}@host/"),
    ("https://ghp_tokenAsUser@github.com/x", f"https://{MASK}@github.com/x"),
    ("see http://h/users/@me and admin@example.org", "see http://h/users/@me and admin@example.org"),
])
def test_url_user_info_is_masked_up_to_the_last_at_before_the_host(text, shown):
    assert mask_uri(text) == shown
    assert mask_text(f"connect to {text} failed") == f"connect to {shown} failed"


def test_header_and_option_mappings_mask_secret_names_only():
    headers = {"Authorization": "Bearer abc", "X-API-Key": "k1", "Cookie": "s=1", "routing_key": "rk",
               "Content-Type": "text/plain", "nested": {"password": "pw", "url": f"amqp://u:{AT_PASSWORD}@h/"}}
    assert mask_mapping(headers) == {
        "Authorization": MASK, "X-API-Key": MASK, "Cookie": MASK, "routing_key": "rk",
        "Content-Type": "text/plain", "nested": {"password": MASK, "url": f"amqp://u:{MASK}@h/"}}


def test_a_datasource_password_with_at_signs_is_masked_whole(caplog):
    source = DataSource("orders", f"sqlite:///x.db?password={SECRET}",
                        {"connect_args": {"sas_key": SECRET, "timeout": 5}})
    shown = repr(source)
    assert SECRET not in shown and "'timeout': 5" in shown
    pg = DataSource("pg", f"postgresql+psycopg://app:{AT_PASSWORD}@db.example:5432/orders")
    assert pg.masked_url == f"postgresql+psycopg://app:{MASK}@db.example:5432/orders"
    assert "w0rd" not in repr(pg)


# -- through a real engine --------------------------------------------------------------------------
class KeyringProducer(Producer):
    """Fails naming its endpoint by the URI as written, secrets and all, as a careless component might."""

    def process(self, exchange: object) -> None:
        raise EndpointNotConnectedError("the keyring is sealed", uri=self.endpoint.parsed.text)


class KeyringEndpoint(Endpoint):
    """Declares every issue name as a plain option (no ``secret=True``): only the rule can mask it."""

    options = OptionSpec(tuple(Option(name, "str", "", "an option") for name in ISSUE_NAMES + ["routing_key"]))

    def create_producer(self) -> Producer:
        return KeyringProducer(self)


class KeyringComponent(Component):
    endpoint_class = KeyringEndpoint


class Leaky(RouteBuilder):
    def __init__(self, name: str, port: int) -> None:
        super().__init__()
        self.name, self.port = name, port

    def configure(self) -> None:
        (self.from_("direct:in").route_id("leaky")
            .to(f"keyring:vault?{self.name}={SECRET}&routing_key=visible-rk")
            .to(f"http://127.0.0.1:{self.port}/api?{self.name}={SECRET}&routing_key=visible-rk")
            .to(f"http://app:{AT_PASSWORD}@127.0.0.1:{self.port}/basic"))


@pytest.mark.parametrize("name", ISSUE_NAMES)
def test_the_management_api_masks_every_issue_name(name):
    engine = Engine()
    engine.add_component("keyring", KeyringComponent)
    engine.add_routes(Leaky(name, closed_port()))
    with engine:
        app = create_app(engine, {"auth": {"api_keys": [{"key": VIEWER_KEY, "roles": ["viewer"]}]}})
        try:
            client = Client(app)
            for path in ("/api/routes/leaky", "/api/endpoints"):
                response = client.get(path, headers={"X-API-Key": VIEWER_KEY})
                assert response.status_code == 200, path
                text = response.get_data(as_text=True)
                assert_masked(text)
                assert f"keyring:vault?{name}={MASK}&routing_key=visible-rk" in text
        finally:
            app.close()


@pytest.mark.parametrize("name", ISSUE_NAMES)
def test_a_failing_send_says_where_without_the_secret(name, caplog):
    caplog.set_level(logging.INFO)
    engine = Engine()
    engine.add_component("keyring", KeyringComponent)
    engine.add_routes(Leaky(name, closed_port()))
    with engine, pytest.raises(EndpointNotConnectedError) as caught:
        engine.template.send_body("direct:in", "x")
    text = str(caught.value) + caplog.text
    assert SECRET not in text
    assert f"keyring:vault?{name}={MASK}&routing_key=visible-rk: the keyring is sealed" in str(caught.value)
    assert caught.value.uri == f"keyring:vault?{name}={MASK}&routing_key=visible-rk"
    assert "the keyring is sealed" in caplog.text


@pytest.mark.parametrize("name", ISSUE_NAMES)
def test_eip_run_start_up_lines_and_eip_routes_and_graph_mask_every_issue_name(name, tmp_path, monkeypatch):
    monkeypatch.setenv("EIP_SERVER_PORT", "0")
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    routes = tmp_path / "leaky.py"
    routes.write_text(leaky_routes(name, closed_port()))
    runner = CliRunner()
    try:
        run = runner.invoke(cli.main, ["run", str(routes), "--duration", "0", "--log-format", "logfmt"],
                            catch_exceptions=False)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    assert run.exit_code == 0, run.output
    started = next(line for line in run.output.splitlines() if "route 'leaky' started" in line)
    assert_masked(started)
    assert f"{name}={MASK}" in started and "routing_key=visible-rk" in started
    assert f"app:{MASK}@127.0.0.1" in started
    for command in (["routes", str(routes)], ["graph", str(routes), "--format", "mermaid"]):
        result = runner.invoke(cli.main, command, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert_masked(result.output)
        assert "routing_key=visible-rk" in result.output


def test_the_amqp_routing_key_stays_visible_and_the_broker_url_is_masked(rabbitmq_service):
    url = f"amqp://guest:guest@{rabbitmq_service.host}:{rabbitmq_service.port}/%2F"

    class Bridge(RouteBuilder):
        def configure(self) -> None:
            (self.from_("direct:in").route_id("bridge")
                .to(f"amqp:exchange:amq.topic?routing_key=orders.created&url={url}"))

    with Engine(routes=[Bridge()]) as engine:
        app = create_app(engine, {"auth": {"api_keys": [{"key": VIEWER_KEY, "roles": ["viewer"]}]}})
        try:
            client = Client(app)
            for path in ("/api/routes/bridge", "/api/endpoints"):
                text = Client(app).get(path, headers={"X-API-Key": VIEWER_KEY}).get_data(as_text=True)
                assert "routing_key=orders.created" in text and f"url={MASK}" in text
                assert "guest:guest" not in text
            assert client.get("/api/endpoints").status_code == 401
        finally:
            app.close()


def test_log_steps_mask_secret_headers(caplog):
    class Shout(RouteBuilder):
        def configure(self) -> None:
            self.from_("direct:in").to("log:audit?show_headers=true")

    caplog.set_level(logging.INFO, logger="audit")
    with Engine(routes=[Shout()]) as engine:
        engine.template.send_body("direct:in", "x", headers={"X-API-Key": SECRET, "routing_key": "rk"})
    assert SECRET not in caplog.text
    assert f"'X-API-Key': '{MASK}'" in caplog.text and "'routing_key': 'rk'" in caplog.text


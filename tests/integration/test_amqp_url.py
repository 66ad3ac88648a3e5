"""amqp: ``url=`` inside an endpoint URI is decoded once (by pika), so a vhost's ``%2F`` stays a ``/``."""

from __future__ import annotations

import subprocess
import uuid
from typing import Any
from urllib.parse import quote

import pika
import pytest

from eip import Engine, RouteBuilder

BROKER = "guest:guest@127.0.0.1:5672"


def vhost_of(engine: Engine, uri: str) -> str:
    return pika.URLParameters(engine.get_endpoint(uri).broker_url).virtual_host


@pytest.mark.parametrize("written, vhost", [
    ("%2F", "/"),  # the default vhost, as RabbitMQ's docs write it
    ("shop%2Fprod", "shop/prod"),
    ("50%25off", "50%off"),
    ("a%252Fb", "a%2Fb"),  # a vhost whose name holds the text %2F
    ("plain", "plain"),
])
def test_the_vhost_is_decoded_once(engine: Engine, written: str, vhost: str) -> None:
    assert vhost_of(engine, f"amqp:queue:q?url=amqp://{BROKER}/{written}") == vhost


def test_the_same_endpoint_named_again_with_the_url_keeps_it_raw(engine: Engine) -> None:
    engine.get_endpoint("amqp:queue:q2")
    assert vhost_of(engine, f"amqp:queue:q2?url=amqp://{BROKER}/shop%2Fprod") == "shop/prod"


def test_an_escaped_ampersand_in_the_password_still_works(engine: Engine) -> None:
    # %26 is how an endpoint URI writes '&' inside an option; in a broker URL it is the same '&'
    params = pika.URLParameters(engine.get_endpoint("amqp:queue:q3?url=amqp://app:p%26w@127.0.0.1:5672/%2F")
                                .broker_url)
    assert (params.credentials.password, params.virtual_host) == ("p&w", "/")


def _ctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=60, check=True)


@pytest.fixture
def odd_vhost(rabbitmq_service: Any, require_tool: Any) -> Any:
    """A vhost named with a '/' and a '%' in it, open to guest; deleted afterwards."""
    require_tool("rabbitmqctl")
    name = f"eip/test%{uuid.uuid4().hex[:8]}"
    _ctl("add_vhost", name)
    try:
        _ctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
        yield name
    finally:
        _ctl("delete_vhost", name)


def test_a_route_reaches_a_vhost_with_slash_and_percent_in_its_name(engine: Engine, odd_vhost: str) -> None:
    url = f"amqp://{BROKER}/{quote(odd_vhost, safe='')}"  # written as any AMQP URL, inside the endpoint URI

    class Routes(RouteBuilder):
        def configure(self) -> None:
            self.from_("direct:in").to(f"amqp:queue:vh-test?declare=true&url={url}")
            self.from_(f"amqp:queue:vh-test?declare=true&url={url}").to("mock:out")

    engine.add_routes(Routes())
    engine.start()
    engine.template.send_body("direct:in", "hello vhost")
    out = engine.get_endpoint("mock:out")
    out.expected_bodies_received("hello vhost")
    out.assert_is_satisfied(timeout=10)
    engine.stop()

    listed = subprocess.run(["rabbitmqctl", "-q", "list_queues", "-p", odd_vhost, "name"],
                            capture_output=True, text=True, timeout=60, check=True).stdout
    assert "vh-test" in listed.split()  # declared in that vhost, not in '' or 'eip'

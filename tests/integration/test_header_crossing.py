"""Headers of an inbound HTTP request do not cross into a broker: a real http consumer on the
engine's server publishing to the real RabbitMQ, and putting to MQ over the MQI stand-in, called
as an attacker would (credentials, Host, query parameters named after control headers)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from eip import ConfigurationError, Engine
from eip.exchange import ExchangePattern
from eip.http_server import http_server
from legacy.mq import unwrap

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from amqp_support import Broker
from ibmmq_standin import World, standin_world

pytestmark = pytest.mark.eip(properties={"server.port": 0})
TIMEOUT = 5
IN_ONLY = ExchangePattern.IN_ONLY

#: What an attacker sends along with an ordinary request.
ATTACK_HEADERS = {
    "Authorization": "Bearer caller-secret-token",
    "Cookie": "session=caller-session",
    "X-API-Key": "caller-api-key",
    "X-Auth-Token": "caller-auth-token",
    "X-Correlation-Id": "corr-42",
    "X-Tenant": "acme",
    "X-Other": "not forwarded",
}
#: Query parameters named after AMQP and MQ control headers.
ATTACK_QUERY = {
    "JMS_IBM_MQMD_Priority": "9", "JMS_IBM_MQMD_ReplyToQ": "EVIL.Q", "JMS_IBM_MQMD_Persistence": "0",
    "JMS_IBM_MQMD_Format": "EVIL", "CamelRabbitmqPriority": "9", "CC": "other.queue", "x-delay": "60000",
}
SECRETS = ("caller-secret-token", "caller-session", "caller-api-key", "caller-auth-token")


def post(engine: Engine, path: str) -> requests.Response:
    response = requests.post(http_server(engine).url + path, params=ATTACK_QUERY, headers=ATTACK_HEADERS,
                             json={"order": 7}, timeout=TIMEOUT)
    assert response.status_code in (200, 204), response.text
    return response


# -- amqp, against the real broker ------------------------------------------------------------------------
@pytest.fixture
def amqp_engine(engine: Engine, rabbitmq_service: Any, broker: Broker) -> Iterator[Engine]:
    engine.properties["amqp.url"] = rabbitmq_service.url
    yield engine
    engine.stop()


def test_http_to_amqp_publishes_no_request_header_but_the_named_and_the_routes_own(amqp_engine: Engine,
                                                                                  broker: Broker) -> None:
    default, named = broker.queue("default"), broker.queue("named")
    amqp_engine.add_routes(lambda b: (
        b.from_("http:/plain?methods=POST").set_header("X-Route", "set-by-route")
         .to(f"amqp:queue:{default}", pattern=IN_ONLY),
        b.from_("http:/named?methods=POST").set_header("X-Route", "set-by-route")
         .to(f"amqp:queue:{named}?forward_headers=X-Correlation-Id,X-Tenant", pattern=IN_ONLY)))
    amqp_engine.start()
    post(amqp_engine, "/plain")
    post(amqp_engine, "/named")

    _, plain_props, plain_body = broker.get(default)
    _, named_props, _ = broker.get(named)
    assert plain_body == b'{"order": 7}'
    assert plain_props.headers == {"X-Route": "set-by-route"}
    assert named_props.headers == {"X-Route": "set-by-route", "X-Correlation-Id": "corr-42", "X-Tenant": "acme"}
    for props in (plain_props, named_props):
        assert props.priority is None and props.correlation_id is None and props.reply_to is None
        assert not any(secret in repr(props) for secret in SECRETS)
    assert broker.count(default) == 0 and broker.count(named) == 0  # and CC copied it nowhere else


def test_amqp_forward_headers_refuses_credentials_and_control_headers(engine: Engine) -> None:
    for name in ("Authorization", "Cookie", "X-Api-Key", "CC", "CamelRabbitmqPriority"):
        with pytest.raises(ConfigurationError, match=f"forward_headers cannot name {name}"):
            engine.add_routes(lambda b, name=name: b.from_("direct:in").to(f"amqp:queue:q?forward_headers={name}"))


# -- ibmmq, over the MQI stand-in ----------------------------------------------------------------------------
@pytest.fixture
def world() -> Iterator[World]:
    with standin_world() as world:
        qm = world.add_queue_manager("QM1", users={"app": "pw-12345"}, dead_letter_queue="")
        qm.define_queue("OUT")
        qm.define_queue("NAMED")
        yield world


def mq(queue: str, extra: str = "") -> str:
    return (f"ibmmq:{queue}?queue_manager=QM1&channel=DEV.APP.SVRCONN&conn_name=127.0.0.1(1414)&user=app"
            f"&password=pw-12345{extra}")


def properties_of(message: Any) -> dict[str, Any]:
    if message.field("Format") != "MQHRF2":
        return {}
    return dict(unwrap(message.data, "MQHRF2", message.md["Encoding"], message.md["CodedCharSetId"]).properties)


def test_http_to_ibmmq_lets_no_query_parameter_set_the_mqmd_nor_headers_become_properties(engine: Engine,
                                                                                          world: World) -> None:
    engine.add_routes(lambda b: (
        b.from_("http:/mq?methods=POST").to(mq("OUT"), pattern=IN_ONLY),
        b.from_("http:/mq-named?methods=POST").set_header("X-Route", "set-by-route")
         .to(mq("NAMED", "&forward_headers=X-Tenant"), pattern=IN_ONLY)))
    engine.start()
    post(engine, "/mq")
    post(engine, "/mq-named")

    (plain,) = world.qmgr("QM1").queue("OUT").committed()
    (named,) = world.qmgr("QM1").queue("NAMED").committed()
    for message in (plain, named):
        assert message.md["Priority"] != 9
        assert message.md["Persistence"] == 1  # the endpoint's default, not the query's 0
        assert message.field("ReplyToQ") == ""
    assert plain.field("Format") == "MQSTR" and plain.data == b'{"order": 7}'  # no RFH2: nothing to carry
    assert properties_of(named) == {"X-Route": "set-by-route", "X-Tenant": "acme"}
    assert not any(secret.encode() in message.data for message in (plain, named) for secret in SECRETS)


def test_ibmmq_forward_headers_refuses_mqmd_fields(engine: Engine) -> None:
    with pytest.raises(ConfigurationError, match="forward_headers cannot name JMS_IBM_MQMD_Priority"):
        engine.add_routes(lambda b: b.from_("direct:in").to(mq("OUT", "&forward_headers=JMS_IBM_MQMD_Priority")))

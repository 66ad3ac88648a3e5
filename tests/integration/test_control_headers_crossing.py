"""Headers received over one broker protocol never act as another's control headers: an AMQP
publisher (the real RabbitMQ) cannot set the MQMD of the put a route makes from its message
(MQI stand-in), and an MQ application's RFH2 properties cannot add ``CC`` queues or set the AMQP
properties of the publish a route makes from its message. A same-protocol bridge keeps them, and
what the route sets goes through."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eip import Engine
from eip.exchange import ExchangePattern
from legacy.mq import ENCODING_NATIVE, STRING, Rfh2, unwrap

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from amqp_support import Broker
from ibmmq_standin import World, put_message, standin_world

from eip.testing import eventually

TIMEOUT = 5
IN_ONLY = ExchangePattern.IN_ONLY
MQRO_COA = 0x100  # a confirm-on-arrival report to the ReplyToQ
MQMT_REQUEST = 1

#: What an AMQP publisher puts in its headers table to steer an MQ put.
MQMD_ATTACK = {
    "JMS_IBM_MQMD_Priority": 9, "JMS_IBM_MQMD_ReplyToQ": "EVIL.Q", "JMS_IBM_MQMD_ReplyToQMgr": "EVIL.QM",
    "JMS_IBM_MQMD_UserIdentifier": "mqm", "JMS_IBM_MQMD_PutApplName": "forged", "JMS_IBM_MQMD_Persistence": 0,
    "JMS_IBM_MQMD_Expiry": 1, "JMS_IBM_MQMD_Report": MQRO_COA, "JMS_IBM_MQMD_MsgType": MQMT_REQUEST,
    "JMS_IBM_MQMD_Format": "EVIL", "JMS_IBM_MQMD_CorrelId": "forged-correl", "JMS_IBM_Character_Set": "37",
}
#: The MQMD fields an attacker wanted; the producer alone decides them.
MQMD_FIELDS = ("Priority", "ReplyToQ", "ReplyToQMgr", "UserIdentifier", "PutApplName", "Persistence", "Expiry",
               "Report", "MsgType", "Format", "CorrelId")


# -- services ---------------------------------------------------------------------------------------------
@pytest.fixture
def world() -> Iterator[World]:
    with standin_world() as world:
        qm = world.add_queue_manager("QM1", users={"app": "pw-12345"}, dead_letter_queue="")
        for name in ("IN", "OUT", "BASELINE"):
            qm.define_queue(name)
        yield world


@pytest.fixture
def bridge(engine: Engine, rabbitmq_service: Any, world: World, broker: Broker) -> Iterator[Engine]:
    engine.properties["amqp.url"] = rabbitmq_service.url
    yield engine
    engine.stop()


def mq(queue: str, extra: str = "") -> str:
    return (f"ibmmq:{queue}?queue_manager=QM1&channel=DEV.APP.SVRCONN&conn_name=127.0.0.1(1414)&user=app"
            f"&password=pw-12345&wait_interval=50ms&reconnect_delay=50ms{extra}")


def committed(world: World, queue: str, count: int = 1) -> list[Any]:
    eventually(lambda: len(world.qmgr("QM1").queue(queue).committed()) >= count, TIMEOUT, f"{count} on {queue}")
    return world.qmgr("QM1").queue(queue).committed()


def usr_properties(message: Any) -> dict[str, Any]:
    if message.field("Format") != "MQHRF2":
        return {}
    return dict(unwrap(message.data, "MQHRF2", message.md["Encoding"], message.md["CodedCharSetId"]).properties)


def put_with_properties(queue: str, body: str, properties: dict[str, Any], **md: Any) -> None:
    """Put ``body`` behind an RFH2 whose ``<usr>`` folder holds ``properties``, as a JMS application would."""
    header = Rfh2({"mcd": {"Msd": "jms_text"}, "usr": properties}, format=STRING, encoding=ENCODING_NATIVE,
                  ccsid=1208)
    put_message(queue, header.pack(ENCODING_NATIVE) + body.encode(), Format=b"MQHRF2  ", CodedCharSetId=1208,
                Encoding=ENCODING_NATIVE, **md)


# -- AMQP publisher -> MQ put ---------------------------------------------------------------------------------
def test_an_amqp_publisher_cannot_set_the_mqmd_of_the_put(bridge: Engine, broker: Broker, world: World) -> None:
    source = broker.queue("to-mq")
    bridge.add_routes(lambda b: b.from_(f"amqp:queue:{source}").to(mq("OUT"), pattern=IN_ONLY))
    bridge.start()
    bridge.template.send_body(mq("BASELINE"), "order-7", headers={"tenant": "acme"})  # the producer's defaults
    broker.publish(source, "order-7", content_type="text/plain", headers={**MQMD_ATTACK, "tenant": "acme"})

    (baseline,) = committed(world, "BASELINE")
    (put,) = committed(world, "OUT")
    assert {name: put.field(name) for name in MQMD_FIELDS} == {name: baseline.field(name) for name in MQMD_FIELDS}
    assert put.md["Priority"] != 9 and put.field("ReplyToQ") == "" and put.field("UserIdentifier") == "app"
    assert put.md["Report"] == 0 and put.md["MsgType"] != MQMT_REQUEST
    # The rest of the table is data: it travels as RFH2 properties, the JMS_IBM_* names do not.
    properties = usr_properties(put)
    assert properties["tenant"] == "acme"
    assert not any(name.startswith("JMS_IBM_") for name in properties)
    assert world.qmgr("QM1").queue("OUT").committed()[0].data.endswith(b"order-7")


def test_the_route_still_sets_mqmd_fields_from_an_amqp_message(bridge: Engine, broker: Broker, world: World) -> None:
    source = broker.queue("to-mq-set")
    bridge.add_routes(lambda b: (
        b.from_(f"amqp:queue:{source}")
         .set_header("JMS_IBM_MQMD_Priority", 4)
         .set_header("JMS_IBM_MQMD_ReplyToQ", "ROUTE.Q")
         .set_header("JMS_IBM_MQMD_Expiry", lambda ex: 600 if ex.message.headers.get("short-lived") else -1)
         .set_header("JMS_IBM_MQMD_Persistence", 0)
         .to(mq("OUT"), pattern=IN_ONLY)))
    bridge.start()
    broker.publish(source, "order-8", headers={**MQMD_ATTACK, "short-lived": True})

    (put,) = committed(world, "OUT")
    assert (put.md["Priority"], put.field("ReplyToQ"), put.md["Expiry"]) == (4, "ROUTE.Q", 600)
    assert put.md["Report"] == 0 and put.field("ReplyToQMgr") == ""  # not set by the route: the defaults
    # A value equal to the one received under that name counts as received (eip.header_filter):
    # the publisher's Persistence 0 and the route's 0 are one value, so the endpoint's default stands.
    assert put.md["Persistence"] == 1


def test_an_mq_to_mq_bridge_keeps_the_mqmd(engine: Engine, world: World) -> None:
    engine.add_routes(lambda b: b.from_(mq("IN")).to(mq("OUT"), pattern=IN_ONLY))
    engine.start()
    put_message("IN", b"order-9", Format=b"MQSTR   ", Priority=7, ReplyToQ=b"REPLY.Q", ReplyToQMgr=b"QM2",
                Report=MQRO_COA, Expiry=6000)

    (put,) = committed(world, "OUT")
    assert (put.md["Priority"], put.field("ReplyToQ"), put.field("ReplyToQMgr"), put.md["Report"]) == \
        (7, "REPLY.Q", "QM2", MQRO_COA)
    assert 0 < put.md["Expiry"] <= 6000 and put.data == b"order-9"


def test_an_amqp_reply_cannot_set_the_mqmd_of_the_mq_reply(bridge: Engine, broker: Broker, world: World) -> None:
    service = broker.queue("quote-service")
    for name in ("REQS", "REPLIES"):
        world.qmgr("QM1").define_queue(name)
    bridge.add_routes(lambda b: (
        b.from_(mq("REQS")).to(f"amqp:queue:{service}"),  # a consumed request is InOut: request-reply
        b.from_(f"amqp:queue:{service}").set_body("quote")  # the AMQP service answering, from outside
         .set_header("JMS_IBM_MQMD_Priority", 9).set_header("JMS_IBM_MQMD_Expiry", 1)
         .set_header("JMS_IBM_MQMD_Format", "EVIL").set_header("quote-id", "q-1")))
    bridge.start()
    put_message("REQS", b"IBM", Format=b"MQSTR   ", MsgType=MQMT_REQUEST, ReplyToQ=b"REPLIES", Priority=2)

    (reply,) = committed(world, "REPLIES")
    assert reply.md["Priority"] != 9 and reply.md["Expiry"] != 1 and reply.field("Format") == "MQHRF2"
    properties = usr_properties(reply)
    assert properties["quote-id"] == "q-1" and not any(name.startswith("JMS_IBM_") for name in properties)
    assert reply.data.endswith(b"quote")


# -- MQ message -> AMQP publish ---------------------------------------------------------------------------------
def test_mq_properties_cannot_steer_the_amqp_publish(bridge: Engine, broker: Broker, world: World) -> None:
    target, other = broker.queue("from-mq"), broker.queue("cc-target")
    attack = {"CC": other, "BCC": other, "x-delay": 60000, "x-stream-filter-value": "evil",
              "CamelRabbitmqPriority": 9, "CamelRabbitmqReplyTo": other, "CamelRabbitmqExpiration": "1",
              "CamelRabbitmqCorrelationId": "forged", "CamelRabbitmqAppId": "forged", "CamelRabbitmqType": "forged",
              "CamelRabbitmqMessageId": "forged", "CamelRabbitmqUserId": "admin", "tenant": "acme"}
    bridge.add_routes(lambda b: b.from_(mq("IN")).to(f"amqp:queue:{target}", pattern=IN_ONLY))
    bridge.start()
    put_with_properties("IN", "order-10", attack, Priority=8)

    _, props, body = broker.get(target, timeout=TIMEOUT)
    assert body == b"order-10"
    table = props.headers or {}
    assert table["tenant"] == "acme" and table["JMS_IBM_MQMD_Priority"] == 8  # MQ's own headers: data
    assert not {"CC", "BCC", "x-delay", "x-stream-filter-value"} & set(table)
    assert not any(name.startswith("CamelRabbitmq") for name in table)
    assert (props.priority, props.reply_to, props.expiration, props.correlation_id, props.app_id, props.type,
            props.user_id) == (None, None, None, None, None, None, None)
    assert props.message_id != "forged"
    eventually(lambda: world.qmgr("QM1").queue("IN").depth == 0, TIMEOUT, "the get committed")
    assert broker.count(other) == 0  # CC copied it nowhere else


def test_the_route_still_sets_amqp_control_headers_from_an_mq_message(bridge: Engine, broker: Broker,
                                                                      world: World) -> None:
    target, copy = broker.queue("from-mq-set"), broker.queue("cc-by-route")
    bridge.add_routes(lambda b: (
        b.from_(mq("IN")).set_header("CC", [copy]).set_header("CamelRabbitmqPriority", 3)
         .to(f"amqp:queue:{target}", pattern=IN_ONLY)))
    bridge.start()
    put_with_properties("IN", "order-11", {"CC": "elsewhere", "CamelRabbitmqPriority": 9,
                                           "CamelRabbitmqReplyTo": "evil", "x-delay": 60000})

    _, props, _ = broker.get(target, timeout=TIMEOUT)
    assert props.priority == 3 and props.headers["CC"] == [copy]
    assert props.reply_to is None and "x-delay" not in props.headers  # the route did not set those
    _, _, copied = broker.get(copy, timeout=TIMEOUT)
    assert copied == b"order-11"


def test_an_mq_reply_cannot_steer_the_amqp_publish_after_it(bridge: Engine, broker: Broker, world: World) -> None:
    source, target = broker.queue("rr-in"), broker.queue("rr-out")
    for name in ("REQ", "REPLY"):
        world.qmgr("QM1").define_queue(name)
    bridge.add_routes(lambda b: (
        b.from_(f"amqp:queue:{source}")
         .to(mq("REQ", "&reply_to=REPLY"), pattern=ExchangePattern.IN_OUT)
         .to(f"amqp:queue:{target}", pattern=IN_ONLY),
        b.from_(mq("REQ")).set_body("quote")  # the MQ service answering: its headers arrive from outside
         .set_header("CC", "elsewhere").set_header("x-delay", 60000).set_header("quote-id", "q-1")))
    bridge.start()
    broker.publish(source, "IBM", headers={"tenant": "acme"})

    _, props, body = broker.get(target, timeout=TIMEOUT)
    assert body == b"quote"
    assert props.headers["tenant"] == "acme" and props.headers["quote-id"] == "q-1"
    assert "CC" not in props.headers and "x-delay" not in props.headers


def test_an_mq_reply_cannot_steer_the_amqp_reply_to_the_requester(bridge: Engine, broker: Broker,
                                                                   world: World) -> None:
    source, replies, copy = broker.queue("rq-in"), broker.queue("rq-replies"), broker.queue("rq-cc")
    for name in ("REQ", "REPLY"):
        world.qmgr("QM1").define_queue(name)
    bridge.add_routes(lambda b: (
        b.from_(f"amqp:queue:{source}").to(mq("REQ", "&reply_to=REPLY"), pattern=ExchangePattern.IN_OUT),
        b.from_(mq("REQ")).set_body("quote").set_header("CC", [copy]).set_header("quote-id", "q-2")))
    bridge.start()
    broker.publish(source, "IBM", reply_to=replies, correlation_id="c-2")

    _, props, body = broker.get(replies, timeout=TIMEOUT)
    assert (body, props.correlation_id, props.headers["quote-id"]) == (b"quote", "c-2", "q-2")
    assert "CC" not in props.headers
    assert broker.count(copy) == 0  # the MQ service's CC did not copy the reply elsewhere


def test_an_amqp_to_amqp_bridge_keeps_properties_and_cc(bridge: Engine, broker: Broker) -> None:
    source, target, copy = broker.queue("bridge-in"), broker.queue("bridge-out"), broker.queue("bridge-cc")
    bridge.add_routes(lambda b: b.from_(f"amqp:queue:{source}").to(f"amqp:queue:{target}", pattern=IN_ONLY))
    bridge.start()
    broker.publish(source, "order-12", headers={"CC": [copy], "x-delay": 5, "tenant": "acme"}, priority=5,
                   correlation_id="c-12", app_id="shop", type="order", expiration="60000")

    _, props, _ = broker.get(target, timeout=TIMEOUT)
    assert (props.priority, props.correlation_id, props.app_id, props.type, props.expiration) == \
        (5, "c-12", "shop", "order", "60000")
    assert props.headers["CC"] == [copy] and props.headers["x-delay"] == 5 and props.headers["tenant"] == "acme"
    _, _, copied = broker.get(copy, timeout=TIMEOUT)
    assert copied == b"order-12"


# -- AMQP publisher -> HTTP call -------------------------------------------------------------------------------
@pytest.mark.eip(properties={"server.port": 0})
def test_an_amqp_publisher_cannot_choose_the_method_or_query_of_an_http_call(bridge: Engine, broker: Broker) -> None:
    import queue as queue_module

    from eip import constants as c
    from eip.http_server import http_server

    calls: queue_module.Queue[tuple[Any, Any]] = queue_module.Queue()
    bridge.add_routes(lambda b: b.from_("http:/backend?match_on_uri_prefix=true").process(
        lambda ex: calls.put((ex.message.headers.get(c.HTTP_METHOD), ex.message.headers.get(c.HTTP_QUERY)))))
    bridge.start()
    backend = http_server(bridge).url + "/backend"
    source, routed = broker.queue("to-http"), broker.queue("to-http-routed")
    bridge.add_routes(lambda b: (
        b.from_(f"amqp:queue:{source}").to(backend, pattern=IN_ONLY),
        b.from_(f"amqp:queue:{routed}").set_header(c.HTTP_METHOD, "PUT").set_header(c.HTTP_QUERY, "v=2")
         .to(backend, pattern=IN_ONLY)))
    broker.publish(source, "order-9", headers={c.HTTP_METHOD: "DELETE", c.HTTP_QUERY: "admin=true"})
    assert calls.get(timeout=TIMEOUT) == ("POST", None)  # the producer's own choice: a body, so POST
    broker.publish(routed, "order-10", headers={c.HTTP_METHOD: "DELETE", c.HTTP_QUERY: "admin=true"})
    assert calls.get(timeout=TIMEOUT) == ("PUT", "v=2")  # what the route set applies


# -- broker reply -> HTTP reply ---------------------------------------------------------------------------------
@pytest.mark.eip(properties={"server.port": 0})
def test_a_broker_reply_cannot_set_cookies_redirects_or_the_status_of_an_http_reply(bridge: Engine,
                                                                                     broker: Broker) -> None:
    import requests

    from eip import constants as c
    from eip.http_server import http_server

    service = broker.queue("quote-service")
    bridge.add_routes(lambda b: (
        b.from_("http:/quote").to(f"amqp:queue:{service}", pattern=ExchangePattern.IN_OUT),
        b.from_("http:/quote-moved").to(f"amqp:queue:{service}", pattern=ExchangePattern.IN_OUT)
         .set_header(c.HTTP_RESPONSE_CODE, 201).set_header("Location", "/quotes/1"),
        b.from_(f"amqp:queue:{service}").set_body("quote")  # the service answering over the broker
         .set_header("Set-Cookie", "sid=forged; Path=/").set_header("Location", "https://evil.example/")
         .set_header(c.HTTP_RESPONSE_CODE, 302).set_header("Access-Control-Allow-Origin", "*")
         .set_header("quote-id", "q-3")))
    bridge.start()
    url = http_server(bridge).url

    response = requests.get(url + "/quote", allow_redirects=False, timeout=TIMEOUT)
    assert (response.status_code, response.text, response.headers["quote-id"]) == (200, "quote", "q-3")
    assert not {"Set-Cookie", "Location", "Access-Control-Allow-Origin"} & set(response.headers)
    moved = requests.get(url + "/quote-moved", allow_redirects=False, timeout=TIMEOUT)
    assert (moved.status_code, moved.headers["Location"]) == (201, "/quotes/1")  # the route's own choice

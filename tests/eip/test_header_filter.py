"""eip.header_filter: which received headers a producer sends, by the protocol that received them."""

from __future__ import annotations

import pytest

from eip import Engine
from eip import constants as c
from eip.errors import EndpointOptionError
from eip.exchange import Exchange
from eip.header_filter import HeaderFilter, Inbound, inbound_of, is_inbound
from eip.message import Headers


def mq_control(name: str) -> bool:
    return name.lower().startswith("jms_ibm_")


def sent(filter_: HeaderFilter, headers: dict[str, object], inbound: Inbound | None) -> dict[str, object]:
    return dict(filter_.apply(Headers(headers), inbound).items())


def test_another_brokers_headers_cross_as_data_but_never_as_control_headers() -> None:
    received = {"JMS_IBM_MQMD_Priority": 9, "tenant": "acme", "Authorization": "Basic x"}
    mq = HeaderFilter(protocol="ibmmq", control=mq_control)
    assert sent(mq, received, Inbound("amqp", received)) == {"tenant": "acme", "Authorization": "Basic x"}
    assert sent(mq, received, Inbound("ibmmq", received)) == received  # a bridge keeps them
    assert sent(mq, received, None) == received  # nothing received: the route's own


def test_http_keeps_its_stricter_rule_for_every_producer() -> None:
    received = Headers({"X-Tenant": "acme", "Authorization": "Bearer t", "JMS_IBM_MQMD_Priority": "9"})
    inbound = Inbound("http", received)
    for protocol in ("ibmmq", "amqp", "http"):
        named = HeaderFilter("X-Tenant", protocol=protocol, control=mq_control)
        assert sent(named, dict(received.items()), inbound) == {"X-Tenant": "acme"}
    everything = HeaderFilter(protocol="http", forward_all=True)
    assert sent(everything, dict(received.items()), inbound) == {"X-Tenant": "acme", "JMS_IBM_MQMD_Priority": "9"}


def test_a_value_the_route_set_goes_through_and_an_equal_one_counts_as_received() -> None:
    received = {"JMS_IBM_MQMD_Priority": 9, "JMS_IBM_MQMD_Persistence": 0}
    mq = HeaderFilter(protocol="ibmmq", control=mq_control)
    route = {"JMS_IBM_MQMD_Priority": 4, "JMS_IBM_MQMD_Persistence": 0, "JMS_IBM_MQMD_ReplyToQ": "ROUTE.Q"}
    assert sent(mq, route, Inbound("amqp", received)) == {"JMS_IBM_MQMD_Priority": 4,
                                                         "JMS_IBM_MQMD_ReplyToQ": "ROUTE.Q"}
    assert not is_inbound("X", True, Inbound("http", Headers({"X": 1})))  # True is not 1


def test_a_reply_is_recorded_over_what_the_consumer_received() -> None:
    consumed = {"CC": ["audit"], "tenant": "acme"}
    reply = {"x-delay": 5000, "quote": "q-1"}
    chain = Inbound("ibmmq", reply, Inbound("amqp", consumed))
    amqp = HeaderFilter(protocol="amqp", control=lambda n: n.lower() in ("cc", "x-delay"))
    assert chain.source("CC", ["audit"]) == "amqp" and chain.source("x-delay", 5000) == "ibmmq"
    assert sent(amqp, {**consumed, **reply}, chain) == {"CC": ["audit"], "tenant": "acme", "quote": "q-1"}


@pytest.mark.parametrize(("uri", "protocol"), [
    ("amqp:queue:orders", "amqp"),
    ("ibmmq:IN?queue_manager=QM1&channel=C&conn_name=h(1)", "ibmmq"),
    ("http:/orders", "http"),
    ("direct:orders", None),
])
def test_consumers_mark_what_they_received_with_their_protocol(engine: Engine, uri: str, protocol: str | None) -> None:
    headers = {"CC": ["q"]}
    consumer = engine.get_endpoint(uri).create_consumer(lambda ex: None)
    exchange: Exchange = consumer.create_exchange("b", headers)
    mark = inbound_of(exchange.properties)
    if protocol is None:
        assert mark is None
        return
    assert mark is not None and mark.protocol == protocol and mark.headers is headers  # a reference, not a copy
    exchange.properties[c.INBOUND_HEADERS] = {"cc": ["q"]}  # anything but an Inbound is ignored
    assert inbound_of(exchange.properties) is None


@pytest.mark.parametrize("name", ["Authorization", "X-Auth-Token", "CamelRabbitmqPriority", "JMS_IBM_MQMD_ReplyToQ"])
def test_forward_headers_never_names_credentials_camel_or_control_headers(name: str) -> None:
    with pytest.raises(EndpointOptionError, match=f"forward_headers cannot name {name}"):
        HeaderFilter(name, protocol="ibmmq", uri="ibmmq:OUT", control=mq_control)


def test_the_record_survives_a_durable_repository_and_never_shows_values() -> None:
    from eip.repositories.serialization import exchange_from_data, exchange_to_data

    received = Headers({"Authorization": "Bearer secret", "X-Tenant": "acme"})
    exchange = Exchange("b", received)
    exchange.properties[c.INBOUND_HEADERS] = Inbound("ibmmq", {"q": 1}, Inbound("http", received))
    back = exchange_from_data(exchange_to_data(exchange))
    restored = inbound_of(back.properties)
    raw = back.properties[c.INBOUND_HEADERS]  # a plain tuple now: producers take it as it is
    assert HeaderFilter(protocol="amqp").apply(received, raw) == {}
    assert restored is not None and restored.protocol == "ibmmq" and restored.previous is not None
    assert restored.source("Authorization", "Bearer secret") == "http" and restored.source("q", 1) == "ibmmq"
    assert "secret" not in repr(exchange.properties[c.INBOUND_HEADERS])

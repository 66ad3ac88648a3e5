"""ibmmq: consume under syncpoint, back out, poison messages, reconnect, MQMD and RFH2 mapping.

No queue manager is reachable here: IBM's real ``ibmmq`` Python layer runs over the MQI stand-in
(``tests/support/ibmmq_standin``), whose connection handles are bound to their thread, so the
component's thread discipline is checked too (a handle used from another thread gets 2018).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from components.ibmmq.errors import MqError
from eip import Engine
from eip import constants as c
from eip.errors import EndpointOptionError, ExchangeTimedOutError
from eip.exchange import Exchange, ExchangePattern
from legacy.mq import DeadLetterHeader, unwrap

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from ibmmq_standin import World, get_message, put_message, standin_world

from eip.testing import eventually


@pytest.fixture
def mqi_standin() -> Iterator[World]:
    """A fresh world of queue managers behind IBM's ``ibmmq`` layer (the MQI stand-in)."""
    with standin_world() as world:
        yield world


PASSWORD = "s3cret-Pa55"
CONNECT = (f"queue_manager=QM1&channel=DEV.APP.SVRCONN&conn_name=127.0.0.1(1414)&user=app&password={PASSWORD}"
           "&wait_interval=50ms&reconnect_delay=50ms&max_reconnect_delay=200ms")


def uri(queue: str, **options: Any) -> str:
    """``ibmmq:QUEUE`` on QM1 over the client channel, with ``options`` added or replacing the base ones."""
    merged = dict(part.split("=", 1) for part in CONNECT.split("&"))
    merged.update((name, str(value)) for name, value in options.items())
    return f"ibmmq:{queue}?" + "&".join(f"{name}={value}" for name, value in merged.items())


@pytest.fixture
def world(mqi_standin: World) -> World:
    qm = mqi_standin.add_queue_manager("QM1", users={"app": PASSWORD}, dead_letter_queue="")
    qm.define_queue("IN", backout_threshold=3, backout_queue="IN.BOQ")
    qm.define_queue("IN.BOQ")
    qm.define_queue("OUT")
    qm.define_queue("DLQ")
    qm.define_queue("REPLY")
    return mqi_standin


def queue(world: World, name: str) -> Any:
    return world.qmgr("QM1").queue(name)


def route(engine: Engine, source: str, *steps: Any) -> None:
    def build(builder: Any) -> None:
        definition = builder.from_(source).route_id("mq")
        for step in steps:
            definition = definition.process(step) if callable(step) else definition.to(step)

    engine.add_routes(build)


# -- consuming ----------------------------------------------------------------------------------------
def test_get_is_committed_only_after_the_route_completed(engine: Engine, world: World) -> None:
    release = threading.Event()
    in_route = threading.Event()
    commits: list[int] = []
    world.on_commit.append(lambda connection, gets: commits.append(len(gets)))

    def slow(exchange: Exchange) -> None:
        in_route.set()
        assert release.wait(5)

    route(engine, uri("IN"), slow, "mock:out")
    engine.start()
    put_message("IN", b"order-1")
    assert in_route.wait(5)
    # Still on the queue, held by the consumer's unit of work: a crash now would leave it there.
    assert queue(world, "IN").depth == 1 and commits == []
    release.set()
    eventually(lambda: queue(world, "IN").depth == 0, what="message committed")
    assert commits == [1]
    assert engine.get_endpoint("mock:out").received_bodies == [b"order-1"]


def test_failure_backs_out_and_the_message_comes_again(engine: Engine, world: World) -> None:
    attempts: list[int] = []

    def fail_once(exchange: Exchange) -> None:
        attempts.append(exchange.message.headers[c.IBMMQ_BACKOUT_COUNT])
        if len(attempts) == 1:
            raise RuntimeError("first attempt fails")

    route(engine, uri("IN"), fail_once, "mock:out")
    engine.start()
    put_message("IN", "one", Format=b"MQSTR   ")
    put_message("IN", "two", Format=b"MQSTR   ")
    mock = engine.get_endpoint("mock:out")
    eventually(lambda: mock.received_counter == 2, what="both delivered")
    assert attempts == [0, 1, 0]  # the backed-out message comes first again, BackoutCount 1
    assert mock.received_bodies == ["one", "two"]
    eventually(lambda: queue(world, "IN").depth == 0)


def test_poison_message_goes_to_the_backout_queue_after_bothresh(engine: Engine, world: World) -> None:
    seen: list[tuple[str, int]] = []

    def fail_poison(exchange: Exchange) -> None:
        seen.append((exchange.message.body, exchange.message.headers[c.IBMMQ_BACKOUT_COUNT]))
        if exchange.message.body == "poison":
            raise ValueError("cannot process")

    route(engine, uri("IN", body_type="text"), fail_poison, "mock:out")
    engine.start()
    put_message("IN", b"poison", Format=b"MQSTR   ", CorrelId=b"C-1".ljust(24, b"\0"))
    put_message("IN", b"fine", Format=b"MQSTR   ")
    mock = engine.get_endpoint("mock:out")
    eventually(lambda: mock.received_bodies == ["fine"] and queue(world, "IN.BOQ").depth == 1, what="poison moved")
    assert seen[:3] == [("poison", 0), ("poison", 1), ("poison", 2)]  # BOTHRESH 3: three tries, no fourth
    assert ("poison", 3) not in seen
    moved = queue(world, "IN.BOQ").committed()[0]
    assert moved.data == b"poison" and moved.correl_id == b"C-1".ljust(24, b"\0")
    assert moved.field("Format") == "MQSTR"
    eventually(lambda: queue(world, "IN").depth == 0, what="input queue empty")


def test_poison_message_goes_to_the_dead_letter_queue_with_an_mqdlh(mqi_standin: World) -> None:
    import ibmmq

    qm = mqi_standin.add_queue_manager("QM1", users={"app": PASSWORD})
    qm.define_queue("IN", backout_threshold=2)  # no BOQNAME
    qm.define_queue("MY.DLQ")
    with Engine() as engine:
        route(engine, uri("IN", dead_letter_queue="MY.DLQ"), lambda ex: 1 / 0)
        put_message("IN", "bad order".encode("cp037"), Format=b"MQSTR   ", CodedCharSetId=37)
        eventually(lambda: qm.queue("MY.DLQ").depth == 1, what="dead-lettered")
    dead = qm.queue("MY.DLQ").committed()[0]
    assert dead.field("Format") == "MQDEAD"
    header, offset = DeadLetterHeader.unpack(dead.data, dead.md["Encoding"])
    assert (header.reason, header.dest_q_name, header.dest_q_mgr_name) == (2362, "IN", "QM1")
    assert (header.format, header.ccsid) == ("MQSTR", 37)
    assert dead.data[offset:].decode("cp037") == "bad order"
    ibm = ibmmq.DLH().get_header(dead.data)  # IBM's own MQDLH class reads it the same way
    assert ibm.Reason == 2362 and ibm.DestQName.rstrip(b" \0") == b"IN" and ibm.Format == b"MQSTR   "
    assert unwrap(dead.data, "MQDEAD", dead.md["Encoding"], 1208, dead_letter=True).offset == 172
    assert qm.queue("IN").depth == 0


def test_poison_message_falls_back_to_the_queue_managers_dead_letter_queue(mqi_standin: World) -> None:
    qm = mqi_standin.add_queue_manager("QM1", users={"app": PASSWORD}, dead_letter_queue="SYSTEM.DEAD")
    qm.define_queue("IN")  # no BOTHRESH: the option decides
    qm.define_queue("SYSTEM.DEAD")
    with Engine() as engine:
        route(engine, uri("IN", backout_threshold=1), lambda ex: 1 / 0)
        put_message("IN", b"x")
        eventually(lambda: qm.queue("SYSTEM.DEAD").depth == 1, what="dead-lettered")
    assert qm.queue("SYSTEM.DEAD").committed()[0].field("Format") == "MQDEAD"


def test_poison_message_with_nowhere_to_go_stays_and_is_not_spun_on(mqi_standin: World,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    qm = mqi_standin.add_queue_manager("QM1", users={"app": PASSWORD})
    qm.define_queue("IN", backout_threshold=1)
    attempts: list[int] = []
    with Engine() as engine:
        route(engine, uri("IN", max_reconnect_delay="1s"), lambda ex: attempts.append(1) or 1 / 0)
        put_message("IN", b"x")
        eventually(lambda: "nowhere to move it" in caplog.text, what="error logged")
        time.sleep(0.3)
        assert attempts == [1] and qm.queue("IN").depth == 1  # routed once, then parked, not looped


def test_exchange_handled_by_the_dead_letter_channel_is_committed(engine: Engine, world: World) -> None:
    from eip import dead_letter_channel

    def build(builder: Any) -> None:
        builder.error_handler(dead_letter_channel("mock:dead"))
        builder.from_(uri("IN")).process(lambda ex: 1 / 0)

    engine.add_routes(build)
    engine.start()
    put_message("IN", b"x")
    engine.get_endpoint("mock:dead").expected_message_count(1)
    engine.get_endpoint("mock:dead").assert_is_satisfied(timeout=5)
    eventually(lambda: queue(world, "IN").depth == 0, what="committed")
    assert queue(world, "IN.BOQ").depth == 0


def test_commit_waits_for_a_held_unit_of_work_and_runs_on_the_consumer_thread(engine: Engine, world: World) -> None:
    released = threading.Event()
    consumer_threads: list[str] = []

    def async_confirm(exchange: Exchange) -> None:
        consumer_threads.append(threading.current_thread().name)
        release = exchange.unit_of_work.hold()
        error = RuntimeError("nacked") if exchange.message.body == b"nack" else None

        def later() -> None:
            time.sleep(0.15)
            released.set()
            release(error)

        threading.Thread(target=later).start()

    commits_after_release: list[bool] = []
    world.on_commit.append(lambda connection, gets: commits_after_release.append(released.is_set()))
    route(engine, uri("IN"), async_confirm)
    engine.start()
    put_message("IN", b"ok")
    eventually(lambda: queue(world, "IN").depth == 0, what="committed")
    assert commits_after_release == [True]
    commit = world.commits()[-1]
    assert commit.reason == 0 and commit.thread == consumer_threads[0]  # the worker's own thread
    released.clear()
    put_message("IN", b"nack")
    eventually(lambda: len(consumer_threads) >= 2, what="nack routed")
    eventually(lambda: released.is_set())
    eventually(lambda: any(m.backout_count >= 1 for m in queue(world, "IN").committed()), what="backed out")


def test_consumer_reconnects_after_the_connection_broke(engine: Engine, world: World) -> None:
    route(engine, uri("IN"), "mock:out")
    engine.start()
    put_message("IN", b"1")
    mock = engine.get_endpoint("mock:out")
    eventually(lambda: mock.received_counter == 1)
    assert world.break_connections("QM1") >= 1
    put_message("IN", b"2")
    eventually(lambda: mock.received_bodies == [b"1", b"2"], what="consumed after reconnect")
    assert any(e.verb == "MQGET" and e.reason == 2009 for e in world.events)


def test_message_in_flight_when_the_connection_breaks_is_delivered_again(engine: Engine, world: World) -> None:
    go_on = threading.Event()
    bodies: list[tuple[bytes, int]] = []

    def first_blocks(exchange: Exchange) -> None:
        bodies.append((exchange.message.body, exchange.message.headers[c.IBMMQ_BACKOUT_COUNT]))
        if len(bodies) == 1:
            assert go_on.wait(5)

    route(engine, uri("IN"), first_blocks)
    engine.start()
    put_message("IN", b"a")
    eventually(lambda: len(bodies) == 1)
    world.break_connections("QM1")  # the queue manager backs the get out
    go_on.set()  # the commit then fails with 2009
    eventually(lambda: len(bodies) == 2, what="delivered again")
    assert bodies == [(b"a", 0), (b"a", 1)]
    eventually(lambda: queue(world, "IN").depth == 0)


def test_unreachable_queue_manager_does_not_fail_start_and_is_retried(engine: Engine, world: World,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    qm = world.qmgr("QM1")
    qm.available = False
    route(engine, uri("IN"), "mock:out")
    engine.start()
    eventually(lambda: "not reachable yet" in caplog.text)
    qm.available = True
    put_message("IN", b"late")
    eventually(lambda: engine.get_endpoint("mock:out").received_counter == 1, what="consumed once reachable")


@pytest.mark.parametrize(("options", "reason"), [
    ({"password": "wrong"}, 2035),  # MQRC_NOT_AUTHORIZED
    ({"channel": "NO.SUCH.CHANNEL"}, 2540),  # MQRC_UNKNOWN_CHANNEL_NAME
])
def test_refused_connection_fails_the_route_start(world: World, options: dict[str, str], reason: int) -> None:
    engine = Engine()
    route(engine, uri("IN", **options), "mock:out")
    with pytest.raises(MqError) as caught:
        engine.start()
    assert caught.value.reason == reason and caught.value.reason_name.startswith("MQRC_")
    assert PASSWORD not in str(caught.value) and "wrong" not in str(caught.value)


def test_unknown_queue_fails_the_route_start(world: World) -> None:
    engine = Engine()
    route(engine, uri("NO.SUCH.QUEUE"), "mock:out")
    with pytest.raises(MqError, match="2085 MQRC_UNKNOWN_OBJECT_NAME") as caught:
        engine.start()
    assert caught.value.comp == 2


def test_concurrent_consumers_each_have_their_own_connection(engine: Engine, world: World) -> None:
    route(engine, uri("IN", concurrent_consumers=3), lambda ex: time.sleep(0.01), "mock:out")
    engine.start()
    eventually(lambda: len(world.connections_to("QM1")) == 3, what="three connections")
    for n in range(30):
        put_message("IN", str(n).encode())
    mock = engine.get_endpoint("mock:out")
    eventually(lambda: mock.received_counter == 30)
    assert sorted(int(b) for b in mock.received_bodies) == list(range(30))
    committing = {e.thread for e in world.commits()}
    assert len(committing) >= 2 and all(name.startswith("ibmmq-consumer-IN-") for name in committing)


def test_stop_is_prompt_and_a_message_sent_while_stopped_waits(engine: Engine, world: World) -> None:
    route(engine, uri("IN", wait_interval="200ms"), "mock:out")
    engine.start()
    started = time.monotonic()
    engine.stop_route("mq")
    assert time.monotonic() - started < 1.0
    put_message("IN", b"later")
    time.sleep(0.1)
    assert queue(world, "IN").depth == 1 and engine.get_endpoint("mock:out").received_counter == 0
    engine.start_route("mq")
    eventually(lambda: engine.get_endpoint("mock:out").received_counter == 1)


# -- producing ------------------------------------------------------------------------------------------
def test_producer_writes_mqmd_fields_from_headers_and_options(engine: Engine, world: World) -> None:
    world.qmgr("QM1").define_queue("OUT2")
    engine.start()
    # Options belong to the endpoint: ibmmq:OUT2?priority=7 and ibmmq:OUT2 are one endpoint.
    engine.template.send_body(uri("OUT2", priority=7, expiry="90s", persistence="not_persistent"), "plain")
    msg_id = bytes(range(24))
    engine.template.send_body(uri("OUT"), b"\x01\x02", headers={
        c.IBMMQ_MSG_ID: "ID:" + msg_id.hex(), c.IBMMQ_CORREL_ID: b"corr-7", c.IBMMQ_FORMAT: "MYFMT",
        c.IBMMQ_PRIORITY: 2, c.IBMMQ_PERSISTENCE: 1, c.IBMMQ_EXPIRY: 600, c.IBMMQ_REPLY_TO_Q: "REPLY",
        c.IBMMQ_REPLY_TO_Q_MGR: "QM1", c.IBMMQ_PUT_APPL_NAME: "forged"})
    engine.template.send_body(uri("OUT"), "EBCDIC text", headers={c.IBMMQ_CODED_CHARSET_ID: 500})
    engine.template.send_body(uri("OUT"), {"id": 7, "lines": [1, 2]})
    (plain,) = queue(world, "OUT2").committed()
    binary, ebcdic, document = sorted(queue(world, "OUT").committed(), key=lambda m: m.seq)
    assert (plain.field("Format"), plain.md["CodedCharSetId"], plain.data) == ("MQSTR", 1208, b"plain")
    assert (plain.md["Priority"], plain.md["Expiry"], plain.md["Persistence"]) == (7, 900, 0)
    assert binary.msg_id == msg_id and binary.correl_id == b"corr-7".ljust(24, b"\0")
    assert (binary.field("Format"), binary.md["Priority"], binary.md["Persistence"], binary.md["Expiry"]) == \
        ("MYFMT", 2, 1, 600)
    assert (binary.field("ReplyToQ"), binary.field("ReplyToQMgr"), binary.data) == ("REPLY", "QM1", b"\x01\x02")
    assert binary.field("PutApplName") != "forged"  # the queue manager sets context fields
    assert (ebcdic.md["CodedCharSetId"], ebcdic.data) == (500, "EBCDIC text".encode("cp500"))
    assert document.field("Format") == "MQSTR" and document.data == b'{"id": 7, "lines": [1, 2]}'
    assert plain.md["Persistence"] == 0 and document.md["Persistence"] == 1  # default: persistent


def test_properties_travel_as_rfh2_and_come_back_as_typed_headers(engine: Engine, world: World) -> None:
    route(engine, uri("OUT"), "mock:out")
    engine.start()
    headers = {"tenant": "acme", "attempt": 3, "urgent": True, "ratio": 0.25, "blob": b"\x00\xff", "empty": None,
               "Content Type": "x<y&z", "big": 1 << 40, "CamelFileName": "not sent"}
    engine.template.send_body(uri("OUT"), "body", headers=headers)
    mock = engine.get_endpoint("mock:out")
    eventually(lambda: mock.received_counter == 1)
    received = mock.received_exchanges[0].message
    assert received.body == "body"
    expected = {k: v for k, v in headers.items() if k != "CamelFileName"}
    assert {k: received.headers.get(k) for k in expected} == expected
    assert "CamelFileName" not in received.headers
    assert received.headers[c.IBMMQ_FORMAT] == "MQSTR"  # of the body, after the RFH2


def test_rfh2_on_the_queue_is_what_a_jms_application_reads(engine: Engine, world: World) -> None:
    import ibmmq

    engine.start()
    engine.template.send_body(uri("OUT"), "hi", headers={"tenant": "acme", "n": 5})
    stored = queue(world, "OUT").committed()[0]
    assert stored.field("Format") == "MQHRF2"
    header = ibmmq.RFH2()
    header.unpack(stored.data, stored.md["Encoding"])  # IBM's own RFH2 class
    assert sorted(header.get_folders()) == ["mcd", "usr"] and header.Format == b"MQSTR   "
    assert b"<tenant>acme</tenant>" in header["usr"] and b"<Msd>jms_text</Msd>" in header["mcd"]
    assert stored.data[header.StrucLength:] == b"hi"


def test_properties_none_writes_no_rfh2_and_gets_none(engine: Engine, world: World) -> None:
    route(engine, uri("IN", properties="none"), "mock:out")
    engine.start()
    engine.template.send_body(uri("OUT", properties="none"), "plain", headers={"tenant": "acme"})
    assert queue(world, "OUT").committed()[0].field("Format") == "MQSTR"
    engine.template.send_body(uri("IN"), "with props", headers={"tenant": "acme"})  # has an RFH2
    mock = engine.get_endpoint("mock:out")
    eventually(lambda: mock.received_counter == 1)
    message = mock.received_exchanges[0].message
    assert message.body == "with props" and "tenant" not in message.headers  # the queue manager removed it


def test_consumer_sets_mqmd_headers(engine: Engine, world: World) -> None:
    route(engine, uri("IN", disable_reply_to="true"), "mock:out")
    engine.start()
    md = put_message("IN", "text", Format=b"MQSTR   ", CorrelId=b"K" * 24, ReplyToQ=b"REPLY", Priority=4,
                     Persistence=1, MsgType=1)
    mock = engine.get_endpoint("mock:out")
    eventually(lambda: mock.received_counter == 1)
    exchange = mock.received_exchanges[0]
    headers = exchange.message.headers
    assert headers[c.IBMMQ_MSG_ID] == md.MsgId and headers[c.IBMMQ_CORREL_ID] == b"K" * 24
    assert (headers[c.IBMMQ_REPLY_TO_Q], headers[c.IBMMQ_PRIORITY], headers[c.IBMMQ_PERSISTENCE]) == ("REPLY", 4, 1)
    assert (headers[c.IBMMQ_MSG_TYPE], headers[c.IBMMQ_BACKOUT_COUNT], headers[c.IBMMQ_CODED_CHARSET_ID]) == (1, 0, 1208)
    assert len(headers[c.IBMMQ_PUT_DATE]) == 8 and headers[c.IBMMQ_USER_IDENTIFIER] == "app"
    assert exchange.message.message_id == "ID:" + md.MsgId.hex()
    assert exchange.pattern is ExchangePattern.IN_ONLY  # disable_reply_to


def test_ebcdic_text_is_decoded_by_its_ccsid_or_converted(engine: Engine, world: World) -> None:
    route(engine, uri("IN"), "mock:a")
    engine.start()
    put_message("IN", "Grüße".encode("cp037"), Format=b"MQSTR   ", CodedCharSetId=37)
    eventually(lambda: engine.get_endpoint("mock:a").received_bodies == ["Grüße"])
    engine.stop_route("mq")
    with Engine() as other:
        route(other, uri("IN", convert="true", body_type="bytes"), "mock:b")
        put_message("IN", "Grüße".encode("cp037"), Format=b"MQSTR   ", CodedCharSetId=37)
        eventually(lambda: other.get_endpoint("mock:b").received_counter == 1)
        message = other.get_endpoint("mock:b").received_exchanges[0].message
        assert message.body == "Grüße".encode() and message.headers[c.IBMMQ_CODED_CHARSET_ID] == 1208


def test_put_inside_the_consumers_unit_of_work_commits_and_backs_out_with_the_get(engine: Engine, world: World) -> None:
    visible_before_commit: list[int] = []

    def after_put(exchange: Exchange) -> None:
        visible_before_commit.append(len(queue(world, "OUT").committed()))
        if exchange.message.body == b"fail":
            raise RuntimeError("after the put")

    route(engine, uri("IN", backout_threshold=2), uri("OUT"), after_put)
    engine.start()
    put_message("IN", b"fail")
    eventually(lambda: queue(world, "IN.BOQ").depth == 1, what="failed message moved")
    assert queue(world, "OUT").depth == 0  # both puts backed out with their gets
    put_message("IN", b"good")
    eventually(lambda: queue(world, "OUT").depth == 1 and queue(world, "IN").depth == 0)
    assert visible_before_commit == [0, 0, 0]  # never visible before the commit
    assert queue(world, "OUT").committed()[0].data == b"good"


def test_queue_full_raises_mq_error(engine: Engine, world: World) -> None:
    world.qmgr("QM1").define_queue("SMALL", max_depth=1)
    engine.start()
    engine.template.send_body(uri("SMALL"), b"1")
    with pytest.raises(MqError) as caught:
        engine.template.send_body(uri("SMALL"), b"2")
    assert (caught.value.reason, caught.value.reason_name) == (2053, "MQRC_Q_FULL")


def test_producer_reconnects_after_the_connection_broke(engine: Engine, world: World) -> None:
    engine.start()
    engine.template.send_body(uri("OUT"), b"1")
    assert world.break_connections("QM1") == 1
    engine.template.send_body(uri("OUT"), b"2")  # tried once more on a new connection
    assert queue(world, "OUT").bodies() == [b"1", b"2"]


# -- request-reply ---------------------------------------------------------------------------------------
def test_request_reply_through_a_responder_route(engine: Engine, world: World) -> None:
    world.qmgr("QM1").define_queue("QUOTES")

    def build(builder: Any) -> None:
        builder.from_(uri("QUOTES")).route_id("responder").set_body(lambda ex: f"quote for {ex.message.body}")

    engine.add_routes(build)
    engine.start()
    put_message("REPLY", "stale reply", Format=b"MQSTR   ", CorrelId=b"other".ljust(24, b"\0"))
    assert engine.template.request_body(uri("QUOTES", reply_to="REPLY"), "IBM") == "quote for IBM"
    assert engine.template.request_body(uri("QUOTES", reply_to="REPLY"), "ACME") == "quote for ACME"
    assert queue(world, "REPLY").bodies() == [b"stale reply"]  # matched by correlation id only
    assert queue(world, "QUOTES").depth == 0


def test_request_reply_times_out(engine: Engine, world: World) -> None:
    world.qmgr("QM1").define_queue("NOBODY")
    engine.start()
    started = time.monotonic()
    with pytest.raises(ExchangeTimedOutError, match="no reply on queue 'REPLY'"):
        engine.template.request_body(uri("NOBODY", reply_to="REPLY", request_timeout="300ms"), "hello?")
    assert 0.25 < time.monotonic() - started < 2.0
    request = queue(world, "NOBODY").committed()[0]
    assert request.md["MsgType"] == 1 and request.field("ReplyToQ") == "REPLY"


def test_consumed_request_gets_its_reply_in_the_same_unit_of_work(engine: Engine, world: World) -> None:
    route(engine, uri("IN"), lambda ex: setattr(ex.message, "body", ex.message.body.upper()))
    engine.start()
    md = put_message("IN", "ping", Format=b"MQSTR   ", MsgType=1, ReplyToQ=b"REPLY", Persistence=1)
    reply = get_message("REPLY", wait=5, CorrelId=md.MsgId)
    assert reply is not None
    reply_md, data = reply
    assert data == b"PING" and reply_md.MsgType == 2 and reply_md.Persistence == 1
    eventually(lambda: queue(world, "IN").depth == 0)


# -- the client library, options, secrets -------------------------------------------------------------------
def test_missing_client_library_fails_the_route_start_with_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from components.ibmmq.errors import MqClientNotInstalledError

    monkeypatch.setitem(sys.modules, "ibmmq", None)  # import ibmmq raises ImportError
    monkeypatch.setitem(sys.modules, "pymqi", None)
    engine = Engine()
    route(engine, uri("IN"), "mock:out")  # building routes does not need the library
    with pytest.raises(MqClientNotInstalledError) as caught:
        engine.start()
    text = str(caught.value)
    assert "libmqm_r.so" in text and "pip install ibmmq" in text and "import pymqi" in text


def test_real_ibmmq_without_the_mq_client_fails_only_at_route_start(tmp_path: Path) -> None:
    """In a fresh interpreter without the stand-in: IBM's wheel cannot load its C extension."""
    import subprocess

    script = (
        "import sys\n"
        "import eip, components.ibmmq\n"
        "assert 'ibmmq' not in sys.modules and 'pymqi' not in sys.modules\n"
        "from eip import Engine\n"
        "e = Engine()\n"
        "e.add_routes(lambda b: b.from_('ibmmq:IN?queue_manager=QM1').to('mock:x'))\n"
        "try:\n"
        "    e.start()\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False,
                            cwd=str(Path(__file__).resolve().parents[2]))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("MqClientNotInstalledError")
    assert "libmqm_r.so" in result.stdout and "pip install ibmmq" in result.stdout


def test_password_is_masked_in_logs_and_errors(world: World, caplog: pytest.LogCaptureFixture,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("EIP_MQ_PASSWORD", PASSWORD)
    source = uri("IN").replace(PASSWORD, "{{mq.password}}")
    with Engine() as engine:  # the placeholder resolves from the environment
        route(engine, source, "mock:out")
        put_message("IN", b"x")
        eventually(lambda: engine.get_endpoint("mock:out").received_counter == 1)
        endpoint = engine.get_endpoint(source)
        assert PASSWORD not in endpoint.uri and "password=xxxxxx" in endpoint.uri
        world.break_connections("QM1")  # reconnect warnings name the endpoint
        put_message("IN", b"y")
        eventually(lambda: engine.get_endpoint("mock:out").received_counter == 2)
    engine = Engine()
    route(engine, uri("IN").replace(PASSWORD, "not-" + PASSWORD), "mock:out")
    with pytest.raises(MqError) as caught:
        engine.start()
    logged = caplog.text + str(caught.value) + repr(endpoint.params)
    assert "ibmmq:IN" in caplog.text
    assert PASSWORD not in logged


def test_tls_options_reach_the_mqcd_and_mqsco(mqi_standin: World) -> None:
    qm = mqi_standin.add_queue_manager("QM1", cipher_spec="ANY_TLS12_OR_HIGHER")
    qm.define_queue("IN")
    tls = "ibmmq:IN?queue_manager=QM1&channel=DEV.APP.SVRCONN&conn_name=127.0.0.1(1414)&wait_interval=50ms" \
          "&cipher_spec=ANY_TLS12_OR_HIGHER&key_repository=/etc/mq/key&certificate_label=eipclient"
    with Engine() as engine:
        route(engine, tls, "mock:out")
        connection = mqi_standin.connections_to("QM1")[0]
        assert (connection.cipher_spec, connection.key_repository, connection.certificate_label) == \
            ("ANY_TLS12_OR_HIGHER", "/etc/mq/key", "eipclient")
    for bad, reason in ((tls.replace("&key_repository=/etc/mq/key", ""), 2381),
                        (tls.replace("ANY_TLS12_OR_HIGHER", "TLS_RSA_WITH_AES_128_CBC_SHA256"), 2393)):
        engine = Engine()
        route(engine, bad, "mock:out")
        with pytest.raises(MqError) as caught:
            engine.start()
        assert caught.value.reason == reason


@pytest.mark.parametrize(("query", "message"), [
    ("channel=X", "channel and conn_name go together"),
    ("password=x", "a password needs a user"),
    ("priority=10", "priority must be 0-9"),
    ("cipher_spec=X", "for client connections"),
    ("wait_intervall=1", "did you mean 'wait_interval'"),
    ("persistence=maybe", "must be one of"),
    ("ccsid=99999", "no codec"),
])
def test_bad_options_are_rejected_before_start(query: str, message: str) -> None:
    engine = Engine()
    with pytest.raises(EndpointOptionError, match=message):
        engine.add_routes(lambda b: b.from_(f"ibmmq:IN?{query}").to("mock:x"))


def test_documentation_lists_the_options() -> None:
    from components.ibmmq import IbmMqComponent

    text = IbmMqComponent.documentation()
    assert "wait_interval" in text and "backout_threshold" in text and "No real queue manager" in text

"""Reliability tests 1-3 of the connectors issue, against the real RabbitMQ and real processes.

1. kill -9 the engine process while it moves 10,000 persistent messages from one queue to
   another; restart it: every message id arrives at least once and none is missing.
2. ``rabbitmqctl stop_app`` / ``start_app`` while the engine consumes: it reconnects by itself
   and nothing is lost (the broker is always left running).
3. a poison message (bad JSON) goes to the dead-letter queue with the cause in its headers, and
   the messages after it keep flowing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

from eip import Engine, RouteBuilder, dead_letter_channel
from eip import constants as c
from eip.exchange import Exchange

sys.path.insert(0, str(Path(__file__).resolve().parent))
from amqp_support import Broker

from eip.testing import eventually

ROOT = Path(__file__).resolve().parents[2]

BRIDGE = textwrap.dedent("""
    import sys, time
    from eip import Engine, RouteBuilder
    url, source, target = sys.argv[1:4]

    class Bridge(RouteBuilder):
        def configure(self):
            self.from_(f"amqp:queue:{source}?prefetch=200").to(f"amqp:queue:{target}")

    engine = Engine([Bridge()], properties={"amqp.url": url})
    engine.start()
    print("started", flush=True)
    while True:
        time.sleep(1)
""")


def start_bridge(url: str, source: str, target: str) -> subprocess.Popen[str]:
    process = subprocess.Popen([sys.executable, "-c", BRIDGE, url, source, target], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ready = threading.Event()
    threading.Thread(target=lambda: process.stdout.readline() == "started\n" and ready.set(),  # type: ignore[union-attr]
                     daemon=True).start()
    if not ready.wait(20):
        process.kill()
        raise AssertionError(f"the engine process did not start: {process.communicate(timeout=5)[1][-2000:]}")
    return process


def collect_ids(broker: Broker, queue: str, expected: set[str], timeout: float) -> list[str]:
    """Take messages off ``queue`` until every expected id came (or the timeout); all ids seen."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while not expected <= set(seen) and time.monotonic() < deadline:
        batch = broker.drain(queue)
        seen.extend(props.message_id for props, _ in batch)
        if not batch:
            time.sleep(0.05)
    return seen


def test_kill_9_mid_run_loses_no_message(broker: Broker, rabbitmq_service: Any) -> None:
    source, target = broker.queue("in", durable=True), broker.queue("out", durable=True)
    ids = [f"m-{i:05d}" for i in range(10_000)]
    broker.publish_many(source, [b"x" * 200] * len(ids), persistent=True, message_ids=ids)

    first = start_bridge(rabbitmq_service.url, source, target)
    try:
        eventually(lambda: broker.count(target) >= 1_000, 20, "the bridge moving messages")
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
    moved_before_kill = broker.count(target)
    assert moved_before_kill < len(ids), "the kill came too late to test anything"

    second = start_bridge(rabbitmq_service.url, source, target)
    try:
        seen = collect_ids(broker, target, set(ids), timeout=40)
    finally:
        second.terminate()
        second.wait(10)
    missing = set(ids) - set(seen)
    assert not missing, f"{len(missing)} message ids never arrived, e.g. {sorted(missing)[:5]}"
    assert broker.count(source) == 0
    print(f"moved before the kill: {moved_before_kill}; duplicates after the restart: {len(seen) - len(ids)}")


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


def test_broker_restart_while_consuming_reconnects_and_loses_nothing(broker: Broker, rabbitmq_service: Any,
                                                                      require_tool: Any) -> None:
    require_tool("rabbitmqctl")  # stops and starts the broker
    source, target = broker.queue("in", durable=True), broker.queue("out", durable=True)
    ids = [f"r-{i:04d}" for i in range(2_000)]
    broker.publish_many(source, [b"payload"] * len(ids), persistent=True, message_ids=ids)
    reached, go = threading.Event(), threading.Event()
    count = [0]

    def pause_once(exchange: Exchange) -> None:
        count[0] += 1
        if count[0] == 300:  # hold the route mid-run while the broker goes down
            reached.set()
            go.wait(30)

    class Bridge(RouteBuilder):
        def configure(self) -> None:
            (self.from_(f"amqp:queue:{source}?prefetch=50&reconnect_delay=0.2&max_reconnect_delay=1")
             .process(pause_once).to(f"amqp:queue:{target}"))

    engine = Engine(properties={"amqp.url": rabbitmq_service.url})
    engine.add_routes(Bridge())
    engine.start()
    try:
        assert reached.wait(20)
        try:
            rabbitmqctl("stop_app")
            go.set()  # the exchange in hand finishes against a dead connection
            session = engine.route(engine.route_ids()[0]).consumer.sessions[0]
            eventually(lambda: not session.ready.is_set(), 10, "the engine noticed the broker is gone")
        finally:
            rabbitmqctl("start_app")
            rabbitmqctl("await_startup")
            broker.reconnect()
        seen = collect_ids(broker, target, set(ids), timeout=40)
    finally:
        go.set()
        engine.stop()
    missing = set(ids) - set(seen)
    assert not missing, f"{len(missing)} message ids never arrived, e.g. {sorted(missing)[:5]}"
    assert broker.count(source) == 0
    print(f"duplicates after the broker restart: {len(seen) - len(ids)}")


def test_poison_message_is_dead_lettered_with_its_cause_and_the_rest_flow(broker: Broker,
                                                                          rabbitmq_service: Any) -> None:
    source, target, dlq = broker.queue("in"), broker.queue("out"), broker.queue("dlq")

    class Orders(RouteBuilder):
        def configure(self) -> None:
            self.error_handler(dead_letter_channel(f"amqp:queue:{dlq}"))
            (self.from_(f"amqp:queue:{source}").unmarshal("json")
             .set_body(lambda ex: {"order": ex.message.body["id"], "ok": True}).to(f"amqp:queue:{target}"))

    engine = Engine(properties={"amqp.url": rabbitmq_service.url})
    engine.add_routes(Orders())
    engine.start()
    try:
        for i in range(20):
            body = b'{"id": %d' % i if i == 5 else b'{"id": %d}' % i  # message 5 misses its brace
            broker.publish(source, body, content_type="application/json", message_id=f"p-{i}")
        _, props, body = broker.get(dlq, timeout=10)
        eventually(lambda: broker.count(target) == 19, 10, "the 19 good messages delivered")
        eventually(lambda: broker.count(source) == 0, 10, "the source queue emptied")
    finally:
        engine.stop()
    assert body == b'{"id": 5' and props.message_id == "p-5"
    cause = props.headers[c.DEAD_LETTER_CAUSE]
    assert "json" in cause.lower() and "Expecting" in cause, cause
    out = broker.drain(target)
    assert [p.message_id for p, _ in out] == [f"p-{i}" for i in range(20) if i != 5]
    assert out[0][1] == b'{"order": 0, "ok": true}'
    assert broker.count(dlq) == 0

"""kill -9 an engine consuming from RabbitMQ: what it had processed but not acknowledged is at
most ``BATCH`` deliveries per consumer, not a prefetch window.

The child process consumes ``in`` (``prefetch=200``) and its route appends each message's number
to a file (written at once, so it survives the kill) - the route's effect. A hook in front kills
the process with SIGKILL when message ``KILL_AT`` arrives, mid-run. The broker then puts every
unacknowledged delivery back in the queue with ``redelivered`` set; a number both in the file and
back in the queue was processed and not acknowledged: a duplicate the next run processes again.
Before the consumer ran deliveries in batches, pika handed it a whole read burst (up to ~100 KB,
here about a prefetch window) and every one ran before the first ack went out.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from amqp_support import Broker

from components.amqp.consumer import BATCH
from eip import Engine, RouteBuilder

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = 1500
PREFETCH = 200
KILL_AT = 1190

CHILD = textwrap.dedent("""
    import os, signal, sys, time
    from eip import Engine, RouteBuilder

    url, source, record, consumers, prefetch, kill_at = sys.argv[1:7]
    out = open(record, "a", buffering=1)

    def crash(exchange):
        if int(exchange.message.body) == int(kill_at):
            os.kill(os.getpid(), signal.SIGKILL)

    def keep(exchange):  # a route step that takes a millisecond, like a database commit
        out.write(f"{int(exchange.message.body)}\\n")
        time.sleep(0.001)

    class Work(RouteBuilder):
        def configure(self):
            (self.from_(f"amqp:queue:{source}?prefetch={prefetch}&concurrent_consumers={consumers}")
                .process(crash).process(keep))

    engine = Engine([Work()], properties={"amqp.url": url})
    engine.start()
    print("started", flush=True)
    while True:
        time.sleep(1)
""")


def back_in_queue(broker: Broker, queue: str, expected: int) -> dict[int, bool]:
    """Every message in ``queue`` once the broker requeued the dead consumer's deliveries, as
    number -> redelivered; waits until the queue has no consumer and ``expected`` are back."""
    channel = broker.channel
    deadline = time.monotonic() + 30
    while True:
        ok = channel.queue_declare(queue, passive=True).method
        if ok.consumer_count == 0 and ok.message_count >= expected:
            break
        assert time.monotonic() < deadline, f"the broker did not requeue: {ok.message_count} of {expected} back"
        time.sleep(0.05)
    found: dict[int, bool] = {}
    while True:
        method, _properties, body = channel.basic_get(queue, auto_ack=True)
        if method is None:
            return found
        found[json.loads(body)] = method.redelivered


@pytest.mark.parametrize("consumers", [1, 2])
def test_kill_9_leaves_at_most_a_batch_per_consumer_unacknowledged(broker: Broker, rabbitmq_service: Any,
                                                                   consumers: int, tmp_path: Path) -> None:
    source = broker.queue("in")
    broker.publish_many(source, [json.dumps(n).encode() for n in range(MESSAGES)])
    record, log = tmp_path / "processed.txt", tmp_path / "child.log"
    with log.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-c", CHILD, rabbitmq_service.url, source, str(record), str(consumers), str(PREFETCH),
             str(KILL_AT)], cwd=ROOT, stdout=subprocess.PIPE, stderr=err, text=True)
    try:
        assert process.wait(60) == -signal.SIGKILL, f"the hook did not kill the engine: {log.read_text()[-2000:]}"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    processed = [int(line) for line in record.read_text().split()]
    assert len(processed) == len(set(processed)) and KILL_AT not in processed
    assert len(processed) >= KILL_AT // 2, "the kill came too early to test anything"
    again = back_in_queue(broker, source, MESSAGES - len(processed))
    assert set(again) | set(processed) == set(range(MESSAGES)), "messages were lost"
    duplicates = sorted(set(again) & set(processed))
    print(f"\n{consumers} consumer(s): {len(processed)} processed before the kill, {len(again)} back in the "
          f"queue, {len(duplicates)} processed and not acknowledged")
    assert all(again[n] for n in duplicates)
    assert len(duplicates) <= consumers * BATCH, (
        f"{len(duplicates)} messages processed but not acknowledged at the kill, more than {BATCH} per consumer")


def test_stopping_mid_run_puts_the_deliveries_not_run_back_untouched(broker: Broker, rabbitmq_service: Any) -> None:
    """Deliveries pika read but the consumer had not run yet go back to the queue at a stop:
    each message is either processed and acknowledged or back in the queue, never both."""
    source = broker.queue("stop")
    broker.publish_many(source, [json.dumps(n).encode() for n in range(500)])
    processed: list[int] = []
    reached = threading.Event()

    def keep(exchange: Any) -> None:
        processed.append(int(exchange.message.body))
        if len(processed) == 100:
            reached.set()
        time.sleep(0.001)

    class Work(RouteBuilder):
        def configure(self) -> None:
            self.from_(f"amqp:queue:{source}?prefetch=200").route_id("work").process(keep)

    with Engine([Work()], properties={"amqp.url": rabbitmq_service.url}) as engine:
        assert reached.wait(30), "the route did not get going"
        assert engine.stop_route("work") == []
        deadline = time.monotonic() + 10
        while broker.count(source) != 500 - len(processed):
            assert time.monotonic() < deadline, (
                f"{broker.count(source)} messages in the queue after {len(processed)} of 500 were processed")
            time.sleep(0.05)
        again = back_in_queue(broker, source, 500 - len(processed))
    assert len(processed) < 500 and len(set(processed)) == len(processed)
    assert set(again).isdisjoint(processed) and set(again) | set(processed) == set(range(500))

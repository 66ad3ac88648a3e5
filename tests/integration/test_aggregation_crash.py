"""kill -9 an engine aggregating from RabbitMQ into an SQL aggregation repository: after the
restart, the repository re-emits at most the groups that were being emitted at the kill.

The child process consumes ``in`` (``prefetch=200``, ``concurrent_consumers`` C), aggregates
batches of ``SIZE`` messages into a ``SqlAggregationRepository`` (a SQLite file, or PostgreSQL)
and publishes each batch to ``out``. A hook in front of the aggregator kills the process with
SIGKILL when message ``KILL_AT`` arrives, so the kill always comes mid-run, right after many
completions. A completed group leaves the repository (``confirm``) as soon as its exchange is
done, so what is still in the ``_completed`` table at that moment - what recovery re-emits, the
duplicate batches - is bounded by the threads completing groups at once: the C consumer threads
plus the completion checker (``completion_timeout``). Before issue 9 item 14 the confirmations
came back in bursts, after the publisher confirms of a whole prefetch window, and a kill left
about ``prefetch / SIZE`` groups (20) there, re-published in full after the restart.

Messages aggregated but not yet acknowledged at the kill are delivered again by the broker and
aggregated again: that is the consumer's at-least-once window (at most ``BATCH`` deliveries per
consumer, see ``components/amqp/consumer.py``; a whole prefetch window before issue 9 item 14),
measured and bounded here as well, and left to an idempotent consumer in front of the aggregator
to remove.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pika
import pytest
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from amqp_support import Broker

from components.amqp.consumer import BATCH

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = 2000
SIZE = 10
PREFETCH = 200
KILL_AT = 1205  # mid-group, 120 groups after the start

CHILD = textwrap.dedent("""
    import os, signal, sys, time
    from eip import Engine, RouteBuilder, SqlAggregationRepository, group_bodies, header

    url, db, table, source, target = sys.argv[1:6]
    size, prefetch, consumers, kill_at = map(int, sys.argv[6:10])

    def crash(exchange):
        if exchange.message.body == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    repository = SqlAggregationRepository(db, table, instance_id="crash-test", recovery_interval=0.2)

    class Batches(RouteBuilder):
        def configure(self):
            (self.from_(f"amqp:queue:{source}?prefetch={prefetch}&concurrent_consumers={consumers}")
                .process(crash)
                .aggregate(header("group"), group_bodies, completion_size=size, completion_timeout=1.0,
                           repository=repository)
                    .to(f"amqp:queue:{target}")
                .end())

    engine = Engine([Batches()], properties={"amqp.url": url})
    engine.start()
    print("started", flush=True)
    while True:
        time.sleep(1)
""")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        service = request.getfixturevalue("postgresql_service")
        return service.url.replace("postgresql://", "postgresql+psycopg://", 1)
    return f"sqlite:///{tmp_path / 'aggregation.db'}"


def start(args: list[str], log: Path) -> subprocess.Popen[str]:
    with log.open("a") as err:
        process = subprocess.Popen([sys.executable, "-c", CHILD, *args], cwd=ROOT, stdout=subprocess.PIPE,
                                   stderr=err, text=True)
    ready = threading.Event()
    threading.Thread(target=lambda: process.stdout.readline() == "started\n" and ready.set(),  # type: ignore[union-attr]
                     daemon=True).start()
    if not ready.wait(30):
        process.kill()
        raise AssertionError(f"the engine process did not start: {log.read_text()[-2000:]}")
    return process


def rows(db: Any, table: str) -> tuple[int, int]:
    """(open groups, completed groups not confirmed) in the repository's tables."""
    with db.connect() as conn:
        return (int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()),
                int(conn.execute(text(f"SELECT count(*) FROM {table}_completed")).scalar_one()))


def take(broker: Broker, queue: str, batches: list[tuple[list[int], bool]]) -> None:
    """Append every batch in ``queue`` as (its numbers, whether recovery re-emitted it)."""
    for properties, body in broker.drain(queue):
        batches.append((json.loads(body), bool((properties.headers or {}).get("CamelRedelivered"))))


@pytest.mark.parametrize("consumers", [1, 3])
def test_kill_9_re_emits_at_most_the_groups_in_flight(broker: Broker, rabbitmq_service: Any, db_url: str,
                                                      consumers: int, tmp_path: Path) -> None:
    source, target = broker.queue("in", durable=True), broker.queue("out", durable=True)
    channel = broker.channel
    for number in range(MESSAGES):
        channel.basic_publish("", source, json.dumps(number).encode(), pika.BasicProperties(
            delivery_mode=2, content_type="application/json", headers={"group": number // SIZE}))
    assert broker.wait_count(source, MESSAGES, timeout=30) == MESSAGES
    table = f"agg_{uuid.uuid4().hex[:10]}"
    db = create_engine(db_url)
    args = [rabbitmq_service.url, db_url, table, source, target, str(SIZE), str(PREFETCH), str(consumers)]
    log = tmp_path / "child.log"
    bound = consumers + 1  # one group per thread that completes groups: the consumers and the checker
    batches: list[tuple[list[int], bool]] = []
    processes: list[subprocess.Popen[str]] = []
    try:
        processes.append(start([*args, str(KILL_AT)], log))
        assert processes[0].wait(60) == -signal.SIGKILL, f"the hook did not kill the engine: {log.read_text()[-2000:]}"
        _, in_flight = rows(db, table)
        emitted_before = broker.count(target)
        back_in_queue = broker.count(source)  # not acknowledged: delivered again after the restart
        assert emitted_before >= KILL_AT // SIZE // consumers - 1, "the kill came too early to test anything"
        assert in_flight <= bound, (
            f"{in_flight} completed group(s) not confirmed at the kill: recovery re-emits them all, "
            f"but at most {bound} can have been in flight")

        processes.append(start([*args, "-1"], log))
        deadline = time.monotonic() + 60
        while True:
            take(broker, target, batches)
            seen = {number for batch, _ in batches for number in batch}
            if len(seen) == MESSAGES and rows(db, table) == (0, 0):
                break  # every group confirmed, so every batch is in the queue (confirmed there first)
            assert time.monotonic() < deadline, (
                f"after the restart: {MESSAGES - len(seen)} message(s) never arrived, repository rows "
                f"(open, completed) {rows(db, table)}")
            time.sleep(0.1)
        take(broker, target, batches)
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(10)
        try:
            with db.begin() as conn:
                conn.execute(text(f"DROP TABLE IF EXISTS {table}_completed"))
                conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
        finally:
            db.dispose()

    counts = Counter(tuple(sorted(batch)) for batch, _ in batches)
    re_emitted = sum(1 for _, redelivered in batches if redelivered)
    duplicates = sum(len(batch) for batch, _ in batches) - MESSAGES
    print(f"\n{consumers} consumer(s), {db.dialect.name}: {emitted_before} batches out before the kill, {in_flight} "
          f"in flight, {back_in_queue} messages back in the queue; after the restart: {re_emitted} batch(es) "
          f"re-emitted by recovery, {sum(n - 1 for n in counts.values())} duplicate batch(es) in all, "
          f"{duplicates} duplicate message(s) of {MESSAGES}")
    assert re_emitted == in_flight  # recovery re-emits exactly what was not confirmed, nothing more
    # The rest is the consumers' at-least-once window: aggregated, not acknowledged, delivered again.
    assert duplicates <= bound * SIZE + consumers * BATCH

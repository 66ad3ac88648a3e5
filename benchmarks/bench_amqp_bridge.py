"""AMQP bridge benchmark: consume a queue, publish each message to another with publisher
confirms, acknowledge each source message only after its publish was confirmed.

Variants, all with the same prefetch, measured in one run on the real RabbitMQ:

* ``pika sync``: the hand-written pika loop most code has - BlockingConnection,
  ``confirm_delivery()``, publish (which waits for its confirm) then ack, in the callback;
* ``kombu``: kombu with ``confirm_publish=True``; as the callback may not publish (it recurses,
  see the dependency notes) it queues messages, and the main loop publishes (waiting for each
  confirm) and acks them;
* ``pika window``: a hand-written SelectConnection bridge keeping a window of unconfirmed
  publishes, acking sources as confirms come (the ceiling for a pika-based engine);
* ``engine``: ``from("amqp:queue:in?prefetch=P").to("amqp:queue:out")``.

For transient messages on non-durable queues and persistent messages on durable ones. Prints
msg/s (best of ``--repeat`` runs; the variants take turns so machine noise spreads evenly) and
the engine's ratio to the pika loop and to kombu. ``--profile`` prints where the engine's
consumer thread spends its time. Run: ``python benchmarks/bench_amqp_bridge.py``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
import uuid
from collections.abc import Callable

import pika
from pika.adapters.select_connection import IOLoop, SelectConnection

from eip import Engine, RouteBuilder

DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
BODY = b"x" * 200


class Queues:
    def __init__(self, url: str, durable: bool) -> None:
        self.url = url
        self.durable = durable
        prefix = f"eip.bench.{uuid.uuid4().hex[:8]}"
        self.source, self.target = f"{prefix}.in", f"{prefix}.out"
        self.connection = pika.BlockingConnection(pika.URLParameters(url))
        self.channel = self.connection.channel()
        for name in (self.source, self.target):
            self.channel.queue_declare(name, durable=durable)

    def count(self, name: str) -> int:
        return self.channel.queue_declare(name, passive=True, durable=self.durable).method.message_count

    def fill(self, messages: int) -> None:
        self.channel.queue_purge(self.source)
        self.channel.queue_purge(self.target)
        props = pika.BasicProperties(delivery_mode=2 if self.durable else 1)
        for _ in range(messages):
            self.channel.basic_publish("", self.source, BODY, props)
        while self.count(self.source) < messages:
            time.sleep(0.02)

    def check(self, messages: int) -> None:
        deadline = time.monotonic() + 30
        while (self.count(self.target) < messages or self.count(self.source)) and time.monotonic() < deadline:
            time.sleep(0.02)
        moved, left = self.count(self.target), self.count(self.source)
        assert moved >= messages and left == 0, f"moved {moved} of {messages}, {left} left in the source"

    def delete(self) -> None:
        for name in (self.source, self.target):
            self.channel.queue_delete(name)
        self.connection.close()


def pika_sync(q: Queues, messages: int, prefetch: int) -> float:
    connection = pika.BlockingConnection(pika.URLParameters(q.url))
    channel, publisher = connection.channel(), connection.channel()
    publisher.confirm_delivery()
    channel.basic_qos(prefetch_count=prefetch)
    props = pika.BasicProperties(delivery_mode=2 if q.durable else 1)
    done = [0]

    def on_message(ch, method, properties, body):
        publisher.basic_publish("", q.target, body, props)  # returns once confirmed
        ch.basic_ack(method.delivery_tag)
        done[0] += 1
        if done[0] == messages:
            ch.stop_consuming()

    channel.basic_consume(q.source, on_message)
    started = time.perf_counter()
    channel.start_consuming()
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def kombu_bridge(q: Queues, messages: int, prefetch: int) -> float:
    from kombu import Connection, Consumer, Producer, Queue

    with Connection(q.url, transport_options={"confirm_publish": True}) as connection:
        channel = connection.channel()
        channel.basic_qos(0, prefetch, False)
        producer = Producer(channel)
        pending: list = []
        consumer = Consumer(channel, queues=[Queue(q.source, channel=channel, no_declare=True)],
                            on_message=pending.append, prefetch_count=prefetch)
        mode = 2 if q.durable else 1
        done = 0
        with consumer:
            started = time.perf_counter()
            while done < messages:
                connection.drain_events(timeout=10)
                for message in pending:  # never publish inside the callback: it would recurse
                    producer.publish(message.body, routing_key=q.target, exchange="", delivery_mode=mode,
                                     content_type="application/octet-stream", content_encoding="binary")
                    message.ack()
                done += len(pending)
                pending.clear()
            return time.perf_counter() - started


def pika_window(q: Queues, messages: int, prefetch: int) -> float:
    ioloop = IOLoop()
    props = pika.BasicProperties(delivery_mode=2 if q.durable else 1)
    state: dict = {"acked": 0, "seq": 0}
    pending: dict[int, int] = {}  # publish sequence number -> source delivery tag
    order: list[int] = []

    def on_open(connection: SelectConnection) -> None:
        connection.channel(on_open_callback=on_consume_channel)

    def on_consume_channel(channel) -> None:
        state["consume"] = channel
        channel.basic_qos(prefetch_count=prefetch,
                          callback=lambda _: state["connection"].channel(on_open_callback=on_publish_channel))

    def on_publish_channel(channel) -> None:
        state["publish"] = channel
        channel.confirm_delivery(ack_nack_callback=on_confirm, callback=lambda _: begin())

    def begin() -> None:
        state["started"] = time.perf_counter()
        state["consume"].basic_consume(q.source, on_message)

    def on_message(channel, method, properties, body) -> None:
        state["seq"] += 1
        pending[state["seq"]] = method.delivery_tag
        order.append(state["seq"])
        state["publish"].basic_publish("", q.target, body, props)

    def on_confirm(frame) -> None:
        tag, last = frame.method.delivery_tag, 0
        seqs = [s for s in order if s <= tag] if frame.method.multiple else [tag]
        for seq in seqs:
            last = max(last, pending.pop(seq))
        order[:] = [s for s in order if s in pending]
        state["consume"].basic_ack(last, multiple=True)
        state["acked"] += len(seqs)
        if state["acked"] >= messages:
            state["elapsed"] = time.perf_counter() - state["started"]
            state["connection"].close()

    state["connection"] = SelectConnection(pika.URLParameters(q.url), on_open_callback=on_open,
                                           on_close_callback=lambda *_: ioloop.stop(), custom_ioloop=ioloop)
    ioloop.start()
    ioloop.close()
    return state["elapsed"]


def engine_bridge(q: Queues, messages: int, prefetch: int, profile: cProfile.Profile | None = None) -> float:
    class Bridge(RouteBuilder):
        def configure(self) -> None:
            (self.from_(f"amqp:queue:{q.source}?prefetch={prefetch}").route_id("bridge").auto_startup(False)
             .to(f"amqp:queue:{q.target}?persistent={'true' if q.durable else 'false'}"))

    engine = Engine([Bridge()], properties={"amqp.url": q.url})
    engine.start()
    if profile is not None:
        _profile_consumer_threads(profile)
    try:
        started = time.perf_counter()
        engine.start_route("bridge")
        consumer = engine.route("bridge").consumer
        stats = engine.route("bridge").entry.stats
        while stats.completed < messages or any(s.unsettled for s in consumer.sessions):
            time.sleep(0.005)
        return time.perf_counter() - started
    finally:
        engine.stop()


def _profile_consumer_threads(profile: cProfile.Profile) -> None:
    from components.amqp import consumer

    original = consumer.ConsumerSession._run

    def run(self: consumer.ConsumerSession) -> None:
        consumer.ConsumerSession._run = original  # once
        profile.enable()
        try:
            original(self)
        finally:
            profile.disable()

    consumer.ConsumerSession._run = run  # type: ignore[method-assign]


VARIANTS: dict[str, Callable[[Queues, int, int], float]] = {
    "pika sync": pika_sync,
    "kombu": kombu_bridge,
    "pika window": pika_window,
    "engine": engine_bridge,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--messages", type=int, default=10_000, help="transient messages per run")
    parser.add_argument("--persistent-messages", type=int, default=5_000, help="persistent messages per run")
    parser.add_argument("--prefetch", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="profile the engine's consumer thread")
    args = parser.parse_args()

    for durable, messages in ((False, args.messages), (True, args.persistent_messages)):
        queues = Queues(args.url, durable)
        best: dict[str, float] = {}
        try:
            for _ in range(args.repeat):
                for name, variant in VARIANTS.items():
                    queues.fill(messages)
                    elapsed = variant(queues, messages, args.prefetch)
                    queues.check(messages)
                    best[name] = min(best.get(name, elapsed), elapsed)
            if args.profile:
                profile = cProfile.Profile()
                queues.fill(messages)
                engine_bridge(queues, messages, args.prefetch, profile)
                out = io.StringIO()
                pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(15)
                print(out.getvalue())
        finally:
            queues.delete()
        kind = "persistent messages, durable queues" if durable else "transient messages, non-durable queues"
        print(f"{kind}: {messages:,} messages, prefetch {args.prefetch}, best of {args.repeat}")
        for name, elapsed in best.items():
            print(f"  {name:12s} {messages / elapsed:10,.0f} msg/s")
        rate = {name: messages / elapsed for name, elapsed in best.items()}
        print(f"  engine / pika sync: {rate['engine'] / rate['pika sync']:.2f}   "
              f"engine / kombu: {rate['engine'] / rate['kombu']:.2f}   "
              f"engine / pika window: {rate['engine'] / rate['pika window']:.2f}   (target: engine >= 1.5 x pika sync)")


if __name__ == "__main__":
    main()

"""Test helpers for the amqp component: a raw pika view of the real broker, with unique names.

Tests set up and inspect the broker through plain pika (never through the component under
test), name every queue and exchange with a per-test prefix, and delete them afterwards.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
import uuid
from typing import Any

import pika
import pika.exceptions

from eip.testing import eventually


class Broker:
    """A blocking pika connection for setting up and checking a test's queues."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.prefix = f"eip.test.{uuid.uuid4().hex[:10]}"
        self.queues: list[str] = []
        self.exchanges: list[str] = []
        self._connection: Any = None
        self._channel: Any = None

    @property
    def channel(self) -> Any:
        if self._channel is None or self._channel.is_closed or self._connection.is_closed:
            if self._connection is not None and self._connection.is_open:
                with contextlib.suppress(pika.exceptions.AMQPError, OSError):
                    self._connection.close()
            # The test's own connection retries briefly: a broker busy with other suites on a
            # 2-core machine may refuse one attempt; the engine under test reconnects on its own.
            parameters = pika.URLParameters(self.url)
            parameters.connection_attempts, parameters.retry_delay = 5, 0.5
            self._connection = pika.BlockingConnection(parameters)
            self._channel = self._connection.channel()
        return self._channel

    def reconnect(self) -> None:
        """Forget the connection (after a broker restart killed it); the next call opens another."""
        self._connection = self._channel = None

    def name(self, suffix: str) -> str:
        """A unique queue name for this test, deleted at cleanup (not declared)."""
        name = f"{self.prefix}.{suffix}"
        self.queues.append(name)
        return name

    def queue(self, suffix: str, durable: bool = False, **arguments: Any) -> str:
        name = self.name(suffix)
        self.channel.queue_declare(name, durable=durable, arguments=arguments or None)
        return name

    def exchange(self, suffix: str, kind: str = "direct") -> str:
        name = f"{self.prefix}.{suffix}"
        self.exchanges.append(name)
        self.channel.exchange_declare(name, exchange_type=kind)
        return name

    def publish(self, queue: str, body: bytes | str, exchange: str = "", **properties: Any) -> None:
        self.channel.basic_publish(exchange, queue, body, pika.BasicProperties(**properties))

    def publish_many(self, queue: str, bodies: list[bytes], persistent: bool = False,
                     message_ids: list[str] | None = None) -> None:
        """Publish without confirms, then wait until the queue (nobody consumes) holds them all."""
        channel = self.channel
        before = self.count(queue)
        mode = 2 if persistent else 1
        for index, body in enumerate(bodies):
            message_id = message_ids[index] if message_ids else None
            channel.basic_publish("", queue, body, pika.BasicProperties(delivery_mode=mode, message_id=message_id))
        self.wait_count(queue, before + len(bodies), timeout=30)

    def count(self, queue: str) -> int:
        """Messages ready in ``queue`` (not those delivered and unacked)."""
        return self.channel.queue_declare(queue, passive=True).method.message_count

    def wait_count(self, queue: str, at_least: int, timeout: float = 10.0) -> int:
        deadline = time.monotonic() + timeout
        while True:
            count = self.count(queue)
            if count >= at_least or time.monotonic() > deadline:
                return count
            time.sleep(0.02)

    def get(self, queue: str, timeout: float = 5.0) -> tuple[Any, Any, bytes]:
        """The next message of ``queue`` (acked), waiting up to ``timeout``; AssertionError if none."""

        def next_message() -> tuple[Any, Any, bytes] | None:
            method, properties, body = self.channel.basic_get(queue, auto_ack=True)
            return (method, properties, body) if method is not None else None

        return eventually(next_message, timeout, f"a message in {queue}")

    def drain(self, queue: str) -> list[tuple[Any, bytes]]:
        """Every message ready in ``queue`` now, as ``(properties, body)`` (acked)."""
        messages = []
        while True:
            method, properties, body = self.channel.basic_get(queue, auto_ack=True)
            if method is None:
                return messages
            messages.append((properties, body))

    def cleanup(self) -> None:
        try:
            channel = self.channel
            for queue in self.queues:
                channel.queue_delete(queue)
            for exchange in self.exchanges:
                channel.exchange_delete(exchange)
            self._connection.close()
        except (pika.exceptions.AMQPError, OSError):
            pass


def close_connections(name_part: str, timeout: float = 10.0) -> int:
    """Close, from the broker's side, every connection whose name contains ``name_part``
    (``rabbitmqctl``); returns how many were closed."""
    listed = subprocess.run(["rabbitmqctl", "-q", "list_connections", "pid", "client_properties"],
                            capture_output=True, text=True, timeout=timeout, check=True).stdout
    pids = [line.split("\t", 1)[0] for line in listed.splitlines() if name_part in line]
    for pid in pids:
        subprocess.run(["rabbitmqctl", "-q", "close_connection", pid, "test: connection dropped on purpose"],
                       capture_output=True, timeout=timeout, check=False)
    return len(pids)

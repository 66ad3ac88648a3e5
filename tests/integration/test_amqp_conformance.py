"""amqp passes the shared broker/database conformance suite (``conformance.py``) on RabbitMQ."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from eip import Engine
from eip import constants as c

sys.path.insert(0, str(Path(__file__).resolve().parent))
from amqp_support import Broker, close_connections
from conformance import ConformanceAdapter, ConformanceSuite


class AmqpAdapter(ConformanceAdapter):
    """One durable-less test queue, sent to and consumed through amqp:queue:."""

    redelivery_options: ClassVar[dict[str, Any]] = {"requeue_on_failure": "true"}

    def __init__(self, url: str) -> None:
        self.url = url
        self.broker = Broker(url)
        self.queue = self.broker.queue("conformance")
        self.connection_name = f"{self.broker.prefix}-conn"
        self.common = f"connection_name={self.connection_name}&reconnect_delay=0.1&max_reconnect_delay=0.5"

    def configure(self, engine: Engine) -> None:
        engine.properties["amqp.url"] = self.url

    def consumer_uri(self, **options: Any) -> str:
        extra = "".join(f"&{name}={value}" for name, value in options.items())
        return f"amqp:queue:{self.queue}?{self.common}{extra}"

    def producer_uri(self) -> str:
        return f"amqp:queue:{self.queue}?{self.common}"

    def header_samples(self) -> dict[str, Any]:
        return {"tenant": "acme", "attempt": 3, "urgent": True, "tags": ["a", "b"],
                c.AMQP_CORRELATION_ID: "corr-1", c.AMQP_MESSAGE_ID: "msg-1"}

    def break_connections(self, engine: Engine) -> None:
        assert close_connections(self.connection_name) >= 2  # the consumer's and the publisher's

    def cleanup(self) -> None:
        self.broker.cleanup()


class TestAmqpConformance(ConformanceSuite):
    @pytest.fixture
    def conformance(self, rabbitmq_service: Any) -> Iterator[AmqpAdapter]:
        adapter = AmqpAdapter(rabbitmq_service.url)
        yield adapter
        adapter.cleanup()

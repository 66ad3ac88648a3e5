"""Fixtures shared by the real-service integration tests."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from amqp_support import Broker


@pytest.fixture
def broker(rabbitmq_service: Any) -> Iterator[Broker]:
    """A test's own connection to the real RabbitMQ; the queues it declared are deleted after."""
    b = Broker(rabbitmq_service.url)
    yield b
    b.cleanup()

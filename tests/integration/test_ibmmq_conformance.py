"""ibmmq passes the shared broker/database conformance suite (``conformance.py``) over the MQI stand-in.

No queue manager is reachable here, so the "server" is the in-repo stand-in for IBM's MQI C
library (``tests/support/ibmmq_standin``), under IBM's real ``ibmmq`` Python layer. Redelivery
needs no option: a failed exchange's get is backed out, and the message is at the head of the
queue again with BackoutCount 1. "The server drops the connections" is the stand-in breaking
every connection to the queue manager (reason 2009 from then on).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eip import Engine
from eip import constants as c

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from conformance import ConformanceAdapter, ConformanceSuite
from ibmmq_standin import World, standin_world


@pytest.fixture
def mqi_standin() -> Iterator[World]:
    """A fresh world of queue managers behind IBM's ``ibmmq`` layer (the MQI stand-in)."""
    with standin_world() as world:
        yield world


COMMON = ("queue_manager=QM1&channel=DEV.APP.SVRCONN&conn_name=127.0.0.1(1414)&user=app&password=conf-secret"
          "&wait_interval=100ms&reconnect_delay=50ms&max_reconnect_delay=200ms")


class MqAdapter(ConformanceAdapter):
    """One queue on one queue manager, put to and got from through ibmmq:CONF."""

    timeout = 5.0

    def __init__(self, world: World) -> None:
        self.world = world
        qm = world.add_queue_manager("QM1", users={"app": "conf-secret"})
        qm.define_queue("CONF", backout_threshold=5, backout_queue="CONF.BOQ")
        qm.define_queue("CONF.BOQ")

    def consumer_uri(self, **options: Any) -> str:
        extra = "".join(f"&{name}={value}" for name, value in options.items())
        return f"ibmmq:CONF?{COMMON}{extra}"

    def producer_uri(self) -> str:
        return f"ibmmq:CONF?{COMMON}"

    def header_samples(self) -> dict[str, Any]:
        return {"tenant": "acme", "attempt": 3, "urgent": True, "ratio": 0.5, "blob": b"\x00\x01",
                c.IBMMQ_CORREL_ID: b"corr-1".ljust(24, b"\0"), c.IBMMQ_PRIORITY: 7}

    def number(self, body: Any) -> int:
        return int(json.loads(body)["n"])  # a dict is put as JSON text (MQSTR) and consumed as str

    def break_connections(self, engine: Engine) -> None:
        assert self.world.break_connections("QM1") >= 2  # the consumer's and the producer's


class TestIbmMqConformance(ConformanceSuite):
    @pytest.fixture
    def conformance(self, mqi_standin: World) -> Iterator[MqAdapter]:
        yield MqAdapter(mqi_standin)

"""The MQI stand-in behaves as IBM documents MQ, seen through IBM's own ``ibmmq`` Python layer.

The component's tests trust the stand-in as their queue manager; these tests pin down the
behaviour they rely on (syncpoint, backout count, waits, matching, limits, handle binding).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from legacy.mq import Rfh2

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from ibmmq_standin import World, standin_world


@pytest.fixture
def world() -> Iterator[World]:
    with standin_world() as world:
        qm = world.add_queue_manager("QM1", users={"app": "pw"})
        qm.define_queue("Q", max_depth=3)
        world.add_queue_manager("QM2").define_queue("REMOTE")
        yield world


@pytest.fixture
def mq(world: World) -> Any:
    import ibmmq

    return ibmmq


def connect(mq: Any, **kwargs: Any) -> Any:
    return mq.connect("QM1", "DEV.APP.SVRCONN", "127.0.0.1(1414)", user="app", password="pw", **kwargs)


def open_queue(mq: Any, qmgr: Any, name: str = "Q") -> Any:
    CMQC = mq.CMQC
    return mq.Queue(qmgr, name, CMQC.MQOO_INPUT_SHARED | CMQC.MQOO_OUTPUT | CMQC.MQOO_INQUIRE)


def get(mq: Any, queue: Any, wait_ms: int = 0, syncpoint: bool = False, **md: Any) -> tuple[Any, bytes]:
    CMQC = mq.CMQC
    options = (CMQC.MQGMO_WAIT if wait_ms else 0) | (CMQC.MQGMO_SYNCPOINT if syncpoint else CMQC.MQGMO_NO_SYNCPOINT)
    descriptor = mq.MD(**md)
    data = queue.get(None, descriptor, mq.GMO(Options=options, WaitInterval=wait_ms))
    return descriptor, data


def reason(mq: Any, fn: Any) -> int:
    with pytest.raises(mq.MQMIError) as caught:
        fn()
    return int(caught.value.reason)


def test_syncpoint_backout_counts_and_disconnect_commits(world: World, mq: Any) -> None:
    CMQC = mq.CMQC
    qmgr = connect(mq)
    queue = open_queue(mq, qmgr)
    queue.put(b"m", mq.MD(), mq.PMO(Options=CMQC.MQPMO_SYNCPOINT))
    assert world.qmgr("QM1").queue("Q").committed() == []  # an uncommitted put is invisible
    qmgr.commit()
    for expected in (0, 1, 2):
        md, _ = get(mq, queue, syncpoint=True)
        assert md.BackoutCount == expected
        qmgr.backout()
    get(mq, queue, syncpoint=True)
    queue.close()
    qmgr.disconnect()  # a normal MQDISC commits the unit of work (MQ outside z/OS)
    assert world.qmgr("QM1").queue("Q").depth == 0


def test_a_broken_connection_backs_out_and_answers_2009(world: World, mq: Any) -> None:
    qmgr = connect(mq)
    queue = open_queue(mq, qmgr)
    queue.put(b"m")
    get(mq, queue, syncpoint=True)
    assert world.break_connections("QM1") == 1
    assert reason(mq, qmgr.commit) == 2009
    assert [m.backout_count for m in world.qmgr("QM1").queue("Q").committed()] == [1]


def test_priority_then_arrival_order_and_correlation_matching(world: World, mq: Any) -> None:
    qmgr = connect(mq)
    queue = open_queue(mq, qmgr)
    queue.put(b"low-1", mq.MD(Priority=1))
    queue.put(b"high", mq.MD(Priority=5, CorrelId=b"K".ljust(24, b"\0")))
    queue.put(b"low-2", mq.MD(Priority=1))
    _, data = get(mq, queue, CorrelId=b"K".ljust(24, b"\0"))
    assert data == b"high"
    assert [get(mq, queue)[1] for _ in range(2)] == [b"low-1", b"low-2"]


def test_wait_interval_blocks_until_a_put_or_the_timeout(world: World, mq: Any) -> None:
    qmgr = connect(mq)
    queue = open_queue(mq, qmgr)
    started = time.monotonic()
    assert reason(mq, lambda: get(mq, queue, wait_ms=150)) == 2033
    assert 0.14 <= time.monotonic() - started < 1.0

    def put_later() -> None:
        time.sleep(0.05)
        other = connect(mq)
        open_queue(mq, other).put(b"woken")
        other.disconnect()

    threading.Thread(target=put_later).start()
    started = time.monotonic()
    assert get(mq, queue, wait_ms=5000)[1] == b"woken"
    assert time.monotonic() - started < 1.0


def test_limits_and_errors(world: World, mq: Any) -> None:
    CMQC = mq.CMQC
    qmgr = connect(mq)
    queue = open_queue(mq, qmgr)
    for _ in range(3):
        queue.put(b"x", mq.MD(), mq.PMO(Options=CMQC.MQPMO_SYNCPOINT))
    assert reason(mq, lambda: queue.put(b"4")) == 2053  # uncommitted puts count toward MAXDEPTH
    assert reason(mq, lambda: mq.Queue(qmgr, "NOPE", CMQC.MQOO_OUTPUT)) == 2085
    assert reason(mq, lambda: qmgr.put1(mq.OD(ObjectName=b"R", ObjectQMgrName=b"QM9"), b"x")) == 2087
    output_only = mq.Queue(qmgr, "Q", CMQC.MQOO_OUTPUT)
    assert reason(mq, lambda: output_only.inquire(CMQC.MQIA_BACKOUT_THRESHOLD)) == 2038
    assert reason(mq, lambda: queue.inquire(CMQC.MQCA_DEAD_LETTER_Q_NAME)) == 2067
    assert queue.inquire(CMQC.MQIA_CURRENT_Q_DEPTH) == 3
    assert reason(mq, lambda: mq.connect("QM1", "DEV.APP.SVRCONN", "127.0.0.1(1414)", user="app",
                                         password="no")) == 2035
    assert reason(mq, lambda: mq.connect("QM1", "DEV.APP.SVRCONN", "10.0.0.1(1414)")) == 2538


def test_truncation_and_long_messages(world: World, mq: Any) -> None:
    qmgr = connect(mq)
    queue = open_queue(mq, qmgr)
    queue.put(b"y" * 10)
    with pytest.raises(mq.MQMIError) as caught:
        queue.get(4, mq.MD(), mq.GMO())
    assert caught.value.reason == 2080 and caught.value.original_length == 10
    assert queue.get(None, mq.MD(), mq.GMO()) == b"y" * 10  # still there, untouched
    queue.put(b"z" * 10000)
    assert queue.get() == b"z" * 10000  # IBM's layer gets again with the length the first try reported


def test_expired_messages_are_never_delivered(world: World, mq: Any) -> None:
    qmgr = connect(mq)
    queue = open_queue(mq, qmgr)
    queue.put(b"short-lived", mq.MD(Expiry=1))  # a tenth of a second
    time.sleep(0.15)
    assert reason(mq, lambda: get(mq, queue)) == 2033


def test_put_to_another_queue_manager(world: World, mq: Any) -> None:
    qmgr = connect(mq)
    qmgr.put1(mq.OD(ObjectName=b"REMOTE", ObjectQMgrName=b"QM2"), b"over there")
    assert world.qmgr("QM2").queue("REMOTE").bodies() == [b"over there"]


def test_no_properties_takes_the_rfh2_off(world: World, mq: Any) -> None:
    CMQC = mq.CMQC
    qmgr = connect(mq)
    queue = open_queue(mq, qmgr)
    data = Rfh2({"usr": {"a": "b"}}, format="MQSTR").pack() + b"body"
    queue.put(data, mq.MD(Format=CMQC.MQFMT_RF_HEADER_2))
    queue.put(data, mq.MD(Format=CMQC.MQFMT_RF_HEADER_2))
    md = mq.MD()
    assert queue.get(None, md, mq.GMO(Options=CMQC.MQGMO_NO_PROPERTIES)) == b"body" and md.Format == b"MQSTR   "
    assert queue.get(None, mq.MD(), mq.GMO(Options=CMQC.MQGMO_PROPERTIES_FORCE_MQRFH2)) == data


def test_handles_are_bound_to_their_thread(world: World, mq: Any) -> None:
    qmgr = connect(mq)
    result: list[int] = []

    def use_elsewhere() -> None:
        try:
            qmgr.commit()
        except mq.MQMIError as exc:
            result.append(exc.reason)

    thread = threading.Thread(target=use_elsewhere)
    thread.start()
    thread.join()
    assert result == [2018]  # MQRC_HCONN_ERROR: as a handle without MQCNO_HANDLE_SHARE_* options
    qmgr.commit()  # fine on its own thread

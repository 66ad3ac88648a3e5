"""An in-repo stand-in for ``ibmmq.ibmmqc``, the C extension of IBM's ``ibmmq`` package.

Test infrastructure, not product code. No IBM MQ queue manager or client library
(``libmqm_r.so``) is available here, so the ``ibmmq`` wheel's C extension cannot load. Its
pure-Python layer reaches MQ only through that one module; this package puts a module with
the same verbs into ``sys.modules["ibmmq.ibmmqc"]`` *before* ``import ibmmq``, so IBM's real
Python code (``QueueManager``, ``Queue``, ``MD``/``GMO``/``PMO``/``OD`` packing, ``MQMIError``)
runs on top of a modelled queue manager (``model.py``; verbs in ``verbs.py``).

Use it through a fixture of the test module::

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
    from ibmmq_standin import standin_world

    @pytest.fixture
    def mqi_standin():
        with standin_world() as world:
            yield world

    def test_x(mqi_standin):
        qm = mqi_standin.add_queue_manager("QM1")
        qm.define_queue("ORDERS", backout_threshold=3, backout_queue="ORDERS.BOQ")
        ...
        mqi_standin.break_connections()     # reason 2009 from now on

``import ibmmq`` puts the package's own folder first on ``sys.path`` (its modules import each
other as top-level ``mqlog``, ``mqopts``, ...); ``install()`` takes that entry off again.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest

from .model import Channel, Connection, Queue, QueueManager, StoredMessage, World
from .verbs import VERBS, current_world, set_world

MODULE_NAME = "ibmmq.ibmmqc"
#: Structure versions of an MQ 9.4 client build, as the real extension reports them.
STRUC_VERSIONS = {"gmo": 4, "pmo": 3, "od": 4, "cno": 8, "cd": 13, "csp": 3, "sco": 7, "sts": 2}


class StandInUnavailable(RuntimeError):
    """``ibmmq`` was already imported with its real C extension: the stand-in cannot go under it."""


def _module() -> types.ModuleType:
    module = types.ModuleType(MODULE_NAME, "MQI stand-in for tests (see tests/support/ibmmq_standin)")
    module.__version__ = importlib.metadata.version("ibmmq")  # import ibmmq checks they match
    module.__cmdlevel__ = 940
    module.__mqbuild__ = "stand-in"
    module.__strucversions__ = dict(STRUC_VERSIONS)
    module.__standin__ = True
    for name, verb in VERBS.items():
        setattr(module, name, verb)
    return module


def install() -> Any:
    """Put the stand-in under ``ibmmq`` (once per process) and return the ``ibmmq`` package."""
    current = sys.modules.get(MODULE_NAME)
    if current is None or not getattr(current, "__standin__", False):
        if "ibmmq" in sys.modules:
            raise StandInUnavailable("ibmmq is already imported with its real C extension")
        sys.modules[MODULE_NAME] = _module()
    before = list(sys.path)
    import ibmmq
    for entry in sys.path[:]:
        if entry not in before:
            sys.path.remove(entry)
    return ibmmq


@contextlib.contextmanager
def standin_world() -> Iterator[World]:
    """A fresh world of queue managers behind ``ibmmq`` for one test; afterwards every connection
    is broken, so no thread stays blocked in an MQGET. Connection handles are bound to the thread
    that connected (as pymqi's are), so a component that crosses threads with one gets 2018.
    Skips the test when ``ibmmq`` was already imported with its real C extension."""
    try:
        install()
    except StandInUnavailable as exc:
        pytest.skip(str(exc))
    world = World(thread_bound_handles=True)
    set_world(world)
    try:
        yield world
    finally:
        world.close()
        set_world(None)


def put_message(queue: str, data: bytes | str, qmgr: str = "QM1", *, queue_manager_of_queue: str = "",
                **md: Any) -> Any:
    """Put one message as another application would, through IBM's Python layer over local
    bindings; returns the MD it was put with (MsgId filled in)."""
    mq = install()
    connection = mq.QueueManager(None, False)
    connection.connect_with_options(qmgr)
    try:
        descriptor = mq.MD(**md)
        od = mq.OD(ObjectName=queue.encode(), ObjectQMgrName=queue_manager_of_queue.encode())
        connection.put1(od, data, descriptor)
        return descriptor
    finally:
        connection.disconnect()


def get_message(queue: str, qmgr: str = "QM1", wait: float = 0.0, **md: Any) -> tuple[Any, bytes] | None:
    """Get one message (matching ``MsgId``/``CorrelId`` if given) as another application would;
    None when there is none within ``wait`` seconds."""
    mq = install()
    CMQC = mq.CMQC
    connection = mq.QueueManager(None, False)
    connection.connect_with_options(qmgr)
    try:
        descriptor = mq.MD(**md)
        options = CMQC.MQGMO_NO_SYNCPOINT | (CMQC.MQGMO_WAIT if wait else 0)
        gmo = mq.GMO(Options=options, WaitInterval=int(wait * 1000))
        handle = mq.Queue(connection, queue, CMQC.MQOO_INPUT_SHARED)
        try:
            data = handle.get(None, descriptor, gmo)
        except mq.MQMIError as exc:
            if exc.reason == CMQC.MQRC_NO_MSG_AVAILABLE:
                return None
            raise
        finally:
            handle.close()
        return descriptor, data
    finally:
        connection.disconnect()


__all__ = ["Channel", "Connection", "Queue", "QueueManager", "StandInUnavailable", "StoredMessage", "World",
           "current_world", "get_message", "install", "put_message", "standin_world"]

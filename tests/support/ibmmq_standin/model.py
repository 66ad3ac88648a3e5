"""The queue managers behind the MQI stand-in: queues, messages, connections, units of work.

Test infrastructure, not product code. It models what the ``ibmmq`` component relies on, as IBM
MQ documents it for distributed platforms:

* named queue managers with listeners (``host(port)``), server-connection channels (optionally
  requiring a TLS cipher spec), optional user/password checking, a dead-letter queue;
* local queues with a maximum depth (2053 when full), a maximum message length (2030), a
  backout threshold and backout requeue queue (MQINQ BOTHRESH/BOQNAME), default persistence and
  priority, get/put inhibition; messages delivered by priority then arrival, with expiry;
* per-connection units of work: gets and puts under syncpoint are invisible to others until
  MQCMIT; MQBACK (and a broken connection) puts the got messages back where they were with
  ``BackoutCount`` + 1 and drops the puts; a normal MQDISC commits (as MQ does outside z/OS);
* connection handles bound to the connecting thread unless MQCNO_HANDLE_SHARE_(NO_)BLOCK was
  given (2018 otherwise; ``thread_bound_handles`` enforces binding for every handle, as with a
  pymqi that asks for no sharing), calls on a shared handle serialised;
* ``break_connections()``: the queue manager drops connections (2009 from then on, waiting
  MQGETs woken), as when a channel or the network fails.

One condition variable guards everything: simple, and plenty fast for tests.
"""

from __future__ import annotations

import collections
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

DEFAULT_LISTENERS = ("127.0.0.1(1414)", "localhost(1414)")
DEFAULT_CHANNEL = "DEV.APP.SVRCONN"
#: Handles are unique in the process, across worlds: an object of an earlier test that is garbage
#: collected later (IBM's classes disconnect and close in ``__del__``) must not hit a new handle.
_HANDLES = itertools.count(0x1001)


def text(value: bytes | str) -> str:
    """An MQCHAR field as text: up to the first NUL, blanks stripped."""
    if isinstance(value, bytes):
        value = value.split(b"\0", 1)[0].decode("latin-1")
    return value.strip()


@dataclass
class Channel:
    name: str
    cipher_spec: str | None = None  # the SSLCIPH the channel requires (None: plain TCP)


@dataclass(eq=False)
class StoredMessage:
    """A message on a queue: its MQMD fields (as IBM's ``MD().get()`` gives them) and its data."""

    md: dict[str, Any]
    data: bytes
    seq: int
    expires_at: float | None = None
    locked_by: Connection | None = None  # a unit of work holds it (got, or put and not committed)
    uncommitted_put: bool = False

    @property
    def backout_count(self) -> int:
        return int(self.md["BackoutCount"])

    @property
    def msg_id(self) -> bytes:
        return self.md["MsgId"]

    @property
    def correl_id(self) -> bytes:
        return self.md["CorrelId"]

    def field(self, name: str) -> Any:
        value = self.md[name]
        return text(value) if isinstance(value, bytes) and name not in ("MsgId", "CorrelId", "GroupId") else value


@dataclass(eq=False)
class Queue:
    name: str
    qmgr: QueueManager
    max_depth: int = 5000
    max_msg_length: int = 4 * 1024 * 1024
    backout_threshold: int = 0
    backout_queue: str = ""
    def_persistence: int = 0
    def_priority: int = 0
    get_inhibited: bool = False
    put_inhibited: bool = False
    messages: list[StoredMessage] = field(default_factory=list)

    @property
    def depth(self) -> int:
        """CURDEPTH: every message, uncommitted gets and puts included."""
        with self.qmgr.world.cond:
            self._expire()
            return len(self.messages)

    def committed(self) -> list[StoredMessage]:
        """The messages another application could see or is holding in a unit of work (not
        the uncommitted puts), in delivery order."""
        with self.qmgr.world.cond:
            self._expire()
            return sorted((m for m in self.messages if not m.uncommitted_put), key=_order)

    def bodies(self) -> list[bytes]:
        return [m.data for m in self.committed()]

    def _expire(self) -> None:
        now = time.monotonic()
        self.messages[:] = [m for m in self.messages
                            if m.expires_at is None or m.expires_at > now or m.locked_by is not None]

    def first_available(self, msg_id: bytes | None, correl_id: bytes | None) -> StoredMessage | None:
        self._expire()
        best = None
        for message in self.messages:
            if message.locked_by is not None:
                continue
            if msg_id is not None and message.msg_id != msg_id:
                continue
            if correl_id is not None and message.correl_id != correl_id:
                continue
            if best is None or _order(message) < _order(best):
                best = message
        return best


def _order(message: StoredMessage) -> tuple[int, int]:
    return (-int(message.md["Priority"]), message.seq)


@dataclass(eq=False)
class QueueManager:
    name: str
    world: World
    ccsid: int = 1208
    dead_letter_queue: str = ""
    listeners: set[str] = field(default_factory=lambda: set(DEFAULT_LISTENERS))
    channels: dict[str, Channel] = field(default_factory=dict)
    users: dict[str, str] | None = None  # user -> password; None: no authentication
    available: bool = True
    queues: dict[str, Queue] = field(default_factory=dict)

    def define_queue(self, name: str, **attributes: Any) -> Queue:
        """DEFINE QLOCAL: ``max_depth``, ``max_msg_length``, ``backout_threshold``,
        ``backout_queue``, ``def_persistence``, ``def_priority``, ``get_inhibited``, ``put_inhibited``."""
        with self.world.cond:
            queue = Queue(name, self, **attributes)
            self.queues[name] = queue
            return queue

    def queue(self, name: str) -> Queue:
        return self.queues[name]

    def define_channel(self, name: str, cipher_spec: str | None = None) -> Channel:
        channel = Channel(name, cipher_spec)
        self.channels[name] = channel
        return channel


@dataclass(eq=False)
class OpenObject:
    target: Queue | QueueManager
    options: int


@dataclass(eq=False)
class Connection:
    hconn: int
    qmgr: QueueManager
    thread: int
    shared: bool
    client: bool
    user: str | None = None
    password: str | None = None
    channel: str | None = None
    conn_name: str | None = None
    cipher_spec: str | None = None
    key_repository: str | None = None
    certificate_label: str | None = None
    broken: bool = False
    busy: bool = False
    objects: dict[int, OpenObject] = field(default_factory=dict)
    unit_of_work: list[tuple[str, Queue, StoredMessage]] = field(default_factory=list)


@dataclass
class Event:
    verb: str
    hconn: int | None
    thread: str
    reason: int


class World:
    """Every queue manager the stand-in knows, and the connections to them. Tests get one fresh
    world each (``mqi_standin`` fixture)."""

    def __init__(self, *, thread_bound_handles: bool = False) -> None:
        self.cond = threading.Condition()
        self.qmgrs: dict[str, QueueManager] = {}
        self.connections: dict[int, Connection] = {}
        self.thread_bound_handles = thread_bound_handles
        self.events: collections.deque[Event] = collections.deque(maxlen=20000)
        #: ``fn(connection, gets)`` called at the start of every MQCMIT that has work to commit,
        #: without the stand-in's lock held (it may query other systems, not this stand-in).
        self.on_commit: list[Callable[[Connection, list[StoredMessage]], None]] = []
        #: ``fn(connection, gets)`` likewise at the start of every MQBACK that has work to undo.
        self.on_backout: list[Callable[[Connection, list[StoredMessage]], None]] = []
        self._seq = itertools.count(1)
        self._ids = itertools.count(1)
        self.closed = False

    # -- administration -----------------------------------------------------------------------
    def add_queue_manager(self, name: str, *, channels: tuple[str, ...] = (DEFAULT_CHANNEL,),
                          cipher_spec: str | None = None, **attributes: Any) -> QueueManager:
        """A running queue manager with a listener on ``127.0.0.1(1414)`` and ``localhost(1414)``
        (``listeners=...``), the given server-connection channels (requiring ``cipher_spec``),
        optional ``users={"app": "secret"}``, ``dead_letter_queue`` and ``ccsid``."""
        with self.cond:
            qmgr = QueueManager(name, self, **attributes)
            for channel in channels:
                qmgr.define_channel(channel, cipher_spec)
            self.qmgrs[name] = qmgr
            return qmgr

    def qmgr(self, name: str) -> QueueManager:
        return self.qmgrs[name]

    def break_connections(self, qmgr: str | None = None, hconn: int | None = None) -> int:
        """Drop connections as a failing network would: their units of work are backed out,
        every later call on them gets 2009, waiting MQGETs wake up. Returns how many broke."""
        with self.cond:
            broken = 0
            for connection in list(self.connections.values()):
                if connection.broken or (qmgr is not None and connection.qmgr.name != qmgr) \
                        or (hconn is not None and connection.hconn != hconn):
                    continue
                self.back_out(connection)
                connection.broken = True
                broken += 1
            self.cond.notify_all()
            return broken

    def connections_to(self, qmgr: str) -> list[Connection]:
        with self.cond:
            return [c for c in self.connections.values() if c.qmgr.name == qmgr and not c.broken]

    def close(self) -> None:
        """End of the test: break everything so no thread stays blocked in an MQGET."""
        self.closed = True
        self.break_connections()

    def commits(self, hconn: int | None = None) -> list[Event]:
        return [e for e in list(self.events) if e.verb == "MQCMIT" and (hconn is None or e.hconn == hconn)]

    # -- used by the verbs ----------------------------------------------------------------------
    def new_handle(self) -> int:
        return next(_HANDLES)

    def next_seq(self) -> int:
        return next(self._seq)

    def new_id(self, qmgr: QueueManager) -> bytes:
        return b"AMQ " + qmgr.name.encode("ascii")[:12].ljust(12) + next(self._ids).to_bytes(8, "big")

    def record(self, verb: str, hconn: int | None, reason: int) -> None:
        self.events.append(Event(verb, hconn, threading.current_thread().name, reason))

    def commit(self, connection: Connection) -> None:
        for kind, queue, message in connection.unit_of_work:
            if kind == "get":
                if message in queue.messages:
                    queue.messages.remove(message)
            else:
                message.locked_by = None
                message.uncommitted_put = False
        connection.unit_of_work.clear()
        self.cond.notify_all()

    def back_out(self, connection: Connection) -> None:
        for kind, queue, message in connection.unit_of_work:
            if kind == "get":
                message.locked_by = None
                message.md["BackoutCount"] = message.backout_count + 1
            elif message in queue.messages:
                queue.messages.remove(message)
        connection.unit_of_work.clear()
        self.cond.notify_all()

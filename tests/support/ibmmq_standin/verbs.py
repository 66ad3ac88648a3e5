"""The MQI verbs of ``ibmmq.ibmmqc``, as IBM's Python layer calls them, over the model.

Every verb takes the packed structures the Python layer hands to the C extension and returns
the same tuples (completion code at ``[-2]``, reason at ``[-1]``). Structures are unpacked and
packed with IBM's own classes (``ibmmq.MD().unpack(...)``), so a layout mismatch fails here the
way it would against the real library.
"""

from __future__ import annotations

import ctypes
import struct
import sys
import threading
import time
from typing import Any

from .model import (
    Connection,
    OpenObject,
    Queue,
    QueueManager,
    StoredMessage,
    World,
    text,
)

OK, WARNING, FAILED = 0, 1, 2
_state: dict[str, Any] = {"world": World(), "callback": None}


def set_world(world: World | None) -> None:
    """Make ``world`` the one the verbs act on; None: an empty world, where every handle is
    unknown (an object garbage-collected after its test closes against that, harmlessly)."""
    _state["world"] = world if world is not None else World()


def current_world() -> World:
    return _state["world"]  # type: ignore[no-any-return]


def _mq() -> Any:
    """IBM's package (already imported: the stand-in is only reached through it). Looked up in
    sys.modules so that objects collected at interpreter exit still find it."""
    mq = sys.modules.get("ibmmq")
    if mq is None:
        import ibmmq as mq
    return mq


class _Fail(Exception):
    def __init__(self, reason: int, cc: int = FAILED) -> None:
        self.reason = reason
        self.cc = cc


def _connection(world: World, hconn: int, *, wait_if_busy: bool = True) -> Connection:
    """The connection behind ``hconn`` for the calling thread (lock held)."""
    CMQC = _mq().CMQC
    connection = world.connections.get(hconn)
    if connection is None:
        raise _Fail(CMQC.MQRC_HCONN_ERROR)
    if (world.thread_bound_handles or not connection.shared) and connection.thread != threading.get_ident():
        raise _Fail(CMQC.MQRC_HCONN_ERROR)
    if connection.broken:
        raise _Fail(CMQC.MQRC_CONNECTION_BROKEN)
    return connection


def _object(connection: Connection, hobj: int) -> OpenObject:
    obj = connection.objects.get(hobj)
    if obj is None:
        raise _Fail(_mq().CMQC.MQRC_HOBJ_ERROR)
    return obj


# -- connecting ---------------------------------------------------------------------------------
def MQCONN(name: bytes) -> tuple[int, int, int]:
    return MQCONNX(name, None, None, None, None, None)


def MQCONNX(name: bytes, cno: bytes | None, cd: bytes | None, csp: bytes | None, sco: bytes | None,
            bno: bytes | None) -> tuple[int, int, int]:
    mq = _mq()
    CMQC = mq.CMQC
    world = current_world()
    options = mq.CNO().unpack(cno).Options if cno else 0
    descriptor = mq.CD().unpack(cd) if cd else None
    client = descriptor is not None or bool(options & CMQC.MQCNO_CLIENT_BINDING)
    user = password = None
    if csp:
        security = mq.CSP().unpack(csp)
        user = _pointer_text(security.CSPUserId, security._CSPUserIdLength)
        password = _pointer_text(security.CSPPassword, security._CSPPasswordLength)
    key_repository = label = None
    if sco:
        # Not SCO().unpack(): IBM's MQOpts.unpack reads one value for the 4-integer
        # EncryptionPolicySuiteB field and misaligns every field after it (pack is right).
        values = struct.unpack(mq.SCO()._MQOpts__format, sco)
        key_repository = text(values[2]) or None
        label = text(values[14]) or None
    with world.cond:
        try:
            qmgr = _find_qmgr(world, text(name), client)
            channel = conn_name = cipher = None
            if descriptor is not None:
                channel, conn_name = text(descriptor.ChannelName), text(descriptor.ConnectionName)
                cipher = text(descriptor.SSLCipherSpec) or None
                _check_client(qmgr, channel, conn_name, cipher, key_repository)
            # Like CHCKCLNT(REQUIRED): client connections must authenticate; local bindings (an
            # application on the queue manager's machine, under its own OS user) need not.
            if client and qmgr.users is not None and (user is None or qmgr.users.get(user) != password):
                raise _Fail(CMQC.MQRC_NOT_AUTHORIZED)
        except _Fail as failure:
            world.record("MQCONNX", None, failure.reason)
            return 0, failure.cc, failure.reason
        hconn = world.new_handle()
        shared = bool(options & (CMQC.MQCNO_HANDLE_SHARE_BLOCK | CMQC.MQCNO_HANDLE_SHARE_NO_BLOCK))
        world.connections[hconn] = Connection(
            hconn, qmgr, threading.get_ident(), shared, client, user, password, channel, conn_name, cipher,
            key_repository, label)
        world.record("MQCONNX", hconn, 0)
        return hconn, OK, 0


def _pointer_text(pointer: int, length: int) -> str | None:
    if not pointer:
        return None
    return ctypes.string_at(pointer, length).decode("utf-8")


def _find_qmgr(world: World, name: str, client: bool) -> QueueManager:
    CMQC = _mq().CMQC
    if not name:
        if not world.qmgrs:
            raise _Fail(CMQC.MQRC_Q_MGR_NOT_AVAILABLE)
        qmgr = next(iter(world.qmgrs.values()))
    else:
        qmgr = world.qmgrs.get(name)
        if qmgr is None:
            raise _Fail(CMQC.MQRC_Q_MGR_NOT_AVAILABLE if client else CMQC.MQRC_Q_MGR_NAME_ERROR)
    if not qmgr.available or world.closed:
        raise _Fail(CMQC.MQRC_Q_MGR_NOT_AVAILABLE)
    return qmgr


def _check_client(qmgr: QueueManager, channel: str, conn_name: str, cipher: str | None,
                  key_repository: str | None) -> None:
    CMQC = _mq().CMQC
    if not any(part.strip() in qmgr.listeners for part in conn_name.split(",")):
        raise _Fail(CMQC.MQRC_HOST_NOT_AVAILABLE)
    definition = qmgr.channels.get(channel)
    if definition is None:
        raise _Fail(CMQC.MQRC_UNKNOWN_CHANNEL_NAME)
    if cipher and not key_repository:
        raise _Fail(CMQC.MQRC_KEY_REPOSITORY_ERROR)
    if (definition.cipher_spec or None) != cipher:
        raise _Fail(CMQC.MQRC_SSL_INITIALIZATION_ERROR)


def MQDISC(hconn: int) -> tuple[int, int]:
    """A normal disconnect commits what the connection's unit of work holds (MQ on
    distributed platforms does; only a broken connection backs out)."""
    world = current_world()
    with world.cond:
        try:
            connection = _connection(world, hconn)
        except _Fail as failure:
            if failure.reason == _mq().CMQC.MQRC_CONNECTION_BROKEN:
                world.connections.pop(hconn, None)
            world.record("MQDISC", hconn, failure.reason)
            return failure.cc, failure.reason
        world.commit(connection)
        del world.connections[hconn]
        world.record("MQDISC", hconn, 0)
        return OK, 0


# -- objects ------------------------------------------------------------------------------------
def MQOPEN(hconn: int, od: bytes, options: int) -> tuple[int, bytes, int, int]:
    mq = _mq()
    CMQC = mq.CMQC
    world = current_world()
    descriptor = mq.OD().unpack(od)
    with world.cond:
        try:
            connection = _connection(world, hconn)
            target: Queue | QueueManager
            if descriptor.ObjectType == CMQC.MQOT_Q_MGR:
                target = connection.qmgr
            elif descriptor.ObjectType == CMQC.MQOT_Q:
                target = _resolve_queue(world, connection, descriptor, options)
                descriptor.ResolvedQName = target.name.encode()
                descriptor.ResolvedQMgrName = target.qmgr.name.encode()
            else:
                raise _Fail(CMQC.MQRC_OBJECT_TYPE_ERROR)
        except _Fail as failure:
            world.record("MQOPEN", hconn, failure.reason)
            return 0, od, failure.cc, failure.reason
        hobj = world.new_handle()
        connection.objects[hobj] = OpenObject(target, options)
        return hobj, descriptor.pack(), OK, 0


def _resolve_queue(world: World, connection: Connection, descriptor: Any, options: int) -> Queue:
    CMQC = _mq().CMQC
    name = text(descriptor.ObjectName)
    qmgr_name = text(descriptor.ObjectQMgrName)
    qmgr = connection.qmgr
    if qmgr_name and qmgr_name != qmgr.name:
        remote = world.qmgrs.get(qmgr_name)
        if remote is None:
            raise _Fail(CMQC.MQRC_UNKNOWN_REMOTE_Q_MGR)
        if options & (CMQC.MQOO_INPUT_AS_Q_DEF | CMQC.MQOO_INPUT_SHARED | CMQC.MQOO_INPUT_EXCLUSIVE |
                      CMQC.MQOO_BROWSE | CMQC.MQOO_INQUIRE):
            raise _Fail(CMQC.MQRC_OPTIONS_ERROR)  # a remote queue can only be put to
        qmgr = remote
    queue = qmgr.queues.get(name)
    if queue is None:
        raise _Fail(CMQC.MQRC_UNKNOWN_OBJECT_NAME)
    return queue


def MQCLOSE(hconn: int, hobj: int, options: int) -> tuple[int, int]:
    world = current_world()
    with world.cond:
        try:
            connection = _connection(world, hconn)
            _object(connection, hobj)
        except _Fail as failure:
            return failure.cc, failure.reason
        del connection.objects[hobj]
        return OK, 0


# -- messages -----------------------------------------------------------------------------------
def MQPUT(hconn: int, hobj: int, md: bytes, pmo: bytes, msg: bytes) -> tuple[bytes, bytes, int, int]:
    world = current_world()
    with world.cond:
        try:
            connection = _connection(world, hconn)
            obj = _object(connection, hobj)
            if not obj.options & _mq().CMQC.MQOO_OUTPUT or not isinstance(obj.target, Queue):
                raise _Fail(_mq().CMQC.MQRC_NOT_OPEN_FOR_OUTPUT)
            return _put(world, connection, obj.target, md, pmo, msg, "MQPUT")
        except _Fail as failure:
            world.record("MQPUT", hconn, failure.reason)
            return md, pmo, failure.cc, failure.reason


def MQPUT1(hconn: int, od: bytes, md: bytes, pmo: bytes, msg: bytes) -> tuple[bytes, bytes, int, int]:
    mq = _mq()
    world = current_world()
    descriptor = mq.OD().unpack(od)
    with world.cond:
        try:
            connection = _connection(world, hconn)
            queue = _resolve_queue(world, connection, descriptor, mq.CMQC.MQOO_OUTPUT)
            return _put(world, connection, queue, md, pmo, msg, "MQPUT1")
        except _Fail as failure:
            world.record("MQPUT1", hconn, failure.reason)
            return md, pmo, failure.cc, failure.reason


def _put(world: World, connection: Connection, queue: Queue, md: bytes, pmo: bytes, msg: bytes,
         verb: str) -> tuple[bytes, bytes, int, int]:
    mq = _mq()
    CMQC = mq.CMQC
    descriptor = mq.MD().unpack(md)
    options = mq.PMO().unpack(pmo)
    if queue.put_inhibited:
        raise _Fail(CMQC.MQRC_PUT_INHIBITED)
    if len(msg) > queue.max_msg_length:
        raise _Fail(CMQC.MQRC_MSG_TOO_BIG_FOR_Q)
    queue._expire()
    if len(queue.messages) >= queue.max_depth:
        raise _Fail(CMQC.MQRC_Q_FULL)
    qmgr = connection.qmgr
    if options.Options & CMQC.MQPMO_NEW_MSG_ID or not descriptor.MsgId.strip(b"\0"):
        descriptor.MsgId = world.new_id(qmgr)
    if options.Options & CMQC.MQPMO_NEW_CORREL_ID:
        descriptor.CorrelId = world.new_id(qmgr)
    if descriptor.Persistence == CMQC.MQPER_PERSISTENCE_AS_Q_DEF:
        descriptor.Persistence = queue.def_persistence
    if descriptor.Priority == CMQC.MQPRI_PRIORITY_AS_Q_DEF:
        descriptor.Priority = queue.def_priority
    if descriptor.CodedCharSetId == CMQC.MQCCSI_Q_MGR:
        descriptor.CodedCharSetId = qmgr.ccsid
    now = time.gmtime()
    descriptor.PutDate = time.strftime("%Y%m%d", now).encode()
    descriptor.PutTime = (time.strftime("%H%M%S", now) + "00").encode()
    descriptor.PutApplType = CMQC.MQAT_UNIX
    descriptor.PutApplName = b"python (stand-in)"
    descriptor.UserIdentifier = (connection.user or "app").encode()[:12]
    descriptor.BackoutCount = 0
    fields = descriptor.get()
    expires_at = time.monotonic() + descriptor.Expiry / 10 if descriptor.Expiry > 0 else None
    message = StoredMessage(fields, bytes(msg), world.next_seq(), expires_at)
    if options.Options & CMQC.MQPMO_SYNCPOINT:
        message.locked_by = connection
        message.uncommitted_put = True
        connection.unit_of_work.append(("put", queue, message))
    queue.messages.append(message)
    world.cond.notify_all()
    options.ResolvedQName = queue.name.encode()
    options.ResolvedQMgrName = queue.qmgr.name.encode()
    world.record(verb, connection.hconn, 0)
    return descriptor.pack(), options.pack(), OK, 0


def MQGET(hconn: int, hobj: int, md: bytes, gmo: bytes, length: int) -> tuple[bytes, bytes, bytes, int, int, int]:
    mq = _mq()
    CMQC = mq.CMQC
    world = current_world()
    descriptor = mq.MD().unpack(md)
    options = mq.GMO().unpack(gmo)
    wait = options.Options & CMQC.MQGMO_WAIT
    deadline = None
    if wait and options.WaitInterval != CMQC.MQWI_UNLIMITED:
        deadline = time.monotonic() + options.WaitInterval / 1000
    msg_id = descriptor.MsgId if options.MatchOptions & CMQC.MQMO_MATCH_MSG_ID and descriptor.MsgId.strip(b"\0") else None
    correl_id = (descriptor.CorrelId if options.MatchOptions & CMQC.MQMO_MATCH_CORREL_ID
                 and descriptor.CorrelId.strip(b"\0") else None)
    with world.cond:
        connection = claimed = None
        try:
            connection = _connection(world, hconn)
            _claim(world, connection)
            claimed = connection
            obj = _object(connection, hobj)
            input_options = CMQC.MQOO_INPUT_AS_Q_DEF | CMQC.MQOO_INPUT_SHARED | CMQC.MQOO_INPUT_EXCLUSIVE
            if not obj.options & input_options or not isinstance(obj.target, Queue):
                raise _Fail(CMQC.MQRC_NOT_OPEN_FOR_INPUT)
            queue = obj.target
            if queue.get_inhibited:
                raise _Fail(CMQC.MQRC_GET_INHIBITED)
            while True:
                if connection.broken:
                    raise _Fail(CMQC.MQRC_CONNECTION_BROKEN)
                message = queue.first_available(msg_id, correl_id)
                if message is not None:
                    break
                remaining = None if deadline is None else deadline - time.monotonic()
                if not wait or (remaining is not None and remaining <= 0):
                    raise _Fail(CMQC.MQRC_NO_MSG_AVAILABLE)
                world.cond.wait(remaining)
            return _deliver(world, connection, queue, message, descriptor, options, length)
        except _Fail as failure:
            if failure.reason != CMQC.MQRC_NO_MSG_AVAILABLE:
                world.record("MQGET", hconn, failure.reason)
            return b"", md, gmo, 0, failure.cc, failure.reason
        finally:
            if claimed is not None:
                claimed.busy = False
                world.cond.notify_all()


def _claim(world: World, connection: Connection) -> None:
    """Serialise calls on a shared handle (MQCNO_HANDLE_SHARE_BLOCK)."""
    while connection.busy:
        world.cond.wait()
        if connection.broken:
            raise _Fail(_mq().CMQC.MQRC_CONNECTION_BROKEN)
    connection.busy = True


def _deliver(world: World, connection: Connection, queue: Queue, message: StoredMessage, descriptor: Any,
             options: Any, length: int) -> tuple[bytes, bytes, bytes, int, int, int]:
    mq = _mq()
    CMQC = mq.CMQC
    requested_ccsid = descriptor.CodedCharSetId
    out = mq.MD()
    out.set(**message.md)
    data = message.data
    if options.Options & CMQC.MQGMO_NO_PROPERTIES:
        data = _without_properties(out, data)
    if options.Options & CMQC.MQGMO_CONVERT:
        data = _convert(out, data, requested_ccsid)
    options.ReturnedLength = min(len(data), length)
    options.ResolvedQName = queue.name.encode()
    cc, reason = OK, 0
    if len(data) > length:
        if not options.Options & CMQC.MQGMO_ACCEPT_TRUNCATED_MSG:
            world.record("MQGET", connection.hconn, CMQC.MQRC_TRUNCATED_MSG_FAILED)
            return data[:length], out.pack(), options.pack(), len(data), FAILED, CMQC.MQRC_TRUNCATED_MSG_FAILED
        cc, reason = WARNING, CMQC.MQRC_TRUNCATED_MSG_ACCEPTED
    syncpoint = options.Options & CMQC.MQGMO_SYNCPOINT or (
        options.Options & CMQC.MQGMO_SYNCPOINT_IF_PERSISTENT and message.md["Persistence"] == CMQC.MQPER_PERSISTENT)
    if syncpoint:
        message.locked_by = connection
        connection.unit_of_work.append(("get", queue, message))
    else:
        queue.messages.remove(message)
    world.record("MQGET", connection.hconn, reason)
    return data[:length], out.pack(), options.pack(), len(data), cc, reason


def _without_properties(descriptor: Any, data: bytes) -> bytes:
    """MQGMO_NO_PROPERTIES: the queue manager takes the RFH2 headers off."""
    mq = _mq()
    while descriptor.Format == mq.CMQC.MQFMT_RF_HEADER_2:
        header = mq.RFH2()
        header.unpack(data, descriptor.Encoding)
        data = data[header.StrucLength:]
        descriptor.Format = header.Format
        descriptor.Encoding = header.Encoding
        descriptor.CodedCharSetId = header.CodedCharSetId
    return data


_CODECS = {1208: "utf-8", 819: "latin-1", 37: "cp037", 500: "cp500", 1140: "cp1140", 1252: "cp1252"}


def _convert(descriptor: Any, data: bytes, requested: int) -> bytes:
    """MQGMO_CONVERT for MQSTR messages between the code pages the stand-in knows."""
    CMQC = _mq().CMQC
    if descriptor.Format != CMQC.MQFMT_STRING or requested in (CMQC.MQCCSI_Q_MGR, descriptor.CodedCharSetId):
        return data
    source, target = _CODECS.get(descriptor.CodedCharSetId), _CODECS.get(requested)
    if source is None or target is None:
        return data  # MQRC_NOT_CONVERTED in real life; the stand-in leaves it as it is
    descriptor.CodedCharSetId = requested
    return data.decode(source).encode(target)


# -- units of work ------------------------------------------------------------------------------
def MQCMIT(hconn: int) -> tuple[int, int]:
    world = current_world()
    with world.cond:
        try:
            connection = _connection(world, hconn)
        except _Fail as failure:
            world.record("MQCMIT", hconn, failure.reason)
            return failure.cc, failure.reason
        gets = [m for kind, _, m in connection.unit_of_work if kind == "get"]
        pending = bool(connection.unit_of_work)
    if pending:
        for hook in list(world.on_commit):
            hook(connection, gets)
    with world.cond:
        if connection.broken:
            world.record("MQCMIT", hconn, _mq().CMQC.MQRC_CONNECTION_BROKEN)
            return FAILED, _mq().CMQC.MQRC_CONNECTION_BROKEN
        world.commit(connection)
        world.record("MQCMIT", hconn, 0)
        return OK, 0


def MQBACK(hconn: int) -> tuple[int, int]:
    world = current_world()
    with world.cond:
        try:
            connection = _connection(world, hconn)
        except _Fail as failure:
            world.record("MQBACK", hconn, failure.reason)
            return failure.cc, failure.reason
        gets = [m for kind, _, m in connection.unit_of_work if kind == "get"]
        pending = bool(connection.unit_of_work)
    if pending:
        for hook in list(world.on_backout):
            hook(connection, gets)
    with world.cond:
        world.back_out(connection)
        world.record("MQBACK", hconn, 0)
        return OK, 0


def MQBEGIN(hconn: int) -> tuple[int, int]:
    return WARNING, _mq().CMQC.MQRC_NO_EXTERNAL_PARTICIPANTS


# -- attributes ---------------------------------------------------------------------------------
def _attributes(target: Queue | QueueManager) -> dict[int, Any]:
    CMQC = _mq().CMQC
    if isinstance(target, Queue):
        return {
            CMQC.MQIA_BACKOUT_THRESHOLD: target.backout_threshold,
            CMQC.MQCA_BACKOUT_REQ_Q_NAME: target.backout_queue,
            CMQC.MQIA_MAX_Q_DEPTH: target.max_depth,
            CMQC.MQIA_CURRENT_Q_DEPTH: len(target.messages),
            CMQC.MQIA_MAX_MSG_LENGTH: target.max_msg_length,
            CMQC.MQIA_DEF_PERSISTENCE: target.def_persistence,
            CMQC.MQIA_DEF_PRIORITY: target.def_priority,
            CMQC.MQIA_INHIBIT_GET: int(target.get_inhibited),
            CMQC.MQIA_INHIBIT_PUT: int(target.put_inhibited),
            CMQC.MQCA_Q_NAME: target.name,
        }
    return {
        CMQC.MQCA_DEAD_LETTER_Q_NAME: target.dead_letter_queue,
        CMQC.MQCA_Q_MGR_NAME: target.name,
        CMQC.MQIA_COMMAND_LEVEL: 940,
        CMQC.MQIA_CODED_CHAR_SET_ID: target.ccsid,
    }


def MQINQ(hconn: int, hobj: int, selectors: list[int], int_attrs: list[int], int_count: int, char_count: int,
          char_length: int) -> tuple[list[int], bytes, int, int]:
    CMQC = _mq().CMQC
    from mqinq import get_attr_length  # IBM's own table of character attribute lengths
    world = current_world()
    with world.cond:
        try:
            connection = _connection(world, hconn)
            obj = _object(connection, hobj)
            if not obj.options & CMQC.MQOO_INQUIRE:
                raise _Fail(CMQC.MQRC_NOT_OPEN_FOR_INQUIRE)
            values = _attributes(obj.target)
            ints: list[int] = []
            chars = b""
            for selector in selectors:
                if selector not in values:
                    raise _Fail(CMQC.MQRC_SELECTOR_ERROR)
                if CMQC.MQIA_FIRST <= selector <= CMQC.MQIA_LAST:
                    ints.append(int(values[selector]))
                else:
                    chars += str(values[selector]).encode().ljust(get_attr_length(selector))
        except _Fail as failure:
            return [], b"", failure.cc, failure.reason
        return ints, chars, OK, 0


def MQSET(hconn: int, hobj: int, selectors: list[int], int_attrs: list[int], char_attrs: bytes) -> tuple[int, int]:
    CMQC = _mq().CMQC
    world = current_world()
    with world.cond:
        try:
            connection = _connection(world, hconn)
            obj = _object(connection, hobj)
            if not obj.options & CMQC.MQOO_SET or not isinstance(obj.target, Queue):
                raise _Fail(CMQC.MQRC_NOT_OPEN_FOR_SET)
            settable = {CMQC.MQIA_INHIBIT_GET: "get_inhibited", CMQC.MQIA_INHIBIT_PUT: "put_inhibited"}
            for selector, value in zip(selectors, int_attrs, strict=False):
                if selector not in settable:
                    raise _Fail(CMQC.MQRC_SELECTOR_ERROR)
                setattr(obj.target, settable[selector], bool(value))
            world.cond.notify_all()
        except _Fail as failure:
            return failure.cc, failure.reason
        return OK, 0


def MQSTAT(hconn: int, kind: int, sts: bytes) -> tuple[bytes, int, int]:
    return sts, OK, 0


# -- callbacks, logging and what the stand-in does not model ---------------------------------------
def MQCBINIT(callback: Any) -> None:
    _state["callback"] = callback


def MQLOGCF(*args: Any) -> None:
    pass


def _unsupported(shape: int) -> Any:
    def verb(*args: Any) -> tuple[Any, ...]:
        return (None,) * (shape - 2) + (FAILED, 2298)  # MQRC_FUNCTION_NOT_SUPPORTED
    return verb


VERBS = {
    "MQCONN": MQCONN, "MQCONNX": MQCONNX, "MQDISC": MQDISC, "MQOPEN": MQOPEN, "MQCLOSE": MQCLOSE,
    "MQPUT": MQPUT, "MQPUT1": MQPUT1, "MQGET": MQGET, "MQCMIT": MQCMIT, "MQBACK": MQBACK, "MQBEGIN": MQBEGIN,
    "MQINQ": MQINQ, "MQSET": MQSET, "MQSTAT": MQSTAT, "MQCBINIT": MQCBINIT, "MQLOGCF": MQLOGCF,
    # Subscriptions, asynchronous consume and message handles: the component does not use them
    # (it carries properties in RFH2 headers), so they answer MQRC_FUNCTION_NOT_SUPPORTED in the
    # tuple shape the Python layer unpacks.
    "MQSUB": _unsupported(4), "MQSUBRQ": _unsupported(3), "MQCB": _unsupported(2), "MQCTL": _unsupported(2),
    "MQCRTMH": _unsupported(3), "MQDLTMH": _unsupported(2), "MQSETMP": _unsupported(2),
    "MQINQMP": _unsupported(5), "MQDLTMP": _unsupported(2),
}

"""The MQI client under the ibmmq component: loading it, one connection, and its errors.

``load_mqi()`` imports IBM's ``ibmmq`` package, else ``pymqi`` (the same API), only when a route
starts, never when the engine is imported. Both need the IBM MQ client library (``libmqm_r.so``);
without it the route fails to start with ``MqClientNotInstalledError`` saying what to install.
``import ibmmq`` puts its own folder first on ``sys.path`` (its modules import each other as
top-level ``mqlog``, ``mqopts``...); that entry is taken off again, so later imports elsewhere
cannot pick up those names by accident (the modules it already loaded stay in ``sys.modules``).

An ``MqConnection`` is one connection handle and the queues it opened. MQ connection handles
belong to the thread that connected (pymqi connects without handle sharing; a unit of work is
per connection anyway), so every ``MqConnection`` is used by one thread only: a consumer's worker,
or one thread of a producer session pool. MQI failures leave through ``translate``:
``MqConnectionError`` (also an ``EndpointNotConnectedError``) for the reasons that mean the
connection is gone or the queue manager unreachable, ``MqError`` for the rest, each with
``comp``, ``reason`` and ``reason_name``.
"""

from __future__ import annotations

import importlib
import logging
import sys
from dataclasses import dataclass, field
from typing import Any

from components.ibmmq.errors import MqClientNotInstalledError, MqConnectionError, MqError
from eip import errors

log = logging.getLogger("components.ibmmq")

INSTALL_HINT = (
    "install the IBM MQ redistributable client, which provides libmqm_r.so (the "
    "'IBM MQ C redistributable client' for Linux x86-64, IBM-MQC-Redist-LinuxX64, from IBM Fix Central "
    "or the MQ developer downloads: unpack it and add its lib64 folder to LD_LIBRARY_PATH, or install "
    "the MQ client packages into /opt/mqm), then `pip install ibmmq` (the engine's 'mq' extra)"
)

#: Reasons after which the connection is unusable or the queue manager out of reach: reconnect.
BROKEN_REASONS = frozenset(
    {
        2009,  # MQRC_CONNECTION_BROKEN
        2018,  # MQRC_HCONN_ERROR
        2019,  # MQRC_HOBJ_ERROR (a handle from before a reconnect)
        2059,  # MQRC_Q_MGR_NOT_AVAILABLE
        2161,  # MQRC_Q_MGR_QUIESCING
        2162,  # MQRC_Q_MGR_STOPPING
        2195,  # MQRC_UNEXPECTED_ERROR
        2202,  # MQRC_CONNECTION_QUIESCING
        2203,  # MQRC_CONNECTION_STOPPING
        2273,  # MQRC_CONNECTION_ERROR
        2537,  # MQRC_CHANNEL_NOT_AVAILABLE
        2538,  # MQRC_HOST_NOT_AVAILABLE
        2548,  # MQRC_RECONNECT_FAILED
    }
)
NO_MSG_AVAILABLE = 2033


def load_mqi() -> Any:
    """The MQI package: ``ibmmq``, else ``pymqi``. Raises MqClientNotInstalledError otherwise."""
    problems = []
    for name in ("ibmmq", "pymqi"):
        before = list(sys.path)
        try:
            return importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - ImportError, OSError, a version mismatch (EnvironmentError)
            problems.append(f"import {name}: {_describe_import_error(exc)}")
        finally:
            sys.path[:] = [entry for entry in sys.path if entry in before]
    raise MqClientNotInstalledError(
        f"ibmmq: the IBM MQ client is not available ({'; '.join(problems)}). To use ibmmq: endpoints, {INSTALL_HINT}."
    )


def _describe_import_error(exc: BaseException) -> str:
    """The import error and what caused it (``import ibmmq`` reports a missing ``ibmmqc`` after
    the real trouble, a ``libmqm_r.so`` that cannot be loaded)."""
    text = f"{type(exc).__name__}: {exc}"
    cause = exc.__cause__ or exc.__context__
    if cause is not None and str(cause) not in text:
        text += f" (after {type(cause).__name__}: {cause})"
    return text


def translate(mq: Any, exc: BaseException, uri: str, what: str) -> MqError:
    """The engine's error for an MQI failure (``raise translate(...) from exc``)."""
    reason = getattr(exc, "reason", None)
    comp = getattr(exc, "comp", None)
    if isinstance(exc, mq.MQMIError) and reason is not None:
        name = reason_name(mq, reason)
        cls = MqConnectionError if reason in BROKEN_REASONS else MqError
        return cls(
            f"{what} failed: reason {reason} {name} (completion code {comp})",
            uri=uri,
            comp=comp,
            reason=reason,
            reason_name=name,
        )
    return MqError(f"{what} failed: {exc}", uri=uri)


def reason_name(mq: Any, reason: int) -> str:
    for table in ("MQRC_DICT", "MQRCCF_DICT"):
        name = getattr(getattr(mq, "CMQSTRC", None), table, {}).get(reason)
        if name:
            return str(name)
    return f"MQRC_{reason}"


def is_transient(exc: BaseException | None) -> bool:
    """True for an error that says a system was unreachable (10 links of the cause chain)."""
    return errors.is_transient(exc, depth=10)


def mq_text(value: Any) -> str:
    """An MQCHAR field as text: up to the first NUL, blanks stripped."""
    if isinstance(value, bytes):
        value = value.split(b"\0", 1)[0].decode("utf-8", "replace")
    return str(value).strip()


@dataclass(frozen=True)
class ConnectionParams:
    """Where and how to connect. Client mode with ``channel`` and ``conn_name``; local bindings
    (a queue manager on this machine) without. The password never appears in ``repr`` or logs."""

    queue_manager: str = ""
    channel: str | None = None
    conn_name: str | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    cipher_spec: str | None = None
    key_repository: str | None = None
    certificate_label: str | None = None
    ssl_peer_name: str | None = None

    def describe(self) -> str:
        where = f"queue manager '{self.queue_manager or '(default)'}'"
        if self.channel:
            where += f" at {self.conn_name} over channel {self.channel}"
            if self.cipher_spec:
                where += f" (TLS {self.cipher_spec})"
        else:
            where += " (local bindings)"
        return where


class MqConnection:
    """One connection to a queue manager and the queues it opened, used by one thread only."""

    def __init__(self, mq: Any, params: ConnectionParams, uri: str) -> None:
        self.mq = mq
        self.params = params
        self.uri = uri
        self.qmgr: Any = None
        self._inputs: dict[str, Any] = {}
        self._outputs: dict[tuple[str, str], Any] = {}
        self._qmgr_attributes: dict[int, Any] = {}

    # -- connecting -------------------------------------------------------------------------------
    def connect(self) -> MqConnection:
        mq, params = self.mq, self.params
        qmgr = mq.QueueManager(None, False)  # disconnect_on_exit=False: we disconnect on our own thread
        kwargs: dict[str, Any] = {}
        if params.user is not None:
            kwargs["user"] = params.user
            kwargs["password"] = params.password if params.password is not None else ""
        if params.channel:
            cd = mq.CD()
            cd.ChannelName = params.channel.encode()
            cd.ConnectionName = (params.conn_name or "").encode()
            cd.ChannelType = mq.CMQXC.MQCHT_CLNTCONN
            cd.TransportType = mq.CMQXC.MQXPT_TCP
            if params.cipher_spec:
                cd.SSLCipherSpec = params.cipher_spec.encode()
            if params.ssl_peer_name:
                cd.SSLPeerNamePtr = params.ssl_peer_name.encode()
            kwargs["cd"] = cd
            if params.key_repository or params.certificate_label:
                sco = mq.SCO()
                if params.key_repository:
                    sco.KeyRepository = params.key_repository.encode()
                if params.certificate_label:
                    sco.CertificateLabel = params.certificate_label.encode()
                kwargs["sco"] = sco
        self._call(f"MQCONNX to {params.describe()}", qmgr.connect_with_options, params.queue_manager, **kwargs)
        self.qmgr = qmgr
        return self

    def close(self) -> None:
        """Close the queues and disconnect, ignoring errors (the connection may be gone). A unit
        of work still open is backed out first: MQDISC would commit it."""
        qmgr, self.qmgr = self.qmgr, None
        if qmgr is None:
            return
        try:
            qmgr.backout()
        except Exception as exc:  # noqa: BLE001 - a broken connection cannot back out (the queue manager did)
            log.debug("%s: MQBACK before MQDISC failed: %s", self.uri, exc)
        for queue in list(self._inputs.values()) + list(self._outputs.values()):
            try:
                queue.close()
            except Exception as exc:  # noqa: BLE001
                log.debug("%s: MQCLOSE failed: %s", self.uri, exc)
        self._inputs.clear()
        self._outputs.clear()
        try:
            qmgr.disconnect()
        except Exception as exc:  # noqa: BLE001
            log.debug("%s: MQDISC failed: %s", self.uri, exc)

    @property
    def queue_manager_name(self) -> str:
        if self.params.queue_manager:
            return self.params.queue_manager
        return mq_text(self.inquire_qmgr(self.mq.CMQC.MQCA_Q_MGR_NAME))

    # -- queues -------------------------------------------------------------------------------------
    def input_queue(self, name: str, inquire: bool = True) -> Any:
        """``name`` opened for input as the queue defines it (shared, normally) and, unless told
        otherwise, for inquire (BOTHRESH, BOQNAME); cached."""
        queue = self._inputs.get(name)
        if queue is None:
            CMQC = self.mq.CMQC
            options = CMQC.MQOO_INPUT_AS_Q_DEF | CMQC.MQOO_FAIL_IF_QUIESCING | (CMQC.MQOO_INQUIRE if inquire else 0)
            queue = self._call(f"MQOPEN of queue '{name}' for input", self.mq.Queue, self.qmgr, name, options)
            self._inputs[name] = queue
        return queue

    def output_queue(self, name: str, qmgr_name: str = "") -> Any:
        """``name`` (on ``qmgr_name``, when it is another queue manager) opened for output (cached)."""
        key = (name, qmgr_name)
        queue = self._outputs.get(key)
        if queue is None:
            mq = self.mq
            od = mq.OD(ObjectName=name.encode(), ObjectQMgrName=qmgr_name.encode())
            options = mq.CMQC.MQOO_OUTPUT | mq.CMQC.MQOO_FAIL_IF_QUIESCING
            where = f"queue '{name}'" + (f" on '{qmgr_name}'" if qmgr_name else "")
            queue = self._call(f"MQOPEN of {where} for output", mq.Queue, self.qmgr, od, options)
            self._outputs[key] = queue
        return queue

    def put(
        self, name: str, qmgr_name: str, data: bytes, md: Any, *, syncpoint: bool, new_msg_id: bool = False
    ) -> None:
        """MQPUT ``data`` with ``md`` (updated in place: MsgId...), in the unit of work or not."""
        CMQC = self.mq.CMQC
        options = CMQC.MQPMO_FAIL_IF_QUIESCING | (CMQC.MQPMO_SYNCPOINT if syncpoint else CMQC.MQPMO_NO_SYNCPOINT)
        if new_msg_id:
            options |= CMQC.MQPMO_NEW_MSG_ID
        queue = self.output_queue(name, qmgr_name)
        self._call(f"MQPUT to queue '{name}'", queue.put, data, md, self.mq.PMO(Options=options))

    def get(self, name: str, md: Any, gmo: Any) -> bytes | None:
        """MQGET from queue ``name`` into ``md``/``gmo``; None when no message came within the
        wait interval (reason 2033)."""
        queue = self.input_queue(name)
        try:
            return queue.get(None, md, gmo)  # type: ignore[no-any-return]
        except self.mq.MQMIError as exc:
            if exc.reason == NO_MSG_AVAILABLE:
                return None
            raise translate(self.mq, exc, self.uri, f"MQGET from queue '{name}'") from exc
        except self.mq.Error as exc:
            raise translate(self.mq, exc, self.uri, f"MQGET from queue '{name}'") from exc

    def commit(self) -> None:
        self._call("MQCMIT", self.qmgr.commit)

    def backout(self) -> None:
        self._call("MQBACK", self.qmgr.backout)

    def inquire_queue(self, name: str, selectors: list[int]) -> dict[int, Any]:
        """MQINQ of queue ``name`` (opened for input and inquire)."""
        return self._call(f"MQINQ of queue '{name}'", self.input_queue(name).inquire, selectors)  # type: ignore[no-any-return]

    def inquire_qmgr(self, selector: int) -> Any:
        if selector not in self._qmgr_attributes:
            self._qmgr_attributes[selector] = self._call("MQINQ of the queue manager", self.qmgr.inquire, selector)
        return self._qmgr_attributes[selector]

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except self.mq.Error as exc:
            raise translate(self.mq, exc, self.uri, what) from exc
        except (TypeError, ValueError) as exc:  # the Python layer refusing a value (a too-long name...)
            raise MqError(f"{what} failed: {exc}", uri=self.uri) from exc

"""The ibmmq producer: MQPUT with the MQMD from headers, and request-reply.

Which connection a put uses:

* on an ``ibmmq`` consumer's thread, to the same queue manager (and ``join_unit_of_work``, the
  default): that consumer's own connection, *under syncpoint*, so the put belongs to the
  consumer's unit of work: committed together with the get once the exchange completed, backed
  out with it when the exchange failed. An MQ-to-MQ route moves each message exactly once;
* anywhere else: a ``SessionPool`` of the component, ``producer_connections`` connections to the
  queue manager, each owned by a thread of its own (MQ handles belong to one thread), that the
  put is handed to; the put is outside syncpoint (visible at once) and the caller waits for it.
  A broken connection is replaced and the put tried once more on the new one.

InOut exchanges do request-reply: the request is put outside syncpoint (a responder must see it
before we wait) with MsgType REQUEST, ``ReplyToQ`` = the ``reply_to`` option and a new MsgId;
the reply is got from ``reply_to`` by correlation id (the request's MsgId, or its CorrelId when
its Report options ask for MQRO_PASS_CORREL_ID) within ``request_timeout``, else
ExchangeTimedOutError. The reply's body and headers become the exchange's message. As in Camel,
an exchange consumed from a request message is InOut, so a ``to("ibmmq:...")`` in its route is a
request-reply too: write ``to(uri, pattern=InOnly)`` to forward it.

Headers an inbound HTTP request brought are not put (neither as MQMD fields nor as RFH2
properties) unless ``forward_headers`` names them; credentials never are. ``JMS_IBM_*`` headers
that still hold what another protocol's consumer received (an AMQP headers table) are dropped,
and never forwardable, so the MQMD gets the endpoint's defaults; an MQ-to-MQ bridge keeps them
(``eip.header_filter``). A request-reply's reply headers are recorded as received from MQ.

What a crash loses: nothing put. A put outside syncpoint is on the queue once ``process``
returned; one inside a consumer's unit of work is committed with the get or not at all.
"""

from __future__ import annotations

import logging
import queue as _queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any

from components.ibmmq.client import ConnectionParams, MqConnection, load_mqi
from components.ibmmq.consumer import current_worker
from components.ibmmq.errors import MqConnectionError
from components.ibmmq.mapping import PROTOCOL, from_mq, is_control_header, to_mq
from eip.component import Producer
from eip.constants import INBOUND_HEADERS
from eip.errors import (
    EndpointError,
    EndpointNotConnectedError,
    ExchangeTimedOutError,
)
from eip.exchange import Exchange, ExchangePattern
from eip.header_filter import HeaderFilter, Inbound, inbound_of

if TYPE_CHECKING:
    from components.ibmmq.endpoint import IbmMqEndpoint

log = logging.getLogger("components.ibmmq")
_IN_OUT = ExchangePattern.IN_OUT
_STOP = None


class SessionPool:
    """Connections to one queue manager, each owned by a thread of its own, that producers hand
    work to: ``run(fn, timeout)`` runs ``fn(connection)`` on one of them and returns its result."""

    def __init__(self, mq: Any, params: ConnectionParams, size: int, name: str) -> None:
        self.mq = mq
        self.params = params
        self.size = size
        self.name = name
        self._jobs: _queue.SimpleQueue[Any] = _queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._stopped = False

    def run(self, fn: Callable[[MqConnection], Any], timeout: float) -> Any:
        if self._stopped:
            raise EndpointNotConnectedError("the producer is stopped", uri=self.name)
        if len(self._threads) < self.size:
            self._start_threads()
        future: Future[Any] = Future()
        self._jobs.put((fn, future))
        try:
            return future.result(timeout)
        except FutureTimeout:
            if future.cancel():
                raise ExchangeTimedOutError(
                    f"no producer connection was free within {timeout}s", uri=self.name
                ) from None
            return future.result()  # started meanwhile: it ends within its own MQ wait

    def _start_threads(self) -> None:
        with self._lock:
            while len(self._threads) < self.size and not self._stopped:
                thread = threading.Thread(
                    target=self._loop, name=f"ibmmq-producer-{len(self._threads) + 1}", daemon=True
                )
                thread.start()
                self._threads.append(thread)

    def _loop(self) -> None:
        connection: MqConnection | None = None
        try:
            while True:
                job = self._jobs.get()
                if job is _STOP:
                    return
                fn, future = job
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    result, connection = self._attempt(fn, connection)
                except BaseException as exc:  # noqa: BLE001 - handed to the caller
                    future.set_exception(exc)
                else:
                    future.set_result(result)
        finally:
            if connection is not None:
                connection.close()

    def _attempt(
        self, fn: Callable[[MqConnection], Any], connection: MqConnection | None
    ) -> tuple[Any, MqConnection | None]:
        """``fn`` on the thread's connection; once more on a new one if the connection broke."""
        for attempt in (1, 2):
            try:
                if connection is None:
                    connection = MqConnection(self.mq, self.params, self.name).connect()
                return fn(connection), connection
            except MqConnectionError as exc:
                if connection is not None:
                    connection.close()
                    connection = None
                if attempt == 2:
                    raise
                log.warning("%s: %s; trying once more on a new connection", self.name, exc)
        raise AssertionError("unreachable")  # pragma: no cover

    def stop(self, timeout: float = 2.0) -> None:
        """Close the connections (each on its own thread); jobs still queued fail."""
        with self._lock:
            self._stopped = True
            threads, self._threads = self._threads, []
        for _ in threads:
            self._jobs.put(_STOP)
        for thread in threads:
            thread.join(timeout)
        while True:
            try:
                job = self._jobs.get_nowait()
            except _queue.Empty:
                break
            if job is not _STOP and job[1].set_running_or_notify_cancel():
                job[1].set_exception(EndpointNotConnectedError("the producer stopped", uri=self.name))


class IbmMqProducer(Producer):
    endpoint: IbmMqEndpoint

    def __init__(self, endpoint: IbmMqEndpoint) -> None:
        super().__init__(endpoint)
        values = endpoint.values
        self._mq: Any = None
        self._pool: SessionPool | None = None
        self._defaults = endpoint.producer_defaults()
        self._properties: str = values["properties"]
        self._join: bool = values["join_unit_of_work"]
        self._timeout: float = values["request_timeout"]
        self._crossing = HeaderFilter(
            values["forward_headers"], protocol=PROTOCOL, uri=endpoint.uri, control=is_control_header
        )

    def start(self) -> None:
        if self._pool is None:
            self._mq = load_mqi()
            self._pool = self.endpoint.component.acquire_pool(self.endpoint, self._mq)

    def stop(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            self.endpoint.component.release_pool(pool)

    def process(self, exchange: Exchange) -> None:
        endpoint = self.endpoint
        message = exchange.message
        headers = self._crossing.apply(message.headers, exchange.properties.get(INBOUND_HEADERS))
        fields, data = to_mq(message.body, headers, self._defaults, self._properties)
        worker = current_worker()
        local = worker.connection if worker is not None and worker.params == endpoint.params else None
        if exchange.pattern is _IN_OUT:
            if endpoint.values["reply_to"] is None:
                raise EndpointError(
                    "an InOut exchange needs the reply_to option (the queue replies come to); "
                    "send it InOnly to just put it",
                    uri=endpoint.uri,
                )
            if local is not None:  # outside syncpoint, on the consumer's connection: no hand-off
                reply_md, reply = self._request(local, fields, data)
            else:
                reply_md, reply = self._pool_run(lambda conn: self._request(conn, fields, data), self._timeout * 2 + 5)
            body, headers = from_mq(reply_md, reply, endpoint.values["body_type"], endpoint.uri)
            message.body = body
            message.headers.update(headers)
            exchange.properties[INBOUND_HEADERS] = Inbound(PROTOCOL, headers, inbound_of(exchange.properties))
            return
        if local is not None and self._join:
            local.put(endpoint.queue, "", data, self._mq.MD(**fields), syncpoint=True)
            return
        self._pool_run(
            lambda conn: conn.put(endpoint.queue, "", data, self._mq.MD(**fields), syncpoint=False), self._timeout
        )

    def _pool_run(self, fn: Callable[[MqConnection], Any], timeout: float) -> Any:
        pool = self._pool
        if pool is None:
            raise EndpointNotConnectedError("the producer is not started", uri=self.endpoint.uri)
        return pool.run(fn, timeout)

    def _request(self, connection: MqConnection, fields: dict[str, Any], data: bytes) -> tuple[Any, bytes]:
        mq = self._mq
        CMQC = mq.CMQC
        values = self.endpoint.values
        reply_to: str = values["reply_to"]
        md = mq.MD(**fields)
        md.MsgType = CMQC.MQMT_REQUEST
        md.ReplyToQ = reply_to.encode()
        md.ReplyToQMgr = (values["reply_to_queue_manager"] or "").encode()
        pass_correl = bool(md.Report & CMQC.MQRO_PASS_CORREL_ID)
        if pass_correl and not md.CorrelId.strip(b"\0"):
            raise EndpointError(
                "a request with MQRO_PASS_CORREL_ID needs a JMS_IBM_MQMD_CorrelId header to match its reply by",
                uri=self.endpoint.uri,
            )
        connection.put(self.endpoint.queue, "", data, md, syncpoint=False, new_msg_id=True)
        reply_md = mq.MD(CorrelId=md.CorrelId if pass_correl else md.MsgId)
        options = (
            CMQC.MQGMO_WAIT
            | CMQC.MQGMO_NO_SYNCPOINT
            | CMQC.MQGMO_FAIL_IF_QUIESCING
            | (CMQC.MQGMO_PROPERTIES_FORCE_MQRFH2 if self._properties == "rfh2" else CMQC.MQGMO_NO_PROPERTIES)
        )
        gmo = mq.GMO(
            Options=options, WaitInterval=max(1, round(self._timeout * 1000)), MatchOptions=CMQC.MQMO_MATCH_CORREL_ID
        )
        reply = connection.get(reply_to, reply_md, gmo)
        if reply is None:
            raise ExchangeTimedOutError(
                f"no reply on queue '{reply_to}' within {self._timeout}s (correlation id "
                f"{bytes(reply_md.CorrelId).hex()})",
                uri=self.endpoint.uri,
            )
        return reply_md, reply

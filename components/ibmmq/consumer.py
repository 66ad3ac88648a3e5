"""The ibmmq consumer: MQGET under syncpoint, committed only after the exchange completed.

``concurrent_consumers`` worker threads, each with its own connection (an MQ connection handle
and its unit of work belong to one thread). A worker loops: MQGET with ``MQGMO_SYNCPOINT`` and
``MQGMO_WAIT`` (up to ``wait_interval``), then runs the exchange through the route on its own
thread, then settles the message on that same thread and connection:

* done (or failed and handled by the error handler): MQCMIT. When a producer downstream
  confirms asynchronously (an amqp publisher confirm: it ``hold()``s the unit of work), the
  worker waits for that confirmation (up to ``commit_timeout``) before committing, so the get is
  committed only after every send it caused is safe. Puts to the same queue manager from the
  route join this unit of work (see the producer) and commit with it. A request message
  (MsgType REQUEST with a ReplyToQ) gets the route's result as its reply, put in the same unit of
  work (its MQMD never from headers another protocol brought: ``eip.header_filter``);
* failed: MQBACK. The message is available again at once, its BackoutCount one higher. After a
  failure caused by an unreachable system (EndpointNotConnectedError) the worker pauses
  ``reconnect_delay`` first;
* a message whose BackoutCount has reached the backout threshold (the ``backout_threshold``
  option, else the queue's BOTHRESH, else 5) is not routed again: it is put, in the same unit of
  work as its get, on the queue's backout queue (BOQNAME) as it is, or, when the queue has none,
  on ``dead_letter_queue`` (else the queue manager's dead-letter queue) behind an MQDLH with
  reason 2362 MQRC_BACKOUT_THRESHOLD_REACHED, and committed. A poison message never loops.

A connection that breaks (2009, 2059, 2161, 2162, 2538...) is replaced with back-off
(``reconnect_delay`` doubling up to ``max_reconnect_delay``); the queue manager backs out what
the broken connection had got, so nothing is lost. ``start()`` fails for a refused login, an
unknown queue or channel, a TLS mismatch; it does not for an unreachable queue manager (the
workers keep trying). It waits up to 30 s for each worker's first connection attempt. ``stop()`` returns at once; a worker in an MQGET finishes it (at most
``wait_interval``), routes what it got, and disconnects on its own thread.

The headers made from a message (MQMD fields, RFH2 properties) are recorded as received over
``ibmmq`` (``create_exchange``, the endpoint's ``inbound_protocol``), so producers of other
protocols never take them as control headers (``eip.header_filter``).

What a crash loses: nothing. Uncommitted gets go back to the queue when the connection dies
(delivered again: at-least-once; BackoutCount says how often).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from components.ibmmq.client import MqConnection, is_transient, load_mqi, mq_text
from components.ibmmq.errors import MqConnectionError, MqError
from components.ibmmq.mapping import PROTOCOL, from_mq, is_control_header, to_mq
from eip.component import Consumer, Processor
from eip.exchange import Exchange, ExchangePattern
from eip.header_filter import HeaderFilter, inbound_of
from legacy.mq import (
    CCSID_UTF8,
    DEAD_LETTER_HEADER,
    REASON_BACKOUT_THRESHOLD_REACHED,
    DeadLetterHeader,
    format_field,
    format_name,
    id_text,
)

if TYPE_CHECKING:
    from components.ibmmq.endpoint import IbmMqEndpoint

log = logging.getLogger("components.ibmmq")
DEFAULT_BACKOUT_THRESHOLD = 5
START_WAIT = 30.0
NOT_AUTHORIZED = 2035
_local = threading.local()


def current_worker() -> Worker | None:
    """The consumer worker routing an exchange on this thread, if any (for the producer)."""
    return getattr(_local, "worker", None)


class _Outcome:
    """Set by the exchange's unit of work, from whichever thread finishes it."""

    __slots__ = ("event", "ok")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.ok = False

    def completed(self, exchange: Exchange) -> None:
        self.ok = True
        self.event.set()

    def failed(self, exchange: Exchange) -> None:
        self.ok = False
        self.event.set()


class Worker:
    """One consumer thread and its connection."""

    def __init__(self, consumer: IbmMqConsumer, index: int, stopping: threading.Event) -> None:
        endpoint = consumer.endpoint
        self.consumer = consumer
        self.endpoint = endpoint
        self.params = endpoint.params
        self.mq = consumer.mq
        self.stopping = stopping
        self.uri = endpoint.uri
        self.connection: MqConnection | None = None
        self.busy = False
        self.started = threading.Event()
        self.start_error: MqError | None = None
        self.threshold = DEFAULT_BACKOUT_THRESHOLD
        self.backout_queue = ""
        values = endpoint.values
        CMQC = self.mq.CMQC
        self.get_options = (
            CMQC.MQGMO_WAIT
            | CMQC.MQGMO_SYNCPOINT
            | CMQC.MQGMO_FAIL_IF_QUIESCING
            | (CMQC.MQGMO_PROPERTIES_FORCE_MQRFH2 if values["properties"] == "rfh2" else CMQC.MQGMO_NO_PROPERTIES)
        )
        if values["convert"]:
            self.get_options |= CMQC.MQGMO_CONVERT
        self.wait_ms = max(1, round(values["wait_interval"] * 1000))
        self.delay = values["reconnect_delay"]
        self.thread = threading.Thread(target=self._run, name=f"ibmmq-consumer-{endpoint.queue}-{index}", daemon=True)

    # -- the loop ---------------------------------------------------------------------------------
    def _run(self) -> None:
        values = self.endpoint.values
        delay = values["reconnect_delay"]
        interrupted = False  # a connection failed since the last one was made
        try:
            while not self.stopping.is_set():
                if self.connection is None:
                    try:
                        self._open()
                    except MqError as exc:
                        if not self.started.is_set():
                            self.start_error = exc
                            self.started.set()
                            if not isinstance(exc, MqConnectionError):
                                return  # start() raises it
                        log.warning("%s; trying again in %.1fs", exc, delay)
                        interrupted = True
                        self.stopping.wait(delay)
                        delay = min(delay * 2, values["max_reconnect_delay"])
                        continue
                    if interrupted:
                        log.info("%s: connected to %s again", self.uri, self.params.describe())
                    interrupted = False
                    self.start_error = None
                    self.started.set()
                    delay = values["reconnect_delay"]
                try:
                    self._receive()
                except Exception as exc:  # the worker must outlive any one message
                    if isinstance(exc, MqError):
                        log.warning("%s; reconnecting in %.1fs", exc, delay)
                    else:
                        log.exception("%s: unexpected failure; backing out and reconnecting in %.1fs", self.uri, delay)
                    self._close()  # backs out what the unit of work held
                    interrupted = True
                    self.stopping.wait(delay)
                    delay = min(delay * 2, values["max_reconnect_delay"])
        except Exception:
            log.exception("%s: consumer thread failed", self.uri)
        finally:
            self._close()
            self.started.set()

    def _open(self) -> None:
        CMQC = self.mq.CMQC
        connection = MqConnection(self.mq, self.params, self.uri).connect()
        queue = self.endpoint.queue
        try:
            option = self.endpoint.values["backout_threshold"]
            try:
                attributes = connection.inquire_queue(
                    queue, [CMQC.MQIA_BACKOUT_THRESHOLD, CMQC.MQCA_BACKOUT_REQ_Q_NAME]
                )
            except MqError as exc:
                if exc.reason != NOT_AUTHORIZED:
                    raise
                log.warning(
                    "%s: no authority to inquire queue '%s' (BOTHRESH, BOQNAME); poison messages go to "
                    "dead_letter_queue or the queue manager's dead-letter queue",
                    self.uri,
                    queue,
                )
                connection.input_queue(queue, inquire=False)
                attributes = {}
            queue_threshold = int(attributes.get(CMQC.MQIA_BACKOUT_THRESHOLD) or 0)
            self.threshold = option if option is not None else (queue_threshold or DEFAULT_BACKOUT_THRESHOLD)
            self.backout_queue = mq_text(attributes.get(CMQC.MQCA_BACKOUT_REQ_Q_NAME, b""))
        except BaseException:
            connection.close()
            raise
        self.connection = connection

    def _close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            connection.close()

    def _receive(self) -> None:
        connection = self.connection
        assert connection is not None
        mq = self.mq
        md = mq.MD()
        if self.get_options & mq.CMQC.MQGMO_CONVERT:
            md.CodedCharSetId = self.endpoint.values["ccsid"]
        gmo = mq.GMO(Options=self.get_options, WaitInterval=self.wait_ms)
        self.busy = True
        try:
            data = connection.get(self.endpoint.queue, md, gmo)
            if data is None:
                return
            if self.threshold and md.BackoutCount >= self.threshold:
                self._remove_poison(connection, md, data)
            else:
                self._process(connection, md, data)
        finally:
            self.busy = False

    # -- one message ------------------------------------------------------------------------------
    def _process(self, connection: MqConnection, md: Any, data: bytes) -> None:
        endpoint = self.endpoint
        consumer = self.consumer
        CMQC = self.mq.CMQC
        body, headers = from_mq(md, data, endpoint.values["body_type"], self.uri)
        request = (
            md.MsgType == CMQC.MQMT_REQUEST and bool(mq_text(md.ReplyToQ)) and not endpoint.values["disable_reply_to"]
        )
        exchange = consumer.create_exchange(
            body, headers, ExchangePattern.IN_OUT if request else ExchangePattern.IN_ONLY
        )
        exchange.message.message_id = id_text(md.MsgId)
        outcome = _Outcome()
        uow = exchange.unit_of_work
        assert uow is not None
        uow.on_completion(outcome.completed)
        uow.on_failure(outcome.failed)
        _local.worker = self
        try:
            consumer.processor.process(exchange)
        except Exception as exc:
            log.exception("%s: the route raised for message %s", self.uri, exchange.message.message_id)
            if not uow.finished:
                exchange.exception = exchange.exception or exc
                uow.done(exchange)
        finally:
            _local.worker = None
        if not outcome.event.wait(endpoint.values["commit_timeout"]):
            log.error(
                "%s: message %s: confirmations downstream did not arrive within %.1fs; backing it out",
                self.uri,
                exchange.message.message_id,
                endpoint.values["commit_timeout"],
            )
            connection.backout()
            return
        if not outcome.ok:
            connection.backout()
            if is_transient(exchange.exception):
                self.stopping.wait(self.delay)
            return
        if request:
            try:
                self._reply(connection, md, exchange)
            except MqConnectionError:
                raise
            except Exception as exc:  # noqa: BLE001 - the request is done again (or goes to the backout queue)
                log.error(
                    "%s: reply to message %s could not be put on '%s' (%s); backing the request out",
                    self.uri,
                    exchange.message.message_id,
                    mq_text(md.ReplyToQ),
                    exc,
                )
                connection.backout()
                return
        connection.commit()

    def _reply(self, connection: MqConnection, request: Any, exchange: Exchange) -> None:
        mq = self.mq
        CMQC = mq.CMQC
        message = exchange.message
        headers = self.consumer.crossing.apply(message.headers, inbound_of(exchange.properties))
        fields, data = to_mq(
            message.body,
            headers,
            self.endpoint.producer_defaults(),
            self.endpoint.values["properties"],
            mqmd_headers=False,
        )
        md = mq.MD(**fields)
        md.MsgType = CMQC.MQMT_REPLY
        md.Persistence = request.Persistence
        md.CorrelId = request.CorrelId if request.Report & CMQC.MQRO_PASS_CORREL_ID else request.MsgId
        keep_id = bool(request.Report & CMQC.MQRO_PASS_MSG_ID)
        if keep_id:
            md.MsgId = request.MsgId
        connection.put(
            mq_text(request.ReplyToQ), mq_text(request.ReplyToQMgr), data, md, syncpoint=True, new_msg_id=not keep_id
        )

    def _remove_poison(self, connection: MqConnection, md: Any, data: bytes) -> None:
        """Move a message over the backout threshold off the queue, in the unit of work of its get."""
        message_id = id_text(md.MsgId)
        count = md.BackoutCount
        target, dead_letter = self._poison_target(connection)
        if target is None:
            log.error(
                "%s: message %s was backed out %d times (threshold %d) but there is nowhere to move it: "
                "the queue has no backout queue (BOQNAME), dead_letter_queue is not set and the queue "
                "manager has no dead-letter queue; it stays on the queue",
                self.uri,
                message_id,
                count,
                self.threshold,
            )
            connection.backout()
            self.stopping.wait(self.endpoint.values["max_reconnect_delay"])
            return
        if dead_letter:
            header = DeadLetterHeader(
                REASON_BACKOUT_THRESHOLD_REACHED,
                self.endpoint.queue,
                self._qmgr_name(connection),
                format_name(md.Format),
                md.Encoding,
                md.CodedCharSetId,
                put_appl_name="eip ibmmq",
            )
            data = header.pack(md.Encoding) + data
            md.Format = format_field(DEAD_LETTER_HEADER)
            md.CodedCharSetId = CCSID_UTF8  # the MQDLH's own text; its ccsid field keeps the data's
        try:
            connection.put(target, "", data, md, syncpoint=True)
            connection.commit()
        except MqConnectionError:
            raise
        except MqError as exc:
            log.error(
                "%s: message %s was backed out %d times but could not be moved to '%s' (%s); it stays on the queue",
                self.uri,
                message_id,
                count,
                target,
                exc,
            )
            connection.backout()
            self.stopping.wait(self.delay)
            return
        log.warning(
            "%s: message %s was backed out %d times (threshold %d); moved to '%s'%s",
            self.uri,
            message_id,
            count,
            self.threshold,
            target,
            " with an MQDLH" if dead_letter else "",
        )

    def _poison_target(self, connection: MqConnection) -> tuple[str | None, bool]:
        if self.backout_queue:
            return self.backout_queue, False
        configured = self.endpoint.values["dead_letter_queue"]
        if configured:
            return configured, True
        try:
            dlq = mq_text(connection.inquire_qmgr(self.mq.CMQC.MQCA_DEAD_LETTER_Q_NAME))
        except MqConnectionError:
            raise
        except MqError as exc:
            log.warning("%s: cannot inquire the queue manager's dead-letter queue: %s", self.uri, exc)
            dlq = ""
        return (dlq, True) if dlq else (None, False)

    def _qmgr_name(self, connection: MqConnection) -> str:
        try:
            return connection.queue_manager_name
        except MqConnectionError:
            raise
        except MqError:
            return ""


class IbmMqConsumer(Consumer):
    """``concurrent_consumers`` workers getting from one queue (see the module doc)."""

    endpoint: IbmMqEndpoint

    def __init__(self, endpoint: IbmMqEndpoint, processor: Processor) -> None:
        super().__init__(endpoint, processor)
        self.mq: Any = None
        self.workers: list[Worker] = []
        #: What a reply may carry: like the producer, no other protocol's header as an MQMD field.
        self.crossing = HeaderFilter(protocol=PROTOCOL, uri=endpoint.uri, control=is_control_header)
        self._stopping: threading.Event | None = None
        self._closing: list[Worker] = []

    def start(self) -> None:
        if self.workers:
            return
        self.mq = load_mqi()
        stopping = threading.Event()
        workers = [
            Worker(self, index, stopping) for index in range(1, self.endpoint.values["concurrent_consumers"] + 1)
        ]
        for worker in workers:
            worker.thread.start()
        deadline = time.monotonic() + START_WAIT
        for worker in workers:
            worker.started.wait(max(0.0, deadline - time.monotonic()))
        errors = [w.start_error for w in workers if w.start_error is not None]
        fatal = next((e for e in errors if not isinstance(e, MqConnectionError)), None)
        if fatal is not None:
            stopping.set()
            for worker in workers:
                worker.thread.join(max(0.0, deadline - time.monotonic()))
            raise fatal
        if errors:
            log.warning("%s (not reachable yet); the consumer keeps trying", errors[0])
        self._stopping = stopping
        self.workers = workers

    def stop(self) -> None:
        if self._stopping is not None:
            self._stopping.set()
        self._closing = [w for w in self._closing + self.workers if w.thread.is_alive()]
        self.workers = []

    def pending_exchanges(self) -> int:
        """Workers in an MQGET or routing a message: graceful stop waits for them."""
        return sum(1 for w in self._closing if w.busy and w.thread.is_alive())

    def close(self, timeout: float = 2.0) -> None:
        """Stop, and wait a little for the workers to disconnect (the endpoint's stop)."""
        self.stop()
        deadline = time.monotonic() + timeout
        for worker in self._closing:
            worker.thread.join(max(0.0, deadline - time.monotonic()))
        self._closing = [w for w in self._closing if w.thread.is_alive()]

    @property
    def connected(self) -> bool:
        return bool(self.workers) and all(w.connection is not None for w in self.workers)

"""MQ messages to and from exchanges: bodies by format and CCSID, MQMD fields and RFH2 properties
as headers.

Putting (``to_mq``):

* a ``str`` body is encoded in the CCSID (the ``JMS_IBM_MQMD_CodedCharSetId`` header, else the
  endpoint's ``ccsid``, 1208 UTF-8 by default) with format ``MQSTR``; a ``dict``/``list`` (and
  numbers, booleans) as JSON text the same way; ``bytes`` as they are, with the
  ``JMS_IBM_MQMD_Format`` header's format or ``MQFMT_NONE`` (binary); ``None`` as no data;
* the ``JMS_IBM_MQMD_*`` headers of the writable fields (``eip.constants``: MsgId, CorrelId,
  Format, CodedCharSetId, Encoding, Persistence, Priority, Expiry, MsgType, Report, Feedback,
  ReplyToQ, ReplyToQMgr) set those MQMD fields, over the endpoint's ``persistence``,
  ``priority`` and ``expiry``; the fields the queue manager sets (BackoutCount, PutDate...) are
  never written;
* with ``properties=rfh2`` (the default) every other header, except the engine's own ``Camel*``
  headers (Camel's JMS header filter drops them too), becomes a property in the ``<usr>`` folder
  of an RFH2 in front of the data (``MQMD.Format`` ``MQHRF2``), typed as ``legacy.mq.rfh2``
  says, with ``<mcd><Msd>jms_text</Msd></mcd>`` (or ``jms_bytes``) so a JMS application sees a
  TextMessage (BytesMessage). A message without such headers gets no RFH2. ``properties=none``
  never writes one: for applications that do not read RFH2 (COBOL programs on the mainframe).
* the producer first leaves out what ``eip.header_filter`` refuses: the headers an inbound HTTP
  request brought (none by default, ``forward_headers`` names some, never credentials), and the
  ``JMS_IBM_*`` control headers that still hold what another protocol's consumer received (an
  AMQP headers table), so neither a query parameter nor an AMQP publisher sets an MQMD field
  (Priority, ReplyToQ, Report...). Those the route set, and those an MQ consumer received (an
  MQ-to-MQ bridge), go through.

Getting (``from_mq``): RFH2 headers in front of the data are taken off (their ``<usr>``
properties become headers); every MQMD field becomes its ``JMS_IBM_MQMD_*`` header, with Format,
CodedCharSetId and Encoding describing the body that remains. The body by ``body_type``:
``auto`` (default) decodes ``MQSTR`` (or a JMS text message) in its CCSID to ``str`` and keeps
anything else ``bytes``; ``text`` always decodes; ``bytes`` never does. A body that does not
decode stays ``bytes``; an RFH2 that does not parse is left in the body (headers from the MQMD
only), so the route's error handler decides.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from eip import constants as c
from eip.dataformat import JsonDataFormat
from eip.errors import TypeConversionError
from legacy.mq import (
    ENCODING_NATIVE,
    NONE,
    RF_HEADER_2,
    STRING,
    MqHeaderError,
    Rfh2,
    codec_for,
    format_field,
    format_name,
    id_bytes,
    unwrap,
)

log = logging.getLogger("components.ibmmq")

#: The protocol name consumers record what they received under (``eip.header_filter.Inbound``).
PROTOCOL = "ibmmq"
#: Header -> MQMD field, for the fields a producer writes.
WRITABLE_FIELDS: dict[str, str] = {
    c.IBMMQ_MSG_ID: "MsgId",
    c.IBMMQ_CORREL_ID: "CorrelId",
    c.IBMMQ_FORMAT: "Format",
    c.IBMMQ_CODED_CHARSET_ID: "CodedCharSetId",
    c.IBMMQ_ENCODING: "Encoding",
    c.IBMMQ_PERSISTENCE: "Persistence",
    c.IBMMQ_PRIORITY: "Priority",
    c.IBMMQ_EXPIRY: "Expiry",
    c.IBMMQ_MSG_TYPE: "MsgType",
    c.IBMMQ_REPORT: "Report",
    c.IBMMQ_FEEDBACK: "Feedback",
    c.IBMMQ_REPLY_TO_Q: "ReplyToQ",
    c.IBMMQ_REPLY_TO_Q_MGR: "ReplyToQMgr",
}
#: Header -> MQMD field, for the fields the queue manager sets (read only).
CONTEXT_FIELDS: dict[str, str] = {
    c.IBMMQ_BACKOUT_COUNT: "BackoutCount",
    c.IBMMQ_PUT_DATE: "PutDate",
    c.IBMMQ_PUT_TIME: "PutTime",
    c.IBMMQ_PUT_APPL_NAME: "PutApplName",
    c.IBMMQ_USER_IDENTIFIER: "UserIdentifier",
}
_WRITABLE = {name.lower(): field_name for name, field_name in WRITABLE_FIELDS.items()}
_MQMD_HEADERS = frozenset(name.lower() for name in (*WRITABLE_FIELDS, *CONTEXT_FIELDS))
_INTEGER_FIELDS = frozenset(
    ("CodedCharSetId", "Encoding", "Persistence", "Priority", "Expiry", "MsgType", "Report", "Feedback")
)
_TEXT_FIELDS = ("ReplyToQ", "ReplyToQMgr", "PutDate", "PutTime", "PutApplName", "UserIdentifier")
_JSON = JsonDataFormat()
BODY_TYPES = ("auto", "bytes", "text")
PROPERTY_MODES = ("rfh2", "none")


def encode_body(body: Any, ccsid: int) -> tuple[bytes, str | None]:
    """The data to put and the format it implies (None: bytes, the caller decides)."""
    cls = body.__class__
    if cls is bytes:
        return body, None
    if cls is str:
        return _encode_text(body, ccsid), STRING
    if body is None:
        return b"", None
    if isinstance(body, (bytearray, memoryview)):
        return bytes(body), None
    if isinstance(body, str):
        return _encode_text(str(body), ccsid), STRING
    if isinstance(body, (dict, list, int, float)):
        try:
            text = _JSON.marshal(None, body).decode("utf-8")
        except (TypeError, ValueError) as exc:
            raise TypeConversionError(f"cannot put the body as JSON: {exc}") from exc
        return _encode_text(text, ccsid), STRING
    if hasattr(body, "__bytes__"):
        return bytes(body), None
    raise TypeConversionError(
        f"cannot put a body of type {cls.__name__} on an MQ queue: convert it to bytes, "
        "str, dict or list first (convert_body_to, marshal)"
    )


def _encode_text(text: str, ccsid: int) -> bytes:
    codec = codec_for(ccsid)
    try:
        return text.encode(codec)
    except UnicodeEncodeError as exc:
        raise TypeConversionError(
            f"the body has characters CCSID {ccsid} ({codec}) cannot hold: {exc.object[exc.start : exc.end]!r}"
        ) from exc


def is_control_header(name: str) -> bool:
    """True for the ``JMS_IBM_*`` headers: MQMD fields and IBM's provider properties."""
    return name[:8].lower() == "jms_ibm_"


def to_mq(
    body: Any, headers: Mapping[str, Any], defaults: dict[str, Any], properties: str, *, mqmd_headers: bool = True
) -> tuple[dict[str, Any], bytes]:
    """``(MQMD fields, data)`` for a message (see the module doc). ``defaults`` holds the
    endpoint's ``ccsid``, ``Persistence``, ``Priority`` and ``Expiry``; ``mqmd_headers=False``
    ignores the id, type and reply-to headers (a reply gets those from its request)."""
    fields: dict[str, Any] = {
        "Persistence": defaults["Persistence"],
        "Priority": defaults["Priority"],
        "Expiry": defaults["Expiry"],
    }
    props: dict[str, Any] = {}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in _MQMD_HEADERS:
            field_name = _WRITABLE.get(lowered)  # None: a context field, the queue manager sets it
            if field_name is not None and value is not None:
                fields[field_name] = value
        elif properties == "rfh2" and not lowered.startswith("camel"):
            props[name] = value
    if not mqmd_headers:
        for name in ("MsgId", "CorrelId", "MsgType", "ReplyToQ", "ReplyToQMgr", "Report", "Feedback"):
            fields.pop(name, None)
    try:
        ccsid = int(fields.get("CodedCharSetId") or defaults["ccsid"])
        encoding = int(fields.get("Encoding") or ENCODING_NATIVE)
        data, implied = encode_body(body, ccsid)
        fmt = implied if implied is not None else format_name(str(fields.get("Format") or NONE))
        md: dict[str, Any] = {"Format": format_field(fmt), "CodedCharSetId": ccsid, "Encoding": encoding}
        for name in ("Persistence", "Priority", "Expiry", "MsgType", "Report", "Feedback"):
            if name in fields:
                md[name] = int(fields[name])
        for name in ("MsgId", "CorrelId"):
            if name in fields:
                md[name] = id_bytes(fields[name], name)
        for name in ("ReplyToQ", "ReplyToQMgr"):
            if name in fields:
                md[name] = str(fields[name]).encode()
    except (TypeError, ValueError, MqHeaderError) as exc:
        raise TypeConversionError(f"cannot build the MQMD from the message's headers: {exc}") from exc
    if props:
        msd = "jms_text" if fmt == STRING else "jms_bytes"
        header = Rfh2({"mcd": {"Msd": msd}, "usr": props}, format=fmt, encoding=encoding, ccsid=ccsid)
        try:
            data = header.pack(ENCODING_NATIVE) + data
        except MqHeaderError as exc:
            raise TypeConversionError(f"cannot write the headers as RFH2 properties: {exc}") from exc
        md.update(Format=format_field(RF_HEADER_2), CodedCharSetId=1208, Encoding=ENCODING_NATIVE)
    return md, data


def from_mq(md: Any, data: bytes, body_type: str, uri: str) -> tuple[Any, dict[str, Any]]:
    """``(body, headers)`` of a message got with ``md`` (see the module doc)."""
    fmt = format_name(md.Format)
    encoding, ccsid = int(md.Encoding), int(md.CodedCharSetId)
    headers: dict[str, Any] = {}
    text_message = False
    if fmt == RF_HEADER_2:
        try:
            unwrapped = unwrap(data, fmt, encoding, ccsid)
        except MqHeaderError as exc:
            log.warning(
                "%s: message %s has an RFH2 that does not parse (%s); delivering it with the RFH2 in the body",
                uri,
                bytes(md.MsgId).hex(),
                exc,
            )
        else:
            headers.update(unwrapped.properties)
            text_message = unwrapped.folder("mcd").get("Msd") == "jms_text"
            fmt, encoding, ccsid = unwrapped.format, unwrapped.encoding, unwrapped.ccsid
            data = data[unwrapped.offset :]
    headers[c.IBMMQ_MSG_ID] = bytes(md.MsgId)
    headers[c.IBMMQ_CORREL_ID] = bytes(md.CorrelId)
    headers[c.IBMMQ_FORMAT] = fmt
    headers[c.IBMMQ_CODED_CHARSET_ID] = ccsid
    headers[c.IBMMQ_ENCODING] = encoding
    for name in ("Persistence", "Priority", "Expiry", "MsgType", "Report", "Feedback", "BackoutCount"):
        headers["JMS_IBM_MQMD_" + name] = int(getattr(md, name))
    for name in _TEXT_FIELDS:
        value = getattr(md, name)
        headers["JMS_IBM_MQMD_" + name] = (
            value.split(b"\0", 1)[0].decode("utf-8", "replace").strip()
            if isinstance(value, bytes)
            else str(value).strip()
        )
    body: Any = data
    if body_type == "text" or (body_type == "auto" and (fmt == STRING or text_message)):
        try:
            body = data.decode(codec_for(ccsid))
        except (UnicodeDecodeError, MqHeaderError):
            body = data
    return body, headers

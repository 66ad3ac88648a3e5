"""Helpers for MQMD fields: message and correlation ids, put date and time, blank-padded text."""

from __future__ import annotations

import datetime as _dt
from typing import Any

from legacy.mq.errors import MqHeaderError

ID_LENGTH = 24
NO_ID = bytes(ID_LENGTH)


def id_bytes(value: Any, what: str = "MsgId") -> bytes:
    """A 24-byte MsgId/CorrelId/GroupId from bytes (up to 24, NUL-padded), ``"ID:<48 hex>"``
    (how JMS prints them) or other text (UTF-8, up to 24 bytes, NUL-padded)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
    elif isinstance(value, str):
        if value.startswith("ID:"):
            try:
                raw = bytes.fromhex(value[3:])
            except ValueError:
                raise MqHeaderError(f"{what} {value!r}: after 'ID:' come hexadecimal digits") from None
        else:
            raw = value.encode("utf-8")
    else:
        raise MqHeaderError(f"{what} must be bytes or text, not {type(value).__name__}")
    if len(raw) > ID_LENGTH:
        raise MqHeaderError(f"{what} has {len(raw)} bytes; MQ ids have at most {ID_LENGTH}")
    return raw.ljust(ID_LENGTH, b"\0")


def id_text(value: bytes) -> str:
    """``"ID:<hex>"``, how JMS prints a MsgId or CorrelId."""
    return "ID:" + bytes(value).hex()


def is_no_id(value: bytes) -> bool:
    """True for MQMI_NONE/MQCI_NONE (all NUL, or empty)."""
    return not value.strip(b"\0")


def put_date_time(when: _dt.datetime | None = None) -> tuple[str, str]:
    """``("YYYYMMDD", "HHMMSSTH")`` in UTC, as the queue manager fills PutDate and PutTime."""
    when = (when or _dt.datetime.now(_dt.UTC)).astimezone(_dt.UTC)
    return when.strftime("%Y%m%d"), when.strftime("%H%M%S") + f"{when.microsecond // 10000:02d}"


def parse_put_date_time(date: str, time: str) -> _dt.datetime | None:
    """The UTC datetime of PutDate/PutTime, or None when they are blank or malformed."""
    date, time = date.strip(), time.strip()
    if len(date) != 8 or len(time) < 6:
        return None
    try:
        stamp = _dt.datetime.strptime(date + time[:6], "%Y%m%d%H%M%S").replace(tzinfo=_dt.UTC)
        hundredths = int(time[6:8]) if len(time) >= 8 else 0
    except ValueError:
        return None
    return stamp + _dt.timedelta(milliseconds=10 * hundredths)


def blank_padded(text: str, length: int, codec: str = "ascii") -> bytes:
    """An MQCHAR field: the text encoded and padded with blanks to ``length`` (error if longer)."""
    raw = text.encode(codec)
    if len(raw) > length:
        raise MqHeaderError(f"{text!r} is longer than the {length} characters of its MQ field")
    return raw + b" " * (length - len(raw))

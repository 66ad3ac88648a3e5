"""MQDLH: the dead-letter header put in front of a message that could not be delivered.

A message moved to a dead-letter queue keeps its body behind a 172-byte header that says why
(``reason``, an MQRC or MQFB code: 2362 ``MQRC_BACKOUT_THRESHOLD_REACHED`` for a poison
message), where it was going (``dest_q_name``, ``dest_q_mgr_name``), who moved it and when,
and the format, numeric encoding and CCSID of the original data after it. ``MQMD.Format`` of
the dead-lettered message is ``MQDEAD``. The integers are in the MQMD's ``Encoding``; the text
fields are blank-padded in the MQMD's CCSID (ASCII here, EBCDIC from z/OS).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from legacy.mq.ccsid import CCSID_UTF8, ENCODING_NATIVE, byte_order
from legacy.mq.errors import MqHeaderError
from legacy.mq.formats import NONE, format_field, format_name
from legacy.mq.md import blank_padded, put_date_time

STRUC_ID = b"DLH "
STRUC_ID_EBCDIC = b"\xc4\xd3\xc8\x40"
VERSION_1 = 1
LENGTH = 172
#: MQRC_BACKOUT_THRESHOLD_REACHED: the reason a poison message was dead-lettered.
REASON_BACKOUT_THRESHOLD_REACHED = 2362
#: MQAT_UNIX (MQAT_DEFAULT on Linux): the PutApplType of a Linux application.
APPL_TYPE_UNIX = 6
_LAYOUT = "4s2i48s48s2i8si28s8s8s"


@dataclass
class DeadLetterHeader:
    """One MQDLH. ``format``, ``encoding`` and ``ccsid`` describe the data after it."""

    reason: int
    dest_q_name: str
    dest_q_mgr_name: str = ""
    format: str = NONE
    encoding: int = ENCODING_NATIVE
    ccsid: int = CCSID_UTF8
    put_appl_type: int = APPL_TYPE_UNIX
    put_appl_name: str = ""
    put_date: str = ""
    put_time: str = ""

    def pack(self, encoding: int = ENCODING_NATIVE) -> bytes:
        """The header's 172 bytes, its integers in ``encoding`` (the MQMD's). An empty
        ``put_date``/``put_time`` is filled with the current UTC date and time."""
        date, time = put_date_time()
        try:
            return struct.pack(
                byte_order(encoding) + _LAYOUT,
                STRUC_ID,
                VERSION_1,
                self.reason,
                blank_padded(self.dest_q_name, 48),
                blank_padded(self.dest_q_mgr_name, 48),
                self.encoding,
                self.ccsid,
                format_field(self.format),
                self.put_appl_type,
                blank_padded(self.put_appl_name, 28),
                blank_padded(self.put_date or date, 8),
                blank_padded(self.put_time or time, 8),
            )
        except (struct.error, ValueError) as exc:
            raise MqHeaderError(f"cannot write the MQDLH: {exc}") from None

    @classmethod
    def unpack(cls, data: bytes, encoding: int = ENCODING_NATIVE, offset: int = 0) -> tuple[DeadLetterHeader, int]:
        """The MQDLH at ``data[offset:]`` and the offset of the data after it."""
        raw = data[offset : offset + LENGTH]
        if len(raw) < LENGTH:
            raise MqHeaderError(f"an MQDLH needs {LENGTH} bytes, only {len(raw)} left", offset=offset)
        struc_id = raw[:4]
        if struc_id not in (STRUC_ID, STRUC_ID_EBCDIC):
            raise MqHeaderError(f"not an MQDLH: StrucId {struc_id!r}", offset=offset)
        ebcdic = struc_id == STRUC_ID_EBCDIC
        (_, _version, reason, dest_q, dest_qm, next_encoding, next_ccsid, fmt, appl_type, appl_name, date, time) = (
            struct.unpack(byte_order(encoding) + _LAYOUT, raw)
        )

        def text(value: bytes) -> str:
            return value.split(b"\0", 1)[0].decode("cp500" if ebcdic else "latin-1").strip()

        return cls(
            reason,
            text(dest_q),
            text(dest_qm),
            format_name(fmt, ebcdic),
            next_encoding,
            next_ccsid,
            appl_type,
            text(appl_name),
            text(date),
            text(time),
        ), offset + LENGTH

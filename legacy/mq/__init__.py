"""IBM MQ message headers: MQRFH2 (message properties), MQDLH (dead letters), MQMD field helpers.

    from legacy.mq import Rfh2, DeadLetterHeader, unwrap

    header = Rfh2({"usr": {"tenant": "acme", "attempt": 3}}, format="MQSTR", ccsid=1208)
    data = header.pack() + "hello".encode()          # MQMD.Format "MQHRF2"
    message = unwrap(data, "MQHRF2", 546, 1208)       # -> .properties, .format, .offset
    body = data[message.offset:]

    dlh = DeadLetterHeader(2362, "ORDERS", "QM1", format="MQSTR")
    dead = dlh.pack() + body                          # MQMD.Format "MQDEAD"

Pure Python: no MQ client is needed to build or read these headers.
"""

from __future__ import annotations

from legacy.mq.ccsid import (
    CCSID_UTF8,
    ENCODING_NATIVE,
    ENCODING_S390,
    byte_order,
    codec_for,
    is_ebcdic,
)
from legacy.mq.chain import Unwrapped, unwrap
from legacy.mq.dlh import REASON_BACKOUT_THRESHOLD_REACHED, DeadLetterHeader
from legacy.mq.errors import MqHeaderError
from legacy.mq.formats import (
    DEAD_LETTER_HEADER,
    NONE,
    RF_HEADER_2,
    STRING,
    format_field,
    format_name,
)
from legacy.mq.md import (
    NO_ID,
    id_bytes,
    id_text,
    is_no_id,
    parse_put_date_time,
    put_date_time,
)
from legacy.mq.rfh2 import Rfh2, build_folder, is_rfh2, parse_folder

__all__ = [
    "CCSID_UTF8",
    "DEAD_LETTER_HEADER",
    "ENCODING_NATIVE",
    "ENCODING_S390",
    "NONE",
    "NO_ID",
    "REASON_BACKOUT_THRESHOLD_REACHED",
    "RF_HEADER_2",
    "STRING",
    "DeadLetterHeader",
    "MqHeaderError",
    "Rfh2",
    "Unwrapped",
    "build_folder",
    "byte_order",
    "codec_for",
    "format_field",
    "format_name",
    "id_bytes",
    "id_text",
    "is_ebcdic",
    "is_no_id",
    "is_rfh2",
    "parse_folder",
    "parse_put_date_time",
    "put_date_time",
    "unwrap",
]

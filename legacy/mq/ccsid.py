"""MQ coded character set ids and numeric encodings, as Python codecs and struct byte orders.

``CodedCharSetId`` (CCSID) says how the text of a message or header is encoded; ``Encoding``
(``MQENC_*``) how its integers are: the low nibble 2 (``MQENC_INTEGER_REVERSED``) is
little-endian, as on x86 and ARM (``MQENC_NATIVE`` 546 there), anything else is big-endian
(z/OS writes 785).
"""

from __future__ import annotations

import codecs
import functools

from legacy.mq.errors import MqHeaderError

#: Encoding of integers, decimals and floats on the machine this runs on (x86/ARM Linux): 0x222.
ENCODING_NATIVE = 546
#: What z/OS writes: integers and packed decimals big-endian, floats S/390.
ENCODING_S390 = 785
CCSID_UTF8 = 1208
#: The CCSID field value "the queue manager's CCSID" (MQCCSI_Q_MGR) and "inherit" (MQCCSI_INHERITED).
CCSID_Q_MGR = 0
CCSID_INHERITED = -2

_CODECS = {
    1208: "utf-8",
    1200: "utf-16-be",
    13488: "utf-16-be",
    17584: "utf-16-be",
    1202: "utf-16-le",
    367: "ascii",
    437: "cp437",
    819: "latin-1",
    850: "cp850",
    852: "cp852",
    858: "cp858",
    912: "iso8859-2",
    915: "iso8859-5",
    923: "iso8859-15",
    1250: "cp1250",
    1251: "cp1251",
    1252: "cp1252",
    5348: "cp1252",
    1253: "cp1253",
    1254: "cp1254",
    1256: "cp1256",
    37: "cp037",
    273: "cp273",
    277: "cp277",
    278: "cp278",
    280: "cp280",
    284: "cp284",
    285: "cp285",
    297: "cp297",
    500: "cp500",
    1047: "cp1047",
    1140: "cp1140",
    1141: "cp1141",
    1142: "cp1142",
    1143: "cp1143",
    1144: "cp1144",
    1145: "cp1145",
    1146: "cp1146",
    1147: "cp1147",
    1148: "cp1148",
    1149: "cp1149",
    943: "cp932",
    932: "cp932",
    1386: "gbk",
    954: "euc_jp",
    970: "euc_kr",
    1381: "gb2312",
}
_EBCDIC = frozenset({37, 273, 277, 278, 280, 284, 285, 297, 500, 1047} | set(range(1140, 1150)))


@functools.lru_cache(maxsize=64)
def codec_for(ccsid: int) -> str:
    """The Python codec for a CCSID (``1208`` -> ``utf-8``, ``37`` -> ``cp037``); raises
    MqHeaderError for one without a codec here."""
    name = _CODECS.get(ccsid) or f"cp{ccsid}"
    if ccsid in _EBCDIC and ccsid not in (37, 273, 500, 1140):
        import ebcdic  # noqa: F401  (registers cp1047, cp277..., cp1141...; the stdlib lacks them)
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise MqHeaderError(f"no codec for CCSID {ccsid}") from None


def is_ebcdic(ccsid: int) -> bool:
    return ccsid in _EBCDIC


def byte_order(encoding: int) -> str:
    """``"<"`` (little-endian) or ``">"`` for the integers of data in ``encoding``."""
    return "<" if encoding & 0x0F == 2 else ">"

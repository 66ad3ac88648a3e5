"""Walk the headers in front of a message body: ``MQMD.Format`` says what comes first, each
header says what comes after it."""

from __future__ import annotations

from dataclasses import dataclass, field

from legacy.mq.dlh import DeadLetterHeader
from legacy.mq.formats import DEAD_LETTER_HEADER, RF_HEADER_2
from legacy.mq.rfh2 import Rfh2


@dataclass
class Unwrapped:
    """The headers taken off a message and what the remaining body is."""

    headers: list[Rfh2 | DeadLetterHeader] = field(default_factory=list)
    format: str = ""
    encoding: int = 0
    ccsid: int = 0
    offset: int = 0  # where the body starts in the message data

    @property
    def properties(self) -> dict[str, object]:
        """The ``<usr>`` properties of every RFH2, later ones winning."""
        merged: dict[str, object] = {}
        for header in self.headers:
            if isinstance(header, Rfh2):
                merged.update(header.properties)
        return merged

    def folder(self, name: str) -> dict[str, object]:
        merged: dict[str, object] = {}
        for header in self.headers:
            if isinstance(header, Rfh2):
                merged.update(header.folders.get(name, {}))
        return merged


def unwrap(data: bytes, format: str, encoding: int, ccsid: int, *, dead_letter: bool = False) -> Unwrapped:
    """Take the RFH2 headers (and, with ``dead_letter``, MQDLH headers) off ``data``, whose
    MQMD says ``format``/``encoding``/``ccsid``. Raises MqHeaderError for a malformed header."""
    result = Unwrapped(format=format, encoding=encoding, ccsid=ccsid)
    offset = 0
    while True:
        header: Rfh2 | DeadLetterHeader
        if result.format == RF_HEADER_2:
            header, offset = Rfh2.unpack(data, result.encoding, offset)
        elif dead_letter and result.format == DEAD_LETTER_HEADER:
            header, offset = DeadLetterHeader.unpack(data, result.encoding, offset)
        else:
            break
        result.headers.append(header)
        result.format, result.encoding, result.ccsid = header.format, header.encoding, header.ccsid
    result.offset = offset
    return result

"""The error of the MQ header codecs: a header that cannot be read or written."""

from __future__ import annotations

from legacy.errors import LegacyFormatError


class MqHeaderError(LegacyFormatError):
    """An MQ header (RFH2, MQDLH) is malformed or a value cannot be written into one.
    ``offset`` is the byte in the message where the trouble is, when known."""

    def __init__(self, message: str, *, offset: int | None = None) -> None:
        self.offset = offset
        self.detail = message
        super().__init__(f"{message} (at byte {offset})" if offset is not None else message)

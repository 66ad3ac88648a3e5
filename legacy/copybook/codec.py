"""The record codec: a decoder generated for each layout, a field-by-field decoder, an encoder.

Decoding runs the generated function first: straight-line Python with every offset, slice and
conversion written out (``int(d[12:17].translate(T))``, a packed field's ``hex()``), so a good
record costs what a decoder written by hand for that layout costs. Any exception there sends
the record to the field-by-field decoder, which walks the same plan with the same conversion
expressions and raises the ``RecordError`` that names the record, the field path and the byte
(or, with ``strict=False``, gives ``None`` for the fields it cannot read, as Cobrix does).

Encoding walks the plan and appends each field's bytes. REDEFINES: every view given in the
record is encoded; when several are given, the first whose bytes the others decode back to
their given values wins, and if none does they conflict.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from legacy.copybook.careful import FieldDecoder
from legacy.copybook.codegen import FAST_ERRORS, generate_decoder
from legacy.copybook.encoder import Encoder
from legacy.copybook.plan import Node


class Codec:
    """Decoder and encoder of one layout (see the module docstring)."""

    def __init__(self, plan: Node, *, collapse: bool, strict: bool, variable_occurs: bool, space: int) -> None:
        self.plan = plan
        self.collapse = collapse
        self.strict = strict
        self.variable_occurs = variable_occurs
        self.space = space
        self.source, self._fast = generate_decoder(plan, variable_occurs=variable_occurs, strict=strict)
        self._fields = FieldDecoder(plan, strict=strict, variable_occurs=variable_occurs, space=space)
        self._encoder = Encoder(
            plan, collapse=collapse, variable_occurs=variable_occurs, space=space, views=self._fields
        )
        self._root_key = plan.field.key or ""

    # -- decoding ------------------------------------------------------------------------

    def decode(
        self, data: bytes | bytearray | memoryview, record_number: int | None = None
    ) -> tuple[dict[str, Any], int]:
        """(record, bytes used) of one record."""
        if type(data) is not bytes:
            data = bytes(data)
        try:
            record, end = self._fast(data)
        except FAST_ERRORS:
            record, end = self.careful(data, record_number)
        if not self.collapse:
            record = {self._root_key: record}
        return record, end

    def decode_all(self, raw: Iterable[bytes]) -> Iterator[dict[str, Any]]:
        """Decode a stream of records; the loop of ``decode`` without its per-call overhead."""
        fast = self._fast
        careful = self.careful
        root_key = None if self.collapse else self._root_key
        for number, data in enumerate(raw):
            try:
                record = fast(data)[0]
            except FAST_ERRORS:
                record = careful(bytes(data), number)[0]
            yield record if root_key is None else {root_key: record}

    def careful(self, data: bytes, record_number: int | None, strict: bool | None = None) -> tuple[dict[str, Any], int]:
        """Decode field by field, raising the precise error (or, lenient, reading what it can)."""
        return self._fields.decode(data, record_number, strict)

    def encode(self, record: dict[str, Any], record_number: int | None = None) -> bytes:
        return self._encoder.encode(record, record_number)


__all__ = ["Codec"]

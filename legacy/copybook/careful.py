"""The field-by-field decoder: the careful path, for records the generated decoder rejected.

It walks the same plan as the generated decoder, with the same positions and the same
conversion expressions (compiled per converter), so on good bytes both give the same record.
On bad bytes it raises the ``RecordError`` that names the record number, the field path with
table indexes (``CUSTOMER.ORDERS[3].AMOUNT``) and the byte; with ``strict=False`` it gives None
for what it cannot read instead, and cuts text at the end of a short record, as Cobrix does.
"""

from __future__ import annotations

from typing import Any

from legacy.copybook.codegen import boundary, redefines_sets
from legacy.copybook.convert import DECODE_ERRORS
from legacy.copybook.plan import Node
from legacy.errors import DependingOnError, InvalidDataError, RecordTooShortError


class DecodeContext:
    __slots__ = ("counters", "data", "record_number", "strict")

    def __init__(self, data: bytes, record_number: int | None, strict: bool) -> None:
        self.data = data
        self.record_number = record_number
        self.strict = strict
        self.counters: dict[str, Any] = {}


class FieldDecoder:
    """Decodes a record (or one item of it) field by field."""

    def __init__(self, plan: Node, *, strict: bool, variable_occurs: bool, space: int) -> None:
        self.plan = plan
        self.strict = strict
        self.variable_occurs = variable_occurs
        self.space = space

    def decode(self, data: bytes, record_number: int | None, strict: bool | None = None) -> tuple[dict[str, Any], int]:
        """Decode field by field, raising the precise error (or, lenient, reading what it can)."""
        ctx = DecodeContext(data, record_number, self.strict if strict is None else strict)
        pairs: dict[str, Any] = {}
        end = self._content(self.plan, 0, self.plan.field.path, ctx, pairs)
        if ctx.strict and end > len(data):  # pragma: no cover - a field past the end raised first
            raise RecordTooShortError(
                f"record of {len(data)} bytes, layout needs {end}", record_number=record_number, offset=len(data)
            )
        return pairs, end

    def _content(self, node: Node, pos: int, path: str, ctx: DecodeContext, out: dict[str, Any]) -> int:
        fixed = not any(c.variable for c in node.children)
        set_end = pos
        for views in redefines_sets(node.children):
            if fixed:
                starts = [pos + v.rel for v in views]
            else:
                start = set_end
                if views[0].field.sync:
                    start += -start % boundary(views[0])
                starts = [start] * len(views)
            if ctx.strict and sum(1 for v in views if v.shown) > 1:
                ends = self._alternatives(views, starts, path, ctx, out)
            else:
                ends = [self.node(view, start, path, ctx, out) for view, start in zip(views, starts)]
            set_end = max(ends)
        return pos + node.field.size if fixed else set_end

    def _alternatives(
        self, views: list[Node], starts: list[int], path: str, ctx: DecodeContext, out: dict[str, Any]
    ) -> list[int]:
        ends = []
        first_error: InvalidDataError | None = None
        readable = False
        for view, start in zip(views, starts):
            if not view.shown:
                ends.append(self.node(view, start, path, ctx, out))
                continue
            part: dict[str, Any] = {}
            try:
                ends.append(self.node(view, start, path, ctx, part))
            except InvalidDataError as exc:  # these bytes are not this view; another one may fit
                first_error = first_error or exc
                ends.append(start + view.field.total_size)
                continue
            readable = True
            out.update(part)
        if not readable and first_error is not None:
            raise first_error
        return ends

    def node(self, node: Node, pos: int, parent_path: str, ctx: DecodeContext, out: dict[str, Any]) -> int:
        f = node.field
        key = f.key
        path = f"{parent_path}.{key}" if parent_path and key else (key or parent_path)
        if f.occurs is None:
            if node.converter is not None:
                if node.shown or node.counter:
                    value = self._field(node, pos, path, ctx)
                    if node.counter:
                        ctx.counters[f.path] = value
                    if node.shown and key:
                        out[key] = value
                return pos + f.size
            if key is None or not node.shown:  # FILLER group: its named items join the parent
                return self._content(node, pos, path, ctx, out if node.shown else {})
            inner: dict[str, Any] = {}
            end = self._content(node, pos, path, ctx, inner)
            out[key] = inner
            return end
        count = self._count(node, pos, path, ctx)
        items: list[Any] = []
        at = pos
        for i in range(count):
            item_path = f"{path}[{i}]"
            if node.converter is not None:
                if node.shown:
                    items.append(self._field(node, at, item_path, ctx))
                at += f.size
            else:
                inner = {}
                end = self._content(node, at, item_path, ctx, inner)
                items.append(inner)
                at = end if node.variable and any(c.variable for c in node.children) else at + f.size
        if node.shown and key:
            out[key] = items
        if f.occurs.depending_on is not None and not self.variable_occurs:
            return pos + f.size * f.occurs.maximum
        return at

    def _count(self, node: Node, pos: int, path: str, ctx: DecodeContext) -> int:
        occurs = node.field.occurs
        assert occurs is not None
        if occurs.depending_on is None:
            return occurs.maximum
        value = ctx.counters.get(occurs.depending_on)
        count = occurs.count_of(value)
        if not isinstance(count, int) or not occurs.minimum <= count <= occurs.maximum:
            raise DependingOnError(
                f"OCCURS {occurs.minimum} TO {occurs.maximum} DEPENDING ON {occurs.depending_on}, "
                f"which holds {value!r}",
                record_number=ctx.record_number,
                field_path=path,
                offset=pos,
            )
        return count

    def _field(self, node: Node, pos: int, path: str, ctx: DecodeContext) -> Any:
        conv = node.converter
        assert conv is not None
        size = conv.size
        data = ctx.data
        if pos + size > len(data):
            if ctx.strict:
                raise RecordTooShortError(
                    f"the record has {len(data)} bytes; this field needs bytes {pos} to {pos + size - 1}",
                    record_number=ctx.record_number,
                    field_path=path,
                    offset=pos,
                )
            if node.field.kind == "text" and pos < len(data):  # Cobrix cuts text at the record end
                return conv.lenient(data[pos:] + bytes([self.space]) * (pos + size - len(data)))
            return None
        raw = data[pos : pos + size]
        try:
            return conv.decode(raw)
        except DECODE_ERRORS:
            if not ctx.strict:
                return conv.lenient(raw)
            error = conv.diagnose(raw)
            error.offset = pos + (error.offset or 0)  # the converter counts from the field's start
            raise error.at(record_number=ctx.record_number, field_path=path) from None

    # -- encoding ------------------------------------------------------------------------


__all__ = ["DecodeContext", "FieldDecoder"]

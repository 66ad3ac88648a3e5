"""The record encoder: walks the plan and appends each field's bytes.

Missing values are errors, except an OCCURS DEPENDING ON counter, which is filled in from its
table. FILLER is written as spaces or zeros by kind. REDEFINES: every view given in the record
is encoded; when several are given, the first whose bytes the others decode back to their given
values wins, and if none does they conflict (``RedefinesConflictError``).
"""

from __future__ import annotations

from typing import Any

from legacy.copybook.careful import DecodeContext, FieldDecoder
from legacy.copybook.codegen import boundary
from legacy.copybook.plan import Node, fill_bytes
from legacy.errors import EncodeError, RecordError, RedefinesConflictError

_MISSING = object()


class Encoder:
    """Encodes records of one layout."""

    def __init__(self, plan: Node, *, collapse: bool, variable_occurs: bool, space: int, views: FieldDecoder) -> None:
        self.plan = plan
        self.collapse = collapse
        self.variable_occurs = variable_occurs
        self.space = space
        self.views = views  # decodes a REDEFINES view back, to check that given views agree
        self._root_key = plan.field.key or ""

    def encode(self, record: dict[str, Any], record_number: int | None = None) -> bytes:
        if not isinstance(record, dict):
            raise EncodeError(f"a record is a dict, not {type(record).__name__}", record_number=record_number)
        if not self.collapse:
            if set(record) != {self._root_key}:
                raise EncodeError(f"the record has one key, {self._root_key!r}", record_number=record_number)
            record = record[self._root_key]
            if not isinstance(record, dict):
                raise EncodeError(
                    f"{self._root_key} is a dict, not {type(record).__name__}",
                    record_number=record_number,
                    field_path=self._root_key,
                )
        buf = bytearray()
        state = _EncodeState(record_number)
        self._check_keys(self.plan, record, self.plan.field.path, state)
        self._encode_content(self.plan, record, buf, self.plan.field.path, state)
        return bytes(buf)

    def _check_keys(self, node: Node, values: dict[str, Any], path: str, state: _EncodeState) -> None:
        known = _record_keys(node)
        unknown = [k for k in values if k not in known]
        if unknown:
            raise EncodeError(
                f"no field {unknown[0]!r} here; fields are {', '.join(sorted(known)) or 'none'}",
                record_number=state.record_number,
                field_path=path or None,
            )

    def _encode_content(
        self, node: Node, values: dict[str, Any], buf: bytearray, path: str, state: _EncodeState
    ) -> None:
        start = len(buf)
        children = node.children
        i = 0
        while i < len(children):
            views = [children[i]]
            j = i + 1
            while j < len(children) and children[j].redefines == i:
                views.append(children[j])
                j += 1
            if views[0].field.sync and views[0].converter is not None:
                buf.extend(b"\x00" * (-len(buf) % boundary(views[0])))
            if len(views) == 1:
                self._encode_node(views[0], values, buf, path, state)
            else:
                self._encode_redefines(views, values, buf, path, state)
            i = j
        if not any(c.variable for c in children):
            # slack bytes at the end of a table element, and views longer than the item
            expected = start + node.field.size
            if len(buf) < expected:
                buf.extend(b"\x00" * (expected - len(buf)))

    def _present(self, node: Node, values: dict[str, Any]) -> bool:
        if not node.shown:
            return False
        if node.key is not None:
            return values.get(node.key) is not None
        return any(self._present(c, values) for c in node.children)

    def _encode_redefines(
        self, views: list[Node], values: dict[str, Any], buf: bytearray, path: str, state: _EncodeState
    ) -> None:
        start = len(buf)
        size = max(v.rel + v.field.total_size for v in views) - views[0].rel
        given = [v for v in views if self._present(v, values)]
        if not given:
            filler = next((v for v in views if not v.shown), None)
            if filler is None:
                names = ", ".join(v.key or "FILLER" for v in views if v.shown)
                raise EncodeError(
                    f"none of the REDEFINES views {names} is given",
                    record_number=state.record_number,
                    field_path=path or None,
                    offset=start,
                )
            given = [filler]
        candidates = []
        for view in given:
            part = bytearray()
            self._encode_node(view, values, part, path, state, base=start)
            part.extend(bytes([self.space]) * (size - len(part)))
            candidates.append(bytes(part[:size]))
        if len(given) > 1:
            for chosen in candidates:
                if all(self._agrees(v, chosen, values) for v in given):
                    break
            else:
                names = ", ".join(v.key or "FILLER" for v in given)
                raise RedefinesConflictError(
                    f"REDEFINES views {names} are given with different contents",
                    record_number=state.record_number,
                    field_path=path or None,
                    offset=start,
                )
        else:
            chosen = candidates[0]
        buf.extend(chosen)

    def _agrees(self, view: Node, data: bytes, values: dict[str, Any]) -> bool:
        ctx = DecodeContext(data, None, True)
        decoded: dict[str, Any] = {}
        try:
            self.views.node(view, 0, "", ctx, decoded)
        except RecordError:
            return False
        if view.key is not None:
            return decoded.get(view.key) == values.get(view.key)
        return all(values.get(k) == v for k, v in decoded.items() if values.get(k) is not None)

    def _encode_node(
        self,
        node: Node,
        values: dict[str, Any],
        buf: bytearray,
        parent_path: str,
        state: _EncodeState,
        base: int | None = None,
    ) -> None:
        f = node.field
        key = f.key
        path = f"{parent_path}.{key}" if parent_path and key else (key or parent_path)
        if not node.shown:
            if node.filler_bytes is not None:
                buf.extend(node.filler_bytes)
            else:  # a variable-size FILLER: cannot say how big; write its minimum
                self._encode_group_fill(node, buf)
            return
        if key is None:  # FILLER group whose named items sit in the parent's dict
            self._encode_content(node, values, buf, path, state)
            return
        value = values.get(key, _MISSING)
        offset = len(buf) + (base or 0)
        if f.occurs is None:
            if node.converter is not None:
                self._encode_field(node, value, buf, path, state, offset)
            else:
                if not isinstance(value, dict):
                    raise self._missing_or_type(value, "a dict", path, state, offset)
                self._check_keys(node, value, path, state)
                self._encode_content(node, value, buf, path, state)
            return
        if not isinstance(value, list):
            raise self._missing_or_type(value, "a list", path, state, offset)
        occurs = f.occurs
        if not occurs.minimum <= len(value) <= occurs.maximum or (
            occurs.depending_on is None and len(value) != occurs.maximum
        ):
            expected = f"{occurs.maximum}" if occurs.depending_on is None else f"{occurs.minimum} to {occurs.maximum}"
            raise EncodeError(
                f"a table of {expected} items, given {len(value)}",
                record_number=state.record_number,
                field_path=path,
                offset=offset,
            )
        if occurs.depending_on is not None:
            state.set_count(occurs, len(value), path, offset)
        for i, item in enumerate(value):
            item_path = f"{path}[{i}]"
            if node.converter is not None:
                self._encode_field(node, item, buf, item_path, state, len(buf) + (base or 0))
            else:
                if not isinstance(item, dict):
                    raise self._missing_or_type(item, "a dict", item_path, state, len(buf) + (base or 0))
                self._check_keys(node, item, item_path, state)
                self._encode_content(node, item, buf, item_path, state)
        if occurs.depending_on is not None and not self.variable_occurs:
            buf.extend(fill_bytes(node) * (occurs.maximum - len(value)))

    def _encode_field(
        self, node: Node, value: Any, buf: bytearray, path: str, state: _EncodeState, offset: int
    ) -> None:
        conv = node.converter
        assert conv is not None
        if node.counter and (value is _MISSING or value is None):
            state.counter_slot(node.field.path, len(buf), buf, conv)
            buf.extend(conv.filler())
            return
        if value is _MISSING or value is None:
            raise EncodeError("no value given", record_number=state.record_number, field_path=path, offset=offset)
        try:
            data = conv.encode(value)
        except EncodeError as exc:
            raise exc.at(record_number=state.record_number, field_path=path, offset=offset) from None
        if node.counter:
            state.counter_value(node.field.path, value)
        buf.extend(data)

    def _encode_group_fill(self, node: Node, buf: bytearray) -> None:
        occurs = node.field.occurs
        count = occurs.minimum if occurs is not None and occurs.depending_on else (occurs.maximum if occurs else 1)
        for _ in range(count):
            if node.converter is not None:
                buf.extend(node.converter.filler())
            else:
                for child in node.children:
                    if child.redefines is None:
                        self._encode_group_fill(child, buf)

    def _missing_or_type(self, value: Any, expected: str, path: str, state: _EncodeState, offset: int) -> EncodeError:
        if value is _MISSING or value is None:
            return EncodeError("no value given", record_number=state.record_number, field_path=path, offset=offset)
        return EncodeError(
            f"expected {expected}, not {type(value).__name__}",
            record_number=state.record_number,
            field_path=path,
            offset=offset,
        )


class _EncodeState:
    """ODO counters met while encoding: given values to check, or slots to fill in later."""

    def __init__(self, record_number: int | None) -> None:
        self.record_number = record_number
        self.values: dict[str, Any] = {}
        self.slots: dict[str, tuple[int, bytearray, Any]] = {}

    def counter_value(self, path: str, value: Any) -> None:
        self.values[path] = value
        self.slots.pop(path, None)

    def counter_slot(self, path: str, at: int, buf: bytearray, conv: Any) -> None:
        self.slots[path] = (at, buf, conv)
        self.values.pop(path, None)

    def set_count(self, occurs: Any, count: int, path: str, offset: int) -> None:
        counter = occurs.depending_on
        if counter in self.values:
            if occurs.count_of(self.values[counter]) != count:
                raise EncodeError(
                    f"{counter} is {self.values[counter]!r} but the table has {count} items",
                    record_number=self.record_number,
                    field_path=path,
                    offset=offset,
                )
            return
        if counter in self.slots:
            at, buf, conv = self.slots[counter]
            value: Any = count
            if occurs.mapping is not None:
                values = [v for v, n in occurs.mapping if n == count]
                if len(values) != 1:
                    raise EncodeError(
                        f"no single value of {counter} stands for {count} items",
                        record_number=self.record_number,
                        field_path=path,
                        offset=offset,
                    )
                value = values[0]
            data = conv.encode(value)
            buf[at : at + len(data)] = data
            self.values[counter] = value


def _record_keys(node: Node) -> set[str]:
    keys: set[str] = set()
    for child in node.children:
        if not child.shown:
            continue
        if child.key is not None:
            keys.add(child.key)
        else:
            keys |= _record_keys(child)
    return keys


__all__ = ["Encoder"]

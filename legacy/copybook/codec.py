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

from decimal import Decimal
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from legacy.copybook.convert import DECODE_ERRORS, bad
from legacy.copybook.plan import Node, fill_bytes
from legacy.errors import (
    DependingOnError, EncodeError, RecordError, RecordTooShortError, RedefinesConflictError,
)

_MISSING = object()


class _Pos(NamedTuple):
    var: str | None
    const: int

    def __add__(self, n: int) -> _Pos:  # type: ignore[override]
        return _Pos(self.var, self.const + n)

    def src(self) -> str:
        if self.var is None:
            return str(self.const)
        return self.var if self.const == 0 else f"{self.var} + {self.const}"


def _dict_source(pairs: list[tuple[str, str]]) -> str:
    return "{" + ", ".join(f"{key!r}: {expr}" for key, expr in pairs) + "}"


def _indent(lines: list[str], n: int = 1) -> list[str]:
    return ["    " * n + line for line in lines]


def _boundary(node: Node) -> int:
    f = node.field
    return 8 if f.kind == "double" else (2 if f.size == 2 else 4)


class _Generator:
    """Writes the Python source of one layout's decoder."""

    def __init__(self, variable_occurs: bool) -> None:
        self.env: dict[str, object] = {"_bad": bad, "Decimal": Decimal}
        self.variable_occurs = variable_occurs
        self.count = 0
        self.counters: dict[str, str] = {}

    def name(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def source(self, root: Node) -> str:
        lines: list[str] = []
        if not root.variable:
            lines.append(f"if len(d) < {root.field.size}: _bad()")
        stmts, pairs, end = self.content(root, _Pos(None, 0))
        lines.extend(stmts)
        if root.variable:
            lines.append(f"if len(d) < {end.src()}: _bad()")
        lines.append(f"return {_dict_source(pairs)}, {end.src()}")
        return "def _decode(d):\n" + "\n".join(_indent(lines)) + "\n"

    def emit(self, node: Node, pos: _Pos) -> tuple[list[str], list[tuple[str, str]], _Pos]:
        if node.converter is not None:
            return self.elementary(node, pos)
        return self.group(node, pos)

    def elementary(self, node: Node, pos: _Pos) -> tuple[list[str], list[tuple[str, str]], _Pos]:
        f = node.field
        conv = node.converter
        assert conv is not None
        stmts: list[str] = []
        size = f.size
        if f.occurs is None:
            if not node.shown:
                return stmts, [], pos + size
            expr = conv.expr(f"d[{pos.src()}:{(pos + size).src()}]", self.name("_t"), self.env)
            if node.counter:
                var = self.name("c")
                stmts.append(f"{var} = {expr}")
                self.counters[f.path] = var
                expr = var
            return stmts, [(f.key, expr)] if f.key else [], pos + size
        count, end = self.table_count(node, pos, size, stmts)
        if not node.shown:
            return stmts, [], end
        o = self.name("o")
        element = conv.expr(f"d[{o}:{o} + {size}]", self.name("_t"), self.env)
        start = pos.src()
        expr = f"[{element} for {o} in range({start}, {start} + {size} * {count}, {size})]"
        return stmts, [(f.key, expr)] if f.key else [], end

    def counter_source(self, occurs: Any) -> str:
        var = self.counters[occurs.depending_on]
        if occurs.mapping is None:
            return var
        name = self.name("_map")
        self.env[name] = dict(occurs.mapping)
        return f"{name}[{var}]"

    def table_count(self, node: Node, pos: _Pos, stride: int, stmts: list[str]) -> tuple[str, _Pos]:
        """The count expression of a table with fixed-size elements, and the position after it."""
        occurs = node.field.occurs
        assert occurs is not None
        if occurs.depending_on is None:
            return str(occurs.maximum), pos + stride * occurs.maximum
        n = self.name("n")
        stmts.append(f"{n} = {self.counter_source(occurs)}")
        stmts.append(f"if not {occurs.minimum} <= {n} <= {occurs.maximum}: _bad()")
        if not self.variable_occurs:
            return n, pos + stride * occurs.maximum
        p = self.name("p")
        stmts.append(f"{p} = {pos.src()} + {stride} * {n}")
        return n, _Pos(p, 0)

    def group(self, node: Node, pos: _Pos) -> tuple[list[str], list[tuple[str, str]], _Pos]:
        f = node.field
        if f.occurs is None:
            stmts, pairs, end = self.content(node, pos)
            if not node.shown:
                return stmts, [], end
            if f.key is None:  # a FILLER group: its named items join the parent's dict
                return stmts, pairs, end
            return stmts, [(f.key, _dict_source(pairs))], end
        if not node.shown and not node.variable:
            return [], [], pos + f.size * f.occurs.maximum
        stmts, pairs, end = self.table(node, pos)
        return (stmts, pairs, end) if node.shown else (stmts, [], end)

    def table(self, node: Node, pos: _Pos) -> tuple[list[str], list[tuple[str, str]], _Pos]:
        f = node.field
        key = f.key or "FILLER"
        stmts: list[str] = []
        b = self.name("b")
        element_variable = any(c.variable for c in node.children)
        saved = dict(self.counters)
        inner, pairs, end_inner = self.content(node, _Pos(b, 0))
        self.counters = saved
        if not element_variable:
            count, end = self.table_count(node, pos, f.size, stmts)
            start = pos.src()
            if inner:
                fn = self.name("_e")
                stmts.append(f"def {fn}(d, {b}):")
                stmts.extend(_indent(inner + [f"return {_dict_source(pairs)}"]))
                element = f"{fn}(d, {b})"
            else:
                element = _dict_source(pairs)
            expr = f"[{element} for {b} in range({start}, {start} + {f.size} * {count}, {f.size})]"
            return stmts, [(key, expr)], end
        # elements of varying size: each one says where the next begins
        occurs = f.occurs
        fn, items, p = self.name("_e"), self.name("l"), self.name("p")
        stmts.append(f"def {fn}(d, {b}):")
        stmts.extend(_indent(inner + [f"return {_dict_source(pairs)}, {end_inner.src()}"]))
        if occurs.depending_on is None:
            count = str(occurs.maximum)
        else:
            count = self.name("n")
            stmts.append(f"{count} = {self.counter_source(occurs)}")
            stmts.append(f"if not {occurs.minimum} <= {count} <= {occurs.maximum}: _bad()")
        stmts.append(f"{items} = []")
        stmts.append(f"{p} = {pos.src()}")
        stmts.append(f"for _ in range({count}):")
        stmts.append(f"    _v, {p} = {fn}(d, {p})")
        stmts.append(f"    {items}.append(_v)")
        return stmts, [(key, items)], _Pos(p, 0)

    def content(self, node: Node, pos: _Pos) -> tuple[list[str], list[tuple[str, str]], _Pos]:
        stmts: list[str] = []
        pairs: list[tuple[str, str]] = []
        if not any(c.variable for c in node.children):
            for child in node.children:
                s, p, _ = self.emit(child, pos + child.rel)
                stmts.extend(s)
                pairs.extend(p)
            return stmts, pairs, pos + node.field.size
        set_end = pos
        starts: dict[int, _Pos] = {}
        for i, child in enumerate(node.children):
            if child.redefines is not None:
                start = starts[child.redefines]
            else:
                start = set_end
                if child.field.sync:
                    start = self.align(start, _boundary(child), stmts)
            s, p, end = self.emit(child, start)
            stmts.extend(s)
            pairs.extend(p)
            if child.redefines is not None:
                set_end = _Pos(set_end.var, max(set_end.const, end.const)) if end.var == set_end.var else end
            else:
                starts[i] = start
                set_end = end
        return stmts, pairs, set_end

    def align(self, pos: _Pos, boundary: int, stmts: list[str]) -> _Pos:
        if pos.var is None:
            return _Pos(None, pos.const + (-pos.const % boundary))
        p = self.name("p")
        stmts.append(f"{p} = {pos.src()}")
        stmts.append(f"{p} += -{p} % {boundary}")
        return _Pos(p, 0)


class _Context:
    __slots__ = ("counters", "record_number", "strict", "data")

    def __init__(self, data: bytes, record_number: int | None, strict: bool) -> None:
        self.data = data
        self.record_number = record_number
        self.strict = strict
        self.counters: dict[str, Any] = {}


class Codec:
    """Decoder and encoder of one layout (see the module docstring)."""

    def __init__(self, plan: Node, *, collapse: bool, strict: bool, variable_occurs: bool,
                 space: int) -> None:
        self.plan = plan
        self.collapse = collapse
        self.strict = strict
        self.variable_occurs = variable_occurs
        self.space = space
        generator = _Generator(variable_occurs)
        self.source = generator.source(plan)
        env = generator.env
        exec(compile(self.source, f"<copybook decoder {plan.field.path or 'record'}>", "exec"), env)  # noqa: S102
        self._fast = env["_decode"]
        self._root_key = plan.field.key

    # -- decoding ------------------------------------------------------------------------

    def decode(self, data: bytes, record_number: int | None = None) -> tuple[dict[str, Any], int]:
        """(record, bytes used) of one record."""
        if type(data) is not bytes:
            data = bytes(data)
        try:
            record, end = self._fast(data)
        except DECODE_ERRORS:
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
            except DECODE_ERRORS:
                record = careful(bytes(data), number)[0]
            yield record if root_key is None else {root_key: record}

    def careful(self, data: bytes, record_number: int | None, strict: bool | None = None) -> tuple[dict[str, Any], int]:
        """Decode field by field, raising the precise error (or, lenient, reading what it can)."""
        ctx = _Context(data, record_number, self.strict if strict is None else strict)
        pairs: dict[str, Any] = {}
        end = self._content(self.plan, 0, self.plan.field.path, ctx, pairs)
        if ctx.strict and end > len(data):  # pragma: no cover - a field past the end raised first
            raise RecordTooShortError(f"record of {len(data)} bytes, layout needs {end}",
                                      record_number=record_number, offset=len(data))
        return pairs, end

    def _content(self, node: Node, pos: int, path: str, ctx: _Context, out: dict[str, Any]) -> int:
        if not any(c.variable for c in node.children):
            for child in node.children:
                self._node(child, pos + child.rel, path, ctx, out)
            return pos + node.field.size
        set_end = pos
        starts: dict[int, int] = {}
        for i, child in enumerate(node.children):
            if child.redefines is not None:
                start = starts[child.redefines]
            else:
                start = set_end
                if child.field.sync:
                    start += -start % _boundary(child)
            end = self._node(child, start, path, ctx, out)
            if child.redefines is not None:
                set_end = max(set_end, end)
            else:
                starts[i] = start
                set_end = end
        return set_end

    def _node(self, node: Node, pos: int, parent_path: str, ctx: _Context, out: dict[str, Any]) -> int:
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

    def _count(self, node: Node, pos: int, path: str, ctx: _Context) -> int:
        occurs = node.field.occurs
        assert occurs is not None
        if occurs.depending_on is None:
            return occurs.maximum
        value = ctx.counters.get(occurs.depending_on)
        count = occurs.count_of(value)
        if not isinstance(count, int) or not occurs.minimum <= count <= occurs.maximum:
            raise DependingOnError(
                f"OCCURS {occurs.minimum} TO {occurs.maximum} DEPENDING ON {occurs.depending_on}, "
                f"which holds {value!r}", record_number=ctx.record_number, field_path=path, offset=pos)
        return count

    def _field(self, node: Node, pos: int, path: str, ctx: _Context) -> Any:
        conv = node.converter
        assert conv is not None
        size = conv.size
        data = ctx.data
        if pos + size > len(data):
            if ctx.strict:
                raise RecordTooShortError(
                    f"the record has {len(data)} bytes; this field needs bytes {pos} to {pos + size - 1}",
                    record_number=ctx.record_number, field_path=path, offset=pos)
            if node.field.kind == "text" and pos < len(data):  # Cobrix cuts text at the record end
                return conv.lenient(data[pos:] + bytes([self.space]) * (pos + size - len(data)))
            return None
        raw = data[pos:pos + size]
        try:
            return conv.decode(raw)
        except DECODE_ERRORS:
            if not ctx.strict:
                return conv.lenient(raw)
            error = conv.diagnose(raw)
            error.offset = pos + (error.offset or 0)  # the converter counts from the field's start
            raise error.at(record_number=ctx.record_number, field_path=path) from None

    # -- encoding ------------------------------------------------------------------------

    def encode(self, record: dict[str, Any], record_number: int | None = None) -> bytes:
        if not isinstance(record, dict):
            raise EncodeError(f"a record is a dict, not {type(record).__name__}", record_number=record_number)
        if not self.collapse:
            if set(record) != {self._root_key}:
                raise EncodeError(f"the record has one key, {self._root_key!r}", record_number=record_number)
            record = record[self._root_key]
            if not isinstance(record, dict):
                raise EncodeError(f"{self._root_key} is a dict, not {type(record).__name__}",
                                  record_number=record_number, field_path=self._root_key)
        buf = bytearray()
        state = _EncodeState(record_number)
        self._check_keys(self.plan, record, self.plan.field.path, state)
        self._encode_content(self.plan, record, buf, self.plan.field.path, state)
        return bytes(buf)

    def _check_keys(self, node: Node, values: dict[str, Any], path: str, state: _EncodeState) -> None:
        known = _record_keys(node)
        unknown = [k for k in values if k not in known]
        if unknown:
            raise EncodeError(f"no field {unknown[0]!r} here; fields are {', '.join(sorted(known)) or 'none'}",
                              record_number=state.record_number, field_path=path or None)

    def _encode_content(self, node: Node, values: dict[str, Any], buf: bytearray, path: str,
                        state: _EncodeState) -> None:
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
                buf.extend(b"\x00" * (-len(buf) % _boundary(views[0])))
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

    def _encode_redefines(self, views: list[Node], values: dict[str, Any], buf: bytearray, path: str,
                          state: _EncodeState) -> None:
        start = len(buf)
        size = max(v.rel + v.field.total_size for v in views) - views[0].rel
        given = [v for v in views if self._present(v, values)]
        if not given:
            filler = next((v for v in views if not v.shown), None)
            if filler is None:
                names = ", ".join(v.key or "FILLER" for v in views if v.shown)
                raise EncodeError(f"none of the REDEFINES views {names} is given",
                                  record_number=state.record_number, field_path=path or None, offset=start)
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
                raise RedefinesConflictError(f"REDEFINES views {names} are given with different contents",
                                             record_number=state.record_number, field_path=path or None,
                                             offset=start)
        else:
            chosen = candidates[0]
        buf.extend(chosen)

    def _agrees(self, view: Node, data: bytes, values: dict[str, Any]) -> bool:
        ctx = _Context(data, None, True)
        decoded: dict[str, Any] = {}
        try:
            self._node(view, 0, "", ctx, decoded)
        except RecordError:
            return False
        if view.key is not None:
            return decoded.get(view.key) == values.get(view.key)
        return all(values.get(k) == v for k, v in decoded.items() if values.get(k) is not None)

    def _encode_node(self, node: Node, values: dict[str, Any], buf: bytearray, parent_path: str,
                     state: _EncodeState, base: int | None = None) -> None:
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
        if not occurs.minimum <= len(value) <= occurs.maximum or (occurs.depending_on is None and len(value) != occurs.maximum):
            expected = (f"{occurs.maximum}" if occurs.depending_on is None
                        else f"{occurs.minimum} to {occurs.maximum}")
            raise EncodeError(f"a table of {expected} items, given {len(value)}",
                              record_number=state.record_number, field_path=path, offset=offset)
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

    def _encode_field(self, node: Node, value: Any, buf: bytearray, path: str, state: _EncodeState,
                      offset: int) -> None:
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
        return EncodeError(f"expected {expected}, not {type(value).__name__}", record_number=state.record_number,
                           field_path=path, offset=offset)


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
                raise EncodeError(f"{counter} is {self.values[counter]!r} but the table has {count} items",
                                  record_number=self.record_number, field_path=path, offset=offset)
            return
        if counter in self.slots:
            at, buf, conv = self.slots[counter]
            value: Any = count
            if occurs.mapping is not None:
                values = [v for v, n in occurs.mapping if n == count]
                if len(values) != 1:
                    raise EncodeError(f"no single value of {counter} stands for {count} items",
                                      record_number=self.record_number, field_path=path, offset=offset)
                value = values[0]
            data = conv.encode(value)
            buf[at:at + len(data)] = data
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


__all__ = ["Codec"]

"""The decoder generated for each layout: straight-line Python with every offset written out.

For a layout without tables the decoder is one dict display, e.g.
``{'ID': int(d[0:6].translate(T)), 'AMOUNT': Decimal(S[(h := d[6:11].hex())[-1]] + h[:-1] + 'e-2')}``:
one slice and one conversion per field, the conversion text coming from the field's converter.
Tables become comprehensions (or, when their elements vary in size, small nested functions that
return where the next element starts); OCCURS DEPENDING ON counters are kept in locals. REDEFINES
views are each decoded inside ``try``: a view whose bytes it cannot read is left out. Anything
the generated code rejects goes to the field-by-field decoder, which says precisely why.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NamedTuple

from legacy.copybook.convert import DECODE_ERRORS, bad
from legacy.copybook.plan import Node

Pairs = list[tuple[str | None, str]]  # dict display items; a key of None unpacks a dict
# A failed REDEFINES view can leave a counter unassigned in generated code: that too means
# "let the field-by-field decoder look at this record".
FAST_ERRORS = (*DECODE_ERRORS, NameError)


class _Pos(NamedTuple):
    var: str | None
    const: int

    def __add__(self, n: int) -> _Pos:  # type: ignore[override]
        return _Pos(self.var, self.const + n)

    def src(self) -> str:
        if self.var is None:
            return str(self.const)
        return self.var if self.const == 0 else f"{self.var} + {self.const}"


def _dict_source(pairs: Pairs) -> str:
    # a key of None unpacks a dict of REDEFINES views into the literal
    return "{" + ", ".join(f"**{expr}" if key is None else f"{key!r}: {expr}" for key, expr in pairs) + "}"


def redefines_sets(children: list[Node]) -> list[list[Node]]:
    """Children grouped as an item followed by the items that redefine it."""
    sets: list[list[Node]] = []
    for child in children:
        if child.redefines is not None and sets:
            sets[-1].append(child)
        else:
            sets.append([child])
    return sets


def _indent(lines: list[str], n: int = 1) -> list[str]:
    return ["    " * n + line for line in lines]


def boundary(node: Node) -> int:
    f = node.field
    return 8 if f.kind == "double" else (2 if f.size == 2 else 4)


class DecoderGenerator:
    """Writes the Python source of one layout's decoder."""

    def __init__(self, variable_occurs: bool, strict: bool) -> None:
        self.env: dict[str, object] = {"_bad": bad, "Decimal": Decimal, "_ERRS": FAST_ERRORS}
        self.variable_occurs = variable_occurs
        self.strict = strict
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

    def emit(self, node: Node, pos: _Pos) -> tuple[list[str], Pairs, _Pos]:
        if node.converter is not None:
            return self.elementary(node, pos)
        return self.group(node, pos)

    def elementary(self, node: Node, pos: _Pos) -> tuple[list[str], Pairs, _Pos]:
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

    def group(self, node: Node, pos: _Pos) -> tuple[list[str], Pairs, _Pos]:
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

    def table(self, node: Node, pos: _Pos) -> tuple[list[str], Pairs, _Pos]:
        f = node.field
        key = f.key or "FILLER"
        occurs = f.occurs
        if occurs is None:  # pragma: no cover - only called for tables
            raise ValueError(f"{f.path} is no table")
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

    def content(self, node: Node, pos: _Pos) -> tuple[list[str], Pairs, _Pos]:
        stmts: list[str] = []
        pairs: Pairs = []
        fixed = not any(c.variable for c in node.children)
        set_end = pos
        for views in redefines_sets(node.children):
            if fixed:
                starts = [pos + v.rel for v in views]
            else:
                start = set_end
                if views[0].field.sync:
                    start = self.align(start, boundary(views[0]), stmts)
                starts = [start] * len(views)
            if self.strict and sum(1 for v in views if v.shown) > 1:
                s, p, ends = self.alternatives(views, starts)
            else:
                s, p, ends = [], [], []
                for view, start in zip(views, starts):
                    s1, p1, e1 = self.emit(view, start)
                    s.extend(s1)
                    p.extend(p1)
                    ends.append(e1)
            stmts.extend(s)
            pairs.extend(p)
            if not fixed:  # views of a REDEFINES have fixed sizes, so their ends share a variable
                set_end = ends[0] if len(ends) == 1 else _Pos(ends[0].var, max(e.const for e in ends))
        return stmts, pairs, (pos + node.field.size if fixed else set_end)

    def alternatives(self, views: list[Node], starts: list[_Pos]) -> tuple[list[str], Pairs, list[_Pos]]:
        """REDEFINES views: a view whose bytes it cannot read is left out; none readable is an error."""
        stmts: list[str] = []
        pairs: Pairs = []
        ends: list[_Pos] = []
        names: list[str] = []
        for view, start in zip(views, starts):
            s, p, end = self.emit(view, start)
            ends.append(end)
            if not p:
                stmts.extend(s)
                continue
            r = self.name("r")
            stmts.append("try:")
            stmts.extend(_indent(s + [f"{r} = {_dict_source(p)}"]))
            stmts.append("except _ERRS:")
            stmts.append(f"    {r} = None")
            names.append(r)
            pairs.append((None, f"({r} or {{}})"))
        stmts.append("if " + " and ".join(f"{r} is None" for r in names) + ": _bad()")
        return stmts, pairs, ends

    def align(self, pos: _Pos, boundary: int, stmts: list[str]) -> _Pos:
        if pos.var is None:
            return _Pos(None, pos.const + (-pos.const % boundary))
        p = self.name("p")
        stmts.append(f"{p} = {pos.src()}")
        stmts.append(f"{p} += -{p} % {boundary}")
        return _Pos(p, 0)


def generate_decoder(plan: Node, *, variable_occurs: bool, strict: bool) -> tuple[str, Any]:
    """(source, function) of the decoder of a layout; the function returns (record, bytes used)."""
    generator = DecoderGenerator(variable_occurs, strict)
    source = generator.source(plan)
    env = generator.env
    name = ascii(plan.field.path or "record")  # a name may hold any character, NUL included
    exec(compile(source, f"<copybook decoder {name}>", "exec"), env)  # noqa: S102
    return source, env["_decode"]


__all__ = ["FAST_ERRORS", "DecoderGenerator", "boundary", "generate_decoder", "redefines_sets"]

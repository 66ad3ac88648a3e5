"""The codec's view of a layout: each field with its converter, relative offset and role."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field

from legacy.copybook.builder import has_named
from legacy.copybook.codepages import CodePage
from legacy.copybook.convert import Converter
from legacy.copybook.converters import converter_for
from legacy.copybook.model import Field, LayoutOptions


@dataclass(eq=False)
class Node:
    field: Field
    converter: Converter | None  # None for groups
    children: list[Node] = dataclass_field(default_factory=list)
    rel: int = 0  # offset from the start of the parent group (when the parent has a fixed size)
    variable: bool = False  # the size of one occurrence, or of the table, depends on ODO counts
    shown: bool = True  # something of it appears in decoded records
    counter: bool = False  # an OCCURS DEPENDING ON counter: its value is kept for the table
    redefines: int | None = None  # index among the siblings of the item it redefines
    filler_bytes: bytes | None = None  # all bytes of a fixed-size item that shows nothing

    @property
    def key(self) -> str | None:
        return self.field.key

    @property
    def path(self) -> str:
        return self.field.path

    @property
    def stride(self) -> int:
        return self.field.size

    @property
    def odo(self) -> bool:
        occurs = self.field.occurs
        return occurs is not None and occurs.depending_on is not None


def build_plan(root: Field, code_page: CodePage, options: LayoutOptions) -> Node:
    counters = {f.occurs.depending_on for f in root.walk() if f.occurs is not None and f.occurs.depending_on}
    return _node(root, root.offset, code_page, options, counters)


def _node(f: Field, parent_offset: int, code_page: CodePage, options: LayoutOptions, counters: set[str]) -> Node:
    if not f.is_group:
        node = Node(
            f,
            converter_for(f, code_page, options),
            rel=f.offset - parent_offset,
            shown=not f.is_filler,
            counter=f.path in counters,
        )
        node.variable = bool(f.occurs and f.occurs.depending_on and options.variable_occurs)
        if not node.shown:
            node.filler_bytes = node.converter.filler() * (f.occurs.maximum if f.occurs else 1)  # type: ignore[union-attr]
        return node
    node = Node(f, None, rel=f.offset - parent_offset, shown=has_named(f))
    names: dict[str, int] = {}
    for i, child in enumerate(f.children):
        sub = _node(child, f.offset, code_page, options, counters)
        if child.redefines is not None:
            sub.redefines = names[child.redefines.upper()]
            if child.name:  # a later view may name this one: it redefines the same item
                names[child.name.upper()] = sub.redefines
        elif child.name:
            names[child.name.upper()] = i
        node.children.append(sub)
    node.variable = any(c.variable for c in node.children) or bool(
        f.occurs and f.occurs.depending_on and options.variable_occurs
    )
    if not node.shown and not node.variable:
        node.filler_bytes = _fill(node) * (f.occurs.maximum if f.occurs else 1)
    return node


def _fill(node: Node) -> bytes:
    """One occurrence of a fixed-size item written with every elementary item's filler."""
    if node.converter is not None:
        return node.converter.filler()
    out = bytearray(b"\x00" * node.field.size)  # slack bytes stay 0x00
    # redefining views first, so that the redefined item's filler wins where they overlap
    for child in sorted(node.children, key=lambda c: c.redefines is None):
        data = _fill(child) * (child.field.occurs.maximum if child.field.occurs else 1)
        out[child.rel : child.rel + len(data)] = data
    return bytes(out)


def fill_bytes(node: Node) -> bytes:
    """Filler bytes of one occurrence of ``node`` (fixed size only)."""
    return _fill(node)


__all__ = ["Node", "build_plan", "fill_bytes"]

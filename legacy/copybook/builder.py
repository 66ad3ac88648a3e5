"""Layout builder: data description entries to a tree of placed fields (offsets, sizes, kinds).

Sizes follow IBM Enterprise COBOL and Cobrix: binary items take 2, 4 or 8 bytes for up to 4, 9
or 18 digits and, beyond 18 digits, the fewest bytes that hold the value range plus a sign bit
(9 bytes for 19-20 digits, 16 for 37); packed items take digits // 2 + 1 bytes. SYNC aligns a
binary or floating-point item on its natural boundary (halfword for 2 bytes, fullword for 4 and
8, doubleword for COMP-2) from the start of the record; slack bytes are left in front of it.

A REDEFINES entry must immediately follow the item it redefines, or another REDEFINES of that
item, at the same level (IBM's rule; anything else would give two items the same bytes and
push the rest of the record along). An item that would end beyond ``max_record_length`` is
refused as soon as it is placed, before any byte of it is allocated.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from legacy.copybook.model import (
    BINARY,
    DOUBLE,
    EDITED,
    FLOAT,
    GROUP,
    NATIVE,
    PACKED,
    TEXT,
    ZONED,
    Condition,
    Field,
    LayoutOptions,
    Occurs,
    kind_for,
)
from legacy.copybook.parser import Entry
from legacy.errors import CopybookError


def binary_size(digits: int) -> int:
    """Bytes of a binary item with this many PICTURE digits."""
    if digits <= 4:
        return 2
    if digits <= 9:
        return 4
    if digits <= 18:
        return 8
    return ((10**digits - 1).bit_length() + 1 + 7) // 8


def python_name(name: str) -> str:
    """``CUST-ID`` -> ``cust_id``."""
    return name.lower().replace("-", "_")


@dataclass
class _Node:
    entry: Entry
    level: int
    children: list[_Node] = field(default_factory=list)
    conditions: list[Entry] = field(default_factory=list)


def _tree(entries: list[Entry]) -> list[_Node]:
    roots: list[_Node] = []
    stack: list[_Node] = []
    last: _Node | None = None
    for entry in entries:
        if entry.level == 88:
            if last is None:
                raise CopybookError(
                    "a level-88 condition must follow the item it names values of",
                    line=entry.where.line,
                    column=entry.where.column,
                )
            last.conditions.append(entry)
            continue
        level = 1 if entry.level == 77 else entry.level
        while stack and stack[-1].level >= level:
            stack.pop()
        node = _Node(entry, level)
        if stack:
            parent = stack[-1]
            if parent.entry.picture is not None or parent.entry.usage in ("float", "double"):
                raise CopybookError(
                    f"{_label(parent.entry)} is elementary (it has a PICTURE or COMP-1/COMP-2) "
                    f"and cannot have subordinate items",
                    line=entry.where.line,
                    column=entry.where.column,
                )
            parent.children.append(node)
        else:
            roots.append(node)
        stack.append(node)
        last = node
    return roots


def _label(entry: Entry) -> str:
    return entry.name or "FILLER"


class _Builder:
    def __init__(self, options: LayoutOptions) -> None:
        self.options = options
        self.all_fields: list[tuple[Field, tuple[str, ...]]] = []  # field, upper-case names root-first
        self.pending_odo: list[tuple[_Node, tuple[str, ...], str]] = []

    def key(self, name: str | None) -> str | None:
        if name is None:
            return None
        return python_name(name) if self.options.python_names else name

    def place(
        self,
        node: _Node,
        offset: int,
        parent_path: str,
        names: tuple[str, ...],
        usage: str | None,
        sign: tuple[bool | None, bool],
        variable: bool,
    ) -> tuple[Field, bool]:
        """Place one item at ``offset``; returns the field and whether what follows moves."""
        entry = node.entry
        usage = entry.usage or usage
        sign_leading = entry.sign_leading if entry.sign_leading is not None else sign[0]
        sign_separate = entry.sign_separate if entry.sign_leading is not None else sign[1]
        key = self.key(entry.name)
        if node.level == 0:  # the unnamed root that holds several 01 levels
            path = ""
        else:
            path = f"{parent_path}.{key or 'FILLER'}" if parent_path else (key or "FILLER")
        my_names = names + ((entry.name.upper(),) if entry.name else ("FILLER",))
        occurs = None
        if entry.occurs is not None:
            occurs = Occurs(entry.occurs.minimum, entry.occurs.maximum, None)
        if node.children:
            if entry.picture is not None:  # pragma: no cover - _tree refuses this
                raise CopybookError(f"group {_label(entry)} has a PICTURE", line=entry.where.line)
            children: list[Field] = []
            pos = offset
            moves = False
            set_end = offset
            originals: dict[str, Field] = {}  # name -> the item whose bytes it describes
            views: set[str] = set()  # names a REDEFINES at this point may redefine
            for child in node.children:
                if child.entry.redefines is not None:
                    wanted = child.entry.redefines.upper()
                    target = originals.get(wanted)
                    where = child.entry.redefines_where or child.entry.where
                    if target is None:
                        raise CopybookError(
                            f"{_label(child.entry)} REDEFINES {child.entry.redefines}, which is not an earlier "
                            f"item of the same group",
                            line=where.line,
                            column=where.column,
                        )
                    if wanted not in views:
                        # IBM's rule: the redefinitions follow the redefined item with nothing
                        # between them that takes bytes of its own
                        raise CopybookError(
                            f"{_label(child.entry)} REDEFINES {child.entry.redefines}, which it does not immediately "
                            f"follow: a REDEFINES entry comes right after the item it redefines (or after another "
                            f"REDEFINES of that item), at the same level",
                            line=where.line,
                            column=where.column,
                        )
                    if child.entry.name:
                        originals[child.entry.name.upper()] = target
                        views.add(child.entry.name.upper())
                    if moves or target.variable:
                        raise CopybookError(
                            f"{_label(child.entry)} redefines an item whose place depends on OCCURS DEPENDING ON",
                            line=child.entry.where.line,
                            column=child.entry.where.column,
                        )
                    placed, child_moves = self.place(
                        child, target.offset, path, my_names, usage, (sign_leading, sign_separate), variable
                    )
                    if child_moves:
                        raise CopybookError(
                            f"{_label(child.entry)} is a REDEFINES with OCCURS DEPENDING ON inside; its size must be fixed",
                            line=child.entry.where.line,
                            column=child.entry.where.column,
                        )
                    set_end = max(set_end, placed.end)
                else:
                    pos = set_end
                    placed, child_moves = self.place(
                        child, pos, path, my_names, usage, (sign_leading, sign_separate), variable or moves
                    )
                    moves = moves or child_moves
                    set_end = placed.end
                    views = set()
                    if child.entry.name:
                        originals[child.entry.name.upper()] = placed
                        views.add(child.entry.name.upper())
                children.append(placed)
            size = set_end - offset
            if occurs is not None:
                size = _aligned_element(size, children)
                if entry.name is None and any(has_named(c) for c in children):
                    raise CopybookError(
                        "a FILLER table cannot hold named items: give the table a name",
                        line=entry.where.line,
                        column=entry.where.column,
                    )
            self._check_keys(entry, children)
            result = Field(
                entry.name,
                key,
                node.level,
                path,
                GROUP,
                offset,
                size,
                usage=usage or "display",
                occurs=occurs,
                redefines=entry.redefines,
                variable=variable,
                children=tuple(children),
                line=entry.where.line,
            )
            self._check_size(entry, result)
            moves = moves or (
                entry.occurs is not None and entry.occurs.depending_on is not None and self.options.variable_occurs
            )
            self._register(node, result, my_names)
            return result, moves
        return self._elementary(node, offset, path, key, my_names, usage, sign_leading, sign_separate, occurs, variable)

    def _elementary(
        self,
        node: _Node,
        offset: int,
        path: str,
        key: str | None,
        names: tuple[str, ...],
        usage: str | None,
        sign_leading: bool | None,
        sign_separate: bool,
        occurs: Occurs | None,
        variable: bool,
    ) -> tuple[Field, bool]:
        entry = node.entry
        usage = usage or "display"
        picture = entry.picture
        if picture is None and usage not in ("float", "double"):
            raise CopybookError(
                f"elementary item {_label(entry)} needs a PICTURE clause",
                line=entry.where.line,
                column=entry.where.column,
            )
        if picture is not None and usage in ("float", "double"):
            picture = None  # COMP-1/COMP-2 take no PICTURE; some copybooks give one anyway
        kind = kind_for(picture, usage)
        where = entry.picture_where or entry.where
        if kind in (BINARY, NATIVE, PACKED, ZONED) and (picture is None or not picture.is_numeric):
            raise CopybookError(
                f"{_label(entry)}: USAGE {usage.upper()} needs a numeric PICTURE", line=where.line, column=where.column
            )
        if kind == EDITED and usage != "display":
            raise CopybookError(
                f"{_label(entry)}: a numeric-edited PICTURE is USAGE DISPLAY", line=where.line, column=where.column
            )
        if kind == TEXT and usage != "display":
            raise CopybookError(
                f"{_label(entry)}: USAGE {usage.upper()} needs a numeric PICTURE", line=where.line, column=where.column
            )
        separate = False
        leading = False
        if kind == ZONED and sign_leading is not None:
            separate = sign_separate
            leading = bool(sign_leading)
            if separate and picture is not None and not picture.signed:
                picture = dataclasses.replace(picture, signed=True)  # as Cobrix reads PIC 99V99 SIGN SEPARATE
        if picture is not None and picture.point is not None and kind != ZONED:
            raise CopybookError(
                f"{_label(entry)}: an explicit decimal point needs USAGE DISPLAY", line=where.line, column=where.column
            )
        if kind == TEXT or kind == EDITED:
            size = picture.length  # type: ignore[union-attr]
        elif kind == ZONED:
            size = picture.length + (1 if separate else 0)  # type: ignore[union-attr]
        elif kind in (BINARY, NATIVE):
            size = binary_size(picture.digits)  # type: ignore[union-attr]
        elif kind == PACKED:
            size = picture.digits // 2 + 1  # type: ignore[union-attr]
        elif kind == FLOAT:
            size = 4
        else:
            size = 8
        if entry.sync and kind in (BINARY, NATIVE, FLOAT, DOUBLE):
            boundary = 8 if kind == DOUBLE else (2 if size == 2 else 4)
            offset += -offset % boundary
        conditions = tuple(self._condition(c, path) for c in node.conditions)
        result = Field(
            entry.name,
            key,
            node.level,
            path,
            kind,
            offset,
            size,
            picture=picture,
            usage=usage,
            occurs=occurs,
            redefines=entry.redefines,
            sign_leading=leading,
            sign_separate=separate,
            sync=entry.sync and kind in (BINARY, NATIVE, FLOAT, DOUBLE),
            justified=entry.justified,
            blank_when_zero=entry.blank_when_zero,
            variable=variable,
            conditions=conditions,
            line=entry.where.line,
        )
        self._check_size(entry, result)
        self._register(node, result, names)
        moves = entry.occurs is not None and entry.occurs.depending_on is not None and self.options.variable_occurs
        return result, moves

    def _check_size(self, entry: Entry, placed: Field) -> None:
        """Refuse an item that ends beyond ``max_record_length``, before any byte of it exists."""
        limit = self.options.max_record_length
        if placed.end > limit:
            occurs = f" ({placed.occurs.maximum} x {placed.size} bytes)" if placed.occurs else ""
            raise CopybookError(
                f"{_label(entry)} ends at byte {placed.end}{occurs}, beyond the largest record allowed, "
                f"{limit} bytes (the max_record_length option)",
                line=entry.where.line,
                column=entry.where.column,
            )

    def _condition(self, entry: Entry, path: str) -> Condition:
        return Condition(entry.name or "", path, tuple(entry.values))

    def _register(self, node: _Node, placed: Field, names: tuple[str, ...]) -> None:
        self.all_fields.append((placed, names))
        if node.entry.occurs is not None and node.entry.occurs.depending_on is not None:
            self.pending_odo.append((node, names, placed.path))

    def _check_keys(self, entry: Entry, children: list[Field]) -> None:
        seen: dict[str, Field] = {}
        for key, child in _record_keys(children):
            if key in seen:
                raise CopybookError(
                    f"{key} appears twice in {_label(entry)} (lines {seen[key].line} and {child.line}); "
                    f"decoded records need distinct names",
                    line=child.line,
                )
            seen[key] = child

    def resolve_depending(self, root: Field) -> Field:
        """Point every OCCURS DEPENDING ON at its counter's path, checking that it precedes the table."""
        targets: dict[str, tuple[str, tuple[tuple[str, int], ...] | None]] = {}
        for node, _names, table_path in self.pending_odo:
            clause = node.entry.occurs
            if clause is None or clause.depending_on is None:  # pragma: no cover - only ODO tables are pending
                continue
            wanted = tuple(n.upper() for n in clause.depending_on)
            where = clause.depending_where or clause.where
            matches = [
                f for f, names in self.all_fields if names[-1] == wanted[0] and _qualified(names[:-1], wanted[1:])
            ]
            if not matches:
                raise CopybookError(
                    f"DEPENDING ON {' OF '.join(clause.depending_on)}: no such item",
                    line=where.line,
                    column=where.column,
                )
            if len(matches) > 1:
                raise CopybookError(
                    f"DEPENDING ON {clause.depending_on[0]} is ambiguous; qualify it with OF",
                    line=where.line,
                    column=where.column,
                )
            counter = matches[0]
            table = next(f for f, _ in self.all_fields if f.path == table_path)
            if counter.is_group or counter.kind not in (ZONED, BINARY, NATIVE, PACKED, TEXT):
                raise CopybookError(
                    f"DEPENDING ON {counter.name}: the counter must be an elementary numeric item",
                    line=where.line,
                    column=where.column,
                )
            if counter.offset >= table.offset or counter.path.startswith(table.path + "."):
                raise CopybookError(
                    f"DEPENDING ON {counter.name}: the counter must come before the table",
                    line=where.line,
                    column=where.column,
                )
            mapping = dict(self.options.occurs_mappings).get((node.entry.name or "").upper())
            if mapping is None and (counter.scale != 0 or counter.kind == TEXT):
                raise CopybookError(
                    f"DEPENDING ON {counter.name}: the counter must be an integer "
                    f"(or the table needs an occurs mapping)",
                    line=where.line,
                    column=where.column,
                )
            if counter.occurs is not None:
                raise CopybookError(
                    f"DEPENDING ON {counter.name}: the counter cannot itself be a table",
                    line=where.line,
                    column=where.column,
                )
            outer_tables = [
                f
                for f, _ in self.all_fields
                if f.occurs is not None
                and counter.path.startswith(f.path + ".")
                and not table.path.startswith(f.path + ".")
            ]
            if outer_tables:
                raise CopybookError(
                    f"DEPENDING ON {counter.name}: the counter is inside table "
                    f"{outer_tables[0].name}, which does not hold this table",
                    line=where.line,
                    column=where.column,
                )
            targets[table_path] = (counter.path, mapping)
        return _with_depending(root, targets) if targets else root


def _qualified(names: tuple[str, ...], qualifiers: tuple[str, ...]) -> bool:
    i = len(names) - 1
    for q in qualifiers:
        while i >= 0 and names[i] != q:
            i -= 1
        if i < 0:
            return False
        i -= 1
    return True


def _with_depending(f: Field, targets: dict[str, tuple[str, tuple[tuple[str, int], ...] | None]]) -> Field:
    children = tuple(_with_depending(c, targets) for c in f.children)
    occurs = f.occurs
    if f.path in targets and occurs is not None:
        counter, mapping = targets[f.path]
        occurs = dataclasses.replace(occurs, depending_on=counter, mapping=mapping)
    if children == f.children and occurs is f.occurs:
        return f
    return dataclasses.replace(f, children=children, occurs=occurs)


def _aligned_element(size: int, children: list[Field]) -> int:
    # IBM pads each occurrence so that SYNC items of the next one stay aligned
    boundary = 1
    for child in children:
        for f in child.walk():
            if f.sync:
                boundary = max(boundary, 8 if f.kind == DOUBLE else (2 if f.size == 2 else 4))
    return size + (-size % boundary)


def has_named(f: Field) -> bool:
    """True when a decoded record shows something of this field (it is not all FILLER)."""
    if not f.is_group:
        return not f.is_filler
    return any(has_named(c) for c in f.children)


def _record_keys(children: list[Field] | tuple[Field, ...]) -> list[tuple[str, Field]]:
    """The keys a group's dict gets: named children, and the named items of FILLER groups."""
    result: list[tuple[str, Field]] = []
    for child in children:
        if not has_named(child):
            continue
        if child.key is not None:
            result.append((child.key, child))
        else:
            result.extend(_record_keys(child.children))
    return result


def build_layout_tree(entries: list[Entry], options: LayoutOptions) -> tuple[Field, bool]:
    """The root field of the layout, and whether decoded records show the root's children directly.

    One 01 level: its children are the record's keys (unless ``keep_root``). Several 01 levels
    redefine each other, as in a file with several record types; the record has one key each.
    Entries without an 01 level get an unnamed root.
    """
    roots = _tree(entries)
    if not roots:
        raise CopybookError("the copybook describes no data items")
    builder = _Builder(options)
    if len(roots) == 1 and roots[0].children:
        root, _ = builder.place(roots[0], 0, "", (), None, (None, False), False)
        collapse = not options.keep_root
    else:
        first_level = roots[0].level
        if len(roots) > 1 and all(r.level == 1 for r in roots):
            for r in roots[1:]:
                if r.entry.redefines is None and roots[0].entry.name:
                    r.entry.redefines = roots[0].entry.name
            if roots[0].entry.name is None:
                raise CopybookError(
                    "the first 01 level needs a name when several follow it", line=roots[0].entry.where.line
                )
        elif len(roots) > 1 and any(r.level == 1 for r in roots) and first_level == 1:
            raise CopybookError(
                "an item after an 01 level must have a higher level number", line=roots[1].entry.where.line
            )
        synthetic = _Node(Entry(0, None, roots[0].entry.where), 0, roots)
        root, _ = builder.place(synthetic, 0, "", (), None, (None, False), False)
        collapse = True
    root = builder.resolve_depending(root)
    return root, collapse


__all__ = ["binary_size", "build_layout_tree", "has_named", "python_name"]

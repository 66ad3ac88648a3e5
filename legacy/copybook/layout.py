"""The public face of a copybook: ``parse_copybook`` and ``load_copybook`` give a ``Layout``."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

from legacy.copybook.builder import build_layout_tree
from legacy.copybook.codec import Codec
from legacy.copybook.codepages import CodePage, get_code_page
from legacy.copybook.limits import DEFAULT_MAX_RECORD_LENGTH
from legacy.copybook.model import Condition, Field, LayoutOptions
from legacy.copybook.parser import parse_entries
from legacy.copybook.plan import build_plan
from legacy.copybook.records import RecordWriter, iter_raw_records
from legacy.copybook.source import SourceFormat
from legacy.copybook.text import TRIMS
from legacy.errors import CopybookError


class Layout:
    """A record layout compiled from a copybook: inspect it, decode and encode records with it.

    Decoded records are dicts keyed by the copybook's names as written (``CUST-ID``, or
    ``cust_id`` with ``python_names``): groups are nested dicts, OCCURS are lists, FILLER is
    left out, every REDEFINES view is present. Text is ``str`` (trailing spaces trimmed unless
    ``trim`` says otherwise), numbers ``int`` or, with decimal places, ``decimal.Decimal``;
    COMP-1/COMP-2 are ``float``. Layouts are immutable and safe to share between threads.
    """

    def __init__(self, root: Field, *, collapse: bool, options: LayoutOptions, code_page: CodePage) -> None:
        self._root = root
        self._collapse = collapse
        self._options = options
        self._code_page = code_page
        plan = build_plan(root, code_page, options)
        self._codec = Codec(
            plan,
            collapse=collapse,
            strict=options.strict,
            variable_occurs=options.variable_occurs,
            space=0x20 if code_page.table is None else code_page.space,
        )
        self._fields = tuple(f for f in root.walk() if f.level != 0)
        self._by_path = {f.path: f for f in self._fields}
        self._conditions = {c.name: c for f in self._fields for c in f.conditions}

    # -- inspection ----------------------------------------------------------------------

    @property
    def root(self) -> Field:
        return self._root

    @property
    def options(self) -> LayoutOptions:
        return self._options

    @property
    def code_page(self) -> CodePage:
        return self._code_page

    @property
    def fields(self) -> tuple[Field, ...]:
        """Every item, group and elementary, FILLER included, in copybook order."""
        return self._fields

    @property
    def record_length(self) -> int:
        """Bytes of the largest record (every OCCURS DEPENDING ON at its maximum)."""
        return self._root.size

    @property
    def variable_length(self) -> bool:
        """True when the record's length follows OCCURS DEPENDING ON counts."""
        return self._codec.plan.variable

    @property
    def conditions(self) -> dict[str, Condition]:
        """Level-88 condition names, each with its field path and values."""
        return dict(self._conditions)

    def field(self, name: str) -> Field:
        """A field by path (``RECORD.ORDERS.AMOUNT``) or, when unique, by name (``AMOUNT``)."""
        if name in self._by_path:
            return self._by_path[name]
        wanted = name.upper()
        matches = [f for f in self._fields if f.name and (f.name.upper() == wanted or (f.key or "").upper() == wanted)]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise KeyError(f"no field {name!r} in the layout")
        raise KeyError(f"{name!r} names {len(matches)} fields; use a path: " + ", ".join(f.path for f in matches))

    def __getitem__(self, name: str) -> Field:
        return self.field(name)

    def named_values(self, name: str) -> dict[str, Any]:
        """The level-88 condition names of a field and their values."""
        return self.field(name).named_values

    # -- records -------------------------------------------------------------------------

    def decode(self, data: bytes | bytearray | memoryview, *, record_number: int | None = None) -> dict[str, Any]:
        """Decode one record; raises a ``RecordError`` naming field path and byte offset."""
        return self._codec.decode(data, record_number)[0]

    def decode_with_length(self, data: bytes, *, record_number: int | None = None) -> tuple[dict[str, Any], int]:
        """Decode one record from the start of ``data``; also returns the bytes it took."""
        return self._codec.decode(data, record_number)

    def encode(self, record: dict[str, Any], *, record_number: int | None = None) -> bytes:
        """Encode one record; decoding the result gives the record back."""
        return self._codec.encode(record, record_number)

    def iter_records(
        self,
        fileobj: BinaryIO,
        record_format: str = "fixed",
        *,
        record_length: int | None = None,
        rdw_byte_order: str = "big",
        rdw_adjustment: int = -4,
    ) -> Iterator[dict[str, Any]]:
        """Decode a file one record at a time, in constant memory.

        ``record_format``: ``fixed`` (records of ``record_length`` bytes, by default the
        layout's), ``vb`` (4-byte RDW before each record) or ``text`` (one record a line, at
        most ``max_record_length`` bytes: a longer one is a ``RecordFramingError`` that names
        the record number and the file offset where it starts).
        """
        length = record_length if record_length is not None else self.record_length
        raw = iter_raw_records(
            fileobj,
            record_format,
            record_length=length,
            rdw_byte_order=rdw_byte_order,
            rdw_adjustment=rdw_adjustment,
            pad_byte=self._codec.space,
            max_length=self._options.max_record_length,
        )
        return self._codec.decode_all(raw)

    def write_records(
        self,
        fileobj: BinaryIO,
        records: Iterable[dict[str, Any]],
        record_format: str = "fixed",
        *,
        rdw_byte_order: str = "big",
        rdw_adjustment: int = -4,
    ) -> int:
        """Encode records to a file; returns how many were written."""
        length = self.record_length if record_format == "fixed" else None
        writer = RecordWriter(
            fileobj,
            record_format,
            record_length=length,
            rdw_byte_order=rdw_byte_order,
            rdw_adjustment=rdw_adjustment,
            pad_byte=self._codec.space,
        )
        for number, record in enumerate(records):
            writer.write(self._codec.encode(record, number))
        return writer.count

    # -- display -------------------------------------------------------------------------

    def table(self) -> str:
        """The layout as a table: level and name, type, offset, length, occurrences."""
        rows = [("FIELD", "TYPE", "OFFSET", "LENGTH", "OCCURS")]
        for f in self._fields:
            indent = "  " * f.path.count(".")
            label = f"{indent}{f.level:02d} {f.name or 'FILLER'}"
            if f.redefines:
                label += f" REDEFINES {f.redefines}"
            occurs = ""
            if f.occurs:
                occurs = (
                    str(f.occurs.maximum)
                    if f.occurs.fixed
                    else f"{f.occurs.minimum}-{f.occurs.maximum} ON {(f.occurs.depending_on or '').rsplit('.', 1)[-1]}"
                )
            rows.append((label, f.type_text or ("group" if f.is_group else f.kind), str(f.offset), str(f.size), occurs))
            for c in f.conditions:
                rows.append((f"{indent}   88 {c.name}", _values_text(c), "", "", ""))
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        lines = [
            f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]:>{widths[3]}}  {r[4]}".rstrip()
            for r in rows
        ]
        lines.append(
            f"record length {self.record_length}"
            + (" (largest; varies with DEPENDING ON)" if self.variable_length else "")
        )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        name = self._root.name or "record"
        return f"<Layout {name}: {len(self._fields)} fields, {self.record_length} bytes, {self._code_page.name}>"


def _values_text(c: Condition) -> str:
    parts = []
    for low, high in c.values:
        parts.append(f"{low!r}" + (f" THRU {high!r}" if high is not None else ""))
    return "VALUE " + ", ".join(parts)


def parse_copybook(
    text: str,
    code_page: str | CodePage = "cp037",
    *,
    trim: str = "right",
    python_names: bool = False,
    strict: bool = True,
    float_format: str = "ibm",
    variable_occurs: bool = True,
    truncation: str = "bin",
    native_byte_order: str = "big",
    keep_root: bool = False,
    source_format: SourceFormat = "auto",
    occurs_mappings: dict[str, dict[str, int]] | None = None,
    max_record_length: int = DEFAULT_MAX_RECORD_LENGTH,
) -> Layout:
    """Parse copybook text into a Layout.

    - ``code_page``: cp037, cp273, cp277, cp278, cp280, cp284, cp285, cp297, cp500, cp1047,
      cp1140-cp1149, ascii, latin-1, utf-8, or a ``CodePage`` (e.g. ``CodePage.from_table``).
    - ``trim``: ``right`` (trailing spaces, the default), ``none``, ``both`` or ``left``.
    - ``python_names``: keys ``cust_id`` instead of ``CUST-ID``.
    - ``strict``: True raises on any invalid field; False decodes it to None instead, and
      reads DISPLAY numbers with stray spaces, signs and points as Cobrix does.
    - ``float_format``: COMP-1/COMP-2 as ``ibm`` hexadecimal floating point or ``ieee`` 754.
    - ``variable_occurs``: OCCURS DEPENDING ON tables take the space of their count (True,
      as COBOL writes them) or always their maximum (False).
    - ``truncation``: ``bin`` (the default, IBM's TRUNC(BIN)) takes every value a COMP/BINARY
      field's bytes can hold, decoding and encoding alike, so a decoded record always encodes
      back (``PIC 9(4) COMP`` with ``FF FF`` is 65535, as real files hold). ``std`` (TRUNC(STD))
      bounds values by the PICTURE's digits both ways: encoding refuses 10000 for ``9(4)``, and
      decoding raises ``ValueRangeError`` for it (None with ``strict=False``). COMP-5 is always
      bounded by its size only.
    - ``native_byte_order``: byte order of COMP-5 (``big`` on the mainframe).
    - ``keep_root``: records are ``{"RECORD": {...}}`` instead of the 01 level's contents.
    - ``source_format``: ``fixed`` (columns 1-6 sequence, 7 indicator, 8-72 text), ``free``,
      or ``auto`` (fixed unless entries start in columns 1-5).
    - ``occurs_mappings``: ``{"TABLE": {"A": 0, "B": 2}}`` sizes a table from a PIC X
      counter's value, as Cobrix's option of that name does.
    - ``max_record_length``: the largest record the layout may describe and the longest text
      record ``iter_records`` reads (16 MiB by default); above it the copybook is refused
      (``CopybookError`` naming the line and item) and a text file fails with
      ``RecordFramingError``, before anything that size is allocated.

    Limits (see ``legacy.copybook.limits``): numeric items have at most 38 digits, numeric
    PICTUREs at most 249 positions. A REDEFINES entry must immediately follow the item it
    redefines, or another REDEFINES of it, at the same level, as IBM COBOL requires.
    """
    if trim not in TRIMS:
        raise ValueError(f"trim is one of {', '.join(TRIMS)}, not {trim!r}")
    if float_format not in ("ibm", "ieee"):
        raise ValueError(f"float_format is 'ibm' or 'ieee', not {float_format!r}")
    if truncation not in ("std", "bin"):
        raise ValueError(f"truncation is 'std' or 'bin', not {truncation!r}")
    if native_byte_order not in ("big", "little"):
        raise ValueError(f"native_byte_order is 'big' or 'little', not {native_byte_order!r}")
    if isinstance(max_record_length, bool) or not isinstance(max_record_length, int) or max_record_length < 1:
        raise ValueError(f"max_record_length is a positive number of bytes, not {max_record_length!r}")
    page = get_code_page(code_page)
    options = LayoutOptions(
        code_page=page.name,
        trim=trim,
        python_names=python_names,
        strict=strict,
        float_format=float_format,
        variable_occurs=variable_occurs,
        truncation=truncation,
        native_byte_order=native_byte_order,
        keep_root=keep_root,
        max_record_length=max_record_length,
        occurs_mappings=tuple(
            (table.upper(), tuple(values.items())) for table, values in (occurs_mappings or {}).items()
        ),
    )
    entries = parse_entries(text, source_format)
    if not entries:
        raise CopybookError("the copybook describes no data items")
    root, collapse = build_layout_tree(entries, options)
    return Layout(root, collapse=collapse, options=options, code_page=page)


def load_copybook(path: str | os.PathLike[str], code_page: str | CodePage = "cp037", **options: Any) -> Layout:
    """Read a copybook file (any 8-bit encoding; only ASCII matters) and parse it."""
    with open(path, encoding="latin-1") as fh:
        text = fh.read()
    return parse_copybook(text, code_page, **options)


__all__ = ["Layout", "load_copybook", "parse_copybook"]

"""Round-trip properties: for generated copybooks and records, encode then decode gives the record
back, re-encoding the decoded record gives the same bytes, and the generated decoder agrees with
the field-by-field decoder.

Copybooks are generated as text (so the parser is exercised too) with every field kind: text,
zoned (overpunched, leading, separate, explicit point, P scaling), packed, COMP, COMP-5 (also
beyond 18 digits), COMP-1/COMP-2 (IBM and IEEE), numeric-edited, FILLER, groups, OCCURS, SYNC,
and an OCCURS DEPENDING ON table; in any of the issue's code pages.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from legacy import parse_copybook
from legacy.copybook.codepages import ASCII_CODE_PAGES, EBCDIC_CODE_PAGES, get_code_page
from legacy.copybook.floats import float_to_ibm, ibm32_to_float, ibm64_to_float

CODE_PAGES = EBCDIC_CODE_PAGES + ASCII_CODE_PAGES


@dataclass
class Spec:
    """One generated item: its copybook clauses and a strategy for its values."""

    name: str
    clauses: str = ""  # PIC/USAGE/SIGN... of an elementary item; "" for a group
    values: Any = None  # strategy of one value (elementary)
    children: list[Spec] = field(default_factory=list)
    occurs: int = 0
    filler: bool = False


def _text_chars(code_page: str) -> str:
    cp = get_code_page(code_page)
    if code_page == "utf-8":
        return "ABCXYZabcxyz0189 -.,/éü€"
    if code_page == "ascii":
        return "".join(chr(b) for b in range(0x20, 0x7F))
    chars = []
    for b in range(0x40, 0xFF):
        ch = cp.decode(bytes([b]))
        if cp.encode(ch) == bytes([b]) and ch.isprintable():
            chars.append(ch)
    return "".join(chars)


def _text(size: int, code_page: str) -> Any:
    cp = get_code_page(code_page)
    return st.text(alphabet=_text_chars(code_page), max_size=size).map(lambda s: s.rstrip(" ")).filter(
        lambda s: len(cp.encode(s)) <= size)


def _scaled(digits: int, scale: int, signed: bool) -> Any:
    top = 10 ** digits - 1
    ints = st.integers(-top if signed else 0, top)
    if scale > 0:
        return ints.map(lambda n: Decimal(f"{n}e-{scale}"))
    if scale < 0:
        return ints.map(lambda n: n * 10 ** -scale)
    return ints


@st.composite
def elementary(draw: Any, name: str, code_page: str) -> Spec:
    kind = draw(st.sampled_from(["text", "zoned", "packed", "binary", "native", "float", "edited"]))
    signed = draw(st.booleans())
    s = "S" if signed else ""
    if kind == "text":
        size = draw(st.integers(1, 12))
        return Spec(name, f"PIC X({size})", _text(size, code_page))
    if kind == "zoned":
        digits = draw(st.integers(1, 31))
        variant = draw(st.sampled_from(["plain", "leading", "leading-separate", "trailing-separate", "point", "p-right",
                                        "p-left"]))
        if variant == "point" and digits >= 2:
            left = draw(st.integers(1, digits - 1))
            return Spec(name, f"PIC {s}9({left}).9({digits - left})", _scaled(digits, digits - left, signed))
        if variant == "p-right":
            return Spec(name, f"PIC {s}9({digits})PP", _scaled(digits, -2, signed))
        if variant == "p-left":
            return Spec(name, f"PIC {s}PP9({digits})", _scaled(digits, digits + 2, signed))
        scale = draw(st.integers(0, digits))
        pic = f"PIC {s}9({digits - scale})" + (f"V9({scale})" if scale else "") if digits > scale else f"PIC {s}V9({scale})"
        sign = {"leading": " SIGN LEADING", "leading-separate": " SIGN LEADING SEPARATE",
                "trailing-separate": " SIGN TRAILING SEPARATE"}.get(variant, "") if signed else ""
        return Spec(name, pic + sign, _scaled(digits, scale, signed))
    if kind in ("packed", "binary"):
        digits = draw(st.integers(1, 31 if kind == "packed" else 30))
        scale = draw(st.integers(0, min(digits, 6)))
        pic = f"PIC {s}9({digits - scale})" + (f"V9({scale})" if scale else "") if digits > scale else f"PIC {s}V9({scale})"
        usage = "COMP-3" if kind == "packed" else draw(st.sampled_from(["COMP", "BINARY", "COMP-4"]))
        sync = " SYNC" if kind == "binary" and draw(st.booleans()) else ""
        return Spec(name, f"{pic} {usage}{sync}", _scaled(digits, scale, signed))
    if kind == "native":
        digits = draw(st.sampled_from([4, 9, 18]))
        size = {4: 2, 9: 4, 18: 8}[digits]
        low, high = (-(2 ** (8 * size - 1)), 2 ** (8 * size - 1) - 1) if signed else (0, 2 ** (8 * size) - 1)
        return Spec(name, f"PIC {s}9({digits}) COMP-5", st.integers(low, high))
    if kind == "float":
        double = draw(st.booleans())
        floats = st.floats(-1e30, 1e30, allow_nan=False, width=64) if double else st.floats(-1e6, 1e6, width=32)
        return Spec(name, "COMP-2" if double else "COMP-1", floats)
    pic, digits, scale, signed_pic = draw(st.sampled_from([
        ("ZZ,ZZ9.99-", 7, 2, True), ("+9(5)", 5, 0, True), ("Z(6)9", 7, 0, False), ("$$,$$9.99CR", 6, 2, True),
        ("***9.99", 5, 2, False), ("----9", 4, 0, True), ("9(4).99+", 6, 2, True), ("ZZZ.ZZ", 5, 2, False),
        ("99/99/99", 6, 0, False), ("Z(4)VZZ-", 6, 2, True),
    ]))
    return Spec(name, f"PIC {pic}", _scaled(digits, scale, signed_pic))


@st.composite
def items(draw: Any, prefix: str, code_page: str, depth: int) -> list[Spec]:
    specs = []
    for i in range(draw(st.integers(1, 4))):
        name = f"{prefix}-{i}"
        if depth < 2 and draw(st.integers(0, 4)) == 0:
            spec = Spec(name, children=draw(items(name, code_page, depth + 1)))
        else:
            spec = draw(elementary(name, code_page))
        spec.filler = draw(st.integers(0, 6)) == 0
        spec.occurs = draw(st.sampled_from([0, 0, 0, 2, 3]))
        if spec.filler and spec.children and spec.occurs:
            spec.occurs = 0  # a FILLER table with named items has no key to hold its list
        specs.append(spec)
    return specs


def _lines(specs: list[Spec], level: int) -> list[str]:
    lines = []
    for spec in specs:
        name = "FILLER" if spec.filler else spec.name
        occurs = f" OCCURS {spec.occurs}" if spec.occurs else ""
        lines.append(f"{' ' * level}{level:02d} {name}{occurs}" + (f" {spec.clauses}." if spec.clauses else "."))
        if spec.children:
            lines.extend(_lines(spec.children, level + 5))
    return lines


def _shown(spec: Spec) -> bool:
    if spec.children:
        return any(_shown(c) for c in spec.children)
    return not spec.filler


@st.composite
def record_for(draw: Any, specs: list[Spec]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for spec in specs:
        if not _shown(spec):
            continue
        if spec.filler:  # a FILLER group: its named items sit in this record
            record.update(draw(record_for(spec.children)))
            continue
        one = record_for(spec.children) if spec.children else spec.values
        record[spec.name] = draw(st.lists(one, min_size=spec.occurs, max_size=spec.occurs)) if spec.occurs else draw(one)
    return record


def _exact_floats(value: Any, specs: list[Spec], ieee: bool) -> Any:
    """Floats as the field stores them (COMP-1 IBM has 21-24 bits), so equality is exact."""
    out = {}
    for spec in specs:
        if spec.filler and spec.children:
            out.update(_exact_floats(value, spec.children, ieee))
            continue
        if spec.name not in value:
            continue
        v = value[spec.name]
        if spec.children:
            v = [_exact_floats(x, spec.children, ieee) for x in v] if spec.occurs else _exact_floats(v, spec.children, ieee)
        elif spec.clauses in ("COMP-1", "COMP-2"):
            size = 4 if spec.clauses == "COMP-1" else 8

            def exact(x: float, size: int = size) -> float:
                if ieee:
                    fmt = ">f" if size == 4 else ">d"
                    return struct.unpack(fmt, struct.pack(fmt, x))[0]
                return (ibm32_to_float if size == 4 else ibm64_to_float)(float_to_ibm(x, size))
            v = [exact(x) for x in v] if spec.occurs else exact(v)
        out[spec.name] = v
    return out


@st.composite
def layouts_and_records(draw: Any) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    code_page = draw(st.sampled_from(CODE_PAGES))
    specs = draw(items("F", code_page, 0))
    with_table = draw(st.booleans())
    lines = ["01 REC."] + _lines(specs, 5)
    if with_table:
        table = draw(items("T", code_page, 1))
        lines += ["     05 T-COUNT PIC 9(2).", "     05 T OCCURS 0 TO 4 TIMES DEPENDING ON T-COUNT."]
        lines += _lines(table, 10)
    options = {"float_format": draw(st.sampled_from(["ibm", "ieee"])), "variable_occurs": draw(st.booleans())}
    layout = parse_copybook("\n".join(lines) + "\n", code_page, source_format="free", **options)
    record = draw(record_for(specs))
    if with_table:
        rows = draw(st.lists(record_for(table), max_size=4))
        record["T-COUNT"] = len(rows)
        if any(_shown(t) for t in table):
            record["T"] = rows
        else:
            record.pop("T-COUNT")
            return layout, record, {"skip": True}
    expected = _exact_floats(record, specs, options["float_format"] == "ieee")
    if with_table:
        expected["T-COUNT"] = record["T-COUNT"]
        expected["T"] = [_exact_floats(r, table, options["float_format"] == "ieee") for r in record["T"]]
    return layout, record, expected


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(layouts_and_records())
def test_encode_then_decode_returns_the_record(case: tuple[Any, dict[str, Any], dict[str, Any]]) -> None:
    layout, record, expected = case
    if expected.get("skip"):
        return
    data = layout.encode(record)
    decoded = layout.decode(data)
    assert decoded == expected
    assert layout.encode(decoded) == data  # byte-exact
    assert layout._codec.careful(data, None)[0] == decoded  # the generated decoder is no shortcut


@settings(max_examples=60, deadline=None)
@given(code_page=st.sampled_from(EBCDIC_CODE_PAGES + ("latin-1",)),  # pages where every byte is text
       value=st.integers(-99999, 99999),
       text=st.text(alphabet="ABCXYZ0123456789", max_size=6))
def test_redefined_views_come_back_together(code_page: str, value: int, text: str) -> None:
    layout = parse_copybook("01 R.\n 05 N PIC S9(5) COMP-3.\n 05 X REDEFINES N PIC X(3).\n 05 T PIC X(6).\n",
                            code_page, source_format="free", trim="none")
    data = layout.encode({"N": value, "T": text.ljust(6)})
    decoded = layout.decode(data)
    assert decoded["N"] == value and len(decoded["X"]) == 3
    if get_code_page(code_page).encode(decoded["X"]) == data[:3]:  # pages with a duplicate character do not
        assert layout.encode(decoded) == data  # both views given, and they agree

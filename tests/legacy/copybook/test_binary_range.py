"""Binary fields: decoding and encoding agree on the range of values (issue 9, item 16).

``truncation="bin"`` (the default, IBM's TRUNC(BIN)) reads and writes every value the bytes can
hold; ``truncation="std"`` (TRUNC(STD)) refuses values beyond the PICTURE's digits both ways,
``ValueRangeError`` when decoding. Either way a decoded record encodes back to its bytes,
checked on random bytes for binary fields of every size and sign, and on the real files of the
Cobrix test data (found by tests/conftest.py), which hold such values.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from legacy import ValueRangeError, parse_copybook

# (PICTURE digits, bytes): every size a binary item takes, 2 to 16 bytes
SIZES = [(1, 2), (4, 2), (5, 4), (9, 4), (10, 8), (18, 8), (19, 9), (20, 9), (37, 16), (38, 16)]
USAGES = ["COMP", "BINARY", "COMP-4", "COMP-5"]


def _layout(digits: int, signed: bool, usage: str, scale: int = 0, **options: Any) -> Any:
    pic = f"{'S' if signed else ''}9({digits - scale})" + (f"V9({scale})" if scale else "")
    return parse_copybook(f"01 R.\n  05 A PIC {pic} {usage}.\n  05 B PIC {pic} {usage} OCCURS 2.\n",
                          source_format="free", **options)


def test_the_issue_examples_decode_and_encode_back() -> None:
    unsigned = _layout(4, False, "COMP")
    assert unsigned.decode(b"\xff\xff" * 3) == {"A": 65535, "B": [65535, 65535]}
    assert unsigned.encode(unsigned.decode(b"\xff\xff" * 3)) == b"\xff\xff" * 3
    signed = _layout(4, True, "COMP")
    assert signed.decode(b"\x7f\xff\x80\x00\xff\xff") == {"A": 32767, "B": [-32768, -1]}
    assert signed.encode({"A": 32767, "B": [-32768, -1]}) == b"\x7f\xff\x80\x00\xff\xff"


def test_truncation_std_refuses_out_of_picture_values_both_ways() -> None:
    layout = _layout(4, True, "COMP", truncation="std")
    with pytest.raises(ValueRangeError) as info:
        layout.decode(b"\x00\x01\x7f\xff\x00\x02")
    assert (info.value.field_path, info.value.offset) == ("R.B[0]", 2)
    assert "32767" in str(info.value) and "4 digits" in str(info.value)
    lenient = _layout(4, True, "COMP", truncation="std", strict=False)
    assert lenient.decode(b"\x00\x01\x7f\xff\x00\x02") == {"A": 1, "B": [None, 2]}
    with pytest.raises(Exception, match="holds 4 digits"):
        layout.encode({"A": 1, "B": [10000, 2]})
    assert layout.decode(layout.encode({"A": -9999, "B": [9999, 0]})) == {"A": -9999, "B": [9999, 0]}
    # COMP-5 is bounded by its size whatever the truncation
    native = _layout(4, False, "COMP-5", truncation="std")
    assert native.decode(b"\xff\xff" * 3)["A"] == 65535


@settings(max_examples=300, deadline=None)
@given(size=st.sampled_from(SIZES), signed=st.booleans(), usage=st.sampled_from(USAGES),
       truncation=st.sampled_from(["bin", "std"]), scale=st.integers(0, 3), data=st.data())
def test_a_decoded_binary_record_encodes_back_to_its_bytes(size: tuple[int, int], signed: bool, usage: str,
                                                           truncation: str, scale: int, data: Any) -> None:
    digits, width = size
    scale = min(scale, digits - 1)
    layout = _layout(digits, signed, usage, scale, truncation=truncation)
    assert layout.record_length == 3 * width
    raw = data.draw(st.binary(min_size=3 * width, max_size=3 * width))
    try:
        record = layout.decode(raw)
    except ValueRangeError as exc:  # only TRUNC(STD) COMP refuses, and only beyond the PICTURE
        assert truncation == "std" and usage != "COMP-5"
        start = exc.offset or 0
        value = int.from_bytes(raw[start:start + width], "big", signed=signed)
        assert abs(value) >= 10 ** digits
        return
    assert layout.encode(record) == raw


# -- the real files -----------------------------------------------------------------------------

def _cobrix_adapter() -> Any:
    """The Cobrix test's own reading of the manifest (record framing, code pages, options)."""
    path = Path(__file__).with_name("test_cobrix_data.py")
    spec = importlib.util.spec_from_file_location("cobrix_adapter_for_binary_range", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


COBRIX = Path(os.environ.get("EIP_TESTDATA") or "/nonexistent") / "cobrix"


def _has_none(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_none(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_none(v) for v in value)
    return value is None


@pytest.mark.skipif(not (COBRIX / "MANIFEST.json").exists(), reason=f"Cobrix test data not found at {COBRIX}")
def test_real_records_with_binary_fields_encode_back() -> None:
    adapter = _cobrix_adapter()
    manifest = json.loads((COBRIX / "MANIFEST.json").read_text())
    checked = beyond_picture = 0
    for case in manifest["cases"]:
        for variant in case["variants"]:
            variant = {**variant, "folder": case["folder"]}
            layout = adapter.layout_for(variant, adapter.cobrix_code_page(variant["options"]["code_page"]))
            binaries = [f for f in layout.fields if f.kind in ("binary", "native") and not f.variable
                        and f.occurs is None and not _in_table(layout, f)]
            if not binaries:
                continue
            for number, data in enumerate(adapter.raw_records(variant, layout)):
                record = layout.decode(data, record_number=number)
                if _has_none(record):  # a field the lenient reader could not read: nothing to encode
                    continue
                encoded = layout.encode(record, record_number=number)
                assert layout.decode(encoded) == record
                for f in binaries:
                    assert encoded[f.offset:f.end] == data[f.offset:f.end], (variant["name"], number, f.path)
                    value = int.from_bytes(data[f.offset:f.end], "big", signed=f.signed)
                    beyond_picture += abs(value) >= 10 ** f.digits
                checked += 1
    assert checked >= 50
    assert beyond_picture > 0  # the files hold values their PICTUREs cannot: the case of the issue


def _in_table(layout: Any, f: Any) -> bool:
    return any(g.occurs is not None and f.path.startswith(g.path + ".") for g in layout.fields)

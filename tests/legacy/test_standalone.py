"""The legacy codecs import without the engine: a copybook reader needs no routing engine.

Each check runs in a fresh interpreter, since this test process has ``eip`` loaded already.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

DECODE = """
import sys
from decimal import Decimal
import {module}
from legacy import parse_copybook, RecordError, InvalidDigitError, FixedWidthLayout
layout = parse_copybook('       01 R.\\n           05 A PIC S9(3)V9 COMP-3.\\n')
assert layout.decode(layout.encode({{'A': Decimal('12.5')}})) == {{'A': Decimal('12.5')}}
try:
    layout.decode(b'\\x1a\\x23\\x4c')
except InvalidDigitError as exc:
    assert isinstance(exc, RecordError) and exc.offset is not None
else:
    raise SystemExit('a bad packed decimal was decoded')
assert FixedWidthLayout([('id', 3, 'int')]).decode('007') == {{'id': 7}}
engine = sorted(name for name in sys.modules if name == 'eip' or name.startswith('eip.'))
assert not engine, engine
"""


@pytest.mark.parametrize("module", ["legacy", "legacy.copybook", "legacy.fixed_width", "legacy.errors"])
def test_the_codec_imports_and_works_without_the_engine(module: str) -> None:
    result = subprocess.run([sys.executable, "-c", DECODE.format(module=module)], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_the_issue_s_one_liner() -> None:
    result = subprocess.run([sys.executable, "-c", "import legacy.copybook, sys; assert 'eip' not in sys.modules"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_the_route_helpers_load_the_engine_when_first_called() -> None:
    code = ("import sys, legacy\n"
            "assert 'eip' not in sys.modules\n"
            "fmt = legacy.copybook('       01 R.\\n           05 A PIC X(2).\\n')\n"
            "from eip.legacy_formats import CopybookDataFormat\n"
            "assert isinstance(fmt, CopybookDataFormat) and fmt.record_length == 2\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr

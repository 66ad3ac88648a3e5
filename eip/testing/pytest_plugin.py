"""pytest plugin (entry point ``pytest11``): an ``engine`` fixture started before and stopped after each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from eip.engine import Engine


@pytest.fixture
def engine() -> Iterator[Engine]:
    """A fresh engine; add routes then call ``engine.start()`` (it is stopped after the test).

    Starting is left to the test so that ``advice_with`` can weave routes first; an engine that
    is still stopped when the test body returns is simply discarded."""
    eng = Engine()
    try:
        yield eng
    finally:
        eng.stop()

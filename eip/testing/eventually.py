"""Polling with a deadline: ``eventually(predicate, timeout, what)`` for conditions that hold later.

For state that no event or ``Notifier`` reports (a file appears, a queue drains, a row changes)::

    eventually(lambda: (outbox / "1001.json").exists(), timeout=10, what="the priced order")
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

FIRST_INTERVAL = 0.001
"""Seconds before the second look; each later wait doubles, up to ``MAX_INTERVAL``."""
MAX_INTERVAL = 0.05


def eventually(predicate: Callable[[], T], timeout: float = 5.0, what: str = "condition") -> T:
    """Call ``predicate()`` until it returns a truthy value, and return that value.

    The first call is immediate; later calls follow at 1 ms, doubling to at most 50 ms apart,
    and one last call is made at the deadline. There is no sleep after a truthy value.
    Raises ``AssertionError`` naming ``what``, ``timeout`` and the last value ``predicate``
    returned when none was truthy within ``timeout`` seconds. An exception raised by
    ``predicate`` propagates at once (a predicate can raise to give up early)."""
    deadline = time.monotonic() + timeout
    interval = FIRST_INTERVAL
    while True:
        value = predicate()
        if value:
            return value
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"{what}: not within {timeout}s (last value: {value!r})")
        time.sleep(min(interval, remaining))
        interval = min(interval * 2, MAX_INTERVAL)

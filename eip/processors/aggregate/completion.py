"""Aggregator completion by time: per-group inactivity deadlines and the background checker.

Both are in memory. A crash loses the deadlines along with the (in-memory) groups; with a
durable repository the groups survive and the aggregator re-arms a full timeout for each of
them when its route starts again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable

log = logging.getLogger("eip.processors.aggregate")


class TimeoutMap:
    """Inactivity deadlines (``time.monotonic()`` seconds) of open groups.

    Not thread-safe: the aggregator guards it with its own lock. With one fixed timeout for
    every group (``ordered``), re-arming a key moves it to the end, so the map stays sorted by
    deadline and finding the expired groups only looks at those (plus one)."""

    __slots__ = ("_deadlines", "ordered")

    def __init__(self, ordered: bool) -> None:
        self._deadlines: dict[Hashable, float] = {}
        self.ordered = ordered

    def arm(self, key: Hashable, deadline: float) -> None:
        deadlines = self._deadlines
        deadlines.pop(key, None)
        deadlines[key] = deadline

    def disarm(self, key: Hashable) -> None:
        self._deadlines.pop(key, None)

    def expired(self, now: float) -> list[Hashable]:
        """Remove and return the keys whose deadline is at or before ``now``."""
        deadlines = self._deadlines
        keys = []
        for key, deadline in deadlines.items():
            if deadline <= now:
                keys.append(key)
            elif self.ordered:
                break
        for key in keys:
            del deadlines[key]
        return keys

    def clear(self) -> None:
        self._deadlines.clear()

    def __contains__(self, key: Hashable) -> bool:
        return key in self._deadlines

    def __len__(self) -> int:
        return len(self._deadlines)


class CompletionChecker:
    """A daemon thread calling ``tick()`` every ``period`` seconds, from route start to stop.

    ``tick`` runs the completed groups through the aggregator's steps on this thread; an
    exception escaping it is logged and the checker goes on."""

    def __init__(self, name: str, period: float, tick: Callable[[], None]) -> None:
        self.name = name
        self.period = period
        self.tick = tick
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(self._stopping,), name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop ticking; waits up to ``timeout`` s for a tick in progress to finish."""
        thread = self._thread
        self._stopping.set()
        self._thread = None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                log.warning("%s: still busy %.0f s after stop; leaving it to finish", self.name, timeout)

    def _run(self, stopping: threading.Event) -> None:
        while not stopping.wait(self.period):
            try:
                self.tick()
            except Exception:  # the checker must keep running
                log.exception("%s: completion check failed", self.name)

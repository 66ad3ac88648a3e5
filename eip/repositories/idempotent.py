"""Idempotent repositories: the set of message ids an idempotent consumer has already seen.

``MemoryIdempotentRepository`` keeps the most recently used ``max_size`` keys (Camel's default
is 1000) in process memory: it is lost on a crash or restart, and every engine process has its
own. Use an SQL repository when duplicates must be caught across restarts or processes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Protocol, runtime_checkable


@runtime_checkable
class IdempotentRepository(Protocol):
    """What an idempotent consumer needs from a store of seen keys.

    ``add`` must be atomic: of two concurrent ``add(k)`` calls exactly one returns True."""

    def add(self, key: Hashable) -> bool:
        """Record ``key``; False when it was already there (a duplicate)."""
        ...

    def contains(self, key: Hashable) -> bool: ...

    def remove(self, key: Hashable) -> bool:
        """Forget ``key`` (so a redelivery can pass); False when it was not there."""
        ...

    def confirm(self, key: Hashable) -> bool:
        """The exchange that added ``key`` completed (stores with a two-phase add commit here)."""
        ...

    def clear(self) -> None: ...


class MemoryIdempotentRepository:
    """A thread-safe LRU set of keys: when full, the least recently used key is forgotten.

    A duplicate ``add`` and a ``contains`` that finds the key count as a use (the key moves to
    the young end), so keys that keep arriving are the last to be evicted."""

    def __init__(self, max_size: int = 1000) -> None:
        if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 1:
            raise ValueError(f"MemoryIdempotentRepository max_size must be a positive integer, got {max_size!r}")
        self.max_size = max_size
        self._keys: OrderedDict[Hashable, None] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, key: Hashable) -> bool:
        with self._lock:
            if key in self._keys:
                self._keys.move_to_end(key)
                return False
            self._keys[key] = None
            if len(self._keys) > self.max_size:
                self._keys.popitem(last=False)
            return True

    def contains(self, key: Hashable) -> bool:
        with self._lock:
            if key in self._keys:
                self._keys.move_to_end(key)
                return True
            return False

    def remove(self, key: Hashable) -> bool:
        with self._lock:
            if key in self._keys:
                del self._keys[key]
                return True
            return False

    def confirm(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._keys

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._keys)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._keys

    def __repr__(self) -> str:
        return f"MemoryIdempotentRepository(size={len(self)}, max_size={self.max_size})"

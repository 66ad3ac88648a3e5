"""Claim-check repositories: where ``claim_check`` keeps message data between set and get.

``MemoryClaimCheckRepository`` holds the data in process memory: lost on a crash or restart.
By default each exchange gets its own (Camel's default: the repository lives on the exchange);
pass a repository to ``claim_check(..., repository=...)`` to share data between exchanges.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import Protocol, runtime_checkable

from eip.message import Message


@runtime_checkable
class ClaimCheckRepository(Protocol):
    """Keyed entries (``add``/``get``/``get_and_remove``) and named stacks (``push``/``pop``).

    Implementations store what they are given and hand back independent copies, so a later
    change to the live message does not change the stored one."""

    def add(self, key: Hashable, message: Message) -> bool:
        """Store ``message`` under ``key``; True when the key is new (an old entry is replaced)."""
        ...

    def get(self, key: Hashable) -> Message | None: ...

    def get_and_remove(self, key: Hashable) -> Message | None: ...

    def contains(self, key: Hashable) -> bool: ...

    def push(self, message: Message, stack: Hashable | None = None) -> None: ...

    def pop(self, stack: Hashable | None = None) -> Message | None:
        """The most recently pushed message of ``stack``, removed; None when it is empty."""
        ...

    def clear(self) -> None: ...


class MemoryClaimCheckRepository:
    """A thread-safe in-memory claim-check store (bodies are kept by reference, headers copied)."""

    def __init__(self) -> None:
        self._entries: dict[Hashable, Message] = {}
        self._stacks: dict[Hashable | None, list[Message]] = {}
        self._lock = threading.Lock()

    def add(self, key: Hashable, message: Message) -> bool:
        with self._lock:
            new = key not in self._entries
            self._entries[key] = message.copy()
            return new

    def get(self, key: Hashable) -> Message | None:
        with self._lock:
            message = self._entries.get(key)
        return None if message is None else message.copy()

    def get_and_remove(self, key: Hashable) -> Message | None:
        with self._lock:
            return self._entries.pop(key, None)

    def contains(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._entries

    def push(self, message: Message, stack: Hashable | None = None) -> None:
        with self._lock:
            self._stacks.setdefault(stack, []).append(message.copy())

    def pop(self, stack: Hashable | None = None) -> Message | None:
        with self._lock:
            entries = self._stacks.get(stack)
            if not entries:
                return None
            message = entries.pop()
            if not entries:
                del self._stacks[stack]
            return message

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._stacks.clear()

    def __len__(self) -> int:
        """Keyed entries plus stacked messages."""
        with self._lock:
            return len(self._entries) + sum(len(s) for s in self._stacks.values())

    def __repr__(self) -> str:
        return f"MemoryClaimCheckRepository(entries={len(self)})"

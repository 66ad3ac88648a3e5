"""Aggregation repositories: where the aggregator keeps its open groups between messages.

``MemoryAggregationRepository`` (the default) keeps them in a dict: fast, and **lost when the
process dies** (every open group, i.e. every message aggregated but not yet completed). A
durable repository (an SQL one plugs in through the same Protocol) is the alternative when
that loss is not acceptable.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from eip.exchange import Exchange


@runtime_checkable
class AggregationRepository(Protocol):
    """Storage of open aggregation groups, one aggregated exchange per correlation key.

    The aggregator serialises its own calls; a repository must still be safe to call from
    other threads (the completion checker, a management API). A durable repository stores
    what ``add`` gives it before returning, and keeps a completed exchange until ``confirm``
    (called once the completed exchange went through the aggregator's steps successfully), so
    that an exchange lost in a crash between completion and confirmation can be recovered."""

    def add(self, key: Hashable, exchange: Exchange) -> Exchange | None:
        """Store ``exchange`` as the group of ``key``; return the previous one (or None)."""
        ...

    def get(self, key: Hashable) -> Exchange | None:
        """The aggregated exchange of ``key``, or None when no group is open."""
        ...

    def remove(self, key: Hashable, exchange: Exchange) -> None:
        """Close the group of ``key`` (it completed as ``exchange``)."""
        ...

    def keys(self) -> set[Hashable]:
        """The keys of every open group (a snapshot)."""
        ...

    def confirm(self, exchange_id: str) -> None:
        """The completed exchange ``exchange_id`` was processed; forget it for good."""
        ...


class MemoryAggregationRepository:
    """Open groups in a dict guarded by ``lock``. Nothing survives a crash or a restart of
    the process; use a durable repository for that.

    ``lock`` and ``groups`` are shared with the aggregator that owns this repository, so that
    one aggregation costs one lock acquisition: code holding ``lock`` may use ``groups``
    directly; everyone else uses the methods."""

    __slots__ = ("groups", "lock")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.groups: dict[Hashable, Exchange] = {}

    def add(self, key: Hashable, exchange: Exchange) -> Exchange | None:
        with self.lock:
            old = self.groups.get(key)
            self.groups[key] = exchange
            return old

    def get(self, key: Hashable) -> Exchange | None:
        with self.lock:
            return self.groups.get(key)

    def remove(self, key: Hashable, exchange: Exchange) -> None:
        with self.lock:
            self.groups.pop(key, None)

    def keys(self) -> set[Hashable]:
        with self.lock:
            return set(self.groups)

    def confirm(self, exchange_id: str) -> None:
        """Nothing to do: a completed group is gone from memory as soon as it is removed."""

    def __len__(self) -> int:
        with self.lock:
            return len(self.groups)

    def __repr__(self) -> str:
        return f"MemoryAggregationRepository({len(self)} open group(s))"

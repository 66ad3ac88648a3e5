"""Definitions of the steps that talk to endpoints: to, to_d, wire_tap, enrich, poll_enrich."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eip.model.base import Node


@dataclass(frozen=True, kw_only=True, eq=False)
class From(Node):
    """The route's input endpoint."""

    uri: str

    def describe(self) -> str:
        return f"from {self.uri}"


@dataclass(frozen=True, kw_only=True, eq=False)
class To(Node):
    """Send to a static endpoint (``pattern`` overrides the exchange pattern for this send)."""

    uri: str
    pattern: Any = None

    def describe(self) -> str:
        return f"to {self.uri}"


@dataclass(frozen=True, kw_only=True, eq=False)
class ToD(Node):
    """Send to an endpoint whose URI is computed per exchange (``${header.x}`` template or expression)."""

    uri: Any
    pattern: Any = None
    cache_size: int | None = None  # producers kept (None: 1000; -1: none), as Camel's cacheSize

    def describe(self) -> str:
        return f"to_d {self.uri}"


@dataclass(frozen=True, kw_only=True, eq=False)
class WireTap(Node):
    """Send a copy to an endpoint asynchronously; the original continues at once."""

    uri: Any
    copy: bool = True

    def describe(self) -> str:
        return f"wire_tap {self.uri}"


@dataclass(frozen=True, kw_only=True, eq=False)
class Enrich(Node):
    """Request-reply to a resource endpoint; a strategy merges the reply (default: reply wins)."""

    uri: Any
    strategy: Any = None
    aggregate_on_exception: bool = False
    cache_size: int | None = None  # for a dynamic URI: producers kept (None: 1000; -1: none)

    def describe(self) -> str:
        return f"enrich {self.uri}"


@dataclass(frozen=True, kw_only=True, eq=False)
class PollEnrich(Node):
    """Poll one message from a consuming endpoint and merge it (``timeout`` None waits forever)."""

    uri: Any
    strategy: Any = None
    timeout: float | None = None
    cache_size: int | None = None  # for a dynamic URI: endpoints kept (None: 1000; -1: none)

    def describe(self) -> str:
        return f"poll_enrich {self.uri}"

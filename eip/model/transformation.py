"""Definitions of message-translator steps and other leaf steps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eip.model.base import Node


@dataclass(frozen=True, kw_only=True, eq=False)
class Process(Node):
    """Run a processor (an object with ``process(exchange)`` or a callable ``fn(exchange)``)."""

    processor: Any


@dataclass(frozen=True, kw_only=True, eq=False)
class Bean(Node):
    """Call ``method`` of ``bean`` with the body; a non-None result becomes the body."""

    bean: Any
    method: str | None = None


@dataclass(frozen=True, kw_only=True, eq=False)
class SetBody(Node):
    expression: Any


@dataclass(frozen=True, kw_only=True, eq=False)
class Transform(Node):
    expression: Any


@dataclass(frozen=True, kw_only=True, eq=False)
class SetHeader(Node):
    name: str
    expression: Any


@dataclass(frozen=True, kw_only=True, eq=False)
class SetProperty(Node):
    name: str
    expression: Any


@dataclass(frozen=True, kw_only=True, eq=False)
class RemoveHeader(Node):
    name: str


@dataclass(frozen=True, kw_only=True, eq=False)
class RemoveHeaders(Node):
    """Remove every header whose name matches the glob ``pattern`` (minus ``exclude`` names)."""

    pattern: str
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True, eq=False)
class ConvertBodyTo(Node):
    type: Any
    charset: str = "utf-8"


@dataclass(frozen=True, kw_only=True, eq=False)
class Marshal(Node):
    data_format: Any


@dataclass(frozen=True, kw_only=True, eq=False)
class Unmarshal(Node):
    data_format: Any


@dataclass(frozen=True, kw_only=True, eq=False)
class Log(Node):
    """Log a message rendered from a ``${...}`` template (once per exchange: not for hot paths)."""

    message: str
    level: str = "INFO"
    logger_name: str | None = None


@dataclass(frozen=True, kw_only=True, eq=False)
class Stop(Node):
    """Stop routing this exchange; it counts as completed."""


@dataclass(frozen=True, kw_only=True, eq=False)
class Validate(Node):
    """Fail with ValidationError when the predicate is false.

    ``message``: the error's text, a ``${...}`` template or an expression of the exchange; None
    names the node and route instead."""

    predicate: Any
    message: Any = None


@dataclass(frozen=True, kw_only=True, eq=False)
class Delay(Node):
    """Wait ``delay`` seconds (a number or an expression) before going on."""

    delay: Any


@dataclass(frozen=True, kw_only=True, eq=False)
class Throttle(Node):
    """Let at most ``maximum_requests`` exchanges per ``time_period`` seconds pass (per key)."""

    maximum_requests: Any
    time_period: float = 1.0
    correlation: Any = None
    reject_execution: bool = False


@dataclass(frozen=True, kw_only=True, eq=False)
class Sample(Node):
    """Let one exchange per ``period`` seconds (or one in ``message_frequency``) pass; stop the rest."""

    period: float | None = 1.0
    message_frequency: int | None = None


@dataclass(frozen=True, kw_only=True, eq=False)
class RecipientList(Node):
    """Send a copy to each URI the expression gives (a list or a ``delimiter``-separated text)."""

    expression: Any
    delimiter: str = ","
    strategy: Any = None
    parallel: bool = False
    stop_on_exception: bool = False
    ignore_invalid_endpoints: bool = False
    timeout: float | None = None
    cache_size: int | None = None  # producers kept (None: 1000; -1: none), as Camel's cacheSize


@dataclass(frozen=True, kw_only=True, eq=False)
class RoutingSlip(Node):
    """Send through the URIs the expression gives, in order, as a pipeline (evaluated once)."""

    expression: Any
    delimiter: str = ","
    ignore_invalid_endpoints: bool = False
    cache_size: int | None = None  # producers kept (None: 1000; -1: none), as Camel's cacheSize


@dataclass(frozen=True, kw_only=True, eq=False)
class DynamicRouter(Node):
    """Send to the URI(s) the expression gives, re-evaluated after every hop until it gives None."""

    expression: Any
    delimiter: str = ","
    ignore_invalid_endpoints: bool = False
    max_hops: int = 1000
    cache_size: int | None = None  # producers kept (None: 1000; -1: none), as Camel's cacheSize


@dataclass(frozen=True, kw_only=True, eq=False)
class ClaimCheck(Node):
    """Store (``set``/``push``) or restore (``get``/``get_and_remove``/``pop``) the message by key."""

    operation: str
    key: Any = None
    repository: Any = None


@dataclass(frozen=True, kw_only=True, eq=False)
class Rollback(Node):
    """Fail the exchange and mark it rollback-only."""

    message: str = "rollback"

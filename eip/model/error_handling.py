"""Definitions of error handling: redelivery policy, error handlers, on_exception, do_try."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eip.model.base import Block, Node


@dataclass(frozen=True)
class RedeliveryPolicy:
    """How often and how fast to retry the failing node (Camel's defaults)."""

    maximum_redeliveries: int = 0
    redelivery_delay: float = 1.0
    backoff_multiplier: float = 2.0
    use_exponential_backoff: bool = False
    maximum_redelivery_delay: float = 60.0

    def delay_for(self, attempt: int) -> float:
        """Seconds to wait before redelivery number ``attempt`` (1-based)."""
        delay = self.redelivery_delay
        if self.use_exponential_backoff and attempt > 1:
            delay = delay * (self.backoff_multiplier ** (attempt - 1))
        return min(delay, self.maximum_redelivery_delay)

    def allows(self, attempt: int) -> bool:
        return self.maximum_redeliveries < 0 or attempt <= self.maximum_redeliveries


@dataclass(frozen=True)
class DefaultErrorHandler:
    """No redelivery by default; log; the exchange fails and the source keeps the message."""

    policy: RedeliveryPolicy = RedeliveryPolicy()


@dataclass(frozen=True)
class DeadLetterChannel:
    """After redelivery is exhausted the exchange goes to ``uri`` and counts as handled."""

    uri: str
    policy: RedeliveryPolicy = RedeliveryPolicy()
    use_original_message: bool = False


@dataclass(frozen=True, kw_only=True, eq=False)
class OnException(Block):
    exceptions: tuple[type[BaseException], ...]
    handled: Any = False
    continued: Any = False
    policy: RedeliveryPolicy | None = None
    use_original_message: bool = False
    on_when: Any = None
    retry_while: Any = None

    def describe(self) -> str:
        return "on_exception " + ", ".join(e.__name__ for e in self.exceptions)


@dataclass(frozen=True, kw_only=True, eq=False)
class DoCatch(Block):
    exceptions: tuple[type[BaseException], ...]
    on_when: Any = None


@dataclass(frozen=True, kw_only=True, eq=False)
class DoFinally(Block):
    pass


@dataclass(frozen=True, kw_only=True, eq=False)
class DoTry(Block):
    catches: tuple[DoCatch, ...] = ()
    finally_: DoFinally | None = None

    def children(self) -> tuple[tuple[str, tuple[Node, ...]], ...]:
        result: tuple[tuple[str, tuple[Node, ...]], ...] = (("steps", self.steps),)
        for catch in self.catches:
            result += ((f"catch {', '.join(e.__name__ for e in catch.exceptions)}", catch.steps),)
        if self.finally_ is not None:
            result += (("finally", self.finally_.steps),)
        return result


POLICY_FIELDS = (
    "maximum_redeliveries",
    "redelivery_delay",
    "backoff_multiplier",
    "use_exponential_backoff",
    "maximum_redelivery_delay",
)


def redelivery_policy(options: dict[str, Any], what: str) -> RedeliveryPolicy:
    """The one parser of redelivery options (error handler factories and ``on_exception``): only
    ``POLICY_FIELDS``, delays as seconds or duration texts; a ConfigurationError naming ``what``."""
    from eip.errors import ConfigurationError
    from eip.options import first_unknown, parse_duration

    problem = first_unknown(what, options, POLICY_FIELDS)
    if problem:
        raise ConfigurationError(problem)
    values = dict(options)
    for key in ("redelivery_delay", "maximum_redelivery_delay"):
        if key in values:
            try:
                values[key] = parse_duration(values[key])
            except ValueError as exc:
                raise ConfigurationError(f"{what}() {key}: {exc}") from None
    return RedeliveryPolicy(**values)


def dead_letter_channel(uri: str, *, use_original_message: bool = False, **policy: Any) -> DeadLetterChannel:
    """After ``maximum_redeliveries`` retries of the failing node, send to ``uri``; handled."""
    return DeadLetterChannel(
        uri=uri, policy=redelivery_policy(policy, "dead_letter_channel"), use_original_message=use_original_message
    )


def default_error_handler(**policy: Any) -> DefaultErrorHandler:
    """Retry the failing node per ``policy`` (none by default), then fail the exchange."""
    return DefaultErrorHandler(policy=redelivery_policy(policy, "default_error_handler"))

"""Scheduled polling consumer: the shared base of polling endpoints (file, sql, ...).

Camel's ``ScheduledPollConsumer``: one thread waits ``initial_delay``, then calls ``poll()``
every ``delay`` seconds (measured from the end of the previous poll). A subclass implements
``poll() -> int``: fetch up to ``max_messages_per_poll`` messages (0 = no limit), hand each to
``self.processor`` as an exchange from ``self.create_exchange()``, and return how many it
processed. Between messages it should stop early when ``self.is_run_allowed()`` is False.

* ``greedy``: poll again at once when the last poll found messages.
* Back-off: with ``backoff_multiplier`` N, after ``backoff_idle_threshold`` polls in a row found
  nothing, or ``backoff_error_threshold`` polls in a row raised, the next N scheduled polls are
  skipped; then the counters start again (exactly as Camel counts them).
* ``send_empty_message_when_idle``: a poll that found nothing sends one exchange with an empty
  body through the route.
* An exception from ``poll()`` is logged once per streak of failing polls (a warning with the
  traceback, then a note when polling recovers) and the consumer keeps running; ``last_error``
  and ``consecutive_errors`` expose the state to health checks.
* ``stop()`` wakes the thread at once; a poll in progress finishes its current message.

A polling endpoint declares ``options = OptionSpec(POLLING_OPTIONS + (...its own...))`` and calls
``validate_polling_options(self)`` from ``validate()`` (or subclasses ``ScheduledPollEndpoint``).
What a crash loses depends on the source: nothing is queued here.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from eip.component import Consumer, Endpoint
from eip.errors import EndpointOptionError
from eip.options import Option

if TYPE_CHECKING:
    from eip.component import Processor

log = logging.getLogger("eip.polling")

POLLING_OPTIONS: tuple[Option, ...] = (
    Option("delay", "duration", 0.5, "Time between the end of one poll and the start of the next."),
    Option("initial_delay", "duration", 1.0, "Time before the first poll."),
    Option("max_messages_per_poll", "int", 0, "Most messages one poll takes; 0 means no limit."),
    Option("greedy", "bool", False, "Poll again at once when the previous poll found messages."),
    Option(
        "backoff_multiplier",
        "int",
        0,
        "Skip this many polls after the idle or error threshold is reached; 0 disables back-off.",
    ),
    Option("backoff_idle_threshold", "int", 0, "Polls in a row that found nothing before backing off."),
    Option("backoff_error_threshold", "int", 0, "Polls in a row that failed before backing off."),
    Option(
        "send_empty_message_when_idle",
        "bool",
        False,
        "When a poll finds nothing, send one exchange with an empty body through the route.",
    ),
)


def validate_polling_options(endpoint: Endpoint) -> None:
    """Check the polling options of ``endpoint``; raises EndpointOptionError."""
    values = endpoint.values
    for name in (
        "delay",
        "initial_delay",
        "max_messages_per_poll",
        "backoff_multiplier",
        "backoff_idle_threshold",
        "backoff_error_threshold",
    ):
        if values[name] < 0:
            raise EndpointOptionError(f"endpoint '{endpoint.uri}': {name} must not be negative, got {values[name]}")
    if values["backoff_multiplier"] > 0 and not (
        values["backoff_idle_threshold"] > 0 or values["backoff_error_threshold"] > 0
    ):
        raise EndpointOptionError(
            f"endpoint '{endpoint.uri}': backoff_multiplier needs "
            "backoff_idle_threshold and/or backoff_error_threshold above 0"
        )


class ScheduledPollEndpoint(Endpoint):
    """An endpoint whose consumer polls; its ``options`` must include ``POLLING_OPTIONS``."""

    def validate(self) -> None:
        validate_polling_options(self)


class ScheduledPollingConsumer(Consumer):
    """One thread polling on a schedule; subclasses implement ``poll()`` (see the module doc)."""

    def __init__(self, endpoint: Endpoint, processor: Processor) -> None:
        super().__init__(endpoint, processor)
        values = endpoint.values
        self.delay: float = values["delay"]
        self.initial_delay: float = values["initial_delay"]
        self.max_messages_per_poll: int = values["max_messages_per_poll"]
        self.greedy: bool = values["greedy"]
        self.backoff_multiplier: int = values["backoff_multiplier"]
        self.backoff_idle_threshold: int = values["backoff_idle_threshold"]
        self.backoff_error_threshold: int = values["backoff_error_threshold"]
        self.send_empty_message_when_idle: bool = values["send_empty_message_when_idle"]
        self.idle_counter = 0
        self.error_counter = 0
        self.backoff_counter = 0
        self.polls = 0
        self.last_error: BaseException | None = None
        self.thread: threading.Thread | None = None
        self._stop_event: threading.Event | None = None
        self._own = threading.local()  # each poll thread's own stop event (see is_run_allowed)

    # -- to implement ---------------------------------------------------------------------------
    def poll(self) -> int:
        """Fetch and process messages; return how many were processed. May raise."""
        raise NotImplementedError

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        if self._stop_event is not None and not self._stop_event.is_set():
            return
        stop_event = threading.Event()
        self._stop_event = stop_event
        self.thread = threading.Thread(
            target=self._run, args=(stop_event,), daemon=True, name=f"eip-poll-{self.endpoint.key}"
        )
        self.thread.start()

    def stop(self) -> None:
        if self._stop_event is not None:
            self._stop_event.set()

    def is_run_allowed(self) -> bool:
        """False once ``stop()`` was called: a poll should stop taking messages (True before
        ``start()``, as Camel's ``isRunAllowed``, so ``run_once()`` works without the thread).
        A poll thread asks its own stop event: after a quick stop and start, a poll still running
        on the old thread stops taking messages instead of taking them beside the new thread."""
        event = getattr(self._own, "stop_event", None) or self._stop_event
        return event is None or not event.is_set()

    @property
    def consecutive_errors(self) -> int:
        return self.error_counter

    # -- scheduling -----------------------------------------------------------------------------
    def _run(self, stop_event: threading.Event) -> None:
        self._own.stop_event = stop_event
        if stop_event.wait(self.initial_delay):
            return
        while not stop_event.is_set():
            polled = self.run_once()
            if stop_event.is_set():
                return
            if self.greedy and polled:
                continue
            if stop_event.wait(self.delay):
                return

    def run_once(self) -> int | None:
        """One scheduled run: poll unless backing off. Returns the messages polled, or None
        when the run was skipped for back-off. Never raises."""
        if self._backing_off():
            return None
        try:
            polled = self.poll()
        except Exception as exc:  # noqa: BLE001 - a failing poll must not kill the consumer
            self._poll_failed(exc)
            return 0
        self.polls += 1
        if self.error_counter:
            log.info("%s: polling recovered after %d failed poll(s)", self.endpoint.uri, self.error_counter)
        self.error_counter = 0
        self.last_error = None
        polled = int(polled or 0)
        if polled:
            self.idle_counter = 0
        else:
            self.idle_counter += 1
            if self.send_empty_message_when_idle:
                self.processor.process(self.create_exchange())
        return polled

    def _backing_off(self) -> bool:
        # Camel's ScheduledPollConsumer.run(): a threshold that is not set never triggers.
        if self.backoff_multiplier <= 0:
            return False
        idle_hit = self.backoff_idle_threshold > 0 and self.idle_counter >= self.backoff_idle_threshold
        error_hit = self.backoff_error_threshold > 0 and self.error_counter >= self.backoff_error_threshold
        if not (idle_hit or error_hit):
            return False
        self.backoff_counter += 1
        if self.backoff_counter <= self.backoff_multiplier:
            return True
        self.idle_counter = self.error_counter = self.backoff_counter = 0
        return False

    def _poll_failed(self, exc: Exception) -> None:
        self.polls += 1
        self.idle_counter = 0
        self.error_counter += 1
        self.last_error = exc
        if self.error_counter == 1:
            log.warning(
                "%s: poll failed: %s: %s (logged once until a poll succeeds; will retry every %ss)",
                self.endpoint.uri,
                type(exc).__name__,
                exc,
                self.delay,
                exc_info=exc,
            )
        else:
            log.debug("%s: poll failed again (%d in a row): %s", self.endpoint.uri, self.error_counter, exc)

    def describe_state(self) -> dict[str, Any]:
        """Health information: polls so far, the current error streak and its last error."""
        return {
            "polls": self.polls,
            "consecutive_errors": self.error_counter,
            "last_error": None if self.last_error is None else repr(self.last_error),
            "backing_off": self.backoff_counter > 0,
        }

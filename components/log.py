"""``log:CATEGORY``: log each exchange (or throughput every ``group_size`` exchanges)."""

from __future__ import annotations

import logging
import threading
import time

from eip.component import Component, Endpoint, Producer
from eip.exchange import Exchange
from eip.options import Option, OptionSpec
from eip.secrets import mask_mapping


class LogProducer(Producer):
    endpoint: LogEndpoint

    def __init__(self, endpoint: LogEndpoint) -> None:
        super().__init__(endpoint)
        values = endpoint.values
        self.logger = logging.getLogger(endpoint.parsed.path or "eip.log")
        self.level = logging.getLevelName(values["level"].upper())
        self.show_body = values["show_body"]
        self.show_headers = values["show_headers"]
        self.group_size = values["group_size"]
        self.max_chars = values["max_chars"]
        self._count = 0
        self._group_started = time.monotonic()
        self._lock = threading.Lock()

    def process(self, exchange: Exchange) -> None:
        if not self.logger.isEnabledFor(self.level):
            return
        if self.group_size:
            with self._lock:
                self._count += 1
                if self._count % self.group_size:
                    return
                now = time.monotonic()
                elapsed, self._group_started = now - self._group_started, now
            rate = self.group_size / elapsed if elapsed > 0 else float("inf")
            self.logger.log(
                self.level,
                "received %d exchanges (last %d in %.3fs, %.1f/s)",
                self._count,
                self.group_size,
                elapsed,
                rate,
            )
            return
        parts = [f"Exchange[{exchange.exchange_id}]"]
        if self.show_headers:
            parts.append(f"headers={mask_mapping(dict(exchange.message.headers.items()))!r}")
        if self.show_body:
            text = repr(exchange.message.body)
            if len(text) > self.max_chars:
                text = text[: self.max_chars] + "...[truncated]"
            parts.append(f"body={text}")
        self.logger.log(self.level, "%s", " ".join(parts))


class LogEndpoint(Endpoint):
    supports_consumer = False
    options = OptionSpec(
        (
            Option(
                "level",
                "str",
                "INFO",
                "Log level.",
                choices=("DEBUG", "INFO", "WARNING", "ERROR", "debug", "info", "warning", "error"),
            ),
            Option("show_body", "bool", True, "Include the body."),
            Option("show_headers", "bool", False, "Include the headers."),
            Option("group_size", "int", 0, "Log throughput once every N exchanges instead of each exchange."),
            Option("max_chars", "int", 1000, "Truncate the body text after this many characters."),
        )
    )

    def create_producer(self) -> Producer:
        return LogProducer(self)


class LogComponent(Component):
    """log:CATEGORY - log exchanges to the Python logger CATEGORY."""

    endpoint_class = LogEndpoint

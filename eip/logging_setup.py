"""How ``eip run`` reports: one line per log record, secrets masked, and progress on a terminal.

Formats (``--log-format``, config ``logging.format``, ``EIP_LOGGING_FORMAT``):

* ``text``: ``15:04:05 INFO    eip.cli: route 'orders' started: ...``, for a person;
* ``logfmt``: ``time=2026-11-27T15:04:05.123Z level=info logger=eip.cli msg="route ..."``, one
  line per record (an exception's traceback goes into ``error="..."`` with ``\\n`` escapes),
  readable by Loki, Vector, Datadog, ``grep`` and people alike;
* ``json``: the same fields as one JSON object per line;
* ``auto`` (the default): ``text`` when the stream is a terminal, else ``logfmt``.

Fields given with ``extra={...}`` are added as ``key=value`` pairs (JSON members).

Every line goes through ``mask`` (``eip.secrets.Masker``): the configuration's secrets
(``eip.config.Config.secrets``, those of at least ``MIN_MASKED_LENGTH`` characters) become
``xxxxxx``, as do passwords in ``scheme://user:password@host`` URLs (up to the last ``@``),
secret URI options (``?api-key=...``, the name rule of ``eip.secrets``) and ``extra`` fields with
a secret name. Masking happens in the formatter, so it also covers exception messages and
tracebacks.

Control characters never reach the output raw, whatever a request put into a message or field:
C0 (NUL, ESC, CR, LF, TAB...), DEL, C1 and U+2028/U+2029 are written as ``\\x1b``, ``\\x00``,
``\\n``, ``\\u2028`` in every format (JSON: ``\\u001b``...); only a traceback keeps its line
breaks in the text format.

pika logs every connection step at INFO; under ``eip run`` its logger shows WARNING and up only
(everything with ``--log-level DEBUG``).

Progress: ``ProgressReporter`` is an engine service that, once a second, logs one line
(logger ``eip.progress``) with each busy route's exchanges done, the rate since the last line,
failures and exchanges in flight. ``eip run`` adds it only when stderr is a terminal (or with
``--progress``); it reads the routes' statistics instead of listening to every exchange, so it
costs nothing per message. A large file split inside one route shows as that route's in-flight
exchange; its records count where they enter another route (``split(...).to("seda:lines")``).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import IO, Any

from eip.secrets import MASK, Masker, is_secret_name

FORMATS = ("auto", "text", "logfmt", "json")
PROGRESS_LOGGER = "eip.progress"
_log = logging.getLogger(PROGRESS_LOGGER)

_STANDARD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
#: Libraries whose INFO lines are chatter (pika logs every connection step): WARNING and up only,
#: unless the level asked for is DEBUG.
QUIET_LOGGERS = ("pika",)
#: Control characters a request may smuggle into a log line: C0 (NUL, ESC, CR, LF...), DEL, C1
#: and the Unicode line and paragraph separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_LOGFMT_QUOTE = re.compile(r"[\s\"=\\\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

#: Masks free text: the configuration's secrets, URL passwords and secret URI options.
SecretMasker = Masker


def _escape_control(match: re.Match[str]) -> str:
    char = match.group(0)
    named = _NAMED_ESCAPES.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_control(text: str, keep_newlines: bool = False) -> str:
    """``text`` with every control character written as an escape (``\\x1b``, ``\\x00``,
    ``\\n``, ``\\u2028``), so no input can forge a log line or drive a terminal. With
    ``keep_newlines``, ``\\n`` stays a line break (a traceback's lines)."""
    if not _CONTROL.search(text):
        return text
    if keep_newlines:
        return "\n".join(_CONTROL.sub(_escape_control, line) for line in text.split("\n"))
    return _CONTROL.sub(_escape_control, text)


class _Formatter(logging.Formatter):
    def __init__(self, mask: Callable[[str], str]) -> None:
        super().__init__()
        self.mask = mask

    def fields(self, record: logging.LogRecord) -> dict[str, Any]:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        for key, value in record.__dict__.items():
            if key in _STANDARD_ATTRS or key.startswith("_"):
                continue
            if is_secret_name(key) and value is not None:
                data[key] = MASK
            else:
                data[key] = value if isinstance(value, (int, float, bool)) or value is None else self.mask(str(value))
        data["msg"] = self.mask(record.getMessage())
        error = self.error_text(record)
        if error:
            data["error"] = self.mask(error)
        return data

    def error_text(self, record: logging.LogRecord) -> str:
        parts = []
        if record.exc_info:
            parts.append(self.formatException(record.exc_info))
        elif record.exc_text:
            parts.append(record.exc_text)
        if record.stack_info:
            parts.append(self.formatStack(record.stack_info))
        return "\n".join(parts)


class TextFormatter(_Formatter):
    """``15:04:05 INFO    eip.cli: message`` (traceback on the following lines)."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        line = escape_control(self.mask(f"{stamp} {record.levelname:<7} {record.name}: {record.getMessage()}"))
        error = self.error_text(record)
        return f"{line}\n{escape_control(self.mask(error), keep_newlines=True)}" if error else line


class LogfmtFormatter(_Formatter):
    """``time=... level=info logger=eip.cli msg="..."``: one line per record."""

    def format(self, record: logging.LogRecord) -> str:
        return " ".join(f"{_logfmt_key(k)}={_logfmt_value(v)}" for k, v in self.fields(record).items())


class JsonFormatter(_Formatter):
    """One JSON object per line: time, level, logger, extra fields, msg, error."""

    def format(self, record: logging.LogRecord) -> str:
        # json escapes C0 itself; DEL, C1 and U+2028/2029 would pass raw (and split lines for
        # readers that honour them), so they become \\u escapes too, still inside their strings.
        text = json.dumps(self.fields(record), ensure_ascii=False, default=str)
        return _CONTROL.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


_FORMATTERS = {"text": TextFormatter, "logfmt": LogfmtFormatter, "json": JsonFormatter}


def _logfmt_key(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", key) or "_"


def _logfmt_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text and not _LOGFMT_QUOTE.search(text):
        return text
    return '"' + escape_control(text.replace("\\", "\\\\").replace('"', '\\"')) + '"'


def is_terminal(stream: Any) -> bool:
    """True when ``stream`` is an interactive terminal."""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (ValueError, OSError):  # closed or detached stream
        return False


def resolve_format(fmt: str, stream: Any) -> str:
    """``text``, ``logfmt`` or ``json``; ``auto`` picks text on a terminal, else logfmt."""
    fmt = (fmt or "auto").lower()
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if fmt == "auto":
        return "text" if is_terminal(stream) else "logfmt"
    return fmt


def configure_logging(
    level: str = "INFO", fmt: str = "auto", *, stream: IO[str] | None = None, secrets: Iterable[str] = ()
) -> logging.Handler:
    """Send every log record to ``stream`` (default stderr) in format ``fmt``, secrets masked.

    Replaces the root logger's handlers (like ``basicConfig(force=True)``): this is for the
    process ``eip run`` owns, not for a library. The ``QUIET_LOGGERS`` (pika) log WARNING and
    up only, unless ``level`` is DEBUG. Returns the handler."""
    stream = sys.stderr if stream is None else stream
    handler = logging.StreamHandler(stream)
    handler.setFormatter(_FORMATTERS[resolve_format(fmt, stream)](SecretMasker(secrets)))
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper()))
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if level.upper() == "DEBUG" else logging.WARNING)
    return handler


class ProgressReporter:
    """Engine service: about once a second, one line with each busy route's progress.

    ``order-intake 12,340 done (1,230/s), 5 failed, 2 in flight | order-totals 1,234 done ...``.
    Routes with nothing new are left out, at most ``max_routes`` are shown (busiest first), and
    nothing is printed while the engine is idle. At stop, one summary line per route that did
    anything. Reads ``engine.route_stats`` (counters the routes keep anyway): no per-exchange cost.
    """

    def __init__(
        self,
        engine: Any,
        interval: float = 1.0,
        *,
        max_routes: int = 4,
        emit: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.interval = interval
        self.max_routes = max_routes
        self.clock = clock
        self._emit = emit or logging.getLogger(PROGRESS_LOGGER).info
        self._last: dict[str, int] = {}
        self._first: dict[str, int] = {}
        self._last_at: float | None = None
        self._started_at: float | None = None
        self._last_line = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._started_at = self._last_at = self.clock()
        self._last = {rid: self._counts(rid)[0] for rid in self.engine.route_ids()}
        self._first = dict(self._last)
        self._thread = threading.Thread(target=self._run, name="eip-progress", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        thread.join(timeout=5)
        for line in self.summary():
            self._emit(line)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                line = self.tick()
            except Exception:  # noqa: BLE001 - progress must never take the engine down
                _log.debug("progress failed", exc_info=True)
                continue
            if line:
                self._emit(line)

    def _counts(self, route_id: str) -> tuple[int, int, int]:
        stats = self.engine.route_stats(route_id)
        return (
            int(stats.get("exchanges_total", 0)),
            int(stats.get("exchanges_failed", 0)),
            int(stats.get("exchanges_in_flight", 0)),
        )

    def tick(self) -> str | None:
        """The progress line for now (None when nothing changed); also what ``start`` schedules."""
        now = self.clock()
        elapsed = max(now - (self._last_at if self._last_at is not None else now), 1e-9)
        self._last_at = now
        busy: list[tuple[int, str]] = []
        for route_id in self.engine.route_ids():
            try:
                total, failed, inflight = self._counts(route_id)
            except Exception:  # noqa: BLE001 - a route removed meanwhile
                _log.debug("no statistics for route '%s'", route_id, exc_info=True)
                continue
            delta = total - self._last.get(route_id, 0)
            self._last[route_id] = total
            self._first.setdefault(route_id, total - delta)
            if delta <= 0 and inflight == 0:
                continue
            part = f"{route_id} {total:,} done ({delta / elapsed:,.0f}/s)"
            if failed:
                part += f", {failed:,} failed"
            if inflight:
                part += f", {inflight:,} in flight"
            busy.append((delta, part))
        if not busy:
            self._last_line = ""
            return None
        busy.sort(key=lambda item: -item[0])
        parts = [part for _, part in busy[: self.max_routes]]
        if len(busy) > self.max_routes:
            parts.append(f"+{len(busy) - self.max_routes} more route(s)")
        line = " | ".join(parts)
        if all(delta <= 0 for delta, _ in busy) and line == self._last_line:
            return None  # only in-flight exchanges, nothing new: say it once
        self._last_line = line
        return line

    def summary(self) -> list[str]:
        """One line per route that processed anything since ``start``: count, failures, rate."""
        if self._started_at is None:
            return []
        seconds = max(self.clock() - self._started_at, 1e-9)
        lines = []
        for route_id in self.engine.route_ids():
            try:
                total, failed, _ = self._counts(route_id)
            except Exception:  # noqa: BLE001 - a route removed meanwhile
                _log.debug("no statistics for route '%s'", route_id, exc_info=True)
                continue
            done = total - self._first.get(route_id, 0)
            if done > 0:
                lines.append(
                    f"{route_id}: {done:,} exchange(s) in {seconds:.1f} s ({done / seconds:,.0f}/s), {failed:,} failed"
                )
        return lines

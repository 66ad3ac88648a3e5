"""Typed setting checkers: text, port, counts, sizes, durations, log level and format (ValueError with a reason)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from eip.options import parse_duration

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("auto", "text", "logfmt", "json")

_SIZE = re.compile(r"^\s*(\d+)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "k": 1024,
    "kb": 1024,
    "kib": 1024,
    "m": 1024**2,
    "mb": 1024**2,
    "mib": 1024**2,
    "g": 1024**3,
    "gb": 1024**3,
    "gib": 1024**3,
}


def parse_size(value: Any) -> int:
    """Bytes from ``1048576``, ``512KB``, ``10MB``, ``1GB`` (1024-based)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _SIZE.match(str(value))
    if not match:
        raise ValueError(f"not a size: {value!r} (use bytes, or a suffix: 512KB, 10MB, 1GB)")
    return int(match.group(1)) * _SIZE_UNITS[(match.group(2) or "").lower()]


def text(value: Any) -> str:
    if isinstance(value, (dict, list)) or value is None:
        raise TypeError("expects a text")
    return str(value)


def port(value: Any) -> int:
    number = integer(value)
    if not 0 <= number <= 65535:
        raise ValueError("expects a port number from 0 to 65535 (0 picks a free port)")
    return number


def at_least_one(noun: str) -> Callable[[Any], int]:
    """A checker for a whole number of ``noun`` (e.g. threads, connections), at least 1."""

    def check(value: Any) -> int:
        number = integer(value)
        if number < 1:
            raise ValueError(f"expects at least 1 {noun}")
        return number

    return check


def size(value: Any) -> int:
    result = parse_size(value)
    if result < 1:
        raise ValueError("expects a positive size")
    return result


def integer(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, (bool, float)):
        raise TypeError("expects an integer")  # int(True) and int(2.5) would pass silently
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError("expects an integer") from None


def positive_duration(value: Any) -> float:
    seconds = parse_duration(value)
    if seconds <= 0:
        raise ValueError("expects a duration of more than 0")
    return seconds


def duration(value: Any) -> float:
    seconds = parse_duration(value)
    if seconds < 0:
        raise ValueError("expects a duration of 0 or more")
    return seconds


def log_level(value: Any) -> str:
    level = str(value).strip().upper()
    if level not in LOG_LEVELS:
        raise ValueError(f"expects one of {', '.join(LOG_LEVELS)}")
    return level


def log_format(value: Any) -> str:
    fmt = str(value).strip().lower()
    if fmt not in LOG_FORMATS:
        raise ValueError(f"expects one of {', '.join(LOG_FORMATS)}")
    return fmt

"""Typed option specs: one declaration per endpoint parses URIs, rejects typos and prints docs.

Durations are seconds (floats) everywhere; ``500ms``, ``2s``, ``5m``, ``1h`` are accepted too.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from eip.errors import EndpointOptionError

_DURATION = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNITS = {None: 1.0, "s": 1.0, "ms": 0.001, "m": 60.0, "h": 3600.0}


def parse_duration(value: Any) -> float:
    """Seconds from a number or a text such as ``0.5``, ``500ms``, ``2s``, ``5m``, ``1h``."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"not a duration: {value!r} (use seconds, or a suffix: 500ms, 2s, 5m, 1h)")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "on"):
        return True
    if text in ("false", "no", "0", "off"):
        return False
    raise ValueError(f"not a boolean: {value!r} (use true or false)")


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "str": str,
    "int": lambda v: int(v) if not isinstance(v, bool) else _fail(v, "an integer"),
    "float": lambda v: float(v) if not isinstance(v, bool) else _fail(v, "a number"),
    "bool": parse_bool,
    "duration": parse_duration,
}


def _fail(value: Any, what: str) -> Any:
    raise ValueError(f"{value!r} is not {what}")


@dataclass(frozen=True)
class Option:
    """One endpoint option: its name, type (str, int, float, bool, duration), default and doc."""

    name: str
    type: str
    default: Any
    doc: str
    choices: tuple[str, ...] = ()
    secret: bool = False

    def convert(self, value: Any) -> Any:
        try:
            converted = _CONVERTERS[self.type](value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"option '{self.name}' expects {self.type}: {exc}") from None
        if self.choices and converted not in self.choices:
            raise ValueError(f"option '{self.name}' must be one of {', '.join(self.choices)}, got {converted!r}")
        return converted


@dataclass(frozen=True)
class OptionSpec:
    """All options of an endpoint kind, declared once."""

    options: tuple[Option, ...] = ()
    by_name: dict[str, Option] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {o.name: o for o in self.options})

    def parse(self, raw: Mapping[str, Any], uri: str) -> dict[str, Any]:
        """Typed values for every option: the given ones converted, the rest their defaults."""
        values = {o.name: o.default for o in self.options}
        values.update(self.parse_given(raw, uri))
        return values

    def parse_given(self, raw: Mapping[str, Any], uri: str) -> dict[str, Any]:
        """Typed values for only the options present in ``raw``; raises on unknown or mistyped."""
        given = {}
        for name, value in raw.items():
            option = self.by_name.get(name)
            if option is None:
                raise EndpointOptionError(f"endpoint '{uri}': unknown option '{name}'{suggest(name, self.by_name)}")
            try:
                given[name] = option.convert(value)
            except ValueError as exc:
                raise EndpointOptionError(f"endpoint '{uri}': {exc}") from None
        return given

    def secrets(self) -> frozenset[str]:
        return frozenset(o.name for o in self.options if o.secret)

    def describe(self) -> str:
        """The options as a plain-text table for ``eip doc``."""
        rows = [("option", "type", "default", "description")]
        for o in self.options:
            kind = o.type + (f" ({'|'.join(o.choices)})" if o.choices else "")
            rows.append((o.name, kind, "" if o.default is None else repr(o.default), o.doc))
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        return "\n".join(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}" for r in rows)


def first_unknown(what: str, given: Iterable[str], known: Iterable[str]) -> str | None:
    """The error text for the first name in ``given`` that is not ``known``, or None."""
    known = set(known)
    for name in given:
        if name not in known:
            return f"{what}() has no option '{name}'{suggest(name, known)}"
    return None


def suggest(name: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or a list of valid names."""
    names = sorted(candidates)
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
    if close:
        return f"; did you mean '{close[0]}'?"
    if names:
        return f"; valid options: {', '.join(names)}"
    return "; this endpoint takes no options"

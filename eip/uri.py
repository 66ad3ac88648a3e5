"""Endpoint URIs: ``scheme:path?option=value&...``, parsed and built (masked by ``eip.secrets``)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, unquote

from eip.errors import ConfigurationError
from eip.secrets import MASK, is_secret_name, mask_uri

__all__ = ["MASK", "Uri", "build_uri", "is_secret_option", "mask_uri", "parse_uri"]

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):(.*)$", re.DOTALL)
#: Masking lives in ``eip.secrets``; these names stay importable from here.
is_secret_option = is_secret_name


@dataclass(frozen=True)
class Uri:
    """A parsed endpoint URI. ``key`` (``scheme:path``) identifies the endpoint."""

    scheme: str
    path: str
    options: tuple[tuple[str, str], ...]
    text: str

    @property
    def key(self) -> str:
        return f"{self.scheme}:{self.path}"

    @property
    def key_with_options(self) -> str:
        """``scheme:path`` plus the options in name order: the identity of endpoints whose
        options make them a different destination (file, http, soap)."""
        if not self.options:
            return self.key
        return f"{self.key}?" + "&".join(f"{name}={value}" for name, value in sorted(self.options))

    @property
    def query(self) -> dict[str, str]:
        return dict(self.options)


def parse_uri(text: str) -> Uri:
    """Split a URI into scheme, path and query options.

    The query starts at the last ``?`` that is followed by ``name=`` pairs, so a path may hold
    ``?`` (SQL) as long as options come last. ``#`` is not a fragment marker (SQL's ``:#id``).
    An ``&`` inside a value is written ``%26``."""
    if not isinstance(text, str):
        raise ConfigurationError(f"endpoint URI must be a string, got {type(text).__name__}")
    match = _SCHEME.match(text.strip())
    if not match:
        raise ConfigurationError(f"endpoint URI {text!r} has no scheme (expected scheme:path?options)")
    scheme, rest = match.group(1).lower(), match.group(2)
    path, query = rest, ""
    qpos = rest.rfind("?")
    while qpos >= 0:
        candidate = rest[qpos + 1 :]
        if candidate == "" or all("=" in part for part in candidate.split("&") if part):
            path, query = rest[:qpos], candidate
            break
        qpos = rest.rfind("?", 0, qpos)
    options: list[tuple[str, str]] = []
    if query:
        for part in query.split("&"):
            if not part:
                continue
            name, _, value = part.partition("=")
            options.append((unquote(name), unquote(value.replace("+", "%2B"))))
        names = [n for n, _ in options]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ConfigurationError(f"endpoint URI {mask_uri(text)!r} repeats option(s) {sorted(dupes)}")
    return Uri(scheme, path, tuple(options), text)


def build_uri(scheme: str, path: str, options: Iterable[tuple[str, object]]) -> str:
    query = "&".join(f"{name}={quote(str(value), safe='/:,.*${}-_ ')}" for name, value in options)
    return f"{scheme}:{path}" + (f"?{query}" if query else "")

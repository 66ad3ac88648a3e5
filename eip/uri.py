"""Endpoint URIs: ``scheme:path?option=value&...``, normalised and masked for logs."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, unquote

from eip.errors import ConfigurationError

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):(.*)$", re.DOTALL)
_SECRET_NAMES = ("password", "passwd", "secret", "token", "api_key", "apikey", "access_key",
                 "private_key", "credentials")
_USERINFO = re.compile(r"(//[^/:@]+:)([^@/]+)(@)")
MASK = "xxxxxx"


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
        candidate = rest[qpos + 1:]
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


def is_secret_option(name: str, extra: Iterable[str] = ()) -> bool:
    lowered = name.lower()
    return lowered in extra or any(s in lowered for s in _SECRET_NAMES)


def mask_uri(text: str, secret_options: Iterable[str] = ()) -> str:
    """The URI with passwords and other secrets replaced by ``xxxxxx``, for logs and APIs."""
    extra = frozenset(o.lower() for o in secret_options)
    masked = _USERINFO.sub(lambda m: f"{m.group(1)}{MASK}{m.group(3)}", text)

    def hide(match: re.Match[str]) -> str:
        name = match.group(2)
        return f"{match.group(1)}{name}={MASK}" if is_secret_option(name, extra) else match.group(0)

    return re.sub(r"([?&])([^=&?]+)=([^&]*)", hide, masked)

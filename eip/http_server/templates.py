"""Path templates such as ``/orders/{id}``: matching, precedence rank and overlap checks."""

from __future__ import annotations

import re

from eip.errors import ConfigurationError

_Segment = tuple[str | None, re.Pattern[str] | None]  # a template's path segment: literal text, or a regex

_PARAM = re.compile(r"\{([^{}/]+)\}")


class PathTemplate:
    """``/orders/{id}`` compiled: ``match(path)`` gives the parameters or None."""

    __slots__ = ("names", "prefix", "rank", "regex", "segments", "text")

    def __init__(self, text: str, prefix: bool = False) -> None:
        if not isinstance(text, str) or not text.startswith("/"):
            raise ConfigurationError(f"HTTP path template must start with '/', got {text!r}")
        self.text = text
        self.prefix = prefix
        body = text.rstrip("/")
        names: list[str] = []
        pattern = []
        position = 0
        for match in _PARAM.finditer(body):
            name = match.group(1).strip()
            if not name or name in names:
                raise ConfigurationError(f"HTTP path template {text!r}: parameter {{{name}}} is empty or used twice")
            pattern.append(re.escape(body[position : match.start()]))
            pattern.append(f"(?P<p{len(names)}>[^/]+)")
            names.append(name)
            position = match.end()
        rest = body[position:]
        if "{" in rest or "}" in rest:
            raise ConfigurationError(f"HTTP path template {text!r} has an unbalanced brace")
        pattern.append(re.escape(rest))
        tail = "(?:/.*)?" if prefix else "/?"
        self.regex = re.compile("^" + "".join(pattern) + tail + "$", re.DOTALL)
        self.names = tuple(names)
        segments = [s for s in body.split("/") if s]
        # Literal segments beat parameters, left to right; exact templates beat prefixes, and a
        # longer prefix beats a shorter one.
        self.rank = (
            prefix,
            len(segments) if not prefix else -len(segments),
            tuple(1 if "{" in s else 0 for s in segments),
        )
        # Per segment: the literal text, or a regex for a segment holding parameters.
        self.segments = tuple(
            (None, re.compile("[^/]+".join(re.escape(part) for part in _PARAM.split(segment)[::2])))
            if "{" in segment
            else (segment, None)
            for segment in (body.split("/")[1:] if body else ())
        )

    def match(self, path: str) -> dict[str, str] | None:
        found = self.regex.match(path)
        if found is None:
            return None
        return {name: found.group(f"p{i}") for i, name in enumerate(self.names)}

    def overlaps(self, other: PathTemplate) -> bool:
        """True when some request path would match both templates."""
        mine, theirs = self.segments, other.segments
        if not self.prefix and not other.prefix and len(mine) != len(theirs):
            return False
        if self.prefix and not other.prefix and len(theirs) < len(mine):
            return False
        if other.prefix and not self.prefix and len(mine) < len(theirs):
            return False
        return all(_segments_meet(a, b) for a, b in zip(mine, theirs, strict=False))

    def __repr__(self) -> str:
        return f"PathTemplate({self.text!r}{', prefix' if self.prefix else ''})"


def _segments_meet(a: _Segment, b: _Segment) -> bool:
    """Whether one path segment can match both template segments (two parameterised segments
    are taken to meet: a plain ``{name}`` takes any segment)."""
    (text_a, regex_a), (text_b, regex_b) = a, b
    if text_a is not None and text_b is not None:
        return text_a == text_b
    if text_a is not None:
        return regex_b is not None and regex_b.fullmatch(text_a) is not None
    if text_b is not None:
        return regex_a is not None and regex_a.fullmatch(text_b) is not None
    return True

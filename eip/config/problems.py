"""Problem collection for one load: every problem with its key path and file line, reported at once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from eip.errors import ConfigFileError


class Skip(Exception):
    """A problem was recorded: give up on this key, go on with the next."""


class Problems:
    """The problems met so far in the file ``source`` (``lines``: the file line of each key path)."""

    def __init__(self, source: str, lines: Mapping[str, int] | None = None) -> None:
        self.source = source
        self.lines = lines or {}
        self.problems: list[tuple[int, int, str]] = []  # (line or 0, order met, text)

    def fail(self, path: str, message: str, origin: str | None = None) -> NoReturn:
        """Record a problem at ``path`` and skip the key (``Skip``)."""
        self.problem(path, message, origin)
        raise Skip

    def problem(self, path: str, message: str, origin: str | None = None, at: str | None = None) -> None:
        """Record a problem of ``path`` (the file line of ``at``, default ``path``)."""
        where = f"{path} (from {origin})" if origin else path
        line = None if origin else self._line(at or path)
        at = f"{self.source}:{line}" if line else self.source
        text = f"{at}: {where}: {message}" if where else f"{at}: {message}"
        self.problems.append((line or 0, len(self.problems), text))

    def _line(self, path: str) -> int | None:
        """The file line of ``path``, or of the closest enclosing key the file has."""
        while path:
            if path in self.lines:
                return self.lines[path]
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        return None

    def _guard(self, build: Callable[[], Any], default: Any) -> Any:
        """``build()``, or ``default`` when it skipped (its problem is recorded)."""
        try:
            return build()
        except Skip:
            return default

    def report(self) -> None:
        """Raise one ``ConfigFileError`` listing every problem in file order, if there is any."""
        if self.problems:
            problems = [text for _, _, text in sorted(self.problems)]  # in file order
            if len(problems) == 1:
                raise ConfigFileError(problems[0], problems=problems)
            raise ConfigFileError(
                f"{self.source}: {len(problems)} problems:\n" + "\n".join(f"  - {p}" for p in problems),
                problems=problems,
            )

"""Secret settings of a config file: ``NAME_env``/``NAME_file`` sources, and the secrets found to mask."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from eip.config.keys import last_key
from eip.config.problems import Problems, Skip
from eip.secrets import is_secret_name, url_passwords

#: ``NAME_env`` / ``NAME_file``: where a secret setting ``NAME`` comes from.
SECRET_SOURCES = ("_env", "_file")

_FOREIGN_REFERENCE = re.compile(r"\$\{\s*(env|file)\s*:")


def with_secret_sources(keys: Iterable[str]) -> list[str]:
    """``keys`` plus ``NAME_env`` and ``NAME_file`` of the secret ones, for suggestions
    (``pasword_env`` is closest to ``password_env``, not ``password``)."""
    names = list(keys)
    return names + [f"{k}{suffix}" for k in names if is_secret_name(k) for suffix in SECRET_SOURCES]


def holds_secret_keys(name: str) -> bool:
    """A mapping named as a collection of secrets (``api_keys: {KEY: role}``) has secrets as keys;
    a section named ``auth`` does not."""
    lowered = name.lower()
    return is_secret_name(name) and lowered.endswith("s") and not lowered.endswith("ss")


class SecretSources(Problems):
    """Reads secrets for one load: from ``env`` and from files relative to ``base``; ``secrets``
    collects every secret value met, for masking."""

    def __init__(self, source: str, env: Mapping[str, str], base: Path, lines: Mapping[str, int] | None = None) -> None:
        super().__init__(source, lines)
        self.env = env
        self.base = base
        self.secrets: set[str] = set()

    def _reject_references(self, path: str, value: Any) -> None:
        """``${env:X}``/``${file:P}`` is another tool's syntax: left as it is, it would become a
        literal password (a JWT secret anyone can read in the docs), so it is an error."""
        if isinstance(value, dict):
            for key, item in value.items():
                self._reject_references(f"{path}.{key}" if path else str(key), item)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self._reject_references(f"{path}[{index}]", item)
        elif isinstance(value, str):
            match = _FOREIGN_REFERENCE.search(value)
            if match:
                name = last_key(path) if not path.endswith("]") else "NAME"
                self.problem(
                    path,
                    f"${{{match.group(1)}:...}} references are not read here: give the "
                    f"secret as {name}_{match.group(1)}: "
                    f"{'VARIABLE' if match.group(1) == 'env' else 'PATH'} instead",
                )

    def _secret_sources(self, path: str, mapping: dict[str, Any]) -> dict[str, Any]:
        """``NAME_env: VAR`` and ``NAME_file: PATH`` of a secret-named ``NAME`` become ``NAME``.
        A reference that cannot be read is a problem; the rest of the mapping is still read."""
        if not any(isinstance(k, str) and k.endswith(SECRET_SOURCES) for k in mapping):
            return mapping
        result = dict(mapping)
        reported: set[str] = set()
        for key, reference in mapping.items():
            if not isinstance(key, str) or not key.endswith(SECRET_SOURCES):
                continue
            name, kind = key.rsplit("_", 1)
            if not is_secret_name(name):
                continue  # an ordinary setting that happens to end in _env/_file
            del result[key]
            given = [k for k in (name, f"{name}_env", f"{name}_file") if k in mapping]
            if len(given) > 1:
                if name not in reported:
                    reported.add(name)
                    self.problem(f"{path}.{name}", f"give only one of {', '.join(given)}")
                result.pop(name, None)
                continue
            where = f"{path}.{key}"
            if not isinstance(reference, str) or not reference.strip():
                self.problem(where, f"must name {'an environment variable' if kind == 'env' else 'a file'}")
                continue
            try:
                result[name] = self._read_secret(where, kind, reference.strip())
            except Skip:
                continue
        return result

    def _read_secret(self, where: str, kind: str, reference: str) -> str:
        if kind == "env":
            value = self.env.get(reference)
            if value is None:
                self.fail(where, f"the environment variable {reference} is not set")
        else:
            file = Path(reference).expanduser()
            if not file.is_absolute():
                file = self.base / file
            try:
                value = file.read_text(encoding="utf-8").rstrip("\r\n")
            except OSError as exc:
                self.fail(where, f"the file {file} cannot be read: {exc.strerror or type(exc).__name__}")
        if not value:
            self.fail(where, f"{'the environment variable' if kind == 'env' else 'the file'} {reference} is empty")
        self._add_secret(value)
        return value

    def _note(self, path: str, value: Any) -> None:
        """Remember ``value`` as a secret if its key is secret-named or it holds a URL password."""
        if not isinstance(value, str):
            return
        if not path.endswith("]") and is_secret_name(last_key(path)):
            self._add_secret(value)
        for password in url_passwords(value):
            self._add_secret(password)

    def _add_secret(self, value: str) -> None:
        if value:
            self.secrets.add(value)
            quoted = quote(value, safe="")
            if quoted != value:
                self.secrets.add(quoted)  # as it appears once put into a URL

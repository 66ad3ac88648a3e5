"""Loading ``eip run``'s configuration: the file's sections, ``EIP_...`` overrides and each setting checked."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from eip.config import values
from eip.config.keys import (
    AMQP_KEYS,
    DATASOURCE_KEYS,
    LOGGING_KEYS,
    SECTIONS,
    SERVER_KEYS,
    env_name,
    last_key,
    unknown_key,
)
from eip.config.problems import Skip
from eip.config.secret_sources import SecretSources, holds_secret_keys, with_secret_sources
from eip.config.settings import Config, datasource_url, with_password
from eip.config.yaml_file import read_yaml
from eip.datasources import CONFIG_OPTIONS as DATASOURCE_POOL_OPTIONS
from eip.secrets import MASK, is_secret_name


def load_config(path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read ``path`` (None: environment only), read ``NAME_env``/``NAME_file`` secrets, apply
    ``EIP_...`` overrides and check every section. Raises ``ConfigFileError`` naming the key."""
    env = os.environ if environ is None else environ
    source = str(path) if path is not None else None
    base = Path(path).resolve().parent if path is not None else Path.cwd()
    raw, lines = read_yaml(Path(path)) if path is not None else ({}, {})
    return _Loader(source or "environment", env, base, lines).load(raw)


class _Loader(SecretSources):
    """One load: the environment, where relative secret files live, the secrets found and every
    problem met (all reported at once, each with its key path and file line)."""

    def load(self, raw: dict[str, Any]) -> Config:
        for key in raw:
            if key not in SECTIONS:
                self.problem("", unknown_key(key, SECTIONS), at=str(key))
        self._reject_references("", raw)
        data: dict[str, Any] = {
            "properties": self._guard(lambda: self._properties(raw.get("properties")), {}),
            "server": self._guard(
                lambda: self._section(
                    "server",
                    raw.get("server"),
                    SERVER_KEYS,
                    {
                        "host": values.text,
                        "port": values.port,
                        "threads": values.at_least_one("thread"),
                        "max_request_body": values.size,
                        "connection_limit": values.at_least_one("connection"),
                        "idle_timeout": values.positive_duration,
                    },
                ),
                {},
            ),
            "amqp": self._guard(
                lambda: self._section(
                    "amqp", raw.get("amqp"), AMQP_KEYS, {"url": values.text, "password": values.text}
                ),
                {},
            ),
            "logging": self._guard(
                lambda: self._section(
                    "logging",
                    raw.get("logging"),
                    LOGGING_KEYS,
                    {"level": values.log_level, "format": values.log_format},
                ),
                {},
            ),
            "datasources": self._guard(lambda: self._datasources(raw.get("datasources")), {}),
            "auth": self._guard(lambda: self._passthrough("auth", raw.get("auth")), {}),
            "management": self._guard(lambda: self._passthrough("management", raw.get("management")), {}),
        }
        timeout, origin = self._override("shutdown_timeout", raw.get("shutdown_timeout"))
        data["shutdown_timeout"] = (
            None
            if timeout is None
            else self._guard(lambda: self._convert("shutdown_timeout", timeout, values.duration, origin), None)
        )
        self._check_urls(data)
        self.report()
        return Config(data, self.secrets, self.source)

    def _check_urls(self, data: Mapping[str, Any]) -> None:
        """What ``Config.apply`` will do with the URLs, checked now so it is reported with the rest."""
        url = data["amqp"].get("url")
        if url is not None:
            try:
                with_password(url, data["amqp"].get("password"))
            except ValueError as exc:
                self.problem("amqp.password", str(exc))
        for name, settings in data["datasources"].items():
            if "url" in settings:
                try:
                    datasource_url(settings)
                except ValueError as exc:
                    self.problem(f"datasources.{name}.url", str(exc))

    # -- sections ------------------------------------------------------------------------------
    def _mapping(self, path: str, value: Any) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(path, f"must be a mapping, got {type(value).__name__}")
        return self._secret_sources(path, value)

    def _unknown_keys(self, path: str, given: Mapping[Any, Any], keys: Iterable[str]) -> None:
        for key in given:
            if key not in keys:
                self.problem(path, unknown_key(key, with_secret_sources(keys)), at=f"{path}.{key}")

    def _section(self, name: str, value: Any, keys: tuple[str, ...], converters: Mapping[str, Any]) -> dict[str, Any]:
        given = self._mapping(name, value)
        self._unknown_keys(name, given, keys)
        result: dict[str, Any] = {}
        for key in keys:
            path = f"{name}.{key}"
            raw, origin = self._override(path, given.get(key))
            if raw is None:
                continue
            try:
                result[key] = self._convert(path, raw, converters[key], origin)
            except Skip:
                continue
            self._note(path, result[key])
        return result

    def _properties(self, value: Any) -> dict[str, Any]:
        flat: dict[str, Any] = {}
        for name, item in _flatten(self._mapping("properties", value), "", self):
            path = f"properties.{name}"
            if isinstance(item, (list, dict)) or item is None:
                self.problem(
                    path, "a property must be a text, number or boolean" + (" (it is empty)" if item is None else "")
                )
                continue
            variable = env_name(name)
            if variable in self.env:
                item = self.env[variable]
            flat[name] = item
            self._note(path, item)
        return flat

    def _datasources(self, value: Any) -> dict[str, dict[str, Any]]:
        result: dict[str, dict[str, Any]] = {}
        for name, settings in self._mapping("datasources", value).items():
            try:
                result[str(name)] = self._datasource(str(name), settings)
            except Skip:
                continue
        return result

    def _datasource(self, name: str, settings: Any) -> dict[str, Any]:
        path = f"datasources.{name}"
        prefix = f"EIP_DATASOURCE_{re.sub(r'[^A-Za-z0-9]', '_', name).upper()}_"
        settings = self._mapping(path, {"url": settings} if isinstance(settings, str) else settings)
        self._unknown_keys(path, settings, DATASOURCE_KEYS)
        resolved: dict[str, Any] = {}
        for key in DATASOURCE_KEYS:
            raw, origin = settings.get(key), None
            if prefix + key.upper() in self.env:
                raw, origin = self.env[prefix + key.upper()], prefix + key.upper()
            if raw is None:
                continue
            convert = DATASOURCE_POOL_OPTIONS.get(key, values.text)
            try:
                resolved[key] = self._convert(f"{path}.{key}", raw, convert, origin)
            except Skip:
                continue
            self._note(f"{path}.{key}", resolved[key])
        if "url" not in resolved and "url" not in settings and prefix + "URL" not in self.env:
            self.fail(path, f"needs a url (or the environment variable {prefix}URL)")
        return resolved

    def _passthrough(self, name: str, value: Any) -> dict[str, Any]:
        """``auth``/``management``: secrets read, scalars overridable, the rest as given
        (``eip.management.install`` owns their meaning and checks them)."""
        return self._walk(name, self._mapping(name, value))

    def _walk(self, path: str, value: Any) -> Any:
        if isinstance(value, dict):
            try:
                value = self._secret_sources(path, value)
            except Skip:
                return {}
            hide_keys = not path.endswith("]") and holds_secret_keys(last_key(path))
            result: dict[Any, Any] = {}
            for key, item in value.items():
                if hide_keys and isinstance(key, str):
                    self._add_secret(key)  # api_keys: {KEY: role}; the role is no secret
                    result[key] = self._walk(f"{path}[{len(result)}]", item)
                else:
                    result[key] = self._walk(f"{path}.{key}", item)
            return result
        if isinstance(value, list):
            items = [self._walk(f"{path}[{i}]", item) for i, item in enumerate(value)]
            if is_secret_name(last_key(path)):
                for item in items:
                    if isinstance(item, str):
                        self._add_secret(item)
            return items
        if not path.endswith("]"):
            value, _ = self._override(path, value)
        self._note(path, value)
        return value

    # -- values --------------------------------------------------------------------------------
    def _override(self, path: str, value: Any) -> tuple[Any, str | None]:
        variable = env_name(path)
        if variable in self.env:
            return self.env[variable], variable
        return value, None

    def _convert(self, path: str, value: Any, convert: Any, origin: str | None) -> Any:
        try:
            return convert(value)
        except (TypeError, ValueError) as exc:
            shown = MASK if is_secret_name(last_key(path)) else repr(value)
            self.fail(path, f"{exc} (got {shown})", origin)


def _flatten(mapping: Mapping[Any, Any], prefix: str, loader: _Loader) -> Iterator[tuple[str, Any]]:
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            yield from _flatten(loader._secret_sources(f"properties.{name}", value), f"{name}.", loader)
        else:
            yield name, value

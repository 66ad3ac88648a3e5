"""Configuration for ``eip run``: one YAML file plus ``EIP_...`` environment variables.

Every section is optional; an empty file (or none at all) is a valid configuration::

    properties:                  # values for {{name}} placeholders in endpoint URIs
      orders:
        folder: data/orders      # {{orders.folder}} (nested maps join with dots)
    server:                      # the engine's HTTP server (management API, http: consumers)
      host: 127.0.0.1
      port: 8080                 # 0 picks a free port
      threads: 8
      max_request_body: 10MB     # bytes; KB, MB and GB are 1024-based
      connection_limit: 1000     # at the limit the longest idle connection makes room
      idle_timeout: 30s          # an idle connection is closed after this
    amqp:
      url: amqp://app@rabbit:5672/
      password_file: /run/secrets/amqp_password   # put into the URL
    datasources:
      orders:
        url: postgresql+psycopg://app@db:5432/orders
        password_env: ORDERS_DB_PASSWORD
        pool_size: 10            # also max_overflow, pool_timeout, pool_recycle (seconds)
    auth: {...}                  # passed to eip.management.install(engine, config)
    management: {...}            # idem (``enabled: false`` serves no management API)
    logging:
      level: INFO                # DEBUG, INFO, WARNING, ERROR
      format: auto               # auto (text on a terminal, else logfmt), text, logfmt, json
    shutdown_timeout: 10s        # seconds (or 500ms, 2s, 1m) in-flight exchanges get at stop

**Secrets** stay out of the file, with one scheme everywhere (the one ``eip.management`` uses
for ``auth``): a secret setting ``NAME`` (a secret name by the one rule of ``eip.secrets``:
``password``, ``secret``, ``key``, ``api_keys``, ``token``...) may instead be given as
``NAME_env: VARIABLE`` (read from the environment) or ``NAME_file: PATH`` (the file's content
without its trailing newline: Docker and Kubernetes secrets; a relative path is relative to
the config file). Only one of ``NAME``, ``NAME_env`` and ``NAME_file`` may be given. A missing variable or an unreadable
file is an error that names the key, never a value. Secret properties need no file entry at all:
``{{db.password}}`` reads ``EIP_DB_PASSWORD`` from the environment by itself.

What is masked (``xxxxxx``) by ``repr(config)``, ``config.masked()`` and, through
``config.secrets``, every log line of ``eip run`` (``eip.logging_setup``): the value of every
secret-named key (``api_keys`` lists, and the keys of an ``api_keys`` map, too), everything read
through ``_env``/``_file``, and the password of any URL.

**Environment variables** override the file (command-line options override both). The name is
``EIP_`` plus the setting's dotted path in upper case with every other character as ``_``:

* ``EIP_SERVER_HOST``, ``EIP_SERVER_PORT``, ``EIP_SERVER_THREADS``,
  ``EIP_SERVER_MAX_REQUEST_BODY``, ``EIP_AMQP_URL``, ``EIP_AMQP_PASSWORD``,
  ``EIP_LOGGING_LEVEL``, ``EIP_LOGGING_FORMAT`` and ``EIP_SHUTDOWN_TIMEOUT`` work with or
  without a file (``EIP_CONFIG`` names the file itself);
* a property drops the ``properties.`` prefix: ``EIP_ORDERS_FOLDER`` for ``{{orders.folder}}``
  (the name the engine's placeholder lookup already reads, so it also works for a property the
  file does not mention);
* a datasource setting is ``EIP_DATASOURCE_<NAME>_<KEY>`` (``EIP_DATASOURCE_ORDERS_URL``,
  ``..._PASSWORD``, ``..._POOL_SIZE``), as ``eip.datasources`` already reads for the URL;
* any scalar the file sets under ``auth`` or ``management`` (``EIP_AUTH_JWT_ISSUER`` for
  ``auth.jwt.issuer``).

A typo'd key is an error with the closest valid name (``unknown key 'sever'; did you mean
'server'?``; ``pasword_env`` suggests ``password_env``); a key that appears twice is invalid YAML.
Every problem of a file is reported at once: one ``ConfigFileError`` whose ``problems`` list each
as ``FILE:LINE: key.path: what`` (``FILE: key.path (from EIP_X): what`` for a variable), in file
order; only unreadable or invalid YAML stops at the first.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import quote

import yaml

from eip.datasources import CONFIG_OPTIONS as DATASOURCE_POOL_OPTIONS
from eip.errors import ConfigFileError
from eip.options import parse_duration, suggest
from eip.secrets import (
    MASK,
    MIN_MASKED_LENGTH,
    Masker,
    is_secret_name,
    mask_text,
    mask_uri,
    url_passwords,
)

SECTIONS = ("properties", "server", "amqp", "datasources", "auth", "management", "logging", "shutdown_timeout")
SERVER_KEYS = ("host", "port", "threads", "max_request_body", "connection_limit", "idle_timeout")
AMQP_KEYS = ("url", "password")
LOGGING_KEYS = ("level", "format")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("auto", "text", "logfmt", "json")
DATASOURCE_KEYS = ("url", "password", *DATASOURCE_POOL_OPTIONS)
#: ``NAME_env`` / ``NAME_file``: where a secret setting ``NAME`` comes from.
SECRET_SOURCES = ("_env", "_file")
#: Secrets shorter than ``MIN_MASKED_LENGTH`` (``eip.secrets``) are masked where they are known to
#: be secrets (repr, URLs), but not searched for in free log text, where they would mask innocent words.
__all__ = ["MIN_MASKED_LENGTH", "Config", "env_name", "is_secret_name", "load_config", "mask_text", "parse_size"]

_FOREIGN_REFERENCE = re.compile(r"\$\{\s*(env|file)\s*:")
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


def env_name(path: str) -> str:
    """``EIP_SERVER_PORT`` for ``server.port`` (the engine's own placeholder rule)."""
    return "EIP_" + re.sub(r"[^A-Za-z0-9]", "_", path).upper()


def parse_size(value: Any) -> int:
    """Bytes from ``1048576``, ``512KB``, ``10MB``, ``1GB`` (1024-based)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _SIZE.match(str(value))
    if not match:
        raise ValueError(f"not a size: {value!r} (use bytes, or a suffix: 512KB, 10MB, 1GB)")
    return int(match.group(1)) * _SIZE_UNITS[(match.group(2) or "").lower()]


class Config(Mapping[str, Any]):
    """A loaded configuration: resolved sections, and the secrets to mask.

    Sections are attributes (``config.server``, ``config.auth``...) and also items of this
    read-only mapping (``config["auth"]``, ``config.get("management")``), so
    ``eip.management.install(engine, config)`` reads it like a dict. ``repr`` never shows a
    secret."""

    def __init__(
        self, data: Mapping[str, Any] | None = None, secrets: Iterable[str] = (), source: str | None = None
    ) -> None:
        data = data or {}
        self._data: dict[str, Any] = {}
        for name in SECTIONS:
            value = data.get(name)
            self._data[name] = {} if value is None and name != "shutdown_timeout" else value
        self.secrets = frozenset(s for s in secrets if s)
        self._masker = Masker(self.secrets, min_length=1)
        self.source = source or "<environment>"

    # -- sections ------------------------------------------------------------------------------
    @property
    def properties(self) -> dict[str, Any]:
        """``{{name}}`` values, flattened (``orders.folder``)."""
        return self._data["properties"]

    @property
    def server(self) -> dict[str, Any]:
        return self._data["server"]

    @property
    def amqp(self) -> dict[str, Any]:
        return self._data["amqp"]

    @property
    def datasources(self) -> dict[str, dict[str, Any]]:
        return self._data["datasources"]

    @property
    def auth(self) -> dict[str, Any]:
        return self._data["auth"]

    @property
    def management(self) -> dict[str, Any]:
        return self._data["management"]

    @property
    def logging(self) -> dict[str, Any]:
        return self._data["logging"]

    @property
    def shutdown_timeout(self) -> float | None:
        return self._data["shutdown_timeout"]

    def __getitem__(self, section: str) -> Any:
        return self._data[section]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    # -- applying it -------------------------------------------------------------------------
    def engine_properties(self) -> dict[str, Any]:
        """Engine properties: the ``properties`` section, ``server.*`` and ``amqp.url`` (with
        ``amqp.password`` put into it)."""
        result = dict(self.properties)
        for key, value in self.server.items():
            result[f"server.{key}"] = value
        url = self.amqp.get("url")
        if url is not None:
            try:
                result["amqp.url"] = _with_password(url, self.amqp.get("password"))
            except ValueError as exc:
                raise ConfigFileError(f"amqp.password: {exc}") from None
        return result

    def apply(self, engine: Any) -> None:
        """Put the properties into ``engine.properties`` and add the datasources."""
        engine.properties.update(self.engine_properties())
        for name, settings in self.datasources.items():
            options = {k: v for k, v in settings.items() if k not in ("url", "password")}
            try:
                url = _datasource_url(settings)
            except ValueError as exc:
                raise ConfigFileError(f"datasources.{name}.url: {exc}") from None
            engine.add_datasource(name, url, **options)

    # -- masking -------------------------------------------------------------------------------
    def mask(self, text: str) -> str:
        """``text`` with every secret of this configuration (however short), URL passwords and
        secret URI options masked (``eip.secrets``)."""
        return self._masker(text)

    def masked(self) -> dict[str, Any]:
        """The sections with secrets masked (for logs and the management API)."""
        return _masked(self._data, self.secrets, self._masker, "")

    def __repr__(self) -> str:
        return f"Config({self.source!r}, {self.masked()!r})"

    __str__ = __repr__


def _masked(value: Any, secrets: frozenset[str], mask: Masker, name: str) -> Any:
    if isinstance(value, Mapping):
        hide_keys = _holds_secret_keys(name)
        return {
            (f"{MASK}{i}" if hide_keys and str(k) in secrets else k): _masked(
                v, secrets, mask, "" if hide_keys and str(k) in secrets else str(k)
            )
            for i, (k, v) in enumerate(value.items(), 1)
        }
    if isinstance(value, (list, tuple)):
        return [_masked(v, secrets, mask, name) for v in value]
    if isinstance(value, str):
        if value in secrets or (is_secret_name(name) and value):
            return MASK
        return mask(value)
    return value


def _with_password(url: str, password: Any) -> str:
    """``url`` with ``password`` as the password of its user (quoted); ValueError without a user."""
    if password is None:
        return url
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    user = parts.username
    if not user:
        raise ValueError(f"needs a user name in amqp.url ({mask_uri(url)!r}), as in amqp://app@host:5672/")
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{quote(user, safe='')}:{quote(str(password), safe='')}@{host}"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _datasource_url(settings: Mapping[str, Any]) -> Any:
    """The datasource's URL with its ``password`` put in; ValueError if it is no database URL."""
    url = settings["url"]
    password = settings.get("password")
    if password is None:
        return url
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).set(password=str(password))
    except Exception:  # noqa: BLE001 - any parse failure is a bad URL; never echo the URL
        raise ValueError(f"is not a database URL ({mask_uri(str(url))!r})") from None


# -- loading -------------------------------------------------------------------------------------
def load_config(path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read ``path`` (None: environment only), read ``NAME_env``/``NAME_file`` secrets, apply
    ``EIP_...`` overrides and check every section. Raises ``ConfigFileError`` naming the key."""
    env = os.environ if environ is None else environ
    source = str(path) if path is not None else None
    base = Path(path).resolve().parent if path is not None else Path.cwd()
    raw, lines = _read_yaml(Path(path)) if path is not None else ({}, {})
    return _Loader(source or "environment", env, base, lines).load(raw)


def _read_yaml(path: Path) -> tuple[dict[str, Any], dict[str, int]]:
    """The file's sections, and the line of each key path (``server.port``, ``auth.api_keys[0]``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigFileError(f"config file {path} does not exist") from None
    except OSError as exc:
        raise ConfigFileError(f"config file {path} cannot be read: {exc.strerror}") from None
    loader = _UniqueKeyLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        # Only the problem and position: the snippet YAML adds would echo the line, which may
        # hold a secret someone pasted by mistake.
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigFileError(f"{path}: invalid YAML{where}: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ConfigFileError(f"{path}: invalid YAML: {type(exc).__name__}") from None
    finally:
        loader.dispose()
    if data is None:
        return {}, {}
    if not isinstance(data, dict):
        raise ConfigFileError(
            f"{path}: the top level must be a mapping of sections ({', '.join(SECTIONS)}), got {type(data).__name__}"
        )
    lines: dict[str, int] = {}
    _key_lines(node, "", lines)
    return data, lines


def _key_lines(node: Any, prefix: str, lines: dict[str, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            path = f"{prefix}.{key_node.value}" if prefix else str(key_node.value)
            lines.setdefault(path, key_node.start_mark.line + 1)
            _key_lines(value_node, path, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            path = f"{prefix}[{index}]"
            lines.setdefault(path, item.start_mark.line + 1)
            _key_lines(item, path, lines)


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects a key given twice in one mapping (plain YAML keeps the last)."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:
                continue  # unhashable: SafeLoader reports it
            if duplicate:
                raise yaml.constructor.ConstructorError(None, None, f"key {key!r} appears twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


def _unknown(key: Any, valid: Iterable[str]) -> str:
    return f"unknown key {str(key)!r}{suggest(str(key), valid)}".replace("valid options", "valid keys")


class _Skip(Exception):
    """A problem was recorded: give up on this key, go on with the next."""


class _Loader:
    """One load: the environment, where relative secret files live, the secrets found and every
    problem met (all reported at once, each with its key path and file line)."""

    def __init__(self, source: str, env: Mapping[str, str], base: Path, lines: Mapping[str, int] | None = None) -> None:
        self.source = source
        self.env = env
        self.base = base
        self.lines = lines or {}
        self.secrets: set[str] = set()
        self.problems: list[tuple[int, int, str]] = []  # (line or 0, order met, text)

    def fail(self, path: str, message: str, origin: str | None = None) -> NoReturn:
        """Record a problem at ``path`` and skip the key (``_Skip``)."""
        self.problem(path, message, origin)
        raise _Skip

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

    def load(self, raw: dict[str, Any]) -> Config:
        for key in raw:
            if key not in SECTIONS:
                self.problem("", _unknown(key, SECTIONS), at=str(key))
        self._reject_references("", raw)
        data: dict[str, Any] = {
            "properties": self._guard(lambda: self._properties(raw.get("properties")), {}),
            "server": self._guard(
                lambda: self._section(
                    "server",
                    raw.get("server"),
                    SERVER_KEYS,
                    {
                        "host": _text,
                        "port": _port,
                        "threads": _at_least_one("thread"),
                        "max_request_body": _size,
                        "connection_limit": _at_least_one("connection"),
                        "idle_timeout": _idle_timeout,
                    },
                ),
                {},
            ),
            "amqp": self._guard(
                lambda: self._section("amqp", raw.get("amqp"), AMQP_KEYS, {"url": _text, "password": _text}), {}
            ),
            "logging": self._guard(
                lambda: self._section(
                    "logging", raw.get("logging"), LOGGING_KEYS, {"level": _level, "format": _format}
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
            else self._guard(lambda: self._convert("shutdown_timeout", timeout, _duration, origin), None)
        )
        self._check_urls(data)
        if self.problems:
            problems = [text for _, _, text in sorted(self.problems)]  # in file order
            if len(problems) == 1:
                raise ConfigFileError(problems[0], problems=problems)
            raise ConfigFileError(
                f"{self.source}: {len(problems)} problems:\n" + "\n".join(f"  - {p}" for p in problems),
                problems=problems,
            )
        return Config(data, self.secrets, self.source)

    def _guard(self, build: Any, default: Any) -> Any:
        try:
            return build()
        except _Skip:
            return default

    def _check_urls(self, data: Mapping[str, Any]) -> None:
        """What ``Config.apply`` will do with the URLs, checked now so it is reported with the rest."""
        url = data["amqp"].get("url")
        if url is not None:
            try:
                _with_password(url, data["amqp"].get("password"))
            except ValueError as exc:
                self.problem("amqp.password", str(exc))
        for name, settings in data["datasources"].items():
            if "url" in settings:
                try:
                    _datasource_url(settings)
                except ValueError as exc:
                    self.problem(f"datasources.{name}.url", str(exc))

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
                name = _last(path) if not path.endswith("]") else "NAME"
                self.problem(
                    path,
                    f"${{{match.group(1)}:...}} references are not read here: give the "
                    f"secret as {name}_{match.group(1)}: "
                    f"{'VARIABLE' if match.group(1) == 'env' else 'PATH'} instead",
                )

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
                self.problem(path, _unknown(key, _with_secret_sources(keys)), at=f"{path}.{key}")

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
            except _Skip:
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
            except _Skip:
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
            convert = DATASOURCE_POOL_OPTIONS.get(key, _text)
            try:
                resolved[key] = self._convert(f"{path}.{key}", raw, convert, origin)
            except _Skip:
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
            except _Skip:
                return {}
            hide_keys = not path.endswith("]") and _holds_secret_keys(_last(path))
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
            if is_secret_name(_last(path)):
                for item in items:
                    if isinstance(item, str):
                        self._add_secret(item)
            return items
        if not path.endswith("]"):
            value, _ = self._override(path, value)
        self._note(path, value)
        return value

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
            except _Skip:
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
            shown = MASK if is_secret_name(_last(path)) else repr(value)
            self.fail(path, f"{exc} (got {shown})", origin)

    def _note(self, path: str, value: Any) -> None:
        """Remember ``value`` as a secret if its key is secret-named or it holds a URL password."""
        if not isinstance(value, str):
            return
        if not path.endswith("]") and is_secret_name(_last(path)):
            self._add_secret(value)
        for password in url_passwords(value):
            self._add_secret(password)

    def _add_secret(self, value: str) -> None:
        if value:
            self.secrets.add(value)
            quoted = quote(value, safe="")
            if quoted != value:
                self.secrets.add(quoted)  # as it appears once put into a URL


def _with_secret_sources(keys: Iterable[str]) -> list[str]:
    """``keys`` plus ``NAME_env`` and ``NAME_file`` of the secret ones, for suggestions
    (``pasword_env`` is closest to ``password_env``, not ``password``)."""
    names = list(keys)
    return names + [f"{k}{suffix}" for k in names if is_secret_name(k) for suffix in SECRET_SOURCES]


def _holds_secret_keys(name: str) -> bool:
    """A mapping named as a collection of secrets (``api_keys: {KEY: role}``) has secrets as keys;
    a section named ``auth`` does not."""
    lowered = name.lower()
    return is_secret_name(name) and lowered.endswith("s") and not lowered.endswith("ss")


def _last(path: str) -> str:
    """The key name at the end of a dotted path (``api_keys`` for ``auth.api_keys[0]``)."""
    return path.rsplit(".", 1)[-1].split("[", 1)[0]


def _flatten(mapping: Mapping[Any, Any], prefix: str, loader: _Loader) -> Iterator[tuple[str, Any]]:
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            yield from _flatten(loader._secret_sources(f"properties.{name}", value), f"{name}.", loader)
        else:
            yield name, value


# -- converters (raise ValueError with a reason) ---------------------------------------------------
def _text(value: Any) -> str:
    if isinstance(value, (dict, list)) or value is None:
        raise TypeError("expects a text")
    return str(value)


def _port(value: Any) -> int:
    port = _integer(value)
    if not 0 <= port <= 65535:
        raise ValueError("expects a port number from 0 to 65535 (0 picks a free port)")
    return port


def _at_least_one(noun: str) -> Callable[[Any], int]:
    """A checker for a whole number of ``noun`` (e.g. threads, connections), at least 1."""

    def check(value: Any) -> int:
        number = _integer(value)
        if number < 1:
            raise ValueError(f"expects at least 1 {noun}")
        return number

    return check


def _size(value: Any) -> int:
    size = parse_size(value)
    if size < 1:
        raise ValueError("expects a positive size")
    return size


def _integer(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, (bool, float)):
        raise TypeError("expects an integer")  # int(True) and int(2.5) would pass silently
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError("expects an integer") from None


def _idle_timeout(value: Any) -> float:
    seconds = parse_duration(value)
    if seconds <= 0:
        raise ValueError("expects a duration of more than 0")
    return seconds


def _duration(value: Any) -> float:
    seconds = parse_duration(value)
    if seconds < 0:
        raise ValueError("expects a duration of 0 or more")
    return seconds


def _level(value: Any) -> str:
    level = str(value).strip().upper()
    if level not in LOG_LEVELS:
        raise ValueError(f"expects one of {', '.join(LOG_LEVELS)}")
    return level


def _format(value: Any) -> str:
    fmt = str(value).strip().lower()
    if fmt not in LOG_FORMATS:
        raise ValueError(f"expects one of {', '.join(LOG_FORMATS)}")
    return fmt

"""The loaded configuration: its sections, applying them to an engine, and masking its secrets."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote

from eip.config.keys import SECTIONS
from eip.config.secret_sources import holds_secret_keys
from eip.errors import ConfigFileError
from eip.secrets import MASK, Masker, is_secret_name, mask_uri


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
                result["amqp.url"] = with_password(url, self.amqp.get("password"))
            except ValueError as exc:
                raise ConfigFileError(f"amqp.password: {exc}") from None
        return result

    def apply(self, engine: Any) -> None:
        """Put the properties into ``engine.properties`` and add the datasources."""
        engine.properties.update(self.engine_properties())
        for name, settings in self.datasources.items():
            options = {k: v for k, v in settings.items() if k not in ("url", "password")}
            try:
                url = datasource_url(settings)
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
        hide_keys = holds_secret_keys(name)
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


def with_password(url: str, password: Any) -> str:
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


def datasource_url(settings: Mapping[str, Any]) -> Any:
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

"""Configuration key names: the sections, their settings, ``EIP_...`` variables, unknown-key messages."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from eip.datasources import CONFIG_OPTIONS as DATASOURCE_POOL_OPTIONS
from eip.options import suggest

SECTIONS = ("properties", "server", "amqp", "datasources", "auth", "management", "logging", "shutdown_timeout")
SERVER_KEYS = ("host", "port", "threads", "max_request_body", "connection_limit", "idle_timeout")
AMQP_KEYS = ("url", "password")
LOGGING_KEYS = ("level", "format")
DATASOURCE_KEYS = ("url", "password", *DATASOURCE_POOL_OPTIONS)


def env_name(path: str) -> str:
    """``EIP_SERVER_PORT`` for ``server.port`` (the engine's own placeholder rule)."""
    return "EIP_" + re.sub(r"[^A-Za-z0-9]", "_", path).upper()


def last_key(path: str) -> str:
    """The key name at the end of a dotted path (``api_keys`` for ``auth.api_keys[0]``)."""
    return path.rsplit(".", 1)[-1].split("[", 1)[0]


def unknown_key(key: Any, valid: Iterable[str]) -> str:
    """``unknown key 'sever'; did you mean 'server'?`` (the closest of ``valid``)."""
    return f"unknown key {str(key)!r}{suggest(str(key), valid)}".replace("valid options", "valid keys")

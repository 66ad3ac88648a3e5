"""Fixtures for the management API tests: an app over the ``engine`` fixture, the vault component."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from eip.engine import Engine
from eip.management import ManagementApp, create_app

sys.path.insert(0, str(Path(__file__).resolve().parent))
from management_support import VaultComponent, auth_config


@pytest.fixture
def vault(engine: Engine) -> type[VaultComponent]:
    """Registers ``vault:`` (a secret ``passphrase`` option, ``health()``, a ``connected`` consumer)."""
    engine.add_component("vault", VaultComponent)
    return VaultComponent


@pytest.fixture
def management(engine: Engine) -> Iterator[Callable[..., Client]]:
    """``management(config)`` -> a werkzeug test Client on a fresh management app of ``engine``."""
    apps: list[ManagementApp] = []

    def build(config: Any = None) -> Client:
        app = create_app(engine, auth_config() if config is None else config)
        apps.append(app)
        return Client(app)

    yield build
    for app in apps:
        app.close()

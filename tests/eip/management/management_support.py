"""Helpers for the management API tests: config, tokens, keys and a ``vault:`` test component."""

from __future__ import annotations

import time
from typing import Any

import jwt

from eip.component import Component, Consumer, Endpoint, Producer
from eip.options import Option, OptionSpec

SECRET = "jwt-test-secret-4f1c9a7e2b8d6053-0123456789"
ISSUER = "https://login.example.test/"
AUDIENCE = "eip-management"
VIEWER_KEY = "viewer-key-7d3b1f0e9a2c4b6d"
OPERATOR_KEY = "operator-key-1a2b3c4d5e6f7a8b"
VAULT_PASSWORD = "hunter2-vault-password"


def auth_config(**jwt_extra: Any) -> dict[str, Any]:
    """A config with an HS256 JWT validator and a viewer and an operator API key."""
    return {"auth": {
        "jwt": {"secret": SECRET, "issuer": ISSUER, "audience": AUDIENCE, **jwt_extra},
        "api_keys": [{"key": VIEWER_KEY, "roles": ["viewer"], "name": "dashboard"},
                     {"key": OPERATOR_KEY, "roles": ["operator"], "name": "ops"}],
    }}


def make_token(roles: Any = ("viewer",), *, key: Any = SECRET, algorithm: str = "HS256",
               expires_in: float = 300, **claims: Any) -> str:
    payload: dict[str, Any] = {"sub": "alice", "iss": ISSUER, "aud": AUDIENCE,
                               "exp": int(time.time() + expires_in)}
    if roles is not None:
        payload["roles"] = list(roles) if not isinstance(roles, str) else roles
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, key, algorithm=algorithm)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


VIEWER = {"X-API-Key": VIEWER_KEY}
OPERATOR = {"X-API-Key": OPERATOR_KEY}


# -- a component with a secret option and a pluggable health, for masking and health tests ---------
class VaultConsumer(Consumer):
    def __init__(self, endpoint: Endpoint, processor: Any) -> None:
        super().__init__(endpoint, processor)
        self.is_connected = True

    @property
    def connected(self) -> bool:
        return self.is_connected


class VaultProducer(Producer):
    def process(self, exchange: Any) -> None:
        exchange.message.headers["vault"] = "sent"


class VaultEndpoint(Endpoint):
    options = OptionSpec((
        Option("password", "str", "", "A secret.", secret=True),
        Option("passphrase", "str", "", "Another secret, by its spec only.", secret=True),
    ))

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.healthy: Any = None  # None: no opinion; (ok, detail); or an exception to raise

    def health(self) -> tuple[bool, str]:
        if isinstance(self.healthy, BaseException):
            raise self.healthy
        return self.healthy if self.healthy is not None else (True, "fine")

    def create_producer(self) -> Producer:
        return VaultProducer(self)

    def create_consumer(self, processor: Any) -> Consumer:
        self.consumer = VaultConsumer(self, processor)
        return self.consumer


class VaultComponent(Component):
    endpoint_class = VaultEndpoint

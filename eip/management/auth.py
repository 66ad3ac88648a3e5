"""Authentication and roles for the management API: JWT bearer tokens and static API keys.

A request proves who it is with one of:

* ``Authorization: Bearer <JWT>``: validated with PyJWT against the configured HS256 secret or
  RS256/ES256 (PS256, EdDSA) public key; the signature, ``exp`` (required), and, when
  configured, ``iss`` and ``aud`` are checked. Roles come from the claim ``roles_claim``
  (default ``roles``; a dotted path such as ``realm_access.roles`` reaches into nested claims; a
  list of strings or one space- or comma-separated string).
* ``X-API-Key: <key>`` or ``Authorization: Bearer <key>``: a static key from the config, each
  with its roles. Keys are kept only as SHA-256 digests and compared in constant time.

Roles: ``viewer`` may read; ``operator`` may also start, stop, suspend and resume routes (an
operator is a viewer too). Other roles are ignored.

Secrets (JWT secret, API keys) come from the config, a file (``*_file``) or an environment
variable (``*_env``); they are never logged, never put in an error message, never returned.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, cast

from eip.errors import ConfigurationError

log = logging.getLogger("eip.management.auth")

VIEWER = "viewer"
OPERATOR = "operator"
ROLES = (VIEWER, OPERATOR)
#: What each role may do: an operator is also a viewer.
_IMPLIED = {VIEWER: frozenset({VIEWER}), OPERATOR: frozenset({VIEWER, OPERATOR})}

HMAC_ALGORITHMS = ("HS256", "HS384", "HS512")
PUBLIC_KEY_ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA")
_JWT_KEYS = frozenset(
    {
        "secret",
        "secret_file",
        "secret_env",
        "public_key",
        "public_key_file",
        "public_key_env",
        "algorithms",
        "issuer",
        "audience",
        "roles_claim",
        "leeway",
    }
)
_API_KEY_KEYS = frozenset({"key", "key_file", "key_env", "roles", "name"})
_AUTH_KEYS = frozenset({"jwt", "api_keys"})


class HeaderLookup(Protocol):
    """Request headers: a dict or Werkzeug's ``Headers`` (case-insensitive there)."""

    def get(self, key: str, /) -> str | None: ...


@dataclass(frozen=True)
class Principal:
    """Who made a request: a name for the audit log (JWT ``sub`` or the API key's name) and roles."""

    name: str
    roles: frozenset[str]
    method: str  # "jwt" or "api_key"

    def may(self, role: str) -> bool:
        return any(role in _IMPLIED.get(r, ()) for r in self.roles)


class AuthError(Exception):
    """Refused: ``status`` is 401 (who are you?) or 403 (not allowed); ``message`` is safe to return."""

    def __init__(self, status: int, message: str, error: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error = error  # RFC 6750 error code for WWW-Authenticate ("invalid_token", ...)


def read_secret(section: Mapping[str, Any], name: str, where: str, *, required: bool = False) -> str | None:
    """The secret ``name`` of a config section, given inline, as ``NAME_file`` or ``NAME_env``.

    Error messages name the config key, the file or the variable, never the value."""
    given = [k for k in (name, f"{name}_file", f"{name}_env") if section.get(k) not in (None, "")]
    if len(given) > 1:
        raise ConfigurationError(f"{where}: give only one of {', '.join(given)}")
    if not given:
        if required:
            raise ConfigurationError(f"{where}: needs one of {name}, {name}_file, {name}_env")
        return None
    key = given[0]
    reference = section[key]
    if key == name:
        value = reference
    elif key.endswith("_file"):
        try:
            with open(os.path.expanduser(str(reference)), encoding="utf-8") as handle:
                value = handle.read()
        except OSError as exc:
            raise ConfigurationError(f"{where}: cannot read {key} {str(reference)!r}: {exc.strerror}") from None
    else:
        value = os.environ.get(str(reference))
        if value is None:
            raise ConfigurationError(f"{where}: environment variable {reference} ({key}) is not set")
    if not isinstance(value, str):
        raise ConfigurationError(f"{where}: {key} must be a string")
    value = value.strip()
    if not value:
        raise ConfigurationError(f"{where}: {key} is empty")
    return value


def _check_keys(section: Any, allowed: frozenset[str], where: str) -> Mapping[str, Any]:
    if section is None:
        return {}
    if not isinstance(section, Mapping):
        raise ConfigurationError(f"{where} must be a mapping, got {type(section).__name__}")
    unknown = sorted(set(section) - allowed)
    if unknown:
        raise ConfigurationError(
            f"{where}: unknown key(s) {', '.join(map(str, unknown))}; known: {', '.join(sorted(allowed))}"
        )
    return section


def _as_list(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v for v in value.replace(",", " ").split() if v]
    if isinstance(value, Iterable) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ConfigurationError(f"{where} must be a string or a list of strings")


class JwtValidator:
    """Validates bearer JWTs with PyJWT; built from the ``auth.jwt`` config section."""

    def __init__(self, section: Mapping[str, Any]) -> None:
        where = "auth.jwt"
        section = _check_keys(section, _JWT_KEYS, where)
        secret = read_secret(section, "secret", where)
        public_key = read_secret(section, "public_key", where)
        if (secret is None) == (public_key is None):
            raise ConfigurationError(
                f"{where}: give either a secret (HS256) or a public_key (RS256/ES256), "
                "as the value, a *_file or a *_env reference"
            )
        allowed = HMAC_ALGORITHMS if secret is not None else PUBLIC_KEY_ALGORITHMS
        algorithms = _as_list(section.get("algorithms"), f"{where}.algorithms") or (
            ["HS256"] if secret is not None else ["RS256", "ES256"]
        )
        wrong = [a for a in algorithms if a not in allowed]
        if wrong:
            kind = "a secret" if secret is not None else "a public key"
            # Mixing HMAC and public-key algorithms is the classic "algorithm confusion" hole.
            raise ConfigurationError(
                f"{where}: algorithm(s) {', '.join(wrong)} cannot be used with {kind}; choose from {', '.join(allowed)}"
            )
        self.algorithms = algorithms
        self.key: Any = secret
        if public_key is not None:
            try:
                from cryptography.hazmat.primitives.serialization import (
                    load_pem_public_key,
                )
            except ImportError:
                raise ConfigurationError(
                    f"{where}: a public key needs the 'cryptography' package (pip install cryptography)"
                ) from None
            try:
                self.key = load_pem_public_key(public_key.encode())
            except (ValueError, TypeError):
                raise ConfigurationError(f"{where}: public_key is not a PEM public key") from None
        self.issuer = section.get("issuer") or None
        audience = section.get("audience")
        self.audience: str | list[str] | None = (
            list(audience) if isinstance(audience, (list, tuple)) else audience
        ) or None
        self.roles_claim = str(section.get("roles_claim") or "roles")
        try:
            self.leeway = float(section.get("leeway", 0) or 0)
        except (TypeError, ValueError):
            raise ConfigurationError(f"{where}.leeway must be a number of seconds") from None
        if self.issuer is None or self.audience is None:
            log.warning(
                "management API: auth.jwt has no %s configured: tokens meant for other "
                "services signed with the same key would be accepted",
                " and ".join(n for n, v in (("issuer", self.issuer), ("audience", self.audience)) if v is None),
            )

    def validate(self, token: str) -> Principal:
        import jwt

        required = ["exp"] + (["iss"] if self.issuer else []) + (["aud"] if self.audience else [])
        try:
            claims = jwt.decode(
                token,
                self.key,
                algorithms=self.algorithms,
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": required},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError(401, "the token has expired", "invalid_token") from None
        except jwt.InvalidAudienceError:
            raise AuthError(401, "the token is for another audience", "invalid_token") from None
        except jwt.InvalidIssuerError:
            raise AuthError(401, "the token is from another issuer", "invalid_token") from None
        except jwt.MissingRequiredClaimError as exc:
            raise AuthError(401, f"the token has no '{exc.claim}' claim", "invalid_token") from None
        except jwt.InvalidTokenError:
            # Bad signature, malformed, wrong algorithm, not yet valid: say no more than that.
            raise AuthError(401, "the token is invalid", "invalid_token") from None
        roles = frozenset(r for r in _claim_roles(claims, self.roles_claim) if r in ROLES)
        subject = claims.get("sub")
        return Principal(str(subject) if subject is not None else "jwt", roles, "jwt")


def _claim_roles(claims: Mapping[str, Any], path: str) -> list[str]:
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return []
        value = value.get(part)
    if isinstance(value, str):
        return [v for v in value.replace(",", " ").split() if v]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, str)]
    return []


@dataclass(frozen=True)
class _ApiKey:
    digest: bytes
    principal: Principal


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


class Authenticator:
    """Turns a request's headers into a ``Principal`` or raises ``AuthError`` (401).

    Built from the ``auth`` config section; with nothing configured every request is refused."""

    def __init__(self, section: Mapping[str, Any] | None = None) -> None:
        section = _check_keys(section, _AUTH_KEYS, "auth")
        self.jwt = JwtValidator(section["jwt"]) if section.get("jwt") else None
        self._keys: list[_ApiKey] = []
        entries = section.get("api_keys") or []
        if not isinstance(entries, (list, tuple)):
            raise ConfigurationError("auth.api_keys must be a list of {key|key_file|key_env, roles}")
        for index, entry in enumerate(entries, 1):
            where = f"auth.api_keys[{index}]"
            entry = _check_keys(entry, _API_KEY_KEYS, where)
            key = cast(str, read_secret(entry, "key", where, required=True))  # required: never None
            roles = _as_list(entry.get("roles"), f"{where}.roles")
            if not roles:
                raise ConfigurationError(f"{where}: give its roles ({', '.join(ROLES)})")
            unknown = [r for r in roles if r not in ROLES]
            if unknown:
                raise ConfigurationError(f"{where}: unknown role(s) {', '.join(unknown)}; known: {', '.join(ROLES)}")
            digest = _digest(key)
            if any(hmac.compare_digest(digest, k.digest) for k in self._keys):
                raise ConfigurationError(f"{where}: the same key is configured twice")
            if len(key) < 16:
                log.warning("management API: %s is shorter than 16 characters; use a long random key", where)
            name = str(entry.get("name") or f"api-key-{index}")
            self._keys.append(_ApiKey(digest, Principal(name, frozenset(roles), "api_key")))

    @property
    def configured(self) -> bool:
        return self.jwt is not None or bool(self._keys)

    def _api_key(self, key: str) -> Principal | None:
        digest = _digest(key)
        found = None
        for candidate in self._keys:  # no early exit: the time taken does not tell which key matched
            if hmac.compare_digest(digest, candidate.digest):
                found = candidate.principal
        return found

    def authenticate(self, headers: HeaderLookup) -> Principal:
        if not self.configured:
            raise AuthError(
                401,
                "no credentials are configured for the management API (set auth.jwt or auth.api_keys in the config)",
            )
        api_key = headers.get("X-API-Key")
        if api_key:
            principal = self._api_key(api_key.strip())
            if principal is None:
                raise AuthError(401, "unknown API key", "invalid_token")
            return principal
        authorization = headers.get("Authorization") or ""
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthError(401, "authentication required: send 'Authorization: Bearer <token>' or 'X-API-Key: <key>'")
        principal = self._api_key(token) if self._keys else None
        if principal is not None:
            return principal
        if self.jwt is not None and token.count(".") == 2:
            return self.jwt.validate(token)
        raise AuthError(401, "unknown API key or invalid token", "invalid_token")

    def authorize(self, headers: HeaderLookup, role: str) -> Principal:
        """The request's principal if it holds ``role``; else AuthError 401 or 403."""
        principal = self.authenticate(headers)
        if not principal.may(role):
            raise AuthError(403, f"this needs the role '{role}'", "insufficient_scope")
        return principal

    def __repr__(self) -> str:
        return f"Authenticator(jwt={self.jwt is not None}, api_keys={len(self._keys)})"

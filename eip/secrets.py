"""Secrets: which names hold one, and how to mask them (``xxxxxx``) wherever text leaves the engine.

One rule, used by endpoint URIs, the config file, log lines, datasources, the management API and
components alike.

**Which names are secret** (``is_secret_name``). A name is split into words at ``-``, ``_``,
``.``, spaces and camelCase humps, lower-cased, plurals folded (``X-API-Key``, ``apiKey`` and
``api_keys`` are all ``api key``). It is secret when

* any word contains ``password``, ``passwd``, ``passphrase``, ``secret``, ``credential`` or
  ``apikey`` (``password``, ``wsse_password``, ``sslpassword``, ``client_secret``, ``apikey``); or
* its last word, the thing the name is (``signing_key`` is a key, ``key_deserializer`` a
  deserializer), is ``key``, ``token``, ``pass``, ``pwd``, ``sig``, ``signature``, ``code``,
  ``auth``, ``authorization`` or ``cookie`` (``key``, ``sas_key``, ``access_token``, ``sig``,
  ``basic_auth``, ``X-Auth-Token``, ``Set-Cookie``), or ends in ``token`` (``accesstoken``),
* except the compounds in ``NOT_SECRET`` that name data, not a credential: ``routing_key``,
  ``partition_key``, ``sort_key``, ``message_key``, ``status_code``, ``error_code``,
  ``reply_code``, ``page_token``...

Whole words only: ``keep_alive``, ``monkey``, ``tokenize``, ``passive`` and ``token_url`` are
not secret. An endpoint option declared with ``secret=True`` is masked whatever its name.

**How they are masked.** ``mask_uri`` (one endpoint URI) and ``mask_text`` / ``Masker`` (free
text: log lines, exception messages) replace

* the value of every secret-named query option (``?api-key=xxxxxx&queue=q``);
* URL user info: the password of ``scheme://user:password@host``, which is everything from the
  first ``:`` after the user name to the *last* ``@`` before the host (so ``p@ss`` is masked
  whole), or the whole user info when it has no ``:`` (``https://TOKEN@host``, a token given as
  the user name);
* with ``Masker``, every known secret value (the config's) of at least ``min_length`` characters.

``mask_mapping`` masks the values of secret-named keys in a mapping (headers, config sections,
datasource options) and free text in the others.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

MASK = "xxxxxx"
#: Known secret values shorter than this are not searched for in free text (they would mask
#: innocent words); they are still masked where their name says they are secrets.
MIN_MASKED_LENGTH = 4

#: A name with one of these anywhere, even inside a word (``sslpassword``), is secret.
SECRET_WORDS = frozenset({"password", "passwd", "passphrase", "secret", "credential", "apikey"})
#: A name whose last word is one of these is secret (unless listed in ``NOT_SECRET``).
SECRET_LAST_WORDS = frozenset(
    {"key", "token", "pass", "pwd", "sig", "signature", "code", "auth", "authorization", "cookie"}
)
#: Qualifiers that make ``<qualifier>_<last word>`` data rather than a credential.
NOT_SECRET: Mapping[str, frozenset[str]] = {
    "key": frozenset(
        {
            "routing",
            "partition",
            "sort",
            "message",
            "record",
            "cache",
            "primary",
            "foreign",
            "group",
            "correlation",
            "idempotent",
            "idempotency",
            "dedup",
            "deduplication",
            "shard",
            "hash",
            "lookup",
            "row",
            "map",
            "unique",
            "business",
            "natural",
            "composite",
            "join",
            "aggregation",
            "completion",
            "object",
            "header",
        }
    ),
    "code": frozenset(
        {
            "status",
            "error",
            "response",
            "reply",
            "reason",
            "return",
            "exit",
            "result",
            "country",
            "language",
            "currency",
            "http",
            "char",
            "op",
            "operation",
            "product",
            "zip",
            "postal",
            "area",
            "event",
            "type",
            "class",
            "completion",
        }
    ),
    "token": frozenset({"page", "next", "continuation", "sync"}),
}

_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_VOCABULARY = SECRET_WORDS | SECRET_LAST_WORDS | frozenset(NOT_SECRET)
# scheme://user:password@host — user info up to the LAST "@" before the host ends it.
_USERINFO = re.compile(r"(://)([^/?#\s]*)@")  # greedy: up to the last "@" of the authority
_URI_OPTION = re.compile(r"([?&])([^=&?]+)=([^&]*)")
# In free text a value never spans whitespace or quotes.
_TEXT_OPTION = re.compile(r"([?&])([A-Za-z0-9_.\-]+)=([^&\s\"']*)")


def name_words(name: str) -> tuple[str, ...]:
    """``("x", "api", "key")`` for ``X-API-Key``, ``x_api_keys`` or ``xApiKey`` (plurals folded)."""
    words = _NOT_WORD.split(_HUMP.sub("_", name).lower())
    return tuple(w[:-1] if w.endswith("s") and w[:-1] in _VOCABULARY else w for w in words if w)


@lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """True when an option, config key, header or field called ``name`` holds a secret (see the
    module docstring for the rule)."""
    words = name_words(name)
    if not words:
        return False
    if any(secret in word for word in words for secret in SECRET_WORDS):
        return True
    last = words[-1]
    if last not in SECRET_LAST_WORDS:
        return last.endswith("token")  # accesstoken, sastoken; not tokenize
    return len(words) == 1 or words[-2] not in NOT_SECRET.get(last, ())


def _mask_userinfo(match: re.Match[str]) -> str:
    user, colon, _ = match.group(2).partition(":")
    if not colon:
        return f"{match.group(1)}{MASK}@"  # no ":": the user info is the credential (a token)
    return f"{match.group(1)}{user}:{MASK}@"


def mask_userinfo(text: str) -> str:
    """``text`` with the password (or a password-less user info) of every URL masked."""
    return _USERINFO.sub(_mask_userinfo, text) if "@" in text else text


def url_passwords(text: str) -> list[str]:
    """The passwords of the URLs in ``text`` (all of ``p@ss`` in ``amqp://u:p@ss@host/``)."""
    if "@" not in text:
        return []
    return [
        password
        for _, colon, password in (m.group(2).partition(":") for m in _USERINFO.finditer(text))
        if colon and password
    ]


def mask_uri(text: str, secret_options: Iterable[str] = ()) -> str:
    """One endpoint URI with its user-info password and secret options (by name, plus those
    in ``secret_options``) masked: for logs, error messages and the management API."""
    extra = frozenset(o.lower() for o in secret_options)
    masked = mask_userinfo(text)

    def hide(match: re.Match[str]) -> str:
        name = match.group(2)
        return f"{match.group(1)}{name}={MASK}" if name.lower() in extra or is_secret_name(name) else match.group(0)

    return _URI_OPTION.sub(hide, masked) if "=" in masked else masked


def _hide_text_option(match: re.Match[str]) -> str:
    name = match.group(2)
    return f"{match.group(1)}{name}={MASK}" if is_secret_name(name) else match.group(0)


class Masker:
    """``masker(text)``: free text with known secrets, URL user info and secret URI options masked.

    Built once per set of secrets (one compiled pattern), so a log handler can call it per line."""

    def __init__(self, secrets: Iterable[str] = (), *, min_length: int = MIN_MASKED_LENGTH) -> None:
        longest_first = sorted({s for s in secrets if s and len(s) >= min_length}, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, longest_first))) if longest_first else None

    def __call__(self, text: str) -> str:
        if self._pattern is not None:
            text = self._pattern.sub(MASK, text)
        text = mask_userinfo(text)
        if "=" in text:
            text = _TEXT_OPTION.sub(_hide_text_option, text)
        return text


def mask_text(text: str, secrets: Iterable[str] = (), *, min_length: int = 1) -> str:
    """``text`` with the given secrets (every one, however short, by default), URL user info and
    secret URI options masked."""
    return Masker(secrets, min_length=min_length)(text)


def mask_mapping(mapping: Mapping[Any, Any], mask: Any = None) -> dict[Any, Any]:
    """A copy of ``mapping`` (headers, options, a config section) with the value of every
    secret-named key masked, nested mappings and lists included; other text goes through
    ``mask`` (default ``mask_text``: URL passwords, secret URI options)."""
    text_mask = mask or mask_text

    def value_of(name: str, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: value_of(str(k), v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [value_of(name, v) for v in value]
        if is_secret_name(name) and value is not None and value != "":
            return MASK
        return text_mask(value) if isinstance(value, str) else value

    return {key: value_of(str(key), value) for key, value in mapping.items()}

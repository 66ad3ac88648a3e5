"""Message: a body, case-insensitive headers and an id."""

from __future__ import annotations

import itertools
import os
import socket
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

_ID_PREFIX = f"{socket.gethostname()}-{os.getpid()}"
_message_counter = itertools.count(1)
_new = object.__new__


class Headers(MutableMapping[str, Any]):
    """A dict whose keys compare case-insensitively and keep the spelling first given.

    ``headers["Content-Type"]`` and ``headers["content-type"]`` are the same entry, as in Camel.
    """

    __slots__ = ("_store",)

    def __init__(self, data: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        self._store: dict[str, tuple[str, Any]] = (
            {key.lower(): (key, value) for key, value in data.items()} if data else {}
        )
        for key, value in kwargs.items():
            self._store[key.lower()] = (key, value)

    def __getitem__(self, key: str) -> Any:
        return self._store[key.lower()][1]

    def get(self, key: str, default: Any = None) -> Any:
        item = self._store.get(key.lower())
        return default if item is None else item[1]

    def __setitem__(self, key: str, value: Any) -> None:
        self._store[key.lower()] = (key, value)

    def __delitem__(self, key: str) -> None:
        del self._store[key.lower()]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._store

    def __iter__(self) -> Iterator[str]:
        return (original for original, _ in self._store.values())

    def __len__(self) -> int:
        return len(self._store)

    def items(self) -> Any:  # a list is cheaper than an ItemsView for the usual small header sets
        return [pair for pair in self._store.values()]

    def copy(self) -> Headers:
        clone = Headers.__new__(Headers)
        clone._store = self._store.copy()
        return clone

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self.items()) == {k: other[k] for k in other}
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"


class Message:
    """The payload an exchange carries: ``body``, ``headers`` and a lazily made ``message_id``."""

    __slots__ = ("_message_id", "body", "headers")

    def __init__(
        self, body: Any = None, headers: Mapping[str, Any] | None = None, message_id: str | None = None
    ) -> None:
        self.body = body
        if headers is None:
            store: dict[str, tuple[str, Any]] = {}
        elif headers.__class__ is Headers:
            store = headers._store.copy()  # type: ignore[union-attr]
        else:
            store = {key.lower(): (key, value) for key, value in headers.items()}
        hdrs = _new(Headers)
        hdrs._store = store
        self.headers = hdrs
        self._message_id = message_id

    @property
    def message_id(self) -> str:
        if self._message_id is None:
            self._message_id = f"ID-{_ID_PREFIX}-m{next(_message_counter)}"
        return self._message_id

    @message_id.setter
    def message_id(self, value: str) -> None:
        self._message_id = value

    def copy(self) -> Message:
        """An independent copy: headers are copied, the body object is shared."""
        clone = Message.__new__(Message)
        clone.body = self.body
        clone.headers = self.headers.copy()
        clone._message_id = self._message_id
        return clone

    def get_header(self, name: str, default: Any = None) -> Any:
        return self.headers.get(name, default)

    def set_header(self, name: str, value: Any) -> None:
        self.headers[name] = value

    def __repr__(self) -> str:
        return f"Message(body={self.body!r}, headers={self.headers!r})"

"""Exchange: one message on its way through a route, with properties and its outcome."""

from __future__ import annotations

import enum
import itertools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from eip.message import _ID_PREFIX, Headers, Message

if TYPE_CHECKING:
    from eip.unit_of_work import UnitOfWork

_exchange_counter = itertools.count(1)
_new = object.__new__


class ExchangePattern(str, enum.Enum):
    """``InOnly`` is fire and forget; ``InOut`` expects a reply (the body after the route)."""

    IN_ONLY = "InOnly"
    IN_OUT = "InOut"


InOnly = ExchangePattern.IN_ONLY
InOut = ExchangePattern.IN_OUT


class Exchange:
    """A message, its properties (never sent to endpoints), its exception and its unit of work.

    ``route_stop`` set to True ends routing of this exchange (``stop()``, a handled exception).
    """

    __slots__ = (
        "_id",
        "exception",
        "from_endpoint",
        "from_route_id",
        "message",
        "pattern",
        "properties",
        "rollback_only",
        "route_stop",
        "unit_of_work",
    )

    def __init__(
        self,
        body: Any = None,
        headers: Mapping[str, Any] | None = None,
        *,
        pattern: ExchangePattern = ExchangePattern.IN_ONLY,
        properties: dict[str, Any] | None = None,
        message: Message | None = None,
    ) -> None:
        self._id: int | str = next(_exchange_counter)
        self.pattern = pattern
        self.message = message if message is not None else Message(body, headers)
        self.properties: dict[str, Any] = properties if properties is not None else {}
        self.exception: BaseException | None = None
        self.from_route_id: str | None = None
        self.from_endpoint: str | None = None
        self.unit_of_work: UnitOfWork | None = None
        self.route_stop = False
        self.rollback_only = False

    @property
    def exchange_id(self) -> str:
        if isinstance(self._id, int):
            self._id = f"ID-{_ID_PREFIX}-{self._id}"
        return self._id

    # Convenience accessors used throughout user code, as in Camel's Exchange API.
    @property
    def body(self) -> Any:
        return self.message.body

    @body.setter
    def body(self, value: Any) -> None:
        self.message.body = value

    @property
    def headers(self) -> Any:
        return self.message.headers

    def get_property(self, name: str, default: Any = None) -> Any:
        return self.properties.get(name, default)

    def set_property(self, name: str, value: Any) -> None:
        self.properties[name] = value

    @property
    def failed(self) -> bool:
        return self.exception is not None

    def copy(self, *, share_unit_of_work: bool = True) -> Exchange:
        """An independent copy with a new id: message headers and properties are copied,
        the body object is shared (copy it yourself before mutating it in place)."""
        # Inlined Message.copy/Headers.copy: splitters and aggregators copy on the hot path.
        source = self.message
        message = _new(Message)
        message.body = source.body
        headers = _new(Headers)
        headers._store = source.headers._store.copy()
        message.headers = headers
        message._message_id = source._message_id
        clone = _new(Exchange)
        clone._id = next(_exchange_counter)
        clone.pattern = self.pattern
        clone.message = message
        clone.properties = self.properties.copy()
        clone.exception = self.exception
        clone.from_route_id = self.from_route_id
        clone.from_endpoint = self.from_endpoint
        clone.unit_of_work = self.unit_of_work if share_unit_of_work else None
        clone.route_stop = False
        clone.rollback_only = self.rollback_only
        return clone

    def __repr__(self) -> str:
        return f"Exchange({self.exchange_id}, body={self.message.body!r})"

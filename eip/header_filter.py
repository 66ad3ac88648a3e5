"""Which message headers cross from one transport into another: the one rule every producer
applies to the headers a consumer received (Camel's ``HeaderFilterStrategy``).

Anything that arrives from outside is data, never configuration. A consumer of an endpoint that
declares ``inbound_protocol`` (``http``, ``amqp``, ``ibmmq``) records the headers it made from
what it received in the exchange property ``CamelInboundHeaders`` (``Consumer.create_exchange``)
as an ``Inbound``: the protocol and the very mapping the consumer built (a reference, not a
copy). A producer that gets a reply (``amqp:``/``ibmmq:`` request-reply) records the reply's
headers the same way, over the earlier record. Producers (``amqp:``, ``ibmmq:``, ``http:``)
then look at each header that still holds the value it was received with:

* received by the **http** consumer (the request's headers, query and path parameters): none
  crosses by default, so ``Authorization``, ``Cookie``, ``Host``, ``X-API-Key`` or
  ``?JMS_IBM_MQMD_Priority=9`` never reach a broker's headers, an MQMD or another server; the
  endpoint option ``forward_headers=X-Correlation-Id,X-Tenant`` lets the named ones through;
  credentials never cross, not even when named: ``Authorization``, ``Proxy-Authorization``,
  ``Cookie``, ``Set-Cookie``, ``X-API-Key`` and every name ``eip.secrets`` calls secret;
* received from **another broker protocol** (an AMQP headers table or properties reaching an
  ``ibmmq:`` producer, MQ's RFH2 properties or MQMD reaching an ``amqp:`` producer): the headers
  cross as data, but never as one of the producer's **control headers**: an ``amqp:`` producer
  drops ``CC``, ``BCC``, ``x-delay``, ``x-death``... and the ``CamelRabbitmq*`` headers that set
  AMQP properties (priority, expiration, reply-to, correlation id, app id...); an ``ibmmq:``
  producer drops every ``JMS_IBM_*`` header (MQMD Priority, ReplyToQ, Report...). The put or
  publish gets the endpoint's defaults instead;
* received by a consumer of the **same protocol** (MQ to MQ, AMQP to AMQP): everything crosses,
  so a bridge keeps the MQMD or the AMQP properties. (HTTP to HTTP follows the http rule.)

Control headers, credentials and the engine's ``Camel*`` headers are never forwardable: naming
one in ``forward_headers`` is an ``EndpointOptionError``; there is one rule, not an opt-out. A
header the route set or changed (``set_header``, a processor) is the route's own and goes
through, control headers included. A value equal to the received one counts as received, so a
route that means to pass a received control value on maps it from a header of another name
(``set_header("JMS_IBM_MQMD_Priority", header("priority"))``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from eip.constants import INBOUND_HEADERS
from eip.errors import EndpointOptionError
from eip.options import Option
from eip.secrets import is_secret_name

__all__ = [
    "CREDENTIAL_HEADERS",
    "FORWARD_HEADERS_OPTION",
    "INBOUND_HEADERS",
    "HeaderFilter",
    "Inbound",
    "inbound_of",
    "is_credential",
    "is_inbound",
]

#: Header names that carry credentials, whatever the secrets rule says of the rest.
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"})

#: The protocol whose received headers cross nowhere unless named (the stricter rule).
HTTP = "http"

#: The producer option that names the inbound headers to send on; endpoints add it to their spec.
FORWARD_HEADERS_OPTION = Option(
    "forward_headers",
    "str",
    "",
    "Producer: headers of an inbound HTTP request (received by an http "
    "consumer) to send on, comma-separated (X-Correlation-Id,X-Tenant); by default none are. "
    "Credentials (Authorization, Cookie, X-API-Key...) and control headers never are.",
)

_MISSING = object()


class Inbound(NamedTuple):
    """What a consumer (or a producer's reply) brought in: ``protocol`` and the ``headers`` it
    made, the mapping itself (a ``Headers`` looks names up case-insensitively, a plain dict by
    the exact spelling, which is the one the message keeps). ``previous`` is the earlier record
    when a reply came in over it. A tuple, so durable repositories store it with the exchange
    (``inbound_of`` takes it back from the plain tuple they restore)."""

    protocol: str
    headers: Mapping[str, Any]
    previous: Inbound | None = None

    def source(self, name: str, value: Any) -> str | None:
        """The protocol that gave header ``name`` its ``value``, or None when the route set it."""
        mark: Inbound | None = self
        while mark is not None:
            original = mark.headers.get(name, _MISSING)
            if original is value or (original.__class__ is value.__class__ and original == value):
                return mark.protocol
            mark = mark.previous
        return None

    def __repr__(self) -> str:  # never the values: they may be credentials
        chain = f", previous={self.previous!r}" if self.previous is not None else ""
        return f"Inbound({self.protocol!r}, {len(self.headers)} headers{chain})"


def from_broker(name: str, value: Any, inbound: Inbound | None) -> bool:
    """True when header ``name`` still holds what a broker's consumer (not HTTP, not the route)
    received: such a value never steers an HTTP call or an HTTP reply."""
    return inbound is not None and inbound.source(name, value) not in (None, HTTP)


#: What steers an HTTP reply beyond its body: never taken from a broker's headers.
HTTP_REPLY_CONTROLS = frozenset(
    {"location", "refresh", "www-authenticate", "content-security-policy", "strict-transport-security", "link"}
)


def is_http_reply_control(name: str) -> bool:
    lowered = name.lower()
    return (
        lowered in HTTP_REPLY_CONTROLS
        or lowered.startswith("access-control-")
        or lowered.startswith("camel")
        or is_credential(lowered)
    )


def inbound_of(properties: Mapping[str, Any]) -> Inbound | None:
    """The ``Inbound`` record in an exchange's properties, if any (also as the plain tuple a
    durable repository restores it as)."""
    return _as_inbound(properties.get(INBOUND_HEADERS))


def _as_inbound(mark: Any) -> Inbound | None:
    if mark is None or mark.__class__ is Inbound:
        return mark
    return _restored(mark)


def _restored(mark: Any) -> Inbound | None:
    if isinstance(mark, tuple) and len(mark) == 3 and isinstance(mark[0], str) and isinstance(mark[1], Mapping):
        return Inbound(mark[0], mark[1], None if mark[2] is None else _restored(mark[2]))
    return None


def is_credential(name: str) -> bool:
    """True for a header that carries credentials (see the module docstring)."""
    lowered = name.lower()
    return lowered in CREDENTIAL_HEADERS or is_secret_name(name)


def is_inbound(name: str, value: Any, inbound: Inbound | None) -> bool:
    """True when header ``name`` still holds the value the http consumer received it with (the
    http component's rule for what is the route's own: what it echoes, which Content-Type)."""
    return inbound is not None and inbound.source(name, value) == HTTP


class HeaderFilter:
    """One producer's filter, built once from its ``forward_headers`` option.

    ``protocol`` is the producer's (``amqp``, ``ibmmq``, ``http``); ``control(name)`` is True for
    its own control headers (never set by another protocol's received headers, never
    forwardable); ``forward_all`` sends every header an HTTP request brought except credentials
    (the http producer's ``forward_request_headers``)."""

    __slots__ = ("control", "forward", "forward_all", "protocol")

    def __init__(
        self,
        forward: str | Iterable[str] = "",
        *,
        protocol: str,
        uri: str = "",
        forward_all: bool = False,
        control: Callable[[str], bool] | None = None,
    ) -> None:
        names = [n.strip() for n in (forward.split(",") if isinstance(forward, str) else forward)]
        refused = [
            n
            for n in names
            if n and (is_credential(n) or n.lower().startswith("camel") or (control is not None and control(n)))
        ]
        if refused:
            raise EndpointOptionError(
                f"endpoint '{uri}': forward_headers cannot name {', '.join(refused)}: credentials, Camel* and "
                "control headers received by a consumer never cross to another transport; set them in the route"
            )
        self.forward = frozenset(n.lower() for n in names if n)
        self.forward_all = forward_all
        self.protocol = protocol
        self.control = control

    def drops(self, name: str, value: Any, inbound: Inbound | None) -> bool:
        """True when header ``name`` with ``value`` must not be sent (see the module docstring)."""
        if inbound is None:
            return False
        source = inbound.source(name, value)
        if source is None:
            return False
        if source == HTTP:
            lowered = name.lower()
            if is_credential(lowered):
                return True
            return not (self.forward_all or lowered in self.forward)
        if source == self.protocol:
            return False
        return self.control is not None and self.control(name)

    def apply(self, headers: Mapping[str, Any], inbound: Any) -> Mapping[str, Any]:
        """``headers`` without those ``drops`` refuses; ``headers`` itself when nothing was received
        or all of it by this producer's own protocol (a bridge: the hot path, no copy). ``inbound``
        is the ``CamelInboundHeaders`` property as it is (``inbound_of`` is applied here)."""
        inbound = _as_inbound(inbound)
        if inbound is None:
            return headers
        if inbound.previous is None and inbound.protocol == self.protocol and self.protocol != HTTP:
            return headers
        return {name: value for name, value in headers.items() if not self.drops(name, value, inbound)}

    def __repr__(self) -> str:
        return (
            f"HeaderFilter(protocol={self.protocol!r}, forward={sorted(self.forward)}, forward_all={self.forward_all})"
        )

"""Which message headers cross from one transport into another: the one rule every producer
applies to the headers an inbound HTTP request brought (Camel's ``HeaderFilterStrategy``).

The ``http:`` consumer records every header it made from the request (the HTTP headers, query
and path parameters, its ``CamelHttp*`` headers) in the exchange property
``CamelHttpInboundHeaders``. Producers (``amqp:``, ``ibmmq:``, ``http:``) leave out a header that
still holds what the request gave it:

* by default none of them crosses, so ``Authorization``, ``Cookie``, ``Host``, ``X-API-Key`` or
  ``?JMS_IBM_MQMD_Priority=9`` never reach a broker's headers or an MQMD;
* the endpoint option ``forward_headers=X-Correlation-Id,X-Tenant`` lets the named ones through;
* credentials never cross, not even when named: ``Authorization``, ``Proxy-Authorization``,
  ``Cookie``, ``Set-Cookie``, ``X-API-Key`` and every name ``eip.secrets`` calls secret
  (``X-Auth-Token``, ``X-Client-Secret``...); nor do the engine's ``Camel*`` headers or a
  producer's control headers (MQMD ``JMS_IBM_*`` fields): naming one in ``forward_headers`` is
  an ``EndpointOptionError``.

A header the route set or changed (``set_header``, a processor) is the route's own and goes
through. A route that wants a request header sent under the same value names it in
``forward_headers``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from eip.errors import EndpointOptionError
from eip.options import Option
from eip.secrets import is_secret_name

#: Header names that carry credentials, whatever the secrets rule says of the rest.
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"})

#: The producer option that names the inbound headers to send on; endpoints add it to their spec.
FORWARD_HEADERS_OPTION = Option(
    "forward_headers", "str", "", "Producer: headers of an inbound HTTP request (received by an http "
    "consumer) to send on, comma-separated (X-Correlation-Id,X-Tenant); by default none are. "
    "Credentials (Authorization, Cookie, X-API-Key...) never are.")

_MISSING = object()


def is_credential(name: str) -> bool:
    """True for a header that carries credentials (see the module docstring)."""
    lowered = name.lower()
    return lowered in CREDENTIAL_HEADERS or is_secret_name(name)


def is_inbound(name: str, value: Any, inbound: Mapping[str, Any] | None) -> bool:
    """True when header ``name`` still holds the value the http consumer set from the request
    (``inbound`` is the ``CamelHttpInboundHeaders`` property, lower-case names)."""
    if not inbound:
        return False
    original = inbound.get(name.lower(), _MISSING)
    return original is value or (type(original) is type(value) and original == value)


class HeaderFilter:
    """One producer's filter, built once from its ``forward_headers`` option.

    ``control(name)`` is True for the producer's own control headers (never forwarded from a
    request); ``forward_all`` sends every inbound header except credentials (the http producer's
    ``forward_request_headers``)."""

    __slots__ = ("forward", "forward_all")

    def __init__(self, forward: str | Iterable[str] = "", *, uri: str = "", forward_all: bool = False,
                 control: Callable[[str], bool] | None = None) -> None:
        names = [n.strip() for n in (forward.split(",") if isinstance(forward, str) else forward)]
        refused = [n for n in names if n and (is_credential(n) or n.lower().startswith("camel")
                                               or (control is not None and control(n)))]
        if refused:
            raise EndpointOptionError(
                f"endpoint '{uri}': forward_headers cannot name {', '.join(refused)}: credentials, Camel* and "
                "control headers of a request never cross to another transport; set them in the route")
        self.forward = frozenset(n.lower() for n in names if n)
        self.forward_all = forward_all

    def drops(self, name: str, value: Any, inbound: Mapping[str, Any] | None) -> bool:
        """True when header ``name`` with ``value`` must not be sent (``inbound`` as ``is_inbound``)."""
        if not is_inbound(name, value, inbound):
            return False
        lowered = name.lower()
        if is_credential(lowered):
            return True
        return not (self.forward_all or lowered in self.forward)

    def apply(self, headers: Mapping[str, Any], inbound: Mapping[str, Any] | None) -> Mapping[str, Any]:
        """``headers`` without those ``drops`` refuses; ``headers`` itself when nothing came from HTTP."""
        if not inbound:
            return headers
        return {name: value for name, value in headers.items() if not self.drops(name, value, inbound)}

    def __repr__(self) -> str:
        return f"HeaderFilter(forward={sorted(self.forward)}, forward_all={self.forward_all})"

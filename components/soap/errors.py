"""Errors of the ``soap:`` component: a SOAP Fault, received or to be answered.

Rooted in the core tree (``eip.errors.EndpointError``). ``eip.errors`` and ``eip`` still resolve
``SoapFault``, lazily, for code written before it moved here.
"""

from __future__ import annotations

from eip.errors import EndpointError


class SoapFault(EndpointError):
    """A SOAP service answered with a Fault (or a route served by a ``soap:`` consumer raises one
    to answer with it). ``code`` is the fault code without its namespace prefix (``Client``,
    ``Server``, ``Client.UnknownSymbol``; SOAP 1.2 ``Sender``/``Receiver``), ``string`` (also
    ``message``) the fault string, ``actor`` the fault actor (1.2: role) or None, ``detail`` the
    detail as text, a dict (child elements by local name) or None, ``detail_element`` the lxml
    element it came from, ``subcodes`` SOAP 1.2 subcode names.

    A Fault is an answer, not an outage: ``retryable`` is False, so an error handler's general
    redelivery policy does not repeat the call; an ``on_exception(SoapFault, maximum_redeliveries=...)``
    clause (or the soap endpoint's ``redeliver_faults`` option) does."""

    retryable = False

    def __init__(
        self,
        string: str,
        *,
        code: str = "Server",
        actor: str | None = None,
        detail: object = None,
        subcodes: tuple[str, ...] = (),
        detail_element: object = None,
        uri: str | None = None,
    ) -> None:
        self.code = code
        self.string = string
        self.actor = actor
        self.detail = detail
        self.subcodes = tuple(subcodes)
        self.detail_element = detail_element
        super().__init__(f"SOAP fault {code}: {string}", uri=uri)

    @property
    def message(self) -> str:
        return self.string

    @property
    def is_client_fault(self) -> bool:
        """True for a fault blaming the request (``Client``/``Sender``, with or without a subcode)."""
        return self.code.split(".", 1)[0] in ("Client", "Sender")

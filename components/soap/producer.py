"""The ``soap:OPERATION?wsdl=...`` producer: one SOAP call per exchange through zeep.

The request, from the body:

* a dict (any mapping) -> keyword arguments of the operation (``{"symbol": "IBM"}``);
* a tuple -> positional arguments; None -> no arguments; anything else -> the one argument;
* the ``CamelSoapHeaders`` header (a dict of the WSDL-declared header parts, or a list of lxml
  elements) -> the SOAP header.

The reply replaces the body (even InOnly, as Camel): the operation's result as plain values
(``zeep.helpers.serialize_object``: dicts, lists, str, int, Decimal, datetime...; None for a
one-way operation). With ``keep_envelope=true`` the raw envelopes, as sent and as received, are
in the headers ``CamelSoapRequestEnvelope`` and ``CamelSoapResponseEnvelope`` (also when the
answer is a Fault).

Failures raise, so error handlers decide:

* the service answered a SOAP Fault -> ``SoapFault`` (``code``, ``string``, ``actor``,
  ``detail``). A Fault is an answer, not an outage: it is not redelivered by an error handler's
  general policy (``retryable`` False) unless ``redeliver_faults=server`` (faults not blaming the
  client) or ``always``, or an ``on_exception(SoapFault, maximum_redeliveries=...)`` clause asks;
* the body does not fit the operation's input -> ``ValidationError`` (nothing was sent): unknown
  or missing names (zeep), and with ``validate=true`` (default) every value's type and facets,
  checked on the rendered envelope against the WSDL's schema (the consumer's validator, through
  a zeep egress plugin, so the envelope validated is the one sent); the error names the
  operation and each wrong element's path (``PlaceOrder/order/qty``);
* the service cannot be reached (refused, DNS, connect timeout) -> ``EndpointNotConnectedError``;
  no response within ``read_timeout`` -> ``ExchangeTimedOutError`` (the service may still have
  acted on the request: redeliver only idempotent operations);
* an HTTP error status without a SOAP envelope (401, 404, 503 from a proxy) ->
  ``HttpOperationFailedError``; a reply that is not the operation's output -> ``EndpointError``.

The WSDL (and every document it imports) is loaded once per endpoint, on first use (from a
local file at route start, so a wrong operation name fails the start), through zeep's document
cache for documents fetched by URL; calls go through one pooled ``requests.Session`` per
endpoint (basic authentication, TLS verification and client certificate set on it).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from components.http.shared import failure_reason, request_error
from components.soap.documents import WsdlDocuments, default_loader
from components.soap.envelope import detail_value, is_client_code, local_code, plain
from components.soap.errors import SoapFault
from eip import constants as c
from eip.component import Producer
from eip.errors import (
    ConfigurationError,
    EndpointError,
    EndpointNotConnectedError,
    EndpointOptionError,
    HttpOperationFailedError,
    ValidationError,
)
from eip.secrets import mask_uri

if TYPE_CHECKING:
    from components.soap.endpoint import SoapEndpoint
    from eip.exchange import Exchange

log = logging.getLogger("components.soap")

# Statuses a SOAP answer comes with: 200 (and 202 for one-way), a Fault with 500 (1.2: 400 too).
_SOAP_STATUS = frozenset({200, 201, 202, 400, 500})
_MAX_LISTED = 3
_ELEMENT_PREFIX = re.compile(r"^Element '[^']*': ")  # libxml2 names the element; the path says where


class RequestValidator:
    """A zeep egress plugin: checks the rendered envelope against the WSDL's schema before it
    is sent (before WS-Security is applied) and raises ValidationError naming the operation and
    the path of each wrong element. The schema is compiled once per thread (lxml's XMLSchema is
    not shared between threads), the first time at the producer's start."""

    def __init__(self, documents: WsdlDocuments, signature: Callable[[str], str]) -> None:
        self.documents = documents
        self.signature = signature

    def ingress(self, envelope: Any, http_headers: Any, operation: Any) -> tuple[Any, Any]:
        return envelope, http_headers

    def egress(self, envelope: Any, http_headers: Any, operation: Any, binding_options: Any) -> tuple[Any, Any]:
        schema = self.documents.validator()
        if not schema.validate(envelope):
            problems = [
                f"{_element_path(e.path)}: {_ELEMENT_PREFIX.sub('', e.message).rstrip('.')}" for e in schema.error_log
            ]
            more = f"; and {len(problems) - _MAX_LISTED} more" if len(problems) > _MAX_LISTED else ""
            # No URI in the text: an http consumer answers a ValidationError's message to its client.
            raise ValidationError(
                f"the body does not fit {operation.name}({self.signature(operation.name)}), "
                f"nothing was sent: {'; '.join(problems[:_MAX_LISTED])}{more}"
            )
        return envelope, http_headers


def _element_path(path: str | None) -> str:
    """``/soap-env:Envelope/soap-env:Body/ns0:PlaceOrder/ns0:order/ns0:qty`` -> ``PlaceOrder/order/qty``."""
    steps = [step.rpartition(":")[2] for step in (path or "").split("/") if step]
    if steps[:2] == ["Envelope", "Body"] or steps[:2] == ["Envelope", "Header"]:
        steps = steps[2:] if steps[1] == "Body" else steps[1:]
    return "/".join(steps) or "(envelope)"


def _loader(transport: Any, timeout: float) -> Callable[[str], bytes]:
    """Reads the WSDL's documents for the validator as zeep did: by URL through zeep's transport
    (its document cache, the endpoint's authentication and TLS settings), local files directly."""
    files = default_loader(timeout)

    def load(location: str) -> bytes:
        if urlparse(location).scheme in ("http", "https"):
            return bytes(transport.load(location))
        return files(location)

    return load


class SoapClient:
    """A zeep client for one endpoint: WSDL loaded, port chosen, operation found."""

    def __init__(self, endpoint: SoapEndpoint) -> None:
        import requests
        import zeep
        from requests.adapters import HTTPAdapter
        from zeep.cache import InMemoryCache, SqliteCache
        from zeep.transports import Transport

        from components.soap.endpoint import choose_ports

        values = endpoint.values
        self.uri = endpoint.uri
        session = requests.Session()
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=values["max_connections"], max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.verify = values["ca_bundle"] or values["ssl_verify"]
        if values["cert_file"] is not None:
            session.cert = (values["cert_file"], values["key_file"]) if values["key_file"] else values["cert_file"]
        if values["username"] is not None:
            session.auth = (values["username"], values["password"] or "")
        self.session = session
        self.timeout = (values["connect_timeout"], values["read_timeout"])
        cache: Any = None
        if values["cache"] == "memory":
            cache = InMemoryCache(timeout=int(values["cache_timeout"]))
        elif values["cache"] == "sqlite":
            cache = SqliteCache(timeout=int(values["cache_timeout"]))
        transport = Transport(cache=cache, timeout=self.timeout, operation_timeout=self.timeout, session=session)
        wsse = None
        if values["wsse_username"] is not None:
            from zeep.wsse.username import UsernameToken

            wsse = UsernameToken(values["wsse_username"], values["wsse_password"], use_digest=values["wsse_digest"])
        # raw_response: the producer keeps the HTTP response (status, raw envelope) and lets the
        # binding parse it, exactly as zeep's own call path does.
        settings = zeep.Settings(strict=values["strict"], raw_response=True)
        wsdl = values["wsdl"]
        try:
            client = zeep.Client(wsdl, transport=transport, wsse=wsse, settings=settings)
        except requests.exceptions.HTTPError as exc:
            session.close()
            status = exc.response.status_code if exc.response is not None else 0
            raise HttpOperationFailedError(
                f"cannot load the WSDL {_mask(wsdl)}: HTTP status {status}", uri=self.uri, status_code=status
            ) from exc
        except requests.exceptions.RequestException as exc:
            session.close()
            raise EndpointNotConnectedError(
                f"cannot load the WSDL {_mask(wsdl)}: {failure_reason(exc)}", uri=self.uri
            ) from exc
        except Exception as exc:
            session.close()
            raise EndpointOptionError(
                f"endpoint '{self.uri}': the WSDL {_mask(wsdl)} cannot be used: {type(exc).__name__}: {exc}"
            ) from exc
        try:
            _, port = choose_ports(client.wsdl, values["service"], values["port"], values["soap_version"], self.uri)[0]
            binding = port.binding
            try:
                self.operation = binding.get(endpoint.operation)
            except ValueError:
                from components.soap.endpoint import _closest

                raise EndpointOptionError(
                    f"endpoint '{self.uri}': port {port.name!r} has no operation "
                    f"{endpoint.operation!r}{_closest(endpoint.operation, binding.all())}"
                ) from None
            self.address = values["address"] or port.binding_options.get("address")
            if not self.address:
                raise EndpointOptionError(
                    f"endpoint '{self.uri}': port {port.name!r} has no soap:address; set option address"
                )
            if values["validate"]:
                client.plugins.append(
                    RequestValidator(self._documents(wsdl, transport, values["read_timeout"]), self._signature)
                )
        except Exception:
            session.close()
            raise
        self.client = client
        self.binding = binding
        self.version = "1.2" if "soap12" in type(binding).__name__.lower() else "1.1"
        self.call = client.create_service(binding.name, self.address)[endpoint.operation]
        self.signature = self.operation.input.signature() if self.operation.input else ""

    def _documents(self, wsdl: str, transport: Any, timeout: float) -> WsdlDocuments:
        """The WSDL's documents (read again from zeep's cache), their schema compiled now: one
        that lxml cannot compile fails the start, as the consumer's does."""
        try:
            documents = WsdlDocuments(wsdl, _loader(transport, timeout))
            documents.validator()
        except ConfigurationError as exc:
            cause = exc.__cause__ or exc
            raise EndpointOptionError(
                f"endpoint '{self.uri}': the schema of the WSDL {_mask(wsdl)} cannot be "
                f"used to check requests ({cause}); set validate=false to send them "
                "unchecked"
            ) from exc
        return documents

    def _signature(self, operation: str) -> str:
        found = self.binding.get(operation)
        return found.input.signature() if found is not None and found.input else ""

    def close(self) -> None:
        self.session.close()


class SoapProducer(Producer):
    endpoint: SoapEndpoint

    def start(self) -> None:
        # A local WSDL is read now, so a wrong operation, service or port fails the route's start;
        # a WSDL by URL is fetched on the first exchange if its server is down now.
        try:
            self.endpoint.client()
        except EndpointError as exc:  # unreachable, or an HTTP error status: maybe not for long
            log.warning("%s: WSDL not loaded yet, will retry on the first exchange: %s", self.endpoint.uri, exc)

    def process(self, exchange: Exchange) -> None:
        import requests
        from zeep import exceptions as zx

        endpoint = self.endpoint
        client = endpoint.client()
        message = exchange.message
        args, kwargs = _arguments(message.body)
        soap_headers = message.headers.get(c.SOAP_HEADERS)
        if soap_headers is not None:
            kwargs["_soapheaders"] = soap_headers
        try:
            response = client.call(*args, **kwargs)
        except requests.exceptions.RequestException as exc:
            raise request_error(exc, endpoint.operation, "service", endpoint.uri, client.timeout) from exc
        except (TypeError, ValueError, zx.ValidationError) as exc:
            # No URI in the text: an http consumer answers a ValidationError's message to its client.
            raise ValidationError(f"the body does not fit {endpoint.operation}({client.signature}): {exc}") from exc
        if endpoint.values["keep_envelope"]:
            message.headers[c.SOAP_REQUEST_ENVELOPE] = response.request.body
            message.headers[c.SOAP_RESPONSE_ENVELOPE] = response.content
        status = response.status_code
        if status not in _SOAP_STATUS:  # 401, 404, 503 from a proxy...: no SOAP answer to read
            raise self._http_failure(response)
        try:
            result = client.binding.process_reply(client.client, client.operation, response)
        except zx.Fault as fault:
            if fault.code is None and status != 200:
                raise self._http_failure(response) from None  # XML, but no Fault in it
            raise self._fault(fault) from None
        except zx.TransportError:
            if status != 200:
                raise self._http_failure(response) from None
            raise EndpointError(f"{endpoint.operation}: the response is not XML", uri=endpoint.uri) from None
        except (zx.Error, ValueError, TypeError, AttributeError) as exc:
            raise EndpointError(
                f"{endpoint.operation}: the response does not fit the WSDL's output: {type(exc).__name__}: {exc}",
                uri=endpoint.uri,
            ) from exc
        message.body = plain(result)

    def _http_failure(self, response: Any) -> HttpOperationFailedError:
        status = response.status_code
        return HttpOperationFailedError(
            f"{self.endpoint.operation}: HTTP status {status} {response.reason or ''}".rstrip() + " without a SOAP "
            "Fault",
            uri=self.endpoint.uri,
            status_code=status,
            reason=response.reason or "",
            response_body=response.text,
            response_headers=dict(response.headers),
        )

    def _fault(self, fault: Any) -> SoapFault:
        code = local_code(fault.code)
        error = SoapFault(
            fault.message or "",
            code=code,
            actor=fault.actor,
            detail=detail_value(fault.detail),
            subcodes=tuple(local_code(s) for s in (fault.subcodes or ())),
            detail_element=fault.detail if not isinstance(fault.detail, str) else None,
            uri=self.endpoint.uri,
        )
        redeliver = self.endpoint.values["redeliver_faults"]
        if redeliver == "always" or (redeliver == "server" and not is_client_code(code)):
            error.retryable = True  # type: ignore[misc]
        return error


def _arguments(body: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    if body is None:
        return (), {}
    if isinstance(body, Mapping):
        return (), {str(name): value for name, value in body.items()}
    if isinstance(body, tuple):
        return body, {}
    if type(body).__name__ == "CompoundValue":
        return (), dict(plain(body))
    return (body,), {}


def _mask(location: str) -> str:
    return repr(mask_uri(location))

"""The ``soap:`` options, endpoint and component.

One scheme, two forms, told apart by the path:

* ``soap:GetQuote?wsdl=quotes.wsdl`` (an operation name): a producer calling that operation;
* ``soap:/quotes?wsdl=quotes.wsdl`` (a path): a consumer serving the WSDL on the engine's HTTP
  server at that path.
"""

from __future__ import annotations

import difflib
import os
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from components.http.shared import LazyResource, refuse_options
from eip.component import Component, Consumer, Endpoint, Processor, Producer
from eip.errors import EndpointOptionError
from eip.options import Option, OptionSpec
from eip.uri import Uri

if TYPE_CHECKING:
    from components.soap.producer import SoapClient

SOAP_VERSIONS = ("1.1", "1.2")

CONSUMER_OPTIONS = frozenset({"max_request_body"})
PRODUCER_OPTIONS = frozenset(
    {
        "connect_timeout",
        "read_timeout",
        "cache",
        "cache_timeout",
        "username",
        "password",
        "wsse_username",
        "wsse_password",
        "wsse_digest",
        "ssl_verify",
        "ca_bundle",
        "cert_file",
        "key_file",
        "keep_envelope",
        "strict",
        "redeliver_faults",
        "max_connections",
    }
)


class SoapEndpoint(Endpoint):
    """``soap:OPERATION?wsdl=...`` (producer) or ``soap:/path?wsdl=...`` (consumer)."""

    options = OptionSpec(
        (
            Option(
                "wsdl",
                "str",
                None,
                "The WSDL: a file path (relative to the working directory) or an http(s) URL. Required.",
            ),
            Option("service", "str", None, "The wsdl:service to use (its name); default the first."),
            Option(
                "port",
                "str",
                None,
                "The wsdl:port to use (its name); default the first SOAP port "
                "(of soap_version, if given). A consumer given no port serves every "
                "SOAP port of the service (1.1 and 1.2).",
            ),
            Option("soap_version", "str", None, "Only ports of this SOAP version.", choices=SOAP_VERSIONS),
            Option(
                "address",
                "str",
                None,
                "Producer: the service URL to call instead of the WSDL's "
                "soap:address. Consumer: the URL the served WSDL advertises "
                "(default: the URL the client used).",
            ),
            Option("connect_timeout", "duration", 10.0, "Producer: seconds to establish a connection."),
            Option(
                "read_timeout",
                "duration",
                30.0,
                "Producer: seconds to wait for the response (and for each read of the WSDL).",
            ),
            Option(
                "cache",
                "str",
                "memory",
                "Producer: cache of WSDL and schema documents fetched by URL.",
                choices=("memory", "sqlite", "none"),
            ),
            Option("cache_timeout", "duration", 3600.0, "Producer: how long a cached document stays valid."),
            Option("username", "str", None, "Producer: HTTP basic authentication user."),
            Option("password", "str", None, "Producer: HTTP basic authentication password.", secret=True),
            Option("wsse_username", "str", None, "Producer: WS-Security UsernameToken user."),
            Option("wsse_password", "str", None, "Producer: WS-Security UsernameToken password.", secret=True),
            Option(
                "wsse_digest",
                "bool",
                False,
                "Producer: send the UsernameToken password as a digest (with nonce and created) instead of plain text.",
            ),
            Option("ssl_verify", "bool", True, "Producer: verify the server's TLS certificate."),
            Option("ca_bundle", "str", None, "Producer: a CA bundle file to verify TLS certificates with."),
            Option("cert_file", "str", None, "Producer: TLS client certificate (PEM; may hold the key too)."),
            Option("key_file", "str", None, "Producer: the TLS client certificate's private key (PEM, unencrypted)."),
            Option(
                "keep_envelope",
                "bool",
                False,
                "Producer: keep the raw request and response envelopes "
                "(bytes) in headers CamelSoapRequestEnvelope and "
                "CamelSoapResponseEnvelope.",
            ),
            Option(
                "strict",
                "bool",
                True,
                "Producer: parse responses strictly (false: zeep's recover mode for servers that answer sloppy XML).",
            ),
            Option(
                "redeliver_faults",
                "str",
                "never",
                "Producer: which SOAP Faults an error handler's general redelivery policy may repeat.",
                choices=("never", "server", "always"),
            ),
            Option("max_connections", "int", 10, "Producer: pooled HTTP connections kept to the service."),
            Option(
                "validate",
                "bool",
                True,
                "Validate each request against the WSDL's schema: a consumer "
                "answers a Client fault listing what is wrong; a producer raises "
                "ValidationError naming the element before anything is sent.",
            ),
            Option(
                "max_request_body",
                "str",
                "1MB",
                "Consumer: largest request body (bytes, or 512KB, 10MB); a larger one gets a Client fault.",
            ),
        )
    )

    def __init__(self, component: Component, uri: Uri, values: dict[str, Any], given: dict[str, Any]) -> None:
        super().__init__(component, uri, values, given)
        self.serving = uri.path.startswith("/")
        # Instance attributes shadow the class flags: one form consumes, the other produces.
        self.supports_consumer = self.serving  # type: ignore[misc]
        self.supports_producer = not self.serving  # type: ignore[misc]
        self.operation = "" if self.serving else uri.path
        self.max_request_body = 0
        self._client: LazyResource[SoapClient] = LazyResource(self._new_client)

    def validate(self) -> None:
        wsdl = self.values["wsdl"]
        if not wsdl:
            raise EndpointOptionError(f"endpoint '{self.uri}' needs option wsdl (a file path or an http(s) URL)")
        if urlparse(wsdl).scheme not in ("http", "https") and not os.path.isfile(_local_path(wsdl)):
            raise EndpointOptionError(
                f"endpoint '{self.uri}': WSDL file {wsdl!r} not found (relative paths are relative to {os.getcwd()!r})"
            )
        given = set(self.given)
        if self.serving:
            refuse_options(self.uri, given, PRODUCER_OPTIONS, "a producer (soap:OPERATION)")
            from eip.http_server import parse_size

            try:
                self.max_request_body = parse_size(self.values["max_request_body"])
            except (TypeError, ValueError) as exc:
                raise EndpointOptionError(f"endpoint '{self.uri}': option 'max_request_body': {exc}") from None
            return
        refuse_options(self.uri, given, CONSUMER_OPTIONS, "a consumer (soap:/path)")
        if not self.operation or "/" in self.operation:
            raise EndpointOptionError(
                f"endpoint '{self.uri}': name the operation to call (soap:GetQuote?wsdl=...), "
                "or a path starting with '/' to serve the WSDL (soap:/quotes?wsdl=...)"
            )
        if self.values["max_connections"] < 1:
            raise EndpointOptionError(f"endpoint '{self.uri}': max_connections must be at least 1")
        if (self.values["wsse_username"] is None) != (self.values["wsse_password"] is None):
            raise EndpointOptionError(f"endpoint '{self.uri}': WS-Security needs both wsse_username and wsse_password")
        if self.values["key_file"] is not None and self.values["cert_file"] is None:
            raise EndpointOptionError(f"endpoint '{self.uri}': key_file needs cert_file")
        for name in ("ca_bundle", "cert_file", "key_file"):
            path = self.values[name]
            if path is not None and not os.path.isfile(path):
                raise EndpointOptionError(f"endpoint '{self.uri}': {name} {path!r} is not a file")

    # -- producer side ------------------------------------------------------------------------------
    def client(self) -> SoapClient:
        """This endpoint's zeep client, bound to its operation: the WSDL is loaded (and cached)
        once, on first use, with one pooled HTTP session; closed when the endpoint stops."""
        return self._client.get()

    def _new_client(self) -> SoapClient:
        from components.soap.producer import SoapClient

        return SoapClient(self)

    def stop(self) -> None:
        self._client.close()

    def create_producer(self) -> Producer:
        if self.serving:
            raise EndpointOptionError(
                f"endpoint '{self.uri}' serves a WSDL; to call an operation write soap:OPERATION?wsdl=..."
            )
        from components.soap.producer import SoapProducer

        return SoapProducer(self)

    def create_consumer(self, processor: Processor) -> Consumer:
        if not self.serving:
            raise EndpointOptionError(
                f"endpoint '{self.uri}': consume with soap:/path?wsdl=... (served on the engine's HTTP server)"
            )
        from components.soap.consumer import SoapConsumer

        return SoapConsumer(self, processor)


def _local_path(location: str) -> str:
    if location.startswith("file://"):
        from urllib.request import url2pathname

        return url2pathname(urlparse(location).path)
    return os.path.expanduser(location)


def choose_ports(
    wsdl: Any, service_name: str | None, port_name: str | None, version: str | None, where: str
) -> list[tuple[Any, Any]]:
    """``(service, port)`` pairs of a zeep WSDL document that an endpoint uses: the named port, or
    every SOAP port of the service (of ``version``, when given). Raises EndpointOptionError."""
    from zeep.wsdl.bindings.soap import Soap11Binding, Soap12Binding, SoapBinding

    services = wsdl.services
    if not services:
        raise EndpointOptionError(f"endpoint '{where}': the WSDL defines no wsdl:service")
    if service_name is not None:
        service = services.get(service_name)
        if service is None:
            raise EndpointOptionError(
                f"endpoint '{where}': the WSDL has no service {service_name!r}{_closest(service_name, services)}"
            )
    else:
        service = next(iter(services.values()))
    kinds = {"1.1": Soap11Binding, "1.2": Soap12Binding, None: SoapBinding}
    if port_name is not None:
        port = service.ports.get(port_name)
        if port is None:
            raise EndpointOptionError(
                f"endpoint '{where}': service {service.name!r} has no port {port_name!r}"
                f"{_closest(port_name, service.ports)}"
            )
        if not isinstance(port.binding, kinds[version]):
            raise EndpointOptionError(
                f"endpoint '{where}': port {port_name!r} is not a SOAP {version or ''} port".replace("  ", " ")
            )
        return [(service, port)]
    ports = [(service, port) for port in service.ports.values() if isinstance(port.binding, kinds[version])]
    if not ports:
        raise EndpointOptionError(
            f"endpoint '{where}': service {service.name!r} has no SOAP {version or ''} port".replace("  ", " ")
        )
    return ports


def _closest(name: str, candidates: Any) -> str:
    names = sorted(candidates)
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; it has {', '.join(repr(n) for n in names)}" if names else ""


class SoapComponent(Component):
    """soap: - call SOAP services (soap:OPERATION?wsdl=...) with zeep, and serve a WSDL
    (soap:/path?wsdl=...) on the engine's HTTP server. See components.soap."""

    endpoint_class = SoapEndpoint
    summary = "SOAP 1.1/1.2 client for a WSDL operation (soap:OP?wsdl=...) and SOAP service (soap:/path?wsdl=...)"

    # A WSDL, port or credentials make a different endpoint: soap:GetQuote of two WSDLs must
    # not be merged into one.
    options_identify_endpoint = True

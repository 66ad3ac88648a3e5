"""The ``soap:/path?wsdl=...`` consumer: a SOAP service served from a WSDL on the engine's HTTP
server; each request is one exchange, run on the server's worker thread (nothing is queued, so
a crash loses no accepted request: the client gets no response and knows it must retry).

* ``GET path?wsdl`` answers the WSDL with the ``soap:address`` of the served ports set to the
  service's real address (the ``address`` option, else the URL the client used), and the
  documents it imports at ``path?xsd=xsdN`` / ``path?wsdl=wsdlN`` (see ``documents``).
* ``POST path`` with an envelope: parsed with the engine's one safe parser (entity declarations
  and external DTDs refused), dispatched to an operation by the QName of the Body's element
  (the SOAPAction, when sent, must agree), validated against the WSDL's schema
  (``validate=true``), and read by zeep into a dict body: the input element's fields
  (``{"symbol": "IBM"}``), nested dicts and lists for complex types. Headers:
  ``CamelSoapOperation`` (the operation's name), ``CamelSoapVersion``, ``CamelSoapAction``
  (when the client sent one) and ``CamelSoapHeaders`` (the WSDL-declared SOAP header parts).
  A one-way operation's exchange is InOnly and answers 202 with no body; others are InOut.
* The reply is the body after the route, serialised by zeep as the operation's output: a dict
  of the output element's fields, or the value of its one field (``123.45`` for
  ``GetQuoteResponse(GetQuoteResult)``); ``CamelSoapResponseHeaders`` (a dict) fills the
  declared reply headers. Both SOAP 1.1 and 1.2 ports of the service are served (the envelope's
  namespace picks), unless ``port`` or ``soap_version`` narrows it.

Faults (built with lxml; SOAP 1.1 answers every Fault with status 500, SOAP 1.2 a Sender fault
with 400 and others with 500):

* Client (1.2 Sender): malformed or unsafe XML, not an envelope, no Body, a body over
  ``max_request_body``, an unknown operation, a SOAPAction that names another operation, a
  request that breaks the schema (the problems listed), a ``ValidationError`` in the route
  (``validate()``, ``xsd()``);
* VersionMismatch: an envelope of a SOAP version the service does not serve; MustUnderstand: a
  header marked ``mustUnderstand`` that the WSDL does not declare for the operation;
* a ``SoapFault`` raised in the route (or by a ``soap:`` producer it called) is answered as it
  is: its code, string, actor and detail;
* Server (1.2 Receiver): any other failure, and a reply that does not fit the operation's
  output. The fault string is ``internal error (error id ...)``; the same id is logged at ERROR
  with the traceback, which never reaches the client.

A failure handled by the error handler (dead letter channel, ``on_exception(handled=True)``)
is a normal reply built from the body the handler left.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lxml import etree
from werkzeug.wrappers import Response

from components.http.shared import ServedConsumer
from components.soap.envelope import (
    CONTENT_TYPE,
    ENVELOPE_NS,
    VERSION_OF,
    fault_envelope,
    fault_status,
    plain,
)
from components.soap.errors import SoapFault
from eip import constants as c
from eip.component import Processor
from eip.errors import EndpointOptionError, ValidationError, find_cause
from eip.exchange import ExchangePattern
from eip.http_server import (
    HandlerRegistration,
    HttpServer,
    internal_error,
    json_error,
)
from eip.safe_xml import UnsafeXmlError, parse_xml

if TYPE_CHECKING:
    from components.soap.documents import WsdlDocuments
    from components.soap.endpoint import SoapEndpoint

log = logging.getLogger("components.soap")

_MAX_LISTED = 5
_NEXT = {
    "http://schemas.xmlsoap.org/soap/actor/next",
    "http://www.w3.org/2003/05/soap-envelope/role/next",
    "http://www.w3.org/2003/05/soap-envelope/role/ultimateReceiver",
}


class Fault(Exception):
    """A Fault to answer with (raised inside the consumer only)."""

    def __init__(self, code: str, string: str, *, actor: str | None = None, detail: Any = None) -> None:
        super().__init__(string)
        self.code, self.string, self.actor, self.detail = code, string, actor, detail
        self.version: str | None = None  # the request's SOAP version, once known


@dataclass
class Operation:
    """One operation of a served binding, with what dispatch and the reply need."""

    name: str
    zeep: Any
    version: str
    soapaction: str
    header_qnames: frozenset[str]
    output_fields: tuple[str, ...] | None  # None: the output is a simple value
    one_way: bool


@dataclass
class Version:
    """The operations served for one SOAP version."""

    version: str
    by_qname: dict[str | None, list[Operation]] = field(default_factory=dict)
    by_action: dict[str, Operation] = field(default_factory=dict)
    namespace: str | None = None


class Service:
    """What a consumer serves: the WSDL's documents and the operations of its SOAP ports."""

    def __init__(self, endpoint: SoapEndpoint) -> None:
        import zeep
        from zeep.transports import Transport

        from components.soap.documents import WsdlDocuments, default_loader
        from components.soap.endpoint import choose_ports

        values = endpoint.values
        location = values["wsdl"]
        try:
            self.documents: WsdlDocuments = WsdlDocuments(location, default_loader(30.0))
        except EndpointOptionError:
            raise
        except Exception as exc:
            raise EndpointOptionError(f"endpoint '{endpoint.uri}': {exc}") from exc
        try:
            client = zeep.Client(self.documents.location, transport=_Preloaded(self.documents, Transport()))
        except Exception as exc:
            raise EndpointOptionError(
                f"endpoint '{endpoint.uri}': the WSDL {location!r} cannot be used: {type(exc).__name__}: {exc}"
            ) from exc
        self.client = client
        chosen = choose_ports(client.wsdl, values["service"], values["port"], values["soap_version"], endpoint.uri)
        self.ports = [(service.name, port.name) for service, port in chosen]
        self.versions: dict[str, Version] = {}
        for _, port in chosen:
            binding = port.binding
            version = "1.2" if "soap12" in type(binding).__name__.lower() else "1.1"
            served = self.versions.setdefault(version, Version(version))
            served.namespace = served.namespace or getattr(binding.name, "namespace", None)
            for name in binding.all():
                operation = _operation(name, binding.get(name), version)
                served.by_qname.setdefault(_input_qname(operation.zeep), []).append(operation)
                if operation.soapaction:
                    served.by_action.setdefault(operation.soapaction, operation)
        self.default_version = "1.1" if "1.1" in self.versions or not self.versions else "1.2"
        self.validate = values["validate"]
        if self.validate:
            self.documents.validator()  # compiles now: a schema that cannot compile fails the start


class SoapConsumer(ServedConsumer):
    """Registers GET (the WSDL) and POST (requests) on the engine's ``HttpServer`` while the route
    runs; a suspended route (or one whose engine is stopping) answers 503."""

    endpoint: SoapEndpoint

    def __init__(self, endpoint: SoapEndpoint, processor: Processor) -> None:
        super().__init__(endpoint, processor)
        self.service: Service | None = None

    def start(self) -> None:
        if self.service is None:
            self.service = Service(self.endpoint)
        super().start()

    def register(self, server: HttpServer) -> HandlerRegistration:
        return server.add_handler(("GET", "POST"), self.endpoint.parsed.path, self.handle)

    # -- one request --------------------------------------------------------------------------------
    def handle(self, request: Any, path_params: dict[str, str]) -> Any:
        service = self.service
        if service is None:
            return json_error(503, "service unavailable")
        if request.method in ("GET", "HEAD"):
            return self._document(request, service)
        version = service.default_version
        try:
            version, operation, exchange = self._read(request, service)
            self.processor.process(exchange)  # the route entry: never raises
            if exchange.exception is not None:
                return self._fault_response(version, self._failure(exchange, operation, service))
            if operation.one_way:
                return Response(b"", status=202)
            content = _serialize(operation, exchange)
        except Fault as fault:
            return self._fault_response(fault.version or version, fault)
        except Exception as exc:  # noqa: BLE001 - a reply that does not fit, a zeep surprise
            error_id, _ = internal_error(
                f"SOAP {self.endpoint.parsed.path}: the request or its reply could not be processed", exc
            )
            return self._fault_response(version, Fault("Server", f"internal error (error id {error_id})"))
        return Response(content, status=200, content_type=CONTENT_TYPE[version])

    def _read(self, request: Any, service: Service) -> tuple[str, Operation, Any]:
        """Parse, dispatch, validate and deserialise a request; raises Fault."""
        limit = self.endpoint.max_request_body
        length = request.content_length
        if length is not None and length > limit:
            raise Fault("Client", f"request body too large (more than {limit} bytes)")
        data = request.stream.read(limit + 1)
        if len(data) > limit:
            raise Fault("Client", f"request body too large (more than {limit} bytes)")
        if not data:
            raise Fault("Client", "empty request: POST a SOAP envelope (GET ?wsdl for the WSDL)")
        try:
            root = parse_xml(data)
        except UnsafeXmlError as exc:
            raise Fault("Client", str(exc)) from None
        except etree.XMLSyntaxError as exc:
            raise Fault("Client", f"malformed XML: {_short(exc)}") from None
        name = etree.QName(root)
        if name.localname != "Envelope":
            raise Fault("Client", f"not a SOAP envelope: the root element is {root.tag!r}")
        envelope_version = VERSION_OF.get(name.namespace or "")
        if envelope_version is None or envelope_version not in service.versions:
            speaks = " and ".join(f"SOAP {v}" for v in sorted(service.versions))
            raise Fault(
                "VersionMismatch",
                f"envelope namespace {name.namespace!r} is not served here (this service speaks {speaks})",
            )
        try:
            return self._operation_request(request, service, root, envelope_version)
        except Fault as fault:
            fault.version = envelope_version
            raise

    def _operation_request(self, request: Any, service: Service, root: Any, version: str) -> tuple[str, Operation, Any]:
        ns = ENVELOPE_NS[version]
        body = root.find(f"{{{ns}}}Body")
        if body is None:
            raise Fault("Client", "the envelope has no Body")
        header = root.find(f"{{{ns}}}Header")
        action = _action(request, version)
        operation = _dispatch(service.versions[version], body, action)
        if action and operation.soapaction and action != operation.soapaction:
            raise Fault(
                "Client",
                f"SOAPAction {action!r} does not match operation {operation.name!r} "
                f"(expected {operation.soapaction!r})",
            )
        if header is not None:
            _check_must_understand(header, ns, operation)
        if service.validate:
            schema = service.documents.validator()
            if not schema.validate(root):
                problems = [f"line {e.line}: {e.message}" for e in schema.error_log]
                more = f"; and {len(problems) - _MAX_LISTED} more" if len(problems) > _MAX_LISTED else ""
                raise Fault(
                    "Client", f"the request does not match the WSDL's schema: {'; '.join(problems[:_MAX_LISTED])}{more}"
                )
        body_value, header_values = _deserialize(operation, body, header)
        headers: dict[str, Any] = {c.SOAP_OPERATION: operation.name, c.SOAP_VERSION: version}
        if action:
            headers[c.SOAP_ACTION] = action
        if header_values:
            headers[c.SOAP_HEADERS] = header_values
        pattern = ExchangePattern.IN_ONLY if operation.one_way else ExchangePattern.IN_OUT
        return version, operation, self.create_exchange(body_value, headers, pattern=pattern)

    def _failure(self, exchange: Any, operation: Operation, service: Service) -> Fault:
        failure = exchange.exception
        fault = find_cause(failure, SoapFault)
        if isinstance(fault, SoapFault):
            detail = fault.detail_element if fault.detail_element is not None else fault.detail
            return Fault(fault.code, fault.string, actor=fault.actor, detail=detail)
        invalid = find_cause(failure, ValidationError)
        if invalid is not None:
            return Fault("Client", str(invalid))
        error_id, _ = internal_error(
            f"SOAP {self.endpoint.parsed.path} {operation.name}: route "
            f"'{exchange.from_route_id}' failed for exchange {exchange.exchange_id}",
            failure,
        )
        return Fault("Server", f"internal error (error id {error_id})")

    def _fault_response(self, version: str, fault: Fault) -> Any:
        service = self.service
        namespace = service.versions[version].namespace if service and version in service.versions else None
        content = fault_envelope(
            version, fault.code, fault.string, actor=fault.actor, detail=fault.detail, subcode_namespace=namespace
        )
        return Response(content, status=fault_status(version, fault.code), content_type=CONTENT_TYPE[version])

    def _document(self, request: Any, service: Service) -> Any:
        args = request.args
        if "wsdl" in args:
            key = args.get("wsdl") or ""
        elif "xsd" in args:
            key = args.get("xsd") or "-"
        else:
            return json_error(404, "not found", message="GET ?wsdl for the WSDL; POST SOAP requests")
        base = self.endpoint.values["address"] or request.base_url
        content = service.documents.served(key, base, service.ports)
        if content is None:
            return json_error(404, "not found", message=f"no document {key!r}")
        return Response(content, status=200, content_type="text/xml; charset=utf-8")


class _Preloaded:
    """A zeep transport that reads the documents ``WsdlDocuments`` already loaded."""

    def __init__(self, documents: WsdlDocuments, transport: Any) -> None:
        self._documents = documents
        self._transport = transport

    def load(self, url: str) -> bytes:
        import os

        known = self._documents.documents
        doc = known.get(url)
        if doc is None and "://" not in url:
            doc = known.get(os.path.normpath(url))
        if doc is not None:
            return etree.tostring(doc.tree)
        return self._transport.load(url)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def _operation(name: str, zeep_op: Any, version: str) -> Operation:
    headers: frozenset[str] = frozenset()
    message = zeep_op.input
    if message is not None and message.header is not None:
        headers = frozenset(
            element.qname.text if hasattr(element.qname, "text") else str(element.qname)
            for _, element in message.header.type.elements
        )
    output = zeep_op.output
    one_way = output is None  # no wsdl:output (an output message without parts is an empty reply)
    fields: tuple[str, ...] | None = None
    if output is not None and output.body is not None:
        elements = getattr(output.body.type, "elements", None)
        fields = tuple(field_name for field_name, _ in elements) if elements is not None else None
    return Operation(name, zeep_op, version, zeep_op.soapaction or "", headers, fields, one_way)


def _input_qname(zeep_op: Any) -> str | None:
    message = zeep_op.input
    if message is None or message.body is None:
        return None
    body = message.body
    if getattr(message, "_is_body_wrapped", False):
        elements = body.type.elements
        if not elements:
            return None
        body = elements[0][1]
    qname = body.qname
    return qname.text if hasattr(qname, "text") else str(qname)


def _dispatch(served: Version, body: Any, action: str | None) -> Operation:
    children = [child for child in body if isinstance(child.tag, str)]
    key = children[0].tag if children else None
    candidates = served.by_qname.get(key)
    if not candidates:
        if key is None and action and action in served.by_action:
            return served.by_action[action]
        what = f"element {key!r}" if key else "an empty Body"
        raise Fault("Client", f"unknown operation: no operation of this service takes {what}")
    if len(candidates) > 1 and action:
        for candidate in candidates:
            if candidate.soapaction == action:
                return candidate
    return candidates[0]


def _action(request: Any, version: str) -> str | None:
    if version == "1.1":
        raw = request.headers.get("SOAPAction")
    else:
        raw = request.mimetype_params.get("action")
    if raw is None:
        return None
    return raw.strip().strip('"').strip() or None


def _check_must_understand(header: Any, ns: str, operation: Operation) -> None:
    role = "actor" if ns == ENVELOPE_NS["1.1"] else "role"
    for block in header:
        if not isinstance(block.tag, str):
            continue
        flag = block.get(f"{{{ns}}}mustUnderstand")
        if flag not in ("1", "true"):
            continue
        target = block.get(f"{{{ns}}}{role}")
        if target and target not in _NEXT:
            continue
        if block.tag not in operation.header_qnames:
            raise Fault(
                "MustUnderstand",
                f"header {block.tag!r} is marked mustUnderstand but is not understood by operation {operation.name!r}",
            )


def _deserialize(operation: Operation, body: Any, header: Any) -> tuple[Any, Any]:
    """The body's fields as plain values, and the declared header parts (or None)."""
    from zeep import exceptions as zx

    message = operation.zeep.input
    if message is None or message.body is None:
        return None, None
    etree.strip_tags(body, etree.Comment, etree.ProcessingInstruction)  # zeep reads the first child
    try:
        # Not message.deserialize(): it unwraps a one-field input to its bare value; a dict of the
        # input element's fields is the same shape for every operation.
        value = message._deserialize_body(body)["body"]
        headers = message._deserialize_headers(header).get("header") if header is not None else None
    except (zx.Error, ValueError, TypeError, IndexError, AttributeError) as exc:
        raise Fault("Client", f"the request does not fit operation {operation.name!r}: {exc}") from None
    header_values = plain(headers) if headers is not None else None
    if isinstance(header_values, Mapping):
        header_values = {name: value for name, value in header_values.items() if value is not None} or None
    return plain(value), header_values


def _serialize(operation: Operation, exchange: Any) -> bytes:
    """The operation's output envelope for the exchange's body; raises if it does not fit."""
    body = exchange.message.body
    if type(body).__name__ == "CompoundValue":
        body = plain(body)
    fields = operation.output_fields
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = {}
    if body is None:
        pass
    elif fields is None:
        args = (body,)
    elif isinstance(body, Mapping) and set(body) <= set(fields) and (body or not fields):
        kwargs = dict(body)
    elif len(fields) == 1:
        kwargs = {fields[0]: body}  # by keyword: zeep then checks a dict's keys against the type
    else:
        raise ValueError(
            f"the reply of {operation.name!r} must be a dict of {', '.join(fields)}; got "
            f"{type(body).__name__}" + (f" with keys {sorted(map(str, body))}" if isinstance(body, Mapping) else "")
        )
    reply_headers = exchange.message.headers.get(c.SOAP_RESPONSE_HEADERS)
    if reply_headers is not None:
        kwargs["_soapheaders"] = reply_headers
    serialized = operation.zeep.output.serialize(*args, **kwargs)
    return etree.tostring(serialized.content, xml_declaration=True, encoding="UTF-8")


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 200 else text[:200] + "..."

"""The ``http://host/path`` producer: one HTTP call per exchange through the endpoint's pooled
``requests.Session``.

The request, as Camel's HTTP producer builds it:

* method: the endpoint's ``method`` option, else the ``CamelHttpMethod`` header, else POST with
  a body and GET without (unlike Camel, a query string alone does not make it GET: that would
  drop the body without a word); GET and HEAD send no body;
* query: the ``CamelHttpQuery`` header, else the URI's own query parameters (those that are not
  endpoint options). ``CamelHttpMethod`` and ``CamelHttpQuery`` count only when the route set
  them or an http consumer's request brought them: received from a broker (an AMQP headers
  table, an MQ property) they are ignored, so a publisher cannot choose the call. ``CamelHttpPath``/``CamelHttpUri`` are ignored (an http consumer sets them
  to its own request, which is not where this endpoint points);
* body and ``Content-Type``: ``components.http.binding``;
* headers: the message headers, except ``Camel*``, hop-by-hop ones (``Host`` too) and the
  headers of the HTTP request an http consumer received (path and query parameters too), unless
  ``forward_headers`` names them or ``forward_request_headers=true`` (a bridge) sends them all;
  credentials of that request (``Authorization``, ``Cookie``, ``X-API-Key``...) are never relayed
  to another server (``eip.header_filter``). Headers the route set go through.

The response replaces the message (even InOnly, as Camel): its body parsed by content type,
its headers added to the message's (except hop-by-hop ones and ``Content-Length``/
``Content-Encoding``), plus ``CamelHttpResponseCode`` and ``CamelHttpResponseText``.

Failures raise, so error handlers and redelivery decide:

* a status outside ``ok_status_code_range`` (non-2xx) -> ``HttpOperationFailedError`` with
  ``status_code``, ``reason``, ``response_body`` and ``response_headers`` (the message is left
  as it was); ``throw_exception_on_failure=false`` makes it a normal response instead;
* the server cannot be reached (refused, DNS, connect timeout, connection dropped) ->
  ``EndpointNotConnectedError``; no response within ``read_timeout`` ->
  ``ExchangeTimedOutError`` (the server may still have acted on the request: redeliver only
  idempotent calls); other client errors (TLS, a bad URL) -> ``EndpointError``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from components.http.binding import (
    HOP_BY_HOP,
    BodyParseError,
    decode_body,
    encode_body,
    outbound_headers,
    parse_content_type,
    route_content_type,
)
from components.http.shared import request_error
from eip import constants as c
from eip.component import Producer
from eip.errors import (
    EndpointError,
    HttpOperationFailedError,
)
from eip.header_filter import HeaderFilter, Inbound, from_broker, inbound_of
from eip.http_server import ALL_METHODS

if TYPE_CHECKING:
    from components.http.endpoint import HttpEndpoint
    from eip.exchange import Exchange


def _control(headers: Any, name: str, inbound: Inbound | None) -> Any:
    """Control header ``name`` (``CamelHttpMethod``, ``CamelHttpQuery``), unless a broker's consumer
    received it (an AMQP headers table or MQ property never steers an HTTP call). Set by the route
    or brought by an http consumer's request (a proxy, as Camel's), it applies."""
    value = headers.get(name)
    return None if value is None or from_broker(name, value, inbound) else value


_REQUEST_SKIP = HOP_BY_HOP | {"content-type"}
_RESPONSE_SKIP = HOP_BY_HOP | {"content-encoding"}
_NO_REQUEST_BODY = frozenset({"GET", "HEAD"})


class HttpProducer(Producer):
    endpoint: HttpEndpoint

    def __init__(self, endpoint: HttpEndpoint) -> None:
        super().__init__(endpoint)
        values = endpoint.values
        self._crossing = HeaderFilter(
            values["forward_headers"], protocol="http", uri=endpoint.uri, forward_all=values["forward_request_headers"]
        )

    def process(self, exchange: Exchange) -> None:
        import requests

        endpoint = self.endpoint
        values = endpoint.values
        message = exchange.message
        headers = message.headers
        inbound = inbound_of(exchange.properties)
        query = _control(headers, c.HTTP_QUERY, inbound)
        query = endpoint.query if query is None else str(query).lstrip("?")
        method = self._method(message.body, headers, inbound)
        url = endpoint.url + (f"?{query}" if query else "")
        data = None
        send_headers = dict(outbound_headers(self._crossing.apply(headers, inbound), None, _REQUEST_SKIP))
        if method not in _NO_REQUEST_BODY:
            bridged = None if values["forward_request_headers"] else inbound
            try:
                data, content_type = encode_body(message.body, route_content_type(headers, bridged))
            except TypeError as exc:
                raise EndpointError(f"cannot send the body: {exc}", uri=endpoint.uri) from None
            if content_type is not None and data is not None:
                send_headers["Content-Type"] = content_type
        connect, read = values["connect_timeout"], values["read_timeout"]
        try:
            response = endpoint.session().request(
                method,
                url,
                data=data,
                headers=send_headers,
                timeout=(connect, read),
                allow_redirects=values["follow_redirects"],
            )
        except requests.exceptions.RequestException as exc:
            raise request_error(exc, method, "server", endpoint.uri, (connect, read)) from exc
        try:
            self._take_response(exchange, response)
        finally:
            response.close()

    def _method(self, body: Any, headers: Any, inbound: Inbound | None) -> str:
        method = self.endpoint.values["method"]
        if method is not None:
            return str(method)
        header = _control(headers, c.HTTP_METHOD, inbound)
        if header is not None:
            method = str(header).strip().upper()
            if method not in ALL_METHODS:
                raise EndpointError(f"header {c.HTTP_METHOD} is {header!r}, not an HTTP method", uri=self.endpoint.uri)
            return method
        return "GET" if body is None else "POST"

    def _take_response(self, exchange: Exchange, response: Any) -> None:
        endpoint = self.endpoint
        status = response.status_code
        content = response.content
        if (
            not any(low <= status <= high for low, high in endpoint.ok_ranges)
            and endpoint.values["throw_exception_on_failure"]
        ):
            _, charset = parse_content_type(response.headers.get("Content-Type"))
            try:
                text = content.decode(charset or "utf-8", "replace")
            except LookupError:
                text = content.decode("utf-8", "replace")
            raise HttpOperationFailedError(
                f"HTTP operation failed with status {status} {response.reason or ''}".rstrip(),
                uri=endpoint.uri,
                status_code=status,
                reason=response.reason or "",
                response_body=text,
                response_headers=dict(response.headers),
                redirect_location=response.headers.get("Location") if 300 <= status < 400 else None,
            )
        try:
            body = decode_body(content, response.headers.get("Content-Type"), endpoint.values["parse_body"])
        except BodyParseError as exc:
            raise EndpointError(f"the response (status {status}) does not parse: {exc}", uri=endpoint.uri) from None
        message = exchange.message
        headers = message.headers
        for name, value in response.headers.items():
            if name.lower() not in _RESPONSE_SKIP:
                headers[name] = value
        if "Content-Type" not in response.headers:
            headers.pop("Content-Type", None)  # the request's type would describe the wrong body
        headers[c.HTTP_RESPONSE_CODE] = status
        headers[c.HTTP_RESPONSE_TEXT] = response.reason or ""
        message.body = body

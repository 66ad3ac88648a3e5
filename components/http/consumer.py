"""The ``http:/path`` consumer: each request to the engine's server is one InOut exchange.

The request runs through the route on the server's worker thread (no queue in between, so
nothing is accepted that a crash could lose: a client whose request was cut off by a crash
gets no response and knows it must retry). The reply is the exchange after the route:

* status: the ``CamelHttpResponseCode`` header, else 200, else 204 when the body is ``None``
  or empty (as Camel);
* body and ``Content-Type``: see ``components.http.binding``;
* headers: those the route added or changed (the request's own are not echoed back), except
  ``Camel*`` and hop-by-hop ones;
* an unhandled failure: a ``ValidationError`` (``validate()``, ``xsd()``) answers 400 with its
  message; anything else 500 with ``{"error": "internal error", "error_id": "..."}``, the id
  logged at ERROR with the traceback, never the exception in the response;
* a failure handled by the error handler (dead letter channel, ``on_exception(handled=True)``)
  is a normal reply: the body as the handler left it (set the status with
  ``CamelHttpResponseCode``).

A request body that does not parse as its content type says (malformed JSON or XML, unsafe
XML) answers 400 before any route runs.

The headers made from the request are recorded as received over ``http`` (``create_exchange``), so
producers send none of them on (credentials never) unless their ``forward_headers`` names them:
see ``eip.header_filter``. A path that could answer one of the management API's is refused when
the route starts (``HttpServer.reserve``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Response

from components.http.binding import (
    HOP_BY_HOP,
    BodyParseError,
    decode_body,
    encode_body,
    outbound_headers,
    route_content_type,
)
from components.http.shared import ServedConsumer
from eip import constants as c
from eip.errors import ValidationError, find_cause
from eip.exchange import ExchangePattern
from eip.header_filter import from_broker, inbound_of, is_http_reply_control
from eip.http_server import (
    HandlerRegistration,
    HttpServer,
    internal_error,
    json_error,
    status_line,
)
from eip.message import Headers

if TYPE_CHECKING:
    from components.http.endpoint import HttpEndpoint
    from eip.exchange import Exchange

log = logging.getLogger("components.http")

_REPLY_SKIP = HOP_BY_HOP | {"content-type", "date", "server"}
_NO_BODY_STATUS = frozenset({204, 304})


class HttpConsumer(ServedConsumer):
    """Registers a handler on the engine's ``HttpServer`` while the route runs; a suspended route
    (or one whose engine is stopping) answers 503."""

    endpoint: HttpEndpoint

    def register(self, server: HttpServer) -> HandlerRegistration:
        return server.add_handler(
            self.endpoint.methods,
            self.endpoint.parsed.path,
            self.handle,
            match_prefix=self.endpoint.values["match_on_uri_prefix"],
            owner=self.endpoint.uri,
        )

    # -- one request ------------------------------------------------------------------------------
    def handle(self, request: Any, path_params: dict[str, str]) -> Any:
        from werkzeug.exceptions import RequestEntityTooLarge

        try:
            data = request.get_data(cache=False)
        except RequestEntityTooLarge:
            return json_error(413, "request body too large")
        try:
            body = decode_body(data, request.headers.get("Content-Type"), self.endpoint.values["parse_body"])
        except BodyParseError as exc:
            return json_error(400, "bad request", message=str(exc))
        headers = _request_headers(request, path_params)
        exchange = self.create_exchange(body, headers, pattern=ExchangePattern.IN_OUT)
        self.processor.process(exchange)  # the route entry: never raises
        failure = exchange.exception
        if failure is not None:
            invalid = find_cause(failure, ValidationError)
            if invalid is not None:
                return json_error(400, "invalid request", message=str(invalid))
            return internal_error(
                f"HTTP {request.method} {request.path}: route '{exchange.from_route_id}' "
                f"failed for exchange {exchange.exchange_id}",
                failure,
            )[1]
        try:
            return _reply(exchange)
        except Exception as exc:  # noqa: BLE001 - a body HTTP cannot carry, a bad status header
            return internal_error(
                f"HTTP {request.method} {request.path}: the reply of route "
                f"'{exchange.from_route_id}' (exchange {exchange.exchange_id}) "
                f"cannot be sent",
                exc,
            )[1]


def _request_headers(request: Any, path_params: dict[str, str]) -> Headers:
    """Query parameters, then HTTP headers over them, then path parameters over both; then the
    CamelHttp* headers. ``Camel*`` names from the client are dropped."""
    headers = Headers()
    for name, values in request.args.lists():
        if not name.lower().startswith("camel"):
            headers[name] = values[0] if len(values) == 1 else values
    for name, value in request.headers.items():
        if not name.lower().startswith("camel"):
            headers[name] = value
    for name, value in path_params.items():
        headers[name] = value
    query = request.query_string.decode("latin-1")
    headers[c.HTTP_METHOD] = request.method
    headers[c.HTTP_PATH] = request.path
    headers[c.HTTP_URI] = request.environ.get("REQUEST_URI") or (request.path + (f"?{query}" if query else ""))
    if query:
        headers[c.HTTP_QUERY] = query
    return headers


def _reply(exchange: Exchange) -> Any:
    message = exchange.message
    headers = message.headers
    inbound = inbound_of(exchange.properties)
    data, content_type = encode_body(message.body, route_content_type(headers, inbound))
    code = headers.get(c.HTTP_RESPONSE_CODE)
    if code is not None and from_broker(c.HTTP_RESPONSE_CODE, code, inbound):
        code = None  # a broker's reply does not choose the HTTP status
    if code is None:
        status = 204 if not data else 200
    else:
        try:
            status = int(code)
        except (TypeError, ValueError):
            raise ValueError(f"header {c.HTTP_RESPONSE_CODE} is {code!r}, not a status code") from None
        if not 100 <= status <= 599:
            raise ValueError(f"header {c.HTTP_RESPONSE_CODE} is {status}, outside 100-599")
    if status in _NO_BODY_STATUS or status < 200:
        data, content_type = None, None
    response = _Reply(data or b"", status=status_line(status))
    if content_type is not None:
        response.headers["Content-Type"] = content_type
    for name, value in outbound_headers(headers, inbound, _REPLY_SKIP):
        if not (is_http_reply_control(name) and from_broker(name, headers.get(name), inbound)):
            response.headers.add(name, value)
    return response


class _Reply(Response):
    """A Response without werkzeug's default ``text/plain`` content type."""

    default_mimetype = None

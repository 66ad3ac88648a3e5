"""REST facade: ``POST /api/quotes`` (JSON) in front of a legacy pricing service (XML).

A modern client asks for a quote in JSON; the route validates it, translates it into the XML
request the pricing service understands, calls the service (request-reply) and translates its
XML answer back into JSON::

    .venv/bin/eip run routes
    curl -s -X POST localhost:8080/api/quotes -H 'Content-Type: application/json' \\
         -d '{"customer": "C-042", "items": [{"sku": "SKU-APPLE", "qty": 12}, {"sku": "SKU-KETTLE", "qty": 1}]}'
    {"customer": "C-042", "currency": "EUR", "lines": [{"sku": "SKU-APPLE", "qty": 12,
     "unit_price": 3.20, "discount": 1.92, "amount": 36.48}, {"sku": "SKU-KETTLE", "qty": 1,
     "unit_price": 34.99, "discount": 0.00, "amount": 34.99}], "total": 71.47}

Answers: 200 with the quote; 400 when the request is not a valid quote request (the message
says what is wrong); 422 when the pricing service does not know a product; 502 when the
pricing service cannot be reached or fails (``{"error": ..., "error_id": ...}``, the id in the
log). Amounts are exact decimals, written as JSON numbers.

On embedded defaults the pricing service is a stand-in in this module (``pricing-backend``:
prices from ``routes/samples/products.json``, 5 % off a line of ``VOLUME_QTY`` or more); it is
also served over HTTP at ``POST /legacy/pricing``, as the real one would be.

Routes::

    quote-api          http:/api/quotes (POST) -> direct:quote
    quote              direct:quote -> validate -> translate to <PriceRequest> XML
                         -> {{quotes.backend}} (request-reply) -> translate <PriceResponse> to JSON
                       the backend unreachable or failing: on_exception -> 502
    pricing-backend    direct:pricing-backend -> price the <PriceRequest> -> <PriceResponse>
    pricing-backend-http  http:/legacy/pricing (POST) -> direct:pricing-backend

Configuration (engine properties, ``eip run --config`` properties or ``EIP_...`` variables):

=====================  ==================================================================
``quotes.backend``     ``direct:pricing-backend``: the endpoint that prices a request
``server.port``        ``8080``: the engine's HTTP server (``eip run --port``)
=====================  ==================================================================

**Switching the backend by configuration alone.** A real pricing service over HTTP:
``quotes.backend=http://pricing.internal:8080/legacy/pricing?read_timeout=5s`` (non-2xx and
timeouts answer 502). Over RabbitMQ, request-reply on a queue the pricing service consumes
(the reply comes back on a reply queue; the route waits up to ``request_timeout``):
``quotes.backend=amqp:queue:pricing?request_timeout=5s``. The request travels as XML text
(``Content-Type``/``CamelRabbitmqContentType`` ``application/xml``) and the answer may come back
as a parsed element, text or bytes: the translator takes all three. The route keeps no state
and needs no database, so PostgreSQL does not enter into it; the stand-in prices from a file.

What a crash loses: nothing that was acknowledged. The request runs on the HTTP server's
thread, so a client whose request was cut off gets no answer and knows to retry; asking for a
quote changes nothing, so retrying is safe.
"""

from __future__ import annotations

import json
import logging
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from lxml import etree

from eip import RouteBuilder
from eip import constants as c
from eip.errors import EndpointError, ValidationError
from eip.safe_xml import parse_xml

log = logging.getLogger("quotes")

PRODUCTS = Path(__file__).resolve().parent / "samples" / "products.json"
BACKEND = "{{quotes.backend:direct:pricing-backend}}"
CURRENCY = "EUR"
#: The stand-in pricing service takes VOLUME_DISCOUNT_PCT percent off a line of this many or more.
VOLUME_QTY = 10
VOLUME_DISCOUNT_PCT = 5
MAX_ITEMS = 100
CENT = Decimal("0.01")


class InvalidQuoteRequestError(ValidationError):
    """The request is not a valid quote request: the client gets 400 with this message."""


# -- the facade: JSON in, XML to the backend, XML back, JSON out ------------------------------------
def validate_quote_request(exchange: Any) -> None:
    """Raise InvalidQuoteRequestError saying what is wrong with the JSON request."""
    request = exchange.message.body
    if not isinstance(request, dict):
        raise InvalidQuoteRequestError("send a JSON object: {\"customer\": ..., \"items\": [{\"sku\": ..., "
                                       "\"qty\": ...}]}")
    customer = request.get("customer")
    if not isinstance(customer, str) or not customer.strip():
        raise InvalidQuoteRequestError("customer is missing")
    items = request.get("items")
    if not isinstance(items, list) or not items:
        raise InvalidQuoteRequestError("items must be a non-empty list")
    if len(items) > MAX_ITEMS:
        raise InvalidQuoteRequestError(f"at most {MAX_ITEMS} items per quote, got {len(items)}")
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict) or not isinstance(item.get("sku"), str) or not item["sku"]:
            raise InvalidQuoteRequestError(f"item {number} has no sku")
        qty = item.get("qty")
        if isinstance(qty, bool) or not isinstance(qty, int) or not 0 < qty <= 100_000:
            raise InvalidQuoteRequestError(f"item {number}: qty must be a whole number from 1 to 100000, "
                                           f"got {qty!r}")


def to_price_request(exchange: Any) -> str:
    """Message translator: the JSON request becomes the pricing service's ``<PriceRequest>``."""
    request = exchange.message.body
    root = etree.Element("PriceRequest", customer=request["customer"].strip(), currency=CURRENCY)
    for item in request["items"]:
        etree.SubElement(root, "Item", sku=item["sku"], qty=str(item["qty"]))
    return etree.tostring(root, encoding="unicode")


def to_quote(exchange: Any) -> dict[str, Any]:
    """Message translator: the ``<PriceResponse>`` becomes the JSON quote, or an ``<Error>`` of
    the service a 422 answer saying which product it does not know."""
    answer = _element(exchange.message.body)
    if answer.tag != "PriceResponse":
        raise PricingServiceError(f"the pricing service answered <{answer.tag}>, not <PriceResponse>")
    error = answer.find("Error")
    if error is not None:
        exchange.message.headers[c.HTTP_RESPONSE_CODE] = 422
        return {"error": f"the pricing service refused the request: {error.get('code')}: {error.text}"}
    lines = [{"sku": item.get("sku"), "qty": int(item.get("qty")), "unit_price": Decimal(item.get("unitPrice")),
              "discount": Decimal(item.get("discount")), "amount": Decimal(item.get("lineTotal"))}
             for item in answer.iter("Item")]
    return {"customer": answer.get("customer"), "currency": answer.get("currency"), "lines": lines,
            "total": Decimal(answer.findtext("Total"))}


class PricingServiceError(EndpointError):
    """The pricing service answered something the facade cannot read."""


def _element(body: Any) -> Any:
    """The answer as an XML element, whether it came parsed (HTTP), as text or as bytes (AMQP)."""
    if isinstance(body, etree._Element):
        return body
    if isinstance(body, etree._ElementTree):
        return body.getroot()
    if isinstance(body, (str, bytes)):
        try:
            return parse_xml(body)
        except etree.XMLSyntaxError as exc:
            raise PricingServiceError(f"the pricing service's answer is not XML: {exc}") from exc
    raise PricingServiceError(f"the pricing service answered a {type(body).__name__}, not XML")


def bad_gateway(exchange: Any) -> None:
    """The answer when the pricing service could not be used: 502 with an error id; the cause
    is logged with that id, never sent to the client."""
    cause = exchange.properties.get(c.EXCEPTION_CAUGHT)
    log.error("quote %s: the pricing service failed: %s: %s", exchange.exchange_id, type(cause).__name__, cause)
    exchange.message.headers[c.HTTP_RESPONSE_CODE] = 502
    exchange.message.body = {"error": "the pricing service is unavailable, try again later",
                             "error_id": exchange.exchange_id}


# -- the stand-in pricing service ------------------------------------------------------------------------
class PricingService:
    """Prices a ``<PriceRequest>`` from a product list, as the legacy service does: unit price,
    volume discount, line totals and total, rounded half up to the cent; an unknown sku is an
    ``<Error code="UNKNOWN_SKU">``."""

    def __init__(self, products_file: Path = PRODUCTS) -> None:
        products = json.loads(products_file.read_text(encoding="utf-8"))
        self.prices = {p["sku"]: Decimal(p["unit_price_cents"]) / 100 for p in products}

    def process(self, exchange: Any) -> None:
        request = _element(exchange.message.body)
        answer = etree.Element("PriceResponse", customer=request.get("customer", ""),
                               currency=request.get("currency", CURRENCY))
        total = Decimal("0.00")
        for item in request.iter("Item"):
            sku, qty = item.get("sku"), int(item.get("qty"))
            price = self.prices.get(sku)
            if price is None:
                answer = etree.Element("PriceResponse")
                etree.SubElement(answer, "Error", code="UNKNOWN_SKU").text = sku
                break
            gross = price * qty
            discount = (gross * VOLUME_DISCOUNT_PCT / 100).quantize(CENT, ROUND_HALF_UP) if qty >= VOLUME_QTY \
                else Decimal("0.00")
            line_total = gross - discount
            total += line_total
            etree.SubElement(answer, "Item", sku=sku, qty=str(qty), unitPrice=f"{price:.2f}",
                             discount=f"{discount:.2f}", lineTotal=f"{line_total:.2f}")
        else:
            etree.SubElement(answer, "Total").text = f"{total:.2f}"
        exchange.message.body = answer  # an element: over HTTP it is written as application/xml


class QuoteApi(RouteBuilder):
    """The REST facade and the stand-in pricing service (see the module docstring)."""

    def __init__(self, products_file: str | Path = PRODUCTS) -> None:
        super().__init__()
        self.pricing = PricingService(Path(products_file))

    def configure(self) -> None:
        self.rest("/api").post("/quotes").route_id("quote-api").to("direct:quote")

        (self.from_("direct:quote").route_id("quote")
            # The backend failed (unreachable, timed out, non-2xx, nonsense): 502, cause in the log.
            .on_exception(EndpointError, handled=True)
                .process(bad_gateway)
            .end()
            .process(validate_quote_request).id("validate")
            .transform(to_price_request).id("to-price-request")
            # The inbound request's HTTP headers must not steer the call to the backend.
            .remove_headers("CamelHttp*")
            .set_header("Content-Type", "application/xml")
            .set_header(c.AMQP_CONTENT_TYPE, "application/xml")
            .to(BACKEND).id("pricing-service")
            .transform(to_quote).id("to-quote")
            .remove_header("Content-Type")  # the backend's: the reply is JSON
            .remove_header(c.AMQP_CONTENT_TYPE))

        (self.from_("direct:pricing-backend").route_id("pricing-backend")
            .process(self.pricing).id("price"))
        self.rest("/legacy").post("/pricing").route_id("pricing-backend-http").to("direct:pricing-backend")

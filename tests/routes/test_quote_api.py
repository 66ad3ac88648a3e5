"""REST facade (``routes/quote_api.py``): real HTTP requests to the engine's server."""

from __future__ import annotations

import logging
import socket
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from lxml import etree

from eip import RouteBuilder
from eip.http_server import http_server
from eip.loader import load_module

ROUTES = Path(__file__).resolve().parents[2] / "routes"
quotes = load_module(ROUTES / "quote_api.py")

TIMEOUT = 10
REQUEST = {"customer": "C-042", "items": [{"sku": "SKU-APPLE", "qty": 12}, {"sku": "SKU-KETTLE", "qty": 1}]}
QUOTE = {"customer": "C-042", "currency": "EUR",
         "lines": [{"sku": "SKU-APPLE", "qty": 12, "unit_price": 3.2, "discount": 1.92, "amount": 36.48},
                   {"sku": "SKU-KETTLE", "qty": 1, "unit_price": 34.99, "discount": 0.0, "amount": 34.99}],
         "total": 71.47}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_api(engine, *routes, **properties) -> str:
    engine.properties.update({"server.port": 0, **properties})
    engine.add_routes(quotes.QuoteApi(), *routes)
    engine.start()
    return http_server(engine).url


def post_quote(url: str, body) -> requests.Response:
    return requests.post(url + "/api/quotes", json=body, timeout=TIMEOUT)


def test_a_quote_request_is_priced_by_the_backend_and_answered_in_json(engine):
    url = start_api(engine)
    response = post_quote(url, REQUEST)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == QUOTE
    # exact decimals on the wire: 0.00 stays 0.00, never 0.0 or a float's digits
    assert '"discount": 0.00' in response.text and '"unit_price": 3.20' in response.text
    assert engine.route_stats("pricing-backend")["exchanges_completed"] == 1


def test_the_facade_translates_to_and_from_the_backends_xml():
    exchange = type("Ex", (), {})()
    exchange.message = type("M", (), {"body": REQUEST, "headers": {}})()
    xml = quotes.to_price_request(exchange)
    assert xml == ('<PriceRequest customer="C-042" currency="EUR"><Item sku="SKU-APPLE" qty="12"/>'
                   '<Item sku="SKU-KETTLE" qty="1"/></PriceRequest>')
    exchange.message.body = (b'<PriceResponse customer="C-1" currency="EUR"><Item sku="S" qty="2" unitPrice="1.50" '
                             b'discount="0.00" lineTotal="3.00"/><Total>3.00</Total></PriceResponse>')
    assert quotes.to_quote(exchange) == {
        "customer": "C-1", "currency": "EUR", "total": Decimal("3.00"),
        "lines": [{"sku": "S", "qty": 2, "unit_price": Decimal("1.50"), "discount": Decimal("0.00"),
                   "amount": Decimal("3.00")}]}


def test_an_unknown_product_is_a_422_saying_which(engine):
    url = start_api(engine)
    response = post_quote(url, {"customer": "C-1", "items": [{"sku": "SKU-APPLE", "qty": 1},
                                                              {"sku": "SKU-DURIAN", "qty": 2}]})
    assert response.status_code == 422
    assert response.json() == {"error": "the pricing service refused the request: UNKNOWN_SKU: SKU-DURIAN"}


@pytest.mark.parametrize("body, message", [
    ([1, 2], "send a JSON object"),
    ({"items": [{"sku": "A", "qty": 1}]}, "customer is missing"),
    ({"customer": "C", "items": []}, "items must be a non-empty list"),
    ({"customer": "C", "items": [{"qty": 1}]}, "item 1 has no sku"),
    ({"customer": "C", "items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 0}]},
     "item 2: qty must be a whole number from 1 to 100000, got 0"),
    ({"customer": "C", "items": [{"sku": "A", "qty": 1.5}]}, "got 1.5"),
    ({"customer": "C", "items": [{"sku": "A", "qty": 1}] * 101}, "at most 100 items per quote, got 101"),
])
def test_a_bad_request_is_a_400_saying_what_is_wrong(engine, body, message):
    url = start_api(engine)
    response = post_quote(url, body)
    assert response.status_code == 400
    assert message in response.json()["message"]
    assert engine.route_stats("pricing-backend")["exchanges_total"] == 0


def test_only_post_is_served(engine):
    url = start_api(engine)
    assert requests.get(url + "/api/quotes", timeout=TIMEOUT).status_code == 405


# -- the backend, by configuration ---------------------------------------------------------------------
def test_the_backend_can_be_an_http_service(engine):
    port = free_port()
    url = start_api(engine, **{"server.port": port,
                               "quotes.backend": f"http://127.0.0.1:{port}/legacy/pricing?read_timeout=5s"})
    response = post_quote(url, REQUEST)
    assert response.status_code == 200, response.text
    assert response.json() == QUOTE
    assert engine.route_stats("pricing-backend-http")["exchanges_completed"] == 1  # it went over HTTP


def test_an_unreachable_backend_is_a_502_with_an_error_id_in_the_log(engine, caplog):
    caplog.set_level(logging.ERROR, logger="quotes")
    url = start_api(engine, **{"quotes.backend": f"http://127.0.0.1:{free_port()}/pricing?connect_timeout=2s"})
    response = post_quote(url, REQUEST)
    assert response.status_code == 502
    answer = response.json()
    assert answer["error"] == "the pricing service is unavailable, try again later"
    assert set(answer) == {"error", "error_id"} and "127.0.0.1" not in response.text  # no cause for the client
    [logged] = [r.getMessage() for r in caplog.records if answer["error_id"] in r.getMessage()]
    assert "the pricing service failed" in logged


class NonsenseBackend(RouteBuilder):
    def configure(self):
        self.from_("direct:nonsense").set_body("<html>gateway page</html>")


def test_a_backend_answering_nonsense_is_a_502(engine):
    url = start_api(engine, NonsenseBackend(), **{"quotes.backend": "direct:nonsense"})
    assert post_quote(url, REQUEST).status_code == 502


def test_the_backend_can_be_a_rabbitmq_queue_request_reply(engine, rabbitmq_service):
    queue = f"pricing-{uuid.uuid4().hex[:8]}"

    class PricingOverRabbitmq(RouteBuilder):  # the pricing service, as it would consume the queue
        def configure(self):
            (self.from_(f"amqp:queue:{queue}?declare=true&auto_delete=true&durable=false")
                .to("direct:pricing-backend")
                .transform(lambda ex: etree.tostring(ex.message.body))
                .set_header("CamelRabbitmqContentType", "application/xml"))

    url = start_api(engine, PricingOverRabbitmq(), **{"amqp.url": rabbitmq_service.url,
                                                      "quotes.backend": f"amqp:queue:{queue}?request_timeout=5s"})
    response = post_quote(url, REQUEST)
    assert response.status_code == 200, response.text
    assert response.json() == QUOTE

"""SOAP facades end to end: a SOAP service in front of a REST one (soap in, http out), and a REST
API in front of a SOAP service (REST DSL in, soap out to spyne, an independent server); each
called by a real client (zeep, requests) and mapping the other side's failures."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import ClassVar

import pytest
import requests
import zeep

from components.soap.errors import SoapFault
from eip import Engine, ExchangeTimedOutError, HttpOperationFailedError, RouteBuilder
from eip import constants as c
from eip.http_server import http_server

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "components"))
from soap_support import SpyneServer

pytestmark = pytest.mark.eip(properties={"server.port": 0})
TIMEOUT = 5


@pytest.fixture(scope="module")
def spyne():
    with SpyneServer() as server:
        yield server


@pytest.fixture(scope="module")
def quotes_wsdl(spyne, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("wsdl") / "quotes.wsdl"
    path.write_bytes(requests.get(f"{spyne.url}/?wsdl", timeout=TIMEOUT).content)
    return path


class PriceApi(RouteBuilder):
    """The modern side: a REST service (JSON) the SOAP facade calls."""

    prices: ClassVar[dict[str, float]] = {"IBM": 123.45, "ACME": 7.5}

    def configure(self) -> None:
        (self.rest("/rest/quotes")
            .get("/{symbol}").route()
            .process(self.lookup))
        (self.rest("/rest/orders")
            .post().route()
            .set_header(c.HTTP_RESPONSE_CODE, 201)
            .set_body(lambda ex: {"id": f"R-{ex.body['symbol']}", "amount": ex.body["qty"] * self.prices["IBM"]}))

    def lookup(self, exchange) -> None:
        symbol = exchange.message.headers["symbol"]
        if symbol not in self.prices:
            exchange.message.headers[c.HTTP_RESPONSE_CODE] = 404
            exchange.message.body = {"error": f"no such symbol {symbol}"}
            return
        exchange.message.body = {"symbol": symbol, "price": self.prices[symbol]}


class SoapToRest(RouteBuilder):
    """The legacy contract kept: spyne's quotes WSDL served by the engine, answered from REST."""

    def __init__(self, wsdl: Path) -> None:
        super().__init__()
        self.wsdl = wsdl

    def configure(self) -> None:
        (self.from_(f"soap:/legacy/quotes?wsdl={self.wsdl}").route_id("soap-facade")
            .choice()
                .when(lambda ex: ex.message.headers[c.SOAP_OPERATION] == "GetQuote").to("direct:get-quote")
                .when(lambda ex: ex.message.headers[c.SOAP_OPERATION] == "PlaceOrder").to("direct:place-order")
                .otherwise().process(self.unsupported)
            .end())
        (self.from_("direct:get-quote")
            .set_header("symbol", lambda ex: ex.body["symbol"])
            .set_body(None)  # no body: a GET
            .to_d("http://127.0.0.1:{{api.port}}/rest/quotes/${header.symbol}?throw_exception_on_failure=false")
            .process(self.quote_reply))
        (self.from_("direct:place-order")
            .set_body(lambda ex: dict(ex.body["order"]))
            .to("http://127.0.0.1:{{api.port}}/rest/orders")
            .set_body(lambda ex: {"order_id": ex.body["id"], "total": ex.body["amount"]}))

    @staticmethod
    def quote_reply(exchange) -> None:
        status = exchange.message.headers[c.HTTP_RESPONSE_CODE]
        if status == 404:
            raise SoapFault(exchange.message.body["error"], code="Client.UnknownSymbol",
                            detail={"symbol": exchange.message.headers["symbol"]})
        exchange.message.body = exchange.message.body["price"]

    @staticmethod
    def unsupported(exchange) -> None:
        raise SoapFault(f"{exchange.message.headers[c.SOAP_OPERATION]} is not offered here", code="Client")


@pytest.fixture
def price_api():
    """The REST service, run by another engine (another process, in real life)."""
    with Engine(routes=[PriceApi()], properties={"server.port": 0}) as api:
        yield http_server(api).port


def test_soap_to_rest_facade(engine: Engine, quotes_wsdl: Path, price_api: int) -> None:
    engine.properties["api.port"] = price_api
    engine.add_routes(SoapToRest(quotes_wsdl))
    engine.start()
    client = zeep.Client(f"{http_server(engine).url}/legacy/quotes?wsdl")
    assert client.service.GetQuote("IBM") == 123.45
    reply = client.service.PlaceOrder({"symbol": "IBM", "qty": 2})
    assert (reply.order_id, reply.total) == ("R-IBM", 246.9)
    with pytest.raises(zeep.exceptions.Fault) as info:
        client.service.GetQuote("NOPE")
    assert info.value.code == "soap:Client.UnknownSymbol"
    assert info.value.message == "no such symbol NOPE"
    assert info.value.detail.findtext("symbol") == "NOPE"
    with pytest.raises(zeep.exceptions.Fault, match="WhoAmI is not offered here"):
        client.service.WhoAmI()


class RestToSoap(RouteBuilder):
    """A JSON API in front of the SOAP service (spyne): faults and timeouts mapped to statuses."""

    def __init__(self, spyne_url: str) -> None:
        super().__init__()
        self.wsdl = f"{spyne_url}/?wsdl"

    def configure(self) -> None:
        self.on_exception(SoapFault, handled=True).process(self.fault_to_status).end()
        self.on_exception(ExchangeTimedOutError, handled=True) \
            .set_header(c.HTTP_RESPONSE_CODE, 504).set_body({"error": "the quote service timed out"}).end()
        api = self.rest("/api")
        (api.get("/quotes/{symbol}").route_id("rest-quote").route()
            .set_body(lambda ex: {"symbol": ex.message.headers["symbol"]})
            .to(f"soap:GetQuote?wsdl={self.wsdl}")
            .set_body(lambda ex: {"symbol": ex.message.headers["symbol"], "price": ex.body}))
        (api.post("/orders").route_id("rest-order").route()
            .set_body(lambda ex: {"order": ex.body})
            .to(f"soap:PlaceOrder?wsdl={self.wsdl}")
            .set_header(c.HTTP_RESPONSE_CODE, 201))
        (api.get("/slow").route_id("rest-slow").route()
            .set_body({"seconds": 2})
            .to(f"soap:Slow?wsdl={self.wsdl}&read_timeout=0.2s"))

    @staticmethod
    def fault_to_status(exchange) -> None:
        fault = exchange.properties[c.EXCEPTION_CAUGHT]
        exchange.message.headers[c.HTTP_RESPONSE_CODE] = 404 if fault.is_client_fault else 502
        exchange.message.body = {"error": fault.string, "code": fault.code}


def test_rest_to_soap_facade(engine: Engine, spyne) -> None:
    engine.add_routes(RestToSoap(spyne.url))
    engine.start()
    base = http_server(engine).url
    before = spyne.post_count()
    response = requests.get(f"{base}/api/quotes/IBM", timeout=TIMEOUT)
    assert (response.status_code, response.json()) == (200, {"symbol": "IBM", "price": 123.45})
    response = requests.post(f"{base}/api/orders", json={"symbol": "ACME", "qty": 4}, timeout=TIMEOUT)
    assert (response.status_code, response.json()) == (201, {"order_id": "ACME-1", "total": 30.0})
    response = requests.get(f"{base}/api/quotes/BAD", timeout=TIMEOUT)
    assert (response.status_code, response.json()) == (404, {"error": "Unknown symbol: BAD",
                                                             "code": "Client.UnknownSymbol"})
    response = requests.get(f"{base}/api/quotes/BOOM", timeout=TIMEOUT)
    assert (response.status_code, response.json()["code"]) == (502, "Server")
    assert spyne.post_count() == before + 4  # faults were answers: no redelivery
    response = requests.get(f"{base}/api/slow", timeout=TIMEOUT)
    assert (response.status_code, response.json()) == (504, {"error": "the quote service timed out"})
    response = requests.post(f"{base}/api/orders", json={"sym": "X"}, timeout=TIMEOUT)
    assert response.status_code == 400  # the body does not fit PlaceOrder: a ValidationError
    assert "unexpected keyword argument 'sym'" in response.json()["message"]


def test_rest_to_soap_http_failure_is_not_a_fault(engine: Engine, spyne) -> None:
    class Broken(RouteBuilder):
        def configure(self) -> None:
            self.on_exception(HttpOperationFailedError, handled=True) \
                .set_header(c.HTTP_RESPONSE_CODE, 503).set_body({"error": "backend unavailable"}).end()
            (self.from_("http:/api/down")
                .set_body({"symbol": "IBM"})
                .to(f"soap:GetQuote?wsdl={spyne.url}/?wsdl&address={spyne.url}/unavailable"))

    engine.add_routes(Broken())
    engine.start()
    response = requests.get(f"{http_server(engine).url}/api/down", timeout=TIMEOUT)
    assert (response.status_code, response.json()) == (503, {"error": "backend unavailable"})

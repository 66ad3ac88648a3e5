"""soap: consumer on the engine's HTTP server, end to end with a zeep client and with raw HTTP:
the WSDL written by spyne (an independent server) and the shared WSDLs written by others."""

from __future__ import annotations

import logging
import os
import re
import sys
from pathlib import Path

import pytest
import requests
import zeep
from lxml import etree

from components.soap.errors import SoapFault
from eip import ConfigurationError, Engine, RouteBuilder
from eip import constants as c
from eip.http_server import http_server

sys.path.insert(0, str(Path(__file__).resolve().parent))
from soap_support import SpyneServer

pytestmark = pytest.mark.eip(properties={"server.port": 0})
WSDL_DIR = Path(os.environ.get("EIP_TESTDATA") or "/nonexistent") / "wsdl"
needs_wsdls = pytest.mark.skipif(not WSDL_DIR.is_dir(), reason="shared WSDL test data not found (EIP_TESTDATA)")
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
TIMEOUT = 5


@pytest.fixture(scope="module")
def quotes_wsdl(tmp_path_factory) -> Path:
    """The WSDL spyne writes for its quotes service (SOAP 1.1), saved to a file."""
    with SpyneServer() as spyne:
        content = requests.get(f"{spyne.url}/?wsdl", timeout=TIMEOUT).content
    path = tmp_path_factory.mktemp("wsdl") / "quotes.wsdl"
    path.write_bytes(content)
    return path


def routes(fn):
    class Routes(RouteBuilder):
        def configure(self) -> None:
            fn(self)
    return Routes()


def serve(engine: Engine, fn) -> str:
    engine.add_routes(routes(fn))
    engine.start()
    return http_server(engine).url


def envelope(body: str, version: str = "1.1", header: str = "") -> bytes:
    ns = SOAP11 if version == "1.1" else SOAP12
    return (f'<soap:Envelope xmlns:soap="{ns}">{header}<soap:Body>{body}</soap:Body>'
            '</soap:Envelope>').encode()


def fault_of(response: requests.Response) -> tuple[str, str]:
    """(fault code, fault string) of a SOAP 1.1 Fault response."""
    root = etree.fromstring(response.content)
    fault = root.find(f"{{{SOAP11}}}Body/{{{SOAP11}}}Fault")
    assert fault is not None, response.text
    return fault.findtext("faultcode"), fault.findtext("faultstring")


def quote_route(seen: list | None = None):
    def price(exchange):
        if seen is not None:
            seen.append((exchange.message.body, dict(exchange.message.headers), exchange.pattern))
        operation = exchange.message.headers[c.SOAP_OPERATION]
        body = exchange.message.body
        if operation == "GetQuote":
            exchange.message.body = {"IBM": 123.45}.get(body["symbol"], 1.0)
        elif operation == "PlaceOrder":
            exchange.message.body = {"order_id": "A-1", "total": body["order"]["qty"] * 2.5}
        else:
            exchange.message.body = "anonymous"
    return price


# -- the WSDL -----------------------------------------------------------------------------------------------
def test_get_wsdl_serves_it_with_the_real_address(engine: Engine, quotes_wsdl: Path) -> None:
    url = serve(engine, lambda r: r.from_(f"soap:/quotes?wsdl={quotes_wsdl}").process(quote_route()))
    response = requests.get(f"{url}/quotes?wsdl", timeout=TIMEOUT)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/xml")
    root = etree.fromstring(response.content)
    locations = root.xpath("//*[local-name()='address']/@location")
    assert locations == [f"{url}/quotes"]
    assert requests.get(f"{url}/quotes", timeout=TIMEOUT).status_code == 404  # GET without ?wsdl
    assert requests.get(f"{url}/quotes?xsd=xsd9", timeout=TIMEOUT).status_code == 404


def test_the_address_option_is_what_the_wsdl_advertises(engine: Engine, quotes_wsdl: Path) -> None:
    public = "https://soap.example.com/quotes"
    url = serve(engine, lambda r: r.from_(f"soap:/quotes?wsdl={quotes_wsdl}&address={public}")
                .process(quote_route()))
    root = etree.fromstring(requests.get(f"{url}/quotes?wsdl", timeout=TIMEOUT).content)
    assert root.xpath("//*[local-name()='address']/@location") == [public]


# -- end to end with a zeep client ---------------------------------------------------------------------------
def test_zeep_client_end_to_end(engine: Engine, quotes_wsdl: Path) -> None:
    seen: list = []
    url = serve(engine, lambda r: r.from_(f"soap:/quotes?wsdl={quotes_wsdl}").process(quote_route(seen)))
    client = zeep.Client(f"{url}/quotes?wsdl")
    assert client.service.GetQuote("IBM") == 123.45
    reply = client.service.PlaceOrder({"symbol": "IBM", "qty": 4})
    assert (reply.order_id, reply.total) == ("A-1", 10.0)
    body, headers, pattern = seen[0]
    assert body == {"symbol": "IBM"} and type(body) is dict
    assert headers[c.SOAP_OPERATION] == "GetQuote" and headers[c.SOAP_VERSION] == "1.1"
    assert headers[c.SOAP_ACTION] == "GetQuote"  # zeep sends the WSDL's soapAction
    assert pattern.value == "InOut"
    assert seen[1][0] == {"order": {"symbol": "IBM", "qty": 4}}


def test_a_route_failure_is_a_server_fault_with_an_error_id_and_no_stack_trace(
        engine: Engine, quotes_wsdl: Path, caplog) -> None:
    def fail(exchange):
        raise RuntimeError("database password is hunter2")

    url = serve(engine, lambda r: r.from_(f"soap:/quotes?wsdl={quotes_wsdl}").process(fail))
    client = zeep.Client(f"{url}/quotes?wsdl")
    with caplog.at_level(logging.ERROR), pytest.raises(zeep.exceptions.Fault) as info:
        client.service.GetQuote("IBM")
    assert info.value.code == "soap:Server" and info.value.detail is None
    error_id = re.fullmatch(r"internal error \(error id ([0-9a-f]+)\)", info.value.message).group(1)
    assert any(error_id in record.getMessage() for record in caplog.records)
    raw = requests.post(f"{url}/quotes", data=envelope('<q:GetQuote xmlns:q="urn:example:quotes"/>'),
                        headers={"Content-Type": "text/xml"}, timeout=TIMEOUT)
    assert raw.status_code == 500 and "hunter2" not in raw.text and "Traceback" not in raw.text


def test_a_validation_error_in_the_route_is_a_client_fault(engine: Engine, quotes_wsdl: Path) -> None:
    url = serve(engine, lambda r: r.from_(f"soap:/quotes?wsdl={quotes_wsdl}")
                .validate(lambda ex: ex.body["symbol"] is not None and ex.body["symbol"].isupper())
                .process(quote_route()))
    client = zeep.Client(f"{url}/quotes?wsdl")
    with pytest.raises(zeep.exceptions.Fault) as info:
        client.service.GetQuote("ibm")
    assert info.value.code == "soap:Client" and "validat" in info.value.message.lower()


def test_a_soap_fault_raised_by_the_route_is_answered_as_it_is(engine: Engine, quotes_wsdl: Path) -> None:
    def unknown(exchange):
        raise SoapFault("Unknown symbol: XYZ", code="Client.UnknownSymbol", actor="urn:quotes",
                        detail={"symbol": "XYZ", "hints": ["XY", "XZ"]})

    url = serve(engine, lambda r: r.from_(f"soap:/quotes?wsdl={quotes_wsdl}").process(unknown))
    client = zeep.Client(f"{url}/quotes?wsdl")
    with pytest.raises(zeep.exceptions.Fault) as info:
        client.service.GetQuote("XYZ")
    fault = info.value
    assert (fault.code, fault.message, fault.actor) == ("soap:Client.UnknownSymbol", "Unknown symbol: XYZ",
                                                        "urn:quotes")
    assert fault.detail.findtext("symbol") == "XYZ"
    assert [h.text for h in fault.detail.findall("hints")] == ["XY", "XZ"]


def test_a_handled_failure_is_a_normal_reply(engine: Engine, quotes_wsdl: Path) -> None:
    def configure(r):
        r.on_exception(KeyError, handled=True).set_body(-1.0).end()
        r.from_(f"soap:/quotes?wsdl={quotes_wsdl}").process(lambda ex: {}["missing"])

    url = serve(engine, configure)
    assert zeep.Client(f"{url}/quotes?wsdl").service.GetQuote("IBM") == -1.0


def test_a_reply_that_does_not_fit_the_output_is_a_server_fault(engine: Engine, quotes_wsdl: Path) -> None:
    url = serve(engine, lambda r: r.from_(f"soap:/quotes?wsdl={quotes_wsdl}")
                .set_body({"order_id": "x", "unknown_field": 1}))
    with pytest.raises(zeep.exceptions.Fault) as info:
        zeep.Client(f"{url}/quotes?wsdl").service.PlaceOrder({"symbol": "IBM", "qty": 1})
    assert info.value.code == "soap:Server" and info.value.message.startswith("internal error (error id ")


# -- bad requests: each gets the right Fault, the route never runs -----------------------------------------
BAD_REQUESTS = {
    "malformed": (b"<soap:Envelope", {}, "Client", "malformed XML"),
    "not an envelope": (b"<GetQuote/>", {}, "Client", "not a SOAP envelope"),
    "no body": (b'<soap:Envelope xmlns:soap="%s"/>' % SOAP11.encode(), {}, "Client", "no Body"),
    "unknown operation": (envelope('<q:Nope xmlns:q="urn:example:quotes"/>'), {}, "Client",
                          ("unknown operation: no operation of this service takes element "
                           "'{urn:example:quotes}Nope'")),
    "wrong SOAPAction": (envelope('<q:GetQuote xmlns:q="urn:example:quotes"><q:symbol>IBM</q:symbol></q:GetQuote>'),
                         {"SOAPAction": '"PlaceOrder"'}, "Client",
                         "SOAPAction 'PlaceOrder' does not match operation 'GetQuote'"),
    "schema": (envelope('<q:GetQuote xmlns:q="urn:example:quotes"><q:ticker>IBM</q:ticker></q:GetQuote>'), {},
               "Client", "the request does not match the WSDL's schema: line 1: Element '{urn:example:quotes}ticker'"),
    "xxe": (b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            + envelope('<q:GetQuote xmlns:q="urn:example:quotes"><q:symbol>&x;</q:symbol></q:GetQuote>'), {},
            "Client", "unsafe XML rejected: the document declares entity 'x'"),
    "billion laughs": (b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;">'
                       b'<!ENTITY c "&b;&b;&b;&b;&b;">]>'
                       + envelope('<q:GetQuote xmlns:q="urn:example:quotes"><q:symbol>&c;</q:symbol></q:GetQuote>'),
                       {}, "Client", "unsafe XML rejected: the document declares entity 'a'"),
    "version": (envelope('<q:GetQuote xmlns:q="urn:example:quotes"/>', "1.2"), {}, "VersionMismatch",
                "is not served here (this service speaks SOAP 1.1)"),
    "must understand": (envelope('<q:GetQuote xmlns:q="urn:example:quotes"/>', header=(
        '<soap:Header><w:Token xmlns:w="urn:w" soap:mustUnderstand="1"/></soap:Header>')),
        {}, "MustUnderstand", "header '{urn:w}Token' is marked mustUnderstand"),
    "oversized": (envelope("<x>" + "y" * 3000 + "</x>"), {}, "Client", "request body too large (more than 2048 bytes)"),
    "empty": (b"", {}, "Client", "empty request"),
}


@pytest.mark.parametrize("case", list(BAD_REQUESTS))
def test_a_bad_request_gets_the_right_fault_and_never_reaches_the_route(
        engine: Engine, quotes_wsdl: Path, case: str) -> None:
    data, headers, code, message = BAD_REQUESTS[case]
    seen: list = []
    url = serve(engine, lambda r: r.from_(f"soap:/quotes?wsdl={quotes_wsdl}&max_request_body=2KB")
                .process(quote_route(seen)))
    response = requests.post(f"{url}/quotes", data=data, headers={"Content-Type": "text/xml", **headers},
                             timeout=TIMEOUT)
    assert response.status_code == 500  # SOAP 1.1: every Fault
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    faultcode, faultstring = fault_of(response)
    assert faultcode == f"soap:{code}"
    assert message in faultstring
    assert seen == []


def test_validation_can_be_turned_off(engine: Engine, quotes_wsdl: Path) -> None:
    seen: list = []
    url = serve(engine, lambda r: r.from_(f"soap:/quotes?wsdl={quotes_wsdl}&validate=false")
                .process(quote_route(seen)))
    # An element of the wrong name is refused by zeep's parser even then, with a Client fault.
    data = envelope('<q:GetQuote xmlns:q="urn:example:quotes"><q:ticker>IBM</q:ticker></q:GetQuote>')
    response = requests.post(f"{url}/quotes", data=data, headers={"Content-Type": "text/xml"}, timeout=TIMEOUT)
    assert fault_of(response)[0] == "soap:Client" and "does not fit operation 'GetQuote'" in fault_of(response)[1]
    data = envelope('<q:GetQuote xmlns:q="urn:example:quotes"><q:symbol>IBM</q:symbol></q:GetQuote>')
    response = requests.post(f"{url}/quotes", data=data, headers={"Content-Type": "text/xml"}, timeout=TIMEOUT)
    assert response.status_code == 200 and seen[0][0] == {"symbol": "IBM"}


def test_a_suspended_route_answers_503_and_resumes(engine: Engine, quotes_wsdl: Path) -> None:
    url = serve(engine, lambda r: r.from_(f"soap:/quotes?wsdl={quotes_wsdl}").route_id("q").process(quote_route()))
    engine.suspend_route("q")
    assert requests.get(f"{url}/quotes?wsdl", timeout=TIMEOUT).status_code == 503
    engine.resume_route("q")
    assert zeep.Client(f"{url}/quotes?wsdl").service.GetQuote("IBM") == 123.45


def test_two_consumers_of_one_path_collide(engine: Engine, quotes_wsdl: Path) -> None:
    engine.add_routes(routes(lambda r: (r.from_(f"soap:/quotes?wsdl={quotes_wsdl}").to("mock:a"),
                                        r.from_("http:/quotes").to("mock:b"))))
    with pytest.raises(ConfigurationError, match="already served"):
        engine.start()


# -- the shared WSDLs, served ------------------------------------------------------------------------------
@needs_wsdls
@pytest.mark.parametrize("port", ["CalculatorSoap", "CalculatorSoap12"])
def test_calculator_both_soap_versions_and_their_faults(engine: Engine, port: str) -> None:
    def compute(exchange):
        body = exchange.message.body
        if exchange.message.headers[c.SOAP_OPERATION] == "Divide":
            if body["intB"] == 0:
                raise SoapFault("division by zero", code="Client.DivideByZero")
            exchange.message.body = body["intA"] // body["intB"]
        else:
            exchange.message.body = body["intA"] + body["intB"]

    url = serve(engine, lambda r: r.from_(f"soap:/calc?wsdl={WSDL_DIR / 'calculator.wsdl'}").process(compute))
    client = zeep.Client(f"{url}/calc?wsdl", port_name=port)
    assert client.service.Add(40, 2) == 42
    assert client.service.Divide(9, 2) == 4
    with pytest.raises(zeep.exceptions.Fault) as info:
        client.service.Divide(1, 0)
    if port.endswith("12"):
        assert info.value.code == "soap:Sender" and [q.localname for q in info.value.subcodes] == ["DivideByZero"]
    else:
        assert info.value.code == "soap:Client.DivideByZero"
    assert info.value.message == "division by zero"
    # Raw: SOAP 1.2 answers a Sender fault with 400, SOAP 1.1 every fault with 500.
    version = "1.2" if port.endswith("12") else "1.1"
    bad = envelope('<t:Add xmlns:t="http://tempuri.org/"><intA>x</intA><intB>1</intB></t:Add>', version)
    content_type = "application/soap+xml" if version == "1.2" else "text/xml"
    response = requests.post(f"{url}/calc", data=bad, headers={"Content-Type": content_type}, timeout=TIMEOUT)
    assert response.status_code == (400 if version == "1.2" else 500)
    assert response.headers["Content-Type"].startswith(content_type)
    assert b"'x' is not a valid value of the atomic type 'xs:int'" in response.content


@needs_wsdls
def test_soap_12_action_parameter_is_checked(engine: Engine) -> None:
    url = serve(engine, lambda r: r.from_(f"soap:/calc?wsdl={WSDL_DIR / 'calculator.wsdl'}&soap_version=1.2")
                .set_body(0))
    add = envelope('<t:Add xmlns:t="http://tempuri.org/"><intA>1</intA><intB>1</intB></t:Add>', "1.2")
    response = requests.post(f"{url}/calc", data=add, timeout=TIMEOUT, headers={
        "Content-Type": 'application/soap+xml; charset=utf-8; action="http://tempuri.org/Subtract"'})
    assert response.status_code == 400 and b"does not match operation 'Add'" in response.content
    assert etree.fromstring(response.content).findtext(f".//{{{SOAP12}}}Value") == "soap:Sender"
    wsdl = etree.fromstring(requests.get(f"{url}/calc?wsdl", timeout=TIMEOUT).content)
    assert wsdl.xpath("//*[local-name()='port']/@name") == ["CalculatorSoap12"]  # the 1.1 port is not served
    assert wsdl.xpath("//*[local-name()='address']/@location") == [f"{url}/calc"]


@needs_wsdls
def test_arrays_empty_inputs_and_complex_replies(engine: Engine) -> None:
    seen: list = []

    def asmx(exchange):
        seen.append(exchange.message.body)
        operation = exchange.message.headers[c.SOAP_OPERATION]
        body = exchange.message.body
        exchange.message.body = {"Max": lambda: max(body["numbers"]["int"]),
                                 "HelloWorld": lambda: "Hello World"}[operation]()

    def country(exchange):
        exchange.message.body = {
            "sISOCode": exchange.message.body["sCountryISOCode"], "sName": "Netherlands",
            "sCapitalCity": "Amsterdam", "sPhoneCode": "31", "sContinentCode": "EU", "sCurrencyISOCode": "EUR",
            "sCountryFlag": "nl.png", "Languages": {"tLanguage": [{"sISOCode": "nl", "sName": "Dutch"},
                                                                  {"sISOCode": "fy", "sName": "Frisian"}]}}

    url = serve(engine, lambda r: (
        r.from_(f"soap:/asmx?wsdl={WSDL_DIR / 'asmx_webservice.wsdl'}&soap_version=1.1").process(asmx),
        r.from_(f"soap:/country?wsdl={WSDL_DIR / 'country_info.wsdl'}&port=CountryInfoServiceSoap12")
        .process(country)))
    asmx_client = zeep.Client(f"{url}/asmx?wsdl")
    assert asmx_client.service.Max({"int": [3, 9, 2]}) == 9
    assert asmx_client.service.HelloWorld() == "Hello World"
    assert seen == [{"numbers": {"int": [3, 9, 2]}}, None]
    info = zeep.Client(f"{url}/country?wsdl", port_name="CountryInfoServiceSoap12").service.FullCountryInfo("NL")
    assert info.sCapitalCity == "Amsterdam" and [lang.sName for lang in info.Languages.tLanguage] == ["Dutch",
                                                                                                     "Frisian"]


@needs_wsdls
def test_one_way_operations_answer_202_and_declared_faults_carry_their_detail(engine: Engine) -> None:
    seen: list = []

    def hello(exchange):
        seen.append((exchange.message.headers[c.SOAP_OPERATION], exchange.pattern.value, exchange.message.body))
        operation = exchange.message.headers[c.SOAP_OPERATION]
        if operation == "greetMe":
            exchange.message.body = {"responseType": f"Hello {exchange.message.body['requestType']}"}
        elif operation == "pingMe":
            raise SoapFault("PingMeFault raised by server", code="Server",
                            detail=etree.fromstring('<detail><ns:faultDetail xmlns:ns="http://apache.org/'
                                                    'hello_world_soap_http/types"><ns:minor>1</ns:minor>'
                                                    '<ns:major>2</ns:major></ns:faultDetail></detail>'))

    url = serve(engine, lambda r: r.from_(f"soap:/hello?wsdl={WSDL_DIR / 'cxf_hello_world.wsdl'}").process(hello))
    client = zeep.Client(f"{url}/hello?wsdl")
    assert client.service.greetMe("Ann") == "Hello Ann"
    assert client.service.greetMeOneWay("Bob") is None
    with pytest.raises(zeep.exceptions.Fault) as info:
        client.service.pingMe()
    assert info.value.detail[0].tag == "{http://apache.org/hello_world_soap_http/types}faultDetail"
    assert [op for op, _, _ in seen] == ["greetMe", "greetMeOneWay", "pingMe"]
    assert seen[1][1] == "InOnly" and seen[1][2] == {"requestType": "Bob"}
    raw = requests.post(f"{url}/hello", timeout=TIMEOUT, headers={"Content-Type": "text/xml"}, data=envelope(
        '<t:greetMeOneWay xmlns:t="http://apache.org/hello_world_soap_http/types"><t:requestType>x'
        '</t:requestType></t:greetMeOneWay>'))
    assert (raw.status_code, raw.content) == (202, b"")


@needs_wsdls
def test_declared_soap_headers_arrive_in_a_header_and_reply_headers_are_sent(engine: Engine) -> None:
    seen: list = []

    def price(exchange):
        seen.append((exchange.message.body, exchange.message.headers[c.SOAP_HEADERS]))
        exchange.message.headers[c.SOAP_RESPONSE_HEADERS] = {"body": "cached"}  # the part of that name
        exchange.message.body = 9.5

    url = serve(engine, lambda r: r.from_(f"soap:/stock?wsdl={WSDL_DIR / 'zeep_soap_header.wsdl'}").process(price))
    client = zeep.Client(f"{url}/stock?wsdl")
    reply = client.service.GetLastTradePrice("IBM", _soapheaders={"header": {"username": "u", "password": "p"},
                                                                   "token": "t-1"})
    assert reply.body.price == 9.5 and reply.header.body == "cached"
    assert seen == [({"tickerSymbol": "IBM"}, {"header": {"username": "u", "password": "p"}, "token": {"value": "t-1"}})]


@needs_wsdls
def test_imported_schemas_are_served_from_the_consumer(engine: Engine) -> None:
    seen: list = []

    def services(exchange):
        seen.append(exchange.message.body)
        exchange.message.body = None

    wsdl = WSDL_DIR / "bluedart_servicefinder" / "spec.wsdl"
    url = serve(engine, lambda r: r.from_(f"soap:/finder?wsdl={wsdl}").process(services))
    served = etree.fromstring(requests.get(f"{url}/finder?wsdl", timeout=TIMEOUT).content)
    imports = served.xpath("//*[local-name()='import']/@schemaLocation")
    assert imports == [f"{url}/finder?xsd=xsd1"]
    nested = etree.fromstring(requests.get(imports[0], timeout=TIMEOUT).content)
    assert nested.xpath("//*[local-name()='import']/@schemaLocation") == [f"{url}/finder?xsd=xsd2",
                                                                         f"{url}/finder?xsd=xsd3"]
    client = zeep.Client(f"{url}/finder?wsdl")  # resolves every schema from the consumer
    assert client.service.GetServicesforPincode(pinCode="110001", profile={"LoginID": "me"}) is None
    assert seen[0]["pinCode"] == "110001" and seen[0]["profile"]["LoginID"] == "me"

"""soap: producer against an independent SOAP server (spyne, in-process on loopback, see
soap_support.py): calls, Faults and their redelivery rules, timeouts, refused connections, basic
authentication, WS-Security, SOAP 1.2, options; and against the shared WSDLs written by others."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from components.soap.errors import SoapFault
from eip import (
    EndpointError,
    EndpointNotConnectedError,
    EndpointOptionError,
    Engine,
    ExchangeTimedOutError,
    HttpOperationFailedError,
    RouteBuilder,
    dead_letter_channel,
)
from eip import constants as c
from eip.errors import ValidationError
from eip.http_server import http_server

sys.path.insert(0, str(Path(__file__).resolve().parent))
from soap_support import PASSWORD, USER, SpyneServer, closed_port

WSDL_DIR = Path(os.environ.get("EIP_TESTDATA") or "/nonexistent") / "wsdl"
needs_wsdls = pytest.mark.skipif(not WSDL_DIR.is_dir(), reason="shared WSDL test data not found (EIP_TESTDATA)")


@pytest.fixture(scope="module")
def spyne():
    with SpyneServer() as server:
        yield server


def routes(fn):
    class Routes(RouteBuilder):
        def configure(self) -> None:
            fn(self)
    return Routes()


def quotes(spyne, operation: str = "GetQuote", path: str = "/", **options) -> str:
    query = "".join(f"&{name}={value}" for name, value in options.items())
    return f"soap:{operation}?wsdl={spyne.url}{path}?wsdl{query}"


# -- calls ----------------------------------------------------------------------------------------------
def test_a_dict_body_is_the_request_and_the_reply_a_plain_value(engine: Engine, spyne) -> None:
    engine.start()
    before = spyne.post_count()
    assert engine.template.request_body(quotes(spyne), {"symbol": "IBM"}) == 123.45
    assert engine.template.request_body(quotes(spyne), "ACME") == 7.5  # a lone value is the one argument
    assert spyne.post_count() == before + 2


def test_complex_types_go_as_nested_dicts_and_come_back_as_dicts(engine: Engine, spyne) -> None:
    engine.start()
    reply = engine.template.request_body(quotes(spyne, "PlaceOrder"), {"order": {"symbol": "IBM", "qty": 2}})
    assert reply == {"order_id": "IBM-1", "total": 246.9}
    assert type(reply) is dict


def test_in_a_route_the_reply_replaces_the_body(engine: Engine, spyne) -> None:
    engine.add_routes(routes(lambda r: r.from_("direct:price").set_body(lambda ex: {"symbol": ex.body})
                             .to(quotes(spyne)).to("mock:out")))
    engine.start()
    engine.template.send_body("direct:price", "IBM")  # InOnly, still replaced (as Camel)
    assert engine.get_endpoint("mock:out").received_bodies == [123.45]


def test_keep_envelope_puts_both_raw_envelopes_in_headers(engine: Engine, spyne) -> None:
    engine.start()
    exchange = engine.template.request(quotes(spyne, keep_envelope="true"), {"symbol": "IBM"})
    headers = exchange.message.headers
    assert b"<ns0:symbol>IBM</ns0:symbol>" in headers[c.SOAP_REQUEST_ENVELOPE]
    assert b"123.45" in headers[c.SOAP_RESPONSE_ENVELOPE]
    plain = engine.template.request(quotes(spyne), {"symbol": "IBM"})
    assert c.SOAP_REQUEST_ENVELOPE not in plain.message.headers


def test_a_body_that_does_not_fit_the_operation_is_refused_before_sending(engine: Engine, spyne) -> None:
    engine.start()
    before = spyne.post_count()
    with pytest.raises(ValidationError, match=r"GetQuote\(symbol: xsd:string\).*'sym'"):
        engine.template.request_body(quotes(spyne), {"sym": "IBM"})
    assert spyne.post_count() == before


def test_the_wsdl_is_loaded_once_and_cached_across_endpoints(engine: Engine, spyne) -> None:
    engine.start()
    url = f"{spyne.url}/fresh{id(engine)}/?wsdl"  # a URL no other test loaded (spyne serves any path)
    before = spyne.wsdl_gets
    for _ in range(3):
        engine.template.request_body(f"soap:GetQuote?wsdl={url}", {"symbol": "IBM"})
    engine.template.request_body(f"soap:PlaceOrder?wsdl={url}", {"order": {"symbol": "X", "qty": 1}})
    assert spyne.wsdl_gets == before + 1  # the second endpoint read zeep's cache
    sessions = {engine.get_endpoint(f"soap:{op}?wsdl={url}").client().session for op in ("GetQuote", "PlaceOrder")}
    assert len(sessions) == 2  # one pooled session per endpoint


# -- faults -------------------------------------------------------------------------------------------
def test_a_client_fault_raises_soap_fault_with_code_string_and_detail(engine: Engine, spyne) -> None:
    engine.start()
    with pytest.raises(SoapFault) as info:
        engine.template.request_body(quotes(spyne), {"symbol": "BAD"})
    fault = info.value
    assert (fault.code, fault.string, fault.message, fault.actor) == (
        "Client.UnknownSymbol", "Unknown symbol: BAD", "Unknown symbol: BAD", None)
    assert fault.detail == {"symbol": "BAD"}
    assert fault.detail_element is not None and fault.detail_element.findtext("symbol") == "BAD"
    assert fault.is_client_fault and fault.retryable is False
    assert isinstance(fault, EndpointError)


def test_a_server_fault_carries_no_detail_and_is_not_a_client_fault(engine: Engine, spyne) -> None:
    engine.start()
    with pytest.raises(SoapFault) as info:
        engine.template.request_body(quotes(spyne), {"symbol": "BOOM"})
    assert (info.value.code, info.value.string, info.value.detail) == ("Server", "Internal Error", None)
    assert not info.value.is_client_fault


def test_a_fault_is_not_redelivered_by_the_general_policy(engine: Engine, spyne) -> None:
    engine.add_routes(routes(lambda r: (
        r.error_handler(dead_letter_channel("mock:dead", maximum_redeliveries=3, redelivery_delay=0)),
        r.from_("direct:in").to(quotes(spyne)).to("mock:out"))))
    engine.start()
    before = spyne.post_count()
    engine.template.send_body("direct:in", {"symbol": "BAD"})
    assert spyne.post_count() == before + 1  # an answer, not an outage
    dead = engine.get_endpoint("mock:dead").received_exchanges
    assert isinstance(dead[0].properties[c.EXCEPTION_CAUGHT], SoapFault)


def test_on_exception_soap_fault_handles_it_and_its_own_policy_redelivers(engine: Engine, spyne) -> None:
    def configure(r):
        r.on_exception(SoapFault, handled=True, maximum_redeliveries=2, redelivery_delay=0) \
            .set_body(lambda ex: f"fault {ex.properties[c.EXCEPTION_CAUGHT].code}").to("mock:faults").end()
        r.from_("direct:in").to(quotes(spyne)).to("mock:out")

    engine.add_routes(routes(configure))
    engine.start()
    before = spyne.post_count()
    assert engine.template.request_body("direct:in", {"symbol": "BAD"}) == "fault Client.UnknownSymbol"
    assert spyne.post_count() == before + 3
    assert engine.get_endpoint("mock:faults").received_exchanges[0].message.headers[c.REDELIVERY_COUNTER] == 2


def test_redeliver_faults_server_repeats_server_faults_only(engine: Engine, spyne) -> None:
    uri = quotes(spyne, redeliver_faults="server")
    engine.add_routes(routes(lambda r: (
        r.error_handler(dead_letter_channel("mock:dead", maximum_redeliveries=2, redelivery_delay=0)),
        r.from_("direct:in").to(uri))))
    engine.start()
    before = spyne.post_count()
    engine.template.send_body("direct:in", {"symbol": "BOOM"})
    assert spyne.post_count() == before + 3
    engine.template.send_body("direct:in", {"symbol": "BAD"})
    assert spyne.post_count() == before + 4
    assert len(engine.get_endpoint("mock:dead").received_exchanges) == 2


def test_an_http_error_without_an_envelope_is_http_operation_failed(engine: Engine, spyne) -> None:
    engine.start()
    with pytest.raises(HttpOperationFailedError) as info:
        engine.template.request_body(quotes(spyne, address=f"{spyne.url}/unavailable"), {"symbol": "IBM"})
    assert info.value.status_code == 503 and info.value.response_body == "down for maintenance"


# -- transport -----------------------------------------------------------------------------------------
def test_no_response_within_read_timeout_is_exchange_timed_out(engine: Engine, spyne) -> None:
    engine.start()
    import time

    started = time.monotonic()
    with pytest.raises(ExchangeTimedOutError, match="no response within 0.2s"):
        engine.template.request_body(quotes(spyne, "Slow", read_timeout="200ms"), {"seconds": 3})
    assert time.monotonic() - started < 2


def test_connection_refused_is_endpoint_not_connected_and_is_redelivered(engine: Engine, spyne) -> None:
    uri = quotes(spyne, address=f"http://127.0.0.1:{closed_port()}/")
    engine.add_routes(routes(lambda r: (
        r.error_handler(dead_letter_channel("mock:dead", maximum_redeliveries=2, redelivery_delay=0)),
        r.from_("direct:in").to(uri))))
    engine.start()
    engine.template.send_body("direct:in", {"symbol": "IBM"})
    dead = engine.get_endpoint("mock:dead").received_exchanges[0]
    assert isinstance(dead.properties[c.EXCEPTION_CAUGHT], EndpointNotConnectedError)
    assert "Connection refused" in str(dead.properties[c.EXCEPTION_CAUGHT])
    assert dead.message.headers[c.REDELIVERY_COUNTER] == 2  # an outage: retried


def test_an_unreachable_wsdl_url_fails_the_exchange_not_the_route_start(engine: Engine) -> None:
    uri = f"soap:GetQuote?wsdl=http://127.0.0.1:{closed_port()}/?wsdl&connect_timeout=1s"
    engine.add_routes(routes(lambda r: r.from_("direct:in").to(uri)))
    engine.start()  # logs a warning; the WSDL is fetched again on the first exchange
    with pytest.raises(EndpointNotConnectedError, match="cannot load the WSDL"):
        engine.template.request_body("direct:in", {"symbol": "IBM"})


def test_basic_authentication_and_its_password_masked(engine: Engine, spyne, tmp_path: Path) -> None:
    import requests

    engine.start()
    good = quotes(spyne, path="/secure/", username=USER, password=PASSWORD)
    before = spyne.post_count("/secure/")
    assert engine.template.request_body(good, {"symbol": "IBM"}) == 123.45  # the WSDL and the call
    assert spyne.post_count("/secure/") == before + 1
    assert PASSWORD not in engine.get_endpoint(good).uri
    bad = quotes(spyne, path="/secure/x/", username=USER, password="wrong")  # not in zeep's cache
    with pytest.raises(HttpOperationFailedError, match="cannot load the WSDL") as info:
        engine.template.request_body(bad, {"symbol": "IBM"})
    assert info.value.status_code == 401 and "wrong" not in str(info.value)
    wsdl = tmp_path / "secure.wsdl"
    wsdl.write_bytes(requests.get(f"{spyne.url}/secure/?wsdl", auth=(USER, PASSWORD), timeout=5).content)
    before = spyne.post_count("/secure/")
    with pytest.raises(HttpOperationFailedError, match="401 Unauthorized without a SOAP Fault") as info:
        engine.template.request_body(f"soap:GetQuote?wsdl={wsdl}&username={USER}&password=wrong", {"symbol": "IBM"})
    assert info.value.status_code == 401 and "wrong" not in str(info.value)
    assert info.value.response_body == "<html><body>401 Unauthorized</body></html>"
    assert spyne.post_count("/secure/") == before + 1


def test_ws_security_username_token_plain_and_digest(engine: Engine, spyne) -> None:
    engine.start()
    assert engine.template.request_body(quotes(spyne, "WhoAmI"), None) == "|"
    plain = quotes(spyne, "WhoAmI", wsse_username="bob", wsse_password="pw")
    assert engine.template.request_body(plain, None) == "bob|PasswordText"
    digest = quotes(spyne, "WhoAmI", wsse_username="bob", wsse_password="pw", wsse_digest="true")
    assert engine.template.request_body(digest, None) == "bob|PasswordDigest"
    assert "wsse_password=xxxxxx" in engine.get_endpoint(plain).uri


def test_tls_options_configure_the_pooled_session(engine: Engine, spyne, tmp_path: Path) -> None:
    cert, key, ca = (tmp_path / name for name in ("client.pem", "client.key", "ca.pem"))
    for path in (cert, key, ca):
        path.write_text("not checked until a TLS handshake")
    uri = quotes(spyne, cert_file=cert, key_file=key, ca_bundle=ca, max_connections=3)
    engine.start()
    session = engine.get_endpoint(uri).client().session
    assert session.cert == (str(cert), str(key)) and session.verify == str(ca)
    assert session.get_adapter("https://x")._pool_maxsize == 3
    with pytest.raises(EndpointOptionError, match="key_file needs cert_file"):
        engine.get_endpoint(quotes(spyne, key_file=key))


# -- SOAP 1.2 ------------------------------------------------------------------------------------------
def test_soap_12_calls_and_faults(engine: Engine, spyne) -> None:
    engine.start()
    assert engine.template.request_body(quotes(spyne, path="/soap12/"), {"symbol": "IBM"}) == 123.45
    with pytest.raises(SoapFault) as info:
        engine.template.request_body(quotes(spyne, path="/soap12/"), {"symbol": "BAD"})
    assert (info.value.code, info.value.subcodes, info.value.detail) == ("Sender", ("UnknownSymbol",),
                                                                          {"symbol": "BAD"})
    assert info.value.is_client_fault
    assert engine.get_endpoint(quotes(spyne, path="/soap12/")).client().version == "1.2"


# -- configuration ----------------------------------------------------------------------------------------
def test_configuration_mistakes_are_found_before_anything_runs(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(EndpointOptionError, match="needs option wsdl"):
        engine.get_endpoint("soap:GetQuote")
    with pytest.raises(EndpointOptionError, match="not found"):
        engine.get_endpoint(f"soap:GetQuote?wsdl={tmp_path / 'missing.wsdl'}")
    with pytest.raises(EndpointOptionError, match="did you mean 'read_timeout'"):
        engine.get_endpoint(f"soap:GetQuote?wsdl={tmp_path}&read_timout=1")
    wsdl = tmp_path / "x.wsdl"
    wsdl.write_text("<x/>")
    with pytest.raises(EndpointOptionError, match="only apply to a consumer"):
        engine.get_endpoint(f"soap:GetQuote?wsdl={wsdl}&max_request_body=1MB")
    with pytest.raises(EndpointOptionError, match="only apply to a producer"):
        engine.get_endpoint(f"soap:/quotes?wsdl={wsdl}&read_timeout=1")
    with pytest.raises(EndpointOptionError, match="both wsse_username and wsse_password"):
        engine.get_endpoint(f"soap:GetQuote?wsdl={wsdl}&wsse_username=bob")


@needs_wsdls
def test_an_unknown_operation_port_or_service_fails_the_route_start(engine: Engine) -> None:
    calculator = WSDL_DIR / "calculator.wsdl"
    engine.add_routes(routes(lambda r: r.from_("direct:in").to(f"soap:Ad?wsdl={calculator}")))
    with pytest.raises(EndpointOptionError, match="no operation 'Ad'; did you mean 'Add'"):
        engine.start()
    other = Engine()
    other.add_routes(routes(lambda r: r.from_("direct:in").to(f"soap:Add?wsdl={calculator}&port=CalcSoap")))
    with pytest.raises(EndpointOptionError, match="no port 'CalcSoap'; did you mean 'CalculatorSoap'"):
        other.start()
    other.stop()


# -- the shared WSDLs ------------------------------------------------------------------------------------
@needs_wsdls
@pytest.mark.eip(properties={"server.port": 0})
@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_calculator_wsdl_both_soap_versions_against_the_engines_own_service(engine: Engine, version: str) -> None:
    calculator = WSDL_DIR / "calculator.wsdl"
    seen = []

    def compute(exchange):
        seen.append((exchange.message.headers[c.SOAP_OPERATION], exchange.message.headers[c.SOAP_VERSION]))
        body = exchange.message.body
        exchange.message.body = body["intA"] + body["intB"]

    engine.add_routes(routes(lambda r: r.from_(f"soap:/calc?wsdl={calculator}").process(compute)))
    engine.start()
    address = http_server(engine).url + "/calc"
    uri = f"soap:Add?wsdl={calculator}&soap_version={version}&address={address}"
    assert engine.template.request_body(uri, {"intA": 2, "intB": 40}) == 42
    assert seen == [("Add", version)]
    assert engine.get_endpoint(uri).client().version == version


@needs_wsdls
@pytest.mark.parametrize(("wsdl", "operation", "body", "leaf"), [
    ("asmx_webservice.wsdl", "Max", {"numbers": {"int": [3, 9]}}, ("int", ["3", "9"])),
    ("number_conversion.wsdl", "NumberToWords", {"ubiNum": 42}, ("ubiNum", ["42"])),
    ("country_info.wsdl", "CapitalCity", {"sCountryISOCode": "NL"}, ("sCountryISOCode", ["NL"])),
    ("cxf_customer_service.wsdl", "getCustomersByName", {"name": "Smith"}, ("name", ["Smith"])),
    ("zeep_soap_header.wsdl", "GetLastTradePrice", {"tickerSymbol": "IBM"}, ("tickerSymbol", ["IBM"])),
    ("bluedart_servicefinder/spec.wsdl", "GetServicesforPincode",
     {"pinCode": "110001", "profile": {"LoginID": "x"}}, ("LoginID", ["x"])),
])
def test_shared_wsdls_load_offline_and_build_requests(engine: Engine, wsdl: str, operation: str, body, leaf) -> None:
    """Each WSDL loads offline and its operation's request is built from a dict body; sent to a
    closed port, the call fails as refused (nothing reaches the public hosts in the WSDLs)."""
    uri = f"soap:{operation}?wsdl={WSDL_DIR / wsdl}&address=http://127.0.0.1:{closed_port()}/"
    engine.start()
    client = engine.get_endpoint(uri).client()
    service = client.client.create_service(client.binding.name, client.address)
    envelope = client.client.create_message(service, operation, **body)
    name, texts = leaf
    assert envelope.xpath("//*[local-name()=$name]/text()", name=name) == texts
    with pytest.raises(EndpointNotConnectedError):
        engine.template.request_body(uri, body)


# -- request types are checked against the WSDL's schema before anything is sent (issue 9, item 25b) --
@pytest.mark.parametrize("qty", ["two", 2.5, -1.5])
def test_a_value_of_the_wrong_type_is_refused_before_sending_naming_the_element(engine: Engine, spyne, qty) -> None:
    engine.start()
    before = spyne.post_count()
    with pytest.raises(ValidationError) as info:
        engine.template.request_body(quotes(spyne, "PlaceOrder"), {"order": {"symbol": "IBM", "qty": qty}})
    text = str(info.value)
    assert "PlaceOrder" in text and "PlaceOrder/order/qty" in text and "integer" in text
    assert spyne.post_count() == before  # nothing reached the service


def test_a_value_that_fits_as_text_is_sent(engine: Engine, spyne) -> None:
    engine.start()
    reply = engine.template.request_body(quotes(spyne, "PlaceOrder"), {"order": {"symbol": "IBM", "qty": "3"}})
    assert reply == {"order_id": "IBM-1", "total": pytest.approx(370.35)}


def test_validate_false_sends_what_zeep_rendered_and_the_service_decides(engine: Engine, spyne) -> None:
    engine.start()
    before = spyne.post_count()
    with pytest.raises(SoapFault, match="qty"):
        engine.template.request_body(quotes(spyne, "PlaceOrder", validate="false"),
                                     {"order": {"symbol": "IBM", "qty": "two"}})
    assert spyne.post_count() == before + 1


@needs_wsdls
@pytest.mark.parametrize(("wsdl", "operation", "body", "path"), [
    ("number_conversion.wsdl", "NumberToWords", {"ubiNum": "forty-two"}, "NumberToWords/ubiNum"),
    ("number_conversion.wsdl", "NumberToWords", {"ubiNum": -1}, "NumberToWords/ubiNum"),
    ("calculator.wsdl", "Add", {"intA": 1.5, "intB": 2}, "Add/intA"),
    ("asmx_webservice.wsdl", "Max", {"numbers": {"int": [3, "nine"]}}, "Max/numbers/int[2]"),
])
def test_shared_wsdls_refuse_a_wrong_type_before_any_network_call(engine: Engine, wsdl: str, operation: str,
                                                                   body, path: str) -> None:
    """Sent to a closed port: a request that got past validation would fail as refused instead."""
    uri = f"soap:{operation}?wsdl={WSDL_DIR / wsdl}&address=http://127.0.0.1:{closed_port()}/"
    engine.start()
    with pytest.raises(ValidationError) as info:
        engine.template.request_body(uri, body)
    assert operation in str(info.value) and path in str(info.value)

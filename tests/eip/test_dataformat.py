"""Built-in data formats: JSON keeps Decimal exact, XML <-> lxml trees, text and dicts."""

from __future__ import annotations

import datetime
import io
import json
from decimal import Decimal

import pytest
from lxml import etree

from eip import RouteBuilder, dead_letter_channel
from eip.constants import EXCEPTION_CAUGHT
from eip.dataformat import (
    JsonDataFormat,
    XmlDataFormat,
    dict_to_xml,
    resolve_data_format,
    xml,
    xml_to_dict,
)
from eip.errors import ConfigurationError, TypeConversionError


def run(engine, build, *bodies):
    class Routes(RouteBuilder):
        def configure(self):
            self.error_handler(dead_letter_channel("mock:dead"))
            build(self.from_("direct:in")).to("mock:out")

    engine.add_routes(Routes())
    engine.start()
    for body in bodies:
        engine.template.send_body("direct:in", body)
    return engine.get_endpoint("mock:out").received_bodies


# -- JSON -------------------------------------------------------------------------------------------

def test_json_writes_decimal_as_a_number_with_its_exact_digits():
    out = JsonDataFormat().marshal(None, {"amount": Decimal("59.80"), "big": Decimal("12345678901234567890.123456789"),
                                          "neg": [Decimal("-0.001"), Decimal("1E+3")], "text": "59.80", "f": 1.5})
    assert out == (b'{"amount": 59.80, "big": 12345678901234567890.123456789, "neg": [-0.001, 1E+3], '
                   b'"text": "59.80", "f": 1.5}')
    assert json.loads(out, parse_float=Decimal)["big"] == Decimal("12345678901234567890.123456789")


def test_json_decimal_round_trip_with_parse_float():
    fmt = JsonDataFormat(parse_float=Decimal)
    value = {"a": Decimal("0.10"), "b": [Decimal("-3.14159265358979323846264338327950288")], "n": 3}
    back = fmt.unmarshal(None, fmt.marshal(None, value))
    assert back == value and isinstance(back["a"], Decimal) and str(back["a"]) == "0.10" and back["n"] == 3
    assert isinstance(JsonDataFormat().unmarshal(None, b'{"a": 0.10}')["a"], float)  # the default stays float


def test_json_decimal_marshal_with_pretty_sorting_and_odd_values():
    out = JsonDataFormat(pretty=True, sort_keys=True).marshal(None, {"b": Decimal("1.0"), "a": Decimal("NaN")})
    assert out == b'{\n  "a": NaN,\n  "b": 1.0\n}'
    assert JsonDataFormat().marshal(None, [Decimal("-Infinity"), Decimal("0E-7")]) == b"[-Infinity, 0E-7]"


def test_json_strings_that_look_like_the_mark_are_left_alone():
    from eip.dataformat import _DECIMAL_MARK

    text = {"s": "~eip-decimal-00000000000000000000000000000000~1.5", "d": Decimal("2.5")}
    assert json.loads(JsonDataFormat().marshal(None, text))["s"] == text["s"]
    assert _DECIMAL_MARK not in JsonDataFormat().marshal(None, [Decimal(1)]).decode()


def test_json_still_writes_dates_and_refuses_unknown_types():
    assert JsonDataFormat().marshal(None, {"d": datetime.date(2024, 1, 2)}) == b'{"d": "2024-01-02"}'
    with pytest.raises(TypeError, match="object is not JSON serialisable"):
        JsonDataFormat().marshal(None, object())


def test_json_decimal_in_a_route(engine):
    bodies = run(engine, lambda r: r.unmarshal(JsonDataFormat(parse_float=Decimal))
                 .process(lambda ex: ex.message.body.update(total=ex.message.body["price"] * 3))
                 .marshal("json"), b'{"price": 0.10}')
    assert bodies == [b'{"price": 0.10, "total": 0.30}']


# -- XML ------------------------------------------------------------------------------------------

ORDER = b"""<?xml version="1.0"?>
<order id="7" status="new">
  <customer>Ada</customer>
  <line sku="A">2</line>
  <line sku="B">3</line>
  <note/>
  <!-- a comment -->
</order>"""


def test_xml_to_dict_convention():
    assert xml(as_dict=True).unmarshal(None, ORDER) == {"order": {
        "@id": "7", "@status": "new", "customer": "Ada",
        "line": [{"@sku": "A", "#text": "2"}, {"@sku": "B", "#text": "3"}], "note": None}}


def test_dict_to_xml_writes_values_as_text():
    element = dict_to_xml({"order": {"@id": 7, "total": Decimal("5.50"), "paid": False, "due": datetime.date(2024, 5, 1),
                                     "line": ["a", "b"], "note": None, "#text": "x"}})
    assert etree.tostring(element) == (b'<order id="7">x<total>5.50</total><paid>false</paid><due>2024-05-01</due>'
                                       b"<line>a</line><line>b</line><note/></order>")


def test_namespaces_round_trip_with_prefixes_and_xmlns_attributes():
    soap = (b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
            b'<m:getPrice xmlns:m="urn:shop" m:currency="EUR"><m:item>pen</m:item></m:getPrice>'
            b'<order xmlns="urn:orders"><id>1</id></order></soap:Body></soap:Envelope>')
    as_dict = xml_to_dict(etree.fromstring(soap))
    assert as_dict == {"soap:Envelope": {
        "@xmlns:soap": "http://schemas.xmlsoap.org/soap/envelope/",
        "soap:Body": {"m:getPrice": {"@xmlns:m": "urn:shop", "@m:currency": "EUR", "m:item": "pen"},
                      "order": {"@xmlns": "urn:orders", "id": "1"}}}}
    back = dict_to_xml(as_dict)
    assert etree.tostring(back) == soap
    assert back.find("{http://schemas.xmlsoap.org/soap/envelope/}Body/{urn:orders}order/{urn:orders}id").text == "1"


def test_dict_round_trip_is_exact_for_text_values():
    value = {"a": {"@k": "v", "b": ["1", "2", {"c": "3"}], "d": {"#text": "t", "@x": "y"}, "e": None}}
    assert xml_to_dict(dict_to_xml(value)) == value


def test_mixed_content_text_is_joined_and_comments_dropped():
    assert xml_to_dict(etree.fromstring(b"<p>Hello <b>big</b> world<!--c--><?pi x?></p>")) == {
        "p": {"b": "big", "#text": "Hello  world"}}


def test_dict_shapes_that_are_no_document_are_refused():
    with pytest.raises(ValueError, match="exactly one key"):
        dict_to_xml({"a": 1, "b": 2})
    with pytest.raises(TypeError, match="cannot be a list"):
        dict_to_xml({"a": [1, 2]})
    with pytest.raises(ValueError, match="prefix 'm' of 'm:item' is not declared"):
        dict_to_xml({"order": {"m:item": "x"}})
    with pytest.raises(TypeError, match="cannot write a object"):
        dict_to_xml({"order": {"x": object()}})


def test_xml_marshal_accepts_elements_trees_dicts_and_text():
    fmt = XmlDataFormat(xml_declaration=False)
    element = etree.fromstring(b"<a><b>1</b></a>")
    assert fmt.marshal(None, element) == b"<a><b>1</b></a>"
    assert fmt.marshal(None, element.getroottree()) == b"<a><b>1</b></a>"
    assert fmt.marshal(None, {"a": {"b": 1}}) == b"<a><b>1</b></a>"
    assert fmt.marshal(None, "<a><b>1</b></a>") == b"<a><b>1</b></a>"
    assert xml().marshal(None, element).startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    assert xml(pretty=True, xml_declaration=False).marshal(None, element) == b"<a>\n  <b>1</b>\n</a>\n"
    with pytest.raises(etree.XMLSyntaxError):
        fmt.marshal(None, "<a>")


def test_xml_unmarshal_accepts_files_and_file_bodies_and_passes_elements_on():
    class FileBody:
        def read_bytes(self) -> bytes:
            return b'<?xml version="1.0" encoding="ISO-8859-1"?><a>\xe9</a>'

    assert XmlDataFormat().unmarshal(None, FileBody()).text == "é"  # the document's own encoding
    assert XmlDataFormat().unmarshal(None, io.BytesIO(b"<a>1</a>")).text == "1"
    element = etree.fromstring(b"<a/>")
    assert XmlDataFormat().unmarshal(None, element) is element
    assert XmlDataFormat(as_dict=True).unmarshal(None, element) == {"a": None}
    assert XmlDataFormat().unmarshal(None, {"a": "1"}).text == "1"


def test_xml_by_name_and_with_options_in_a_route(engine):
    bodies = run(engine, lambda r: r.unmarshal("xml").marshal("xml").unmarshal(xml(as_dict=True))
                 .marshal("json"), ORDER)
    assert json.loads(bodies[0])["order"]["line"][1] == {"@sku": "B", "#text": "3"}
    assert resolve_data_format("XML").__class__ is XmlDataFormat


def test_bad_xml_in_a_route_is_a_type_conversion_error(engine):
    run(engine, lambda r: r.unmarshal(xml(as_dict=True)), b"<order>")
    cause = engine.get_endpoint("mock:dead").received_exchanges[0].properties[EXCEPTION_CAUGHT]
    assert isinstance(cause, TypeConversionError) and "unmarshal(XmlDataFormat) failed" in str(cause)


def test_unknown_format_name_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="unknown data format 'yaml'"):
        resolve_data_format("yaml")

"""validate(xsd(...)): a schema violation raises a ValidationError listing line and message."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from eip import RouteBuilder, ValidationError, dead_letter_channel
from eip.constants import EXCEPTION_CAUGHT
from eip.errors import ConfigurationError, SchemaValidationError
from eip.exchange import Exchange
from eip.xml_schema import xsd

TYPES_XSD = """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:simpleType name="qty"><xs:restriction base="xs:int"><xs:minInclusive value="1"/></xs:restriction></xs:simpleType>
</xs:schema>
"""

ORDER_XSD = """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:include schemaLocation="types.xsd"/>
  <xs:element name="order">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="item" maxOccurs="unbounded">
          <xs:complexType>
            <xs:attribute name="sku" type="xs:string" use="required"/>
            <xs:attribute name="qty" type="qty" use="required"/>
          </xs:complexType>
        </xs:element>
      </xs:sequence>
      <xs:attribute name="id" type="xs:int" use="required"/>
    </xs:complexType>
  </xs:element>
</xs:schema>
"""

VALID = '<order id="1"><item sku="A" qty="2"/></order>'
INVALID = """<order id="x">
  <item sku="A" qty="2"/>
  <item qty="0"/>
</order>"""


@pytest.fixture
def schema_path(tmp_path: Path) -> Path:
    (tmp_path / "types.xsd").write_text(TYPES_XSD)
    path = tmp_path / "order.xsd"
    path.write_text(ORDER_XSD)
    return path


def test_valid_body_passes_through_the_route(engine, schema_path):
    class Routes(RouteBuilder):
        def configure(self):
            self.from_("direct:in").validate(xsd(schema_path)).to("mock:out")

    engine.add_routes(Routes())
    engine.start()
    engine.template.send_body("direct:in", VALID)
    engine.template.send_body("direct:in", VALID.encode())
    engine.template.send_body("direct:in", etree.fromstring(VALID))
    assert len(engine.get_endpoint("mock:out").received_bodies) == 3


def test_invalid_body_fails_with_every_error_line_and_message(engine, schema_path):
    class Routes(RouteBuilder):
        def configure(self):
            self.error_handler(dead_letter_channel("mock:dead"))
            self.from_("direct:in").validate(xsd(schema_path)).to("mock:out")

    engine.add_routes(Routes())
    engine.start()
    engine.template.send_body("direct:in", INVALID)
    assert engine.get_endpoint("mock:out").received_bodies == []
    error = engine.get_endpoint("mock:dead").received_exchanges[0].properties[EXCEPTION_CAUGHT]
    assert isinstance(error, SchemaValidationError) and isinstance(error, ValidationError)
    assert [(line, message.split(":")[0]) for line, _, message in error.errors] == [
        (1, "Element 'order', attribute 'id'"), (3, "Element 'item', attribute 'qty'"),
        (3, "Element 'item'")]
    text = str(error)
    assert text.startswith(f"xsd({schema_path}): 3 errors: line 1, column 0: Element 'order', attribute 'id'")
    assert "line 3" in text and "'sku' is required but missing" in text


def test_malformed_body_is_a_validation_error_with_the_parser_position(schema_path):
    with pytest.raises(SchemaValidationError, match=r"1 error: line 2, column \d+: ") as info:
        xsd(schema_path)(Exchange("<order id='1'>\n<item</order>"))
    assert info.value.errors[0][0] == 2


def test_non_xml_body_type_is_a_validation_error(schema_path):
    with pytest.raises(SchemaValidationError, match="expected an XML body"):
        xsd(schema_path)(Exchange(42))


def test_errors_and_check_outside_a_route(schema_path):
    schema = xsd(schema_path)
    assert schema.errors(VALID) == []
    assert len(schema.errors(INVALID)) == 3
    schema.check(VALID)
    with pytest.raises(SchemaValidationError):
        schema.check(INVALID)


def test_many_errors_are_all_kept_but_the_message_stays_readable(schema_path):
    body = '<order id="1">' + '<item sku="A" qty="0"/>' * 30 + "</order>"
    with pytest.raises(SchemaValidationError, match="30 errors: .*; and 10 more$") as info:
        xsd(schema_path).check(body)
    assert len(info.value.errors) == 30


def test_schema_problems_are_configuration_errors(tmp_path):
    with pytest.raises(ConfigurationError, match="not found"):
        xsd(tmp_path / "nope.xsd")
    with pytest.raises(ConfigurationError, match="does not compile"):
        xsd('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="a" type="nope"/></xs:schema>')

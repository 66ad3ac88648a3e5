"""The one safe XML parser (eip/xml.py): XXE, billion laughs and external DTDs are rejected.

Each attack is also sent through the engine's XML users (unmarshal, xpath, xsd, xslt) to show
that they all go through that one parser."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from lxml import etree

from eip import RouteBuilder, dead_letter_channel, xpath
from eip.constants import EXCEPTION_CAUGHT
from eip.dataformat import XmlDataFormat
from eip.errors import SchemaValidationError
from eip.safe_xml import UnsafeXmlError, parse_xml
from eip.xml_schema import xsd
from eip.xml_transform import xslt

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz>&lol9;</lolz>
"""


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text("TOP-SECRET-CONTENT")
    return path


@pytest.fixture
def listener():
    """A loopback TCP port that records whether anything connected to it (nothing may)."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.setblocking(False)

    def connected() -> bool:
        try:
            conn, _ = server.accept()
        except BlockingIOError:
            return False
        conn.close()
        return True

    yield server.getsockname()[1], connected
    server.close()


def xxe(secret: Path) -> bytes:
    return (f'<?xml version="1.0"?>\n<!DOCTYPE order [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
            f"<order><note>&xxe;</note></order>").encode()


def test_xxe_payload_is_rejected_and_the_file_never_read(secret):
    with pytest.raises(UnsafeXmlError, match=r"declares entity 'xxe'.*XXE") as info:
        parse_xml(xxe(secret))
    assert "TOP-SECRET" not in str(info.value)
    assert isinstance(info.value, etree.XMLSyntaxError)  # handled wherever malformed XML is


def test_billion_laughs_is_rejected_quickly_without_expansion():
    started = time.perf_counter()
    with pytest.raises(UnsafeXmlError, match=r"declares entity 'lol'.*billion laughs"):
        parse_xml(BILLION_LAUGHS)
    assert time.perf_counter() - started < 1.0


def test_external_dtd_is_rejected_and_never_fetched(listener):
    port, connected = listener
    payload = f'<?xml version="1.0"?><!DOCTYPE order SYSTEM "http://127.0.0.1:{port}/evil.dtd"><order/>'
    with pytest.raises(UnsafeXmlError, match=r"external DTD \('http://127\.0\.0\.1:\d+/evil\.dtd'\)"):
        parse_xml(payload)
    assert not connected()


def test_external_parameter_entity_is_rejected_and_never_fetched(listener):
    port, connected = listener
    payload = (f'<?xml version="1.0"?><!DOCTYPE order [<!ENTITY % remote SYSTEM "http://127.0.0.1:{port}/x.dtd">'
               f"%remote;]><order/>")
    with pytest.raises(UnsafeXmlError, match="declares entity 'remote'"):
        parse_xml(payload)
    assert not connected()


def test_external_dtd_with_public_id_is_rejected(secret):
    dtd = secret.with_name("order.dtd")
    dtd.write_text(f'<!ENTITY leak SYSTEM "file://{secret}">')
    payload = f'<!DOCTYPE order PUBLIC "-//X//Order//EN" "file://{dtd}"><order>&leak;</order>'
    with pytest.raises(etree.XMLSyntaxError) as info:  # undeclared entity or rejected DTD: never the secret
        parse_xml(payload)
    assert "TOP-SECRET" not in str(info.value)
    with pytest.raises(UnsafeXmlError, match="external DTD"):
        parse_xml(f'<!DOCTYPE order PUBLIC "-//X//Order//EN" "file://{dtd}"><order/>')


def test_harmless_doctypes_still_parse():
    assert parse_xml(b"<!DOCTYPE order><order>1</order>").text == "1"
    assert parse_xml("<!DOCTYPE order [<!ELEMENT order (#PCDATA)>]><order>2</order>").text == "2"
    assert parse_xml("<order>&amp;&#65;</order>").text == "&A"  # predefined and character references


def test_unmarshal_xml_in_a_route_rejects_xxe_with_a_clear_error(engine, secret):
    class Routes(RouteBuilder):
        def configure(self):
            self.error_handler(dead_letter_channel("mock:dead"))
            self.from_("direct:in").unmarshal("xml").to("mock:out")

    engine.add_routes(Routes())
    engine.start()
    engine.template.send_body("direct:in", xxe(secret))
    engine.template.send_body("direct:in", BILLION_LAUGHS)
    assert engine.get_endpoint("mock:out").received_exchanges == []
    causes = [ex.properties[EXCEPTION_CAUGHT] for ex in engine.get_endpoint("mock:dead").received_exchanges]
    assert len(causes) == 2
    assert "unmarshal(xml)" in str(causes[0]) and "entity 'xxe'" in str(causes[0])
    assert isinstance(causes[0].__cause__, UnsafeXmlError)
    assert "entity 'lol'" in str(causes[1])


def test_every_xml_user_goes_through_the_safe_parser(secret):
    from eip.exchange import Exchange

    attack = xxe(secret)
    with pytest.raises(UnsafeXmlError):
        XmlDataFormat().unmarshal(None, attack)
    with pytest.raises(UnsafeXmlError):
        XmlDataFormat(as_dict=True).unmarshal(None, attack)
    with pytest.raises(Exception, match="entity 'xxe'"):
        xpath("/order/note")(Exchange(attack))
    identity = xslt('<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
                    '<xsl:template match="/"><xsl:copy-of select="."/></xsl:template></xsl:stylesheet>')
    with pytest.raises(UnsafeXmlError):
        identity.transform(attack)
    schema = xsd('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="order"/></xs:schema>')
    with pytest.raises(SchemaValidationError, match="entity 'xxe'") as info:
        schema.check(attack)
    assert "TOP-SECRET" not in str(info.value)

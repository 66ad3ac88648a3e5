"""xslt(): the XSLT message translator, compiled once, parameters from headers."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from lxml import etree

from eip import RouteBuilder, dead_letter_channel, header
from eip.constants import EXCEPTION_CAUGHT
from eip.errors import ConfigurationError, TransformError
from eip.exchange import Exchange
from eip.xml_transform import xslt

ORDER_XSL = """<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:output method="xml" omit-xml-declaration="yes"/>
  <xsl:param name="channel" select="'none'"/>
  <xsl:param name="priority" select="'normal'"/>
  <xsl:template match="/order">
    <invoice id="{@id}" channel="{$channel}" priority="{$priority}">
      <total><xsl:value-of select="sum(line/@amount)"/></total>
    </invoice>
    <xsl:if test="@id = 'stop'"><xsl:message terminate="yes">order refused</xsl:message></xsl:if>
  </xsl:template>
</xsl:stylesheet>
"""

ORDER = '<order id="7"><line amount="2"/><line amount="3"/></order>'


@pytest.fixture
def stylesheet(tmp_path: Path) -> Path:
    path = tmp_path / "order.xsl"
    path.write_text(ORDER_XSL)
    return path


def routes(engine, build):
    class Routes(RouteBuilder):
        def configure(self):
            self.error_handler(dead_letter_channel("mock:dead"))
            build(self.from_("direct:in")).to("mock:out")

    engine.add_routes(Routes())
    engine.start()


def test_process_with_a_stylesheet_file_and_parameters_from_headers(engine, stylesheet):
    translator = xslt(stylesheet, parameters={"channel": header("channel"), "priority": "high"})
    routes(engine, lambda r: r.process(translator))
    engine.template.send_body("direct:in", ORDER, headers={"channel": "web"})
    engine.template.send_body("direct:in", ORDER.encode())  # no header: the stylesheet's default
    bodies = engine.get_endpoint("mock:out").received_bodies
    assert [etree.fromstring(b).attrib for b in bodies] == [
        {"id": "7", "channel": "web", "priority": "high"}, {"id": "7", "channel": "none", "priority": "high"}]
    assert all(isinstance(b, str) for b in bodies)  # str by default, as Camel's XSLT component
    assert etree.fromstring(bodies[0]).findtext("total") == "5"


def test_transform_verb_and_element_input_and_output(engine):
    translator = xslt(ORDER_XSL, output="element")
    routes(engine, lambda r: r.transform(translator))
    engine.template.send_body("direct:in", etree.fromstring(ORDER))
    body = engine.get_endpoint("mock:out").received_bodies[0]
    assert isinstance(body, etree._Element) and body.tag == "invoice" and body.findtext("total") == "5"


def test_bytes_output_is_encoded_as_the_stylesheet_says():
    latin = ORDER_XSL.replace('method="xml"', 'method="xml" encoding="ISO-8859-1"').replace(
        "omit-xml-declaration=\"yes\"", "")
    out = xslt(latin, output="bytes").transform('<order id="é"/>')
    assert isinstance(out, bytes) and b"ISO-8859-1" in out and 'id="é"'.encode("latin-1") in out


def test_headers_as_parameters_passes_headers_as_strings_and_explicit_parameters_win():
    translator = xslt(ORDER_XSL, headers_as_parameters=True, parameters={"priority": header("urgent")})
    ex = Exchange(ORDER, {"channel": "fax", "priority": "ignored", "urgent": True, "bad name": "x", "obj": object()})
    translator.process(ex)
    assert etree.fromstring(ex.message.body).attrib == {"id": "7", "channel": "fax", "priority": "true"}


def test_a_header_cannot_inject_xpath():
    ex = Exchange(ORDER, {"channel": "') or ('1"})
    xslt(ORDER_XSL, parameters={"channel": header("channel")}).process(ex)
    assert etree.fromstring(ex.message.body).get("channel") == "') or ('1"


def test_terminating_stylesheet_fails_the_exchange_with_its_message(engine):
    routes(engine, lambda r: r.process(xslt(ORDER_XSL)))
    engine.template.send_body("direct:in", '<order id="stop"/>')
    engine.template.send_body("direct:in", "<order")  # not XML
    causes = [ex.properties[EXCEPTION_CAUGHT] for ex in engine.get_endpoint("mock:dead").received_exchanges]
    assert isinstance(causes[0], TransformError) and "order refused" in str(causes[0])
    assert isinstance(causes[1], TransformError) and "not well-formed XML" in str(causes[1])
    assert engine.get_endpoint("mock:out").received_exchanges == []


def test_text_output_cannot_be_an_element():
    text = xslt('<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
                '<xsl:output method="text"/><xsl:template match="/">id=<xsl:value-of select="/order/@id"/>'
                "</xsl:template></xsl:stylesheet>")
    assert text.transform(ORDER) == "id=7"
    with pytest.raises(TransformError, match="no element"):
        xslt(text._doc, output="element").transform(ORDER)


def test_configuration_errors_come_before_the_route_starts(tmp_path):
    with pytest.raises(ConfigurationError, match="not found"):
        xslt(tmp_path / "missing.xsl")
    with pytest.raises(ConfigurationError, match="does not compile"):
        xslt('<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
             '<xsl:template match="/"><xsl:value-of select="(("/></xsl:template></xsl:stylesheet>')
    with pytest.raises(ConfigurationError, match="not well-formed"):
        xslt("<xsl:stylesheet")
    with pytest.raises(ConfigurationError, match="output"):
        xslt(ORDER_XSL, output="dict")
    with pytest.raises(ConfigurationError, match="not an XML name"):
        xslt(ORDER_XSL, parameters={"1x": "a"})


def test_stylesheet_may_not_read_the_network_nor_write_files(tmp_path):
    target = tmp_path / "written.txt"
    writer = xslt(f'<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" '
                  f'xmlns:exsl="http://exslt.org/common" extension-element-prefixes="exsl">'
                  f'<xsl:template match="/"><exsl:document href="{target}">x</exsl:document><done/>'
                  f"</xsl:template></xsl:stylesheet>")
    with pytest.raises(TransformError):
        writer.transform(ORDER)
    assert not target.exists()


def test_compiled_once_and_run_from_many_threads(stylesheet):
    translator = xslt(stylesheet, parameters={"channel": header("n")})
    results: dict[int, str] = {}

    def work(n: int) -> None:
        for _ in range(20):
            ex = Exchange(ORDER, {"n": str(n)})
            translator.process(ex)
            results[n] = etree.fromstring(ex.message.body).get("channel")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert results == {n: str(n) for n in range(4)}

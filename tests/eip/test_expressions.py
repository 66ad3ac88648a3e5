"""Expressions and predicates: builders, operators, xpath, jsonpath and simple."""

from __future__ import annotations

import pytest

from eip import (
    ConfigurationError,
    Exchange,
    body,
    constant,
    exchange_property,
    header,
    jsonpath,
    simple,
    xpath,
)
from eip.errors import ExpressionError


def ex(body_value=None, headers=None, properties=None):
    exchange = Exchange(body_value, headers)
    exchange.properties.update(properties or {})
    return exchange


def test_builders_read_the_exchange():
    e = ex("payload", {"Type": "gold"}, {"p": 3})
    assert header("type")(e) == "gold"  # case-insensitive
    assert header("missing")(e) is None
    assert body()(e) == "payload"
    assert constant(42)(e) == 42
    assert exchange_property("p")(e) == 3


def test_comparisons_and_composition():
    e = ex(5, {"type": "gold", "n": 10})
    assert (header("type") == "gold")(e)
    assert not (header("type") != "gold")(e)
    assert (header("n") > 5)(e) and (header("n") >= 10)(e) and (header("n") < 11)(e) and (header("n") <= 10)(e)
    assert ((header("type") == "gold") & (body() == 5))(e)
    assert ((header("type") == "silver") | (body() == 5))(e)
    assert (~(header("type") == "silver"))(e)
    assert (header("n") > body())(e)  # expression on both sides
    assert not (header("missing") > 1)(e)  # None never compares greater


def test_methods():
    e = ex("hello world", {"code": "AB-123"})
    assert body().contains("world")(e)
    assert body().startswith("hello")(e)
    assert body().endswith("world")(e)
    assert header("code").regex(r"^[A-Z]{2}-\d+$")(e)
    assert header("code").is_in("AB-123", "CD-1")(e)
    assert not header("code").is_in(["x"])(e)
    assert not header("missing").contains("x")(e)
    assert list(body().tokenize(" ")(e)) == ["hello", "world"]
    assert list(constant("a\nb\nc\nd\ne").tokenize("\n", group=2)(e)) == ["a\nb", "c\nd", "e"]


def test_plain_callables_compose_with_expressions():
    e = ex(3)
    predicate = (body() > 1) & (lambda exchange: exchange.message.body % 2 == 1)
    assert predicate(e)


XML = b"""<?xml version="1.0"?>
<o:order xmlns:o="urn:orders" type="gold"><o:line sku="A">2</o:line><o:line sku="B">3</o:line></o:order>"""


def test_xpath_with_namespaces_on_bytes_str_and_elements():
    ns = {"o": "urn:orders"}
    e = ex(XML)
    assert xpath("/o:order/@type", ns)(e) == "gold"
    assert (xpath("/o:order/@type", ns) == "gold")(e)
    assert xpath("count(//o:line)", ns)(e) == 2.0
    assert len(xpath("//o:line", ns)(e)) == 2
    assert xpath("//o:line[@sku='B']", ns, result_type=str)(e) == "3"
    assert xpath("//o:nothing", ns)(e) is None
    assert xpath("/o:order/@type", ns)(ex(XML.decode())) == "gold"


def test_xpath_rejects_wrong_body_types_and_bad_xml():
    with pytest.raises(ExpressionError, match="needs an XML body"):
        xpath("/a")(ex({"not": "xml"}))
    with pytest.raises(ExpressionError, match="not well-formed"):
        xpath("/a")(ex(b"<a>"))
    with pytest.raises(ConfigurationError, match="invalid xpath"):
        xpath("///[")


def test_xpath_does_not_expand_entities():
    evil = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "expanded">]><r>&x;</r>"""
    with pytest.raises(ExpressionError):
        xpath("/r", result_type=str)(ex(evil))
    xxe = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"""
    with pytest.raises(ExpressionError):
        xpath("/r", result_type=str)(ex(xxe))


def test_jsonpath_on_dicts_and_json_text():
    data = {"order": {"id": 7, "lines": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 5}]}}
    assert jsonpath("$.order.id")(ex(data)) == 7
    assert jsonpath("$.order.lines[*].sku")(ex(data)) == ["A", "B"]
    assert jsonpath("$.order.lines[?(@.qty > 3)].sku")(ex(data)) == "B"
    assert jsonpath("$.order.missing")(ex(data)) is None
    assert jsonpath("$.a")(ex('{"a": 1}')) == 1
    with pytest.raises(ExpressionError, match="not JSON"):
        jsonpath("$.a")(ex("not json"))
    with pytest.raises(ExpressionError, match="needs a dict"):
        jsonpath("$.a")(ex(42))


def test_simple_templates_and_predicates():
    e = ex({"id": 9}, {"type": "gold", "n": "12"}, {"p": "v"})
    assert simple("${header.type}")(e) == "gold"
    assert simple("order ${body.id} is ${header.type} (${exchangeProperty.p})")(e) == "order 9 is gold (v)"
    assert simple("${header.type} == 'gold'")(e) is True
    assert simple("${header.n} > 10 && ${header.type} != 'silver'")(e) is True
    assert simple("${header.type} == 'x' || ${header.n} == 12")(e) is True
    assert simple("${header.type} in 'gold,silver'")(e) is True
    assert simple("${header.type} contains 'ol'")(e) is True
    assert simple("${header.type} regex '^g.*'")(e) is True
    with pytest.raises(ConfigurationError, match="unknown token"):
        simple("${nonsense.here}")

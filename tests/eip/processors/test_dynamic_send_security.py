"""Dynamic sends treat exchange data as data: no placeholder resolution in computed URIs, and no
SQL statement taken from an exchange (issue 9, item 1)."""

from __future__ import annotations

import logging

import pytest

from eip import ConfigurationError, header
from eip import constants as c
from eip.errors import EipError, RouteDefinitionError

SECRET = "s3cr3t-from-the-environment"
EIP_SECRET = "s3cr3t-from-eip-variable"
PLACEHOLDER = "{{MY_SECRET_TOKEN}}"


@pytest.fixture
def secret_env(monkeypatch):
    monkeypatch.setenv("MY_SECRET_TOKEN", SECRET)
    monkeypatch.setenv("EIP_MY_SECRET_TOKEN", EIP_SECRET)


def start(engine, configure):
    engine.add_routes(configure)
    engine.start()


def items_db(engine, tmp_path):
    engine.add_datasource("db", f"sqlite:///{tmp_path}/items.db")
    engine.template.send_body("sql:CREATE TABLE items (name TEXT)?datasource=db", None)
    engine.template.send_body("sql:INSERT INTO items VALUES ('a'), ('b')?datasource=db", None)


def count_items(engine):
    return engine.template.request_body("sql:SELECT count(*) FROM items?datasource=db&output_type=select_one",
                                        None)


# -- sql: a statement never comes from exchange data ----------------------------------------------

@pytest.mark.parametrize("verb", ["to_d", "enrich"])
def test_exchange_value_inside_an_sql_statement_is_refused_when_the_route_is_added(engine, verb):
    def configure(b):
        step = getattr(b.from_("direct:find").route_id("find"), verb)
        step("sql:SELECT '${header.q}' AS v?datasource=db").id("lookup")

    with pytest.raises(RouteDefinitionError) as info:
        start(engine, configure)
    assert (info.value.route_id, info.value.node_id) == ("find", "lookup")
    assert ":#" in str(info.value)
    assert engine.route_ids() == []


def test_whole_sql_statement_from_a_header_is_refused_when_the_route_is_added(engine):
    with pytest.raises(RouteDefinitionError, match=":#"):
        start(engine, lambda b: b.from_("direct:find").to_d("sql:${header.statement}"))


def test_exchange_values_in_sql_options_are_fine_and_parameters_bind(engine, tmp_path):
    items_db(engine, tmp_path)
    start(engine, lambda b: b.from_("direct:find")
          .to_d("sql:SELECT name FROM items WHERE name = :#q?datasource=${header.db}&output_type=select_list"))
    assert engine.template.request_body("direct:find", None, headers={"db": "db", "q": "a"}) == [{"name": "a"}]
    assert engine.template.request_body("direct:find", None,
                                        headers={"db": "db", "q": "x' OR '1'='1"}) == []


def test_option_value_cannot_move_the_statement_boundary(engine, tmp_path):
    items_db(engine, tmp_path)
    start(engine, lambda b: b.from_("direct:find").route_id("find")
          .to_d("sql:SELECT name FROM items WHERE name = :#q?datasource=${header.db}").id("lookup"))
    hostile = "db OR 1=1 --?output_type=select_list"  # unquoted, the parser would end the statement later
    with pytest.raises(ConfigurationError) as info:
        engine.template.request_body("direct:find", None, headers={"db": hostile, "q": "a"})
    # The value stays the datasource option's value (an unknown datasource), never statement text.
    assert f"no datasource '{hostile}'" in str(info.value)


@pytest.mark.parametrize("verb", ["recipient_list", "routing_slip", "dynamic_router", "to_d_expression"])
def test_sql_uri_computed_at_run_time_is_refused(engine, tmp_path, verb):
    items_db(engine, tmp_path)

    def configure(b):
        route = b.from_("direct:in").route_id("r")
        if verb == "dynamic_router":
            route.dynamic_router(lambda ex: None if ex.properties.get(c.SLIP_ENDPOINT) else ex.message.headers["to"])
        elif verb == "to_d_expression":
            route.to_d(header("to"))
        else:
            getattr(route, verb)(header("to"))

    start(engine, configure)
    with pytest.raises(ConfigurationError, match=":#"):
        engine.template.send_body("direct:in", None, headers={"to": "sql:DELETE FROM items?datasource=db"})
    assert count_items(engine) == 2


# -- placeholders: resolved once in the template, never in exchange data ---------------------------

def _routes(verb):
    """(configure, uri-of-the-send) per dynamic send verb, all reading the header ``x``."""
    def configure(b):
        route = b.from_("direct:in").route_id("r")
        if verb == "to_d":
            route.to_d("mock:${header.x}")
        elif verb == "to_d_log":
            route.to_d("log:${header.x}")
        elif verb == "to_d_direct":
            route.to_d("direct:${header.x}")
        elif verb == "recipient_list":
            route.recipient_list(lambda ex: "mock:" + ex.message.headers["x"])
        elif verb == "routing_slip":
            route.routing_slip(lambda ex: "mock:" + ex.message.headers["x"])
        elif verb == "dynamic_router":
            route.dynamic_router(lambda ex: None if ex.properties.get(c.SLIP_ENDPOINT)
                                 else "mock:" + ex.message.headers["x"])
        elif verb == "enrich":
            route.enrich("mock:${header.x}")
        elif verb == "poll_enrich":
            route.poll_enrich("seda:${header.x}", timeout=0)
    return configure


@pytest.mark.parametrize("verb", ["to_d", "to_d_log", "to_d_direct", "recipient_list", "routing_slip",
                                  "dynamic_router", "enrich", "poll_enrich"])
def test_placeholder_in_exchange_data_is_not_resolved(engine, secret_env, caplog, verb):
    caplog.set_level(logging.DEBUG)
    start(engine, _routes(verb))
    try:
        engine.template.send_body("direct:in", "body", headers={"x": PLACEHOLDER})
    except EipError as exc:  # the literal name may be refused (direct: has no consumer); never resolved
        assert SECRET not in str(exc) and EIP_SECRET not in str(exc)
    uris = [endpoint.uri for endpoint in engine.endpoints()]
    assert not [u for u in uris if SECRET in u or EIP_SECRET in u]
    if verb not in ("to_d_log", "to_d_direct", "poll_enrich"):
        assert any(u.endswith(PLACEHOLDER) for u in uris), uris
    assert SECRET not in caplog.text and EIP_SECRET not in caplog.text


def test_static_placeholders_in_the_template_still_resolve(engine, monkeypatch):
    monkeypatch.setenv("EIP_ROUTING_SUFFIX", "v2")
    engine.properties["lane"] = "eu"
    start(engine, lambda b: b.from_("direct:in").to_d("mock:{{lane}}-${header.x}-{{routing.suffix}}"))
    engine.template.send_body("direct:in", "body", headers={"x": "a"})
    assert engine.get_endpoint("mock:eu-a-v2").received_bodies == ["body"]


def test_placeholder_without_a_value_in_a_template_fails_when_the_route_is_added(engine):
    with pytest.raises(ConfigurationError) as info:
        start(engine, lambda b: b.from_("direct:in").route_id("r").to_d("mock:{{nowhere}}-${header.x}").id("send"))
    assert (info.value.route_id, info.value.node_id) == ("r", "send")
    assert "EIP_NOWHERE" in str(info.value)


# -- exchange values cannot add endpoint options ---------------------------------------------------

@pytest.mark.parametrize("value", ["q?retain_first=1", "q?bogus=1"])
def test_a_path_value_cannot_open_the_endpoint_options(engine, value):
    start(engine, lambda b: b.from_("direct:send").route_id("send").to_d("mock:${header.target}").id("out"))
    with pytest.raises(EipError, match="may not add endpoint options") as info:
        engine.template.send_body("direct:send", "hi", headers={"target": value})
    assert info.value.node_id == "out"
    assert not any(endpoint.uri.startswith("mock:q") for endpoint in engine.endpoints())


def test_an_option_value_stays_one_value_even_with_separators_inside(engine, tmp_path):
    """'&' and '=' in a value do not start another option: the file name is the whole value."""
    outbox = tmp_path / "out"
    start(engine, lambda b: b.from_("direct:save")
          .to_d(f"file:{outbox}?file_name=${{header.name}}"))
    engine.template.send_body("direct:save", "x", headers={"name": "a&file_exist=append=1.txt"})
    assert [p.name for p in outbox.iterdir()] == ["a&file_exist=append=1.txt"]
    assert (outbox / "a&file_exist=append=1.txt").read_text() == "x"

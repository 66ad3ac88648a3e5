"""URI parsing, option specs, durations, masking and placeholders."""

from __future__ import annotations

import pytest

from eip import ConfigurationError, EndpointOptionError, Engine
from eip.options import Option, OptionSpec, parse_duration
from eip.uri import mask_uri, parse_uri


def test_durations_are_seconds_with_optional_units():
    assert parse_duration(0.5) == 0.5
    assert parse_duration("0.5") == 0.5
    assert parse_duration("500ms") == 0.5
    assert parse_duration("2s") == 2.0
    assert parse_duration("5m") == 300.0
    assert parse_duration("1h") == 3600.0
    with pytest.raises(ValueError):
        parse_duration("soon")


def test_uri_with_sql_text_keeps_hash_and_question_marks():
    uri = parse_uri("sql:SELECT * FROM t WHERE id = :#id AND a = 'b%26c'?datasource=orders&delay=1s")
    assert uri.scheme == "sql"
    assert uri.path == "SELECT * FROM t WHERE id = :#id AND a = 'b%26c'"
    assert uri.query == {"datasource": "orders", "delay": "1s"}
    assert parse_uri("seda:in").key == parse_uri("seda:in?concurrent_consumers=4").key


def test_option_spec_types_defaults_and_suggestions():
    spec = OptionSpec((Option("delay", "duration", 1.0, "d"), Option("size", "int", 10, "s"),
                       Option("enabled", "bool", True, "e"), Option("mode", "str", "a", "m", choices=("a", "b"))))
    assert spec.parse({"delay": "250ms", "size": "3", "enabled": "false"}, "x:y") == {
        "delay": 0.25, "size": 3, "enabled": False, "mode": "a"}
    with pytest.raises(EndpointOptionError, match="did you mean 'delay'"):
        spec.parse({"dellay": "1"}, "x:y")
    with pytest.raises(EndpointOptionError, match="expects int"):
        spec.parse({"size": "many"}, "x:y")
    with pytest.raises(EndpointOptionError, match="must be one of a, b"):
        spec.parse({"mode": "c"}, "x:y")
    assert "delay" in spec.describe()


def test_secrets_are_masked():
    assert mask_uri("amqp://user:s3cret@host/vh?password=abc&queue=q") == \
        "amqp://user:xxxxxx@host/vh?password=xxxxxx&queue=q"
    assert "hunter2" not in mask_uri("ibmmq:Q?user=app&password=hunter2")


def test_engine_resolves_placeholders_from_properties_and_environment(monkeypatch):
    monkeypatch.setenv("EIP_QUEUE_NAME", "from-env")
    engine = Engine(properties={"target": "mock:result"})
    assert engine.resolve_placeholders("{{target}}") == "mock:result"
    assert engine.resolve_placeholders("seda:{{queue.name}}") == "seda:from-env"
    assert engine.resolve_placeholders("seda:{{missing:fallback}}") == "seda:fallback"
    with pytest.raises(ConfigurationError, match="EIP_NOPE"):
        engine.resolve_placeholders("seda:{{nope}}")


def test_unknown_scheme_and_option_are_reported_before_anything_starts():
    from eip import RouteBuilder

    class Unknown(RouteBuilder):
        def configure(self):
            self.from_("direct:a").route_id("r").to("dierct:b")

    with pytest.raises(ConfigurationError) as info:
        Engine().add_routes(Unknown())
    assert "route 'r'" in str(info.value) and "did you mean 'direct'" in str(info.value)

    class BadOption(RouteBuilder):
        def configure(self):
            self.from_("direct:a").route_id("r").to("log:x?levle=INFO")

    with pytest.raises(EndpointOptionError) as info:
        Engine().add_routes(BadOption())
    assert "did you mean 'level'" in str(info.value) and "to1" in str(info.value)


def test_get_endpoint_takes_only_a_uri_and_a_route_input_error_still_names_route_and_node():
    import inspect

    from eip import RouteBuilder

    assert list(inspect.signature(Engine.get_endpoint).parameters) == ["self", "uri"]

    class BadInput(RouteBuilder):
        def configure(self):
            self.from_("seda:a?concurent_consumers=2").route_id("r").to("mock:x")

    with pytest.raises(EndpointOptionError) as info:
        Engine().add_routes(BadInput())
    assert info.value.route_id == "r" and info.value.node_id == "from1"
    assert "test_options_and_uris.py" in info.value.location
    assert "did you mean 'concurrent_consumers'" in str(info.value)


def test_same_endpoint_from_two_uris_merges_options_and_rejects_conflicts():
    engine = Engine()
    first = engine.get_endpoint("mock:x")
    second = engine.get_endpoint("mock:x?retain_first=5")
    assert first is second and first.values["retain_first"] == 5
    with pytest.raises(EndpointOptionError, match="retain_first"):
        engine.get_endpoint("mock:x?retain_first=6")


def test_a_failed_add_routes_leaves_no_endpoint_behind():
    from eip import RouteBuilder

    class Broken(RouteBuilder):
        def configure(self):
            self.from_("direct:a").route_id("a").to("mock:x?retain_first=5")
            self.from_("direct:b").route_id("b").to("nope:x")

    engine = Engine()
    with pytest.raises(ConfigurationError):
        engine.add_routes(Broken())
    assert not engine.has_endpoint("mock:x") and engine.route_ids() == []
    engine.add_routes(lambda b: b.from_("direct:a").to("mock:x?retain_first=10"))
    assert engine.get_endpoint("mock:x").values["retain_first"] == 10

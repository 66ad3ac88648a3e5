"""Property placeholders read the engine's properties, then ``EIP_...`` variables only (issue 9, item 1)."""

from __future__ import annotations

import pytest

from eip import ConfigurationError, Engine


def test_a_bare_environment_variable_is_not_read(monkeypatch):
    monkeypatch.setenv("MY_SECRET_TOKEN", "bare-secret")
    monkeypatch.delenv("EIP_MY_SECRET_TOKEN", raising=False)
    engine = Engine()
    with pytest.raises(ConfigurationError, match="EIP_MY_SECRET_TOKEN") as info:
        engine.resolve_placeholders("mock:{{MY_SECRET_TOKEN}}")
    assert "bare-secret" not in str(info.value)
    assert engine.resolve_placeholders("mock:{{MY_SECRET_TOKEN:none}}") == "mock:none"


def test_an_eip_variable_is_read_for_the_dotted_or_plain_name(monkeypatch):
    monkeypatch.setenv("EIP_MY_SECRET_TOKEN", "eip-value")
    engine = Engine()
    assert engine.resolve_placeholders("mock:{{my.secret.token}}") == "mock:eip-value"
    assert engine.resolve_placeholders("mock:{{MY_SECRET_TOKEN}}") == "mock:eip-value"


def test_properties_win_over_the_environment(monkeypatch):
    monkeypatch.setenv("EIP_LANE", "from-env")
    assert Engine(properties={"lane": "from-props"}).resolve_placeholders("seda:{{lane}}") == "seda:from-props"


def test_a_route_cannot_reach_a_bare_variable_through_a_placeholder(monkeypatch):
    monkeypatch.setenv("HOME_SECRET", "never-shown")
    engine = Engine()
    with pytest.raises(ConfigurationError, match="EIP_HOME_SECRET"):
        engine.add_routes(lambda b: b.from_("direct:in").to("mock:{{HOME_SECRET}}"))
    assert not [e for e in engine.endpoints() if "never-shown" in e.uri]


@pytest.mark.parametrize("size", [0, -1, "5", True])
def test_endpoint_cache_size_must_be_positive(size):
    with pytest.raises(ConfigurationError, match="endpoint_cache_size"):
        Engine(endpoint_cache_size=size)

"""The pytest plugin: ``engine`` and ``mock_endpoint`` fixtures, the ``eip`` marker."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from eip import Engine, RouteBuilder
from eip.testing import MockEndpoint

pytest_plugins = ["pytester"]


class Echo(RouteBuilder):
    def configure(self) -> None:
        self.from_("direct:echo").route_id("echo").to("mock:echoed")


def test_engine_fixture_is_fresh_and_not_started(engine: Engine) -> None:
    assert isinstance(engine, Engine)
    assert engine.state == "stopped"
    assert engine.route_ids() == []


@pytest.mark.eip(routes=[Echo, lambda b: b.from_("direct:other").route_id("other").to("mock:other")])
def test_marker_adds_routes_without_starting(engine: Engine, mock_endpoint: Callable[[str], MockEndpoint]) -> None:
    assert engine.route_ids() == ["echo", "other"]
    assert engine.state == "stopped"
    engine.start()
    engine.template.send_body("direct:echo", "hi")
    echoed = mock_endpoint("echoed")
    assert isinstance(echoed, MockEndpoint) and echoed is mock_endpoint("mock:echoed")
    echoed.expected_bodies_received("hi")
    echoed.assert_is_satisfied(timeout=1)


def test_plugin_in_a_separate_session(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """Loaded through the pytest11 entry point; the engine is stopped after each test; the
    marker is registered (no unknown-mark warning under --strict-markers)."""
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    pytester.makepyfile(
        """
        import pytest
        from eip import RouteBuilder

        class Routes(RouteBuilder):
            def configure(self):
                self.from_("direct:in").route_id("in").to("mock:out")

        seen = []

        @pytest.mark.eip(routes=[Routes])
        def test_uses_engine(engine, mock_endpoint):
            seen.append(engine)
            engine.start()
            engine.template.send_body("direct:in", 1)
            mock_endpoint("out").expected_bodies_received(1)
            mock_endpoint("out").assert_is_satisfied(timeout=1)

        def test_engine_was_stopped_and_is_new(engine):
            assert seen[0].state == "stopped"
            assert engine is not seen[0]
            assert engine.route_ids() == []

        def test_failing_expectation_fails_the_test(engine, mock_endpoint):
            mock_endpoint("never").expected_message_count(1)
            mock_endpoint("never").assert_is_satisfied(timeout=0.01)

        @pytest.mark.eip(properties={"target": "mock:configured"})
        class TestEngineOptions:
            def test_properties(self, engine):
                engine.add_routes(lambda b: b.from_("direct:in").to("{{target}}"))
                engine.start()
                engine.template.send_body("direct:in", "x")
                assert engine.get_endpoint("mock:configured").received_bodies == ["x"]

        @pytest.mark.eip(Routes())
        def test_positional_marker_is_refused(engine):
            pass
        """
    )
    result = pytester.runpytest("--strict-markers", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, failed=1, errors=1)
    result.stdout.fnmatch_lines(["*TypeError: @pytest.mark.eip takes keywords only*"])
    result.stdout.fnmatch_lines(["*MockAssertionError: mock:never: expected 1 message(s), received 0*"])

"""pytest plugin (entry point ``pytest11``): an ``engine`` per test and mock helpers.

Fixtures:

* ``engine``: a fresh, stopped ``Engine``; add routes, weave them with ``advice_with``, then
  call ``engine.start()``. It is stopped after the test.
* ``mock_endpoint``: ``mock_endpoint("out")`` is the ``MockEndpoint`` ``mock:out`` of that
  engine (``mock_endpoint("direct:a")`` the mock that ``mock_endpoints()`` puts in front of
  ``direct:a``).

Marker ``@pytest.mark.eip(routes=[MyRoutes, ...], **engine_options)``: the ``engine`` fixture
is built as ``Engine(routes=..., **engine_options)`` (``properties``, ``error_handler``,
``shutdown_timeout``), so the routes (RouteBuilder classes or instances, functions,
definitions) are added before the test runs, as Camel's ``createRouteBuilder()``; the engine
is still not started. On a class or module too; the closest marker wins. Keywords only: pytest
would take a lone class or function given positionally for the thing being decorated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from eip.engine import Engine
from eip.testing.mock import MockEndpoint
from eip.testing.mock import mock_endpoint as _mock_endpoint


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "eip(routes=[...], **engine_options): how the eip `engine` fixture builds its "
        "Engine (routes added, not started)",
    )


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A fresh engine; add routes then call ``engine.start()`` (it is stopped after the test).

    Starting is left to the test so that ``advice_with`` can weave routes first; an engine that
    is still stopped when the test body returns is simply discarded."""
    marker = request.node.get_closest_marker("eip")
    options = dict(marker.kwargs) if marker is not None else {}
    if marker is not None and marker.args:
        raise TypeError("@pytest.mark.eip takes keywords only: @pytest.mark.eip(routes=[MyRoutes])")
    eng = Engine(**options)
    try:
        yield eng
    finally:
        eng.stop()


@pytest.fixture
def mock_endpoint(engine: Engine) -> Callable[[str], MockEndpoint]:
    """``mock_endpoint("x")`` -> the mock endpoint ``mock:x`` of the ``engine`` fixture."""
    return lambda uri: _mock_endpoint(engine, uri)

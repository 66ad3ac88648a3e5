"""The testing kit: mock endpoints, advice_with, notifiers and the pytest plugin.

* ``MockEndpoint`` (``mock:`` URIs): expectations checked with ``assert_is_satisfied(timeout)``.
* ``advice_with(engine, route_id, fn)``: weave a route before it starts (replace its input,
  replace/remove/add steps by id, URI or type, put mocks in front of endpoints).
* ``Notifier(engine, route_id, done=N)``: wait until routes have done N exchanges.
* ``eventually(predicate, timeout, what)``: poll a condition until it holds or the deadline passes.
* The pytest plugin (loaded automatically): the ``engine`` and ``mock_endpoint`` fixtures and
  the ``@pytest.mark.eip(routes=[...])`` marker.
"""

from eip.testing.advice import AdviceWith, Weave, advice_with
from eip.testing.eventually import eventually
from eip.testing.mock import (
    MessageAssertion,
    MockAssertionError,
    MockEndpoint,
    assert_mocks_satisfied,
    mock_endpoint,
    reset_mocks,
)
from eip.testing.notify import Notifier

__all__ = [
    "AdviceWith",
    "MessageAssertion",
    "MockAssertionError",
    "MockEndpoint",
    "Notifier",
    "Weave",
    "advice_with",
    "assert_mocks_satisfied",
    "eventually",
    "mock_endpoint",
    "reset_mocks",
]

"""``mock:NAME``: a testing endpoint that records exchanges and checks expectations."""

from __future__ import annotations

from eip.component import Component
from eip.testing.mock import MockEndpoint


class MockComponent(Component):
    """mock:NAME - record exchanges for assertions in tests (see eip.testing.MockEndpoint)."""

    endpoint_class = MockEndpoint

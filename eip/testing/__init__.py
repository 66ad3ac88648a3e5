"""The testing kit: mock endpoints, advice_with, notifiers and the pytest plugin."""

from eip.testing.mock import MockAssertionError, MockEndpoint

__all__ = ["MockAssertionError", "MockEndpoint"]

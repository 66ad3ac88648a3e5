"""Endpoint verbs: send (to, to_d, wire_tap) and content enricher (enrich, poll_enrich)."""

from __future__ import annotations

from typing import Any, Self

from eip import model as m
from eip.dsl.blocks import BlockTracker
from eip.exchange import ExchangePattern


class EndpointVerbs(BlockTracker):
    """Verbs that send to or read from an endpoint."""

    def to(self, *uris: str, pattern: ExchangePattern | str | None = None) -> Self:
        """Send to one or more endpoints in turn (a pipeline of sends)."""
        if not uris:
            raise self._error("to() needs an endpoint URI")
        for uri in uris:
            self._add(m.To, uri=uri, pattern=_pattern(pattern))
        return self

    def to_d(self, uri: Any, pattern: ExchangePattern | str | None = None, cache_size: int | None = None) -> Self:
        """Send to a URI computed per exchange: a ``${...}`` template or an expression (see
        ``eip.producer_cache``); ``cache_size`` producers are kept (default 1000, -1 none)."""
        return self._add(m.ToD, uri=uri, pattern=_pattern(pattern), cache_size=cache_size)

    def wire_tap(self, uri: Any, copy: bool = True) -> Self:
        return self._add(m.WireTap, uri=uri, copy=copy)

    def enrich(self, uri: Any, strategy: Any = None, **options: Any) -> Self:
        return self._add(m.Enrich, uri=uri, strategy=strategy, **options)

    def poll_enrich(
        self, uri: Any, strategy: Any = None, timeout: float | None = None, cache_size: int | None = None
    ) -> Self:
        return self._add(m.PollEnrich, uri=uri, strategy=strategy, timeout=timeout, cache_size=cache_size)


def _pattern(pattern: ExchangePattern | str | None) -> ExchangePattern | None:
    if pattern is None or isinstance(pattern, ExchangePattern):
        return pattern
    return ExchangePattern(pattern)

"""Mock-endpoint wrapping for ``advice_with`` (``mock_endpoints``, ``mock_endpoints_and_skip``).

A compile-time interceptor wraps sends to matching endpoints with a send to their ``mock:``
endpoint first (``eip.testing.advice`` installs it on the rewoven route).
"""

from __future__ import annotations

import fnmatch
import re
from typing import TYPE_CHECKING, Any

from eip import model as m
from eip.errors import ConfigurationError
from eip.producer_cache import ProducerCache
from eip.uri import parse_uri

if TYPE_CHECKING:
    from eip.compiler import CompileContext
    from eip.engine import Engine


def uri_matches(uri: str, pattern: str) -> bool:
    """Camel's endpoint matching: exact, then a glob, then a regular expression. A pattern
    without ``?`` is matched against the URI without its options too."""
    candidates = [uri]
    if "?" not in pattern and "?" in uri:
        candidates.append(uri.split("?", 1)[0])
    for candidate in candidates:
        if candidate == pattern or fnmatch.fnmatchcase(candidate, pattern):
            return True
        try:
            if re.fullmatch(pattern, candidate):
                return True
        except re.error:
            pass
    return False


def mock_uri_for(uri: str) -> str:
    """``mock:`` plus the URI without options: ``direct:a?timeout=1`` -> ``mock:direct:a``,
    ``file://inbox`` -> ``mock:file:inbox``."""
    parsed = parse_uri(uri)
    path = parsed.path.removeprefix("//")
    return f"mock:{parsed.scheme}:{path}"


def _resolve(engine: Engine, uri: str) -> str:
    try:
        return engine.resolve_placeholders(uri)
    except ConfigurationError:
        return uri


class _MockInterceptor:
    """Compile-time interceptor: wraps sends to matching endpoints with a send to their mock."""

    def __init__(self, patterns: tuple[tuple[str, bool], ...]) -> None:
        self.patterns = patterns

    def decide(self, uri: str) -> bool | None:
        """None: leave alone; False: mock then send; True: mock and skip."""
        if uri.startswith("mock:"):
            return None
        decision = None
        for pattern, skip in self.patterns:
            if uri_matches(uri, pattern):
                decision = skip or bool(decision)
        return decision

    def __call__(self, node: m.Node, processor: Any, ctx: CompileContext) -> Any:
        if isinstance(node, m.To):
            uri = _resolve(ctx.engine, node.uri)
            skip = self.decide(uri)
            if skip is None:
                return processor
            mock = ctx.producer(mock_uri_for(uri))
            if skip:
                _drop_service(ctx, getattr(processor, "producer", None))
            return _MockedSend(mock, None if skip else processor, node.pattern)
        if isinstance(node, m.ToD) and isinstance(getattr(processor, "cache", None), ProducerCache):
            _mock_dynamic(processor.cache, self, ctx.engine)
        return processor


class _MockedSend:
    """Send to the mock, then (unless skipped) through the original send processor."""

    __slots__ = ("mock", "pattern", "real")

    def __init__(self, mock: Any, real: Any, pattern: Any) -> None:
        self.mock = mock
        self.real = real
        self.pattern = pattern

    def process(self, exchange: Any) -> None:
        if self.pattern is None:
            self.mock.process(exchange)
        else:
            saved, exchange.pattern = exchange.pattern, self.pattern
            try:
                self.mock.process(exchange)
            finally:
                exchange.pattern = saved
        if self.real is not None:
            self.real.process(exchange)


class _Tee:
    """A producer that sends to a mock, then to the real producer (for ``to_d``)."""

    __slots__ = ("mock", "real")

    def __init__(self, mock: Any, real: Any) -> None:
        self.mock = mock
        self.real = real

    def process(self, exchange: Any) -> None:
        self.mock.process(exchange)
        self.real.process(exchange)


def _mock_dynamic(cache: ProducerCache, interceptor: _MockInterceptor, engine: Engine) -> None:
    """Make a ``to_d`` processor's producer cache open its producers through the mocks."""
    original = cache.opener

    def opener(uri: str, endpoint: Any) -> tuple[Any, Any]:
        skip = interceptor.decide(uri)
        if skip is None:
            return original(uri, endpoint)
        mock = engine.get_endpoint(mock_uri_for(uri)).create_producer()
        if skip:
            return mock, None
        real, service = original(uri, endpoint)
        return _Tee(mock, real), service

    cache.opener = opener


def _drop_service(ctx: CompileContext, producer: Any) -> None:
    if producer is None:
        return
    for index, service in enumerate(ctx.services):
        if service is producer:
            del ctx.services[index]
            return

"""What the ``http:`` and ``soap:`` endpoints share: a consumer served by the engine's HTTP server,
a lazily made per-endpoint resource (session, client) closed at stop, refusing options of
the other form of a URI, and translating ``requests`` errors at the edge."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any, Generic, Protocol, TypeVar

from eip.component import Consumer, Endpoint, Processor
from eip.errors import (
    ConfigurationError,
    EndpointError,
    EndpointNotConnectedError,
    EndpointOptionError,
    ExchangeTimedOutError,
)
from eip.http_server import HandlerRegistration, HttpServer, http_server


class _Closable(Protocol):
    def close(self) -> Any: ...


R = TypeVar("R", bound=_Closable)


class LazyResource(Generic[R]):
    """One resource made by ``factory`` on first ``get()`` (thread-safe), closed by ``close()``
    (the next ``get()`` makes a new one)."""

    def __init__(self, factory: Callable[[], R]) -> None:
        self._factory = factory
        self._value: R | None = None
        self._lock = threading.Lock()

    def get(self) -> R:
        value = self._value
        if value is None:
            with self._lock:
                value = self._value
                if value is None:
                    value = self._value = self._factory()
        return value

    def close(self) -> None:
        with self._lock:
            value, self._value = self._value, None
        if value is not None:
            value.close()


def refuse_options(uri: object, given: Iterable[str], names: Iterable[str], form: str) -> None:
    """Raise EndpointOptionError when ``given`` holds any of ``names`` (options that only apply
    to ``form``, the other form of the URI, e.g. ``"a producer (http://host/path)"``)."""
    wrong = sorted(set(given) & set(names))
    if wrong:
        raise EndpointOptionError(f"endpoint '{uri}': {', '.join(wrong)} only apply to {form}")


class ServedConsumer(Consumer):
    """A consumer that registers a handler on the engine's ``HttpServer`` (``register``) while
    the route runs; a suspended route (or one whose engine is stopping) answers 503. A path the
    server cannot give (taken, or reserved by the management API) fails ``start`` with a
    ConfigurationError naming the route."""

    def __init__(self, endpoint: Endpoint, processor: Processor) -> None:
        super().__init__(endpoint, processor)
        self._server: HttpServer | None = None
        self._registration: HandlerRegistration | None = None

    def register(self, server: HttpServer) -> HandlerRegistration:
        """Add this consumer's handler to ``server``."""
        raise NotImplementedError

    def start(self) -> None:
        server = http_server(self.endpoint.engine)
        registration = self._registration
        if registration is not None and self._server is server and registration in server.handlers():
            registration.paused = False
            return
        try:
            self._registration = self.register(server)
        except ConfigurationError as exc:  # a path taken: say which route asked for it
            route_id = getattr(self.processor, "route_id", None)
            if exc.route_id is not None or route_id is None:
                raise
            raise ConfigurationError(exc.detail, route_id=route_id) from None
        self._server = server

    def stop(self) -> None:
        if self._registration is None or self._server is None:
            return
        if self.endpoint.engine.state == "stopping":
            self._registration.paused = True  # 503 until the server stops, not a misleading 404
            return
        self._server.remove_handler(self._registration)
        self._registration = None

    def suspend(self) -> None:
        if self._registration is not None:
            self._registration.paused = True

    def resume(self) -> None:
        if (
            self._registration is not None
            and self._server is not None
            and self._registration in self._server.handlers()
        ):
            self._registration.paused = False
        else:
            self.start()


def request_error(exc: BaseException, what: str, peer: str, uri: str, timeouts: tuple[Any, Any]) -> EndpointError:
    """The engine's error for a ``requests`` failure of ``what`` (a method, an operation) sent to
    ``peer`` ("server", "service"): a connect timeout or refused connection is
    ``EndpointNotConnectedError`` and a read timeout ``ExchangeTimedOutError`` (both redeliverable),
    a TLS or other failure ``EndpointError``. Raise it ``from exc``."""
    import requests

    errors = requests.exceptions
    if isinstance(exc, errors.ConnectTimeout):
        return EndpointNotConnectedError(f"{what}: no connection within {timeouts[0]}s", uri=uri)
    if isinstance(exc, errors.ReadTimeout):
        return ExchangeTimedOutError(f"{what}: no response within {timeouts[1]}s", uri=uri)
    if isinstance(exc, errors.SSLError):
        return EndpointError(f"{what}: TLS handshake failed ({failure_reason(exc)})", uri=uri)
    if isinstance(exc, errors.ConnectionError):
        return EndpointNotConnectedError(f"{what}: cannot reach the {peer} ({failure_reason(exc)})", uri=uri)
    return EndpointError(f"{what}: request failed ({type(exc).__name__})", uri=uri)


def failure_reason(exc: BaseException) -> str:
    """A short cause (``Connection refused``) without the URL, which may carry a query secret."""
    current: BaseException | None = exc
    seen = 0
    while current is not None and seen < 10:
        if isinstance(current, OSError) and current.strerror:
            return current.strerror
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            current = reason
        else:
            nested = current.args[0] if current.args and isinstance(current.args[0], BaseException) else None
            current = nested or current.__cause__ or current.__context__
        seen += 1
    return type(exc).__name__

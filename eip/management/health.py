"""Liveness and readiness of an engine (``/health/live``, ``/health/ready``).

Live: the process serves HTTP. Ready: the engine is started, every route with auto startup is
started, and every broker and database connection in use is up.

The health protocol: an endpoint, component, consumer, producer or route service may define
``health() -> (ok: bool, detail: str)``; it must be cheap (cache what costs) and never raise
(an exception counts as not ready). Objects without it are not checked (``direct:``, ``seda:``,
``mock:``: in memory, always fine). Until components define it themselves, adapters here cover:

* SQL datasources (``engine.datasources``): ``SELECT 1`` on a pooled connection, run on a thread
  of its own with a deadline (``timeout``, default 2 s), the answer cached ``ttl`` seconds
  (default 5 s) so probes do not hammer the database; one probe at a time per datasource.
* anything with a ``connected`` property (AMQP consumers: every consumer session connected)
* anything holding an AMQP publisher session (``session.ready``): AMQP producers

Details say what is wrong without secrets (no URLs); the full error goes to the log when a
check turns bad. Callers without credentials learn only the outcome and the categories of the
failed checks (``Check.category``): names of routes, endpoints and datasources need ``viewer``.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from eip.secrets import mask_uri

if TYPE_CHECKING:
    from eip.datasources import DataSource
    from eip.engine import Engine

log = logging.getLogger("eip.management.health")

#: Check kind -> the category an anonymous readiness answer names (never the check's name).
CATEGORIES = {
    "engine": "engine",
    "route": "routes",
    "consumer": "consumers",
    "producer": "producers",
    "service": "services",
    "endpoint": "endpoints",
    "component": "components",
    "datasource": "datasources",
}


class HealthCheck(Protocol):
    """Optional protocol: ``health()`` returns (ok, detail); cheap, never raises."""

    def health(self) -> tuple[bool, str]: ...


@dataclass(frozen=True)
class Check:
    """One readiness check: ``kind`` (engine, route, datasource, endpoint, ...), ``name``, outcome."""

    kind: str
    name: str
    ok: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.kind, "name": self.name, "ok": self.ok, "detail": self.detail}

    @property
    def category(self) -> str:
        """What an anonymous caller may learn of a failed check: ``routes``, ``datasources``..."""
        return CATEGORIES.get(self.kind, "other")


def probe(obj: Any) -> tuple[bool, str] | None:
    """(ok, detail) for anything that can tell its health; None when it cannot (not checked)."""
    if obj is None:
        return None
    health = getattr(obj, "health", None)
    if callable(health):
        try:
            ok, detail = health()
            return bool(ok), str(detail)
        except Exception as exc:  # noqa: BLE001 - a broken check means "not ready", not a 500
            return False, f"health check failed: {type(exc).__name__}"
    if isinstance(getattr(type(obj), "connected", None), property):
        connected = bool(obj.connected)
        return connected, "connected" if connected else "not connected"
    # AMQP producers keep their publisher session private (components/amqp/producer.py).
    session = getattr(obj, "session", None) or getattr(obj, "_session", None)
    ready = getattr(session, "ready", None)
    if isinstance(ready, threading.Event):
        return (True, "connected") if ready.is_set() else (False, "not connected (reconnecting)")
    return None


class DataSourceCheck:
    """``SELECT 1`` on a datasource, on a thread of its own, bounded by ``timeout``, cached ``ttl``."""

    def __init__(self, source: DataSource, timeout: float = 2.0, ttl: float = 5.0) -> None:
        self.source = source
        self.timeout = timeout
        self.ttl = ttl
        self._lock = threading.Lock()
        self._result: tuple[bool, str] | None = None
        self._at = 0.0
        self._running: threading.Event | None = None

    def health(self) -> tuple[bool, str]:
        with self._lock:
            if self._result is not None and time.monotonic() - self._at < self.ttl:
                return self._result
            done = self._running
            if done is None:
                done = self._running = threading.Event()
                threading.Thread(
                    target=self._probe, args=(done,), daemon=True, name=f"eip-health-{self.source.name}"
                ).start()
        if not done.wait(self.timeout):
            return False, f"no answer within {self.timeout:g} s"
        with self._lock:
            return self._result if self._result is not None else (False, "not checked")

    def _probe(self, done: threading.Event) -> None:
        statement = "SELECT 1 FROM DUAL" if self.source.dialect_name == "oracle" else "SELECT 1"
        try:
            from sqlalchemy import text

            with self.source.connect() as connection:
                connection.execute(text(statement)).scalar()
            result = (True, "connected")
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
            cause = getattr(exc, "orig", None) or exc
            result = (False, f"cannot connect: {type(cause).__name__}")
            with self._lock:
                was_ok = self._result is None or self._result[0]
            if was_ok:
                first_line = (str(cause).strip().splitlines() or [""])[0][:300]
                log.warning(
                    "datasource '%s' (%s) is not reachable: %s: %s",
                    self.source.name,
                    self.source.masked_url,
                    type(cause).__name__,
                    mask_uri(first_line),
                )
        with self._lock:
            self._result, self._at, self._running = result, time.monotonic(), None
        done.set()


class Readiness:
    """Works out whether an engine is ready; ``checks()`` lists every check made."""

    def __init__(self, engine: Engine, *, timeout: float = 2.0, ttl: float = 5.0) -> None:
        self.engine = engine
        self.timeout = timeout
        self.ttl = ttl
        self._datasources: dict[str, DataSourceCheck] = {}
        self._lock = threading.Lock()

    def _datasource_check(self, name: str) -> DataSourceCheck | None:
        try:
            source = self.engine.datasources.get(name)
        except Exception:  # noqa: BLE001 - removed meanwhile
            return None
        with self._lock:
            check = self._datasources.get(name)
            if check is None or check.source is not source:  # replaced: check the new one
                check = self._datasources[name] = DataSourceCheck(source, self.timeout, self.ttl)
            return check

    def checks(self) -> list[Check]:
        engine = self.engine
        result = [Check("engine", "engine", engine.is_started, engine.state)]
        if not engine.is_started:
            return result
        seen: set[int] = set()

        def add(kind: str, name: str, obj: Any) -> None:
            if obj is None or id(obj) in seen:
                return
            seen.add(id(obj))
            answer = probe(obj)
            if answer is not None:
                result.append(Check(kind, name, answer[0], answer[1]))

        for route_id in engine.route_ids():
            try:
                route = engine.route(route_id)
            except Exception:  # noqa: BLE001, S112 - removed meanwhile
                continue
            if route.definition.auto_startup:
                result.append(Check("route", route_id, route.state == "started", route.state))
            if route.state == "started":
                add("consumer", f"{route_id} <- {mask_uri(route.endpoint.uri)}", route.consumer)
                for service in route.services:
                    uri = getattr(getattr(service, "endpoint", None), "uri", None)
                    add(
                        "producer" if uri else "service",
                        f"{route_id} -> {mask_uri(uri)}" if uri else f"{route_id}: {type(service).__name__}",
                        service,
                    )
        for endpoint in engine.endpoints():
            add("endpoint", mask_uri(endpoint.uri), endpoint)
            add("component", endpoint.component.scheme, endpoint.component)
        for name in engine.datasources.names():
            check = self._datasource_check(name)
            if check is not None:
                ok, detail = check.health()
                result.append(Check("datasource", name, ok, detail))
        return result

    def ready(self) -> tuple[bool, list[Check]]:
        checks = self.checks()
        return all(c.ok for c in checks), checks

"""Shared fixtures: the real services some tests need at the edges.

A test that needs RabbitMQ asks for the ``rabbitmq_service`` fixture (or ``services.require("rabbitmq")``);
one that runs an external program asks for the ``require_tool`` fixture (``require_tool("dot")``).
When the service is not reachable (or the program not installed) the test is skipped with a reason
naming it and how to start (or install) it; with ``EIP_REQUIRE_SERVICES=1`` (as ``.ci/run`` sets) it fails instead,
so CI never passes by skipping. Addresses follow ``/work/shared/DESIGN.md`` "Services for tests"
and can be moved with ``EIP_<NAME>_HOST`` / ``EIP_<NAME>_PORT``.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

REQUIRE_ENV = "EIP_REQUIRE_SERVICES"


@dataclass(frozen=True)
class Service:
    """A service on the network: where it is, how to start it, and how to reach it from a URI."""

    name: str
    title: str
    port: int
    start: str
    url_template: str
    host: str = "127.0.0.1"
    extra: dict[str, str] = field(default_factory=dict)

    def at(self, host: str, port: int) -> Service:
        return Service(self.name, self.title, port, self.start, self.url_template, host, self.extra)

    @property
    def url(self) -> str:
        """A connection URL for clients (``amqp://guest:guest@127.0.0.1:5672/``, ...)."""
        return self.url_template.format(host=self.host, port=self.port)


SERVICES: dict[str, Service] = {s.name: s for s in (
    Service("rabbitmq", "RabbitMQ", 5672, "rabbitmq-server -detached",
            "amqp://guest:guest@{host}:{port}/"),
    Service("postgresql", "PostgreSQL", 5432,
            "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
            "postgresql://postgres@{host}:{port}/test"),
    Service("mariadb", "MariaDB", 3306,
            "start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd",
            "mysql://root@{host}:{port}/test"),
    Service("redis", "Redis", 6379,
            "redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save '' --appendonly no",
            "redis://{host}:{port}/0"),
    Service("mosquitto", "Mosquitto MQTT", 1883, "mosquitto -d -c /etc/mosquitto/mosquitto.conf",
            "mqtt://{host}:{port}"),
    Service("nats", "NATS", 4222, "nats-server -a 127.0.0.1 -p 4222 -js &", "nats://{host}:{port}"),
)}


def reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when a TCP connection to ``host:port`` succeeds within ``timeout`` seconds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def services_required() -> bool:
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in ("1", "true", "yes")


class Services:
    """Checks services once per test session; ``require(name)`` skips or fails when one is down."""

    def __init__(self) -> None:
        self._status: dict[str, bool] = {}

    def lookup(self, name: str) -> Service:
        try:
            service = SERVICES[name]
        except KeyError:
            raise KeyError(f"unknown service {name!r}; known: {', '.join(SERVICES)}") from None
        env = f"EIP_{name.upper()}"
        host = os.environ.get(f"{env}_HOST", service.host)
        port = int(os.environ.get(f"{env}_PORT", service.port))
        return service.at(host, port)

    def is_up(self, name: str) -> bool:
        service = self.lookup(name)
        key = f"{service.host}:{service.port}"
        if key not in self._status:
            self._status[key] = reachable(service.host, service.port)
        return self._status[key]

    def require(self, name: str) -> Service:
        """The service, if reachable; else skip the test (fail it under EIP_REQUIRE_SERVICES=1)."""
        service = self.lookup(name)
        if self.is_up(name):
            return service
        reason = (f"{service.title} is not reachable at {service.host}:{service.port}; "
                  f"start it with: {service.start}")
        if services_required():
            pytest.fail(f"{reason} ({REQUIRE_ENV}=1, so a missing service is a failure)", pytrace=False)
        pytest.skip(reason)
        raise AssertionError("unreachable")  # pragma: no cover - skip() raises


@pytest.fixture(scope="session")
def services() -> Services:
    """Ask for real services: ``services.require("postgresql").url``."""
    return Services()


@pytest.fixture
def rabbitmq_service(services: Services) -> Service:
    return services.require("rabbitmq")


@pytest.fixture
def postgresql_service(services: Services) -> Service:
    return services.require("postgresql")


@pytest.fixture
def mariadb_service(services: Services) -> Service:
    return services.require("mariadb")


@pytest.fixture
def redis_service(services: Services) -> Service:
    return services.require("redis")


@pytest.fixture
def mosquitto_service(services: Services) -> Service:
    return services.require("mosquitto")


@pytest.fixture
def nats_service(services: Services) -> Service:
    return services.require("nats")


# -- external programs (Graphviz's dot, rabbitmqctl, ...) ------------------------------------------

TOOLS: dict[str, str] = {
    "dot": "Graphviz's dot program is not installed (apt-get install graphviz)",
    "rabbitmqctl": "RabbitMQ's rabbitmqctl is not installed (apt-get install rabbitmq-server)",
}


def find_tool(name: str) -> str:
    """The path of the program ``name``; skip the test without it (fail under EIP_REQUIRE_SERVICES=1,
    as for a missing service: ``.ci/run`` installs Graphviz, so CI never passes by skipping)."""
    path = shutil.which(name)
    if path:
        return path
    reason = TOOLS.get(name, f"the program {name!r} is not on the PATH")
    if services_required():
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1, so a missing program is a failure)", pytrace=False)
    pytest.skip(reason)
    raise AssertionError("unreachable")  # pragma: no cover - skip() raises


@pytest.fixture(scope="session")
def require_tool() -> Callable[[str], str]:
    """Ask for an external program: ``dot = require_tool("dot")`` (its path), else skip or fail."""
    return find_tool


# -- shared test data written by others (../shared/testdata) ---------------------------------------

TESTDATA_ENV = "EIP_TESTDATA"


def _find_testdata() -> str:
    """The shared test-data folder: $EIP_TESTDATA, else ``../shared/testdata`` beside the
    checkout, else ``/work/shared/testdata`` (where this project's machines keep it)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for candidate in (os.environ.get(TESTDATA_ENV), os.path.join(root, "..", "shared", "testdata"),
                      "/work/shared/testdata"):
        if candidate and os.path.isdir(candidate):
            return os.path.abspath(candidate)
    return ""


def pytest_configure(config: pytest.Config) -> None:
    # Test modules read the folder from the environment at import time (parametrisation needs it).
    found = _find_testdata()
    if not found and services_required():
        raise pytest.UsageError(f"the shared test data folder was not found (set {TESTDATA_ENV}); "
                                f"with {REQUIRE_ENV}=1 tests against it must run, not skip")
    os.environ[TESTDATA_ENV] = found

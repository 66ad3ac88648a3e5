"""Component errors live with their components; the core imports none of them (issue 10, item 7)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import eip
import eip.errors
from components.amqp.errors import AmqpError, MessageNackedError, MessageUnroutableError
from components.ibmmq.errors import MqClientNotInstalledError, MqConnectionError, MqError
from components.soap.errors import SoapFault
from eip import Engine, RouteBuilder
from eip.constants import EXCEPTION_CAUGHT
from eip.errors import EndpointError, EndpointNotConnectedError, is_transient

MOVED = {
    "AmqpError": AmqpError,
    "MessageUnroutableError": MessageUnroutableError,
    "MessageNackedError": MessageNackedError,
    "MqError": MqError,
    "MqConnectionError": MqConnectionError,
    "MqClientNotInstalledError": MqClientNotInstalledError,
    "SoapFault": SoapFault,
}


def test_importing_the_engine_imports_no_component():
    code = (
        "import sys, eip, eip.errors\n"
        "loaded = sorted(n for n in sys.modules if n == 'components' or n.startswith('components.'))\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_defining_eip_errors_imports_no_component_module():
    source = open(eip.errors.__file__, encoding="utf-8").read()
    assert "class SoapFault" not in source and "class AmqpError" not in source and "class MqError" not in source
    assert "import components" not in source and "from components" not in source


@pytest.mark.parametrize("name", sorted(MOVED))
def test_old_names_resolve_to_the_component_classes(name):
    assert getattr(eip.errors, name) is MOVED[name]
    assert getattr(eip, name) is MOVED[name]
    namespace: dict[str, object] = {}
    exec(f"from eip import {name} as a\nfrom eip.errors import {name} as b", namespace)
    assert namespace["a"] is namespace["b"] is MOVED[name]


def test_public_names_stay_in_all():
    for name in ("SoapFault", "MqError", "MqConnectionError"):
        assert name in eip.__all__ and getattr(eip, name) is MOVED[name]


def test_unknown_names_still_raise_attribute_error():
    with pytest.raises(AttributeError, match="NoSuchError"):
        eip.errors.NoSuchError  # noqa: B018
    with pytest.raises(AttributeError, match="NoSuchError"):
        eip.NoSuchError  # noqa: B018


def test_moved_errors_keep_their_bases():
    assert issubclass(AmqpError, EndpointError) and issubclass(MessageUnroutableError, AmqpError)
    assert issubclass(MessageNackedError, AmqpError)
    assert issubclass(MqConnectionError, MqError) and issubclass(MqConnectionError, EndpointNotConnectedError)
    assert issubclass(MqClientNotInstalledError, MqError) and not issubclass(MqError, EndpointNotConnectedError)
    assert issubclass(SoapFault, EndpointError) and SoapFault.retryable is False
    assert is_transient(MqConnectionError("gone", uri="ibmmq:queue:Q", reason=2009))
    assert not is_transient(AmqpError("refused", reply_code=404))


def test_on_exception_matches_a_moved_error_by_its_old_and_new_name():
    handled: list[str] = []

    class Routes(RouteBuilder):
        def configure(self) -> None:
            self.on_exception(eip.errors.SoapFault, handled=True).process(
                lambda ex: handled.append(type(ex.properties[EXCEPTION_CAUGHT]).__name__)
            ).end()
            self.from_("direct:in").process(self.fail)

        @staticmethod
        def fail(_exchange: object) -> None:
            raise SoapFault("no such symbol", code="Client")

    with Engine() as engine:
        engine.add_routes(Routes())
        engine.start()
        engine.template.send_body("direct:in", "x")  # handled: no exception for the caller
    assert handled == ["SoapFault"]


def test_sql_errors_stay_in_the_core_and_are_found_with_the_component_too():
    from components.sql import errors as sql_errors

    assert sql_errors.SqlError is eip.errors.SqlError is eip.SqlError
    assert sql_errors.SqlConnectionError is eip.errors.SqlConnectionError
    assert issubclass(eip.errors.SqlConnectionError, eip.errors.SqlError)
    assert issubclass(eip.errors.SqlConnectionError, EndpointNotConnectedError)

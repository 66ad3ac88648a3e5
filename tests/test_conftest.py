"""The conftest's require_tool: a program's path, else a skip naming how to install it (a failure
under EIP_REQUIRE_SERVICES=1, so CI never passes by skipping)."""

from __future__ import annotations

import pytest


def test_an_installed_program_gives_its_path(require_tool) -> None:
    assert require_tool("sh").endswith("/sh")


def test_a_missing_program_skips_saying_how_to_install_it(require_tool, monkeypatch) -> None:
    monkeypatch.delenv("EIP_REQUIRE_SERVICES", raising=False)
    monkeypatch.setenv("PATH", "")
    with pytest.raises(pytest.skip.Exception, match=r"dot program is not installed \(apt-get install graphviz\)"):
        require_tool("dot")


def test_a_missing_program_fails_when_services_are_required(require_tool, monkeypatch) -> None:
    monkeypatch.setenv("EIP_REQUIRE_SERVICES", "1")
    monkeypatch.setenv("PATH", "")
    with pytest.raises(pytest.fail.Exception, match="rabbitmqctl is not installed.*EIP_REQUIRE_SERVICES=1"):
        require_tool("rabbitmqctl")


def test_an_unknown_program_is_named_in_the_reason(require_tool, monkeypatch) -> None:
    monkeypatch.delenv("EIP_REQUIRE_SERVICES", raising=False)
    with pytest.raises(pytest.skip.Exception, match="'no-such-program-eip' is not on the PATH"):
        require_tool("no-such-program-eip")

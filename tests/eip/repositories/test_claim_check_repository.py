"""MemoryClaimCheckRepository: keyed entries and named stacks, stored as independent copies."""

from __future__ import annotations

from eip.message import Message
from eip.repositories.claim_check import (
    ClaimCheckRepository,
    MemoryClaimCheckRepository,
)


def test_add_get_and_remove():
    repo = MemoryClaimCheckRepository()
    assert repo.add("k", Message("one")) is True
    assert repo.add("k", Message("two")) is False  # replaced
    assert repo.get("k").body == "two"
    assert repo.contains("k")
    assert repo.get_and_remove("k").body == "two"
    assert repo.get("k") is None and repo.get_and_remove("k") is None


def test_entries_are_copies():
    repo = MemoryClaimCheckRepository()
    message = Message("b", {"h": 1})
    repo.add("k", message)
    message.headers["h"] = 2
    got = repo.get("k")
    got.headers["h"] = 3
    assert repo.get("k").headers["h"] == 1


def test_stacks():
    repo = MemoryClaimCheckRepository()
    repo.push(Message(1))
    repo.push(Message(2))
    repo.push(Message("x"), stack="other")
    assert len(repo) == 3
    assert repo.pop().body == 2
    assert repo.pop().body == 1
    assert repo.pop() is None
    assert repo.pop("other").body == "x"


def test_clear_and_protocol():
    repo = MemoryClaimCheckRepository()
    repo.add("k", Message())
    repo.push(Message())
    repo.clear()
    assert len(repo) == 0
    assert isinstance(repo, ClaimCheckRepository)

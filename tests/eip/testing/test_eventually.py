"""eventually(): poll until truthy, return the value, or fail naming what and the last value."""

from __future__ import annotations

import importlib
import threading

import pytest

import eip.testing
from eip.testing import eventually
from eip.testing.eventually import MAX_INTERVAL

# The module, not the function of the same name that eip.testing exports.
MODULE = importlib.import_module("eip.testing.eventually")


class Countdown:
    """Falsy values (``0``, ``None``, ``""``...) until the given call, then ``value``."""

    def __init__(self, falsy: list[object], value: object) -> None:
        self.answers = [*falsy, value]
        self.calls = 0

    def __call__(self) -> object:
        answer = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        return answer


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Records each sleep of eventually() (and sleeps nothing, so the tests are instant)."""
    recorded: list[float] = []
    monkeypatch.setattr(MODULE.time, "sleep", recorded.append)
    return recorded


def test_the_first_truthy_value_is_returned_without_a_sleep_after_it(sleeps: list[float]) -> None:
    predicate = Countdown([None, 0, "", []], {"id": 7})
    assert eventually(predicate, timeout=60, what="the row") == {"id": 7}
    assert predicate.calls == 5
    assert len(sleeps) == 4  # one between each pair of calls, none after the truthy one


def test_an_immediately_true_predicate_does_not_sleep(sleeps: list[float]) -> None:
    assert eventually(lambda: "ready") == "ready"
    assert sleeps == []


def test_the_poll_interval_starts_short_and_backs_off_to_a_cap(sleeps: list[float]) -> None:
    eventually(Countdown([False] * 20, True), timeout=60)
    assert sleeps[0] <= 0.005
    assert all(later >= earlier for earlier, later in zip(sleeps, sleeps[1:]))
    assert sleeps[-1] == MAX_INTERVAL
    assert max(sleeps) == MAX_INTERVAL


def test_a_timeout_raises_assertion_error_naming_what_and_the_last_value() -> None:
    with pytest.raises(AssertionError) as failure:
        eventually(lambda: [], timeout=0.05, what="the input queue empty")
    message = str(failure.value)
    assert "the input queue empty" in message
    assert "0.05s" in message
    assert "last value: []" in message


def test_the_last_value_is_the_one_seen_at_the_deadline() -> None:
    counter = iter(range(1_000_000))

    def depth() -> int | None:
        n = next(counter)
        return None if n == 0 else 0  # None first, then 0 until the end

    with pytest.raises(AssertionError, match=r"queue IN drained: .*last value: 0\)"):
        eventually(depth, timeout=0.05, what="queue IN drained")


def test_a_value_set_by_another_thread_is_seen() -> None:
    box: list[str] = []
    timer = threading.Timer(0.02, box.append, args=["done"])
    timer.start()
    try:
        assert eventually(lambda: box[:], timeout=5, what="the worker") == ["done"]
    finally:
        timer.cancel()


def test_an_exception_from_the_predicate_propagates_at_once(sleeps: list[float]) -> None:
    def gone() -> bool:
        raise RuntimeError("the engine process exited")

    with pytest.raises(RuntimeError, match="exited"):
        eventually(gone, timeout=60)
    assert sleeps == []


def test_eventually_is_exported_from_eip_testing() -> None:
    assert "eventually" in eip.testing.__all__
    assert eip.testing.eventually is MODULE.eventually

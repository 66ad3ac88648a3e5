"""MemoryIdempotentRepository: an LRU set of seen keys, safe across threads."""

from __future__ import annotations

import threading

import pytest

from eip.repositories.idempotent import IdempotentRepository, MemoryIdempotentRepository


def test_add_is_false_for_a_key_already_there():
    repo = MemoryIdempotentRepository()
    assert repo.add("a") is True
    assert repo.add("a") is False
    assert repo.contains("a") and not repo.contains("b")


def test_remove_lets_the_key_in_again():
    repo = MemoryIdempotentRepository()
    repo.add("a")
    assert repo.remove("a") is True
    assert repo.remove("a") is False
    assert repo.add("a") is True


def test_confirm_and_clear():
    repo = MemoryIdempotentRepository()
    repo.add(1)
    assert repo.confirm(1) is True
    assert repo.confirm(2) is False
    repo.clear()
    assert len(repo) == 0 and repo.add(1)


def test_default_size_is_1000_and_the_least_recently_used_key_goes_first():
    repo = MemoryIdempotentRepository()
    assert repo.max_size == 1000
    for key in range(1000):
        repo.add(key)
    repo.add(0)  # a duplicate sighting: key 0 becomes the most recently used
    repo.add(1000)  # evicts 1, the least recently used
    assert len(repo) == 1000
    assert 0 in repo and 1 not in repo and 1000 in repo


def test_contains_counts_as_a_use():
    repo = MemoryIdempotentRepository(max_size=2)
    repo.add("a")
    repo.add("b")
    repo.contains("a")
    repo.add("c")
    assert "a" in repo and "b" not in repo


@pytest.mark.parametrize("size", [0, -1, 1.5, True, "10"])
def test_max_size_must_be_a_positive_integer(size):
    with pytest.raises(ValueError, match="max_size"):
        MemoryIdempotentRepository(max_size=size)


def test_concurrent_adds_of_one_key_let_exactly_one_in():
    repo = MemoryIdempotentRepository()
    barrier = threading.Barrier(8)
    results = []

    def worker():
        barrier.wait()
        results.extend(repo.add(f"k{i}") for i in range(200))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 200 and len(results) == 1600


def test_it_satisfies_the_protocol():
    assert isinstance(MemoryIdempotentRepository(), IdempotentRepository)

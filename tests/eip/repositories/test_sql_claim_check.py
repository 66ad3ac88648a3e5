"""SqlClaimCheckRepository on SQLite and PostgreSQL: keyed entries, stacks, JSON storage,
atomic claims, and claim_check() sharing data between exchanges."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from typing import Any

import pytest

from eip import (
    ClaimCheckRepository,
    Engine,
    Message,
    RouteBuilder,
    SqlClaimCheckRepository,
    TypeConversionError,
    header,
)


def test_add_get_and_remove(make_repo: Any) -> None:
    repo = make_repo(SqlClaimCheckRepository)
    assert isinstance(repo, ClaimCheckRepository)
    assert repo.add("k", Message("one")) is True
    assert repo.add("k", Message("two")) is False  # replaced
    assert repo.get("k").body == "two" and repo.contains("k")
    assert repo.get_and_remove("k").body == "two"
    assert repo.get("k") is None and repo.get_and_remove("k") is None and not repo.contains("k")


def test_keys_keep_their_type(make_repo: Any) -> None:
    repo = make_repo(SqlClaimCheckRepository)
    repo.add(1, Message("int"))
    repo.add("1", Message("text"))
    repo.add(("a", 2), Message("tuple"))
    assert [repo.get(k).body for k in (1, "1", ("a", 2))] == ["int", "text", "tuple"]


def test_message_round_trip_as_json(make_repo: Any) -> None:
    repo = make_repo(SqlClaimCheckRepository)
    body = {"raw": b"\x00\xff", "when": dt.datetime(2024, 5, 1, 12, 30), "amount": Decimal("12.50"),
            "pair": (1, "x"), "nested": [{"n": None, "ok": True, "f": 1.5}], 7: "int key"}
    message = Message(body, {"Content-Type": "application/json", "lock": threading.Lock()})
    message.message_id = "m-1"
    repo.add("k", message)
    message.headers["Content-Type"] = "changed"  # a copy was stored
    got = repo.get("k")
    assert got.body == body and got.message_id == "m-1"
    assert got.headers["content-type"] == "application/json"
    assert list(got.headers) == ["Content-Type"]  # the lock cannot be stored: left out


def test_a_body_json_cannot_hold_is_an_error(make_repo: Any) -> None:
    repo = make_repo(SqlClaimCheckRepository)
    with pytest.raises(TypeConversionError, match=r"body\['x'\] is of type object"):
        repo.add("k", Message({"x": object()}))
    assert not repo.contains("k")


def test_stacks(make_repo: Any) -> None:
    repo = make_repo(SqlClaimCheckRepository)
    repo.push(Message(1))
    repo.push(Message(2))
    repo.push(Message("x"), stack="other")
    assert len(repo) == 3
    assert repo.pop().body == 2 and repo.pop().body == 1 and repo.pop() is None
    assert repo.pop("other").body == "x" and repo.pop("other") is None
    repo.add("k", Message("v"))
    repo.push(Message(3))
    repo.clear()
    assert len(repo) == 0


def test_concurrent_pops_hand_out_each_message_once(make_repo: Any) -> None:
    repos = [make_repo(SqlClaimCheckRepository) for _ in range(3)]
    for i in range(30):
        repos[0].push(Message(i))
    popped: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(repos))

    def run(repo: Any) -> None:
        barrier.wait(timeout=10)
        while (message := repo.pop()) is not None:
            with lock:
                popped.append(message.body)

    threads = [threading.Thread(target=run, args=(repo,)) for repo in repos]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(popped) == list(range(30))


def test_concurrent_get_and_remove_only_one_claims(make_repo: Any) -> None:
    repos = [make_repo(SqlClaimCheckRepository) for _ in range(3)]
    for i in range(10):
        repos[0].add(f"k{i}", Message(i))
    claimed: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(repos))

    def run(repo: Any) -> None:
        barrier.wait(timeout=10)
        for i in range(10):
            message = repo.get_and_remove(f"k{i}")
            if message is not None:
                with lock:
                    claimed.append(message.body)

    threads = [threading.Thread(target=run, args=(repo,)) for repo in repos]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(claimed) == list(range(10))


def test_claim_check_shares_data_between_exchanges(db_url: str, table: str) -> None:
    repo = SqlClaimCheckRepository("default", table)

    class Routes(RouteBuilder):
        def configure(self) -> None:
            (self.from_("direct:store")
                .claim_check("set", header("ticket"), repository=repo)
                .set_body("stored"))
            (self.from_("direct:claim")
                .claim_check("get_and_remove", header("ticket"), repository=repo)
                .to("mock:out"))

    engine = Engine(routes=[Routes()], properties={"datasource.default.url": db_url})
    try:
        engine.start()
        assert engine.template.request_body("direct:store", {"order": 7}, headers={"ticket": "t-1"}) == "stored"
        engine.template.send_body("direct:claim", None, headers={"ticket": "t-1"})
        engine.template.send_body("direct:claim", "nothing stored", headers={"ticket": "t-1"})
        out = engine.get_endpoint("mock:out")
        out.expected_bodies_received({"order": 7}, "nothing stored")
        out.assert_is_satisfied(timeout=5)
        assert repo.datasource is engine.datasource("default")
    finally:
        engine.stop()
        repo.drop_tables()

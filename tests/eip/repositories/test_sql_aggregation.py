"""SqlAggregationRepository on SQLite and PostgreSQL: JSON round trips, optimistic locking that
retries, groups kept across restarts, confirmation after downstream success, recovery with
redelivery, dead letter and parking, leases shared by several processes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from eip import (
    AggregationRepository,
    ConfigurationError,
    Engine,
    Exchange,
    ExchangeError,
    OptimisticLockingError,
    RouteBuilder,
    SqlAggregationRepository,
    TypeConversionError,
    group_bodies,
    group_exchanges,
    header,
)
from eip import constants as c
from eip.testing import eventually


def aggregator(repo: Any, strategy: Any = group_bodies, before: Any = None, **options: Any) -> RouteBuilder:
    """direct:in -> aggregate(header k) [-> before] -> mock:out."""

    class Routes(RouteBuilder):
        def configure(self) -> None:
            block = self.from_("direct:in").aggregate(header("k"), strategy, repository=repo, **options)
            if before is not None:
                block = block.process(before)
            block.to("mock:out").end()

    return Routes()


@pytest.fixture
def engines() -> Iterator[Callable[..., Engine]]:
    """``engines(*routes)``: a started engine, stopped after the test."""
    made: list[Engine] = []

    def start(*routes: Any) -> Engine:
        engine = Engine(routes=list(routes))
        made.append(engine)
        engine.start()
        return engine

    yield start
    for engine in reversed(made):
        engine.stop()


def send(engine: Engine, *bodies: Any, key: Any = "k1") -> None:
    for body in bodies:
        engine.template.send_body("direct:in", body, headers={"k": key})


def fail_always(exchange: Exchange) -> None:
    raise RuntimeError("downstream down")


# -- the repository on its own -------------------------------------------------------------------
def test_round_trip_and_the_completed_table(make_repo: Any) -> None:
    repo = make_repo(SqlAggregationRepository, use_recovery=False)
    assert isinstance(repo, AggregationRepository)
    assert repo.get("k") is None and repo.keys() == set() and len(repo) == 0
    exchange = Exchange({"lines": [1, 2], "total": Decimal("9.90"), "raw": b"\x01"},
                        {"Order-Id": ("A", 7), "handle": threading.Lock()},
                        properties={c.AGGREGATED_SIZE: 2, "lock": threading.Lock()})
    exchange.exception = ValueError("bad line")
    assert repo.add("k", exchange) is None
    got = repo.get("k")
    assert got is not None and got is not exchange
    assert got.exchange_id == exchange.exchange_id
    assert got.message.body == exchange.message.body
    assert got.message.headers["order-id"] == ("A", 7) and "handle" not in got.message.headers
    assert got.properties == {c.AGGREGATED_SIZE: 2}  # the lock cannot be stored: left out
    assert isinstance(got.exception, ValueError) and str(got.exception) == "bad line"
    assert repo.keys() == {"k"} and len(repo) == 1

    got.message.body["lines"].append(3)
    previous = repo.add("k", got)
    assert previous is not None and previous.message.body["lines"] == [1, 2]
    repo.get("k")
    repo.remove("k", got)
    assert repo.keys() == set() and repo.scan() == [got.exchange_id]
    assert repo.get_completed(got.exchange_id).message.body["lines"] == [1, 2, 3]
    repo.confirm(got.exchange_id)
    assert repo.scan() == [] and repo.get_completed(got.exchange_id) is None


def test_keys_bodies_and_exceptions_keep_their_types(make_repo: Any) -> None:
    class MyError(Exception):
        pass

    repo = make_repo(SqlAggregationRepository, use_recovery=False)
    first, second = Exchange("a", {"n": 1}), Exchange("b", {"n": 2})
    grouped = group_exchanges(group_exchanges(None, first), second)
    grouped.exception = MyError("custom")
    repo.add(("order", 1), grouped)
    repo.add(1, Exchange("int key"))
    repo.add("1", Exchange("text key"))
    assert repo.keys() == {("order", 1), 1, "1"}
    got = repo.get(("order", 1))
    assert [(e.message.body, e.message.headers["n"]) for e in got.message.body] == [("a", 1), ("b", 2)]
    assert isinstance(got.exception, ExchangeError) and "MyError: custom" in str(got.exception)
    assert repo.get(1).message.body == "int key" and repo.get("1").message.body == "text key"


def test_a_body_json_cannot_hold_fails_loudly(make_repo: Any) -> None:
    repo = make_repo(SqlAggregationRepository, use_recovery=False)
    with pytest.raises(TypeConversionError, match=r"body\[1\] is of type object"):
        repo.add("k", Exchange(["fine", object()]))
    assert repo.get("k") is None


def test_optimistic_locking_detects_every_lost_update(make_repo: Any) -> None:
    a = make_repo(SqlAggregationRepository, use_recovery=False)
    b = make_repo(SqlAggregationRepository, use_recovery=False)
    assert a.get("k") is None  # a reads "no group" ...
    b.add("k", Exchange("b1"))  # ... b creates it ...
    with pytest.raises(OptimisticLockingError):
        a.add("k", Exchange("a1"))  # ... a's insert must not win
    a.get("k")
    b.get("k")
    b.add("k", Exchange("b2"))
    with pytest.raises(OptimisticLockingError):
        a.add("k", Exchange("a2"))  # a read version 1, b wrote version 2
    a.get("k")
    b.get("k")
    b.add("k", Exchange("b3"))
    with pytest.raises(OptimisticLockingError):
        a.remove("k", Exchange("a-completes"))
    assert a.scan() == []  # the move to _completed was rolled back with the delete
    assert a.get("k").message.body == "b3"
    # Without a get() first, add reads and writes itself (retrying), and returns the previous group.
    assert a.add("k", Exchange("a4")).message.body == "b3"
    assert b.get("k").message.body == "a4"


def test_aggregator_retries_a_conflict_and_loses_nothing(make_repo: Any, engines: Any) -> None:
    a_read, b_wrote = threading.Event(), threading.Event()
    calls: list[str] = []

    def slow(old: Exchange | None, new: Exchange) -> Exchange:
        calls.append(new.message.body)
        if len(calls) == 1:  # engine A has read the group; let engine B write it meanwhile
            a_read.set()
            assert b_wrote.wait(10)
        return group_bodies(old, new)

    engine_a = engines(aggregator(make_repo(SqlAggregationRepository, use_recovery=False), slow,
                                  completion_size=3))
    engine_b = engines(aggregator(make_repo(SqlAggregationRepository, use_recovery=False),
                                  completion_size=3))
    sender = threading.Thread(target=send, args=(engine_a, "a1"))
    sender.start()
    assert a_read.wait(10)
    send(engine_b, "b1")
    b_wrote.set()
    sender.join(10)
    assert calls == ["a1", "a1"]  # A's write conflicted, so A aggregated again onto B's group
    send(engine_b, "b2")
    out = engine_b.get_endpoint("mock:out")
    out.expected_message_count(1)
    out.assert_is_satisfied(timeout=5)
    assert out.received_bodies == [["b1", "a1", "b2"]]
    assert engine_a.get_endpoint("mock:out").received_bodies == []


def test_when_retries_run_out_the_incoming_exchange_fails(make_repo: Any, engines: Any) -> None:
    a_read, b_wrote = threading.Event(), threading.Event()

    def slow(old: Exchange | None, new: Exchange) -> Exchange:
        a_read.set()
        assert b_wrote.wait(10)
        return group_bodies(old, new)

    repo_a = make_repo(SqlAggregationRepository, use_recovery=False, optimistic_lock_retries=0)
    engine_a = engines(aggregator(repo_a, slow, completion_size=3))
    engine_b = engines(aggregator(make_repo(SqlAggregationRepository, use_recovery=False), completion_size=3))
    errors: list[BaseException] = []

    def run() -> None:
        try:
            send(engine_a, "a1")
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    sender = threading.Thread(target=run)
    sender.start()
    assert a_read.wait(10)
    send(engine_b, "b1")
    b_wrote.set()
    sender.join(10)
    assert len(errors) == 1 and isinstance(errors[0], OptimisticLockingError)  # failed, not dropped
    assert "gave up after 1 attempt" in str(errors[0])
    assert repo_a.get("k1").message.body == ["b1"]


def test_two_engines_aggregating_one_group_at_once_lose_nothing(make_repo: Any, engines: Any) -> None:
    per_engine = 25
    both = [engines(aggregator(make_repo(SqlAggregationRepository, use_recovery=False),
                               completion_size=2 * per_engine)) for _ in range(2)]
    barrier = threading.Barrier(2)

    def run(index: int) -> None:
        barrier.wait(10)
        send(both[index], *(f"e{index}-{i}" for i in range(per_engine)))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    bodies = [body for engine in both for body in engine.get_endpoint("mock:out").received_bodies]
    assert len(bodies) == 1  # exactly one completion, holding every message
    assert sorted(bodies[0]) == sorted(f"e{e}-{i}" for e in range(2) for i in range(per_engine))


# -- groups across restarts ------------------------------------------------------------------------
def test_open_groups_survive_a_stop_and_complete_after_restart(make_repo: Any, engines: Any) -> None:
    first = engines(aggregator(make_repo(SqlAggregationRepository), completion_size=3))
    send(first, "m1", "m2")
    first.stop()  # graceful stop, no force_completion_on_stop: the group stays in the table
    repo = make_repo(SqlAggregationRepository)
    assert repo.keys() == {"k1"} and first.get_endpoint("mock:out").received_bodies == []

    second = engines(aggregator(repo, completion_size=3))
    send(second, "m3")
    out = second.get_endpoint("mock:out")
    out.expected_bodies_received(["m1", "m2", "m3"])
    out.assert_is_satisfied(timeout=5)
    exchange = out.received_exchanges[0]
    assert exchange.properties[c.AGGREGATED_SIZE] == 3
    assert exchange.properties[c.AGGREGATED_COMPLETED_BY] == "size"
    eventually(lambda: repo.scan() == [], what="the confirmation")


def test_a_group_left_open_times_out_after_restart(make_repo: Any, engines: Any) -> None:
    first = engines(aggregator(make_repo(SqlAggregationRepository), completion_timeout=60))
    send(first, "m1", "m2")
    first.stop()
    second = engines(aggregator(make_repo(SqlAggregationRepository), completion_timeout=0.2,
                                completion_timeout_checker_interval=0.05))
    out = second.get_endpoint("mock:out")
    out.expected_bodies_received(["m1", "m2"])
    out.assert_is_satisfied(timeout=5)
    assert out.received_exchanges[0].properties[c.AGGREGATED_COMPLETED_BY] == "timeout"


def test_force_completion_on_stop_completes_and_confirms(make_repo: Any, engines: Any) -> None:
    repo = make_repo(SqlAggregationRepository)
    engine = engines(aggregator(repo, completion_size=5, force_completion_on_stop=True))
    send(engine, "m1", "m2")
    engine.stop()
    assert engine.get_endpoint("mock:out").received_bodies == [["m1", "m2"]]
    assert repo.keys() == set() and repo.scan() == []


# -- confirmation and recovery ---------------------------------------------------------------------
def test_confirmed_only_after_asynchronous_confirmation(make_repo: Any, engines: Any) -> None:
    repo = make_repo(SqlAggregationRepository, use_recovery=False)
    holds: list[Any] = []
    engine = engines(aggregator(repo, completion_size=2,
                                before=lambda ex: holds.append(ex.unit_of_work.hold())))
    send(engine, "a", "b")
    [in_flight] = repo.scan()  # done with the steps, but its confirmation is outstanding
    holds[0](None)
    assert repo.scan() == []

    send(engine, "c", "d")
    [failed] = repo.scan()
    holds[1](RuntimeError("nacked downstream"))  # released: recovery may redeliver it now
    redelivered: list[Exchange] = []
    assert repo.recover(redelivered.append) == 1
    assert redelivered[0].exchange_id == failed and redelivered[0].message.body == ["c", "d"]
    assert redelivered[0].message.headers[c.REDELIVERED] is True
    assert redelivered[0].message.headers[c.REDELIVERY_COUNTER] == 1
    assert redelivered[0].properties[c.AGGREGATED_CORRELATION_KEY] == "k1"
    assert in_flight != failed


def test_confirmed_as_soon_as_the_steps_returned(make_repo: Any, engines: Any) -> None:
    """A producer that confirms later when someone waits for the outcome (the amqp producer
    takes ``hold()`` when the unit of work has synchronizations, else waits for its publisher
    confirm) must confirm before returning in the aggregator's steps: else completed groups
    pile up unconfirmed and a crash re-emits every one of them."""
    repo = make_repo(SqlAggregationRepository, use_recovery=False)
    confirmed_later: list[Any] = []

    def publish(exchange: Exchange) -> None:
        uow = exchange.unit_of_work
        if uow is not None and uow.has_synchronizations and not uow.finished:
            confirmed_later.append(uow.hold())

    engine = engines(aggregator(repo, completion_size=2, before=publish))
    send(engine, "a", "b", "c", "d")
    assert engine.get_endpoint("mock:out").received_bodies == [["a", "b"], ["c", "d"]]
    assert confirmed_later == []
    assert repo.scan() == []  # both groups confirmed: nothing for a crash to re-emit


def test_not_confirmed_before_the_last_step_even_through_a_direct_route(make_repo: Any, engines: Any) -> None:
    repo = make_repo(SqlAggregationRepository, use_recovery=False)

    class Routes(RouteBuilder):
        def configure(self) -> None:
            (self.from_("direct:in")
                .aggregate(header("k"), group_bodies, completion_size=2, repository=repo)
                    .to("direct:sub")  # a route of its own: it must not finish the exchange's work
                    .process(fail_always)
                .end())
            self.from_("direct:sub").to("mock:sub")

    engine = engines(Routes())
    send(engine, "a", "b")
    assert engine.get_endpoint("mock:sub").received_bodies == [["a", "b"]]
    assert len(repo.scan()) == 1  # the last step failed: still there, released for recovery
    assert repo.recover(lambda ex: None) == 1


def test_a_completed_id_left_by_an_earlier_process_gets_a_fresh_id(make_repo: Any) -> None:
    repo = make_repo(SqlAggregationRepository, use_recovery=False)
    first = Exchange(["old"])
    repo.remove("k", first)
    same_id = Exchange(["new"])
    same_id._id = first.exchange_id  # exchange ids restart with the process
    repo.remove("k", same_id)
    assert same_id.exchange_id != first.exchange_id
    assert sorted(repo.scan()) == sorted([first.exchange_id, same_id.exchange_id])
    assert repo.get_completed(same_id.exchange_id).message.body == ["new"]


def test_a_failed_completion_is_redelivered_by_the_next_engine(make_repo: Any, engines: Any) -> None:
    first = engines(aggregator(make_repo(SqlAggregationRepository, use_recovery=False), completion_size=2,
                               before=fail_always))
    send(first, "a", "b")  # completes; the steps fail: kept in _completed, unconfirmed
    first.stop()
    repo = make_repo(SqlAggregationRepository, recovery_interval=0.05)
    [exchange_id] = repo.scan()
    ids: list[str] = []
    second = engines(aggregator(repo, completion_size=2, before=lambda ex: ids.append(ex.exchange_id)))
    out = second.get_endpoint("mock:out")
    out.expected_bodies_received(["a", "b"])
    out.assert_is_satisfied(timeout=5)
    redelivered = out.received_exchanges[0]
    assert ids == [exchange_id]
    assert redelivered.message.headers[c.REDELIVERED] is True
    assert redelivered.message.headers[c.REDELIVERY_COUNTER] == 1
    assert redelivered.properties[c.AGGREGATED_COMPLETED_BY] == "size"
    eventually(lambda: repo.scan() == [], what="the confirmation")


def _crash_after_completion(repo: Any, body: Any) -> str:
    """What a process that died inside the aggregator's steps leaves behind."""
    exchange = Exchange(body)
    exchange.properties[c.AGGREGATED_SIZE] = len(body)
    repo.get("k1")
    repo.remove("k1", exchange)
    return exchange.exchange_id


def test_a_crashed_process_completion_is_recovered_when_its_lease_runs_out(make_repo: Any, engines: Any) -> None:
    dead = make_repo(SqlAggregationRepository, recovery_lease=0.3)
    exchange_id = _crash_after_completion(dead, ["x", "y"])
    repo = make_repo(SqlAggregationRepository, recovery_interval=0.05)
    ids: list[str] = []
    engine = engines(aggregator(repo, completion_size=2, before=lambda ex: ids.append(ex.exchange_id)))
    out = engine.get_endpoint("mock:out")
    out.expected_bodies_received(["x", "y"])
    out.assert_is_satisfied(timeout=5)
    assert ids == [exchange_id]
    eventually(lambda: repo.scan() == [], what="the confirmation")


def test_a_stable_instance_id_recovers_its_own_at_once(make_repo: Any, engines: Any) -> None:
    before_crash = make_repo(SqlAggregationRepository, instance_id="node-1", recovery_lease=600)
    _crash_after_completion(before_crash, ["x"])
    other = make_repo(SqlAggregationRepository, instance_id="node-2")
    assert other.recover(lambda ex: pytest.fail("node-1's lease still runs")) == 0
    restarted = make_repo(SqlAggregationRepository, instance_id="node-1", recovery_interval=0.05)
    engine = engines(aggregator(restarted, completion_size=2))
    out = engine.get_endpoint("mock:out")
    out.expected_bodies_received(["x"])
    out.assert_is_satisfied(timeout=5)


def test_dead_letter_after_maximum_redeliveries(make_repo: Any, engines: Any) -> None:
    repo = make_repo(SqlAggregationRepository, recovery_interval=0.05, maximum_redeliveries=2,
                     dead_letter_uri="mock:dead")
    attempts: list[Any] = []
    engine = engines(aggregator(repo, completion_size=2, before=lambda ex: (
        attempts.append(ex.message.headers.get(c.REDELIVERY_COUNTER)), fail_always(ex))))
    send(engine, "a", "b")
    dead = engine.get_endpoint("mock:dead")
    dead.expected_bodies_received(["a", "b"])
    dead.assert_is_satisfied(timeout=5)
    eventually(lambda: repo.scan() == [], what="the dead-lettered exchange to be confirmed")
    headers = dead.received_exchanges[0].message.headers
    assert headers[c.REDELIVERED] is True and headers[c.REDELIVERY_COUNTER] == 2
    assert headers[c.REDELIVERY_MAX_COUNTER] == 2
    assert attempts == [None, 1, 2]  # the delivery and two redeliveries, no more
    assert repo.parked() == []


def test_a_failing_dead_letter_endpoint_parks_instead_of_looping(make_repo: Any, engines: Any) -> None:
    repo = make_repo(SqlAggregationRepository, recovery_interval=0.05, maximum_redeliveries=1,
                     dead_letter_uri="direct:nobody-listens")
    attempts: list[int] = []
    engine = engines(aggregator(repo, completion_size=1,
                                before=lambda ex: (attempts.append(1), fail_always(ex))))
    send(engine, "a")
    eventually(lambda: repo.parked() != [], what="the exchange to be parked")
    [parked] = repo.parked()
    assert repo.scan() == [parked] and len(attempts) == 2  # one delivery, one redelivery
    assert repo.recover(lambda ex: pytest.fail("a parked exchange is not redelivered")) == 0
    assert repo.unpark(parked) == 1
    eventually(lambda: len(attempts) == 3 and repo.parked() == [parked], what="another round, parked again")


def test_exhausted_without_dead_letter_uri_is_parked(make_repo: Any, engines: Any) -> None:
    repo = make_repo(SqlAggregationRepository, recovery_interval=0.05, maximum_redeliveries=0)
    engine = engines(aggregator(repo, completion_size=1, before=fail_always))
    send(engine, "a")
    eventually(lambda: repo.parked() != [], what="the exchange to be parked")
    assert engine.get_endpoint("mock:out").received_bodies == []


def test_two_processes_recovering_claim_each_exchange_once(make_repo: Any) -> None:
    setup = make_repo(SqlAggregationRepository, use_recovery=False, recovery_lease=0.01)
    for i in range(12):
        exchange = Exchange([i])
        setup.remove(f"k{i}", exchange)
    time.sleep(0.02)  # the leases of the "crashed" owner run out
    recoverers = [make_repo(SqlAggregationRepository, use_recovery=False) for _ in range(2)]
    claimed: list[list[Any]] = [[], []]
    barrier = threading.Barrier(2)

    def run(index: int) -> None:
        barrier.wait(10)
        recoverers[index].recover(lambda ex: claimed[index].append(ex.message.body[0]))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(claimed[0] + claimed[1]) == list(range(12))  # none twice, none missed
    # Claimed rows are leased by their new owner: nobody else takes them again.
    assert setup.recover(lambda ex: pytest.fail("claimed by another instance")) == 0


def test_leases_of_in_flight_exchanges_are_renewed(make_repo: Any) -> None:
    owner = make_repo(SqlAggregationRepository, use_recovery=False, recovery_lease=0.2)
    _crash_after_completion(owner, ["in flight"])
    other = make_repo(SqlAggregationRepository, use_recovery=False)
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:  # the owner keeps renewing: never claimed meanwhile
        owner.recover(lambda ex: pytest.fail("not expired"))
        assert other.recover(lambda ex: pytest.fail("still leased")) == 0
        time.sleep(0.02)
    # The owner stops renewing (it died): once its 0.2 s lease runs out, the other instance claims it.
    assert eventually(lambda: other.recover(lambda ex: None), what="the expired lease claimed") == 1


# -- wiring ------------------------------------------------------------------------------------------
def test_named_datasource_through_the_engine(db_url: str, table: str) -> None:
    repo = SqlAggregationRepository("agg", table, use_recovery=False)
    engine = Engine(routes=[aggregator(repo, completion_size=2)])
    engine.add_datasource("agg", db_url)
    try:
        engine.start()
        send(engine, 1, 2)
        out = engine.get_endpoint("mock:out")
        out.expected_bodies_received([1, 2])
        out.assert_is_satisfied(timeout=5)
        assert repo.datasource is engine.datasource("agg")
    finally:
        engine.stop()
        repo.drop_tables()


def test_one_repository_per_aggregator(make_repo: Any) -> None:
    repo = make_repo(SqlAggregationRepository)

    class Routes(RouteBuilder):
        def configure(self) -> None:
            self.from_("direct:a").aggregate(header("k"), group_bodies, completion_size=2,
                                             repository=repo).to("mock:a").end()
            self.from_("direct:b").aggregate(header("k"), group_bodies, completion_size=2,
                                             repository=repo).to("mock:b").end()

    engine = Engine(routes=[Routes()])
    with pytest.raises(ConfigurationError, match="already used by a running aggregator"):
        engine.start()


@pytest.mark.parametrize("options, message", [
    ({"name": "bad name"}, "table name"),
    ({"maximum_redeliveries": -1}, "maximum_redeliveries"),
    ({"recovery_interval": 0}, "recovery_interval"),
    ({"recovery_interval": "soon"}, "not a duration"),
    ({"instance_id": "parked"}, "instance_id"),
    ({"dead_letter_uri": ""}, "dead_letter_uri"),
])
def test_bad_options_are_configuration_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        SqlAggregationRepository("sqlite://", **options)


# -- eip run: a graceful stop keeps the open groups ---------------------------------------------------
CLI_ROUTES = """
from eip import RouteBuilder, SqlAggregationRepository, constant, group_bodies

class Batches(RouteBuilder):
    def configure(self):
        (self.from_("timer:tick?period=0.01&delay=0&repeat_count=2").route_id("batches")
            .set_body(constant("tick"))
            .aggregate(constant("batch"), group_bodies, completion_size=5,
                       repository=SqlAggregationRepository("default", "cli_batches"))
                .to("log:batch")
            .end())
"""


@pytest.mark.skipif(not hasattr(__import__("signal"), "SIGTERM"), reason="signals")
def test_eip_run_keeps_open_groups_on_sigterm(tmp_path: Any, engines: Any) -> None:
    import os
    import signal
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'eip.db'}"
    routes = tmp_path / "batches.py"
    routes.write_text(CLI_ROUTES)
    repo = SqlAggregationRepository(url, "cli_batches", use_recovery=False)
    repo.create()
    env = {**os.environ, "EIP_DATASOURCE_DEFAULT_URL": url, "EIP_SERVER_PORT": "0"}
    proc = subprocess.Popen([sys.executable, "-m", "eip.cli", "run", str(routes), "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        eventually(lambda: (group := repo.get("batch")) is not None
                   and group.properties[c.AGGREGATED_SIZE] == 2, timeout=20, what="two ticks aggregated")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "1 open group(s) kept in SqlAggregationRepository" in err
    assert repo.get("batch").message.body == ["tick", "tick"]

    engine = engines(aggregator(SqlAggregationRepository(url, "cli_batches"), completion_size=3))
    engine.template.send_body("direct:in", "after restart", headers={"k": "batch"})
    out = engine.get_endpoint("mock:out")
    out.expected_bodies_received(["tick", "tick", "after restart"])
    out.assert_is_satisfied(timeout=5)
    repo.close()

"""SqlIdempotentRepository on SQLite and PostgreSQL: round trips, atomic add across threads and
processes, the idempotent consumer on top of it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from typing import Any

import pytest

from eip import (
    ConfigurationError,
    Engine,
    IdempotentRepository,
    RouteBuilder,
    SqlError,
    SqlIdempotentRepository,
    header,
)

from .conftest import pg_url


def test_add_contains_remove_confirm_clear(make_repo: Any) -> None:
    repo = make_repo(SqlIdempotentRepository)
    assert isinstance(repo, IdempotentRepository)
    assert repo.add("a") is True
    assert repo.add("a") is False
    assert repo.contains("a") and "a" in repo and not repo.contains("b")
    assert repo.confirm("a") is True
    assert repo.add("b") is True and len(repo) == 2
    assert repo.remove("a") is True and repo.remove("a") is False
    assert repo.add("a") is True  # forgotten, so it passes again
    repo.clear()
    assert len(repo) == 0 and not repo.contains("b")
    assert bool(repo)  # an empty repository is still a repository


def test_keys_are_text(make_repo: Any) -> None:
    repo = make_repo(SqlIdempotentRepository)
    assert repo.add(42) is True
    assert repo.add("42") is False  # stored as text: the same id
    assert repo.add("ünïcødé-€") is True and repo.contains("ünïcødé-€")
    with pytest.raises(SqlError, match="longer than 512"):
        repo.add("x" * 513)


def test_survives_a_new_repository_object(make_repo: Any) -> None:
    make_repo(SqlIdempotentRepository).add("seen-before-restart")
    again = make_repo(SqlIdempotentRepository)
    assert again.contains("seen-before-restart") and again.add("seen-before-restart") is False


def test_remove_older_than(make_repo: Any) -> None:
    repo = make_repo(SqlIdempotentRepository)
    repo.add("old")
    assert repo.remove_older_than(3600) == 0
    assert repo.remove_older_than(-1) == 1 and not repo.contains("old")


def test_concurrent_adds_exactly_one_wins(make_repo: Any) -> None:
    # Separate repository objects: separate pools, as separate processes would have.
    repos = [make_repo(SqlIdempotentRepository) for _ in range(4)]
    repos[0].create()
    keys = [f"k{i}" for i in range(40)]
    wins: list[list[str]] = [[] for _ in repos]
    barrier = threading.Barrier(len(repos))

    def run(index: int) -> None:
        barrier.wait(timeout=10)
        for key in keys:
            if repos[index].add(key):
                wins[index].append(key)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(repos))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    everything = [key for won in wins for key in won]
    assert sorted(everything) == sorted(keys)  # each key won exactly once


def test_create_tables_false_needs_the_table(make_repo: Any) -> None:
    repo = make_repo(SqlIdempotentRepository, create_tables=False)
    with pytest.raises(SqlError, match="SqlIdempotentRepository"):
        repo.add("a")
    repo.create()
    assert repo.add("a") is True


def test_bad_table_name_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="table name"):
        SqlIdempotentRepository("default", "orders; drop table x")


def test_idempotent_consumer_with_a_named_datasource(db_url: str, table: str) -> None:
    repo = SqlIdempotentRepository("ids", table)

    class Routes(RouteBuilder):
        def configure(self) -> None:
            (self.from_("direct:in")
                .idempotent_consumer(header("id"), repository=repo)
                    .to("mock:out")
                .end())

    engine = Engine(routes=[Routes()])
    engine.add_datasource("ids", db_url)
    try:
        engine.start()
        out = engine.get_endpoint("mock:out")
        out.when_any_exchange_received(_fail_on("boom"))
        for body, key in [("a", 1), ("b", 2), ("a-again", 1), ("boom", 3), ("c", 3)]:
            try:
                engine.template.send_body("direct:in", body, headers={"id": key})
            except RuntimeError:
                pass
        out.expected_bodies_received("a", "b", "boom", "c")
        out.assert_is_satisfied(timeout=5)
        # "boom" failed: its id was removed, so "c" with the same id passed; then confirmed.
        assert repo.contains(1) and repo.contains(2) and repo.contains(3)
        assert repo.datasource is engine.datasource("ids")
    finally:
        engine.stop()
        repo.drop_tables()


def _fail_on(body: str) -> Any:
    def check(exchange: Any) -> None:
        if exchange.message.body == body:
            raise RuntimeError("downstream failed")
    return check


_PROCESS = textwrap.dedent("""
    import json, os, random, sys
    from eip import Engine, RouteBuilder, SqlIdempotentRepository, header

    url, table, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    processed = []

    class Routes(RouteBuilder):
        def configure(self):
            (self.from_("direct:in")
                .idempotent_consumer(header("id"), repository=SqlIdempotentRepository("db", table))
                    .process(lambda ex: processed.append(ex.message.headers["id"]))
                .end())

    engine = Engine(routes=[Routes()])
    engine.add_datasource("db", url)
    engine.start()
    print("ready", flush=True)
    sys.stdin.readline()  # both processes start sending at once
    ids = list(range(count))
    random.Random(os.getpid()).shuffle(ids)  # each process its own order: they collide all along
    for i in ids:
        engine.template.send_body("direct:in", i, headers={"id": f"order-{i}"})
    engine.stop()
    print(json.dumps(processed), flush=True)
""")


def test_two_processes_on_postgresql_process_each_id_exactly_once(postgresql_service: Any, table: str) -> None:
    url = pg_url(postgresql_service)
    setup = SqlIdempotentRepository(url, table)
    setup.create()
    count = 200
    processes = [subprocess.Popen([sys.executable, "-c", _PROCESS, url, table, str(count)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(2)]
    try:
        for process in processes:
            line = process.stdout.readline()  # type: ignore[union-attr]
            assert line.strip() == "ready", process.stderr.read()  # type: ignore[union-attr]
        for process in processes:
            process.stdin.write("go\n")  # type: ignore[union-attr]
            process.stdin.flush()  # type: ignore[union-attr]
        results = []
        for process in processes:
            out, err = process.communicate(timeout=60)
            assert process.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
        setup.drop_tables()
        setup.close()
    first, second = results
    assert first and second  # both took part
    assert not set(first) & set(second)  # no id processed by both
    assert sorted(first + second) == sorted(f"order-{i}" for i in range(count))

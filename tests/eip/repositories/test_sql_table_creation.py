"""SQL repositories create their tables on first use; several creators at once (engines,
processes, threads sharing a database) must all succeed, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest

from eip import (
    SqlAggregationRepository,
    SqlClaimCheckRepository,
    SqlIdempotentRepository,
)

CREATORS = 6
ROUNDS = 12


@pytest.mark.parametrize("cls", [SqlAggregationRepository, SqlIdempotentRepository, SqlClaimCheckRepository])
def test_concurrent_creators_of_the_same_tables_all_succeed(cls: type, db_url: str) -> None:
    for round_ in range(ROUNDS):
        name = f"t_{uuid.uuid4().hex[:12]}"  # tables that do not exist yet
        repos = [cls(datasource=db_url, name=name, **(
            {"use_recovery": False} if cls is SqlAggregationRepository else {})) for _ in range(CREATORS)]
        for repo in repos:
            with repo.datasource.engine.connect():  # connected before the start line, not after
                pass
        barrier = threading.Barrier(CREATORS)
        errors: list[BaseException] = []

        def create(repo: Any, barrier: threading.Barrier = barrier, errors: list[BaseException] = errors) -> None:
            try:
                barrier.wait(10)
                repo.create()
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=create, args=(repo,)) for repo in repos]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        try:
            assert errors == [], f"round {round_}: {errors[0]}"
            # Every creator can use the tables it was told exist.
            for repo in repos:
                if cls is SqlAggregationRepository:
                    assert len(repo) == 0 and repo.scan() == []
                elif cls is SqlIdempotentRepository:
                    assert not repo.contains("x")
                else:
                    assert repo.get("x") is None
        finally:
            repos[0].drop_tables()
            for repo in repos:
                repo.close()

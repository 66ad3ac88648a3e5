"""Fixtures for the SQL repository tests: each test runs on SQLite (a file in tmp_path) and on
PostgreSQL (the ``postgresql_service``), with tables of its own, dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest


def pg_url(service: Any) -> str:
    return service.url.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """A database URL: a SQLite file, or the PostgreSQL test database."""
    if request.param == "postgresql":
        return pg_url(request.getfixturevalue("postgresql_service"))
    return f"sqlite:///{tmp_path / 'repo.db'}"


@pytest.fixture
def table() -> str:
    """A table name of this test's own."""
    return f"t_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def make_repo(db_url: str, table: str) -> Iterator[Callable[..., Any]]:
    """``make_repo(SqlXRepository, **options)``: a repository on this test's database and table
    (``datasource=`` and ``name=`` may be overridden); tables dropped and pools closed after."""
    made: list[Any] = []

    def make(cls: type, **options: Any) -> Any:
        options.setdefault("datasource", db_url)
        options.setdefault("name", table)
        repo = cls(**options)
        made.append(repo)
        return repo

    yield make
    for repo in reversed(made):
        stop = getattr(repo, "stop_recovery", None)
        if stop is not None:
            stop()
    dropped: set[tuple[type, str]] = set()
    try:
        for repo in made:
            if (type(repo), repo.name) not in dropped:
                dropped.add((type(repo), repo.name))
                repo.drop_tables()
    finally:
        for repo in made:
            repo.close()

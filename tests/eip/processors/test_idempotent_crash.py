"""The README's crash example for ``idempotent_consumer(eager=...)``, run for real.

A file route loads rows into SQLite behind a durable idempotent consumer keyed by file name.
A child process is killed (``os._exit``) after the consumer saw the file and before the rows
were committed; the file stays in the folder. On restart: with ``eager=True`` the file name is
already stored, the file is skipped as a duplicate and moved to ``.done``, and its rows are lost;
with ``eager=False`` the name was not stored yet and the rows are loaded.
"""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from eip import Engine, RouteBuilder, SqlIdempotentRepository, body, header
from eip.constants import FILE_NAME
from eip.testing import Notifier

CHILD = r"""
import os, sys
from eip import Engine
sys.path.insert(0, sys.argv[3])
from test_idempotent_crash import LoadOrderFiles

def crash(exchange):
    os._exit(9)  # killed after the idempotent consumer, before the rows are committed

engine = Engine(routes=[LoadOrderFiles(sys.argv[1], sys.argv[2] == "true", crash)])
engine.add_datasource("shop", sys.argv[4])
engine.start()
import time; time.sleep(30)  # the crash ends the process long before this
os._exit(0)
"""


class LoadOrderFiles(RouteBuilder):
    def __init__(self, inbox: str, eager: bool, before_insert=lambda exchange: None) -> None:
        super().__init__()
        self.inbox, self.eager, self.before_insert = inbox, eager, before_insert

    def configure(self) -> None:
        (self.from_(f"file:{self.inbox}?initial_delay=0&delay=0.05").route_id("load-orders")
            .idempotent_consumer(header(FILE_NAME), repository=SqlIdempotentRepository("shop", "seen_files"),
                                 eager=self.eager)
                .process(self.before_insert)
                .split(body().tokenize("\n"))
                    .to("sql:INSERT INTO order_lines(line) VALUES (:#${body})?datasource=shop")
                .end()
            .end())


@pytest.mark.parametrize(("eager", "rows_after_restart"), [
    (True, []),  # the default: the file counts as a duplicate, its rows are lost
    (False, [("A1,10",), ("A2,3",)]),
])
def test_a_crash_between_the_idempotent_add_and_the_commit(tmp_path, caplog, eager, rows_after_restart):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    db = tmp_path / "shop.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE order_lines(line TEXT)")
    (inbox / "orders-1.csv").write_text("A1,10\nA2,3")
    url = f"sqlite:///{db}"

    child = subprocess.run([sys.executable, "-c", CHILD, str(inbox), str(eager).lower(),
                            str(Path(__file__).parent), url], timeout=60, capture_output=True, text=True)
    assert child.returncode == 9, child.stderr
    assert (inbox / "orders-1.csv").exists()  # the file stayed: it moves only after the route completed

    engine = Engine(routes=[LoadOrderFiles(str(inbox), eager)])
    engine.add_datasource("shop", url)
    done = Notifier(engine, done=1)
    with caplog.at_level(logging.INFO, logger="eip.processors.idempotent"):
        engine.start()
        try:
            assert done.wait(10)
        finally:
            engine.stop()
    assert (inbox / ".done" / "orders-1.csv").exists()
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT line FROM order_lines ORDER BY line").fetchall() == rows_after_restart
    skipped = [r.getMessage() for r in caplog.records if r.name == "eip.processors.idempotent"]
    assert len(skipped) == (1 if eager else 0)  # the loss is at least visible in the log

"""Reliability test 4: kill -9 the engine process during a file route; restart; no file is lost.

A real engine runs in a child process: ``file:in`` (with or without ``pre_move``) -> a step ->
``file:out``. The step blocks on one chosen file (after writing a marker) so that the kill lands
while that file is mid-route; the parent then kills the process with SIGKILL, checks that every
input file is still somewhere (input folder, in-progress folder, ``.done``), restarts the engine
and waits until every file has gone through and been written to ``out``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from eip.testing import eventually

CHILD = r"""
import sys, time
from pathlib import Path
from eip import Engine, RouteBuilder

inbox, outbox, options, block_on, marker = sys.argv[1:6]

def step(exchange):
    if exchange.message.headers["CamelFileName"] == block_on:
        Path(marker).write_text("in route")
        time.sleep(3600)  # the parent kills us here

class Routes(RouteBuilder):
    def configure(self):
        (self.from_(f"file:{inbox}?initial_delay=0&delay=0.01{options}")
         .process(step)
         .to(f"file:{outbox}"))

engine = Engine(routes=[Routes()])
engine.start()
while True:
    time.sleep(3600)
"""

COUNT = 40


def names() -> list[str]:
    return [f"order-{i:03d}.txt" for i in range(COUNT)]


def listing(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.is_file()} if folder.is_dir() else set()


def while_alive(process: subprocess.Popen, condition: Callable[[], object], what: str) -> Callable[[], object]:
    """``condition`` for ``eventually``, giving up at once (with its stderr) if the engine process exited."""
    def check() -> object:
        value = condition()
        if not value and process.poll() is not None:
            raise AssertionError(f"engine process exited ({process.returncode}) before {what}: "
                                 f"{process.stderr.read().decode() if process.stderr else ''}")
        return value
    return check


def run_engine(tmp: Path, options: str, block_on: str) -> tuple[subprocess.Popen, Path]:
    marker = tmp / f"marker-{time.monotonic_ns()}"
    process = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp / "in"), str(tmp / "out"), options,
                                block_on, str(marker)], stderr=subprocess.PIPE)
    return process, marker


def kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    if process.stderr:
        process.stderr.close()


@pytest.mark.parametrize("options, in_progress", [
    ("&pre_move=.inprogress", ".inprogress"),
    ("", None),
], ids=["pre_move", "no_pre_move"])
def test_kill_9_mid_route_loses_no_file(tmp_path, options, in_progress):
    inbox, outbox = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    for name in names():
        (inbox / name).write_text(f"payload of {name}")
    victim = names()[COUNT // 2]

    process, marker = run_engine(tmp_path, options, victim)
    try:
        what = "the route to reach the victim file"
        eventually(while_alive(process, marker.exists, what), 20, what)
    finally:
        kill(process)

    # Nothing lost: every file is in the input, in-progress or done folder, exactly once.
    pending = listing(inbox)
    held = listing(inbox / in_progress) if in_progress else set()
    done = listing(inbox / ".done")
    assert sorted(pending | held | done) == names()
    assert len(pending) + len(held) + len(done) == COUNT
    if in_progress:
        assert held == {victim}  # mid-route, it sits in the in-progress folder
    else:
        assert victim in pending  # without pre_move it never left the input folder
    assert victim not in done and len(done) == COUNT // 2
    assert listing(outbox) == done  # every file marked done was written first

    process, marker = run_engine(tmp_path, options, "no file blocks this time")
    try:
        what = "every file to be consumed"
        eventually(while_alive(process, lambda: len(listing(inbox / ".done")) == COUNT, what), 20, what)
    finally:
        kill(process)
    assert listing(inbox) == set()
    if in_progress:
        assert listing(inbox / in_progress) == set()
    assert sorted(listing(inbox / ".done")) == names()
    assert sorted(listing(outbox)) == names()
    for name in names():
        assert (outbox / name).read_text() == f"payload of {name}"

"""SIGTERM during load loses nothing: ``eip run`` on a seda-backed file route, stopped mid-load.

100 files of 100 lines (10,000 messages) go through ``file -> split(lines) -> seda -> file``
in a real ``eip run`` process. It gets SIGTERM once a quarter of the files are done; it must exit
0 after a graceful stop, leaving every input file either done (with all of its lines written)
or still in the input folder (untouched, for the next run). A second run then finishes the
rest, and in the end every line of every file was written exactly once.

The route is ``BulkLines`` below: ``eip run`` loads it from this very file.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
from pathlib import Path

from eip import RouteBuilder, body
from eip.testing import eventually

FILES = 100
LINES = 100


class BulkLines(RouteBuilder):
    """Each line of ``{{bulk.in}}/*.txt`` is appended, through a seda queue, to the file of the
    same name in ``{{bulk.out}}``."""

    def configure(self) -> None:
        (self.from_("file:{{bulk.in}}?include=.*\\.txt&initial_delay=0&delay=10ms").route_id("bulk-files")
            .split(body().tokenize("\n"), streaming=True)
                .to("seda:bulk-lines?size=200&block_when_full=true")
            .end())
        (self.from_("seda:bulk-lines?concurrent_consumers=2").route_id("bulk-lines")
            .transform(lambda ex: ex.message.body + "\n")
            .to("file:{{bulk.out}}?file_exist=append"))


def expected_lines(name: str) -> list[str]:
    return [f"{name}:{n:03d}" for n in range(1, LINES + 1)]


def names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.is_file()} if folder.is_dir() else set()


def start(tmp_path: Path, run: int) -> tuple[subprocess.Popen, Path]:
    env = {**os.environ, "EIP_BULK_IN": str(tmp_path / "in"), "EIP_BULK_OUT": str(tmp_path / "out"),
           "EIP_SERVER_PORT": "0"}
    log = tmp_path / f"run{run}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "eip.cli", "run", __file__, "--shutdown-timeout", "20", "--log-level", "INFO"],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
    return process, log


def stop(process: subprocess.Popen, log: Path) -> str:
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise AssertionError(f"eip run did not stop within 30 s of SIGTERM:\n{log.read_text()}") from None
    text = log.read_text()
    assert code == 0, f"exit code {code}:\n{text}"
    assert "received SIGTERM" in text, text
    assert "did not finish" not in text and "still in flight" not in text, text
    return text


def check_nothing_lost(inbox: Path, outbox: Path, all_names: set[str]) -> tuple[set[str], set[str]]:
    """Every file is done (all its lines written once) or waiting untouched; returns both sets."""
    done, waiting = names(inbox / ".done"), names(inbox)
    assert not names(inbox / ".error"), "a file failed"
    assert done | waiting == all_names, f"vanished: {sorted(all_names - done - waiting)}"
    assert not done & waiting
    for name in done:
        assert (outbox / name).exists(), f"{name} is done but its lines were lost"
        written = (outbox / name).read_text().splitlines()
        assert collections.Counter(written) == collections.Counter(expected_lines(name)), name
    for name in waiting:  # not started, or rolled back: nothing of it may be half-written
        assert not (outbox / name).exists(), f"{name} is still to do but has output"
    return done, waiting


def test_sigterm_mid_load_loses_nothing_and_a_restart_finishes_the_rest(tmp_path):
    inbox, outbox = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    all_names = set()
    for f in range(1, FILES + 1):
        name = f"batch-{f:03d}.txt"
        (inbox / name).write_text("\n".join(expected_lines(name)) + "\n")
        all_names.add(name)

    process, log = start(tmp_path, 1)
    try:  # under load: a quarter of the files done, the queue full of the next ones' lines
        eventually(lambda: len(names(inbox / ".done")) >= FILES // 4 or process.poll() is not None, 30,
                 "a quarter of the files done")
        assert process.poll() is None, log.read_text()
    finally:
        text = stop(process, log) if process.poll() is None else log.read_text()
    done, waiting = check_nothing_lost(inbox, outbox, all_names)
    assert done and waiting, f"not stopped mid-load: {len(done)} done, {len(waiting)} waiting\n{text}"

    process, log = start(tmp_path, 2)
    try:
        eventually(lambda: len(names(inbox / ".done")) == FILES or process.poll() is not None, 60, "every file done")
    finally:
        if process.poll() is None:
            stop(process, log)
    done, waiting = check_nothing_lost(inbox, outbox, all_names)
    assert done == all_names and not waiting, log.read_text()

"""file component and symbolic links, tried as an attacker who can write into the folders would:
by default neither the consumer nor the producer follows a link (nor moves or writes through
one); ``follow_symlinks=true`` follows links that stay inside the endpoint's folder only."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest

from eip import RouteBuilder
from eip import constants as c
from eip.errors import FileOperationError, UnsafeFileNameError
from eip.file_body import FileBody

FAST = "initial_delay=0&delay=0.02"


def routes(fn):
    class Routes(RouteBuilder):
        def configure(self) -> None:
            fn(self)
    return Routes()


def write(folder: Path, name: str, text: str = "x") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def files(folder: Path) -> list[str]:
    """Every entry under ``folder`` that is a file or a link, as sorted relative paths (links not followed)."""
    found = []
    for directory, dirs, names in os.walk(folder):
        for name in names + [d for d in dirs if os.path.islink(os.path.join(directory, d))]:
            found.append(os.path.relpath(os.path.join(directory, name), folder))
    return sorted(found)


@pytest.fixture
def outside(tmp_path) -> Path:
    """A folder outside every endpoint folder, holding a secret."""
    folder = tmp_path / "outside"
    write(folder, "secret.txt", "root:x:0:0")
    return folder


def consumer_of(engine, uri: str, step=None):
    """A consumer driven by ``run_once()`` without its thread; returns (consumer, bodies by name)."""
    seen: dict[str, Any] = {}

    class Recorder:
        def process(self, exchange):
            seen[exchange.message.headers[c.FILE_NAME]] = exchange.message.body.read_text()
            if step is not None:
                step(exchange)
            exchange.unit_of_work.done(exchange)

    consumer = engine.get_endpoint(uri).create_consumer(Recorder())
    return consumer, seen


def symlink_warnings(caplog, name: str) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno == logging.WARNING and "symbolic link" in r.getMessage() and name in r.getMessage()]


# -- consumer, default: links are skipped -------------------------------------------------------

def test_a_link_to_a_file_outside_is_skipped_with_one_warning_per_path(engine, tmp_path, outside, caplog):
    inbox = tmp_path / "in"
    write(inbox, "real.txt", "real")
    (inbox / "leak.txt").symlink_to(outside / "secret.txt")
    consumer, seen = consumer_of(engine, f"file:{inbox}?{FAST}")
    with caplog.at_level(logging.WARNING, logger="components.file"):
        for _ in range(3):
            consumer.run_once()
    assert seen == {"real.txt": "real"}
    assert consumer.error_counter == 0
    assert files(inbox) == [".done/real.txt", "leak.txt"]  # the link is left alone, never moved
    assert files(outside) == ["secret.txt"]
    assert len(symlink_warnings(caplog, "leak.txt")) == 1  # once per path, not once per poll


def test_a_linked_subfolder_is_not_descended_with_recursive(engine, tmp_path, outside):
    inbox = tmp_path / "in"
    write(inbox, "sub/real.txt", "real")
    (inbox / "etc").symlink_to(outside, target_is_directory=True)
    write(inbox, "other/inside.txt", "inside")
    (inbox / "alias").symlink_to(inbox / "other", target_is_directory=True)
    consumer, seen = consumer_of(engine, f"file:{inbox}?{FAST}&recursive=true")
    consumer.run_once()
    assert seen == {"sub/real.txt": "real", "other/inside.txt": "inside"}
    assert files(outside) == ["secret.txt"]


def test_link_loops_with_recursive_neither_fail_polls_nor_starve_real_files(engine, tmp_path, caplog):
    inbox = tmp_path / "in"
    (inbox / "sub").mkdir(parents=True)
    (inbox / "sub" / "up").symlink_to("..", target_is_directory=True)  # a folder loop
    (inbox / "self").symlink_to("self")  # ELOOP on every stat
    (inbox / "ping").symlink_to("pong")
    (inbox / "pong").symlink_to("ping")
    consumer, seen = consumer_of(engine, f"file:{inbox}?{FAST}&recursive=true")
    with caplog.at_level(logging.WARNING, logger="components.file"):
        for n in range(3):
            write(inbox, f"sub/f{n}.txt", str(n))
            assert consumer.run_once() == 1
    assert seen == {"sub/f0.txt": "0", "sub/f1.txt": "1", "sub/f2.txt": "2"}
    assert consumer.error_counter == 0
    assert len(symlink_warnings(caplog, "self")) == 1


# -- consumer, follow_symlinks=true: inside the folder only -------------------------------------

def test_follow_symlinks_consumes_links_inside_the_folder_and_skips_those_leading_out(
        engine, tmp_path, outside, caplog):
    inbox = tmp_path / "in"
    write(inbox, "data/a.txt", "a")
    (inbox / "link.txt").symlink_to(inbox / "data" / "a.txt")
    (inbox / "leak.txt").symlink_to(outside / "secret.txt")
    (inbox / "etc").symlink_to(outside, target_is_directory=True)
    (inbox / "sneaky").symlink_to(Path("data") / ".." / ".." / "outside", target_is_directory=True)
    consumer, seen = consumer_of(engine, f"file:{inbox}?{FAST}&follow_symlinks=true&include=link.*|leak.*"
                                         "|secret.*")
    with caplog.at_level(logging.WARNING, logger="components.file"):
        consumer.run_once()
        consumer.run_once()
    assert seen == {"link.txt": "a"}
    assert files(outside) == ["secret.txt"]
    assert len(symlink_warnings(caplog, "leak.txt")) == 1
    assert "leak.txt" in files(inbox)
    assert ".done/link.txt" in files(inbox) and "data/a.txt" in files(inbox)  # the link moved, not its target


def test_follow_symlinks_with_recursive_descends_inside_links_once_despite_a_loop(engine, tmp_path, outside):
    inbox = tmp_path / "in"
    write(inbox, "real/a.txt", "a")
    (inbox / "real" / "loop").symlink_to("..", target_is_directory=True)
    (inbox / "etc").symlink_to(outside, target_is_directory=True)
    consumer, seen = consumer_of(engine, f"file:{inbox}?{FAST}&follow_symlinks=true&recursive=true")
    for _ in range(2):
        write(inbox, "real/b.txt", "b")
        consumer.run_once()
    assert seen == {"real/a.txt": "a", "real/b.txt": "b"}
    assert consumer.error_counter == 0
    assert files(outside) == ["secret.txt"]


# -- consumer moves never go through links ------------------------------------------------------

def test_a_done_folder_replaced_by_a_link_is_not_moved_into(engine, tmp_path, outside):
    inbox = tmp_path / "in"
    write(inbox, "a.txt", "a")
    (inbox / ".done").symlink_to(outside, target_is_directory=True)
    consumer, seen = consumer_of(engine, f"file:{inbox}?{FAST}")
    consumer.run_once()
    assert seen == {"a.txt": "a"}
    assert files(outside) == ["secret.txt"]
    assert "a.txt" in files(inbox)  # stays to be consumed again


def test_a_move_template_cannot_leave_its_folder(engine, tmp_path, outside):
    inbox = tmp_path / "in"
    write(inbox, "a.txt", "a")
    consumer, seen = consumer_of(engine, f"file:{inbox}?{FAST}&move=.done/${{header.dest}}",
                                 lambda ex: ex.message.headers.update(dest="../../outside/stolen.txt"))
    consumer.run_once()
    assert seen == {"a.txt": "a"}
    assert files(outside) == ["secret.txt"]
    assert "a.txt" in files(inbox)


def test_a_pre_move_folder_replaced_by_a_link_is_refused(engine, tmp_path, outside):
    inbox = tmp_path / "in"
    write(inbox, "a.txt", "a")
    (inbox / ".inprogress").symlink_to(outside, target_is_directory=True)
    consumer, seen = consumer_of(engine, f"file:{inbox}?{FAST}&pre_move=.inprogress")
    consumer.run_once()
    assert seen == {}
    assert files(outside) == ["secret.txt"]
    assert "a.txt" in files(inbox)


def test_a_file_body_does_not_follow_a_link_swapped_in_after_the_poll(tmp_path, outside):
    link = tmp_path / "a.txt"
    link.symlink_to(outside / "secret.txt")
    with pytest.raises(FileOperationError, match="symbolic link"):
        FileBody(link, follow_symlinks=False).read_text()
    with pytest.raises(FileOperationError, match="symbolic link"):
        list(FileBody(link, follow_symlinks=False).iter_tokens("\n"))
    assert FileBody(link).read_text() == "root:x:0:0"  # a plain FileBody is a plain path


# -- producer -------------------------------------------------------------------------------------

@pytest.fixture
def send(engine):
    """``send(uri, body, **headers)`` through a ``direct:`` route to ``uri``; returns the reply body."""
    started: dict[str, str] = {}

    def send(uri, body, **headers):
        if uri not in started:
            name = f"direct:w{len(started)}"
            engine.add_routes(routes(lambda r: r.from_(name).to(uri)))
            started[uri] = name
            if not engine.is_started:
                engine.start()
        return engine.template.request_body(started[uri], body, headers=headers)

    return send


def test_the_producer_does_not_write_through_a_linked_folder(send, tmp_path, outside):
    out = tmp_path / "out"
    out.mkdir()
    (out / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(UnsafeFileNameError) as info:
        send(f"file:{out}", "pwned", CamelFileName="link/x.txt")
    assert "symbolic link" in str(info.value) and "link/x.txt" in str(info.value)
    with pytest.raises(UnsafeFileNameError):
        send(f"file:{out}", "pwned", CamelFileName="link/deeper/x.txt")  # mkdirs must not create under it
    assert files(outside) == ["secret.txt"]


@pytest.mark.parametrize("mode", ["append", "override", "fail", "ignore"])
def test_the_producer_refuses_a_leaf_link(send, tmp_path, outside, mode):
    out = tmp_path / "out"
    out.mkdir()
    (out / "victim.txt").symlink_to(outside / "secret.txt")
    with pytest.raises(UnsafeFileNameError, match="symbolic link"):
        send(f"file:{out}?file_exist={mode}", "pwned", CamelFileName="victim.txt")
    assert (outside / "secret.txt").read_text() == "root:x:0:0"
    assert os.path.islink(out / "victim.txt")
    assert files(outside) == ["secret.txt"]


def test_the_producer_follows_links_inside_its_folder_only_when_asked(send, tmp_path, outside):
    out = tmp_path / "out"
    write(out, "real/log.txt", "1")
    (out / "alias").symlink_to(out / "real", target_is_directory=True)
    (out / "current.txt").symlink_to(Path("real") / "log.txt")
    (out / "etc").symlink_to(outside, target_is_directory=True)
    uri = f"file:{out}?follow_symlinks=true&file_exist=append"
    produced = send(uri, "2", CamelFileName="alias/new.txt")
    assert produced == "2"
    assert (out / "real" / "new.txt").read_text() == "2"
    send(uri, "3", CamelFileName="current.txt")
    assert (out / "real" / "log.txt").read_text() == "13"
    with pytest.raises(UnsafeFileNameError, match="outside"):
        send(uri, "pwned", CamelFileName="etc/secret.txt")
    assert (outside / "secret.txt").read_text() == "root:x:0:0"
    assert files(outside) == ["secret.txt"]


def test_an_endpoint_folder_that_is_itself_a_link_still_works(send, engine, tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "linked").symlink_to(real, target_is_directory=True)
    send(f"file:{tmp_path / 'linked'}", "x", CamelFileName="sub/a.txt")
    assert (real / "sub" / "a.txt").read_text() == "x"


def test_a_move_across_file_systems_copies_without_following_links(tmp_path, monkeypatch, outside):
    import errno

    from components.file.fileops import move_file

    def no_hard_links(*args, **kwargs):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", no_hard_links)
    inbox = tmp_path / "in"
    source = write(inbox, "a.txt", "a")
    os.utime(source, (1_000_000, 1_000_000))
    write(inbox, ".done/a.txt", "taken")
    moved = move_file(str(source), str(inbox / ".done" / "a.txt"), str(inbox))
    assert moved == str(inbox / ".done" / "a-1.txt")
    assert (inbox / ".done" / "a-1.txt").read_text() == "a" and not source.exists()
    assert os.stat(moved).st_mtime == 1_000_000
    (inbox / "link.txt").symlink_to(outside / "secret.txt")
    moved = move_file(str(inbox / "link.txt"), str(inbox / ".done" / "link.txt"), str(inbox))
    assert os.readlink(moved) == str(outside / "secret.txt")  # moved as a link, target untouched
    (inbox / ".done" / "sub").symlink_to(outside, target_is_directory=True)
    with pytest.raises(UnsafeFileNameError, match="symbolic link"):
        move_file(str(write(inbox, "b.txt")), str(inbox / ".done" / "sub" / "b.txt"), str(inbox))
    assert files(outside) == ["secret.txt"]

"""file consumer: moves after the unit of work, failure folders, pre_move recovery, filters,
sorting, noop/idempotent, read locks, done files, charset, bad input, options."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import eip.file_body
from eip import (
    EndpointOptionError,
    Engine,
    RouteBuilder,
    body,
    dead_letter_channel,
    jsonpath,
    xpath,
)
from eip import constants as c
from eip.errors import FileOperationError
from eip.file_body import FileBody
from eip.testing import Notifier, eventually

FAST = "initial_delay=0&delay=0.02"


def routes(fn):
    class Routes(RouteBuilder):
        def configure(self) -> None:
            fn(self)
    return Routes()


def file_uri(folder: Path, options: str = "") -> str:
    return f"file:{folder}?{FAST}" + (f"&{options}" if options else "")


def write(folder: Path, name: str, text: str = "x", mtime: float | None = None) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def files(folder: Path) -> list[str]:
    """Every file under ``folder`` as sorted relative paths (hidden ones included)."""
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def start(engine: Engine, uri: str, *, to: str = "mock:out", fn=None, route_id: str = "files",
          convert: bool = True, dlc: bool = False):
    def build(r):
        if dlc:
            r.error_handler(dead_letter_channel("mock:dead", redelivery_delay=0))
        route = r.from_(uri).route_id(route_id)
        if convert:
            route = route.convert_body_to(str)
        if fn is not None:
            route = route.process(fn)
        route.to(to)
    engine.add_routes(routes(build))


def consumer_of(engine: Engine, uri: str, recorder=None):
    """A consumer driven by ``run_once()`` without its thread; returns (consumer, recorded)."""
    recorded: list[Any] = []

    class Recorder:
        def process(self, exchange):
            recorded.append(exchange)
            if recorder is not None:
                recorder(exchange)
            exchange.unit_of_work.done(exchange)

    endpoint = engine.get_endpoint(uri)
    return endpoint.create_consumer(Recorder()), recorded


# -- the unit of work decides where the file goes ------------------------------------------------

def test_file_is_consumed_with_headers_and_moved_to_done_after_the_route(engine, tmp_path):
    inbox = tmp_path / "in"
    path = write(inbox, "order.txt", "hello")
    seen_during_route = []
    start(engine, file_uri(inbox), fn=lambda ex: seen_during_route.append(files(inbox)))
    notifier = Notifier(engine, done=1)
    mock = engine.get_endpoint("mock:out")
    mock.expected_bodies_received("hello")
    engine.start()
    mock.assert_is_satisfied(timeout=5)
    assert notifier.wait(5)
    assert seen_during_route == [["order.txt"]]  # still in the input folder while the route ran
    assert files(inbox) == [".done/order.txt"]
    headers = mock.received_exchanges[0].message.headers
    assert headers[c.FILE_NAME] == "order.txt"
    assert headers[c.FILE_NAME_ONLY] == "order.txt"
    assert headers[c.FILE_NAME_CONSUMED] == "order.txt"
    assert headers[c.FILE_RELATIVE_PATH] == "order.txt"
    assert headers[c.FILE_ABSOLUTE_PATH] == str(path)
    assert headers[c.FILE_PARENT] == str(inbox)
    assert headers[c.FILE_LENGTH] == 5
    assert headers[c.FILE_LAST_MODIFIED] == os.stat(inbox / ".done/order.txt").st_mtime_ns // 1_000_000
    props = mock.received_exchanges[0].properties
    assert (props[c.BATCH_INDEX], props[c.BATCH_SIZE], props[c.BATCH_COMPLETE]) == (0, 1, True)


def test_unhandled_failure_moves_the_file_to_error(engine, tmp_path):
    inbox = tmp_path / "in"
    write(inbox, "bad.txt", "boom")
    write(inbox, "good.txt", "fine")

    def fail_on_boom(ex):
        if ex.message.body == "boom":
            raise ValueError("cannot process boom")

    start(engine, file_uri(inbox), fn=fail_on_boom)
    notifier = Notifier(engine, done=2)
    engine.start()
    assert notifier.wait(5)
    assert notifier.failed_count == 1
    assert files(inbox) == [".done/good.txt", ".error/bad.txt"]


def test_failure_handled_by_the_dead_letter_channel_counts_as_done(engine, tmp_path):
    inbox = tmp_path / "in"
    write(inbox, "bad.txt", "boom")
    start(engine, file_uri(inbox), fn=lambda ex: 1 / 0, dlc=True)
    notifier = Notifier(engine, done=1)
    engine.start()
    assert notifier.wait(5)
    assert engine.get_endpoint("mock:dead").received_counter == 1
    assert files(inbox) == [".done/bad.txt"]


def test_empty_move_failed_leaves_the_file_to_be_retried(engine, tmp_path):
    inbox = tmp_path / "in"
    write(inbox, "flaky.txt", "data")
    attempts = []

    def fail_twice(ex):
        attempts.append(1)
        if len(attempts) <= 2:
            raise OSError("downstream unavailable")

    start(engine, file_uri(inbox, "move_failed="), fn=fail_twice)
    notifier = Notifier(engine, completed=1)
    engine.start()
    assert notifier.wait(5)
    assert len(attempts) == 3
    assert files(inbox) == [".done/flaky.txt"]


def test_move_and_move_failed_are_relative_to_the_input_folder_and_may_be_templates(engine, tmp_path):
    inbox = tmp_path / "in"
    write(inbox, "a.csv", "ok")
    write(inbox, "b.csv", "boom")

    def fail(ex):
        if ex.message.body == "boom":
            raise ValueError("bad")

    start(engine, file_uri(inbox, "move=archive/${file:onlyname.noext}.bak&move_failed=../rejected"), fn=fail)
    notifier = Notifier(engine, done=2)
    engine.start()
    assert notifier.wait(5)
    assert files(inbox) == ["archive/a.bak"]
    assert files(tmp_path / "rejected") == ["b.csv"]


def test_moves_never_overwrite_an_existing_file(engine, tmp_path):
    inbox = tmp_path / "in"
    write(inbox, ".done/report.tar.gz", "old")
    write(inbox, ".done/report-1.tar.gz", "older")
    write(inbox, "report.tar.gz", "new")
    start(engine, file_uri(inbox))
    notifier = Notifier(engine, done=1)
    engine.start()
    assert notifier.wait(5)
    assert (inbox / ".done/report.tar.gz").read_text() == "old"
    assert (inbox / ".done/report-1.tar.gz").read_text() == "older"
    assert (inbox / ".done/report-2.tar.gz").read_text() == "new"


def test_delete_removes_the_file_after_the_route(engine, tmp_path):
    inbox = tmp_path / "in"
    write(inbox, "a.txt", "gone")
    start(engine, file_uri(inbox, "delete=true"))
    notifier = Notifier(engine, done=1)
    engine.start()
    assert notifier.wait(5)
    assert files(inbox) == []


def test_body_kept_by_a_mock_follows_the_file_to_done(engine, tmp_path):
    inbox = tmp_path / "in"
    write(inbox, "a.txt", "still readable")
    start(engine, file_uri(inbox), convert=False)
    notifier = Notifier(engine, done=1)
    engine.start()
    assert notifier.wait(5)
    kept = engine.get_endpoint("mock:out").received_bodies[0]
    assert isinstance(kept, FileBody)
    assert kept.path == str(inbox / ".done/a.txt")
    assert kept.read_text() == "still readable"


def test_a_file_whose_exchange_is_still_running_is_not_picked_again(engine, tmp_path):
    inbox = tmp_path / "in"
    write(inbox, "a.txt", "once")
    releases = []

    def hold(ex):  # an asynchronous confirmation still pending, as a publisher confirm would be
        releases.append(ex.unit_of_work.hold())

    start(engine, file_uri(inbox), fn=hold)
    route_done = Notifier(engine, "files", done=1)
    engine.start()
    assert route_done.wait(5)
    consumer = engine.route("files").consumer
    polls = consumer.polls
    eventually(lambda: consumer.polls >= polls + 3)  # several polls see the file, none takes it
    assert engine.get_endpoint("mock:out").received_counter == 1
    assert files(inbox) == ["a.txt"]
    releases[0](None)
    assert files(inbox) == [".done/a.txt"]


# -- pre_move and crash recovery ----------------------------------------------------------------

def test_pre_move_holds_the_file_in_progress_during_the_route(engine, tmp_path):
    inbox = tmp_path / "in"
    write(inbox, "a.txt", "data")
    during = []

    def look(ex):
        during.append((files(inbox), ex.message.headers[c.FILE_ABSOLUTE_PATH]))

    start(engine, file_uri(inbox, "pre_move=.inprogress"), fn=look)
    notifier = Notifier(engine, done=1)
    engine.start()
    assert notifier.wait(5)
    assert during == [([".inprogress/a.txt"], str(inbox / ".inprogress/a.txt"))]
    assert files(inbox) == [".done/a.txt"]


def test_pre_move_failure_goes_to_error_and_without_move_failed_back_to_the_input(engine, tmp_path):
    inbox = tmp_path / "in"
    write(inbox, "a.txt", "data")
    attempts = []

    def fail_once(ex):
        attempts.append(files(inbox))
        if len(attempts) == 1:
            raise ValueError("first attempt fails")

    start(engine, file_uri(inbox, "pre_move=.inprogress&move_failed="), fn=fail_once)
    notifier = Notifier(engine, completed=1)
    engine.start()
    assert notifier.wait(5)
    assert attempts == [[".inprogress/a.txt"], [".inprogress/a.txt"]]
    assert files(inbox) == [".done/a.txt"]


def test_files_left_in_progress_by_a_crash_are_recovered_on_start(engine, tmp_path):
    inbox = tmp_path / "in"
    write(inbox, ".inprogress/orphan.txt", "from the crashed run")
    write(inbox, ".inprogress/sub/deep.txt", "nested")
    write(inbox, "orphan.txt", "a new file with the same name")
    start(engine, file_uri(inbox, "pre_move=.inprogress&recursive=true"))
    notifier = Notifier(engine, done=3)
    mock = engine.get_endpoint("mock:out")
    mock.expected_bodies_received_in_any_order("from the crashed run", "nested", "a new file with the same name")
    engine.start()
    mock.assert_is_satisfied(timeout=5)
    assert notifier.wait(5)
    assert files(inbox) == [".done/orphan-1.txt", ".done/orphan.txt", ".done/sub/deep.txt"]


# -- what a poll takes --------------------------------------------------------------------------

def test_recursive_consumes_subfolders_and_skips_hidden_and_move_folders(engine, tmp_path):
    inbox = tmp_path / "in"
    write(inbox, "top.txt", "top")
    write(inbox, "sub/deeper/leaf.txt", "leaf")
    write(inbox, ".hidden.txt", "never")
    write(inbox, ".secret/x.txt", "never")
    write(inbox, "done/old.txt", "never: the move folder")
    start(engine, file_uri(inbox, "recursive=true&move=done"))
    notifier = Notifier(engine, done=2)
    mock = engine.get_endpoint("mock:out")
    engine.start()
    assert notifier.wait(5)
    names = sorted(ex.message.headers[c.FILE_NAME] for ex in mock.received_exchanges)
    assert names == ["sub/deeper/leaf.txt", "top.txt"]
    leaf = next(ex for ex in mock.received_exchanges if ex.message.body == "leaf").message.headers
    assert leaf[c.FILE_NAME_ONLY] == "leaf.txt"
    assert leaf[c.FILE_PARENT] == str(inbox / "sub/deeper")
    assert "done/sub/deeper/leaf.txt" in files(inbox)
    assert "done/top.txt" in files(inbox)
    assert mock.received_counter == 2


def test_without_recursive_subfolders_are_ignored(engine, tmp_path):
    inbox = tmp_path / "in"
    write(inbox, "sub/a.txt")
    consumer, _recorded = consumer_of(engine, file_uri(inbox))
    assert consumer.run_once() == 0


def test_include_and_exclude_are_regexes_on_the_file_name_ignoring_case(engine, tmp_path):
    inbox = tmp_path / "in"
    for name in ("a.csv", "B.CSV", "c.txt", "skip_me.csv", "sub/d.csv"):
        write(inbox, name)
    consumer, recorded = consumer_of(engine, file_uri(inbox, r"include=.*\.csv&exclude=skip.*&recursive=true"))
    assert consumer.run_once() == 3
    assert sorted(ex.message.headers[c.FILE_NAME] for ex in recorded) == ["B.CSV", "a.csv", "sub/d.csv"]


def test_ant_include_and_exclude_are_globs_on_the_relative_path(engine, tmp_path):
    inbox = tmp_path / "in"
    for name in ("a.csv", "orders/b.csv", "orders/2024/c.csv", "orders/2024/d.txt", "other/e.csv"):
        write(inbox, name)
    uri = file_uri(inbox, "recursive=true&ant_include=orders/**/*.csv,*.csv&ant_exclude=**/2024/*")
    consumer, recorded = consumer_of(engine, uri)
    consumer.run_once()
    assert sorted(ex.message.headers[c.FILE_NAME] for ex in recorded) == ["a.csv", "orders/b.csv"]


def test_sort_by_and_max_messages_per_poll(engine, tmp_path):
    inbox = tmp_path / "in"
    now = time.time()
    write(inbox, "a.txt", "1", mtime=now - 10)
    write(inbox, "b.txt", "22", mtime=now - 30)
    write(inbox, "c.txt", "333", mtime=now - 20)
    consumer, recorded = consumer_of(engine, file_uri(inbox, "sort_by=file:modified&max_messages_per_poll=2"))
    assert consumer.run_once() == 2
    assert [ex.message.headers[c.FILE_NAME] for ex in recorded] == ["b.txt", "c.txt"]
    assert [ex.properties[c.BATCH_SIZE] for ex in recorded] == [2, 2]
    assert consumer.run_once() == 1
    assert files(inbox) == [".done/a.txt", ".done/b.txt", ".done/c.txt"]


def test_sort_by_reverse_and_several_groups(engine, tmp_path):
    inbox = tmp_path / "in"
    for name, text in (("a.txt", "xx"), ("b.txt", "x"), ("c.txt", "xx"), ("D.txt", "x")):
        write(inbox, name, text)
    consumer, recorded = consumer_of(engine, file_uri(inbox, "sort_by=reverse:file:length;ignoreCase:file:name"))
    consumer.run_once()
    assert [ex.message.headers[c.FILE_NAME] for ex in recorded] == ["a.txt", "c.txt", "b.txt", "D.txt"]


def test_default_order_is_by_name(engine, tmp_path):
    inbox = tmp_path / "in"
    for name in ("b.txt", "c.txt", "a.txt"):
        write(inbox, name)
    consumer, recorded = consumer_of(engine, file_uri(inbox))
    consumer.run_once()
    assert [ex.message.headers[c.FILE_NAME] for ex in recorded] == ["a.txt", "b.txt", "c.txt"]


def test_noop_leaves_files_and_consumes_each_version_once(engine, tmp_path):
    inbox = tmp_path / "in"
    path = write(inbox, "a.txt", "v1")
    texts = []
    consumer, _recorded = consumer_of(engine, file_uri(inbox, "noop=true"),
                                     recorder=lambda ex: texts.append(ex.message.body.read_text()))
    assert consumer.run_once() == 1
    assert consumer.run_once() == 0
    assert files(inbox) == ["a.txt"]
    path.write_text("version 2")  # another size and mtime: a new file for the idempotent check
    assert consumer.run_once() == 1
    assert texts == ["v1", "version 2"]


def test_noop_failure_is_retried(engine, tmp_path):
    inbox = tmp_path / "in"
    write(inbox, "a.txt", "v1")

    def fail(ex):
        ex.exception = ValueError("failed")

    consumer, _recorded = consumer_of(engine, file_uri(inbox, "noop=true"), recorder=fail)
    assert consumer.run_once() == 1
    assert consumer.run_once() == 1  # the key is recorded only on success
    assert files(inbox) == ["a.txt"]


def test_idempotent_skips_a_file_with_the_same_name_size_and_mtime(engine, tmp_path):
    inbox = tmp_path / "in"
    write(inbox, "a.txt", "same", mtime=1_700_000_000)
    consumer, _recorded = consumer_of(engine, file_uri(inbox, "idempotent=true"))
    assert consumer.run_once() == 1
    write(inbox, "a.txt", "same", mtime=1_700_000_000)  # dropped again, unchanged
    assert consumer.run_once() == 0
    assert files(inbox) == [".done/a.txt", "a.txt"]  # a skipped duplicate stays where it is
    write(inbox, "a.txt", "same", mtime=1_700_000_100)  # touched: consumed again
    assert consumer.run_once() == 1
    assert files(inbox) == [".done/a-1.txt", ".done/a.txt"]


# -- read locks ---------------------------------------------------------------------------------

def test_read_lock_changed_waits_until_the_file_stops_changing(engine, tmp_path):
    inbox = tmp_path / "in"
    consumer, recorded = consumer_of(engine, file_uri(inbox, "read_lock=changed&read_lock_check_interval=5s"))
    now = [100.0]
    consumer.clock = lambda: now[0]
    path = inbox / "big.txt"
    inbox.mkdir()
    with open(path, "w") as f:
        f.write("first half,")
        f.flush()
        assert consumer.run_once() == 0  # first sight
        now[0] += 10
        f.write("second half")
        f.flush()
        os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000))
        assert consumer.run_once() == 0  # changed since
        now[0] += 4
        assert consumer.run_once() == 0  # unchanged, but not for 5 s yet
    now[0] += 1
    assert consumer.run_once() == 1
    assert recorded[0].message.body.read_text() == "first half,second half"


def test_read_lock_changed_skips_empty_files_and_honours_min_age(engine, tmp_path):
    inbox = tmp_path / "in"
    write(inbox, "empty.txt", "")
    write(inbox, "old.txt", "old", mtime=time.time() - 120)
    write(inbox, "fresh.txt", "fresh")
    consumer, recorded = consumer_of(engine, file_uri(inbox, "read_lock=changed&read_lock_min_age=1m"))
    assert consumer.run_once() == 1
    assert recorded[0].message.headers[c.FILE_NAME] == "old.txt"


def test_read_lock_changed_never_reads_a_file_half_written(engine, tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    chunks = [f"chunk {i:02d}\n" for i in range(8)]
    start(engine, file_uri(inbox, "read_lock=changed&read_lock_check_interval=0.4"))
    mock = engine.get_endpoint("mock:out")
    mock.expected_bodies_received("".join(chunks))
    engine.start()
    written = threading.Event()

    def writer():
        with open(inbox / "slow.txt", "w") as f:
            for chunk in chunks:
                f.write(chunk)
                f.flush()
                time.sleep(0.03)
        written.set()

    thread = threading.Thread(target=writer)
    thread.start()
    thread.join(5)
    assert written.is_set()
    mock.assert_is_satisfied(timeout=5)


def test_read_lock_rename_consumes_and_recovers_a_lock_left_by_a_crash(engine, tmp_path):
    inbox = tmp_path / "in"
    write(inbox, "a.txt", "a")
    write(inbox, ".b.txt.eiplock", "b")  # a crash between the probe's two renames
    start(engine, file_uri(inbox, "read_lock=rename"))
    notifier = Notifier(engine, done=2)
    mock = engine.get_endpoint("mock:out")
    mock.expected_bodies_received("a", "b")
    engine.start()
    mock.assert_is_satisfied(timeout=5)
    assert notifier.wait(5)
    assert files(inbox) == [".done/a.txt", ".done/b.txt"]


# -- done files ---------------------------------------------------------------------------------

def test_done_file_name_waits_for_the_marker_and_deletes_it_afterwards(engine, tmp_path):
    inbox = tmp_path / "in"
    write(inbox, "a.csv", "a")
    write(inbox, "b.csv", "b")
    write(inbox, "b.csv.done", "")
    consumer, recorded = consumer_of(engine, file_uri(inbox, "done_file_name=${file:name}.done"))
    assert consumer.run_once() == 1
    assert [ex.message.headers[c.FILE_NAME] for ex in recorded] == ["b.csv"]
    assert files(inbox) == [".done/b.csv", "a.csv"]  # b's marker deleted, never consumed itself
    write(inbox, "a.csv.done", "")
    assert consumer.run_once() == 1
    assert files(inbox) == [".done/a.csv", ".done/b.csv"]


def test_done_file_name_without_extension_and_fixed_name(engine, tmp_path):
    inbox = tmp_path / "in"
    write(inbox, "data.csv", "d")
    write(inbox, "data.ready", "")
    consumer, _recorded = consumer_of(engine, file_uri(inbox, "done_file_name=${file:name.noext}.ready"))
    assert consumer.run_once() == 1
    assert files(inbox) == [".done/data.csv"]

    other = tmp_path / "other"
    write(other, "x.csv")
    consumer, _recorded = consumer_of(engine, file_uri(other, "done_file_name=READY"))
    assert consumer.run_once() == 0
    write(other, "READY", "")
    assert consumer.run_once() == 1
    assert files(other) == [".done/x.csv"]


# -- charset and bad input ----------------------------------------------------------------------

def test_charset_decodes_the_body(engine, tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "latin.txt").write_bytes("café crème".encode("iso-8859-1"))
    start(engine, file_uri(inbox, "charset=iso-8859-1"))
    mock = engine.get_endpoint("mock:out")
    mock.expected_bodies_received("café crème")
    engine.start()
    mock.assert_is_satisfied(timeout=5)


def test_a_charset_decode_error_names_endpoint_and_file_and_moves_it_to_error(engine, tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "latin.txt").write_bytes("line one\ncafé\n".encode("iso-8859-1"))
    start(engine, file_uri(inbox), dlc=False)
    notifier = Notifier(engine, failed=1)
    failures = []
    engine.add_listener(lambda route_id, ex: failures.append(ex.exception))
    engine.start()
    assert notifier.wait(5)
    error = failures[0]
    assert isinstance(error, FileOperationError)
    assert str(error).startswith(f"file:{inbox}")
    assert str(inbox / "latin.txt") in str(error) and "utf-8" in str(error) and "0xe9" in str(error)
    assert "line 2" in str(error)
    assert files(inbox) == [".error/latin.txt"]


def test_an_unreadable_file_fails_with_a_clear_error_and_goes_to_error(engine, tmp_path, monkeypatch):
    inbox = tmp_path / "in"
    target = write(inbox, "secret.txt", "s")
    real_open = open

    def guarded_open(path, *args, **kwargs):  # what a file without read permission does
        if os.fspath(path) == str(target):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(eip.file_body, "open", guarded_open, raising=False)
    start(engine, file_uri(inbox))
    errors = []
    engine.add_listener(lambda route_id, ex: errors.append(ex.exception))
    notifier = Notifier(engine, failed=1)
    engine.start()
    assert notifier.wait(5)
    message = str(errors[0])
    assert "cannot read file" in message and str(target) in message and "Permission denied" in message
    assert files(inbox) == [".error/secret.txt"]


def test_a_missing_input_folder_is_created(engine, tmp_path):
    inbox = tmp_path / "does" / "not" / "exist"
    start(engine, file_uri(inbox))
    engine.start()
    assert inbox.is_dir()


def test_a_missing_input_folder_without_auto_create_is_a_clear_poll_error(engine, tmp_path):
    inbox = tmp_path / "missing"
    consumer, _ = consumer_of(engine, file_uri(inbox, "auto_create=false"))
    assert consumer.run_once() == 0
    assert isinstance(consumer.last_error, FileOperationError)
    assert "does not exist (auto_create=false)" in str(consumer.last_error)
    assert f"file:{inbox}" in str(consumer.last_error)
    assert not inbox.exists()
    inbox.mkdir()
    write(inbox, "a.txt")
    assert consumer.run_once() == 1
    assert consumer.last_error is None


def test_streaming_split_of_a_file_body_through_a_route(engine, tmp_path):
    inbox = tmp_path / "in"
    write(inbox, "lines.txt", "".join(f"line {i}\r\n" for i in range(500)) + "\n\nlast")

    def build(r):
        (r.from_(file_uri(inbox)).route_id("split")
         .split(body().tokenize("\n"), streaming=True).to("mock:line").end()
         .to("mock:whole"))

    engine.add_routes(routes(build))
    notifier = Notifier(engine, done=1)
    lines = engine.get_endpoint("mock:line")
    lines.expected_message_count(501)
    engine.start()
    lines.assert_is_satisfied(timeout=5)
    assert notifier.wait(5)
    assert lines.received_bodies[0] == "line 0" and lines.received_bodies[-1] == "last"
    assert files(inbox) == [".done/lines.txt"]


def test_xpath_choice_and_jsonpath_filter_read_the_lazy_file_body(engine, tmp_path):
    orders, events = tmp_path / "orders", tmp_path / "events"
    write(orders, "a.xml", "<order><country>UK</country></order>")
    write(orders, "b.xml", "<order><country>FR</country></order>")
    write(events, "big.json", '{"amount": 250}')
    write(events, "small.json", '{"amount": 3}')

    def build(r):
        (r.from_(file_uri(orders)).route_id("orders")
            .choice()
                .when(xpath("/order/country = 'UK'")).to("mock:uk")
                .otherwise().to("mock:other")
            .end())
        r.from_(file_uri(events)).route_id("events").filter(jsonpath("$.amount") > 100).to("mock:big").end()
    engine.add_routes(routes(build))
    notifier = Notifier(engine, done=4)
    engine.start()
    assert notifier.wait(5)
    assert notifier.failed_count == 0
    names = {uri: [ex.message.headers[c.FILE_NAME] for ex in engine.get_endpoint(uri).received_exchanges]
             for uri in ("mock:uk", "mock:other", "mock:big")}
    assert names == {"mock:uk": ["a.xml"], "mock:other": ["b.xml"], "mock:big": ["big.json"]}
    assert files(orders) == [".done/a.xml", ".done/b.xml"]
    assert files(events) == [".done/big.json", ".done/small.json"]


def test_stopping_the_route_leaves_unprocessed_files_in_place(engine, tmp_path):
    inbox = tmp_path / "in"
    for i in range(5):
        write(inbox, f"f{i}.txt", str(i))
    gate = threading.Event()
    entered = threading.Event()

    def slow(ex):
        entered.set()
        gate.wait(5)

    start(engine, file_uri(inbox), fn=slow)
    engine.start()
    assert entered.wait(5)
    stopper = threading.Thread(target=engine.stop_route, args=("files",))
    stopper.start()
    gate.set()
    stopper.join(5)
    assert files(inbox) == [".done/f0.txt", "f1.txt", "f2.txt", "f3.txt", "f4.txt"]


# -- options ------------------------------------------------------------------------------------

@pytest.mark.parametrize("options, message", [
    ("noop=true&delete=true", "contradict"),
    ("noop=true&pre_move=.work", "noop=true leaves files"),
    ("delete=true&move=x", "exclusive"),
    ("include=(unclosed", "regular expressions"),
    ("sort_by=file:colour", "unknown sort key"),
    ("pre_move=.work/${file:name}", "pre_move must be a folder"),
    ("done_file_name=sub/${file:name}.done", "same folder"),
    ("done_file_name=${header.x}.done", "supports only"),
    ("move=.done/${file:nope}", "unknown token"),
    ("read_lock=sometimes", "none, changed, rename"),
    ("read_lock_min_age=-1", "must not be negative"),
    ("delay=soon", "duration"),
    ("recursiv=true", "did you mean 'recursive'"),
])
def test_bad_options_are_rejected_naming_the_endpoint(engine, tmp_path, options, message):
    with pytest.raises(EndpointOptionError) as info:
        engine.get_endpoint(f"file:{tmp_path}?{options}")
    assert message in str(info.value)
    assert "file:" in str(info.value)


def test_durations_accept_unit_suffixes(engine, tmp_path):
    endpoint = engine.get_endpoint(f"file:{tmp_path}?delay=250ms&initial_delay=2s&read_lock_check_interval=1m")
    assert (endpoint.values["delay"], endpoint.values["initial_delay"]) == (0.25, 2.0)
    assert endpoint.values["read_lock_check_interval"] == 60.0


def test_camel_style_double_slash_paths(engine, tmp_path):
    assert engine.get_endpoint(f"file://{tmp_path}/a").folder == str(tmp_path / "a")
    assert engine.get_endpoint("file://relative/box").folder == os.path.abspath("relative/box")


def test_eip_doc_file_prints_every_option():
    from components.file import FileComponent, FileEndpoint

    text = FileComponent.documentation()
    for option in FileEndpoint.options.options:
        assert option.name in text
    assert "regex" in text and "glob" in text

"""file producer: names from templates and headers, unsafe names, file_exist, atomic writes,
charset, body types, streaming copies, and file-to-file routes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from eip import RouteBuilder
from eip import constants as c
from eip.errors import FileOperationError, UnsafeFileNameError
from eip.file_body import FileBody
from eip.testing import Notifier


def routes(fn):
    class Routes(RouteBuilder):
        def configure(self) -> None:
            fn(self)
    return Routes()


def files(folder: Path) -> list[str]:
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def send(engine):
    """``send(uri, body, **headers)`` through a ``direct:`` route to ``uri``; returns the exchange."""
    started = {}

    def send(uri, body, **headers):
        if uri not in started:
            name = f"direct:w{len(started)}"
            engine.add_routes(routes(lambda r: r.from_(name).to(uri)))
            started[uri] = name
            if not engine.is_started:
                engine.start()
        return engine.template.request_body(started[uri], body, headers=headers)

    return send


def test_file_name_template_from_a_header_and_dict_bodies_as_json(send, tmp_path):
    out = tmp_path / "out"
    send(f"file:{out}?file_name=${{header.order_id}}.json", {"id": 7, "name": "Zoë"}, order_id=7)
    assert files(out) == ["7.json"]
    assert json.loads((out / "7.json").read_text("utf-8")) == {"id": 7, "name": "Zoë"}


def test_name_defaults_to_the_file_name_header_then_the_message_id(engine, tmp_path):
    out = tmp_path / "out"
    engine.add_routes(routes(lambda r: r.from_("direct:in").to(f"file:{out}").to("mock:sent")))
    engine.start()
    engine.template.send_body("direct:in", b"\x00\x01binary", headers={c.FILE_NAME: "sub/dir/a.bin"})
    engine.template.send_body("direct:in", "no name")
    assert (out / "sub/dir/a.bin").read_bytes() == b"\x00\x01binary"
    sent = engine.get_endpoint("mock:sent").received_exchanges
    assert sent[0].message.headers[c.FILE_NAME_PRODUCED] == str(out / "sub/dir/a.bin")
    generated = Path(sent[1].message.headers[c.FILE_NAME_PRODUCED])
    assert generated.parent == out and generated.name == sent[1].message.message_id
    assert generated.read_text() == "no name"


def test_the_template_wins_over_the_header_and_may_use_file_tokens(send, tmp_path):
    out = tmp_path / "out"
    send(f"file:{out}?file_name=${{file:onlyname.noext}}-${{header.batch}}.csv", "x",
         CamelFileName="in/report.txt", batch="b1")
    assert files(out) == ["report-b1.csv"]


def test_a_missing_template_value_is_an_error_not_an_empty_name(send, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(FileOperationError) as info:
        send(f"file:{out}?file_name=${{header.order_id}}.json", "x")
    assert "${header.order_id} has no value" in str(info.value)
    assert f"file:{out}" in str(info.value)
    assert files(out) == []


@pytest.mark.parametrize("name", [
    "../escape.txt", "sub/../../escape.txt", "/etc/passwd", "..\\escape.txt", "a\x00b.txt", "", "sub/",
    "C:/windows/x",
])
def test_a_name_that_would_escape_the_folder_is_rejected(send, tmp_path, name):
    out = tmp_path / "out"
    with pytest.raises(UnsafeFileNameError) as info:
        send(f"file:{out}", "payload", CamelFileName=name)
    message = str(info.value)
    assert f"file:{out}" in message and repr(name) in message and "header CamelFileName" in message
    assert files(tmp_path) == []


def test_an_unsafe_name_from_a_template_is_rejected_too(send, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(UnsafeFileNameError) as info:
        send(f"file:{out}?file_name=${{header.id}}.json", "x", id="../../etc/cron")
    assert "file_name template" in str(info.value)


@pytest.mark.parametrize("mode, expected", [
    ("override", "new"), ("append", "oldnew"), ("ignore", "old"),
])
def test_file_exist(send, tmp_path, mode, expected):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.txt").write_text("old")
    send(f"file:{out}?file_exist={mode}", "new", CamelFileName="a.txt")
    assert (out / "a.txt").read_text() == expected
    assert files(out) == ["a.txt"]  # no temporary file left behind


def test_file_exist_fail_raises_naming_the_file(send, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.txt").write_text("old")
    with pytest.raises(FileOperationError) as info:
        send(f"file:{out}?file_exist=fail", "new", CamelFileName="a.txt")
    assert "already exists (file_exist=fail)" in str(info.value) and str(out / "a.txt") in str(info.value)
    assert (out / "a.txt").read_text() == "old"
    send(f"file:{out}?file_exist=fail", "first", CamelFileName="b.txt")
    assert (out / "b.txt").read_text() == "first"


def test_writes_are_atomic_a_failed_write_leaves_nothing(send, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.txt").write_text("previous")

    class Exploding:
        def read(self, size=-1):
            raise OSError(5, "Input/output error")

    with pytest.raises(FileOperationError) as info:
        send(f"file:{out}", Exploding(), CamelFileName="a.txt")
    assert "cannot write file" in str(info.value)
    assert (out / "a.txt").read_text() == "previous"
    assert files(out) == ["a.txt"]


def test_the_write_goes_through_a_hidden_temporary_name_then_a_rename(send, tmp_path, monkeypatch):
    out = tmp_path / "out"
    renames = []
    real_replace = os.replace

    def spy(source, target, **dir_fds):
        renames.append((os.path.basename(source), os.path.basename(target), (out / target).exists()))
        return real_replace(source, target, **dir_fds)

    monkeypatch.setattr(os, "replace", spy)
    send(f"file:{out}", "content", CamelFileName="a.txt")
    [(temp, final, existed)] = renames
    assert temp.startswith(".a.txt.") and temp.endswith(".part") and final == "a.txt" and not existed


def test_charset_encodes_text_bodies(send, tmp_path):
    out = tmp_path / "out"
    send(f"file:{out}?charset=iso-8859-1", "café", CamelFileName="a.txt")
    assert (out / "a.txt").read_bytes() == "café".encode("iso-8859-1")


def test_none_bodies_fail_unless_allowed(send, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(FileOperationError, match="allow_null_body"):
        send(f"file:{out}", None, CamelFileName="a.txt")
    send(f"file:{out}?allow_null_body=true", None, CamelFileName="b.txt")
    assert files(out) == ["b.txt"] and (out / "b.txt").read_bytes() == b""


def test_an_unknown_body_type_is_a_clear_error(send, tmp_path):
    with pytest.raises(FileOperationError, match="cannot write a body of type object"):
        send(f"file:{tmp_path / 'out'}", object(), CamelFileName="a.txt")


def test_mkdirs_false_needs_the_folder(send, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(FileOperationError, match=r"does not exist \(mkdirs=false\)"):
        send(f"file:{out}?mkdirs=false", "x", CamelFileName="a.txt")
    out.mkdir()
    send(f"file:{out}?mkdirs=false", "x", CamelFileName="a.txt")
    assert files(out) == ["a.txt"]


def test_a_file_body_is_streamed_never_read_whole(send, tmp_path, monkeypatch):
    source = tmp_path / "big.bin"
    payload = os.urandom(3 * (1 << 20) + 17)
    source.write_bytes(payload)

    def forbidden(self, *args):
        raise AssertionError("the producer read the whole file into memory")

    monkeypatch.setattr(FileBody, "read_bytes", forbidden)
    monkeypatch.setattr(FileBody, "read_text", forbidden)
    out = tmp_path / "out"
    send(f"file:{out}", FileBody(source), CamelFileName="copy.bin")
    assert (out / "copy.bin").read_bytes() == payload


def test_file_to_file_route_keeps_subfolders(engine, tmp_path):
    inbox, out = tmp_path / "in", tmp_path / "out"
    for name in ("a.txt", "x/y/b.txt"):
        (inbox / name).parent.mkdir(parents=True, exist_ok=True)
        (inbox / name).write_text(f"content of {name}")
    engine.add_routes(routes(lambda r: r.from_(f"file:{inbox}?initial_delay=0&delay=0.02&recursive=true")
                             .to(f"file:{out}")))
    notifier = Notifier(engine, done=2)
    engine.start()
    assert notifier.wait(5)
    assert files(out) == ["a.txt", "x/y/b.txt"]
    assert (out / "x/y/b.txt").read_text() == "content of x/y/b.txt"
    assert files(inbox) == [".done/a.txt", ".done/x/y/b.txt"]


def test_a_failed_write_fails_the_exchange_and_the_source_file_goes_to_error(engine, tmp_path):
    inbox, out = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    out.mkdir()
    (inbox / "a.txt").write_text("new")
    (out / "a.txt").write_text("existing")
    engine.add_routes(routes(lambda r: r.from_(f"file:{inbox}?initial_delay=0&delay=0.02")
                             .to(f"file:{out}?file_exist=fail")))
    notifier = Notifier(engine, failed=1)
    engine.start()
    assert notifier.wait(5)
    assert files(inbox) == [".error/a.txt"]
    assert (out / "a.txt").read_text() == "existing"


def test_two_uris_on_one_folder_with_different_options_are_two_endpoints(engine, tmp_path):
    from eip import RouteBuilder

    class Routes(RouteBuilder):
        def configure(self):
            (self.from_("direct:in")
                .to(f"file:{tmp_path}")
                .to(f"file:{tmp_path}?file_name=copy.txt"))

    engine.add_routes(Routes())
    engine.start()
    engine.template.send_body("direct:in", "hello", headers={"CamelFileName": "original.txt"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.txt", "original.txt"]
    assert engine.get_endpoint(f"file:{tmp_path}") is not engine.get_endpoint(f"file:{tmp_path}?file_name=copy.txt")

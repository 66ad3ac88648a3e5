"""FileBody (eip/file_body.py): lazy conversion, streaming tokens like str tokenize, errors."""

from __future__ import annotations

import os

import pytest

from eip import body
from eip.errors import FileOperationError
from eip.exchange import Exchange
from eip.expressions import convert
from eip.file_body import FileBody


def make(tmp_path, data: bytes | str, name: str = "f.txt", **kwargs) -> FileBody:
    path = tmp_path / name
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return FileBody(path, **kwargs)


def test_converts_to_bytes_and_text_on_demand(tmp_path):
    fb = make(tmp_path, "héllo")
    assert fb.read_bytes() == "héllo".encode()
    assert fb.read_text() == "héllo"
    assert convert(fb, str) == "héllo"
    assert convert(fb, bytes) == "héllo".encode()
    assert fb.size == 6 and fb.name == "f.txt" and os.fspath(fb) == str(tmp_path / "f.txt")


def test_charset_is_used_for_text(tmp_path):
    fb = make(tmp_path, "café".encode("cp1252"), charset="cp1252")
    assert fb.read_text() == "café"
    assert list(fb) == ["café"]


SAMPLES = [
    "a\nb\nc", "a\nb\n", "a\r\nb\r\n", "\n\na\n\n\nb", "", "single", "x\r\r\ny", "mid\rline\n",
    "ünï\ncødé\n",
]


@pytest.mark.parametrize("text", SAMPLES)
@pytest.mark.parametrize("separator", ["\n", ",", "--"])
def test_tokens_match_tokenize_on_the_same_text(tmp_path, text, separator):
    text = text.replace("\n", separator) if separator != "\n" else text
    fb = make(tmp_path, text)
    expected = list(body().tokenize(separator)(Exchange(text)))
    assert list(body().tokenize(separator)(Exchange(fb))) == expected
    assert list(fb.iter_tokens(separator)) == expected


def test_multi_character_separators_across_read_chunks(tmp_path):
    tokens = [f"token-{i}-" + "x" * (i % 97) for i in range(6000)]  # well over one 64 KiB chunk
    fb = make(tmp_path, "<|>".join(tokens))
    assert list(fb.iter_tokens("<|>")) == tokens


def test_grouped_tokenize_over_a_file(tmp_path):
    fb = make(tmp_path, "".join(f"{i}\n" for i in range(7)))
    assert list(body().tokenize("\n", 3)(Exchange(fb))) == ["0\n1\n2", "3\n4\n5", "6"]


def test_fixed_length_records_and_chunks(tmp_path):
    fb = make(tmp_path, b"AAAABBBBCC")
    assert list(fb.iter_records(4)) == [b"AAAA", b"BBBB", b"CC"]
    assert b"".join(fb.iter_chunks(3)) == b"AAAABBBBCC"
    with pytest.raises(ValueError):
        list(fb.iter_records(0))


def test_closing_the_token_stream_closes_the_file(tmp_path):
    fb = make(tmp_path, "a\nb\nc\n")
    before = len(os.listdir("/proc/self/fd"))
    tokens = fb.iter_tokens("\n")
    assert next(tokens) == "a"
    assert len(os.listdir("/proc/self/fd")) == before + 1
    tokens.close()
    assert len(os.listdir("/proc/self/fd")) == before


def test_decode_errors_name_the_file_endpoint_and_byte(tmp_path):
    fb = make(tmp_path, b"ok\nbad \xff here\n", endpoint_uri="file:inbox")
    with pytest.raises(FileOperationError) as info:
        fb.read_text()
    message = str(info.value)
    assert message.startswith("file:inbox: cannot decode file")
    assert str(tmp_path / "f.txt") in message and "0xff" in message and "line 2" in message
    assert info.value.path == str(tmp_path / "f.txt")
    with pytest.raises(FileOperationError, match="cannot decode file"):
        list(fb.iter_tokens("\n"))
    with pytest.raises(FileOperationError, match="cannot decode file"):
        list(fb.iter_tokens(","))


def test_unknown_charset_is_a_clear_error(tmp_path):
    fb = make(tmp_path, "x", charset="klingon")
    with pytest.raises(FileOperationError, match="unknown charset 'klingon'"):
        fb.read_text()
    with pytest.raises(FileOperationError, match="unknown charset 'klingon'"):
        list(fb)


def test_a_missing_file_is_a_clear_error(tmp_path):
    fb = FileBody(tmp_path / "gone.txt", endpoint_uri="file:x")
    for action in (fb.read_bytes, fb.read_text, lambda: list(fb), lambda: fb.size):
        with pytest.raises(FileOperationError, match="gone.txt"):
            action()


def test_relocate_follows_a_moved_file(tmp_path):
    fb = make(tmp_path, "moving")
    target = tmp_path / "moved.txt"
    os.rename(fb.path, target)
    fb.relocate(target)
    assert fb.read_text() == "moving" and fb.path == str(target)


def test_open_is_read_only(tmp_path):
    fb = make(tmp_path, "x")
    with fb.open() as f:
        assert f.read() == b"x"
    with fb.open("r") as f:
        assert f.read() == "x"
    with pytest.raises(ValueError):
        fb.open("wb")


# -- every expression reads a FileBody as convert_body_to does ------------------------------------

def test_xpath_and_jsonpath_read_a_file_body(tmp_path):
    from eip import jsonpath, xpath

    xml_body = make(tmp_path, b'<?xml version="1.0" encoding="ISO-8859-1"?><order><c>\xe9</c></order>', "o.xml")
    assert xpath("/order/c/text()")(Exchange(xml_body)) == "é"  # the document's own encoding
    assert xpath("/order/c = 'é'")(Exchange(xml_body)) is True
    json_body = make(tmp_path, '{"country": "UK", "lines": [1, 2]}', "o.json")
    assert jsonpath("$.country")(Exchange(json_body)) == "UK"
    assert jsonpath("$.lines[*]")(Exchange(json_body)) == [1, 2]


def test_text_predicates_read_a_file_body_not_its_lines_or_repr(tmp_path):
    fb = make(tmp_path, "first line\nsecond line\n")
    e = Exchange(fb)
    assert body().contains("line\nsecond")(e)  # a substring, not one of the lines
    assert not body().contains("third")(e)
    assert body().startswith("first")(e) and body().endswith("line\n")(e)
    assert body().regex(r"second\s+line")(e)
    assert (body() == "first line\nsecond line\n")(e) and not (body() != "first line\nsecond line\n")(e)
    assert body().is_in("first line\nsecond line\n", "x")(e)
    assert list(body().tokenize("\n")(e)) == ["first line", "second line"]


def test_simple_reads_a_file_body(tmp_path):
    from eip import simple

    e = Exchange(make(tmp_path, "UK"))
    assert simple("country=${body}")(e) == "country=UK"
    assert simple("${body} == 'UK'")(e) is True
    assert simple("${body} contains 'K'")(e) is True
    assert simple("${body} regex 'U.'")(e) is True
    assert simple("${body} in 'UK,FR'")(e) is True


def test_log_of_the_body_shows_a_file_body_as_its_text(engine, tmp_path, caplog):
    import logging

    from eip import RouteBuilder

    class Routes(RouteBuilder):
        def configure(self) -> None:
            self.from_("direct:in").log("${body}", logger_name="t.file_body").to("mock:out")

    engine.add_routes(Routes())
    engine.start()
    with caplog.at_level(logging.INFO, logger="t.file_body"):
        engine.template.send_body("direct:in", make(tmp_path, "<order/>"))
    assert [r.getMessage() for r in caplog.records if r.name == "t.file_body"] == ["<order/>"]

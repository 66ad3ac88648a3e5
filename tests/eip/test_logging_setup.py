"""Log formats, secret masking and progress lines of ``eip run`` (``eip/logging_setup.py``)."""

from __future__ import annotations

import io
import json
import logging

import pytest

from eip import Engine, RouteBuilder
from eip.logging_setup import (
    ProgressReporter,
    SecretMasker,
    configure_logging,
    is_terminal,
    resolve_format,
)
from eip.secrets import MASK
from eip.testing import eventually


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def restore_logging():
    root, pika = logging.getLogger(), logging.getLogger("pika")
    handlers, level, pika_level = root.handlers[:], root.level, pika.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    pika.setLevel(pika_level)


def lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_auto_is_text_on_a_terminal_and_logfmt_otherwise():
    assert resolve_format("auto", Terminal()) == "text"
    assert resolve_format("auto", io.StringIO()) == "logfmt"
    assert resolve_format("JSON", Terminal()) == "json"
    assert is_terminal(Terminal()) and not is_terminal(io.StringIO()) and not is_terminal(object())
    with pytest.raises(ValueError, match="log format must be one of auto, text, logfmt, json"):
        resolve_format("xml", io.StringIO())


def test_logfmt_is_one_line_per_record_with_quoted_values_and_extra_fields():
    out = io.StringIO()
    configure_logging("INFO", "auto", stream=out)
    log = logging.getLogger("eip.test")
    log.info("route '%s' started", "orders", extra={"route": "orders", "count": 3})
    log.info('say "hi"\nbye')
    log.debug("not shown")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed")
    first, second, third = lines(out)
    assert first.startswith("time=") and first.endswith('msg="route \'orders\' started"')
    assert " level=info logger=eip.test route=orders count=3 " in first
    assert second.endswith('msg="say \\"hi\\"\\nbye"')
    assert 'msg=failed error="Traceback (most recent call last):\\n' in third
    assert 'ValueError: boom"' in third


def test_json_lines_parse_and_carry_the_same_fields():
    out = io.StringIO()
    configure_logging("DEBUG", "json", stream=out)
    logging.getLogger("eip.test").warning("careful %d", 2, extra={"route": "r1"})
    [record] = [json.loads(line) for line in lines(out)]
    assert record["level"] == "warning" and record["logger"] == "eip.test"
    assert record["msg"] == "careful 2" and record["route"] == "r1"
    assert record["time"].endswith("Z")


def test_text_is_for_people_on_a_terminal():
    out = Terminal()
    configure_logging("INFO", "auto", stream=out)
    logging.getLogger("eip.cli").info("stopped")
    [line] = lines(out)
    assert line.endswith(" INFO    eip.cli: stopped") and line[2] == ":"


@pytest.mark.parametrize("fmt", ["text", "logfmt", "json"])
def test_secrets_are_masked_in_every_format_including_tracebacks(fmt):
    out = io.StringIO()
    configure_logging("INFO", fmt, stream=out, secrets={"s3cret-pw", 'we"ird\\pw', "abc"})
    log = logging.getLogger("eip.test")
    log.info("connecting with s3cret-pw and we\"ird\\pw", extra={"url": "amqp://u:s3cret-pw@h/"})
    log.info("sending to amqp://guest:guest-pw@rabbit:5672/ and sql:select?password=hunter2&x=1")
    try:
        raise ConnectionError("login refused for s3cret-pw")
    except ConnectionError:
        log.exception("failed")
    text = out.getvalue()
    for secret in ("s3cret-pw", "we\"ird", "ird\\pw", "guest-pw", "hunter2"):
        assert secret not in text
    assert MASK in text and "x=1" in text


def test_the_masker_leaves_innocent_text_alone():
    mask = SecretMasker({"abc", "long-secret"})
    assert mask("abc is short; long-secret is not") == f"abc is short; {MASK} is not"
    assert mask("?password=x&user=y see http://h/a?b=c") == f"?password={MASK}&user=y see http://h/a?b=c"
    assert mask("user@example.org wrote a=b") == "user@example.org wrote a=b"


# -- progress --------------------------------------------------------------------------------------
class FakeEngine:
    def __init__(self) -> None:
        self.stats: dict[str, dict[str, int]] = {}

    def set(self, route_id: str, total: int, failed: int = 0, inflight: int = 0) -> None:
        self.stats[route_id] = {"exchanges_total": total, "exchanges_failed": failed,
                                "exchanges_in_flight": inflight}

    def route_ids(self) -> list[str]:
        return list(self.stats)

    def route_stats(self, route_id: str) -> dict[str, int]:
        return self.stats[route_id]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def reporter(engine: FakeEngine, clock: Clock, emitted: list[str], **kwargs) -> ProgressReporter:
    progress = ProgressReporter(engine, interval=3600, emit=emitted.append, clock=clock, **kwargs)
    progress.start()  # the thread sleeps for an hour: the test drives tick()
    return progress


def test_progress_lines_give_counts_rates_failures_and_in_flight_busiest_first():
    engine, clock, emitted = FakeEngine(), Clock(), []
    engine.set("files", 0)
    engine.set("lines", 100)
    progress = reporter(engine, clock, emitted)
    try:
        clock.now += 2.0
        engine.set("files", 1, inflight=1)
        engine.set("lines", 2_600, failed=3)
        assert progress.tick() == "lines 2,600 done (1,250/s), 3 failed | files 1 done (0/s), 1 in flight"
        clock.now += 1.0
        assert progress.tick() == "files 1 done (0/s), 1 in flight"  # only in flight: said once
        clock.now += 1.0
        assert progress.tick() is None
        engine.set("files", 1)
        assert progress.tick() is None  # idle engine: silence
    finally:
        progress.stop()
    assert emitted == ["files: 1 exchange(s) in 4.0 s (0/s), 0 failed",
                       "lines: 2,500 exchange(s) in 4.0 s (625/s), 3 failed"]


def test_progress_shows_at_most_max_routes():
    engine, clock, emitted = FakeEngine(), Clock(), []
    for name in "abcdef":
        engine.set(name, 0)
    progress = reporter(engine, clock, emitted, max_routes=2)
    try:
        clock.now += 1.0
        for count, name in enumerate("abcdef", 1):
            engine.set(name, count * 10)
        assert progress.tick() == "f 60 done (60/s) | e 50 done (50/s) | +4 more route(s)"
    finally:
        progress.stop()


def test_progress_reporter_runs_as_an_engine_service(engine):
    emitted: list[str] = []
    engine.add_routes(lambda b: b.from_("direct:in").route_id("in").to("mock:out"))
    progress = engine.add_service(ProgressReporter(engine, interval=0.05, emit=emitted.append))
    engine.start()
    for n in range(5):
        engine.template.send_body("direct:in", n)
    mock = engine.get_endpoint("mock:out")
    mock.expected_message_count(5)
    mock.assert_is_satisfied(timeout=5)
    eventually(lambda: any(line.startswith("in 5 done") for line in emitted), what="the 'in 5 done' progress line")
    engine.stop()
    assert emitted[-1].startswith("in: 5 exchange(s) in ")
    assert progress._thread is None


# -- control characters (issue 9, item 8) ----------------------------------------------------------
HOSTILE = "evil\x1b[2J\x00nul\r\nfake line\u2028sep\x85next\x7fdel\x9bcsi\ttab"


class LogsAHeader(RouteBuilder):
    def configure(self) -> None:
        (self.from_("direct:in").route_id("audit")
            .log("user agent ${header.agent}", logger_name="eip.test.audit")
            .process(lambda ex: logging.getLogger("eip.test.audit").info(
                "field", extra={"agent": ex.message.headers["agent"]})))


def assert_no_raw_control(text: str) -> None:
    """One line per record, and not one control character but the line ends."""
    raw = [c for c in text if (ord(c) < 0x20 and c != "\n") or 0x7f <= ord(c) <= 0x9f or c in "\u2028\u2029"]
    assert raw == []


@pytest.mark.parametrize("fmt", ["text", "logfmt", "json"])
def test_control_characters_from_a_request_are_escaped_in_every_format(fmt):
    out = io.StringIO()
    configure_logging("INFO", fmt, stream=out)
    with Engine(routes=[LogsAHeader()]) as engine:
        engine.template.send_body("direct:in", "x", headers={"agent": HOSTILE})
    text = out.getvalue()
    assert_no_raw_control(text)
    records = [line for line in text.splitlines() if "eip.test.audit" in line]
    assert len(records) == 2, text  # "fake line" forged no record of its own
    message, field = records
    if fmt == "json":
        assert json.loads(message)["msg"] == f"user agent {HOSTILE}"  # escaped, not lost
        assert json.loads(field)["agent"] == HOSTILE
    else:
        escaped = "evil\\x1b[2J\\x00nul\\r\\nfake line\\u2028sep\\x85next\\x7fdel\\x9bcsi\\ttab"
        assert f"user agent {escaped}" in message
        if fmt == "logfmt":
            assert f'agent="{escaped}"' in field


def test_a_traceback_keeps_its_lines_in_text_but_its_message_is_escaped():
    out = io.StringIO()
    configure_logging("INFO", "text", stream=out)
    try:
        raise ValueError("bad header \x1b]0;owned\x07")
    except ValueError:
        logging.getLogger("eip.test").exception("failed \x1b[31m")
    text = out.getvalue()
    assert_no_raw_control(text)
    assert "failed \\x1b[31m" in text and "ValueError: bad header \\x1b]0;owned\\x07" in text
    assert text.splitlines()[1] == "Traceback (most recent call last):"


def test_secret_named_extra_fields_are_masked():
    out = io.StringIO()
    configure_logging("INFO", "logfmt", stream=out)
    logging.getLogger("eip.test").info("call", extra={"api_key": "k-123456", "routing_key": "eu.orders"})
    [line] = lines(out)
    assert f"api_key={MASK}" in line and "routing_key=eu.orders" in line and "k-123456" not in line


# -- pika's chatter (issue 9, item 26) ----------------------------------------------------------------
def test_pika_info_chatter_is_lowered_to_warning_unless_debugging():
    out = io.StringIO()
    configure_logging("INFO", "logfmt", stream=out)
    pika_log = logging.getLogger("pika.adapters.utils.connection_workflow")
    pika_log.info("Pika version 1.3.2 connecting to ('127.0.0.1', 5672)")
    pika_log.warning("connection blocked")
    logging.getLogger("eip.test").info("ours")
    text = out.getvalue()
    assert "Pika version" not in text and "connection blocked" in text and "msg=ours" in text
    configure_logging("DEBUG", "logfmt", stream=out)
    pika_log.debug("frame sent")
    assert "frame sent" in out.getvalue()

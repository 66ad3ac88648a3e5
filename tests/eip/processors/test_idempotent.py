"""Idempotent consumer: eager ids, skip or mark duplicates, remove on failure, confirm on completion."""

from __future__ import annotations

import threading

import pytest

from eip import (
    ConfigurationError,
    ExpressionError,
    dead_letter_channel,
    header,
)
from eip.constants import DUPLICATE_MESSAGE
from eip.repositories.idempotent import MemoryIdempotentRepository


def start(engine, configure):
    engine.add_routes(configure)
    engine.start()


def send_ids(engine, *ids, uri="direct:in"):
    for message_id in ids:
        engine.template.send_body(uri, f"body-{message_id}", headers={"id": message_id})


def test_duplicates_skip_the_block_and_routing_goes_on(engine):
    start(engine, lambda b: b.from_("direct:in").idempotent_consumer(header("id"))
          .to("mock:once").end().to("mock:after"))
    send_ids(engine, 1, 2, 1, 3, 2)
    assert engine.get_endpoint("mock:once").received_bodies == ["body-1", "body-2", "body-3"]
    after = engine.get_endpoint("mock:after").received_exchanges
    assert len(after) == 5
    assert [ex.properties.get(DUPLICATE_MESSAGE) for ex in after] == [None, None, True, None, True]


def test_skip_duplicate_false_passes_duplicates_marked(engine):
    start(engine, lambda b: b.from_("direct:in").idempotent_consumer(header("id"), skip_duplicate=False)
          .to("mock:out").end())
    send_ids(engine, "a", "a")
    received = engine.get_endpoint("mock:out").received_exchanges
    assert len(received) == 2
    assert DUPLICATE_MESSAGE not in received[0].properties
    assert received[1].properties[DUPLICATE_MESSAGE] is True


def test_each_consumer_gets_its_own_repository_by_default(engine):
    def configure(b):
        b.from_("direct:a").idempotent_consumer(header("id")).to("mock:a").end()
        b.from_("direct:b").idempotent_consumer(header("id")).to("mock:b").end()

    start(engine, configure)
    send_ids(engine, 1, uri="direct:a")
    send_ids(engine, 1, uri="direct:b")
    assert engine.get_endpoint("mock:a").received_counter == 1
    assert engine.get_endpoint("mock:b").received_counter == 1


def test_a_shared_repository_is_used(engine):
    repo = MemoryIdempotentRepository()
    repo.add("seen-before")
    start(engine, lambda b: b.from_("direct:in").idempotent_consumer(header("id"), repository=repo)
          .to("mock:out").end())
    send_ids(engine, "seen-before", "new")
    assert engine.get_endpoint("mock:out").received_bodies == ["body-new"]
    assert repo.contains("new")


def test_failure_in_the_block_removes_the_id_so_a_redelivery_passes(engine):
    start(engine, lambda b: b.from_("direct:in").idempotent_consumer(header("id")).to("mock:out").end())
    mock = engine.get_endpoint("mock:out")
    mock.when_exchange_received(1, lambda ex: (_ for _ in ()).throw(OSError("down")))
    with pytest.raises(OSError):
        send_ids(engine, 7)
    send_ids(engine, 7)  # the redelivery
    send_ids(engine, 7)  # now a duplicate
    assert mock.received_counter == 2


def test_failure_after_the_block_removes_the_id_too(engine):
    start(engine, lambda b: b.from_("direct:in").idempotent_consumer(header("id")).to("mock:out").end()
          .to("mock:later"))
    engine.get_endpoint("mock:later").when_exchange_received(1, lambda ex: (_ for _ in ()).throw(OSError("x")))
    with pytest.raises(OSError):
        send_ids(engine, 7)
    send_ids(engine, 7)
    assert engine.get_endpoint("mock:out").received_counter == 2


def test_remove_on_failure_false_keeps_the_id(engine):
    start(engine, lambda b: b.from_("direct:in").idempotent_consumer(header("id"), remove_on_failure=False)
          .to("mock:out").end())
    mock = engine.get_endpoint("mock:out")
    mock.when_exchange_received(1, lambda ex: (_ for _ in ()).throw(OSError("down")))
    with pytest.raises(OSError):
        send_ids(engine, 7)
    send_ids(engine, 7)
    assert mock.received_counter == 1


def test_handled_failure_counts_as_done_and_keeps_the_id(engine):
    def configure(b):
        b.error_handler(dead_letter_channel("mock:dead"))
        b.from_("direct:in").idempotent_consumer(header("id")).to("mock:out").end()

    start(engine, configure)
    mock = engine.get_endpoint("mock:out")
    mock.when_exchange_received(1, lambda ex: (_ for _ in ()).throw(OSError("down")))
    send_ids(engine, 7)
    send_ids(engine, 7)
    assert mock.received_counter == 1
    assert engine.get_endpoint("mock:dead").received_counter == 1


def test_eager_rejects_an_in_flight_duplicate(engine):
    entered, release = threading.Event(), threading.Event()
    start(engine, lambda b: b.from_("direct:in").idempotent_consumer(header("id")).to("mock:out").end())
    mock = engine.get_endpoint("mock:out")
    mock.when_exchange_received(1, lambda ex: (entered.set(), release.wait(5)))
    first = threading.Thread(target=send_ids, args=(engine, 1))
    first.start()
    assert entered.wait(5)
    send_ids(engine, 1)  # the first is still in the block
    release.set()
    first.join(5)
    assert mock.received_counter == 1


def test_not_eager_lets_an_in_flight_duplicate_through_and_adds_on_completion(engine):
    entered, release = threading.Event(), threading.Event()
    repo = MemoryIdempotentRepository()
    start(engine, lambda b: b.from_("direct:in").idempotent_consumer(header("id"), repository=repo, eager=False)
          .to("mock:out").end())
    mock = engine.get_endpoint("mock:out")
    mock.when_exchange_received(1, lambda ex: (entered.set(), release.wait(5)))
    first = threading.Thread(target=send_ids, args=(engine, 1))
    first.start()
    assert entered.wait(5)
    assert not repo.contains(1)
    send_ids(engine, 1)  # passes: nothing added yet
    release.set()
    first.join(5)
    assert repo.contains(1)
    send_ids(engine, 1)
    assert mock.received_counter == 2


def test_not_eager_failure_adds_nothing(engine):
    repo = MemoryIdempotentRepository()
    start(engine, lambda b: b.from_("direct:in").idempotent_consumer(header("id"), repository=repo, eager=False)
          .to("mock:out").end())
    engine.get_endpoint("mock:out").when_exchange_received(1, lambda ex: (_ for _ in ()).throw(OSError()))
    with pytest.raises(OSError):
        send_ids(engine, 1)
    assert not repo.contains(1)


def test_confirm_is_called_when_the_exchange_completes(engine):
    class Repo(MemoryIdempotentRepository):
        def __init__(self):
            super().__init__()
            self.confirmed = []

        def confirm(self, key):
            self.confirmed.append(key)
            return super().confirm(key)

    repo = Repo()
    start(engine, lambda b: b.from_("direct:in").idempotent_consumer(header("id"), repository=repo)
          .to("mock:out").end().process(lambda ex: repo.confirmed.append("route still running")))
    send_ids(engine, "k")
    assert repo.confirmed == ["route still running", "k"]


def test_none_id_is_a_clear_error(engine):
    start(engine, lambda b: b.from_("direct:in").route_id("r")
          .idempotent_consumer(header("missing")).to("mock:out").end())
    with pytest.raises(ExpressionError, match="gave None") as info:
        engine.template.send_body("direct:in", "x")
    assert info.value.route_id == "r"
    assert engine.get_endpoint("mock:out").received_counter == 0


def test_repository_must_look_like_one(engine):
    with pytest.raises(ConfigurationError, match="lacks"):
        engine.add_routes(lambda b: b.from_("direct:in").idempotent_consumer(header("id"), repository=object())
                          .to("mock:out").end())


# -- a skipped duplicate is visible (issue 9, item 24) ---------------------------------------------

def test_each_skipped_duplicate_logs_one_info_line_and_is_counted(engine, caplog):
    import logging

    start(engine, lambda b: b.from_("direct:in").route_id("orders").idempotent_consumer(header("id"))
          .id("once-per-order").to("mock:once").end())
    with caplog.at_level(logging.INFO, logger="eip.processors.idempotent"):
        send_ids(engine, "A-1", "A-2", "A-1", "A-1")
    lines = [r for r in caplog.records if r.name == "eip.processors.idempotent"]
    assert [r.levelno for r in lines] == [logging.INFO, logging.INFO]
    text = lines[0].getMessage()
    assert "route 'orders'" in text and "node 'once-per-order'" in text and "'A-1'" in text
    assert "body-" not in text  # the body is never logged
    assert engine.route_stats("orders")["duplicates_skipped"] == 2
    assert engine.get_endpoint("mock:once").received_bodies == ["body-A-1", "body-A-2"]


def test_no_line_for_new_messages_or_duplicates_passed_on(engine, caplog):
    import logging

    start(engine, lambda b: b.from_("direct:in").route_id("r")
          .idempotent_consumer(header("id"), skip_duplicate=False).to("mock:out").end())
    with caplog.at_level(logging.DEBUG, logger="eip.processors.idempotent"):
        send_ids(engine, 1, 2, 1)
    assert [r for r in caplog.records if r.name == "eip.processors.idempotent"] == []
    assert engine.route_stats("r")["duplicates_skipped"] == 0


def test_a_long_id_is_shortened_in_the_log_line(engine, caplog):
    import logging

    start(engine, lambda b: b.from_("direct:in").route_id("r").idempotent_consumer(header("id"))
          .to("mock:out").end())
    with caplog.at_level(logging.INFO, logger="eip.processors.idempotent"):
        send_ids(engine, "x" * 5000, "x" * 5000)
    (line,) = [r.getMessage() for r in caplog.records if r.name == "eip.processors.idempotent"]
    assert len(line) < 400

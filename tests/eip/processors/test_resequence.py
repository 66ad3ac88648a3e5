"""Batch resequencer: emit sorted batches by size, by timeout and on stop; duplicates; reverse."""

from __future__ import annotations

import pytest

from eip import ConfigurationError, ExpressionError, body, header


def start(engine, configure):
    engine.add_routes(configure)
    engine.start()


def send_all(engine, *bodies):
    for value in bodies:
        engine.template.send_body("direct:in", value)


def test_a_full_batch_is_emitted_sorted_at_once(engine):
    start(engine, lambda b: b.from_("direct:in").resequence(body(), batch_size=4, batch_timeout=60)
          .to("mock:sorted").end())
    send_all(engine, 4, 2, 3)
    assert engine.get_endpoint("mock:sorted").received_bodies == []
    send_all(engine, 1)  # fills the batch: emitted on this thread
    assert engine.get_endpoint("mock:sorted").received_bodies == [1, 2, 3, 4]
    send_all(engine, 9, 7, 8, 6)
    assert engine.get_endpoint("mock:sorted").received_bodies == [1, 2, 3, 4, 6, 7, 8, 9]


def test_reverse(engine):
    start(engine, lambda b: b.from_("direct:in").resequence(header("seq"), batch_size=3, reverse=True)
          .to("mock:sorted").end())
    for seq in (2, 3, 1):
        engine.template.send_body("direct:in", f"m{seq}", headers={"seq": seq})
    assert engine.get_endpoint("mock:sorted").received_bodies == ["m3", "m2", "m1"]


def test_incoming_exchanges_go_on_after_the_block_unchanged(engine):
    start(engine, lambda b: b.from_("direct:in").resequence(body(), batch_size=3)
          .set_body(lambda ex: ex.message.body * 10).to("mock:sorted").end().to("mock:after"))
    send_all(engine, 3, 1, 2)
    assert engine.get_endpoint("mock:after").received_bodies == [3, 1, 2]
    assert engine.get_endpoint("mock:sorted").received_bodies == [10, 20, 30]


def test_duplicates_are_dropped_unless_allowed(engine):
    def configure(b):
        b.from_("direct:in").resequence(header("seq"), batch_size=3).to("mock:unique").end()
        b.from_("direct:dups").resequence(header("seq"), batch_size=3, allow_duplicates=True) \
            .to("mock:all").end()

    start(engine, configure)
    for uri in ("direct:in", "direct:dups"):
        for seq, value in ((2, "first 2"), (1, "one"), (2, "second 2"), (0, "zero")):
            engine.template.send_body(uri, value, headers={"seq": seq})
    assert engine.get_endpoint("mock:unique").received_bodies == ["zero", "one", "first 2"]
    assert engine.get_endpoint("mock:all").received_bodies == ["one", "first 2", "second 2"]


def test_timeout_flushes_a_partial_batch(engine):
    start(engine, lambda b: b.from_("direct:in").resequence(body(), batch_size=100, batch_timeout=0.05)
          .to("mock:sorted").end())
    send_all(engine, "c", "a", "b")
    mock = engine.get_endpoint("mock:sorted")
    mock.expected_bodies_received("a", "b", "c")
    mock.assert_is_satisfied(timeout=5)
    send_all(engine, "z", "y")  # a new batch, its own timeout
    mock.reset()
    mock.expected_bodies_received("y", "z")
    mock.assert_is_satisfied(timeout=5)


def test_stop_flushes_the_batch(engine):
    start(engine, lambda b: b.from_("direct:in").resequence(body(), batch_size=100, batch_timeout=60)
          .to("mock:sorted").end())
    send_all(engine, 3, 1, 2)
    engine.stop()
    assert engine.get_endpoint("mock:sorted").received_bodies == [1, 2, 3]


def test_a_failing_emitted_exchange_does_not_lose_the_others(engine, caplog):
    start(engine, lambda b: b.from_("direct:in").resequence(body(), batch_size=3).to("mock:sorted").end())
    mock = engine.get_endpoint("mock:sorted")
    mock.when_exchange_received(2, lambda ex: (_ for _ in ()).throw(OSError("boom")))
    send_all(engine, 3, 2, 1)  # the sender of 1 is not failed by 2's failure
    assert mock.received_bodies == [1, 2, 3]
    assert "boom" in caplog.text


def test_none_key_fails_the_incoming_exchange(engine):
    start(engine, lambda b: b.from_("direct:in").route_id("r").resequence(header("seq"), batch_size=2)
          .to("mock:sorted").end())
    with pytest.raises(ExpressionError, match="None") as info:
        engine.template.send_body("direct:in", "x")
    assert info.value.route_id == "r"


def test_keys_that_cannot_be_compared_fail_the_incoming_exchange(engine):
    start(engine, lambda b: b.from_("direct:in").resequence(body(), batch_size=3).to("mock:sorted").end())
    send_all(engine, 1)
    with pytest.raises(ExpressionError, match="cannot be compared"):
        send_all(engine, "one")
    send_all(engine, 3, 2)
    assert engine.get_endpoint("mock:sorted").received_bodies == [1, 2, 3]


@pytest.mark.parametrize("options, message", [
    ({"batch_size": 0}, "batch_size"),
    ({"batch_timeout": 0}, "batch_timeout"),
    ({"batch_timeout": "later"}, "batch_timeout"),
])
def test_bad_options(engine, options, message):
    with pytest.raises(ConfigurationError, match=message):
        engine.add_routes(lambda b: b.from_("direct:in").resequence(body(), **options).to("mock:x").end())

"""Message filter: the block runs only on a match; everything continues after end()."""

from __future__ import annotations

from eip import RouteBuilder, body, constants


def test_filter_block_and_continuation(engine):
    class Routes(RouteBuilder):
        def configure(self):
            (self.from_("direct:in")
                .filter(lambda ex: ex.message.body % 2 == 0)
                    .to("mock:even")
                .end()
                .to("mock:all"))

    engine.add_routes(Routes())
    engine.start()
    for n in range(5):
        engine.template.send_body("direct:in", n)
    assert engine.get_endpoint("mock:even").received_bodies == [0, 2, 4]
    all_ = engine.get_endpoint("mock:all").received_exchanges
    assert [e.message.body for e in all_] == [0, 1, 2, 3, 4]
    assert [e.properties[constants.FILTER_MATCHED] for e in all_] == [True, False, True, False, True]


def test_stop_inside_filter_ends_the_route(engine):
    class Routes(RouteBuilder):
        def configure(self):
            self.from_("direct:in").filter(body() == "drop").stop().end().to("mock:kept")

    engine.add_routes(Routes())
    engine.start()
    engine.template.send_body("direct:in", "drop")
    engine.template.send_body("direct:in", "keep")
    assert engine.get_endpoint("mock:kept").received_bodies == ["keep"]

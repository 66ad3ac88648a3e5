"""log(): one line per exchange from a template; the log: component."""

from __future__ import annotations

import logging

from eip import RouteBuilder


def test_log_renders_the_template(engine, caplog):
    class Routes(RouteBuilder):
        def configure(self):
            (self.from_("direct:in").route_id("r")
                .log("order ${header.id} body=${body}")
                .log("debug only", level="DEBUG")
                .to("log:orders?show_headers=true"))

    engine.add_routes(Routes())
    engine.start()
    with caplog.at_level(logging.INFO):
        engine.template.send_body("direct:in", "payload", headers={"id": 7})
    messages = [r.getMessage() for r in caplog.records]
    assert "order 7 body=payload" in messages
    assert "debug only" not in messages
    assert any("body='payload'" in m and "'id': 7" in m for m in messages)
    assert any(r.name == "eip.route.r" for r in caplog.records)


def test_log_component_group_size(engine, caplog):
    engine.add_routes(lambda b: b.from_("direct:in").to("log:throughput?group_size=3"))
    engine.start()
    with caplog.at_level(logging.INFO, logger="throughput"):
        for n in range(7):
            engine.template.send_body("direct:in", n)
    lines = [r.getMessage() for r in caplog.records if r.name == "throughput"]
    assert len(lines) == 2 and lines[0].startswith("received 3 exchanges")

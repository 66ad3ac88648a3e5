"""Content-based router: first match wins, otherwise, no match continues, nested choices."""

from __future__ import annotations

import pytest

from eip import RouteBuilder, body, header


class Routes(RouteBuilder):
    def configure(self):
        (self.from_("direct:in")
            .choice()
                .when(header("type") == "gold").to("mock:gold")
                .when(header("type").is_in("gold", "silver")).to("mock:silver")
                .otherwise().to("mock:other")
            .end()
            .to("mock:after"))
        (self.from_("direct:no-otherwise")
            .choice().when(body() > 10).set_body("big").end()
            .to("mock:no-otherwise"))
        (self.from_("direct:nested")
            .choice()
                .when(header("a") == 1)
                    .choice().when(header("b") == 1).to("mock:a1b1").otherwise().to("mock:a1").end()
                .when(header("a") == 2).to("mock:a2")
            .end())


@pytest.fixture
def started(engine):
    engine.add_routes(Routes())
    engine.start()
    return engine


def test_first_matching_branch_only(started):
    for kind in ("gold", "silver", "bronze"):
        started.template.send_body("direct:in", kind, headers={"type": kind})
    assert started.get_endpoint("mock:gold").received_bodies == ["gold"]
    assert started.get_endpoint("mock:silver").received_bodies == ["silver"]
    assert started.get_endpoint("mock:other").received_bodies == ["bronze"]
    assert started.get_endpoint("mock:after").received_bodies == ["gold", "silver", "bronze"]


def test_no_match_without_otherwise_continues_unchanged(started):
    started.template.send_body("direct:no-otherwise", 5)
    started.template.send_body("direct:no-otherwise", 50)
    assert started.get_endpoint("mock:no-otherwise").received_bodies == [5, "big"]


def test_nested_choice(started):
    for a, b in ((1, 1), (1, 2), (2, 0), (3, 0)):
        started.template.send_body("direct:nested", f"{a}{b}", headers={"a": a, "b": b})
    assert started.get_endpoint("mock:a1b1").received_bodies == ["11"]
    assert started.get_endpoint("mock:a1").received_bodies == ["12"]
    assert started.get_endpoint("mock:a2").received_bodies == ["20"]

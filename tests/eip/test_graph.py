"""Route diagrams from the route model (``eip/graph/``): shapes, clusters, links, formats."""

from __future__ import annotations

import html
import re
import subprocess
from dataclasses import dataclass

import pytest

from eip import RouteBuilder, body, dead_letter_channel, graph, header
from eip import model as m
from eip.dataformat import JsonDataFormat
from eip.graph import GraphvizMissingError, build_diagram, render
from eip.graph import graphviz as graphviz_drawing
from eip.graph import mermaid as mermaid_drawing
from eip.graph.model import EDGE_STYLES, NODE_KINDS


def merge(old, new):
    return new


class Everything(RouteBuilder):
    """One route per kind of drawing; ids are given so assertions can name them."""

    def configure(self) -> None:
        self.on_exception(KeyError, handled=True).to("mock:bad-key").end()
        (self.from_("file:inbox?password=hunter2&delay=1s").route_id("intake")
            .error_handler(dead_letter_channel("direct:dead", maximum_redeliveries=3, redelivery_delay=0))
            .validate(body().is_none().__invert__())
            .choice()
                .when(header("type") == "gold").to("mock:gold").to("seda:audit")
                .when(header("type") == "silver").set_header("lane", "slow")
                .otherwise().to("http://user:s3cret@example.org/orders")
            .end()
            .split(body(), merge, streaming=True)
                .filter(header("keep") == True)
                    .transform(lambda ex: ex.message.body)
                .end()
            .end()
            .to("direct:next"))
        (self.from_("direct:next").route_id("totals")
            .aggregate(header("batch"), merge, completion_size=10, completion_timeout=5.0)
                .marshal(JsonDataFormat())
                .to("seda:reports")
            .end()
            .multicast(merge, parallel=True).to("mock:a").to("mock:b").end()
            .do_try()
                .to_d("direct:${header.target}")
            .do_catch(ValueError)
                .log("bad ${body}")
            .do_finally()
                .set_body("done")
            .end()
            .loop(3).wire_tap("seda:audit").end()
            .circuit_breaker().to("mock:service").on_fallback().stop().end()
            .load_balance("failover").to("mock:x").to("mock:y").end()
            .idempotent_consumer(header("id")).enrich("direct:lookup").end()
            .throttle(5).delay(0.5).sample(message_frequency=10)
            .recipient_list(header("to")).routing_slip(header("slip")).dynamic_router(header("next"))
            .claim_check("push").rollback("give up"))
        self.from_("seda:audit").route_id("audit").to("log:audit")
        self.from_("direct:dead").route_id("dead").to("mock:dead")
        self.from_("direct:lookup").route_id("lookup").on_completion().to("mock:done").end().set_body("x")


@pytest.fixture(scope="module")
def definitions():
    return Everything().build()


@pytest.fixture(scope="module")
def diagram(definitions):
    return build_diagram(definitions)


def by_text(diagram, *lines):
    found = [n for n in diagram.nodes() if n.lines[: len(lines)] == list(lines)]
    assert found, f"no node labelled {lines}: {[n.lines for n in diagram.nodes()]}"
    return found[0]


def edges_between(diagram, src, dst):
    return [e for e in diagram.edges if e.src == src.id and e.dst == dst.id]


def test_each_route_is_a_cluster_starting_at_its_masked_input(diagram):
    routes = [c for c in diagram.clusters() if c.kind == "route"]
    assert [c.label for c in routes] == ["route intake", "route totals", "route audit", "route dead", "route lookup"]
    intake = routes[0].items[0]
    assert intake.kind == "input" and intake.lines == ["file:inbox?password=xxxxxx&delay=1s"]
    everything = " ".join(" ".join(n.lines) for n in diagram.nodes())
    assert "hunter2" not in everything and "s3cret" not in everything
    assert by_text(diagram, "http://user:xxxxxx@example.org/orders").kind == "endpoint"


def test_the_content_based_router_is_a_diamond_with_predicate_labelled_branches(diagram):
    choice = by_text(diagram, "choice")
    assert choice.kind == "router"
    labels = [e.label for e in diagram.edges if e.src == choice.id]
    assert labels == ["header('type') == 'gold'", "header('type') == 'silver'", "otherwise"]
    gold = by_text(diagram, "mock:gold")
    assert edges_between(diagram, choice, gold)[0].label == "header('type') == 'gold'"
    # the branches join in one point, which leads on to the splitter
    audit_send = next(n for n in diagram.nodes() if n.lines == ["seda:audit"])
    [to_join] = [e for e in diagram.edges if e.src == audit_send.id and e.style == "flow"]
    join = next(n for n in diagram.nodes() if n.id == to_join.dst)
    assert join.kind == "join"
    splitter = by_text(diagram, "split")
    assert edges_between(diagram, join, splitter)
    branch_clusters = [c.label for c in diagram.clusters() if c.label in ("when", "otherwise")]
    assert branch_clusters == ["when", "when", "otherwise"]


def test_splitter_and_aggregator_symbols_with_their_blocks_as_clusters(diagram):
    splitter = by_text(diagram, "split", "body()", "streaming")
    assert splitter.kind == "splitter"
    merge_parts = by_text(diagram, "merge parts", "merge")
    assert merge_parts.kind == "aggregator"
    split_cluster = next(c for c in diagram.clusters() if c.label == "split")
    assert splitter in split_cluster.items and merge_parts in split_cluster.items
    filter_cluster = next(c for c in split_cluster.items if getattr(c, "label", None) == "filter")
    funnel = by_text(diagram, "filter", "header('keep') == True")
    assert funnel.kind == "filter" and funnel in filter_cluster.items
    assert sorted(e.label for e in diagram.edges if e.src == funnel.id) == ["false", "true"]
    aggregator = by_text(diagram, "aggregate", "by header('batch')", "merge",
                         "complete on size 10", "or timeout 5s")
    assert aggregator.kind == "aggregator"
    marshal = by_text(diagram, "marshal", "JsonDataFormat")
    assert edges_between(diagram, aggregator, marshal)[0].label == "completed group"


def test_error_paths_are_red_dashed_edges(diagram):
    intake = by_text(diagram, "file:inbox?password=xxxxxx&delay=1s")
    dead = by_text(diagram, "dead letter channel", "direct:dead")
    [edge] = edges_between(diagram, intake, dead)
    assert edge.style == "error" and edge.label == "after 3 redeliveries"
    on_exception = next(c for c in diagram.clusters() if c.label.startswith("on exception KeyError"))
    assert on_exception.kind == "error" and on_exception.label == "on exception KeyError (handled)"
    catch = next(c for c in diagram.clusters() if c.label == "do catch ValueError")
    log_node = by_text(diagram, "log", "bad ${body}")
    assert log_node in catch.items
    catch_edge = next(e for e in diagram.edges if e.dst == log_node.id)
    assert catch_edge.style == "error" and catch_edge.label == "ValueError"
    fallback = by_text(diagram, "stop")
    breaker = by_text(diagram, "circuit breaker")
    assert edges_between(diagram, breaker, fallback)[0].label == "open or failed"


def test_every_kind_of_step_gets_a_label(diagram):
    labels = [n.lines[0] for n in diagram.nodes() if n.lines]
    for expected in ("validate", "set header", "transform", "multicast", "aggregate replies", "to_d",
                     "loop", "wire tap", "circuit breaker", "load balance", "idempotent consumer",
                     "enrich from", "throttle", "delay", "sample", "recipient list", "routing slip",
                     "dynamic router", "claim check", "rollback", "set body", "log"):
        assert expected in labels, expected
    assert by_text(diagram, "to_d", "direct:${header.target}").kind == "dynamic"
    assert by_text(diagram, "throttle", "5 per 1s").kind == "control"
    assert by_text(diagram, "transform", "lambda").kind == "translator"
    loop = by_text(diagram, "loop", "3 times")
    assert any(e.style == "loop" and e.dst == loop.id for e in diagram.edges)


def test_sends_are_linked_to_the_route_consuming_the_same_endpoint(diagram):
    links = {(e.src, e.dst) for e in diagram.edges if e.style == "link"}
    inputs = {n.lines[0]: n.id for n in diagram.nodes() if n.kind == "input"}
    sends = [n for n in diagram.nodes() if n.kind in ("endpoint", "dynamic", "dead_letter")]

    def linked(text):
        return {inputs[dst_text] for node in sends if text in node.lines
                for dst_text in inputs if (node.id, inputs[dst_text]) in links}

    assert linked("seda:audit") == {inputs["seda:audit"]}  # the to and the wire tap
    assert linked("direct:next") == {inputs["direct:next"]}
    assert linked("direct:dead") == {inputs["direct:dead"]}
    assert linked("direct:lookup") == {inputs["direct:lookup"]}  # enrich
    assert linked("direct:${header.target}") == set()  # computed: no link


def test_placeholders_with_defaults_link_like_their_default():
    class Lanes(RouteBuilder):
        def configure(self):
            self.from_("direct:a").route_id("a").to("{{lane:seda:fast}}?size=5")
            self.from_("{{lane:seda:fast}}").route_id("b").to("mock:b")

    diagram = build_diagram(Lanes().build())
    [link] = [e for e in diagram.edges if e.style == "link"]
    assert by_text(diagram, "{{lane:seda:fast}}?size=5").id == link.src


def test_a_node_type_the_drawer_does_not_know_is_drawn_from_children_and_describe():
    @dataclass(frozen=True, kw_only=True, eq=False)
    class Saga(m.Block):
        def describe(self) -> str:
            return "saga"

    route = m.RouteDefinition(route_id="r", input=m.From(uri="direct:a"),
                              steps=(Saga(steps=(m.To(uri="mock:x"),)), m.Stop()))
    diagram = build_diagram([route])
    saga = by_text(diagram, "saga")
    cluster = next(c for c in diagram.clusters() if c.label == "saga")
    assert saga in cluster.items and by_text(diagram, "mock:x") in cluster.items
    assert edges_between(diagram, saga, by_text(diagram, "mock:x"))


def test_long_labels_wrap_at_uri_options_and_stop_with_an_ellipsis():
    class Long(RouteBuilder):
        def configure(self):
            (self.from_("seda:orders?concurrent_consumers=2&block_when_full=true&size=1000&poll_timeout=5")
                .route_id("long").log("x" * 200))

    diagram = build_diagram(Long().build())
    assert by_text(diagram, "seda:orders?concurrent_consumers=2").lines == [
        "seda:orders?concurrent_consumers=2", "&block_when_full=true&size=1000", "&poll_timeout=5"]
    log_lines = by_text(diagram, "log").lines
    assert len(log_lines) == 2 and len(log_lines[1]) == graph.MAX_LINE and log_lines[1].endswith("…")


# -- formats ----------------------------------------------------------------------------------------
def test_both_renderers_draw_every_node_kind_and_edge_style_the_builder_makes(diagram):
    # The builder and each renderer keep their own tables; a kind one of them lacks would be drawn
    # as a plain box by one format and not the other, or fail with a KeyError.
    assert {node.kind for node in diagram.nodes()} <= set(NODE_KINDS)
    assert {edge.style for edge in diagram.edges} <= set(EDGE_STYLES)
    assert set(graphviz_drawing.NODE_ATTRS) == set(NODE_KINDS) == set(mermaid_drawing.NODE_SHAPES)
    assert set(mermaid_drawing.NODE_CLASSES) == set(NODE_KINDS)
    assert set(graphviz_drawing.EDGE_ATTRS) == set(EDGE_STYLES) == set(mermaid_drawing.EDGE_ARROWS)


def test_mermaid_is_a_flowchart_with_escaped_labels_and_classes(definitions):
    text = render(definitions, "mermaid")
    assert text.startswith("flowchart TB\n")
    assert text.count("subgraph ") == sum(line.strip() == "end" for line in text.splitlines())
    assert re.search(r'n\d+\{"choice"\}', text)  # the router's diamond
    assert re.search(r'n\d+\[/"split<br/>body\(\)<br/>streaming"\\\]', text)  # the splitter's trapezoid
    assert "-->|\"header('type') == 'gold'\"|" in text
    assert "-.->|\"after 3 redeliveries\"|" in text
    assert "classDef router fill:#fff59d" in text
    assert "hunter2" not in text and "s3cret" not in text
    # nothing inside a label can close it early
    for line in text.splitlines():
        label = re.search(r'\["(.*)"\]$', line)
        if label:
            assert '"' not in label.group(1)


def test_mermaid_escapes_quotes_pipes_and_angle_brackets():
    class Odd(RouteBuilder):
        def configure(self):
            self.from_("direct:a").route_id("odd").log('say "<hi>" | bye').set_header("h", 'a"b')

    text = render(Odd().build(), "mermaid")
    assert "say #quot;#lt;hi#gt;#quot; #124; bye" in text and "h = 'a#quot;b'" in text


def test_dot_text_needs_no_binary(definitions, monkeypatch):
    monkeypatch.setenv("PATH", "")
    text = render(definitions, "dot")
    assert text.startswith("digraph routes {")
    assert "shape=diamond" in text and "shape=trapezium" in text and "shape=invtrapezium" in text
    assert "subgraph cluster_" in text and 'label="route intake"' in text
    assert "hunter2" not in text


def test_svg_and_png_need_graphviz_and_say_how_to_install_it(definitions, monkeypatch):
    monkeypatch.setenv("PATH", "")
    with pytest.raises(GraphvizMissingError, match="install the graphviz package .*apt-get install graphviz"):
        render(definitions, "svg")
    with pytest.raises(GraphvizMissingError, match="--format mermaid or --format dot"):
        render(definitions, "png")


def test_svg_is_drawn_by_graphviz(definitions, require_tool):
    require_tool("dot")
    svg = render(definitions, "svg")
    assert isinstance(svg, str) and svg.lstrip().startswith("<?xml") and "</svg>" in svg
    svg = html.unescape(svg)
    assert "route intake" in svg and "file:inbox?password=xxxxxx&delay=1s" in svg
    assert "header('type') == 'gold'" in svg and "after 3 redeliveries" in svg
    assert "hunter2" not in svg and "s3cret" not in svg


def test_png_is_drawn_by_graphviz(definitions, require_tool):
    require_tool("dot")
    png = render(definitions, "png")
    assert isinstance(png, bytes) and png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000


def test_the_dot_text_is_valid_graphviz_input(definitions, require_tool):
    dot = require_tool("dot")
    result = subprocess.run([dot, "-Tcanon"], input=render(definitions, "dot"), capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr and "Error" not in result.stderr


def test_format_is_chosen_from_the_option_then_the_suffix():
    assert graph.format_for(None, None) == "mermaid"
    assert graph.format_for("out.SVG", None) == "svg"
    assert graph.format_for("out.gv", None) == "dot"
    assert graph.format_for("out.mmd", None) == "mermaid"
    assert graph.format_for("out.txt", "dot") == "dot"
    with pytest.raises(Exception, match="cannot tell the format from 'out.txt'"):
        graph.format_for("out.txt", None)
    with pytest.raises(Exception, match="unknown diagram format 'gif'"):
        render([], "gif")

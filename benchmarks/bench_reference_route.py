"""Reference-route benchmark: engine throughput against a hand-written Python loop.

Route: direct -> choice (3 branches on a header) -> split (a 5-item list) -> transform each
item -> aggregate by a correlation header in groups of 5 -> mock.

Prints messages per second entering the route for the engine and for a plain loop doing the
same work in the same run, and their ratio. Run: ``python benchmarks/bench_reference_route.py``
(``--messages N``, ``--repeat K``: the best of K runs is reported, as timing noise on a shared
2-core machine only ever slows a run down).
"""

from __future__ import annotations

import argparse
import gc
import time

from eip import Engine, RouteBuilder, header
from eip.strategies import group_bodies

ITEMS = [1, 2, 3, 4, 5]
KINDS = ("gold", "silver", "bronze")


class ReferenceRoute(RouteBuilder):
    def configure(self):
        (self.from_("direct:orders").route_id("reference")
            .choice()
                .when(header("type") == "gold").set_header("discount", 0.2)
                .when(header("type") == "silver").set_header("discount", 0.1)
                .otherwise().set_header("discount", 0.0)
            .end()
            .split(lambda ex: ex.message.body)
                .transform(lambda ex: ex.message.body * 2)
                .aggregate(header("corr"), group_bodies, completion_size=5)
                    .to("mock:out?retain_last=10")
                .end()
            .end())


def run_engine(messages: int) -> tuple[float, int]:
    engine = Engine([ReferenceRoute()])
    engine.start()
    send = engine.template.send_body
    headers = [{"type": KINDS[i % 3], "corr": i} for i in range(messages)]
    gc.collect()
    started = time.perf_counter()
    for i in range(messages):
        send("direct:orders", ITEMS, headers[i])
    elapsed = time.perf_counter() - started
    out = engine.get_endpoint("mock:out").received_counter
    engine.stop()
    return elapsed, out


def run_baseline(messages: int) -> tuple[float, int]:
    """The same work by hand: a dict per message, a loop per item, a dict of open groups."""
    headers = [{"type": KINDS[i % 3], "corr": i} for i in range(messages)]
    groups: dict[object, list[int]] = {}
    out: list[list[int]] = []
    gc.collect()
    started = time.perf_counter()
    for i in range(messages):
        message = {"body": ITEMS, "headers": dict(headers[i])}
        kind = message["headers"]["type"]
        if kind == "gold":
            message["headers"]["discount"] = 0.2
        elif kind == "silver":
            message["headers"]["discount"] = 0.1
        else:
            message["headers"]["discount"] = 0.0
        for item in message["body"]:
            part = {"body": item, "headers": dict(message["headers"])}
            part["body"] = part["body"] * 2
            key = part["headers"]["corr"]
            group = groups.setdefault(key, [])
            group.append(part["body"])
            if len(group) == 5:
                del groups[key]
                out.append(group)
                if len(out) > 10:
                    del out[0]
    elapsed = time.perf_counter() - started
    return elapsed, messages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    engine_best = min(run_engine(args.messages)[0] for _ in range(args.repeat))
    elapsed, outputs = run_engine(args.messages)
    engine_best = min(engine_best, elapsed)
    assert outputs == args.messages, f"expected {args.messages} aggregated outputs, got {outputs}"
    baseline_best = min(run_baseline(args.messages)[0] for _ in range(args.repeat))
    engine_rate = args.messages / engine_best
    baseline_rate = args.messages / baseline_best
    print(f"messages entering the route: {args.messages:,} (best of {args.repeat + 1} engine runs, "
          f"{args.repeat} baseline runs)")
    print(f"engine:             {engine_rate:10,.0f} msg/s  ({engine_best:.2f} s)")
    print(f"hand-written loop:  {baseline_rate:10,.0f} msg/s  ({baseline_best:.2f} s)")
    print(f"engine / hand-written: {engine_rate / baseline_rate:.2f}  (target: >= 60,000 msg/s for the engine)")


if __name__ == "__main__":
    main()

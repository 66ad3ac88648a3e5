"""Streaming split of a 1 GB file: constant memory, against a raw Python line loop.

Route: ``file:DIR?noop=true`` -> ``split(body().tokenize("\\n"), streaming=True)`` -> a step
that counts lines and characters. The file body is a lazy ``FileBody``, so the splitter reads
one line at a time; the target is a peak RSS under 150 MB for the whole engine process.

Baseline, in the same run: ``for line in open(path)`` doing the same counting. Each side runs
in its own child process so that its peak RSS (``ru_maxrss``) is its own. The file is generated
in a temporary folder and deleted at the end; the page cache is warm for both (generating the
file leaves it there), so the figures compare CPU work, not the disk.

Run: ``python benchmarks/bench_file_split.py`` (``--size-mb 1024``, ``--line-bytes 200``,
``--group N`` to split in groups of N lines as ``tokenize("\\n", N)``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

TARGET_RSS_MB = 150


def generate(path: str, size_mb: int, line_bytes: int) -> tuple[int, int]:
    """Write about ``size_mb`` MiB of CSV-like lines of ``line_bytes`` bytes; returns (lines, bytes)."""
    filler = "abcdefghijklmnopqrstuvwxyz0123456789" * (line_bytes // 36 + 2)
    target = size_mb * (1 << 20)
    lines = written = 0
    block: list[str] = []
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        while written < target:
            prefix = f"{lines},order-{lines % 9973},"
            line = prefix + filler[:max(1, line_bytes - len(prefix) - 1)] + "\n"
            block.append(line)
            lines += 1
            written += len(line)
            if len(block) == 4096:
                f.write("".join(block))
                block.clear()
        f.write("".join(block))
    return lines, written


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child_engine(folder: str, group: int) -> dict[str, float]:
    from eip import Engine, RouteBuilder, body
    from eip.testing import Notifier

    counts = {"lines": 0, "chars": 0}

    def count(exchange):
        counts["lines"] += 1
        counts["chars"] += len(exchange.message.body)

    tokens = body().tokenize("\n", group) if group > 1 else body().tokenize("\n")

    class SplitRoute(RouteBuilder):
        def configure(self):
            (self.from_(f"file:{folder}?initial_delay=0&delay=0.01&noop=true").route_id("split")
                .split(tokens, streaming=True)
                    .process(count)
                .end())

    rss_before = peak_rss_mb()
    engine = Engine([SplitRoute()])
    notifier = Notifier(engine, done=1)
    started = time.perf_counter()
    engine.start()
    if not notifier.wait(3600):
        raise SystemExit("the route did not finish")
    elapsed = time.perf_counter() - started
    failed = notifier.failed_count
    engine.stop()
    return {"seconds": elapsed, "parts": counts["lines"], "chars": counts["chars"], "failed": failed,
            "rss_start_mb": rss_before, "rss_peak_mb": peak_rss_mb()}


def child_baseline(path: str) -> dict[str, float]:
    rss_before = peak_rss_mb()
    lines = chars = 0
    started = time.perf_counter()
    with open(path, encoding="utf-8", newline="\n") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if line:
                lines += 1
                chars += len(line)
    elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "parts": lines, "chars": chars, "failed": 0, "rss_start_mb": rss_before,
            "rss_peak_mb": peak_rss_mb()}


def run_child(*args: str) -> dict[str, float]:
    result = subprocess.run([sys.executable, __file__, "--child", *args], check=True, capture_output=True,
                            text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--line-bytes", type=int, default=200)
    parser.add_argument("--group", type=int, default=1)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, target = args.child[0], args.child[1]
        result = child_engine(target, args.group) if kind == "engine" else child_baseline(target)
        print(json.dumps(result))
        return

    with tempfile.TemporaryDirectory(prefix="eip-bench-split-") as folder:
        path = os.path.join(folder, "big.csv")
        started = time.perf_counter()
        lines, size = generate(path, args.size_mb, args.line_bytes)
        print(f"generated {size / (1 << 20):,.0f} MiB, {lines:,} lines of {args.line_bytes} bytes "
              f"in {time.perf_counter() - started:.1f}s")
        baseline = run_child("baseline", path)
        engine = run_child("engine", folder, "--group", str(args.group)) if args.group > 1 else \
            run_child("engine", folder)
    expected_parts = lines if args.group <= 1 else -(-lines // args.group)
    if engine["parts"] != expected_parts or engine["failed"]:
        raise SystemExit(f"engine split {engine['parts']} parts, expected {expected_parts} "
                         f"(failed exchanges: {engine['failed']})")
    mib = size / (1 << 20)
    what = "lines" if args.group <= 1 else f"groups of {args.group} lines"
    print(f"{'':<22}{'seconds':>9}{'MiB/s':>9}{'parts/s':>12}{'RSS start':>11}{'RSS peak':>10}")
    for name, r in (("raw Python line loop", baseline), ("engine split stream", engine)):
        print(f"{name:<22}{r['seconds']:>9.2f}{mib / r['seconds']:>9.1f}{r['parts'] / r['seconds']:>12,.0f}"
              f"{r['rss_start_mb']:>9.1f}MB{r['rss_peak_mb']:>8.1f}MB")
    print(f"engine/raw throughput ratio: {baseline['seconds'] / engine['seconds']:.2f} ({what})")
    peak = engine["rss_peak_mb"]
    verdict = "under" if peak < TARGET_RSS_MB else "OVER"
    print(f"engine peak RSS {peak:.1f} MB for a {mib:,.0f} MiB file: {verdict} the {TARGET_RSS_MB} MB target "
          f"(growth during the run {peak - engine['rss_start_mb']:.1f} MB)")


if __name__ == "__main__":
    main()

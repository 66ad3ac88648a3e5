"""Text-record benchmark: ``iter_text`` on one very long line against a raw split of the file.

Writes a file holding one line of 1, 16 and 64 MB (then a short one), and reads it three
ways, keeping the best of ``--repeat`` runs: ``iter_text`` (the copybook reader, 1 MiB
chunks), ``iter_text`` with ``max_length`` set (the same, checked), and the baseline: the
whole file read at once and split on newlines, the fastest a reader can be. Prints
milliseconds and the peak of Python allocations (tracemalloc, a separate pass) of each, and
the ratio reader / baseline. Linear time shows as a ratio that stays flat as the line grows;
the reader before issue 9 took 4.8 s and 218 MB for the 64 MB line. Run:

    python benchmarks/bench_text_records.py [--sizes 1,16,64] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from legacy.copybook.records import iter_text  # noqa: E402

MB = 1024 * 1024


def _reader(path: Path, max_length: int | None) -> int:
    with open(path, "rb") as fh:
        return sum(len(r) for r in iter_text(fh, max_length=max_length))


def _baseline(path: Path) -> int:
    with open(path, "rb") as fh:
        return sum(len(r) for r in fh.read().split(b"\n"))


def _best_ms(fn: Callable[[], int], repeat: int) -> tuple[float, int]:
    best = float("inf")
    result = 0
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best * 1000, result


def _peak_mb(fn: Callable[[], int]) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / MB
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,16,64", help="line sizes in MB, comma-separated")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'line':>6}  {'reader ms':>10}  {'checked ms':>10}  {'split ms':>9}  {'ratio':>6}  "
          f"{'reader peak':>11}  {'split peak':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            path = Path(tmp) / f"line{size}.txt"
            path.write_bytes(b"x" * (size * MB) + b"\nshort\n")
            sides = {
                "reader": lambda path=path: _reader(path, None),
                "checked": lambda path=path: _reader(path, 128 * MB),
                "split": lambda path=path: _baseline(path),
            }
            times = {}
            for name, fn in sides.items():
                times[name], total = _best_ms(fn, args.repeat)
                if total != size * MB + 5:
                    raise SystemExit(f"{name} read {total} bytes, expected {size * MB + 5}")
            peaks = {name: _peak_mb(sides[name]) for name in ("reader", "split")}
            print(f"{size:>4}MB  {times['reader']:>10.1f}  {times['checked']:>10.1f}  {times['split']:>9.1f}  "
                  f"{times['reader'] / times['split']:>6.2f}  {peaks['reader']:>9.1f}MB  {peaks['split']:>8.1f}MB")


if __name__ == "__main__":
    main()

"""Copybook benchmark: the general codec against a decoder hand-written for one layout.

Writes 1,000,000 fixed-length EBCDIC records of a 20-field copybook (text, zoned decimals
signed and unsigned, packed decimals, binary) to a file in a temporary directory, then reads
and decodes the whole file twice, each time in a fresh worker process: once with
``layout.iter_records`` and once with a loop and decoder written by hand for this layout
(precomputed slices, one conversion per field, Decimal for scaled numbers, the fastest
conversions known for each kind). Prints records per second and peak RSS of each, and the
ratio general / hand-written (target: 0.8 or more). Then the same file goes through the engine:
a route ``split(copybook_records(layout), streaming=True)`` with one exchange per record (the
file's path as the body, read in chunks), once with a no-op step per record and once with
``marshal("json")`` per record (copybook to JSON, Decimals exact); their records per second and
peak RSS are printed beside the codec's, with the ratio to the codec alone. Run:

    python benchmarks/bench_copybook.py [--records N] [--repeat K]

``--repeat K`` runs each side K times and keeps the best, as noise on a shared machine only
ever slows a run down.
"""

from __future__ import annotations

import argparse
import codecs
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

COPYBOOK = """\
      * Bank transaction: 20 fields, packed and zoned decimals.
       01  TRANSACTION.
           05  TXN-ID              PIC 9(10).
           05  ACCOUNT-NO          PIC X(12).
           05  CUSTOMER-NAME       PIC X(30).
           05  TXN-DATE            PIC 9(8).
           05  TXN-TIME            PIC 9(6).
           05  AMOUNT              PIC S9(9)V99   COMP-3.
           05  BALANCE             PIC S9(11)V99  COMP-3.
           05  FEE                 PIC S9(5)V99   COMP-3.
           05  QUANTITY            PIC S9(7)      COMP-3.
           05  UNIT-PRICE          PIC S9(7)V9(4) COMP-3.
           05  TAX-RATE            PIC 9V9(4).
           05  DISCOUNT            PIC S9(5)V99.
           05  BRANCH              PIC 9(4).
           05  TELLER              PIC X(8).
           05  CURRENCY            PIC X(3).
           05  STATUS-CODE         PIC X.
           05  ITEM-COUNT          PIC S9(4)      COMP.
           05  SEQUENCE-NO         PIC 9(9)       COMP.
           05  POINTS              PIC S9(7).
           05  MEMO                PIC X(20).
"""

_T037 = bytes(range(256)).decode("cp037")
_DIGITS = bytes(0x30 + b - 0xF0 if 0xF0 <= b <= 0xF9 else 0x78 for b in range(256))  # F0-F9 -> 0-9, else 'x'
_PACKED_SIGN = {"c": "", "f": "", "d": "-"}
_ZONED_SIGN = {"c": "", "f": "", "d": "-"}
_cmd = codecs.charmap_decode


def handwritten(r: bytes) -> dict:
    """The layout above, decoded by hand: one slice and one conversion per field."""
    if len(r) < 154:
        raise ValueError("short record")
    h1 = r[66:72].hex()
    h2 = r[72:79].hex()
    h3 = r[79:83].hex()
    h4 = r[83:87].hex()
    h5 = r[87:93].hex()
    z1 = r[98:105].hex()
    z2 = r[127:134].hex()
    return {
        "TXN-ID": int(r[0:10].translate(_DIGITS)),
        "ACCOUNT-NO": _cmd(r[10:22], None, _T037)[0].rstrip(" "),
        "CUSTOMER-NAME": _cmd(r[22:52], None, _T037)[0].rstrip(" "),
        "TXN-DATE": int(r[52:60].translate(_DIGITS)),
        "TXN-TIME": int(r[60:66].translate(_DIGITS)),
        "AMOUNT": Decimal(_PACKED_SIGN[h1[-1]] + h1[:-1] + "e-2"),
        "BALANCE": Decimal(_PACKED_SIGN[h2[-1]] + h2[:-1] + "e-2"),
        "FEE": Decimal(_PACKED_SIGN[h3[-1]] + h3[:-1] + "e-2"),
        "QUANTITY": int(_PACKED_SIGN[h4[-1]] + h4[:-1]),
        "UNIT-PRICE": Decimal(_PACKED_SIGN[h5[-1]] + h5[:-1] + "e-4"),
        "TAX-RATE": Decimal(r[93:98].translate(_DIGITS).decode() + "e-4"),
        "DISCOUNT": Decimal(_ZONED_SIGN[z1[-2]] + z1[1::2] + "e-2"),
        "BRANCH": int(r[105:109].translate(_DIGITS)),
        "TELLER": _cmd(r[109:117], None, _T037)[0].rstrip(" "),
        "CURRENCY": _cmd(r[117:120], None, _T037)[0].rstrip(" "),
        "STATUS-CODE": _cmd(r[120:121], None, _T037)[0].rstrip(" "),
        "ITEM-COUNT": int.from_bytes(r[121:123], "big", signed=True),
        "SEQUENCE-NO": int.from_bytes(r[123:127], "big"),
        "POINTS": int(_ZONED_SIGN[z2[-2]] + z2[1::2]),
        "MEMO": _cmd(r[134:154], None, _T037)[0].rstrip(" "),
    }


RECORD_LENGTH = 154


def sample_records(layout, count: int, seed: int = 7) -> list[dict]:
    rnd = random.Random(seed)
    names = ["SMITH JOHN", "GARCIA MARIA", "MUELLER KLAUS", "ROSSI ANNA", "DUPONT CLAIRE"]
    records = []
    for i in range(count):
        records.append({
            "TXN-ID": rnd.randrange(10 ** 10), "ACCOUNT-NO": f"AC{rnd.randrange(10 ** 10):010d}",
            "CUSTOMER-NAME": rnd.choice(names), "TXN-DATE": 20240101 + rnd.randrange(28),
            "TXN-TIME": rnd.randrange(240000), "AMOUNT": Decimal(rnd.randrange(-10 ** 11 + 1, 10 ** 11)).scaleb(-2),
            "BALANCE": Decimal(rnd.randrange(-10 ** 13 + 1, 10 ** 13)).scaleb(-2),
            "FEE": Decimal(rnd.randrange(10 ** 7)).scaleb(-2), "QUANTITY": rnd.randrange(-10 ** 7 + 1, 10 ** 7),
            "UNIT-PRICE": Decimal(rnd.randrange(10 ** 11)).scaleb(-4), "TAX-RATE": Decimal(rnd.randrange(10 ** 5)).scaleb(-4),
            "DISCOUNT": Decimal(rnd.randrange(-10 ** 7 + 1, 10 ** 7)).scaleb(-2), "BRANCH": rnd.randrange(10 ** 4),
            "TELLER": f"T{i % 999:03d}", "CURRENCY": rnd.choice(["EUR", "USD", "CHF"]), "STATUS-CODE": rnd.choice("APR"),
            "ITEM-COUNT": rnd.randrange(-9999, 10000), "SEQUENCE-NO": rnd.randrange(10 ** 9),
            "POINTS": rnd.randrange(-10 ** 7 + 1, 10 ** 7), "MEMO": rnd.choice(["", "REFUND", "SALARY MARCH", "ATM"]),
        })
    return records


def write_file(path: Path, count: int) -> None:
    from legacy import parse_copybook

    layout = parse_copybook(COPYBOOK, "cp037")
    if layout.record_length != RECORD_LENGTH:
        raise SystemExit(f"layout is {layout.record_length} bytes, the hand-written decoder expects {RECORD_LENGTH}")
    distinct = [layout.encode(r) for r in sample_records(layout, 1000)]
    for data in distinct[:50]:  # the hand-written decoder must agree with the codec
        if handwritten(data) != layout.decode(data):
            raise SystemExit("hand-written decoder disagrees with the codec")
    block = b"".join(distinct)
    with open(path, "wb") as fh:
        fh.writelines(block for _ in range(count // len(distinct)))
        fh.write(b"".join(distinct[:count % len(distinct)]))


def engine_run(path: str, to_json: bool) -> tuple[int, float]:
    """Records routed through split(copybook_records(...), streaming=True), and the seconds taken."""
    from eip import Engine, RouteBuilder
    from legacy import copybook_records, parse_copybook

    layout = parse_copybook(COPYBOOK, "cp037")
    seen = [0]

    def count(exchange) -> None:
        seen[0] += 1

    class CopybookToJson(RouteBuilder):
        def configure(self) -> None:
            steps = self.from_("direct:file").split(copybook_records(layout), streaming=True)
            if to_json:
                steps = steps.marshal("json")
            steps.process(count).end()

    with Engine(routes=[CopybookToJson]) as engine:
        started = time.perf_counter()
        engine.template.send_body("direct:file", Path(path))
        return seen[0], time.perf_counter() - started


def worker(side: str, path: str) -> dict:
    start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    count = 0
    if side in ("engine", "engine-json"):
        count, elapsed = engine_run(path, side == "engine-json")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return {"records": count, "seconds": elapsed, "peak_rss_kib": peak, "start_rss_kib": start_rss}
    if side == "general":
        from legacy import parse_copybook

        layout = parse_copybook(COPYBOOK, "cp037")
        started = time.perf_counter()
        with open(path, "rb") as fh:
            for _record in layout.iter_records(fh, "fixed"):
                count += 1
    else:
        started = time.perf_counter()
        size = RECORD_LENGTH
        with open(path, "rb") as fh:
            while True:
                chunk = fh.read(size * 8192)
                if not chunk:
                    break
                for i in range(0, len(chunk), size):
                    handwritten(chunk[i:i + size])
                    count += 1
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"records": count, "seconds": elapsed, "peak_rss_kib": peak, "start_rss_kib": start_rss}


def run_worker(side: str, path: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--worker", side, "--file", str(path)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--worker", choices=["general", "handwritten", "engine", "engine-json"], help=argparse.SUPPRESS)
    parser.add_argument("--no-engine", action="store_true", help="measure the codecs only")
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.file)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "transactions.dat"
        write_file(path, args.records)
        print(f"{args.records:,} records of {RECORD_LENGTH} bytes, 20 fields ({os.path.getsize(path) / 1e6:.0f} MB)")
        best: dict[str, dict] = {}
        sides = ("handwritten", "general") if args.no_engine else ("handwritten", "general", "engine", "engine-json")
        for _ in range(args.repeat):
            for side in sides:
                result = run_worker(side, path)
                if result["records"] != args.records:
                    raise SystemExit(f"{side} decoded {result['records']} records, not {args.records}")
                if side not in best or result["seconds"] < best[side]["seconds"]:
                    best[side] = result
        for side, label in (("handwritten", "hand-written decoder"), ("general", "general codec")):
            r = best[side]
            print(f"{label:22s} {r['records'] / r['seconds']:>10,.0f} records/s   "
                  f"peak RSS {r['peak_rss_kib'] / 1024:6.1f} MiB (at start {r['start_rss_kib'] / 1024:5.1f} MiB)")
        ratio = (best["general"]["records"] / best["general"]["seconds"]) / (
            best["handwritten"]["records"] / best["handwritten"]["seconds"])
        print(f"ratio general / hand-written: {ratio:.2f} (target >= 0.80)")
        if args.no_engine:
            return
        codec_rate = best["general"]["records"] / best["general"]["seconds"]
        for side, label in (("engine", "engine streaming split"), ("engine-json", "engine split + json")):
            r = best[side]
            rate = r["records"] / r["seconds"]
            print(f"{label:22s} {rate:>10,.0f} records/s   peak RSS {r['peak_rss_kib'] / 1024:6.1f} MiB "
                  f"(at start {r['start_rss_kib'] / 1024:5.1f} MiB)   {rate / codec_rate:.2f} of the codec alone")


if __name__ == "__main__":
    main()

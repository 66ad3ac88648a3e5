"""File to SQL: a 100,000-line CSV into PostgreSQL, engine route vs hand-written SQLAlchemy.

Engine:   file:IN -> split(body().tokenize("\\n", 1000), streaming=True)
                  -> CSV text to a list of dicts -> sql:INSERT ...?batch=true
Baseline: read the file with csv.reader, 1000 rows at a time, conn.execute(text(INSERT), rows)
          (executemany), one transaction per 1000 rows, as the route commits per batch.

Both insert the same rows with the same statement and the same commit granularity. Each run
happens in a fresh child process, so the peak RSS it reports (``ru_maxrss``) belongs to that run
alone; the RSS after imports is printed too (the interpreter, SQLAlchemy, psycopg and the engine
are most of it). The engine's time runs from the moment the file appears in the input folder
(the engine is already started, polling every 10 ms) until the route completed the file.

    .venv/bin/python benchmarks/bench_file_to_sql.py [--lines 100000] [--repeat 3]
        [--url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--source file|direct]

``--source direct`` sends the file through ``direct:`` instead of the file component (the same
split and SQL steps). Prints figures and ratios; never a pass/fail test.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

DEFAULT_URL = os.environ.get("EIP_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BATCH = 1000


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def insert_sql(table: str) -> str:
    return f"INSERT INTO {table} (id, name, amount) VALUES (:id, :name, :amount)"


# -- the two contenders (each runs in a child process) -------------------------------------------
def run_baseline(url: str, table: str, csv_path: str) -> dict[str, float]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url, pool_pre_ping=True)
    statement = text(insert_sql(table))
    with engine.connect():
        pass  # connect before timing, as the engine's pool would be warm after its first batch
    after_imports = rss_mb()
    started = time.perf_counter()
    rows = 0
    with open(csv_path, newline="", encoding="utf-8") as f:
        batch: list[dict[str, str]] = []
        for record in csv.reader(f):
            batch.append({"id": int(record[0]), "name": record[1], "amount": record[2]})
            if len(batch) == BATCH:
                with engine.begin() as conn:
                    conn.execute(statement, batch)
                rows += len(batch)
                batch = []
        if batch:
            with engine.begin() as conn:
                conn.execute(statement, batch)
            rows += len(batch)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return {"seconds": elapsed, "rows": rows, "rss_after_imports_mb": after_imports, "peak_rss_mb": peak_mb()}


def csv_to_rows(exchange: object) -> None:
    message = exchange.message  # type: ignore[attr-defined]
    message.body = [{"id": int(r[0]), "name": r[1], "amount": r[2]}
                    for r in csv.reader(io.StringIO(message.body))]


def run_engine(url: str, table: str, csv_path: str, source: str) -> dict[str, float]:
    from eip import Engine, body

    inbox = Path(csv_path).parent / "inbox"
    inbox.mkdir(exist_ok=True)
    insert_uri = f"sql:{insert_sql(table).replace(':', ':#')}?datasource=bench&batch=true"
    from_uri = f"file:{inbox}?initial_delay=0&delay=0.01" if source == "file" else "direct:csv"

    def build(r: object) -> None:
        (r.from_(from_uri).route_id("file-to-sql")  # type: ignore[attr-defined]
         .split(body().tokenize("\n", BATCH), streaming=True)
         .process(csv_to_rows)
         .to(insert_uri)
         .end())

    engine = Engine()
    engine.add_datasource("bench", url)
    engine.add_routes(build)
    finished = threading.Event()
    engine.add_listener(lambda route_id, exchange: finished.set())
    engine.start()
    with engine.datasource("bench").connect():
        pass  # the pool is warm, as for the baseline
    after_imports = rss_mb()
    started = time.perf_counter()
    if source == "file":
        os.rename(csv_path, inbox / "data.csv")  # appears atomically in the polled folder
        if not finished.wait(600):
            raise SystemExit("the route did not finish the file within 600 s")
    else:
        with open(csv_path, encoding="utf-8") as f:
            engine.template.send_body("direct:csv", f)
    elapsed = time.perf_counter() - started
    stats = engine.route_stats("file-to-sql")
    engine.stop()
    if stats["exchanges_failed"]:
        raise SystemExit(f"the route failed: {stats}")
    if source == "file":
        os.rename(next((inbox / ".done").rglob("data*.csv")), csv_path)  # put it back for the next run
    return {"seconds": elapsed, "rss_after_imports_mb": after_imports, "peak_rss_mb": peak_mb()}


# -- orchestration --------------------------------------------------------------------------------
def child(args: argparse.Namespace) -> None:
    if args.phase == "baseline":
        result = run_baseline(args.url, args.table, args.csv)
    else:
        result = run_engine(args.url, args.table, args.csv, args.source)
    print(json.dumps(result))


def run_child(phase: str, args: argparse.Namespace, table: str, csv_path: str) -> dict[str, float]:
    command = [sys.executable, __file__, "--phase", phase, "--url", args.url, "--table", table,
               "--csv", csv_path, "--source", args.source]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{phase} run failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--source", choices=("file", "direct"), default="file")
    parser.add_argument("--phase", choices=("baseline", "engine"), help=argparse.SUPPRESS)
    parser.add_argument("--table", help=argparse.SUPPRESS)
    parser.add_argument("--csv", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        child(args)
        return

    from sqlalchemy import create_engine, text

    admin = create_engine(args.url)
    table = f"bench_file_sql_{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="bench-file-sql-") as tmp:
        csv_path = os.path.join(tmp, "data.csv")
        with open(csv_path, "w", encoding="utf-8", newline="") as f:
            f.writelines(f"{i},customer {i % 977} \"quoted\",{i * 7 % 100000 / 100:.2f}\n"
                         for i in range(1, args.lines + 1))
        size_mb = os.path.getsize(csv_path) / 2**20
        with admin.begin() as conn:
            conn.execute(text(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, name TEXT, amount NUMERIC(10, 2))"))
        results: dict[str, list[dict[str, float]]] = {"baseline": [], "engine": []}
        try:
            for _ in range(args.repeat):
                for phase in ("baseline", "engine"):
                    with admin.begin() as conn:
                        conn.execute(text(f"TRUNCATE {table}"))
                    results[phase].append(run_child(phase, args, table, csv_path))
                    with admin.connect() as conn:
                        count = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
                    if count != args.lines:
                        raise SystemExit(f"{phase}: {count} rows in the table, expected {args.lines}")
        finally:
            with admin.begin() as conn:
                conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
            admin.dispose()

    def rate(phase: str) -> float:
        return args.lines / statistics.median(r["seconds"] for r in results[phase])

    base, eng = rate("baseline"), rate("engine")
    print(f"File to SQL: {args.lines:,} CSV lines ({size_mb:.1f} MB) into PostgreSQL, "
          f"batches of {BATCH}, {args.repeat} run(s) each, median")
    print(f"  source of the engine route: {args.source}" + ("" if args.source == "file" else
                                                             " (direct:, not the file component)"))
    for phase, label in (("baseline", "hand-written SQLAlchemy executemany"),
                         ("engine", "engine split(streaming) -> sql(batch)")):
        runs = results[phase]
        times = ", ".join(f"{r['seconds']:.2f}s" for r in runs)
        print(f"  {label:<40} {rate(phase):>9,.0f} rows/s   ({times}); "
              f"RSS after imports {statistics.median(r['rss_after_imports_mb'] for r in runs):.0f} MB, "
              f"peak {max(r['peak_rss_mb'] for r in runs):.0f} MB")
    print(f"  ratio engine / baseline: {eng / base:.2f} (target >= 0.7)")


if __name__ == "__main__":
    main()

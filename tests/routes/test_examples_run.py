"""``eip run`` on a fresh checkout starts the example routes, and the sample files go through.

The README's promise, as a person would try it: ``eip run`` in the checkout (default
``./routes``, no configuration), then drop the samples into ``data/...`` and ask for a quote.
Runs in tmp_path with ``routes`` linked to the real folder, so nothing lands in the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from eip.testing import eventually

ROUTES = Path(__file__).resolve().parents[2] / "routes"
SAMPLES = ROUTES / "samples"


@contextmanager
def log_on_failure(log: Path) -> Iterator[None]:
    """A failed wait shows the engine's log: why the routes did not start or the files stayed."""
    try:
        yield
    except AssertionError as failure:
        raise AssertionError(f"{failure}\n{log.read_text()}") from None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_eip_run_starts_the_examples_and_the_sample_files_go_through(tmp_path):
    (tmp_path / "routes").symlink_to(ROUTES, target_is_directory=True)
    port = free_port()
    log = tmp_path / "eip.log"
    env = {**os.environ, "EIP_SERVER_PORT": str(port)}
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "eip.cli", "run"], cwd=tmp_path, env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
    data = tmp_path / "data"
    try:
        with log_on_failure(log):
            eventually(lambda: (data / "orders" / "in").is_dir() and (data / "mainframe" / "in").is_dir()
                       and "route(s) running" in log.read_text(), 30, "the routes to start")
        for sample in SAMPLES.glob("orders/*.json"):
            shutil.copy(sample, data / "orders" / "in")
        shutil.copy(SAMPLES / "mainframe" / "customers.dat", data / "mainframe" / "in")

        quote = requests.post(f"http://127.0.0.1:{port}/api/quotes", timeout=10,
                              json={"customer": "C-1", "items": [{"sku": "SKU-OIL", "qty": 2}]})
        assert quote.status_code == 200, quote.text
        assert quote.json()["total"] == 23.0

        with log_on_failure(log):
            eventually(lambda: len(list((data / "orders" / "out").glob("*.json"))) == 2
                       and len(list((data / "orders" / "error").glob("*.reason"))) == 3
                       and len(list((data / "mainframe" / "out").glob("*.json"))) == 5, 30, "the samples")
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
    text = log.read_text()
    assert code == 0, text
    assert json.loads((data / "orders" / "out" / "1002.json").read_text())["total"] == "71.48"
    assert (tmp_path / "eip.db").is_file()  # the default datasource, in the working directory
    for route in ("order-files", "mainframe-bridge", "quote-api", "daily-totals", "order-generator"):
        assert f"route '{route}' started" in text, text

"""SOAP benchmark, against spyne (an independent SOAP server) in-process on loopback.

* Producer: ``GetQuote`` calls per second, one after another, through the engine's ``soap:``
  producer (``engine.template.request_body``, and through a ``direct:`` route) against the same
  calls made with a bare zeep client (``client.service.GetQuote``); prints the ratio (target
  >= 0.9: the engine adds little to zeep's own cost).
* Consumer: requests per second that the engine's ``soap:`` consumer (WSDL written by spyne,
  schema validation on and off) serves on the engine's HTTP server, with p50/p99 latency, for
  one client and for ``--clients`` concurrent clients posting a prebuilt envelope over
  keep-alive connections; and spyne serving the same requests as the baseline.

The variants take turns (producer: in chunks of 50 calls; consumer: ``--repeat`` rounds, best
kept) so machine noise and the server's drift spread evenly.
Run: ``python benchmarks/bench_soap.py [--calls N] [--requests N] [--clients N]``.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from tempfile import TemporaryDirectory

import requests
import zeep

from eip import Engine, RouteBuilder
from eip.http_server import http_server

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "components"))
from soap_support import SpyneServer

ENVELOPE = (b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
            b'<q:GetQuote xmlns:q="urn:example:quotes"><q:symbol>IBM</q:symbol></q:GetQuote>'
            b'</soap:Body></soap:Envelope>')


def rate(calls: int, fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        fn()
    return calls / (time.perf_counter() - started)


def producer(spyne: SpyneServer, calls: int, repeat: int) -> None:
    wsdl = f"{spyne.url}/?wsdl"
    client = zeep.Client(wsdl)
    service = client.service

    class Route(RouteBuilder):
        def configure(self) -> None:
            self.from_("direct:quote").to(f"soap:GetQuote?wsdl={wsdl}")

    with Engine(routes=[Route()]) as engine:
        template = engine.template
        uri = f"soap:GetQuote?wsdl={wsdl}"
        body = {"symbol": "IBM"}
        variants = {
            "bare zeep": lambda: service.GetQuote("IBM"),
            "engine soap: producer": lambda: template.request_body(uri, body),
            "engine direct: -> soap:": lambda: template.request_body("direct:quote", body),
        }
        for fn in variants.values():  # warm up: WSDL loaded, connections open
            for _ in range(50):
                assert fn() == 123.45
        # Interleaved in chunks: the server's speed drifts over a run, and every variant sees the same drift.
        spent = dict.fromkeys(variants, 0.0)
        chunk = 50
        for _ in range(repeat * max(1, calls // chunk)):
            for name, fn in variants.items():
                spent[name] += chunk / rate(chunk, fn)
        done = repeat * max(1, calls // chunk) * chunk
        best = {name: done / seconds for name, seconds in spent.items()}
    base = best["bare zeep"]
    print(f"\nSOAP producer: {repeat} x {calls} sequential GetQuote calls per variant, interleaved in chunks")
    for name, value in best.items():
        print(f"  {name:<26} {value:8.0f} calls/s   ratio {value / base:5.2f}")


def latencies(url: str, requests_total: int, clients: int) -> tuple[float, list[float]]:
    """(requests/s, sorted latencies in seconds) for ``clients`` threads posting ``ENVELOPE``."""
    per_client = requests_total // clients
    results: list[list[float]] = [[] for _ in range(clients)]
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"GetQuote"'}
    barrier = threading.Barrier(clients + 1)

    def run(index: int) -> None:
        session = requests.Session()
        session.post(url, data=ENVELOPE, headers=headers, timeout=10).raise_for_status()  # connect first
        barrier.wait()
        own = results[index]
        for _ in range(per_client):
            started = time.perf_counter()
            response = session.post(url, data=ENVELOPE, headers=headers, timeout=10)
            own.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"{url}: {response.status_code} {response.text[:200]}")
        session.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    flat = sorted(value for own in results for value in own)
    return len(flat) / elapsed, flat


def percentile(values: list[float], fraction: float) -> float:
    return values[min(len(values) - 1, int(len(values) * fraction))]


def consumer(spyne: SpyneServer, requests_total: int, clients: int, repeat: int) -> None:
    with TemporaryDirectory() as folder:
        wsdl = Path(folder) / "quotes.wsdl"
        wsdl.write_bytes(requests.get(f"{spyne.url}/?wsdl", timeout=10).content)

        class Quotes(RouteBuilder):
            def configure(self) -> None:
                self.from_(f"soap:/quotes?wsdl={wsdl}").set_body(123.45)
                self.from_(f"soap:/unvalidated?wsdl={wsdl}&validate=false").set_body(123.45)

        with Engine(routes=[Quotes()], properties={"server.port": 0, "server.threads": max(4, clients)}) as engine:
            base = http_server(engine).url
            targets = {"engine soap: consumer": f"{base}/quotes",
                       "  same, validate=false": f"{base}/unvalidated",
                       "spyne (baseline)": f"{spyne.url}/"}
            print(f"\nSOAP consumer: {requests_total} GetQuote requests, best of {repeat} "
                  "(requests/s, p50 and p99 latency)")
            for concurrency in sorted({1, clients}):
                best: dict[str, tuple[float, list[float]]] = {}
                for _ in range(repeat):
                    for name, url in targets.items():
                        measured = latencies(url, requests_total, concurrency)
                        if name not in best or measured[0] > best[name][0]:
                            best[name] = measured
                print(f"  {concurrency} client{'s' if concurrency > 1 else ''}:")
                for name, (per_second, values) in best.items():
                    print(f"    {name:<24} {per_second:8.0f} req/s   p50 {percentile(values, 0.5) * 1000:6.2f} ms"
                          f"   p99 {percentile(values, 0.99) * 1000:6.2f} ms   mean "
                          f"{statistics.fmean(values) * 1000:6.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1000, help="producer calls per variant and round")
    parser.add_argument("--requests", type=int, default=2000, help="consumer requests per variant and round")
    parser.add_argument("--clients", type=int, default=4, help="concurrent consumer clients (besides 1)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the best is kept")
    args = parser.parse_args()
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "Task queue depth" under load
    with SpyneServer(threads=max(4, args.clients)) as spyne:
        producer(spyne, args.calls, args.repeat)
        consumer(spyne, args.requests, args.clients, args.repeat)


if __name__ == "__main__":
    main()

"""Load on the web app: 20 concurrent clients on 127.0.0.1 for a bounded time.

Starts ``wijkradar serve`` on a free loopback port (a warehouse built from ../shared/data with the
eenzaamheid model, or ``--db FILE``), drives the gemeente page, its JSON and the goals page for
a set of gemeenten, and prints throughput and p50/p95/p99 latency per route, the errors, and the
first (uncached) request against the steady state as a ratio.

    python benchmarks/web.py [--db wijkradar.duckdb] [--seconds 20] [--clients 20]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import httpx

from wijkradar.ingest import ingest
from wijkradar.models.train import train_model
from wijkradar.warehouse import Warehouse

GEMEENTEN = [
    "GM0034",
    "GM0599",
    "GM0363",
    "GM0344",
    "GM0518",
    "GM0153",
    "GM0308",
    "GM0233",
    "GM0014",
    "GM0202",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _build(folder: Path) -> Path:
    data = Path(os.environ.get("WIJKRADAR_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
    db = folder / "web.duckdb"
    with Warehouse.open(db) as wh:
        ingest(wh, [data])
        train_model(wh, "Eenzaam_28", "65+", "buurt")
    return db


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or _build(Path(tmp))
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(  # noqa: S603  # our own CLI, fixed arguments
            [sys.executable, "-m", "wijkradar.cli", "serve", "--port", str(port), "--db", str(db)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait(base)
            first = {route: _first_requests(base, template) for route, template in ROUTES if "page" in route}
            latencies, errors, total = _load(base, args.clients, args.seconds)
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(f"{args.clients} clients, {args.seconds:.0f} s, {len(GEMEENTEN)} gemeenten, one uvicorn process")
    print(f"requests: {total:,}  throughput: {total / args.seconds:,.0f} req/s  errors: {errors}")
    for route, values in sorted(latencies.items()):
        p50, p95, p99 = (_percentile(values, q) * 1000 for q in (0.50, 0.95, 0.99))
        print(
            f"{route:24} n={len(values):6,}  p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  p99 {p99:6.1f} ms"
            + ("   (target p95 < 150 ms)" if route == "gemeente page" else "")
        )
    for route, times in first.items():
        steady = statistics.median(latencies[route])
        print(
            f"first, uncached {route}: median {statistics.median(times) * 1000:.0f} ms "
            f"= {statistics.median(times) / steady:.0f}x the steady-state median"
        )


def _wait(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit("server did not start")


ROUTES = (
    ("gemeente page", "/gemeente/{code}"),
    ("gemeente json", "/gemeente/{code}.json"),
    ("doelen page", "/gemeente/{code}/doelen"),
)


def _first_requests(base: str, template: str) -> list[float]:
    times = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for code in GEMEENTEN:
            start = time.perf_counter()
            client.get(template.format(code=code), params={"thema": "eenzaamheid"})
            times.append(time.perf_counter() - start)
    return times


def _load(base: str, clients: int, seconds: float) -> tuple[dict[str, list[float]], int, int]:
    latencies: dict[str, list[float]] = defaultdict(list)
    errors = 0
    total = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker(offset: int) -> None:
        nonlocal errors, total
        i = offset
        with httpx.Client(base_url=base, timeout=30) as client:
            while time.monotonic() < stop:
                code = GEMEENTEN[i % len(GEMEENTEN)]
                route, template = ROUTES[(i // len(GEMEENTEN)) % len(ROUTES)]
                path = template.format(code=code)
                start = time.perf_counter()
                try:
                    ok = client.get(path, params={"thema": "eenzaamheid"}).status_code == 200
                except httpx.HTTPError:
                    ok = False
                elapsed = time.perf_counter() - start
                with lock:
                    total += 1
                    latencies[route].append(elapsed)
                    errors += 0 if ok else 1
                i += 1

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors, total


if __name__ == "__main__":
    main()

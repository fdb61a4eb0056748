"""A team on one server: 2 workers, 20 logged-in clients, 60 s, 10% writes, the CLI beside it.

Builds a warehouse from ../shared/data with the eenzaamheid model (or takes ``--db FILE``), makes
one analist per client, starts ``wijkradar serve --workers 2`` on a free loopback port, and then:

1. the first (uncached) gemeente page of 40 gemeenten, against the same pages once cached;
2. the mixed run: each client logs in and loops over the gemeente page, its JSON and the goals
   page, and one request in ten saves a goal through the form (with its session's token);
   meanwhile ``wijkradar show Almere`` runs against the same warehouse;
3. kill -9 of one worker while a client saves goals: every goal the server confirmed must be there.

With ``--met-schrijver`` the warehouse is built without the Monitor Sociaal Domein, and during the
mixed run the CLI writes beside the site: it ingests those tables one by one and trains a model
between them. After each write the script asks ``/healthz`` until ten answers in a row show the new
version (both workers), and prints that delay (goal: within 2 s), the errors (goal: 0) and whether
every goal the site confirmed during the run was stored.

Prints latencies per route (p50/p95/p99), errors, and each figure as a ratio against ``/healthz``
measured in the same run.

    python benchmarks/web.py [--db wijkradar.duckdb] [--seconds 60] [--clients 20] [--workers 2]
                             [--met-schrijver]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import httpx

from wijkradar.access import hash_password
from wijkradar.appdb import AppDB, default_url
from wijkradar.ingest import ingest
from wijkradar.models.train import train_model
from wijkradar.warehouse import Warehouse

PASSWORD = "benchmark wachtwoord 2026"  # noqa: S105  # a throwaway account of this run
ROUTES = (
    ("gemeente page", "/gemeente/{code}"),
    ("gemeente json", "/gemeente/{code}.json"),
    ("doelen page", "/gemeente/{code}/doelen"),
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


DATA = Path(os.environ.get("WIJKRADAR_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
WRITTEN = "cbs-monitor-sociaal-domein"  # left out of the build with --met-schrijver, ingested meanwhile


def _build(folder: Path, *, leave_out: str | None = None) -> Path:
    db = folder / "web.duckdb"
    parts = [p for p in sorted(DATA.iterdir()) if p.is_dir() and p.name != leave_out]
    with Warehouse.open(db) as wh:
        ingest(wh, parts)
        train_model(wh, "Eenzaam_28", "65+", "buurt")
    return db


def _gemeenten(db: Path, count: int) -> list[str]:
    with Warehouse.open(db, read_only=True) as wh:
        with_buurten = wh.regions.table(level="buurt")["gemeente_code"].dropna().unique().tolist()
    return sorted(with_buurten)[:count]


def _users(db: Path, gemeenten: list[str], clients: int) -> list[tuple[str, str]]:
    """One analist per client, each for one gemeente; return (name, gemeente)."""
    made = []
    with _own(db) as own:
        hashed = hash_password(PASSWORD)
        for n in range(clients):
            name, gemeente = f"bench{n}", gemeenten[n % len(gemeenten)]
            own.accounts.save_user(name, hashed)
            own.accounts.set_role(name, gemeente, "analyst")
            made.append((name, gemeente))
    return made


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def _login(client: httpx.Client, name: str) -> None:
    token = re.search(r'name="_token" value="([^"]+)"', client.get("/login").text)
    assert token, "login form without token"
    answer = client.post("/login", data={"name": name, "password": PASSWORD, "_token": token.group(1)})
    assert answer.status_code == 303, answer.status_code


def _form_token(client: httpx.Client, code: str) -> str:
    found = re.search(r'name="_token" value="([^"]+)"', client.get(f"/gemeente/{code}/doelen").text)
    assert found, "goals page without form"
    return found.group(1)


def _save_goal(client: httpx.Client, code: str, token: str, title: str) -> bool:
    """Save a goal through the form; True when the site confirmed it (its redirect)."""
    form = {
        "_token": token,
        "thema": "eenzaamheid",
        "target_value": "44",
        "target_year": "2028",
        "title": title,
    }
    return client.post(f"/gemeente/{code}/doelen", data=form).status_code == 303


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--met-schrijver", dest="writer", action="store_true", help="the CLI writes meanwhile"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or _build(Path(tmp), leave_out=WRITTEN if args.writer else None)
        # A fresh operational store per run, so runs compare (goals of earlier runs would pile up).
        os.environ["WIJKRADAR_APP_DB"] = f"sqlite:///{Path(tmp) / 'bench.app.sqlite'}"
        gemeenten = _gemeenten(db, 40)
        accounts = _users(db, gemeenten, args.clients)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(  # noqa: S603  # our own CLI, fixed arguments
            [
                sys.executable,
                "-m",
                "wijkradar.cli",
                "serve",
                "--port",
                str(port),
                "--db",
                str(db),
                "--workers",
                str(args.workers),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait(base)
            first, cached, health = _first_pages(base, accounts[0][0], gemeenten)
            writes: list[tuple[str, int, float]] = []
            writer = threading.Thread(target=_write_beside, args=(base, db, args.seconds, writes))
            if args.writer:
                writer.start()
            latencies, errors, total, cli, saved = _mixed(base, accounts, args.seconds, db)
            if args.writer:
                writer.join()
            unsaved = _lost(db, saved)
            confirmed, lost = _kill_during_writes(base, accounts[0], server.pid, db)
        finally:
            server.terminate()
            server.wait(timeout=20)
    _report(args, first, cached, health, latencies, errors, total, cli, confirmed, lost)
    print(f"goals confirmed during the mixed run: {len(saved)}, of them not stored: {unsaved}")
    if args.writer:
        _report_writes(writes)


def _report(
    args: argparse.Namespace,
    first: list[float],
    cached: list[float],
    health: list[float],
    latencies: dict[str, list[float]],
    errors: int,
    total: int,
    cli: tuple[int, float],
    confirmed: int,
    lost: int,
) -> None:
    base = _percentile(health, 0.95)
    print(f"{args.workers} workers, {args.clients} logged-in clients, {args.seconds:.0f} s, 10% writes")
    print(f"baseline /healthz p95 {base * 1000:.1f} ms (every ratio below is against it)")
    p95_first = _percentile(first, 0.95)
    print(
        f"first (uncached) gemeente page, {len(first)} gemeenten: p95 {p95_first * 1000:.0f} ms "
        f"= {p95_first / base:.0f}x healthz (goal < 150 ms); "
        f"cached p95 {_percentile(cached, 0.95) * 1000:.0f} ms"
    )
    print(f"mixed run: {total:,} requests, {total / args.seconds:,.0f} req/s, errors: {errors}")
    for route, values in sorted(latencies.items()):
        p50, p95, p99 = (_percentile(values, q) * 1000 for q in (0.50, 0.95, 0.99))
        goal = "   (goal p95 < 200 ms)" if route == "goal save" else ""
        print(
            f"  {route:14} n={len(values):6,}  p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  p99 {p99:6.1f} ms"
            f"  p95 = {p95 / 1000 / base:.0f}x healthz{goal}"
        )
    print(f"wijkradar show Almere during the run: exit {cli[0]} in {cli[1]:.1f} s")
    print(f"kill -9 of a worker during writes: {confirmed} goals confirmed, {lost} of them lost")


def _report_writes(writes: list[tuple[str, int, float]]) -> None:
    print(f"the CLI wrote {len(writes)} new versions during the run (ingest and train):")
    for what, code, delay in writes:
        shown = f"served by both workers {delay:.2f} s after its file was written" if code == 0 else "unseen"
        print(f"  {what:32} exit {code}  {shown}")
    delays = [d for _, code, d in writes if code == 0]
    if delays:
        median = sorted(delays)[len(delays) // 2]
        print(f"new version served within: max {max(delays):.2f} s (goal: 2 s), median {median:.2f} s")


def _fingerprint(client: httpx.Client) -> dict[str, int] | None:
    try:
        answer = client.get("/healthz")
    except httpx.HTTPError:
        return None
    if answer.status_code != 200:
        return None
    data: dict[str, int] = answer.json()["data"]
    return data


def _write_beside(base: str, db: Path, seconds: float, writes: list[tuple[str, int, float]]) -> None:
    """Ingest the left-out tables one by one and train a model between them, while the site serves.

    After each command the site is asked until ten answers in a row carry a fingerprint other than
    the one before the command: with two workers answering in turn, both then serve the new version.
    """
    tables = sorted((DATA / WRITTEN).glob("*.csv"))
    commands = []
    for n, table in enumerate(tables):
        commands.append((f"ingest {table.name}", ["ingest", str(table), "--quiet"]))
        if n % 3 == 1:
            commands.append(
                ("train eenzaamheid, gemeente", ["train", "--thema", "eenzaamheid", "--level", "gemeente"])
            )
    stop = time.monotonic() + seconds - 5
    with httpx.Client(base_url=base, timeout=30) as client:
        for what, arguments in commands:
            if time.monotonic() > stop:
                break
            before = _fingerprint(client)
            done = subprocess.run(  # noqa: S603  # our own CLI, fixed arguments
                [sys.executable, "-m", "wijkradar.cli", *arguments, "--db", str(db)],
                capture_output=True,
                check=False,
            )
            # The new version exists from the moment its file was written (the CLI then still closes
            # and exits): the delay is measured from then, on the wall clock.
            ended = db.stat().st_mtime
            if done.returncode != 0:
                writes.append((what, done.returncode, float("nan")))
                continue
            # The delay ends when the first request of the final streak was sent: from then on every
            # answer was new. (Under load one answer takes a while; ten of them are not the site's delay.)
            streak, streak_start = 0, ended
            while streak < 10 and time.time() - ended < 60:
                sent = time.time()
                now = _fingerprint(client)
                if now is not None and now != before:
                    streak, streak_start = streak + 1, streak_start if streak else sent
                else:
                    streak = 0
                time.sleep(0.01)
            writes.append((what, 0 if streak >= 10 else 1, streak_start - ended))


def _own(db: Path) -> AppDB:
    """The operational store of this run (its own SQLite file, set in main)."""
    return AppDB.open(os.environ.get("WIJKRADAR_APP_DB") or default_url(db))


def _lost(db: Path, saved: list[tuple[str, str]]) -> int:
    """Count the goals the site confirmed that the operational store does not hold."""
    with _own(db) as own:
        stored = {(g["gemeente_code"], g["title"]) for g in own.goals()}
    return len([s for s in saved if s not in stored])


def _wait(base: str) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit("server did not start")


def _timed(client: httpx.Client, path: str) -> float:
    start = time.perf_counter()
    client.get(path, params={"thema": "eenzaamheid"})
    return time.perf_counter() - start


def _first_pages(base: str, name: str, gemeenten: list[str]) -> tuple[list[float], list[float], list[float]]:
    with httpx.Client(base_url=base, timeout=60) as client:
        _login(client, name)
        health = [_timed(client, "/healthz") for _ in range(50)]
        first = [_timed(client, f"/gemeente/{code}") for code in gemeenten]
        # Each worker keeps its own cache: ask twice more so both have every page.
        cached = [_timed(client, f"/gemeente/{code}") for code in gemeenten * 3][len(gemeenten) * 2 :]
    return first, cached, health


def _mixed(
    base: str, accounts: list[tuple[str, str]], seconds: float, db: Path
) -> tuple[dict[str, list[float]], int, int, tuple[int, float], list[tuple[str, str]]]:
    latencies: dict[str, list[float]] = defaultdict(list)
    saved: list[tuple[str, str]] = []
    counts = {"errors": 0, "total": 0}
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    cli: list[tuple[int, float]] = []

    def client_loop(n: int, name: str, code: str) -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            _login(client, name)
            token = _form_token(client, code)
            i = n
            while time.monotonic() < stop:
                start = time.perf_counter()
                try:
                    if i % 10 == 0:
                        route, ok = "goal save", _save_goal(client, code, token, f"{name} {i}")
                        if ok:
                            with lock:
                                saved.append((code, f"{name} {i}"))
                    else:
                        route, template = ROUTES[i % len(ROUTES)]
                        ok = (
                            client.get(
                                template.format(code=code), params={"thema": "eenzaamheid"}
                            ).status_code
                            == 200
                        )
                except httpx.HTTPError:
                    route, ok = "failed", False
                elapsed = time.perf_counter() - start
                with lock:
                    counts["total"] += 1
                    latencies[route].append(elapsed)
                    counts["errors"] += 0 if ok else 1
                i += 1

    def cli_beside() -> None:
        time.sleep(seconds / 3)
        start = time.perf_counter()
        shown = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "wijkradar.cli", "show", "Almere", "--db", str(db), "--format", "json"],
            capture_output=True,
            check=False,
        )
        cli.append((shown.returncode, time.perf_counter() - start))

    threads = [threading.Thread(target=client_loop, args=(n, *account)) for n, account in enumerate(accounts)]
    threads.append(threading.Thread(target=cli_beside))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, counts["errors"], counts["total"], cli[0], saved


def _workers(master: int) -> list[int]:
    """The server's worker processes: children of the master started by multiprocessing's spawn."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().split(") ", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except (OSError, IndexError, ValueError):
            continue
        if parent == master and b"spawn_main" in command and b"resource_tracker" not in command:
            found.append(int(entry.name))
    return sorted(found)


def _kill_during_writes(base: str, account: tuple[str, str], master: int, db: Path) -> tuple[int, int]:
    name, code = account
    confirmed: list[str] = []
    workers = _workers(master)
    with httpx.Client(base_url=base, timeout=30) as client:
        _login(client, name)
        token = _form_token(client, code)
        for i in range(200):
            if i == 60 and workers:
                os.kill(workers[0], signal.SIGKILL)
            title = f"kill-test {i}"
            try:
                if _save_goal(client, code, token, title):
                    confirmed.append(title)
            except httpx.HTTPError:
                pass  # the request hit the killed worker: not confirmed
    return len(confirmed), _lost(db, [(code, title) for title in confirmed])


if __name__ == "__main__":
    main()

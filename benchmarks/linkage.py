"""Linkage at scale: seconds and peak memory for 1M, 4M and 18M synthetic persons.

For each size a synthetic population (calibrated on the Kerncijfers buurt marginals, scaled up) is
written to a temporary folder; then each engine runs in a fresh subprocess — intake
(pseudonymisation) plus linkage — and reports its own peak memory (VmHWM). Spark's JVM is a
separate process that outlives the measurement: its heap is capped by spark.driver.memory (6 GiB)
and is not in the figure. A pandas baseline runs the same definition where it fits in
memory. Disclosure control is
timed separately on the DuckDB result.

    python benchmarks/linkage.py [--sizes 1000000 4000000 18000000] [--engines duckdb spark pandas]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from wijkradar.linkage.synth import generate, marginals_from_observations
from wijkradar.warehouse import Warehouse

CHILD = r"""
import json, sys, time
from pathlib import Path
import pandas as pd
engine, persons, provisions = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
start = time.perf_counter()
if engine == "pandas":
    people = pd.read_parquet(persons)
    given = pd.read_parquet(provisions)
    given["start"] = pd.to_datetime(given["start"])
    given["end"] = pd.to_datetime(given["end"])
    import hashlib
    key = b"benchmark-key-0123456789abcdef"
    import hmac
    people["pid"] = [hmac.new(key, p.encode(), hashlib.sha256).hexdigest() for p in people["person_id"]]
    people["hid"] = [hmac.new(key, p.encode(), hashlib.sha256).hexdigest() for p in people["household_id"]]
    given["pid"] = [hmac.new(key, p.encode(), hashlib.sha256).hexdigest() for p in given["person_id"]]
    started = given["start"] <= pd.Timestamp("2023-12-31")
    running = given["end"].isna() | (given["end"] >= pd.Timestamp("2023-01-01"))
    active = given[started & running]
    kinds = active[["pid", "kind"]].drop_duplicates().merge(people[["pid", "hid"]], on="pid")
    flags = pd.crosstab(kinds["hid"], kinds["kind"]).clip(upper=1)
    buurt = people.groupby("hid")["buurt_code"].min()
    table = flags.reindex(buurt.index, fill_value=0).assign(buurt_code=buurt)
    table = table.groupby(["buurt_code", *flags.columns]).size()
    rows = len(table)
else:
    from wijkradar.linkage.api import link
    from wijkradar.privacy import Key
    tables, counts, seconds = link(persons, provisions, 2023, Key(b"benchmark-key-0123456789abcdef"),
                                   gemeente="NL01", engine=engine, master="local[2]")
    rows = len(tables["combinations"])
import resource
# VmHWM is this process's own high-water mark (ru_maxrss would include the parent's before exec).
own = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
peak = max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(json.dumps({"seconds": time.perf_counter() - start, "rows": rows, "peak_kib": peak}))
"""


def run_child(engine: str, persons: Path, provisions: Path) -> dict[str, float]:
    start = time.perf_counter()
    result = subprocess.run(  # noqa: S603  # our own code, fixed arguments
        [sys.executable, "-c", CHILD, engine, str(persons), str(provisions)],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    if result.returncode != 0:
        return {"error": 1.0, "wall": wall}
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    payload = json.loads(lines[-1])
    # The child's own peak, or its children's (Spark's JVM), whichever is larger.
    return {"seconds": payload["seconds"], "wall": wall, "peak_gib": payload["peak_kib"] / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 4_000_000, 18_000_000])
    parser.add_argument("--engines", nargs="+", default=["duckdb", "spark", "pandas"])
    parser.add_argument(
        "--pandas-max", type=int, default=4_000_000, help="largest size for the pandas baseline"
    )
    parser.add_argument("--spark-max", type=int, default=18_000_000)
    args = parser.parse_args()
    data = Path(os.environ.get("WIJKRADAR_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
    from wijkradar.ingest import ingest

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "m.duckdb"
        with Warehouse.open(db) as wh:
            ingest(wh, [data / "cbs-kwb-buurten-2017"])
            marginals = marginals_from_observations(wh.observations.published())
        results: dict[tuple[str, int], dict[str, float]] = {}
        # Smallest first, so that each engine's peak memory is measured as it grows.
        for engine in args.engines:
            for size in sorted(args.sizes):
                if (engine == "pandas" and size > args.pandas_max) or (
                    engine == "spark" and size > args.spark_max
                ):
                    continue
                folder = Path(tmp) / f"pop{size}"
                if not (folder / "persons.parquet").exists():
                    start = time.perf_counter()
                    _, _, counts = generate(marginals, folder, period=2023, seed=1, scale_to=size)
                    print(
                        f"generated {counts['persons']:,} persons, {counts['households']:,} households, "
                        f"{counts['provisions']:,} provisions in {time.perf_counter() - start:.0f} s",
                        flush=True,
                    )
                results[(engine, size)] = run_child(
                    engine, folder / "persons.parquet", folder / "provisions.parquet"
                )
                print(engine, size, results[(engine, size)], flush=True)
    print()
    print(f"{'engine':8} {'persons':>11} {'seconds':>8} {'peak GiB':>9} {'s per 1M':>9} {'vs smallest':>12}")
    for engine in args.engines:
        sizes = [
            s for s in sorted(args.sizes) if (engine, s) in results and "seconds" in results[(engine, s)]
        ]
        if not sizes:
            continue
        base = results[(engine, sizes[0])]["seconds"] / sizes[0]
        for size in sizes:
            r = results[(engine, size)]
            per_million = r["seconds"] / size * 1e6
            print(
                f"{engine:8} {size:>11,} {r['seconds']:>8.1f} {r['peak_gib']:>9.2f} {per_million:>9.2f} "
                f"{per_million / (base * 1e6):>11.2f}x"
            )
    print(
        "Targets: DuckDB national 18M < 180 s and < 8 GiB; cost about linear in persons (last column near 1)."
    )


if __name__ == "__main__":
    main()

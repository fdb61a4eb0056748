"""Seconds to ingest all of ../shared/data, against reading the same files with pandas + openpyxl.

The baseline is what an analyst would write without wijkradar: ``pandas.read_excel(engine="openpyxl")``
for the workbooks, ``pandas.read_csv`` for the CSV files (with the separator of their header line)
and ``pyogrio`` for the boundaries (its raw reader: geopandas is no dependency of wijkradar). It only
reads; wijkradar also parses, validates, reshapes and writes everything to the warehouse.

A second reference is the floor: the same files read, and nothing else, by the fastest readers
there are (calamine through ``fastexcel`` for the workbooks, Arrow's CSV reader, GDAL), on one
thread. Its ratio to the baseline is the most any ingest of these files could reach on one core.

    python benchmarks/ingest.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import fastexcel
import pandas as pd
import pyarrow.csv as pa_csv
import pyogrio

from wijkradar.ingest import discover, ingest
from wijkradar.warehouse import Warehouse


def data_dir() -> Path:
    default = Path(__file__).resolve().parents[2] / "shared" / "data"
    return Path(os.environ.get("WIJKRADAR_DATA", default))


@contextmanager
def staged(db: Path | None) -> Iterator[Warehouse]:
    """Open ``db`` read-only, or a temporary warehouse with all of the staged data ingested."""
    with tempfile.TemporaryDirectory() as tmp:
        path = db or Path(tmp) / "bench.duckdb"
        if db is None:
            with Warehouse.open(path) as wh:
                ingest(wh, [data_dir()])
        with Warehouse.open(path, read_only=True) as wh:
            yield wh


def _separator(path: Path) -> str:
    with path.open(encoding="utf-8-sig") as fh:
        header = fh.readline()
    return ";" if header.count(";") > header.count(",") else ","


def baseline(files: list[Path]) -> float:
    start = time.perf_counter()
    for path in files:
        suffix = path.suffix.lower()
        if suffix == ".xlsx":
            pd.read_excel(path, engine="openpyxl")
        elif suffix == ".csv":
            pd.read_csv(path, sep=_separator(path))
        else:
            pyogrio.raw.read(path)
    return time.perf_counter() - start


def floor(files: list[Path]) -> float:
    """Seconds for the fastest readers to read every file into memory, on one thread."""
    start = time.perf_counter()
    for path in files:
        suffix = path.suffix.lower()
        if suffix == ".xlsx":
            fastexcel.read_excel(str(path)).load_sheet(0, dtypes="string").to_arrow()
        elif suffix == ".csv":
            pa_csv.read_csv(path, parse_options=pa_csv.ParseOptions(delimiter=_separator(path)))
        else:
            pyogrio.raw.read(path)
    return time.perf_counter() - start


def wijkradar_ingest(data: Path) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        with Warehouse.open(Path(tmp) / "bench.duckdb") as wh:
            reports = ingest(wh, [data])
            rows = wh.observation_count()
        elapsed = time.perf_counter() - start
    failed = [r.message for r in reports if r.action == "failed"]
    if failed:
        raise SystemExit(f"ingest failed: {failed}")
    return elapsed, rows


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{x:.2f}" for x in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data = data_dir()
    files = discover([data])
    ours, base, least = [], [], []
    rows = 0
    for _ in range(args.repeat):
        seconds, rows = wijkradar_ingest(data)
        ours.append(seconds)
        base.append(baseline(files))
        least.append(floor(files))
    o, b, f = statistics.median(ours), statistics.median(base), statistics.median(least)
    print(f"files: {len(files)}, observations written: {rows:,}")
    runs = args.repeat
    print(f"wijkradar ingest (read+validate+write):  {o:6.2f} s  (median of {runs}: {_fmt(ours)})")
    print(f"baseline pandas+openpyxl (read only):    {b:6.2f} s  (median of {runs}: {_fmt(base)})")
    print(f"floor: fastest readers (read only):      {f:6.2f} s  (median of {runs}: {_fmt(least)})")
    print(f"speed-up: {b / o:.1f}x (target >= 10x); the floor reads {b / f:.1f}x as fast as the baseline")
    print(f"wijkradar ingest takes {o / f:.1f}x the floor's time")


if __name__ == "__main__":
    main()

"""Seconds to move one table of all buurten through a crosswalk onto another indeling.

The table is RIVM 50090NED 2020 (65+) for every buurt of the 2020 indeling, moved onto the 2024
indeling with the crosswalk wijkradar assembles from the warehouse (stored rows plus identities,
with the evidence checks) and the residents that weight the rates. The baseline in the same run
is the naive join on the bare code that wijkradar replaces (a pandas merge): the price of doing
it right, as a ratio.

    python benchmarks/crosswalk.py [--db wijkradar.duckdb] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import pandas as pd
from ingest import staged

from wijkradar import indeling
from wijkradar.cache import forget
from wijkradar.warehouse import Warehouse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=None, help="a warehouse with ../shared/data ingested")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with staged(args.db) as wh:
        run(wh, args.repeat)


def run(wh: Warehouse, repeat: int) -> None:
    table = wh.observations.published(["2020"])
    table = table[
        (table["population_group"] == "65+") & table["region_code"].astype(str).str.startswith("BU")
    ]
    table = table[table["boundary_year"] == 2020][
        ["region_code", "measure_id", "period", "population_group", "value"]
    ]
    buurten = table["region_code"].nunique()
    counts = indeling.count_measures(wh)
    cold: list[float] = []
    warm: list[float] = []
    naive: list[float] = []
    moved = pd.DataFrame()
    for _ in range(repeat):
        forget()  # a cold start: nothing remembered
        start = time.perf_counter()
        walk = indeling.crosswalk(wh, 2020, 2024, "buurt")
        sizes = indeling.residents_of(wh, sorted(set(walk["from_code"])), 2020)
        moved = indeling.move(table, walk, counts, sizes=sizes)
        cold.append(time.perf_counter() - start)
        start = time.perf_counter()
        walk = indeling.crosswalk(wh, 2020, 2024, "buurt")
        sizes = indeling.residents_of(wh, sorted(set(walk["from_code"])), 2020)
        indeling.move(table, walk, counts, sizes=sizes)
        warm.append(time.perf_counter() - start)
        start = time.perf_counter()
        codes = pd.DataFrame({"region_code": wh.regions.codes_in_year(2024)})
        table.astype({"region_code": str}).merge(codes, on="region_code")
        naive.append(time.perf_counter() - start)
    c, w, n = (statistics.median(x) for x in (cold, warm, naive))
    print(
        f"buurten: {buurten:,}, values: {len(table):,}, moved onto 2024: {len(moved):,} "
        f"({moved['region_code'].nunique():,} buurten; the rest cannot be placed)"
    )
    print(f"crosswalk built + move (cold):  {c:6.3f} s   (median of {repeat}; target < 2 s)")
    print(f"move with the crosswalk cached: {w:6.3f} s")
    print(f"naive join on the bare code:    {n:6.3f} s   (cold/naive = {c / n:.1f}x)")


if __name__ == "__main__":
    main()

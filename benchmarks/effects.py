"""Wat werkt, measured: placebo coverage, injected effects and the time per effect.

For the survey outcome (Eenzaam_28 65+, rounds 2012 and 2016 before and 2020 after a start in
2017) per buurt and per wijk, and the register outcome (Wmo-cliënten per 1 000 inwoners, 2016-2017
before and 2019-2021 after a start in 2018) per wijk:

* placebo coverage: an interval set on N placebos, checked on N others (three independent pairs);
* injected effects: the outcome lowered by d after the start in N random sets of real areas, for
  d of one and two minimal detectable effects: how often the interval covers d, and the bias;
* the minimal detectable effect per number of areas ("met 8 buurten is een effect kleiner dan
  3,1 punt niet te zien");
* seconds per effect for an intervention on eight Almere buurten: the first (the placebos
  computed) and the next (remembered per warehouse version). The baseline in the same run is the
  same placebo distribution with a regression library's two-way fixed effects per placebo
  (pyfixest, timed on a sample and scaled): why wijkradar computes the difference directly.

    python benchmarks/effects.py [--db wijkradar.duckdb] [--placebos 2000]
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from ingest import staged

from wijkradar import effects
from wijkradar.cache import forget
from wijkradar.goals.effect import outcome_of
from wijkradar.texts import number_nl
from wijkradar.warehouse import Warehouse

CASES = (
    ("Eenzaam_28", "65+", "buurt", (["2012", "2016"], ["2020"]), 8),
    ("Eenzaam_28", "65+", "wijk", (["2012", "2016"], ["2020"]), 4),
    ("wmo_clienten_per_1000", "totaal", "wijk", (["2016", "2017"], ["2019", "2020", "2021"]), 4),
)
HAVEN = [f"BU003401{n:02d}" for n in range(1, 9)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=None, help="a warehouse with ../shared/data ingested")
    parser.add_argument("--placebos", type=int, default=effects.PLACEBOS)
    args = parser.parse_args()
    with staged(args.db) as wh:
        for case in CASES:
            calibration(wh, *case, n=args.placebos)
        timing(wh)


def calibration(
    wh: Warehouse,
    measure: str,
    group: str,
    level: str,
    periods: tuple[list[str], list[str]],
    size: int,
    n: int,
) -> None:
    """Print placebo coverage, injected-effect coverage and bias, and the detectable effect per size."""
    pool = effects.setup(effects.panel(wh, outcome_of(wh, measure, group), level), *periods, set(), None)
    print(f"\n{measure} {group} per {level}: {len(pool.codes)} areas, start after {periods[0][-1]}")
    pairs = [
        effects.coverage(*(effects.placebo_effects(pool, size, n, seed=s) for s in (seed, seed + 100)))
        for seed in (1, 2, 3)
    ]
    print(
        f"  placebo coverage of the 90% interval ({size} areas, {n} + {n} placebos, three pairs): "
        f"{', '.join(f'{c:.3f}' for c in pairs)}; mean {np.mean(pairs):.3f} (goal 0.88-0.92)"
    )
    sets = effects.draw_sets(pool, size, n, seed=1)
    matched = np.std(effects.effects_on_sets(pool, sets))
    unmatched = np.std([pool.change[s].mean() - np.delete(pool.change, s).mean() for s in sets])
    print(
        f"  why matching: placebo spread {matched:.2f} matched, {unmatched:.2f} against every other area "
        f"(without matching a detectable effect is {unmatched / matched:.2f}x as large)"
    )
    for areas in (2, 4, 8, 16, 32):
        calibrate = effects.placebo_effects(pool, areas, n, seed=1)
        detectable = effects.Z_DETECT * float(np.std(calibrate))
        low, high = effects.bounds(calibrate)
        sets = effects.draw_sets(pool, areas, n, seed=3)
        found = []
        for d in (detectable, 2 * detectable):
            estimates = effects.effects_on_sets(pool, sets, shift=-d)
            covered = float(np.mean((estimates - high <= -d) & (-d <= estimates - low)))
            bias = float(np.mean(estimates) + d)
            found.append(f"d={d:.2f}: coverage {covered:.3f}, bias {bias:+.3f} ({abs(bias) / d:.1%} of d)")
        word = "buurten" if level == "buurt" else "wijken"
        print(
            f"  met {areas} {word} is een effect kleiner dan {number_nl(detectable, 1)} punt niet te zien; "
            f"injected {'; '.join(found)}"
        )


def timing(wh: Warehouse) -> None:
    """Print seconds per effect (first and remembered) against the regression-per-placebo baseline."""
    lonely = outcome_of(wh, "Eenzaam_28", "65+")
    forget()
    started = time.perf_counter()
    first = effects.estimate(wh, lonely, HAVEN, date(2017, 3, 1))
    cold = time.perf_counter() - started
    started = time.perf_counter()
    effects.estimate(wh, lonely, HAVEN, date(2017, 3, 1))
    warm = time.perf_counter() - started
    print(f"\nTime per effect, 8 Almere buurten from 2017 ({first['short']}):")
    print(f"  first {cold:.2f} s (goal < 2 s), remembered {warm:.3f} s")
    try:
        import pyfixest
    except ImportError:
        print("  baseline skipped: pyfixest is not installed (pip install -e '.[bench]')")
        return
    pre, post = first["before"], first["after"]
    table = effects.panel(wh, lonely, "buurt")
    pool = effects.setup(table, pre, post, set(HAVEN), None)
    sets = effects.draw_sets(pool, 8, 20, seed=5)
    started = time.perf_counter()
    for chosen in sets:
        own = table.loc[pool.codes[chosen], pre + post]
        matched = effects.comparisons(effects.setup(table, pre, post, set(own.index), None), own, pre)
        codes = [*own.index, *pool.codes[np.unique(matched)]]
        rows = pd.DataFrame(
            [
                {"area": c, "period": p, "y": y, "d": float(c in own.index and p in post)}
                for c in codes
                for p, y in table.loc[c, pre + post].items()
            ]
        )
        pyfixest.feols("y ~ d | area + period", data=rows)
    per_placebo = (time.perf_counter() - started) / len(sets)
    baseline = per_placebo * 2 * effects.PLACEBOS
    print(
        f"  baseline: a TWFE regression per placebo, {per_placebo:.3f} s each, "
        f"{baseline:.0f} s for {2 * effects.PLACEBOS} placebos; wijkradar's first effect is "
        f"{baseline / cold:.0f}x faster"
    )


if __name__ == "__main__":
    main()

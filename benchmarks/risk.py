"""Training and scoring time of the risk models, and their evaluation at buurt, wijk and gemeente level.

Builds a warehouse from ../shared/data (or $WIJKRADAR_DATA), trains Eenzaam_28 65+ 2020 and four
other measures at each level (grouped 5-fold cross-validation holding out whole gemeenten, both
model families, the previous-round baseline and the forward validation 2016 -> 2020 with its
interval coverage), then scores every buurt of the country from scratch (features from the
warehouse + the stored model) and prints the figures with the training time per level.

    python benchmarks/risk.py [--measure Eenzaam_28:65+ ...]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wijkradar.cache import forget
from wijkradar.indeling import derive_crosswalks
from wijkradar.ingest import ingest
from wijkradar.models.bottomup import algorithm, headline
from wijkradar.models.residents import residents
from wijkradar.models.train import rescore, train_model
from wijkradar.warehouse import Warehouse

MEASURES = (
    ("Eenzaam_28", "65+"),
    ("MoeiteMetRondkomen_38", "65+"),
    ("Mantelzorger_32", "65+"),
    ("ErvarenGezondheidGoedZeerGoed_4", "18+"),
    ("BeperktVanwegeGezondheid_17", "65+"),  # not published in 2016: no baseline, no forward figures
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measure", action="append", help="MEASURE:GROUP, repeatable (default: five)")
    parser.add_argument("--period", default="2020")
    args = parser.parse_args()
    targets = [tuple(m.split(":", 1)) for m in args.measure] if args.measure else list(MEASURES)
    data = Path(os.environ.get("WIJKRADAR_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
    with tempfile.TemporaryDirectory() as tmp, Warehouse.open(Path(tmp) / "risk.duckdb") as wh:
        ingest(wh, [data])
        start = time.perf_counter()
        pairs = derive_crosswalks(wh)  # as 'wijkradar ingest' does once its files are in
        derive_seconds = time.perf_counter() - start
        rows = []
        for measure, group in targets:
            for level in ("buurt", "wijk", "gemeente"):
                start = time.perf_counter()
                card = train_model(wh, measure, group, level, args.period)
                rows.append((measure, group, level, card, time.perf_counter() - start))
        buurt = rows[0][3]
        forget()  # from scratch: nothing remembered in this process, as in a new one
        start = time.perf_counter()
        scored = rescore(wh, int(buurt["model_id"]), args.period)
        score_seconds = time.perf_counter() - start
        start = time.perf_counter()
        rescore(wh, int(buurt["model_id"]), args.period, explain=True)
        explain_seconds = time.perf_counter() - start
        start = time.perf_counter()
        stored = wh.models.estimates(int(buurt["model_id"]))
        read_seconds = time.perf_counter() - start
        bands = _by_size(wh, stored, buurt["group"], args.period)
    _table(rows, args.period)
    _print_bands(bands, rows[0][0], buurt["group"])
    train_buurt = rows[0][4]
    print(
        f"scoring all {len(scored):,} buurten from the warehouse (features + stored model + intervals): "
        f"{score_seconds:.2f} s (target < 2 s); {train_buurt / score_seconds:.0f}x faster than training"
    )
    print(
        f"the same with explanations (SHAP values for every buurt): {explain_seconds:.2f} s "
        f"({explain_seconds / score_seconds:.0f}x the scoring time; done once, at training)"
    )
    print(f"reading the {len(stored):,} stored buurt estimates: {read_seconds:.3f} s")
    print(f"crosswalks of {pairs} pairs of indelingen derived and kept at ingest: {derive_seconds:.1f} s")
    print(
        "top features (buurt):",
        json.dumps([f["label"] for f in buurt["feature_importance"][:5]], ensure_ascii=False),
    )


SIZES = (50, 100, 200, 400)  # bands of residents of the group


def _by_size(wh: Warehouse, estimates: pd.DataFrame, group: str, period: str) -> list[tuple[str, int, float]]:
    """Grouped-CV R² of the buurten per band of residents of the group: what limits the buurt figure.

    The stored ``expected`` of an area with a survey value is its out-of-fold estimate (a model that
    learned nothing from its gemeente), so this splits the card's grouped-CV R² by area size.
    """
    surveyed = estimates[estimates["survey"].notna()].set_index("region_code")
    counts, _ = residents(wh, group, surveyed.index.tolist(), int(period[:4]))
    size = pd.to_numeric(counts.reindex(surveyed.index), errors="coerce").to_numpy(dtype=float)
    edges = [*SIZES, np.inf]
    bands = [
        (f"{lo}-{int(hi) - 1}" if np.isfinite(hi) else f"{lo}+", (size >= lo) & (size < hi))
        for lo, hi in pairwise(edges)
    ]
    bands.append(("onbekend", ~np.isfinite(size)))
    out = []
    for name, rows in bands:
        y, p = surveyed["survey"].to_numpy()[rows], surveyed["expected"].to_numpy()[rows]
        r2 = 1 - float(np.sum((y - p) ** 2)) / float(np.sum((y - y.mean()) ** 2)) if len(y) > 1 else np.nan
        out.append((name, int(rows.sum()), r2))
    return out


def _print_bands(bands: list[tuple[str, int, float]], measure: str, group: str) -> None:
    print(f"grouped-CV R2 of the buurt model of {measure} {group} by residents of the group (band: n, R2):")
    print("  " + "; ".join(f"{name}: {n:,}, {r2:.3f}" for name, n, r2 in bands))


def _table(rows: list[tuple[str, str, str, dict[str, Any], float]], period: str) -> None:
    """One line per measure and level: grouped CV, the previous-round baseline, forward in time."""
    print(
        f"target period {period}; grouped CV: 5 folds, whole gemeenten held out; forward: fit on the "
        "round before, predict this round, 90% intervals from forward errors (out of fold)"
    )
    print(
        "figures over the areas that get an estimate (n; at least WIJKRADAR_MIN_INWONERS residents of the "
        "group, or unknown); 'all': R2 over every area with a survey value (n all), small ones included"
    )
    print(
        "wijk and gemeente: 'model + buurten' = mixed with the buurt model's estimates "
        "(grouped CV chose it); 'own': the area model alone"
    )
    print(
        f"{'measure':32} {'group':5} {'level':8} {'n':>6} {'n all':>6} {'model':18} {'CV R2':>6} "
        f"{'all':>6} {'own':>6} {'cov90':>6} {'prev R2':>7} {'fwd R2':>7} {'all':>7} {'own':>7} "
        f"{'fwd MAE':>7} {'fwd rho':>7} {'fwd cov90':>9} {'train s':>8}"
    )
    nan = float("nan")
    for measure, group, level, card, seconds in rows:
        chosen = headline(card)
        own = card["validation"][card["model"]]["r2"]
        base = card["baseline"]["r2"] if card["baseline"] else nan
        f = card.get("forward") or {}
        print(
            f"{measure[:32]:32} {group:5} {level:8} {chosen['n']:>6} {card['n']:>6} {algorithm(card):18} "
            f"{chosen['r2']:>6.3f} {chosen['r2_with_small_areas']:>6.3f} {own:>6.3f} "
            f"{chosen['coverage90']:>6.3f} "
            f"{base:>7.3f} {f.get('r2', nan):>7.3f} {f.get('r2_with_small_areas', nan):>7.3f} "
            f"{f.get('r2_without_bottom_up', f.get('r2', nan)):>7.3f} {f.get('mae', nan):>7.2f} "
            f"{f.get('spearman', nan):>7.3f} {f.get('coverage90', nan):>9.3f} "
            f"{seconds:>8.1f}" + (f"  ({card['forward_missing']})" if not f else "")
        )


if __name__ == "__main__":
    main()

"""Training and scoring time of the risk models, and their evaluation at buurt, wijk and gemeente level.

Builds a warehouse from ../shared/data (or $WIJKRADAR_DATA), trains Eenzaam_28 65+ 2020 at each
level (grouped 5-fold cross-validation holding out whole gemeenten, both model families, the
previous-round baseline and the 2016 -> 2020 check), then scores every buurt of the country from
scratch (features from the warehouse + the stored model) and prints the figures.

    python benchmarks/risk.py [--measure Eenzaam_28] [--group 65+]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from wijkradar.ingest import ingest
from wijkradar.models.train import rescore, train_model
from wijkradar.warehouse import Warehouse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measure", default="Eenzaam_28")
    parser.add_argument("--group", default="65+")
    parser.add_argument("--period", default="2020")
    args = parser.parse_args()
    data = Path(os.environ.get("WIJKRADAR_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
    with tempfile.TemporaryDirectory() as tmp, Warehouse.open(Path(tmp) / "risk.duckdb") as wh:
        ingest(wh, [data])
        rows = []
        for level in ("buurt", "wijk", "gemeente"):
            start = time.perf_counter()
            card = train_model(wh, args.measure, args.group, level, args.period)
            seconds = time.perf_counter() - start
            chosen = card["validation"][card["model"]]
            rows.append((level, card, chosen, seconds))
        buurt = rows[0][1]
        start = time.perf_counter()
        scored = rescore(wh, int(buurt["model_id"]), args.period)
        score_seconds = time.perf_counter() - start
        start = time.perf_counter()
        rescore(wh, int(buurt["model_id"]), args.period, explain=True)
        explain_seconds = time.perf_counter() - start
        start = time.perf_counter()
        stored = wh.estimates(int(buurt["model_id"]))
        read_seconds = time.perf_counter() - start

    print(f"target: {args.measure} {args.group} {args.period}; validation: 5 folds, whole gemeenten held out")
    header = (
        f"{'level':9} {'n':>6} {'model':9} {'R2':>6} {'MAE':>6} {'Spearman':>9} {'cov90':>6} "
        f"{'GLM R2':>7} {'LGBM R2':>8} {'prev-only R2':>13} {'2016->2020 R2':>14} {'train s':>8}"
    )
    print(header)
    for level, card, chosen, seconds in rows:
        base = card["baseline"]["r2"] if card["baseline"] else float("nan")
        temporal = card["temporal"]["r2"] if card["temporal"] else float("nan")
        glm, lgbm = card["validation"]["glm"]["r2"], card["validation"]["lightgbm"]["r2"]
        print(
            f"{level:9} {chosen['n']:>6} {card['model']:9} {chosen['r2']:>6.3f} {chosen['mae']:>6.2f} "
            f"{chosen['spearman']:>9.3f} {chosen['coverage90']:>6.3f} {glm:>7.3f} "
            f"{lgbm:>8.3f} {base:>13.3f} {temporal:>14.3f} {seconds:>8.1f}"
        )
    train_buurt = rows[0][3]
    print(
        f"scoring all {len(scored):,} buurten from the warehouse (features + stored model + intervals): "
        f"{score_seconds:.2f} s (target < 2 s); {train_buurt / score_seconds:.0f}x faster than training"
    )
    print(
        f"the same with explanations (SHAP values for every buurt): {explain_seconds:.2f} s "
        f"({explain_seconds / score_seconds:.0f}x the scoring time; done once, at training)"
    )
    print(f"reading the {len(stored):,} stored buurt estimates: {read_seconds:.3f} s")
    print(
        "top features (buurt):",
        json.dumps([f["label"] for f in buurt["feature_importance"][:5]], ensure_ascii=False),
    )


if __name__ == "__main__":
    main()

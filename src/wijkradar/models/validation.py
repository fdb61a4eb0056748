"""Validation the way an epidemiologist would accept it, and calibrated 90% intervals.

* Grouped cross-validation: whole gemeenten are held out, so a model never sees the region (or
  its neighbours) it is judged on.
* Intervals are split-conformal on the out-of-fold residuals, separately for regions with and
  without a previous survey value (Mondrian conformal): for each held-out fold the interval width
  comes from the other folds' residuals only, so the reported coverage is honest.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from wijkradar.models.learners import Learner

ALPHA = 0.10  # 90% intervals
FOLDS = 5


@dataclass
class CrossValidation:
    """Out-of-fold predictions with their folds and interval half-widths."""

    prediction: np.ndarray
    fold: np.ndarray
    halfwidth: np.ndarray


def gemeente_folds(groups: pd.Series, k: int = FOLDS, seed: int = 0) -> np.ndarray:
    """Assign every gemeente (and so all its regions) to one of ``k`` folds, reproducibly."""
    gemeenten = np.array(sorted(groups.unique()))
    order = np.random.default_rng(seed).permutation(len(gemeenten))
    fold_of = {g: int(i % k) for i, g in zip(order, gemeenten, strict=True)}
    return groups.map(fold_of).to_numpy()


def conformal_quantile(scores: np.ndarray, alpha: float = ALPHA) -> float:
    """Return the finite-sample conformal quantile: the ceil((n+1)(1-alpha))-th smallest score."""
    scores = np.sort(scores[~np.isnan(scores)])
    n = len(scores)
    if n == 0:
        return math.inf
    rank = math.ceil((n + 1) * (1 - alpha))
    return float(scores[min(rank, n) - 1])


def cross_validate(
    make: Callable[[], Learner],
    X: pd.DataFrame,
    y: np.ndarray,
    folds: np.ndarray,
    bins: np.ndarray,
    weight: np.ndarray | None = None,
    calibrate: np.ndarray | None = None,
) -> CrossValidation:
    """Fit on all folds but one, predict the one held out; widths from the other folds' residuals.

    ``calibrate`` (a boolean mask) limits the residuals the widths come from to the regions that
    get an estimate (see :func:`~wijkradar.models.inputs.shown_areas`); default: all.
    """
    prediction = np.full(len(y), np.nan)
    for fold in np.unique(folds):
        test = folds == fold
        model = make().fit(X[~test], y[~test], None if weight is None else weight[~test])
        prediction[test] = model.predict(X[test])
    halfwidth = fold_widths(np.abs(y - prediction), folds, bins, calibrate)
    return CrossValidation(prediction=prediction, fold=folds, halfwidth=halfwidth)


def fold_widths(
    residual: np.ndarray, folds: np.ndarray, bins: np.ndarray, calibrate: np.ndarray | None = None
) -> np.ndarray:
    """Half-widths per region from the residuals of the other folds in its bin (split-conformal)."""
    usable = np.ones(len(residual), dtype=bool) if calibrate is None else calibrate
    halfwidth = np.full(len(residual), np.nan)
    for fold in np.unique(folds):
        test = folds == fold
        for b in np.unique(bins):
            halfwidth[test & (bins == b)] = conformal_quantile(residual[~test & (bins == b) & usable])
    return halfwidth


def interval_widths(residual: np.ndarray, bins: np.ndarray) -> dict[int, float]:
    """Half-width per bin from all out-of-fold residuals (for the final model's intervals)."""
    return {int(b): conformal_quantile(residual[bins == b]) for b in np.unique(bins)}


def metrics(y: np.ndarray, prediction: np.ndarray, halfwidth: np.ndarray | None = None) -> dict[str, float]:
    """R², MAE, Spearman, calibration slope/intercept and (with widths) coverage of the intervals."""
    from scipy.stats import spearmanr

    ok = ~np.isnan(y) & ~np.isnan(prediction)
    y, p = y[ok], prediction[ok]
    residual = y - p
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    out = {
        "n": int(ok.sum()),
        "r2": 1.0 - float(np.sum(residual**2)) / ss_tot if ss_tot > 0 else float("nan"),
        "mae": float(np.mean(np.abs(residual))),
        "spearman": float(spearmanr(y, p).statistic),
    }
    slope, intercept = np.polyfit(p, y, 1) if len(y) > 2 else (float("nan"), float("nan"))
    out["calibration_slope"] = float(slope)
    out["calibration_intercept"] = float(intercept)
    if halfwidth is not None:
        w = halfwidth[ok]
        out["coverage90"] = float(np.mean(np.abs(residual) <= w))
        out["mean_interval_width"] = float(np.mean(2 * w))
    return out

"""Opbouw uit buurten: a wijk or gemeente estimate helped by the estimates of its buurten.

A gemeente model learns from 355 gemeenten, a buurt model from some 12,000 buurten. The buurt
model's estimates, averaged over a wijk's or gemeente's buurten with the group's residents as
weights, carry what it learned to the level above. Where an area's buurten have resident counts,
its estimate is the mean of its own model and that average; elsewhere its own model's alone.
Grouped cross-validation decides per target whether the mean is used (it must beat the area's
own model on the same areas), so a measure whose buurt model is weak keeps its own.

Measured on Eenzaam_28 65+ (2020, areas that get an estimate): gemeente grouped-CV R² 0.768 ->
0.803 and forward R² 0.420 -> 0.444; wijk 0.850 -> 0.853 and 0.705 -> 0.706. Tried and not
used: the buurten's average as a feature of the area's own model (stacking: gemeente 0.780, wijk
0.848), weights of 0.3 or 0.7 instead of one half (gemeente 0.797 and 0.795), only areas whose
buurten with a count hold most of its residents (within 0.003 either way), and the other way round,
a buurt's estimate mixed with its wijk model's (buurt 0.769 -> 0.767 with a tenth of the wijk's).

The buurt part is always gradient boosting: it is the family grouped CV picks at buurt level, and
the linear model's cross-validation there would add minutes to every wijk and gemeente model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from wijkradar.models.features import FeatureSet, Target
from wijkradar.models.inputs import Inputs, features_for, group_residents, make_learner, weights_for
from wijkradar.models.learners import GradientBoosting, Learner
from wijkradar.models.validation import fold_widths, gemeente_folds, metrics
from wijkradar.regions import gemeente_codes, wijk_codes

WEIGHT = 0.5  # of the area's own model; the buurten's average gets the rest
KIND = GradientBoosting.name
MIN_BUURTEN = 50  # buurten with a survey value, at least, to learn the buurt part from


@dataclass
class BuurtPart:
    """The buurt model of a target's round, with its estimates per buurt for validation.

    The same for the wijk and the gemeente model of a round, so training both learns it once (see
    :func:`~wijkradar.models.train.train_model`).
    """

    model: Learner
    out_of_fold: pd.Series  # per buurt: estimated by a model that learned nothing from its gemeente
    forward: pd.Series | None  # per buurt: the forecast of the round before's buurt model
    counts: pd.Series  # per buurt: residents of the group, the weights of the averages
    r2_buurt_model: float  # of the buurt model's own grouped cross-validation, over buurten

    def out_of_fold_per(self, level: str) -> pd.Series:
        """Average the out-of-fold buurt estimates per wijk or gemeente."""
        return average(self.out_of_fold, self.counts, level)

    def forward_per(self, level: str) -> pd.Series | None:
        """Average the forecasts of the round before's buurt model per wijk or gemeente."""
        return None if self.forward is None else average(self.forward, self.counts, level)


def applies(level: str) -> bool:
    """Tell whether a level has buurten below it."""
    return level in ("wijk", "gemeente")


def buurt_fs(inputs: Inputs, target: Target, period: str | None = None) -> FeatureSet:
    """Return the buurt features of the target's measure and group, for its period or ``period``."""
    return features_for(
        inputs, Target(target.measure_id, target.population_group, "buurt", period or target.period)
    )


def learn(inputs: Inputs, target: Target, seed: int = 0) -> BuurtPart | None:
    """Fit the buurt part of a wijk or gemeente target; None when too few buurten have a value.

    Only the target's measure, group and period matter, not its level.

    Out-of-fold: each gemeente's buurten are estimated by a buurt model that learned from none of
    that gemeente's buurten (labelled or not, every buurt of it gets an estimate), so the average
    per area is as honest as the area model's own out-of-fold prediction. Forward: the buurt model
    of the round before, fitted as :func:`~wijkradar.models.forecast.forward_validation` fits one.
    """
    if not applies(target.level):
        return None
    fs = buurt_fs(inputs, target)
    labelled = fs.labelled
    if labelled.sum() < MIN_BUURTEN:
        return None
    X, y = fs.X[labelled], fs.y.to_numpy()[labelled]
    weight = weights_for(KIND, fs, labelled)
    folds = gemeente_folds(fs.groups, seed=seed)
    estimate = np.full(len(fs.X), np.nan)
    for fold in np.unique(folds):
        held_out = folds == fold
        train = ~held_out[labelled]
        model = make_learner(KIND, int(train.sum()), seed).fit(
            X[train], y[train], None if weight is None else weight[train]
        )
        estimate[held_out] = model.predict(fs.X[held_out])
    residual = y - estimate[labelled]
    r2 = 1.0 - float(np.sum(residual**2)) / float(np.sum((y - y.mean()) ** 2))
    full = make_learner(KIND, len(y), seed).fit(X, y, weight)
    return BuurtPart(
        model=full,
        out_of_fold=pd.Series(estimate, index=fs.X.index),
        forward=_forward(inputs, fs, seed),
        counts=group_residents(fs),
        r2_buurt_model=r2,
    )


def _forward(inputs: Inputs, fs: FeatureSet, seed: int) -> pd.Series | None:
    """Forecast every buurt with the buurt model of the round before (None: no such model)."""
    if fs.previous_period is None:
        return None
    fs0 = buurt_fs(inputs, fs.target, fs.previous_period)
    if fs0.labelled.sum() < MIN_BUURTEN:
        return None
    columns = [c for c in fs0.X.columns if c in fs.X.columns]
    model = make_learner(KIND, int(fs0.labelled.sum()), seed).fit(
        fs0.X.loc[fs0.labelled, columns], fs0.y.to_numpy()[fs0.labelled], weights_for(KIND, fs0, fs0.labelled)
    )
    return pd.Series(model.predict(fs.X[columns]), index=fs.X.index)


def averaged(frame: pd.DataFrame, counts: pd.Series, level: str) -> pd.DataFrame:
    """Average buurt values (one column each) per wijk or gemeente, weighted by the group's residents.

    Buurten without a resident count or a value leave the average; an area none of whose buurten
    has both is absent.
    """
    weight = counts.reindex(frame.index).to_numpy(dtype=float)
    usable = np.isfinite(weight) & (weight > 0) & np.isfinite(frame.to_numpy(dtype=float)).all(axis=1)
    parent = (wijk_codes if level == "wijk" else gemeente_codes)(frame.index[usable])
    kept = frame[usable].mul(weight[usable], axis=0)
    total = pd.Series(weight[usable]).groupby(parent).sum().to_numpy()
    summed: pd.DataFrame = kept.groupby(parent).sum().div(total, axis=0)
    summed.index.name = "region_code"
    return summed


def average(values: pd.Series, counts: pd.Series, level: str) -> pd.Series:
    """Average one buurt value per wijk or gemeente (see :func:`averaged`)."""
    return averaged(values.to_frame(), counts, level).iloc[:, 0]


def judged(
    part: BuurtPart | None,
    level: str,
    areas: pd.Index,
    y: np.ndarray,
    own: np.ndarray,
    folds: np.ndarray,
    bins: np.ndarray,
    shown: np.ndarray,
    own_r2: float,
) -> tuple[dict[str, Any] | None, np.ndarray]:
    """Validate the mix on the surveyed ``areas`` against the area model's out-of-fold ``own``.

    Figures and interval widths over the ``shown`` areas, as the area model's (``own_r2``). Returns
    the card's ``buurten`` entry (None without a buurt part) and the out-of-fold predictions to
    use: the mix when its R² is higher, else ``own``.
    """
    if part is None:
        return None, own
    averaged = part.out_of_fold_per(level).reindex(areas).to_numpy(dtype=float)
    mixed = blend(own, averaged)
    figures = metrics(y[shown], mixed[shown], fold_widths(np.abs(y - mixed), folds, bins, shown)[shown])
    figures["r2_with_small_areas"] = metrics(y, mixed)["r2"]
    both = shown & np.isfinite(averaged)
    used = bool(figures["r2"] > own_r2)
    entry = {
        "used": used,
        "weight": WEIGHT,
        "n_areas": int(both.sum()),
        "r2_buurt_model": part.r2_buurt_model,
        "n_features": len(part.model.columns),
        "r2_average": metrics(y[both], averaged[both])["r2"] if both.sum() > 2 else None,
        "validation": figures,
    }
    return entry, mixed if used else own


def blend(own: np.ndarray, buurten: np.ndarray) -> np.ndarray:
    """Mix the area model's estimates with its buurten's average where there is one."""
    return np.where(np.isfinite(buurten), WEIGHT * own + (1 - WEIGHT) * buurten, own)


def weights(buurten: np.ndarray) -> np.ndarray:
    """Per area the share of its own model in the estimate (1 where its buurten have no average)."""
    return np.where(np.isfinite(buurten), WEIGHT, 1.0)


def headline(card: dict[str, Any]) -> dict[str, Any]:
    """Return the validation figures of what a stored model estimates with (the mix, if it is used)."""
    below = card.get("bottom_up") or {}
    return dict(below["validation"]) if below.get("used") else dict(card["validation"][card["model"]])


def algorithm(card: dict[str, Any]) -> str:
    """Name what a model estimates with: its family, and the buurten if they are mixed in."""
    return f"{card['model']} + buurten" if (card.get("bottom_up") or {}).get("used") else str(card["model"])


def label(buurt_label: str) -> str:
    """Label a buurt model's feature as a driver of the area above ("in de buurten: ...")."""
    return f"in de buurten: {buurt_label}"

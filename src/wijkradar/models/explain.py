"""What an estimate is made of: the model (and its buurten) behind it, its drivers, what it read.

Drivers are SHAP contributions (gradient boosting) or the linear model's terms; for a model mixed
with its buurten (see :mod:`~wijkradar.models.bottomup`) they are the area model's and the
buurten's, each weighed by its share of the mix, so they still add up to the estimate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from wijkradar.models import bottomup
from wijkradar.models.families import BELOW, EARLIER, FAMILIES, FAMILY_PREFIX, family
from wijkradar.models.features import FeatureSet, union_of_periods
from wijkradar.models.inputs import Inputs, group_residents
from wijkradar.models.learners import BottomUp, Learner
from wijkradar.regions import gemeente_codes, wijk_codes

TOP_CONTRIBUTIONS = 6
APART = 3  # drivers outside the earlier rounds that set a region apart from its gemeente, kept


@dataclass
class Explained:
    """Contributions per feature (the expected value left out), with the features' names, labels, values."""

    contributions: np.ndarray
    columns: list[str]
    labels: list[str]
    values: np.ndarray


@dataclass
class MadeOf:
    """What the estimates of a feature set are made of: a plain model, or one mixed with its buurten."""

    model: Learner
    fs: FeatureSet
    buurten: Learner | None = None
    buurt_fs: FeatureSet | None = None
    averaged: np.ndarray | None = None  # per region the buurten's average (NaN: none)

    def estimate(self) -> np.ndarray:
        """Return the estimate per region: the model's, or its mix with the buurten's average."""
        own = self.model.predict(self.fs.X)
        return own if self.averaged is None else bottomup.blend(own, self.averaged)

    def periods_read(self) -> list[str]:
        """Per region the periods of the other tables its estimate read, comma-separated ("2017,2020").

        An area mixed with its buurten also read what its buurten's features read.
        """
        own = self.fs.periods_read()
        if self.buurt_fs is not None and self.averaged is not None:
            below = self.buurt_fs.periods_read()
            parents = (wijk_codes if self.fs.target.level == "wijk" else gemeente_codes)(below.index)
            per_parent = below.groupby(parents).agg(union_of_periods).reindex(own.index)
            own = pd.Series(
                [
                    union_of_periods([mine, theirs]) if np.isfinite(avg) else mine
                    for mine, theirs, avg in zip(own, per_parent, self.averaged, strict=True)
                ],
                index=own.index,
            )
        return [",".join(p) for p in own]

    def explained(self) -> Explained:
        """Return every feature's contribution per region (the buurten's weighed by their share)."""
        columns = list(self.model.columns)
        out = Explained(
            self.model.contributions(self.fs.X)[:, :-1],
            columns,
            [self.fs.labels.get(c, c) for c in columns],
            self.fs.X[columns].to_numpy(dtype=float),
        )
        if self.buurten is None or self.buurt_fs is None or self.averaged is None:
            return out
        share = bottomup.weights(self.averaged)
        bfs = self.buurt_fs
        counts = group_residents(bfs)
        counted = bfs.X[(counts > 0).to_numpy()]  # the others are in no average
        below = pd.DataFrame(self.buurten.contributions(counted)[:, :-1], index=counted.index)
        summed = (
            bottomup.averaged(below, counts, self.fs.target.level)
            .reindex(self.fs.X.index)
            .fillna(0.0)
            .to_numpy(dtype=float)
        )
        names = list(self.buurten.columns)
        return Explained(
            np.hstack([out.contributions * share[:, None], summed * (1 - share)[:, None]]),
            out.columns + [f"{BELOW}{c}" for c in names],
            out.labels + [bottomup.label(bfs.labels.get(c, c)) for c in names],
            np.hstack([out.values, np.full((len(out.values), len(names)), np.nan)]),
        )


def made_of(model: Learner | BottomUp, fs: FeatureSet, inputs: Inputs | None) -> MadeOf:
    """Prepare the estimates of ``fs``: its features as the model knows them, and the buurten's average."""
    if not isinstance(model, BottomUp):
        return MadeOf(model, _known(fs, model))
    if inputs is None:
        raise ValueError("a model mixed with its buurten scores with the inputs at hand")
    bfs = _known(bottomup.buurt_fs(inputs, fs.target), model.buurten)
    estimates = pd.Series(model.buurten.predict(bfs.X), index=bfs.X.index)
    averaged = bottomup.average(estimates, group_residents(bfs), fs.target.level)
    return MadeOf(
        model.own,
        _known(fs, model.own),
        model.buurten,
        bfs,
        averaged.reindex(fs.X.index).to_numpy(dtype=float),
    )


def _known(fs: FeatureSet, model: Learner) -> FeatureSet:
    """Add the model's features a later period lacks (as missing); a model reads only its own."""
    for column in model.columns:
        if column not in fs.X.columns:
            fs.X[column] = np.nan
    return fs


def drivers(explained: Explained, gemeenten: list[str]) -> list[list[dict[str, Any]]]:
    """Collect the largest contributions per region (SHAP or GLM terms), with Dutch labels.

    The largest come first, each with its family, and the largest outside the earlier survey rounds
    if it is not among them, and the few outside them that set the region most apart from its
    gemeente; then every family's sum (feature ``familie:<naam>``), largest first, so that readers
    of the head of the list see concrete drivers. Each carries ``apart``: its contribution minus
    the mean over the regions of the same gemeente (``gemeenten``, one code per region), what
    makes this region differ from a typical one there.
    """
    contributions, values, columns = explained.contributions, explained.values, explained.columns
    families = np.array([family(c) for c in columns])
    sums = np.stack([contributions[:, families == f].sum(axis=1) for f in FAMILIES], axis=1)
    apart, sums_apart = (_apart(m, gemeenten) for m in (contributions, sums))
    kept = _kept(contributions, apart, families)
    drivers = []
    for i in range(len(values)):
        concrete = [
            {
                "feature": columns[j],
                "label": explained.labels[j],
                "family": str(families[j]),
                "value": None if np.isnan(values[i, j]) else round(float(values[i, j]), 4),
                "contribution": round(float(contributions[i, j]), 4),
                "apart": round(float(apart[i, j]), 4),
            }
            for j in kept[i]
            if contributions[i, j] != 0
        ]
        summed = [
            {
                "feature": f"{FAMILY_PREFIX}{FAMILIES[k]}",
                "label": FAMILIES[k],
                "family": FAMILIES[k],
                "value": None,
                "contribution": round(float(sums[i, k]), 4),
                "apart": round(float(sums_apart[i, k]), 4),
            }
            for k in np.argsort(-np.abs(sums[i]))
            if round(float(sums[i, k]), 4) != 0
        ]
        drivers.append(concrete + summed)
    return drivers


def _apart(matrix: np.ndarray, gemeenten: list[str]) -> np.ndarray:
    """Return each row minus the mean of the rows of its gemeente."""
    frame = pd.DataFrame(matrix)
    return (frame - frame.groupby(np.asarray(gemeenten)).transform("mean")).to_numpy()


def _kept(contributions: np.ndarray, apart: np.ndarray, families: np.ndarray) -> list[list[int]]:
    """Return per region the columns to store: the largest, the largest actionable, the most apart.

    Actionable: outside the earlier survey rounds; most apart: the three actionable ones that set
    the region most apart from its gemeente. Sorted for all regions at once: a loop over the
    columns per region made the explanations of 13,464 buurten 40% slower (benchmarks/risk.py).
    """
    actionable = families != EARLIER
    order = np.argsort(-np.abs(contributions), axis=1)
    if not actionable.any():
        return [row[:TOP_CONTRIBUTIONS].tolist() for row in order]
    first = order[np.arange(len(order)), np.argmax(actionable[order], axis=1)]
    distinct = np.argsort(-np.where(actionable, np.abs(apart), -np.inf), axis=1)[:, :APART]
    return [
        list(
            dict.fromkeys(
                [
                    *order[i, :TOP_CONTRIBUTIONS].tolist(),
                    int(first[i]),
                    *(int(j) for j in distinct[i] if actionable[j]),
                ]
            )
        )
        for i in range(len(order))
    ]


def importance(explained: Explained, top: int = 15) -> list[dict[str, Any]]:
    """Return the ``top`` features by mean absolute contribution, for the model card."""
    contributions = np.abs(explained.contributions).mean(axis=0)
    order = np.argsort(-contributions)[:top]
    return [
        {
            "feature": explained.columns[j],
            "label": explained.labels[j],
            "mean_abs_contribution": round(float(contributions[j]), 4),
        }
        for j in order
    ]

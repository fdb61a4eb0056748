"""Out of time: forward validation (fit on round t-1, predict t), forecast intervals, prognosis years."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from wijkradar.models import bottomup
from wijkradar.models.features import FeatureSet, Target
from wijkradar.models.inputs import Inputs, features_for, make_learner, prev_bins, weights_for
from wijkradar.models.validation import fold_widths, gemeente_folds, interval_widths, metrics

MIN_FORWARD = 20  # regions with a value in both rounds, at least, for a forward validation


def forward_validation(
    inputs: Inputs,
    fs: FeatureSet,
    kind: str,
    seed: int,
    shown: np.ndarray | None = None,
    buurten: pd.Series | None = None,
) -> tuple[dict[str, Any] | None, str | None]:
    """Validate forward in time, as the model is used between rounds: fit on round t-1, predict t.

    The model of round t-1 learns from its own earlier round (t-2) and the Kerncijfers of its
    time, exactly as the stored model of round t does; it then scores round t from round t-1 and
    today's Kerncijfers, and is compared with the survey of round t. The 90% intervals of such a
    forecast are split-conformal on these forward errors, per gemeente fold (a gemeente's width
    comes from the other gemeenten's errors), so the coverage reported is out of sample. Figures
    and widths are over the regions that get an estimate (``shown``, a mask over ``fs``'s regions;
    default all), with R² over every region with a survey value beside them. With ``buurten`` (the
    average per area of the round before's buurt model's forecasts, see
    :mod:`~wijkradar.models.bottomup`) the forecast is the mix the stored model makes, and the
    area model's own R² stays beside it. Returns the figures, or None and the reason there are none.
    """
    target = fs.target
    if fs.previous_period is None:
        return None, "er is geen eerdere peiling"
    earlier = Target(target.measure_id, target.population_group, target.level, fs.previous_period)
    fs0 = features_for(inputs, earlier)
    if fs0.previous_period is None:
        return None, f"de peiling van {fs.previous_period} heeft zelf geen eerdere peiling om van te leren"
    if fs0.labelled.sum() == 0:
        return None, f"de maat is in de peiling van {fs.previous_period} niet gepubliceerd"
    if fs0.labelled.sum() < MIN_FORWARD or fs.labelled.sum() < MIN_FORWARD:
        return None, f"minder dan {MIN_FORWARD} gebieden met een waarde in {fs.previous_period}"
    prev = f"prev:{target.measure_id}|{target.population_group}"
    if prev not in fs0.X.columns or prev not in fs.X.columns:
        return None, f"de maat is in de peiling van {fs0.previous_period} niet gepubliceerd"
    columns = [c for c in fs0.X.columns if c in fs.X.columns]
    model = make_learner(kind, int(fs0.labelled.sum()), seed).fit(
        fs0.X.loc[fs0.labelled, columns], fs0.y.to_numpy()[fs0.labelled], weights_for(kind, fs0, fs0.labelled)
    )
    labelled = fs.labelled
    y = fs.y.to_numpy()[labelled]
    own = model.predict(fs.X.loc[labelled, columns])
    prediction = own
    if buurten is not None:
        prediction = bottomup.blend(own, buurten.reindex(fs.X.index[labelled]).to_numpy(dtype=float))
    residual = np.abs(y - prediction)
    bins = prev_bins(fs)[labelled]
    folds = gemeente_folds(fs.groups[labelled], seed=seed)
    used = np.ones(len(y), dtype=bool) if shown is None else shown[labelled]
    halfwidth = fold_widths(residual, folds, bins, used)
    out: dict[str, Any] = metrics(y[used], prediction[used], halfwidth[used])
    out["r2_with_small_areas"] = metrics(y, prediction)["r2"]
    if buurten is not None:
        out["r2_without_bottom_up"] = metrics(y[used], own[used])["r2"]
    out["fit_period"] = fs.previous_period
    out["predict_period"] = target.period
    out["years"] = int(target.period[:4]) - int(fs.previous_period[:4])
    widths = interval_widths(residual[used], bins[used])
    out["interval_halfwidth_by_bin"] = {str(k): v for k, v in widths.items()}
    return out, None


def forecast_widths(card: dict[str, Any], period: str) -> dict[int, float] | None:
    """Return the 90% half-widths for a forecast of ``period`` by a model of an earlier round.

    They come from the forward errors (see :func:`forward_validation`) over that model's gap between rounds,
    and grow with the square root of the years since the last round (errors that accumulate year
    by year, independently): a forecast two years out is narrower, six years out wider. None when
    the model has no forward validation.
    """
    forward = card.get("forward")
    if not forward:
        return None
    years = max(int(period[:4]) - int(str(card["period"])[:4]), 1)
    scale = math.sqrt(years / max(int(forward["years"]), 1))
    return {int(k): float(v) * scale for k, v in forward["interval_halfwidth_by_bin"].items()}


def prognosis_periods(inputs: Inputs, target: Target) -> list[str]:
    """Return the years a prognose is made for.

    Those are the years after the target's round, up to this year and before the next survey round,
    for which other tables (the Kerncijfers) hold figures.
    """
    year = int(target.period[:4])
    rounds = {int(str(p)[:4]) for p in inputs.target_rows["period"].unique()}
    until = min([r for r in rounds if r > year], default=date.today().year + 1)
    table_of = dict(zip(inputs.measures["measure_id"], inputs.measures["table_id"], strict=True))
    own_table = table_of.get(target.measure_id)
    obs = inputs.observations
    found = []
    for period in obs["period"].unique():
        text = str(period)
        if not (text.isdigit() and len(text) == 4 and year < int(text) < until):
            continue
        measures = obs.loc[obs["period"] == period, "measure_id"].unique()
        # the Monitor Sociaal Domein is not among the inputs (load_inputs leaves it out)
        if any(table_of.get(str(m)) != own_table for m in measures):
            found.append(text)
    return sorted(found)

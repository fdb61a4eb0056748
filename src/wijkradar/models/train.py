"""Train, validate, store and score risk models for any measure and group of a survey table."""

from __future__ import annotations

import time
from functools import partial
from typing import Any, Final

import numpy as np
import pandas as pd

from wijkradar.cache import remember
from wijkradar.config import MIN_RESIDENTS
from wijkradar.errors import ModelMissing, NotFoundError
from wijkradar.models import bottomup
from wijkradar.models.explain import Explained, drivers, importance, made_of
from wijkradar.models.features import FeatureSet, Target
from wijkradar.models.forecast import forecast_widths, forward_validation, prognosis_periods
from wijkradar.models.inputs import (
    Inputs,
    features_for,
    load_inputs,
    make_learner,
    prev_bins,
    resolve_target,
    shown_areas,
    weights_for,
    without_small_areas,
)
from wijkradar.models.learners import (
    BottomUp,
    GradientBoosting,
    Learner,
    PreviousRound,
    RidgeGLM,
    load_learner,
)
from wijkradar.models.validation import cross_validate, gemeente_folds, interval_widths, metrics
from wijkradar.regions import gemeente_codes
from wijkradar.steps import OnStep, unseen
from wijkradar.texts import periods_nl
from wijkradar.warehouse import PROGNOSIS_COLUMNS, Warehouse

TRAIN_STEPS: Final = (
    "invoer lezen",
    "toetsen (kruisvalidatie en vooruit)",
    "eindmodel fitten",
    "verklaren per gebied",
    "prognoses",
    "opslaan",
)


def train_model(
    wh: Warehouse,
    measure_id: str,
    group: str,
    level: str,
    period: str | None = None,
    *,
    seed: int = 0,
    store: bool = True,
    min_residents: int = MIN_RESIDENTS,
    on_step: OnStep = unseen,
) -> dict[str, Any]:
    """Validate both model families, pick the better, fit it on everything, store it with estimates.

    ``on_step`` hears each of the :data:`TRAIN_STEPS` as it begins (the CLI's progress bar).

    Regions where the group has fewer than ``min_residents`` residents (default 50, the rule CDC
    PLACES uses; the CLI hands down ``WIJKRADAR_MIN_INWONERS``) get no estimate: a rate of a handful
    of people is noise, and on a map it would outshout every real signal. Returns the model card (a dict).
    """
    started = time.perf_counter()
    on_step(TRAIN_STEPS[0])
    target = resolve_target(wh, measure_id, group, level, period)
    inputs = load_inputs(wh, target)
    fs = features_for(inputs, target)
    limit = min_residents
    below = None
    if bottomup.applies(target.level):  # the wijk and the gemeente model of a round share it
        below = remember(
            wh,
            ("buurtdeel", target.measure_id, target.population_group, target.period, seed),
            lambda: bottomup.learn(inputs, target, seed),
            shared=True,
            sources_only=True,
        )
    on_step(TRAIN_STEPS[1])
    card, out_of_fold, part = validate(fs, inputs, seed=seed, min_residents=limit, buurten=below)
    on_step(TRAIN_STEPS[2])
    chosen = card["model"]
    labelled = fs.labelled
    X, y = fs.X[labelled], fs.y.to_numpy()[labelled]
    own = make_learner(chosen, len(y), seed).fit(X, y, weights_for(chosen, fs, labelled))
    model: Learner | BottomUp = own if part is None else BottomUp(own, part.model)
    widths = {int(k): float(v) for k, v in card["interval_halfwidth_by_bin"].items()}
    on_step(TRAIN_STEPS[3])
    explained = made_of(model, fs, inputs).explained()  # once: SHAP over every tree is costly
    estimates, few = without_small_areas(
        fs, score(model, fs, widths, out_of_fold, inputs=inputs, explained=explained), limit
    )
    card["n_too_few_residents"] = few
    on_step(TRAIN_STEPS[4])
    later = [
        _score_period(inputs, model, card, p, explain=False)[PROGNOSIS_COLUMNS]
        for p in prognosis_periods(inputs, target)
    ]
    prognoses = pd.concat(later or [pd.DataFrame(columns=PROGNOSIS_COLUMNS)], ignore_index=True)
    card["forecast_periods"] = sorted({str(p) for p in prognoses["period"]})
    card["forecast_inputs"] = {
        str(p): periods_nl(rows["kerncijfers"]) for p, rows in prognoses.groupby("period", sort=True)
    }
    card["feature_importance"] = importance(explained)
    card["train_seconds"] = round(time.perf_counter() - started, 1)
    card["n_estimated"] = len(estimates)
    card["n_without_survey"] = int((~labelled).sum())
    if store:
        on_step(TRAIN_STEPS[5])
        card["model_id"] = wh.models.save(
            {
                "measure_id": target.measure_id,
                "population_group": target.population_group,
                "level": target.level,
                "period": target.period,
                "algorithm": bottomup.algorithm(card),
                "metrics": _evaluation(card),
                "card": dict(card),
                "artifact": model.artifact(),
            },
            estimates,
            prognoses,
        )
    return card


def _score_period(
    inputs: Inputs, model: Learner | BottomUp, card: dict[str, Any], period: str, *, explain: bool
) -> pd.DataFrame:
    """Score a stored model on the features of a period, leaving out the areas with too few residents.

    A later year than the model's round is a forecast: its intervals come from the forward errors
    (see :func:`~wijkradar.models.forecast.forecast_widths`), else from the cross-validation.
    """
    target = Target(card["measure"], card["group"], card["level"], period)
    fs = features_for(inputs, target)
    later = int(period[:4]) > int(str(card["period"])[:4])
    forecast = forecast_widths(card, period) if later else None
    widths = forecast or {int(k): float(v) for k, v in card["interval_halfwidth_by_bin"].items()}
    stored = card.get("min_residents")
    limit = MIN_RESIDENTS if stored is None else int(stored)  # cards before the setting: its default
    return without_small_areas(fs, score(model, fs, widths, explain=explain, inputs=inputs), limit)[0]


def validate(
    fs: FeatureSet,
    inputs: Inputs,
    *,
    seed: int = 0,
    min_residents: int = 0,
    buurten: bottomup.BuurtPart | None = None,
) -> tuple[dict[str, Any], pd.Series, bottomup.BuurtPart | None]:
    """Run grouped cross-validation of both families, the baseline and the forward validation.

    Every region with a survey value is learned from, but the figures and the intervals' widths
    are those of the regions that get an estimate (at least ``min_residents`` residents of the
    group, see :func:`~wijkradar.models.inputs.shown_areas`): a model is judged on what it shows.
    R² over every region with a survey value stays beside them (``r2_with_small_areas``).
    A wijk or gemeente model is also tried mixed with its buurten's estimates (see
    :mod:`~wijkradar.models.bottomup`; ``buurten``: that part when the caller has learned it); the
    mix is used when its grouped-CV R² is higher.
    Returns the model card, the out-of-fold predictions (what the model expects for a region when
    it has not seen that region's gemeente) and the buurt part when it is used.
    """
    target = fs.target
    labelled = fs.labelled
    X, y = fs.X[labelled], fs.y.to_numpy()[labelled]
    groups = fs.groups[labelled]
    folds = gemeente_folds(groups, seed=seed)
    bins = prev_bins(fs)[labelled]
    every_shown = shown_areas(fs, min_residents)
    if not every_shown[labelled].any():  # nothing would be shown: judge it on every region instead
        every_shown = np.ones(len(every_shown), dtype=bool)
    shown = every_shown[labelled]
    results: dict[str, dict[str, float]] = {}
    cvs = {}
    for kind in (GradientBoosting.name, RidgeGLM.name):
        weight = weights_for(kind, fs, labelled)
        cv = cross_validate(partial(make_learner, kind, len(y), seed), X, y, folds, bins, weight, shown)
        cvs[kind] = cv
        results[kind] = metrics(y[shown], cv.prediction[shown], cv.halfwidth[shown])
        results[kind]["r2_with_small_areas"] = metrics(y, cv.prediction)["r2"]
    chosen = max(results, key=lambda k: results[k]["r2"])
    prev_feature = f"prev:{target.measure_id}|{target.population_group}"
    baseline = None
    baseline_missing = None
    if not fs.previous_period:
        baseline_missing = "er is geen eerdere peiling"
    elif not PreviousRound(prev_feature).usable(X):
        baseline_missing = f"de maat is in de peiling van {fs.previous_period} niet gepubliceerd"
    else:
        base_cv = cross_validate(lambda: PreviousRound(prev_feature), X, y, folds, bins)
        baseline = metrics(y[shown], base_cv.prediction[shown])
    part = buurten or bottomup.learn(inputs, target, seed)
    below, prediction = bottomup.judged(
        part, target.level, X.index, y, cvs[chosen].prediction, folds, bins, shown, results[chosen]["r2"]
    )
    part = part if below is not None and below["used"] else None
    forward, forward_missing = forward_validation(
        inputs, fs, chosen, seed, every_shown, part.forward_per(target.level) if part is not None else None
    )
    residual = np.abs(y - prediction)
    widths = interval_widths(residual[shown], bins[shown])
    families: dict[str, int] = {}
    for column in fs.X.columns:
        families[column.split(":")[0]] = families.get(column.split(":")[0], 0) + 1
    out_of_fold = pd.Series(prediction, index=fs.X.index[labelled])
    card = {
        "measure": target.measure_id,
        "group": target.population_group,
        "level": target.level,
        "period": target.period,
        "previous_period": fs.previous_period,
        "n": int(labelled.sum()),
        "n_validated": int(shown.sum()),
        "min_residents": min_residents,
        "n_gemeenten": int(groups.nunique()),
        "folds": len(np.unique(folds)),
        "model": chosen,
        "validation": results,
        "bottom_up": below,
        "baseline": baseline,
        "baseline_missing": baseline_missing,
        "forward": forward,
        "forward_missing": forward_missing,
        "interval_halfwidth_by_bin": {str(k): v for k, v in widths.items()},
        "n_features": int(fs.X.shape[1]),
        "boundaries": inputs.indeling,
        "feature_families": families,
    }
    return card, out_of_fold, part


def score(
    model: Learner | BottomUp,
    fs: FeatureSet,
    widths: dict[int, float],
    out_of_fold: pd.Series | None = None,
    *,
    explain: bool = True,
    inputs: Inputs | None = None,
    explained: Explained | None = None,
) -> pd.DataFrame:
    """Estimates, 90% intervals and top contributions for every region of the feature set.

    ``expected`` is the out-of-fold prediction where there is one (regions with a survey value),
    else the estimate: the honest yardstick for "beter/slechter dan verwacht". A model mixed with
    its buurten needs ``inputs``, to build the buurten's features of the same period. ``explained``:
    the contributions when the caller has them already.
    """
    made = made_of(model, fs, inputs)
    prediction = made.estimate()
    expected = prediction.copy()
    if out_of_fold is not None:
        known = out_of_fold.reindex(fs.X.index).to_numpy()
        expected = np.where(np.isnan(known), prediction, known)
    halfwidth = np.array([widths.get(int(b), max(widths.values())) for b in prev_bins(fs)])
    # A buurt or wijk is set against the others of its gemeente, a gemeente against all gemeenten.
    typical = ["NL01"] * len(fs.X) if fs.target.level == "gemeente" else gemeente_codes(fs.X.index).tolist()
    found = drivers(explained or made.explained(), typical) if explain else [[] for _ in range(len(fs.X))]
    return pd.DataFrame(
        {
            "region_code": fs.X.index.to_numpy(),
            "period": fs.target.period,
            "estimate": prediction,
            "expected": expected,
            "lower": prediction - halfwidth,
            "upper": prediction + halfwidth,
            "survey": fs.y.to_numpy(),
            "survey_lower": fs.y_lower.to_numpy(),
            "survey_upper": fs.y_upper.to_numpy(),
            "contributions": found,
            "kerncijfers": made.periods_read(),
        }
    )


def _evaluation(card: dict[str, Any]) -> dict[str, Any]:
    """Collect the figures ``wijkradar evaluate --format json`` prints."""
    chosen = bottomup.headline(card)
    return {
        "measure": card["measure"],
        "group": card["group"],
        "level": card["level"],
        "period": card["period"],
        "n": chosen["n"],
        "r2": chosen["r2"],
        "r2_with_small_areas": chosen.get("r2_with_small_areas"),
        "min_residents": card.get("min_residents"),
        "mae": chosen["mae"],
        "spearman": chosen["spearman"],
        "coverage90": chosen["coverage90"],
        "baseline_r2": card["baseline"]["r2"] if card["baseline"] else None,
        "baseline_missing": card.get("baseline_missing"),
        "model": bottomup.algorithm(card),
        "r2_without_bottom_up": card["validation"][card["model"]]["r2"] if card.get("bottom_up") else None,
        "glm_r2": card["validation"][RidgeGLM.name]["r2"],
        "lightgbm_r2": card["validation"][GradientBoosting.name]["r2"],
        "calibration_slope": chosen["calibration_slope"],
        **_forward_figures(card),
        "forecast_periods": ", ".join(card.get("forecast_periods", [])) or None,
    }


def _forward_figures(card: dict[str, Any]) -> dict[str, Any]:
    """Return the forward validation's figures under the keys ``evaluate`` promises (None with a reason)."""
    forward = card.get("forward") or {}
    return {
        "forward_r2": forward.get("r2"),
        "forward_r2_with_small_areas": forward.get("r2_with_small_areas"),
        "forward_r2_without_bottom_up": forward.get("r2_without_bottom_up"),
        "forward_mae": forward.get("mae"),
        "forward_spearman": forward.get("spearman"),
        "forward_coverage90": forward.get("coverage90"),
        "forward_periods": f"{forward['fit_period']} -> {forward['predict_period']}" if forward else None,
        "forward_missing": card.get("forward_missing") if not forward else None,
    }


def evaluation(
    wh: Warehouse, measure_id: str, group: str, level: str, period: str | None = None
) -> dict[str, Any]:
    """Return the stored validation of a model; without one, raise :class:`ModelMissing`."""
    target = resolve_target(wh, measure_id, group, level, period)
    return dict(_stored(wh, target)["metrics"])


def model_card(
    wh: Warehouse, measure_id: str, group: str, level: str, period: str | None = None
) -> dict[str, Any]:
    """Return the stored model card of a target; without a model, raise :class:`ModelMissing`."""
    target = resolve_target(wh, measure_id, group, level, period)
    stored = _stored(wh, target)
    card = dict(stored["card"])
    card["model_id"] = int(stored["model_id"])
    card["created_at"] = str(stored["created_at"])
    return card


def train_and_evaluate(
    wh: Warehouse,
    measure_id: str,
    group: str,
    level: str,
    period: str | None = None,
    *,
    min_residents: int = MIN_RESIDENTS,
    on_step: OnStep = unseen,
) -> dict[str, Any]:
    """Train, validate and store a model (the one command that writes models) and return its figures."""
    card = train_model(wh, measure_id, group, level, period, min_residents=min_residents, on_step=on_step)
    return _evaluation(card)


def _stored(wh: Warehouse, target: Target) -> dict[str, Any]:
    stored = wh.models.get(target.measure_id, target.population_group, target.level, target.period)
    if stored is None:
        raise ModelMissing(
            f"{target.measure_id} {target.population_group} ({target.level}, {target.period})",
            f"--measure {target.measure_id} --group {target.population_group} --level {target.level} "
            f"--period {target.period}",
        )
    return stored


def rescore(wh: Warehouse, model_id: int, period: str, *, explain: bool = False) -> pd.DataFrame:
    """Score a stored model on the features of a period (e.g. a newer year without survey).

    Estimates and intervals for every region; with ``explain`` also the contributions, which
    cost far more than the estimates themselves (SHAP values over every tree).
    """
    stored = wh.models.by_id(model_id)
    if stored is None:
        raise NotFoundError("model", str(model_id), [str(i) for i in wh.models.table()["model_id"]])
    target = Target(stored["measure_id"], stored["population_group"], stored["level"], period)
    return _score_period(
        load_inputs(wh, target, scoring=True),
        load_learner(stored["artifact"]),
        stored["card"],
        period,
        explain=explain,
    )

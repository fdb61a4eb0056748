"""Risk models on tiny fixtures and seeded synthetic data: features, leakage, intervals."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from conftest import shown_estimate
from wijkradar.goals.progress import progress
from wijkradar.models import bottomup
from wijkradar.models.features import FeatureSet, Target, build_features
from wijkradar.models.inputs import Inputs, features_for, load_inputs, make_learner, weights_for
from wijkradar.models.learners import BottomUp, GradientBoosting, PreviousRound, RidgeGLM, load_learner
from wijkradar.models.train import TRAIN_STEPS, evaluation, rescore, score, train_model, validate
from wijkradar.models.train import _evaluation as evaluation_figures
from wijkradar.models.validation import conformal_quantile, cross_validate, gemeente_folds, metrics
from wijkradar.pages.model_card import render_markdown
from wijkradar.pages.views import areas
from wijkradar.texts import figure_nl, number_nl
from wijkradar.themes import load_themes
from wijkradar.warehouse import Warehouse

MEASURES = pd.DataFrame(
    {
        "measure_id": ["Eenzaam_28", "Roker_11", "a_inw", "a_65_oo"],
        "label": ["Eenzaam", "Roker", "Aantal inwoners", "Personen 65 jaar of ouder"],
        "table_id": ["50090NED", "50090NED", "83765NED", "83765NED"],
    }
)


def _obs(rows: list[tuple[str, str, str, str, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["region_code", "period", "measure_id", "population_group", "value"])
    return frame.assign(lower=np.nan, upper=np.nan, status="published")


@pytest.fixture
def tiny() -> pd.DataFrame:
    rows = []
    buurten = ["BU00010101", "BU00010102", "BU00010103", "BU00020101"]
    for i, code in enumerate(buurten):
        rows += [
            (code, "2016", "Eenzaam_28", "65+", 40.0 + i),
            (code, "2016", "Roker_11", "65+", 10.0 + i),
            (code, "2020", "Eenzaam_28", "65+", 45.0 + i),
            (code, "2020", "Roker_11", "65+", 99.0),  # same round as the target: must never be a feature
            (code, "2017", "a_inw", "totaal", 1000.0 * (i + 1)),
            (code, "2017", "a_65_oo", "totaal", 200.0 * (i + 1)),
        ]
    for code, v in (("WK000101", 41.0), ("WK000201", 43.0), ("GM0001", 41.5), ("GM0002", 43.0)):
        rows.append((code, "2016", "Eenzaam_28", "65+", v))
    return _obs(rows)


def test_features_families_and_labels(tiny: pd.DataFrame) -> None:
    target = Target("Eenzaam_28", "65+", "buurt", "2020")
    fs = build_features(tiny, tiny[tiny.measure_id == "Eenzaam_28"], MEASURES, target)
    assert fs.previous_period == "2016"
    assert list(fs.X.index) == ["BU00010101", "BU00010102", "BU00010103", "BU00020101"]
    assert fs.y.tolist() == [45.0, 46.0, 47.0, 48.0]
    X = fs.X
    assert X.loc["BU00010102", "prev:Eenzaam_28|65+"] == 41.0
    assert X.loc["BU00010102", "kwb:aandeel_65_oo"] == pytest.approx(0.2)
    assert X.loc["BU00010101", "wk:prev:Eenzaam_28|65+"] == 41.0
    assert X.loc["BU00020101", "gm:prev:Eenzaam_28|65+"] == 43.0
    # neighbours: the other buurten of the same wijk, leaving the buurt itself out
    assert X.loc["BU00010101", "nb:prev_target"] == pytest.approx((41.0 + 42.0) / 2)
    assert X["nb:prev_target"].isna()["BU00020101"]
    assert fs.labels["prev:Eenzaam_28|65+"] == "Eenzaam 65+ (peiling 2016)"
    assert fs.labels["kwb:aandeel_65_oo"] == "aandeel 65-plussers"
    # nothing from the target's own round enters
    assert not (X == 99.0).any().any()


def test_every_earlier_round_enters_as_level_and_change(tiny: pd.DataFrame) -> None:
    """With 2012 and 2016 before 2020: 2012 enters as prev2 (the target measure only) and chg2 (to 2016)."""
    older = tiny[(tiny["period"] == "2016") & tiny["measure_id"].isin(["Eenzaam_28", "Roker_11"])]
    three = pd.concat([tiny, older.assign(period="2012", value=older["value"] - 3.0)], ignore_index=True)
    target = Target("Eenzaam_28", "65+", "buurt", "2020")
    fs = build_features(three, three[three.measure_id == "Eenzaam_28"], MEASURES, target)
    X = fs.X
    assert fs.previous_period == "2016"
    assert X.loc["BU00010102", "prev2:Eenzaam_28|65+"] == 38.0
    assert X.loc["BU00010102", "chg2:Eenzaam_28|65+"] == pytest.approx(3.0)
    assert X.loc["BU00020101", "gm:chg2:Eenzaam_28|65+"] == pytest.approx(3.0)  # the gemeente's trend
    assert not any(c.startswith("prev2:Roker") for c in X.columns)  # other measures: the last round only
    assert fs.labels["chg2:Eenzaam_28|65+"] == "verandering Eenzaam 65+ sinds 2012"
    assert fs.labels["prev2:Eenzaam_28|65+"] == "Eenzaam 65+ (peiling 2012)"
    # Scoring 2016 from 2012 has no round before 2012: no prev2 or change, no error.
    earlier = build_features(
        three, three[three.measure_id == "Eenzaam_28"], MEASURES, Target("Eenzaam_28", "65+", "buurt", "2016")
    )
    assert earlier.previous_period == "2012" and not any(
        c.startswith(("prev2", "chg2")) for c in earlier.X.columns
    )


def test_target_period_values_never_change_features(tiny: pd.DataFrame) -> None:
    target = Target("Eenzaam_28", "65+", "buurt", "2020")
    before = build_features(tiny, tiny[tiny.measure_id == "Eenzaam_28"], MEASURES, target).X
    shaken = tiny.copy()
    same_round = shaken["period"] == "2020"
    shaken.loc[same_round, "value"] = np.random.default_rng(1).uniform(0, 100, same_round.sum())
    after = build_features(shaken, shaken[shaken.measure_id == "Eenzaam_28"], MEASURES, target).X
    pd.testing.assert_frame_equal(before, after)


def _synthetic(
    n_gemeenten: int = 60, per: int = 30, seed: int = 0
) -> tuple[pd.DataFrame, np.ndarray, pd.Series]:
    rng = np.random.default_rng(seed)
    groups = pd.Series(np.repeat([f"GM{g:04d}" for g in range(n_gemeenten)], per))
    n = len(groups)
    effect = rng.normal(0, 2, n_gemeenten).repeat(per)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.uniform(size=n)})
    X.loc[rng.uniform(size=n) < 0.1, "b"] = np.nan  # missing inputs are handled, not dropped
    y = 40 + 5 * X["a"].to_numpy() + 3 * np.nan_to_num(X["b"].to_numpy()) + effect + rng.normal(0, 2, n)
    return X, y, groups


def test_held_out_gemeente_target_cannot_reach_its_predictions() -> None:
    X, y, groups = _synthetic()
    folds = gemeente_folds(groups)
    bins = np.zeros(len(y), dtype=int)
    base = cross_validate(RidgeGLM, X, y, folds, bins)
    victim = groups == groups.iloc[0]
    y2 = y.copy()
    y2[victim.to_numpy()] += 1000.0  # the held-out gemeente's own targets, wildly changed
    moved = cross_validate(RidgeGLM, X, y2, folds, bins)
    np.testing.assert_allclose(base.prediction[victim.to_numpy()], moved.prediction[victim.to_numpy()])
    assert not np.allclose(base.prediction[~victim.to_numpy()], moved.prediction[~victim.to_numpy()])


def test_folds_keep_gemeenten_whole() -> None:
    _, _, groups = _synthetic()
    folds = gemeente_folds(groups, k=5)
    assert pd.DataFrame({"g": groups, "f": folds}).groupby("g")["f"].nunique().max() == 1
    assert set(folds) == {0, 1, 2, 3, 4}


@pytest.mark.parametrize("learner", ["glm", "lightgbm"])
def test_interval_coverage_on_seeded_synthetic_data(learner: str) -> None:
    X, y, groups = _synthetic(n_gemeenten=100, per=25, seed=3)
    folds = gemeente_folds(groups)
    bins = X["b"].isna().to_numpy().astype(int)
    make = RidgeGLM if learner == "glm" else (lambda: GradientBoosting(n_rows=len(y)))
    cv = cross_validate(make, X, y, folds, bins)
    result = metrics(y, cv.prediction, cv.halfwidth)
    assert 0.87 <= result["coverage90"] <= 0.93, result
    assert result["r2"] > 0.6


def test_conformal_quantile_is_finite_sample() -> None:
    scores = np.arange(1, 20, dtype=float)  # n = 19: rank ceil(20 * 0.9) = 18
    assert conformal_quantile(scores) == 18.0
    assert conformal_quantile(np.array([])) == np.inf


def test_learners_round_trip_through_artifacts() -> None:
    X, y, _ = _synthetic(n_gemeenten=20, per=20)
    for model in (RidgeGLM().fit(X, y), GradientBoosting(n_rows=len(y)).fit(X, y)):
        again = load_learner(model.artifact())
        assert not isinstance(again, BottomUp)
        np.testing.assert_allclose(model.predict(X), again.predict(X))
        contributions = again.contributions(X)
        np.testing.assert_allclose(contributions.sum(axis=1), again.predict(X), rtol=1e-6, atol=1e-6)


def test_previous_round_baseline_falls_back_to_wijk_and_gemeente() -> None:
    X = pd.DataFrame(
        {"prev:t|g": [1.0, np.nan, np.nan], "wk:prev:t|g": [9.0, 2.0, np.nan], "gm:prev:t|g": [9.0, 9.0, 3.0]}
    )
    model = PreviousRound("prev:t|g").fit(X, np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(model.predict(X), [1.0, 2.0, 3.0])


def test_previous_round_baseline_without_any_previous_value_is_the_mean() -> None:
    """A measure not published in the earlier round: no line through nothing (was a LinAlgError)."""
    X = pd.DataFrame({"prev:t|g": [np.nan] * 4, "other": [1.0, 2.0, 3.0, 4.0]})
    baseline = PreviousRound("prev:t|g")
    assert not baseline.usable(X) and baseline.usable(X.assign(**{"gm:prev:t|g": [1.0, np.nan, 2.0, 3.0]}))
    model = baseline.fit(X, np.array([1.0, 2.0, 3.0, 6.0]))
    np.testing.assert_allclose(model.predict(X), [3.0] * 4)


def test_a_measure_missing_from_the_earlier_round_trains_and_says_why_there_is_no_baseline(
    small_db: Path, tmp_path: Path
) -> None:
    """BeperktVanwegeGezondheid_17 is published in 2020, not in 2016: it once ended in a LinAlgError."""
    db = tmp_path / "w.duckdb"
    shutil.copy(small_db, db)
    with Warehouse.open(db) as wh:
        assert wh.observations.periods("BeperktVanwegeGezondheid_17", "65+") == ["2020"]
        train_model(wh, "BeperktVanwegeGezondheid_17", "65+", "wijk")
        found = evaluation(wh, "BeperktVanwegeGezondheid_17", "65+", "wijk")
    assert found["baseline_r2"] is None
    assert found["baseline_missing"] == "de maat is in de peiling van 2016 niet gepubliceerd"
    assert found["forward_r2"] is None and found["forward_missing"] in (
        "de maat is in de peiling van 2016 niet gepubliceerd",
        "de peiling van 2016 heeft zelf geen eerdere peiling om van te leren",  # small_db: no 2012
    )
    assert np.isfinite(found["r2"])


def test_forward_validation_and_forecast_intervals(full_db: Path, tmp_path: Path) -> None:
    """Fit on 2016 (with 2012 as input), predict 2020, compare with the 2020 survey; forecasts use it."""
    db = tmp_path / "w.duckdb"
    shutil.copy(full_db, db)
    heard: list[str] = []
    with Warehouse.open(db) as wh:
        card = train_model(wh, "Eenzaam_28", "65+", "gemeente", on_step=heard.append)
        found = evaluation(wh, "Eenzaam_28", "65+", "gemeente")
        forecast = rescore(wh, int(card["model_id"]), "2024")
        two_years = rescore(wh, int(card["model_id"]), "2022")
    assert heard == list(TRAIN_STEPS)  # the progress bar's steps, each once, in order
    assert found["forward_periods"] == "2016 -> 2020" and found["forward_missing"] is None
    assert 0.8 <= found["forward_coverage90"] <= 1.0
    assert np.isfinite(found["forward_r2"]) and found["forward_mae"] > 0 and found["forward_spearman"] > 0.3
    forward = card["forward"]
    assert forward["years"] == 4 and forward["n"] > 300
    # Four years after the 2020 round: the widths of the four-year forward errors; two years: sqrt(1/2).
    widths = sorted(forward["interval_halfwidth_by_bin"].values())
    half = np.unique(np.round((forecast["upper"] - forecast["estimate"]).to_numpy(), 6))
    assert set(half) <= {round(w, 6) for w in widths}
    shorter = np.unique(np.round((two_years["upper"] - two_years["estimate"]).to_numpy(), 6))
    assert set(shorter) <= {round(w * np.sqrt(0.5), 6) for w in widths}
    cross_sectional = max(card["interval_halfwidth_by_bin"].values())
    assert max(widths) > cross_sectional  # a forecast is less certain than a same-round estimate
    _check_prognoses(db, card, {round(w, 6) for w in widths})


def _check_prognoses(db: Path, card: dict[str, Any], four_year_widths: set[float]) -> None:
    """Training also made prognoses for the later years with Kerncijfers, kept apart from estimates."""
    with Warehouse.open(db, read_only=True) as wh:
        stored = wh.models.forecasts(int(card["model_id"]))
        estimates = wh.models.estimates(int(card["model_id"]))
        assert card["forecast_periods"] == sorted(set(stored["period"]))
        assert "2024" in card["forecast_periods"] and all(int(p) > 2020 for p in card["forecast_periods"])
        assert set(estimates["period"]) == {"2020"}  # the survey year's estimates stay as they were
        later = stored[stored["period"] == "2024"]
        assert len(later) > 300 and later["estimate"].between(0, 100).all()
        # Each prognose says which Kerncijfers it read (its own and its buurten's), none after the
        # year after: Almere has nothing newer than 2020, Baarn's buurten have those of 2024.
        read = later.set_index("region_code")["kerncijfers"].str.split(",")
        assert all(p and max(int(y[:4]) for y in p) <= 2025 for p in read)
        assert read["GM0034"] == ["2017", "2020"] and "2024" in read["GM0308"]
        assert card["forecast_inputs"]["2024"].endswith("en 2024")
        assert set(np.round(later["upper"] - later["estimate"], 6)) <= four_year_widths
        # Fewer years ahead, narrower intervals: 2021 is one year after the round, 2024 four.
        if "2021" in card["forecast_periods"]:
            one = stored[stored["period"] == "2021"]
            assert (one["upper"] - one["lower"]).max() < (later["upper"] - later["lower"]).max()
        goal = {
            "goal_id": 1,
            "title": "minder eenzaam",
            "measure_id": "Eenzaam_28",
            "population_group": "65+",
            "area_codes": ["GM0034"],
            "baseline_period": "2016",
            "baseline_value": 47.0,
            "target_value": 40.0,
            "target_year": 2026,
            "direction": "down",
        }
        found = progress(wh, goal)
        forecast = found["forecast"]
        assert forecast is not None and forecast["period"] == "2024" and forecast["halfwidth"] > 0
        assert [p["period"] for p in found["points"]] == ["2016", "2020"]  # never a measurement
        assert "2024" not in found["explanation"] and found["status"] == found["points"][-1]["status"]
        chosen = load_themes()["eenzaamheid"]
        rows = areas(wh, "GM0034", chosen, "gemeente")
        assert rows["forecast_period"] == "2024" and rows["period"] == "2020"
        assert rows["forecast_inputs"] == "2017 en 2020"
        (row,) = rows["rows"]
        assert row["value"] == row["survey"] and row["forecast"] != row["value"]
        assert row["forecast_lower"] < row["forecast"] < row["forecast_upper"]
    baarn, estimate = shown_estimate(db, "GM0308")  # `show` gives the prognoses beside the estimate
    later = next(f for f in estimate["forecasts"] if f["period"] == "2024")
    assert f"2024: {figure_nl(later['estimate'])} ({number_nl(later['lower'])}–" in baarn


def test_the_boosted_fit_weighs_regions_by_their_residents_of_the_group() -> None:
    X = pd.DataFrame(
        {
            "kwb:a_65_oo": [100.0, np.nan, 5.0, 4000.0, np.nan],
            "kwb:p_65_eo_jr": [np.nan, 20.0, np.nan, np.nan, np.nan],
            "kwb:a_inw": [500.0, 1000.0, 50.0, 20000.0, np.nan],
        },
        index=pd.Index([f"BU{i:08d}" for i in range(5)], name="region_code"),
    )
    fs = FeatureSet(
        target=Target("Eenzaam_28", "65+", "buurt", "2020"),
        X=X,
        y=pd.Series(np.nan, index=X.index),
        y_lower=pd.Series(np.nan, index=X.index),
        y_upper=pd.Series(np.nan, index=X.index),
        groups=pd.Series("GM0001", index=X.index),
    )
    rows = np.ones(5, dtype=bool)
    weights = weights_for("lightgbm", fs, rows)
    assert weights is not None
    # a count; a share of the inhabitants; at least 10; at most the 99th percentile; unknown: the median
    assert weights[0] == 100.0 and weights[1] == 200.0 and weights[2] == 10.0
    assert weights[3] == pytest.approx(np.quantile([100.0, 200.0, 5.0, 4000.0], 0.99))
    assert weights[4] == pytest.approx(150.0)
    assert weights_for("glm", fs, rows) is None  # ridge stays unweighted (grouped CV: weights cost it)
    picked = weights_for("lightgbm", fs, np.array([True, False, True, False, False]))
    assert picked is not None and list(picked) == [100.0, 10.0]


def test_a_model_is_judged_on_the_areas_it_gives_an_estimate() -> None:
    """Areas under 50 residents of the group get no estimate: their noisy survey values teach the fit
    but neither its figures nor its intervals' widths (seeded synthetic data)."""
    rng = np.random.default_rng(7)
    n = 1200
    codes = pd.Index([f"BU{g:04d}{i:04d}" for g in range(60) for i in range(20)], name="region_code")
    x = rng.normal(size=n)
    residents = np.where(rng.random(n) < 0.2, rng.integers(5, 50, n), rng.integers(50, 3000, n)).astype(float)
    small = residents < 50
    y = 40 + 3 * x + rng.normal(scale=np.where(small, 6.0, 0.5))
    X = pd.DataFrame({"x": x, "kwb:a_65_oo": residents}, index=codes)
    fs = FeatureSet(
        target=Target("Eenzaam_28", "65+", "buurt", "2020"),
        X=X,
        y=pd.Series(y, index=codes),
        y_lower=pd.Series(np.nan, index=codes),
        y_upper=pd.Series(np.nan, index=codes),
        groups=pd.Series([c[:6].replace("BU", "GM") for c in codes], index=codes),
    )
    empty = pd.DataFrame()
    card, out_of_fold, _ = validate(fs, Inputs(empty, empty, empty), min_residents=50)
    chosen = card["validation"][card["model"]]
    assert card["n"] == n and card["n_validated"] == int((~small).sum()) == chosen["n"]
    assert len(out_of_fold) == n  # every area with a survey value still gets what the model expects
    assert chosen["r2"] > 0.9 > chosen["r2_with_small_areas"]
    assert 0.86 <= chosen["coverage90"] <= 0.94
    # Widths from the shown areas only: far narrower than the small areas' noise would make them.
    assert max(card["interval_halfwidth_by_bin"].values()) < 2.0
    every, _, _ = validate(fs, Inputs(empty, empty, empty), min_residents=0)
    assert every["n_validated"] == n and max(every["interval_halfwidth_by_bin"].values()) > 2.0
    assert "kleinere gebieden erbij" in render_markdown(card) and "kleinere" not in render_markdown(every)


@pytest.mark.parametrize(("level", "period"), [("wijk", "2020"), ("gemeente", "2024")])
def test_scoring_reads_less_and_builds_the_same_features(full_wh: Warehouse, level: str, period: str) -> None:
    """Scoring reads only the previous round, the measure's earlier rounds and the Kerncijfers up to then."""
    target = Target("Eenzaam_28", "65+", level, period)
    every, needed = load_inputs(full_wh, target), load_inputs(full_wh, target, scoring=True)
    assert len(needed.observations) < len(every.observations) / 2
    full, narrow = features_for(every, target), features_for(needed, target)
    assert full.previous_period == narrow.previous_period == ("2016" if period == "2020" else "2020")
    pd.testing.assert_frame_equal(full.X.sort_index(axis=1), narrow.X.sort_index(axis=1))


def _layered(buurt_signal: bool) -> tuple[Inputs, FeatureSet]:
    """Seeded synthetic buurten and wijken: the wijk's value is its buurten's, weighted by residents.

    With ``buurt_signal`` a buurt's value steps with its own share ``p_x``, which the wijk's average
    share cannot show (a step of a mean is not the mean of steps): only a buurt model sees it.
    Without, the buurten carry noise around their wijk's value.
    """
    rng = np.random.default_rng(11)
    rows = []
    for g in range(40):
        for w in range(3):
            wijk = f"WK{g + 1:04d}{w:02d}"
            share, residents, values = rng.normal(size=8), rng.integers(100, 2000, 8).astype(float), []
            level = rng.normal(0, 3)
            for b in range(8):
                code = f"BU{g + 1:04d}{w:02d}{b:02d}"
                value = (
                    40 + 8 * (share[b] > 0.3) + 0.5 * rng.normal()
                    if buurt_signal
                    else 45 + level + 6 * rng.normal()
                )
                values.append(value)
                rows += [
                    (code, "2020", "Eenzaam_28", "65+", value),
                    (code, "2017", "p_x", "totaal", share[b]),
                    (code, "2017", "a_65_oo", "totaal", residents[b]),
                ]
            mean = float(np.average(values, weights=residents)) + (0 if buurt_signal else rng.normal())
            rows += [
                (wijk, "2020", "Eenzaam_28", "65+", mean),
                (wijk, "2017", "p_x", "totaal", float(np.average(share, weights=residents))),
                (wijk, "2017", "a_65_oo", "totaal", residents.sum()),
            ]
    observations = _obs(rows)
    measures = pd.DataFrame(
        {
            "measure_id": ["Eenzaam_28", "p_x", "a_65_oo"],
            "label": ["Eenzaam", "Aandeel x", "Personen 65 jaar of ouder"],
            "table_id": ["50090NED", "83765NED", "83765NED"],
        }
    )
    inputs = Inputs(observations, observations[observations["measure_id"] == "Eenzaam_28"], measures)
    return inputs, features_for(inputs, Target("Eenzaam_28", "65+", "wijk", "2020"))


def test_a_wijk_model_is_mixed_with_its_buurten_only_when_that_validates_better() -> None:
    """Grouped CV decides whether the buurt model's estimates, averaged per wijk, join the wijk's own."""
    inputs, fs = _layered(buurt_signal=True)
    card, out_of_fold, part = validate(fs, inputs)
    below = card["bottom_up"]
    assert part is not None and below["used"] and below["n_areas"] == 120
    assert below["validation"]["r2"] > card["validation"][card["model"]]["r2"] + 0.05
    assert 0.8 <= below["validation"]["coverage90"] <= 0.98
    own = make_learner(card["model"], 120, 0).fit(fs.X, fs.y.to_numpy())
    model = BottomUp(own, part.model)
    widths = {int(k): float(v) for k, v in card["interval_halfwidth_by_bin"].items()}
    scored = score(model, fs, widths, out_of_fold, inputs=inputs)
    buurten = bottomup.average(
        pd.Series(
            part.model.predict(bottomup.buurt_fs(inputs, fs.target).X),
            index=bottomup.buurt_fs(inputs, fs.target).X.index,
        ),
        bottomup.buurt_fs(inputs, fs.target).X["kwb:a_65_oo"],
        "wijk",
    ).reindex(fs.X.index)
    np.testing.assert_allclose(scored["estimate"], 0.5 * own.predict(fs.X) + 0.5 * buurten.to_numpy())
    np.testing.assert_allclose(scored["expected"], out_of_fold.to_numpy())
    # The buurt model's drivers reach the wijk, labelled as the buurten's, with their own family.
    drivers = {c["feature"]: c for row in scored["contributions"] for c in row}
    assert drivers["buurten:kwb:p_x"]["label"] == "in de buurten: Aandeel x"
    assert drivers["buurten:kwb:p_x"]["family"] == "bevolking" and drivers["buurten:kwb:p_x"]["value"] is None
    # Stored and loaded, the mix scores the same.
    again = load_learner(model.artifact())
    assert isinstance(again, BottomUp)
    np.testing.assert_allclose(
        score(again, fs, widths, inputs=inputs, explain=False)["estimate"], scored["estimate"]
    )
    text = render_markdown(card)
    assert "Opbouw uit buurten: voor 120 gebieden" in text and "wordt gebruikt" in text
    assert evaluation_figures(card)["model"] == f"{card['model']} + buurten"

    inputs, fs = _layered(buurt_signal=False)
    card, _, part = validate(fs, inputs)
    assert part is None and card["bottom_up"] is not None and not card["bottom_up"]["used"]
    assert evaluation_figures(card)["r2"] == card["validation"][card["model"]]["r2"]
    assert "het eigen model wordt gebruikt" in render_markdown(card)

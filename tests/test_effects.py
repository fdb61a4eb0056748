"""Wat werkt, measured (issue 28): effects against matched areas, intervals proven on placebos.

Real data: the RIVM rounds 2012, 2016 and 2020 per buurt and wijk, and the Monitor Sociaal
Domein's Wmo-cliënten per 1 000 inwoners per wijk and year, from ../shared/data.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from wijkradar import effects
from wijkradar.cli import app
from wijkradar.effects import Outcome
from wijkradar.goals.effect import measured, outcome_of
from wijkradar.warehouse import Warehouse

runner = CliRunner()
LONELY = ("Eenzaam_28", "65+")
WMO = ("wmo_clienten_per_1000", "totaal")
SURVEY = (["2012", "2016"], ["2020"])  # an intervention that started in 2017
REGISTER = (["2016", "2017"], ["2019", "2020", "2021"])  # one that started in 2018
KEYS = {
    "observed",
    "expected",
    "effect",
    "lower90",
    "upper90",
    "method",
    "comparison_areas",
    "minimal_detectable_effect",
    "placebo_coverage90",
    "cost_per_resident",
    "cost_lower90",
    "cost_upper90",
}
HAVEN = [f"BU003401{n:02d}" for n in range(1, 9)]  # eight buurten of Almere Haven


@pytest.fixture(scope="module")
def db(full_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("effects") / "effects.duckdb"
    shutil.copy(full_db, copy)
    return copy


def _outcome(wh: Warehouse, measure: tuple[str, str]) -> Outcome:
    return outcome_of(wh, *measure)


@pytest.mark.parametrize(
    ("measure", "level", "periods", "size"),
    [(LONELY, "buurt", SURVEY, 8), (LONELY, "wijk", SURVEY, 4), (WMO, "wijk", REGISTER, 4)],
    ids=["eenzaam-buurt", "eenzaam-wijk", "wmo-wijk"],
)
def test_placebo_intervals_cover_zero_nine_times_in_ten(
    db: Path, measure: tuple[str, str], level: str, periods: tuple[list[str], list[str]], size: int
) -> None:
    """An interval is set on 2000 placebos and checked on 2000 others, drawn independently.

    What an intervention reports (one such pair) varies by about a percentage point; the
    procedure's coverage is the mean over three pairs: 6000 placebos checked.
    """
    with Warehouse.open(db, read_only=True) as wh:
        kind = effects.stedelijkheid(wh)["GM0034"]  # Almere's kind of gemeente
        outcome = _outcome(wh, measure)
        null = effects.null_distribution(wh, outcome, level, periods, kind, size, frozenset())
        pool = effects.setup(effects.panel(wh, outcome, level), *periods, set(), effects._same_kind(wh, kind))
    assert len(null["check"]) >= 500 and len(null["calibrate"]) >= 500
    pairs = [effects.coverage(null["calibrate"], null["check"])]
    for seed in (11, 12):
        calibrate, check = (effects.placebo_effects(pool, size, 2000, seed=s) for s in (seed, seed + 100))
        pairs.append(effects.coverage(calibrate, check))
    assert 0.88 <= np.mean(pairs) <= 0.92 and all(0.86 <= c <= 0.94 for c in pairs), pairs
    assert abs(np.mean(null["check"])) < 0.1 * np.std(null["check"])  # centred on no effect


@pytest.mark.parametrize(
    ("measure", "level", "periods", "sizes"),
    [(LONELY, "buurt", SURVEY, (2, 8, 32)), (WMO, "wijk", REGISTER, (2, 4, 8))],
    ids=["eenzaam-buurt", "wmo-wijk"],
)
def test_injected_effects_are_recovered(
    db: Path,
    measure: tuple[str, str],
    level: str,
    periods: tuple[list[str], list[str]],
    sizes: tuple[int, ...],
) -> None:
    """Lower the outcome after the start by d in 2000 random sets of real areas: the estimate finds d."""
    with Warehouse.open(db, read_only=True) as wh:
        pool = effects.setup(effects.panel(wh, _outcome(wh, measure), level), *periods, set(), None)
    detectable = {}
    for size in sizes:
        calibrate = effects.placebo_effects(pool, size, 2000, seed=1)
        detectable[size] = effects.Z_DETECT * np.std(calibrate)
        low, high = effects.bounds(calibrate)
        sets = effects.draw_sets(pool, size, 2000, seed=3)
        for d in (detectable[size], 2 * detectable[size]):
            found = effects.effects_on_sets(pool, sets, shift=-d)
            covered = np.mean((found - high <= -d) & (-d <= found - low))
            assert 0.88 <= covered <= 0.92, (size, d, covered)
            assert abs(np.mean(found) + d) < 0.1 * d, (size, d, np.mean(found))
    assert list(detectable.values()) == sorted(detectable.values(), reverse=True)  # more areas see less


def test_the_estimate_is_the_two_way_fixed_effects_difference_in_differences(db: Path) -> None:
    """The effect computed directly equals pyfixest's TWFE coefficient on the matched panel."""
    pyfixest = pytest.importorskip("pyfixest")
    pre, post = SURVEY
    with Warehouse.open(db, read_only=True) as wh:
        table = effects.panel(wh, _outcome(wh, LONELY), "buurt")
    pool = effects.setup(table, pre, post, set(HAVEN), None)
    own = table.loc[HAVEN, pre + post]
    effect, _, _ = effects.effect_of(pool, own, pre, post)
    matched = effects.comparisons(pool, own, pre)
    # each comparison area weighs as often as it was matched, over the matches per area
    uses = np.bincount(matched.ravel(), minlength=len(pool.codes)) / matched.shape[1]
    weights = pd.Series(uses, index=pool.codes)
    weights = weights[weights > 0]
    rows = [
        {"area": code, "period": p, "y": y, "treated_after": float(code in HAVEN and p in post), "w": w}
        for code, w in [*((c, 1.0) for c in HAVEN), *((str(c), float(v)) for c, v in weights.items())]
        for p, y in table.loc[code, pre + post].items()
    ]
    fit = pyfixest.feols("y ~ treated_after | area + period", data=pd.DataFrame(rows), weights="w")
    assert fit.coef()["treated_after"] == pytest.approx(effect, abs=1e-9)


def test_an_intervention_on_almere_buurten_from_2017(db: Path, tmp_path: Path) -> None:
    """The Done-when of issue 28: the JSON keys for Almere buurten, theme eenzaamheid, from 2017."""
    args = ["--db", str(db)]
    added = runner.invoke(
        app,
        [
            *["interventions", "add", "--gemeente", "Almere", "--title", "Huiskamers Haven"],
            *["--thema", "eenzaamheid", "--start", "2017-03-01", "--budget", "250.000", "--format", "json"],
            *[x for code in HAVEN for x in ("--area", code)],
            *args,
        ],
    )
    assert added.exit_code == 0, added.output
    number = json.loads(added.stdout)[0]["intervention_id"]
    result = runner.invoke(app, ["interventions", "effect", str(number), "--format", "json", *args])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert KEYS <= set(found) and found["status"] == "estimated"
    assert found["before"] == ["2012", "2016"] and found["after"] == ["2020"] and found["areas"] == 8
    assert found["effect"] == pytest.approx(found["observed"] - found["expected"], abs=0.011)
    assert found["lower90"] < found["effect"] < found["upper90"]
    assert 0.86 <= found["placebo_coverage90"] <= 0.94 and found["comparison_areas"] >= 5
    assert found["minimal_detectable_effect"] > 0 and "RIVM" in found["caveat"]
    if found["lower90"] < 0 < found["upper90"]:  # cannot tell: no cost per resident, and words for it
        assert found["cost_per_resident"] is None and found["cost_note"].startswith("niet te bepalen")
        assert "niet te zien" in found["text"]
    shown = runner.invoke(app, ["interventions", "effect", str(number), *args])
    assert "Zonder de aanpak verwacht" in shown.stdout and "vergelijkingsgebieden" in shown.stdout


def test_an_intervention_on_almere_wijken_with_a_register_outcome(db: Path) -> None:
    args = ["--db", str(db)]
    added = runner.invoke(
        app,
        [
            *["interventions", "add", "--gemeente", "Almere", "--title", "Wmo-loket in de wijk"],
            *["--thema", "wmo-clienten", "--start", "2018-01-01", "--area", "WK003402", "--area", "WK003403"],
            *["--format", "json", *args],
        ],
    )
    assert added.exit_code == 0, added.output
    number = json.loads(added.stdout)[0]["intervention_id"]
    found = json.loads(
        runner.invoke(app, ["interventions", "effect", str(number), "--format", "json", *args]).stdout
    )
    assert KEYS <= set(found) and found["status"] == "estimated" and found["level"] == "wijk"
    assert found["after"] == ["2019", "2020", "2021"] and found["caveat"] == ""  # counted, not modelled
    assert found["lower90"] < found["upper90"]
    # the same intervention measured on another outcome
    other = runner.invoke(
        app,
        [
            "interventions",
            "effect",
            str(number),
            "--measure",
            "Eenzaam_28",
            "--group",
            "65+",
            "-f",
            "json",
            *args,
        ],
    )
    assert json.loads(other.stdout)["measure"] == "Eenzaam_28"


def test_without_enough_data_plain_words_not_a_number(db: Path) -> None:
    with Warehouse.open(db, read_only=True) as wh:
        lonely = _outcome(wh, LONELY)
        late = effects.estimate(wh, lonely, HAVEN, date(2021, 1, 1), budget=10_000.0)
        early = effects.estimate(wh, lonely, HAVEN, date(2011, 6, 1))
    for found in (late, early):
        assert found["status"] == "too_little_data" and found["effect"] is None and found["lower90"] is None
        assert effects.TOO_LITTLE_NL in found["text"] and found["cost_per_resident"] is None
    assert late["text"].startswith("Nog geen meting na 2021")
    whole = {
        "intervention_id": 9,
        "title": "Heel Almere",
        "start_date": "2017-01-01",
        "area_codes": ["GM0034"],
    }
    with Warehouse.open(db, read_only=True) as wh:
        found = measured(wh, whole, lonely, set())
    assert found["status"] == "not_measured" and found["effect"] is None
    assert effects.TOO_LITTLE_NL in found["text"] and "buurten of in wijken" in found["text"]


def test_cost_per_resident_carries_the_interval() -> None:
    """Budget per resident less affected: fewest helped gives the highest cost, and 0 in the interval none."""
    helped = {"effect": -2.0, "lower90": -3.0, "upper90": -1.0}
    found = effects.costs(helped, budget=300_000.0, people=10_000.0, per=100.0, sign=-1.0)
    assert (
        found["cost_per_resident"] == 1500 and found["cost_lower90"] == 1000 and found["cost_upper90"] == 3000
    )
    unclear = effects.costs(
        {**helped, "upper90": 0.5}, budget=300_000.0, people=10_000.0, per=100.0, sign=-1.0
    )
    assert unclear["cost_per_resident"] is None and unclear["cost_note"].startswith("niet te bepalen")
    worse = effects.costs({"effect": 2.0, "lower90": 1.0, "upper90": 3.0}, 300_000.0, 10_000.0, 100.0, -1.0)
    assert worse["cost_per_resident"] is None


def test_a_pool_without_complete_areas_is_empty_not_an_error() -> None:
    table = pd.DataFrame({"2016": [np.nan, 40.0], "2020": [41.0, np.nan]}, index=["BU00340101", "BU00340102"])
    pool = effects.setup(table, ["2016"], ["2020"], set(), {"GM0034"})
    assert len(pool.codes) == 0 and pool.before.shape == (0, 1)

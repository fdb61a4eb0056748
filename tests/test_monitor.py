"""The Monitor Sociaal Domein end to end: ingest, show, the gemeente page, the profile, the models."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from conftest import stores
from wijkradar.cli import app
from wijkradar.cli.common import out
from wijkradar.goals import add_goal, progress
from wijkradar.models.features import Target, build_features
from wijkradar.web.app import create_app

runner = CliRunner()


@pytest.fixture(scope="module")
def db(full_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("monitor") / "monitor.duckdb"
    shutil.copy(full_db, copy)
    return copy


@pytest.fixture(scope="module")
def client(db: Path) -> Iterator[TestClient]:
    with TestClient(create_app(db)) as test_client:
        yield test_client


def test_show_has_the_year_and_its_halves_apart(db: Path) -> None:
    result = runner.invoke(app, ["show", "WK003401", "--format", "json", "--db", str(db)])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)["figures"]
    wmo = {f["period"]: f["value"] for f in figures if f["measure"] == "wmo_clienten_per_1000"}
    # as published in 83620NED (2016) and 85046NED (2021); SOURCES.md names 70, 78, 64 and 66
    assert wmo["2016"] == 70 and wmo["2021"] == 78
    assert wmo["2016-H1"] == 64 and wmo["2016-H2"] == 66
    units = {f["unit"] for f in figures if f["measure"] == "wmo_clienten_per_1000"}
    assert units == {"per 1 000 inwoners"}


def test_show_on_screen_fits_100_columns_with_the_year_and_halves_apart(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 27: `show` wrapped every row over three lines in a 100-column terminal."""
    monkeypatch.setattr(out, "_width", 100)
    result = runner.invoke(app, ["show", "WK003401", "--db", str(db)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 100
    wmo = [line.split() for line in lines if line.strip().startswith("Wmo-cliënten per 1 000 inwoners")]
    assert wmo[0][-6:] == ["70", "in", "2016", "78", "in", "2021"]  # first and last year, one line
    assert wmo[1][-10:] == ["64", "in", "1e", "hj", "2016", "74", "in", "2e", "hj", "2021"]
    assert "(halfjaar)" in " ".join(wmo[1])


def test_gemeente_page_shows_the_trend_per_year(client: TestClient) -> None:
    data = client.get("/gemeente/GM0034.json", params={"thema": "wmo-clienten"}).json()
    trend = {k["period"]: k["gemeente"] for k in data["key_figures"]}
    assert trend == {"2016": 51, "2017": 51, "2018": 53, "2019": 55, "2020": 57, "2021": 56}  # no half-years
    assert data["priority"] is None and data["theme"]["kind"] == "register"
    assert data["areas"]["level"] == "wijk" and data["areas"]["period"] == "2021"
    haven = next(r for r in data["areas"]["rows"] if r["code"] == "WK003401")
    assert haven["value"] == 78 and "Monitor Sociaal Domein 85046NED" in haven["source"]
    assert data["sources_line"].startswith("CBS Monitor Sociaal Domein (83620NED")
    page = client.get("/gemeente/GM0034", params={"thema": "wmo-clienten"})
    assert page.status_code == 200
    assert '<th scope="col">Jaar</th>' in page.text and "plot-trend" in page.text
    assert "Geen prioriteitenlijst" in page.text and "56%" not in page.text


def test_a_gemeente_the_tables_do_not_reach_has_no_figures_not_zero(client: TestClient) -> None:
    """The staged tables stop before Zwolle (cut at 10,000 rows): its figures are absent, never 0."""
    data = client.get("/gemeente/GM0193.json", params={"thema": "wmo-clienten"}).json()
    assert all(k["gemeente"] is None for k in data["key_figures"])
    assert all(r["value"] is None for r in data["areas"]["rows"])


def test_profile_lists_registrations_per_year(client: TestClient) -> None:
    data = client.get("/regio/WK003401.json").json()
    wmo = next(r for r in data["registrations"] if r["theme"] == "wmo-clienten")
    first = wmo["years"][0]
    assert first == {"year": "2016", "value": 70, "first_half": 64, "second_half": 66}
    assert [y["year"] for y in wmo["years"]] == ["2016", "2017", "2018", "2019", "2020", "2021"]


def test_a_register_theme_has_no_model(db: Path) -> None:
    result = runner.invoke(app, ["train", "--thema", "wmo-clienten", "--db", str(db)])
    assert result.exit_code != 0 and "geen risicomodel" in result.output
    listed = runner.invoke(
        app, ["priority", "--gemeente", "Almere", "--thema", "wmo-clienten", "--db", str(db)]
    )
    assert listed.exit_code != 0 and "geen prioriteitenlijst" in listed.output


def test_register_tables_never_become_model_features() -> None:
    """A Monitor table's figures (and half-years) stay out of the features; the Kerncijfers go in."""
    obs = pd.DataFrame(
        {
            "region_code": ["WK000101", "WK000101", "WK000101", "WK000101"],
            "period": ["2020", "2019", "2019", "2019-H1"],
            "measure_id": ["Eenzaam_28", "a_inw", "wmo_clienten_per_1000", "wmo_clienten_per_1000"],
            "population_group": ["65+", "totaal", "totaal", "totaal"],
            "value": [48.0, 1200.0, 70.0, 64.0],
        }
    )
    measures = pd.DataFrame(
        {
            "measure_id": ["Eenzaam_28", "a_inw", "wmo_clienten_per_1000"],
            "label": ["Eenzaam", "Inwoners", "Wmo-cliënten per 1 000 inwoners"],
            "table_id": ["50090NED", "84583NED", "84664NED"],
        }
    )
    target_rows = obs[obs["measure_id"] == "Eenzaam_28"].assign(lower=None, upper=None, status="published")
    features = build_features(obs, target_rows, measures, Target("Eenzaam_28", "65+", "wijk", "2020"))
    assert "kwb:a_inw" in features.X.columns
    assert not [c for c in features.X.columns if "wmo" in c]


def test_a_goal_on_a_register_theme_follows_years_only(db: Path) -> None:
    with stores(db) as (wh, own):
        goal = add_goal(
            wh,
            own,
            "GM0034",
            {"theme": "wmo-clienten", "area": "WK003401", "target_value": 75, "target_year": 2026},
        )
        assert goal["baseline_period"] == "2021" and goal["baseline_value"] == 78  # a year, not 2021-H2
        early = add_goal(
            wh,
            own,
            "GM0034",
            {
                "theme": "wmo-clienten",
                "area": "WK003401",
                "target_value": 60,
                "target_year": 2026,
                "baseline_period": "2016",
            },
        )
        steps = [p["period"] for p in progress(wh, early)["points"]]
    assert steps == ["2016", "2017", "2018", "2019", "2020", "2021"]

"""Goals, interventions and progress: status rules at their boundaries, custom areas, round trips."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import stores
from wijkradar.cli import app
from wijkradar.errors import InputError, NotFoundError
from wijkradar.goals import (
    add_goal,
    add_intervention,
    area_value,
    delete_goal,
    export_goals,
    import_goals,
    model_margin,
    number,
    progress,
    status,
)
from wijkradar.models.residents import residents
from wijkradar.warehouse import Warehouse

runner = CliRunner()
THREE = ["BU00340211", "BU00340212", "BU00340202"]


@pytest.fixture
def db(small_db: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "goals.duckdb"
    shutil.copy(small_db, copy)
    return copy


@pytest.mark.parametrize(
    ("direction", "baseline", "value", "path", "u", "expected"),
    [
        ("down", 50.0, 47.9, 48.0, 2.0, "on_track"),  # progress 2.1 > 2, ahead of the path
        ("down", 50.0, 48.0, 48.0, 2.0, "at_risk"),  # progress exactly u: not called progress
        ("down", 50.0, 47.0, 45.0, 2.0, "on_track"),  # behind the path by exactly u: still on course
        ("down", 50.0, 47.0, 44.9, 2.0, "at_risk"),  # progress, but behind by more than u
        ("down", 50.0, 49.0, 46.9, 2.0, "behind"),  # behind by 2.1, no real progress
        ("down", 50.0, 49.0, 47.0, 2.0, "at_risk"),  # behind by exactly u
        ("up", 10.0, 12.5, 12.0, 2.0, "on_track"),
        ("up", 10.0, 9.0, 12.0, 2.0, "behind"),
        ("down", 50.0, None, 48.0, 2.0, "unknown"),
    ],
)
def test_status_rule_boundaries(
    direction: str, baseline: float, value: float | None, path: float, u: float, expected: str
) -> None:
    assert status(direction, baseline, value, path, u) == expected


def test_custom_area_is_population_weighted(db: Path) -> None:
    with stores(db) as (wh, _own):
        result = area_value(wh, "Eenzaam_28", "65+", THREE, "2020")
        values = (
            wh.observations.values("Eenzaam_28", "65+", THREE)
            .query("period == '2020'")
            .set_index("region_code")["value"]
        )
        weights, _ = residents(wh, "65+", THREE, 2020)
    expected = float(np.average(values.reindex(THREE), weights=weights.reindex(THREE)))
    assert result["value"] == pytest.approx(expected)
    assert "gewogen naar inwoners" in result["note"]
    assert result["value"] != pytest.approx(float(values.mean()))  # weights matter here


def test_goals_and_interventions_survive_restarts_and_progress(db: Path) -> None:
    with stores(db) as (wh, own):
        whole = add_goal(
            wh,
            own,
            "GM0034",
            {"theme": "eenzaamheid", "target_value": 44, "target_year": 2026, "baseline_period": "2016"},
        )
        three = add_goal(
            wh,
            own,
            "GM0034",
            {
                "theme": "eenzaamheid",
                "area": THREE,
                "area_name": "Wijkteam Stad",
                "target_value": 45,
                "target_year": 2026,
            },
        )
        add_intervention(
            wh,
            own,
            "GM0034",
            {
                "title": "Buurtkamers",
                "start": "2021-01-01",
                "end": "2024-12-31",
                "area": THREE[0],
                "goal_ids": [whole["goal_id"], three["goal_id"]],
            },
        )
    with stores(db) as (wh, own):
        goals = pd.DataFrame(own.goals("GM0034"))
        assert (
            len(goals) == 2
            and goals.iloc[0]["baseline_value"] == 47.3
            and goals.iloc[0]["direction"] == "down"
        )
        assert len(pd.DataFrame(own.interventions("GM0034"))) == 1
        report = progress(wh, {str(k): v for k, v in goals.iloc[0].to_dict().items()})
    assert [p["period"] for p in report["points"]] == ["2016", "2020"]
    assert report["points"][1]["value"] == 48.2 and report["status"] in ("behind", "at_risk")
    assert report["points"][1]["required"] == pytest.approx(47.3 + (44 - 47.3) * 4 / 10)


def test_invalid_goals_are_refused_and_nothing_is_stored(db: Path) -> None:
    with stores(db) as (wh, own):
        with pytest.raises(NotFoundError):
            add_goal(
                wh,
                own,
                "GM0034",
                {
                    "measure_id": "Onbekend_99",
                    "population_group": "65+",
                    "target_value": 1,
                    "target_year": 2026,
                },
            )
        with pytest.raises(InputError, match="streefjaar 2016 ligt niet na"):
            add_goal(wh, own, "GM0034", {"theme": "eenzaamheid", "target_value": 44, "target_year": 2016})
        with pytest.raises(InputError, match="buiten gemeente GM0034"):
            add_goal(
                wh,
                own,
                "GM0034",
                {"theme": "eenzaamheid", "area": "BU05990110", "target_value": 44, "target_year": 2026},
            )
        for overlapping in (["WK003402", "BU00340211"], ["BU00340211", "BU00340211"], ["GM0034", "WK003402"]):
            with pytest.raises(InputError, match="het zou dubbel meetellen"):
                add_goal(
                    wh,
                    own,
                    "GM0034",
                    {"theme": "eenzaamheid", "area": overlapping, "target_value": 44, "target_year": 2026},
                )
        with pytest.raises(InputError, match="einddatum ligt voor de startdatum"):
            add_intervention(wh, own, "GM0034", {"title": "x", "start": "2024-01-01", "end": "2023-01-01"})
        with pytest.raises(InputError, match="onbekende doelen"):
            add_intervention(wh, own, "GM0034", {"title": "x", "start": "2024-01-01", "goal_ids": [99]})
        assert pd.DataFrame(own.goals()).empty and pd.DataFrame(own.interventions()).empty


@pytest.mark.parametrize("suffix", [".yaml", ".xlsx"])
def test_export_import_round_trip(db: Path, tmp_path: Path, suffix: str) -> None:
    with stores(db) as (wh, own):
        goal = add_goal(
            wh,
            own,
            "GM0034",
            {
                "theme": "eenzaamheid",
                "area": THREE,
                "area_name": "Wijkteam Stad",
                "target_value": 45,
                "target_year": 2026,
                "owner": "team Stad",
            },
        )
        add_intervention(
            wh,
            own,
            "GM0034",
            {
                "title": "Buurtkamers",
                "start": "2021-01-01",
                "budget": 120000,
                "partners": "welzijn",
                "area": THREE,
                "goal_ids": [goal["goal_id"]],
            },
        )
        before_goals = pd.DataFrame(own.goals("GM0034")).drop(columns=["goal_id", "created_at"])
        before_int = pd.DataFrame(own.interventions("GM0034")).drop(
            columns=["intervention_id", "created_at", "goal_ids"]
        )
        path = tmp_path / f"plan{suffix}"
        assert export_goals(wh, own, "GM0034", path) == 2
        assert import_goals(wh, own, "GM0034", path) == {"goals": 1, "interventions": 1}
        after_goals = pd.DataFrame(own.goals("GM0034")).drop(columns=["goal_id", "created_at"])
        after_int = pd.DataFrame(own.interventions("GM0034"))
        assert before_goals.to_dict("records") == after_goals.to_dict("records")
        assert before_int.to_dict("records") == after_int.drop(
            columns=["intervention_id", "created_at", "goal_ids"]
        ).to_dict("records")
        new_goal = int(pd.DataFrame(own.goals("GM0034")).iloc[0]["goal_id"])
        assert after_int.iloc[0]["goal_ids"] == [new_goal]


def test_import_with_an_invalid_goal_changes_nothing(db: Path, tmp_path: Path) -> None:
    with stores(db) as (wh, own):
        add_goal(wh, own, "GM0034", {"theme": "eenzaamheid", "target_value": 44, "target_year": 2026})
        bad = tmp_path / "plan.yaml"
        bad.write_text(
            "goals:\n- thema: eenzaamheid\n  target_value: 40\n  target_year: 2010\n", encoding="utf-8"
        )
        with pytest.raises(InputError, match=r"plan\.yaml, doel 1"):
            import_goals(wh, own, "GM0034", bad)
        assert len(pd.DataFrame(own.goals("GM0034"))) == 1


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("target_value", "1e308", "buiten bereik"),
        ("target_value", "1e309", "geen getal"),
        ("budget", "1e308", "buiten bereik"),
        ("budget", "-5", "kleiner dan 0"),
    ],
)
def test_absurd_numbers_are_refused_at_every_entrance(
    db: Path, tmp_path: Path, field: str, value: str, needle: str
) -> None:
    """Issue 25, finding 3: a target or budget of 1e308 or -5 was stored and broke the goal pages."""
    goal = {"theme": "eenzaamheid", "target_value": "44", "target_year": 2026}
    with stores(db) as (wh, own):
        if field == "target_value":
            with pytest.raises(InputError, match=needle):
                add_goal(wh, own, "GM0034", {**goal, field: value})
        else:
            with pytest.raises(InputError, match=needle):
                add_intervention(wh, own, "GM0034", {"title": "x", "start": "2024-01-01", field: value})
        plan_file = tmp_path / "plan.yaml"
        plan_file.write_text(
            "goals:\n- thema: eenzaamheid\n  target_value: 44\n  target_year: 2026\n"
            "interventions:\n- title: x\n  start: 2024-01-01\n"
            + (f"  budget: '{value}'\n" if field == "budget" else "")
            if field == "budget"
            else f"goals:\n- thema: eenzaamheid\n  target_value: '{value}'\n  target_year: 2026\n",
            encoding="utf-8",
        )
        with pytest.raises(InputError, match=needle):
            import_goals(wh, own, "GM0034", plan_file)
        assert pd.DataFrame(own.goals()).empty and pd.DataFrame(own.interventions()).empty
    cli = ["--gemeente", "Almere", "--db", str(db)]
    if field == "target_value":
        command = ["goals", "add", *cli, "--thema", "eenzaamheid", "--target", value, "--target-year", "2026"]
    else:
        command = ["interventions", "add", *cli, "--title", "x", "--start", "2024-01-01", "--budget", value]
    refused = runner.invoke(app, command)
    assert refused.exit_code == 2 and needle in refused.stderr, refused.output
    assert "Traceback" not in refused.output


def test_wat_werkt_lists_better_than_expected_areas_with_interventions(db: Path) -> None:
    from wijkradar.models.train import train_model
    from wijkradar.priority import what_works

    with Warehouse.open(db) as writable:
        if writable.models.get("Eenzaam_28", "65+", "buurt") is None:
            train_model(writable, "Eenzaam_28", "65+", "buurt")
    with stores(db) as (wh, own):
        ranking = what_works(wh, own, "GM0034", "eenzaamheid")
        assert "geen bewijs" in ranking["caveat"]
        better = [r["code"] for r in ranking["rows"]]
        assert all(r["vs_expected"] <= -1 for r in ranking["rows"])
        # Expected independently of the priority list: from the stored estimates themselves, a
        # surveyed buurt whose survey lies at least one interval half-width below the out-of-fold
        # expectation (lower loneliness is better).
        model = wh.models.get("Eenzaam_28", "65+", "buurt")
        assert model is not None
        est = wh.models.estimates(int(model["model_id"]))
        est = est[est["region_code"].str.startswith("BU0034") & est["survey"].notna()]
        halfwidth = (est["upper"] - est["lower"]) / 2
        expected_better = set(est.loc[(est["survey"] - est["expected"]) / halfwidth <= -1, "region_code"])
        assert set(better) == expected_better
        if better:
            add_intervention(
                wh, own, "GM0034", {"title": "Ontmoetingsplek", "start": "2019-03-01", "area": better[0]}
            )
            again = what_works(wh, own, "GM0034", "eenzaamheid")
            first = next(r for r in again["rows"] if r["code"] == better[0])
            assert [i["title"] for i in first["interventions"]] == ["Ontmoetingsplek"]


def test_goal_cli(db: Path) -> None:
    added = runner.invoke(
        app,
        [
            "goals",
            "add",
            "--gemeente",
            "Almere",
            "--thema",
            "eenzaamheid",
            "--target",
            "44,0",
            "--target-year",
            "2026",
            "--baseline-period",
            "2016",
            "--db",
            str(db),
            "--format",
            "json",
        ],
    )
    assert added.exit_code == 0, added.output
    shown = runner.invoke(app, ["goals", "progress", "--gemeente", "Almere", "--db", str(db)])
    assert shown.exit_code == 0, shown.output
    assert "nulmeting" in shown.stdout and "Regel:" in shown.stdout
    refused = runner.invoke(
        app,
        [
            "goals",
            "add",
            "--gemeente",
            "Almere",
            "--thema",
            "eenzaamheid",
            "--target",
            "44",
            "--target-year",
            "2010",
            "--db",
            str(db),
        ],
    )
    assert refused.exit_code == 2 and "streefjaar" in refused.stderr
    cli = ["--gemeente", "Almere", "--db", str(db)]
    one = runner.invoke(app, ["goals", "show", "1", *cli])
    assert one.exit_code == 0, one.output
    assert "nulmeting:" in one.stdout and "47,3 in 2016" in one.stdout and "achter" in one.stdout
    as_json = runner.invoke(app, ["goals", "show", "1", *cli, "--format", "json"])
    assert '"status": "behind"' in as_json.stdout  # JSON carries the code; the table above the word
    added = runner.invoke(
        app, ["interventions", "add", *cli, "--title", "Buurtkamers", "--start", "2021-01-01"]
    )
    assert added.exit_code == 0, added.output
    unknown = runner.invoke(app, ["goals", "show", "7", *cli])
    assert unknown.exit_code == 3 and "Onbekende doel-id" in unknown.stderr
    assert runner.invoke(app, ["goals", "delete", "1", *cli]).exit_code == 0
    assert runner.invoke(app, ["interventions", "delete", "1", *cli]).exit_code == 0
    with stores(db) as (_wh, own):
        assert pd.DataFrame(own.goals()).empty and pd.DataFrame(own.interventions()).empty


def test_numbers_as_people_type_them() -> None:
    assert number("44,5", "target_value", "f", example="1") == 44.5
    assert number("€ 125.000,50", "budget", "f", example="1") == 125000.5
    assert number("125.000", "budget", "f", example="1") == 125000.0
    assert number("44.5", "target_value", "f", example="1") == 44.5
    assert number(2026, "target_year", "f", example="1") == 2026.0
    for bad in ("", "veel", "nan", None):
        with pytest.raises(InputError, match="target_value"):
            number(bad, "target_value", "f", example="1")


def test_margin_of_a_gemeente_is_bounded_by_its_buurten(web_db: Path) -> None:
    # web_db has a buurt model only: the gemeente's margin comes from its buurten's intervals and,
    # being a weighted mean of them, lies between the smallest and the largest half-width (the
    # weighting itself is checked by hand in the test below).
    with Warehouse.open(web_db, read_only=True) as wh:
        half, note = model_margin(wh, "Eenzaam_28", "65+", ["GM0034"], "2020")
        stored = wh.models.get("Eenzaam_28", "65+", "buurt")
        assert stored is not None and wh.models.get("Eenzaam_28", "65+", "gemeente") is None
        buurten = wh.regions.table(level="buurt", gemeente_code="GM0034")["code"].tolist()
        estimates = wh.models.estimates(int(stored["model_id"]), buurten)
    halves = ((estimates["upper"] - estimates["lower"]) / 2).to_numpy()
    assert half is not None and min(halves) <= half <= max(halves)
    assert f"bovengrens uit {len(estimates)} buurten" in note


def test_margin_of_a_mixed_set_counts_every_buurt_once(web_db: Path) -> None:
    with stores(web_db) as (wh, _own):
        inside = wh.regions.table(level="buurt", gemeente_code="GM0034").query("wijk_code == 'WK003401'")
        _, note = model_margin(wh, "Eenzaam_28", "65+", ["WK003401", "BU00340211"], "2020")
        stored = wh.models.get("Eenzaam_28", "65+", "buurt")
        assert stored is not None
        units = wh.models.estimates(int(stored["model_id"]), [*inside["code"], "BU00340211"])["region_code"]
    assert len(inside) > 1 and "BU00340211" not in set(inside["code"]) and "BU00340211" in set(units)
    assert f"bovengrens uit {len(units)} buurten" in note


def test_goal_update_from_the_cli_keeps_what_is_not_given(db: Path) -> None:
    cli = ["--gemeente", "Almere", "--db", str(db)]
    runner.invoke(
        app,
        [
            "goals",
            "add",
            *cli,
            "--thema",
            "eenzaamheid",
            "--target",
            "44",
            "--target-year",
            "2026",
            "--owner",
            "wethouder",
        ],
    )
    changed = runner.invoke(app, ["goals", "update", "1", *cli, "--target", "43.5"])
    assert changed.exit_code == 0, changed.output
    refused = runner.invoke(app, ["goals", "update", "1", *cli, "--target-year", "2010"])
    assert refused.exit_code == 2 and "streefjaar" in refused.stderr
    with stores(db) as (_wh, own):
        goal = pd.DataFrame(own.goals()).iloc[0]
    assert goal["target_value"] == 43.5 and goal["target_year"] == 2026 and goal["owner"] == "wethouder"


def test_margin_is_the_resident_weighted_half_width_worked_by_hand(tmp_path: Path) -> None:
    """Two buurten of one gemeente: 90% intervals 40-44 and 46-54 (half-widths 2 and 4), 100 and
    300 residents of 65+. The gemeente's margin bound is (100 x 2 + 300 x 4) / 400 = 3.5."""
    from wijkradar.ingest import ingest_path

    kwb = tmp_path / "kwb-2020.csv"
    kwb.write_text("WijkenEnBuurten,k_65JaarOfOuder_12\nBU00010001,100\nBU00010002,300\n")
    with Warehouse.open(tmp_path / "w.duckdb") as wh:
        assert ingest_path(wh, kwb).action == "ingested"
        estimates = pd.DataFrame(
            {
                "region_code": ["BU00010001", "BU00010002"],
                "period": "2020",
                "estimate": [42.0, 50.0],
                "expected": [42.0, 50.0],
                "lower": [40.0, 46.0],
                "upper": [44.0, 54.0],
                "survey": [None, None],
                "survey_lower": [None, None],
                "survey_upper": [None, None],
                "contributions": [[], []],
            }
        )
        record = {
            "measure_id": "Eenzaam_28",
            "population_group": "65+",
            "level": "buurt",
            "period": "2020",
            "algorithm": "glm",
            "metrics": {},
            "card": {},
            "artifact": "{}",
        }
        wh.models.save(record, estimates)
        half, note = model_margin(wh, "Eenzaam_28", "65+", ["GM0001"], "2020")
    assert half == pytest.approx(3.5)
    assert "bovengrens uit 2 buurten" in note


def test_a_warehouse_with_dutch_directions_is_migrated(tmp_path: Path) -> None:
    import duckdb

    from wijkradar.goals import adopt_old_plan
    from wijkradar.warehouse import MIGRATIONS

    path = tmp_path / "v4.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP NOT NULL)")
    for version, sql in enumerate(MIGRATIONS[:4], start=1):
        con.execute(sql)
        con.execute("INSERT INTO schema_version VALUES (?, now())", [version])
    for direction in ("omlaag", "omhoog"):
        con.execute(
            "INSERT INTO goals (gemeente_code, title, measure_id, population_group, area_name, area_codes, "
            "baseline_period, baseline_value, target_value, target_year, direction, created_at) "
            "VALUES ('GM0034', 'doel', 'Eenzaam_28', '65+', 'Almere', '[\"GM0034\"]', '2016', 47.3, 44, "
            "2026, ?, now())",
            [direction],
        )
    con.close()
    Warehouse.open(path).close()  # migrates the warehouse to the current schema
    with stores(path) as (wh, own):  # a writer takes the goals over, keeping their ids
        assert own.goals() == []  # opening only reads
        assert adopt_old_plan(wh, own) == 2
        goals = pd.DataFrame(own.goals())
        assert goals["direction"].tolist() == ["down", "up"] and goals["goal_id"].tolist() == [1, 2]
        row = goals.iloc[0]
        fields = [c for c in goals.columns if c not in ("goal_id", "created_at")]
        new_id = own.add_goal({c: row[c].item() if hasattr(row[c], "item") else row[c] for c in fields})
        assert new_id == 3  # the sequence goes on where it was
    with stores(path) as (wh, own):
        assert adopt_old_plan(wh, own) == 0 and len(own.goals()) == 3  # taken over once, not again


def test_an_older_warehouse_is_refused_read_only_with_the_fix_until_a_writer_updates_it(
    tmp_path: Path,
) -> None:
    import duckdb

    from wijkradar.errors import WarehouseError
    from wijkradar.warehouse import MIGRATIONS, SCHEMA_VERSION

    path = tmp_path / "older.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP NOT NULL)")
    for version, sql in enumerate(MIGRATIONS[:-1], start=1):
        con.execute(sql)
        con.execute("INSERT INTO schema_version VALUES (?, now())", [version])
    con.close()
    assert Warehouse.outdated(path)
    with pytest.raises(WarehouseError) as refused:
        Warehouse.open(path, read_only=True)
    assert f"versie {SCHEMA_VERSION}" in str(refused.value) and "wijkradar ingest" in str(refused.value)
    Warehouse.open(path).close()  # any writer brings it up to date
    assert not Warehouse.outdated(path)
    with Warehouse.open(path, read_only=True) as wh:
        assert wh.schema_version() == SCHEMA_VERSION


def test_import_keeps_the_numbers_of_goals_and_interventions(db: Path, tmp_path: Path) -> None:
    with stores(db) as (wh, own):
        spec = {"theme": "eenzaamheid", "target_value": 44, "target_year": 2026}
        first, second = (add_goal(wh, own, "GM0034", {**spec, "title": t}) for t in ("Eerste", "Tweede"))
        delete_goal(wh, own, "GM0034", first["goal_id"])
        made = add_intervention(wh, own, "GM0034", {"title": "Huiskamer", "start": "2024-01-01"})
        codes = wh.observations.values("Eenzaam_28", "65+")["region_code"]
        elders = sorted(c for c in set(codes) if c.startswith("GM") and c != "GM0034")[0]
        other = add_goal(wh, own, elders, {**spec, "target_value": 10, "title": "Elders"})
        path = tmp_path / "plan.yaml"
        export_goals(wh, own, "GM0034", path)
        import_goals(wh, own, "GM0034", path)
        assert [g["goal_id"] for g in own.goals("GM0034")] == [second["goal_id"]]
        assert [i["intervention_id"] for i in own.interventions("GM0034")] == [made["intervention_id"]]
        assert [g["goal_id"] for g in own.goals(elders)] == [other["goal_id"]]

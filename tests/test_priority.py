"""Priorities and the risk CLI on a warehouse of real data for forty gemeenten (Almere among them)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from wijkradar.cli import app
from wijkradar.priority import _rank, priority_list
from wijkradar.warehouse import Warehouse

runner = CliRunner()


@pytest.fixture(scope="module")
def trained(small_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the forty-gemeente warehouse with the buurt model of loneliness 65+, trained by
    the one command that writes models (the shared fixture itself is never written to)."""
    db = tmp_path_factory.mktemp("trained") / "trained.duckdb"
    db.write_bytes(small_db.read_bytes())
    result = runner.invoke(
        app, ["train", "--thema", "eenzaamheid", "--level", "buurt", "--db", str(db), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    return db


def test_reads_never_train(small_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "untrained.duckdb"
    db.write_bytes(small_db.read_bytes())
    before = db.read_bytes()
    commands = [
        ["priority", "--gemeente", "Almere", "--thema", "mantelzorg"],
        ["evaluate", "--measure", "Mantelzorger_32", "--group", "65+", "--level", "wijk"],
        ["model-card", "--measure", "Mantelzorger_32", "--group", "65+"],
    ]
    for command in commands:
        result = runner.invoke(app, [*command, "--db", str(db)])
        assert result.exit_code == 6, result.output
        assert "wijkradar train --" in result.output and "Traceback" not in result.output
    priority = runner.invoke(app, [*commands[0], "--db", str(db)])
    assert "wijkradar train --thema mantelzorg --level buurt" in priority.output
    assert db.read_bytes() == before  # opened read-only: the file is untouched
    with Warehouse.open(db, read_only=True) as wh:
        assert wh.models.table().empty


def test_two_reads_at_once(trained: Path) -> None:
    """Read-only commands can run while another holds the warehouse open for reading."""
    with Warehouse.open(trained, read_only=True):
        result = runner.invoke(
            app, ["regions", "--gemeente", "Almere", "--level", "wijk", "--db", str(trained)]
        )
    assert result.exit_code == 0, result.output


def test_train_a_single_measure_needs_measure_and_group(trained: Path) -> None:
    result = runner.invoke(app, ["train", "--measure", "Roker_11", "--db", str(trained)])
    assert result.exit_code == 2 and "--group" in result.output


def test_evaluate_json(trained: Path) -> None:
    result = runner.invoke(
        app,
        [
            "evaluate",
            "--measure",
            "Eenzaam_28",
            "--group",
            "65+",
            "--level",
            "buurt",
            "--period",
            "2020",
            "--format",
            "json",
            "--db",
            str(trained),
        ],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert set(figures) >= {
        "measure",
        "group",
        "level",
        "period",
        "n",
        "r2",
        "mae",
        "spearman",
        "coverage90",
        "baseline_r2",
        "model",
    }
    assert figures["measure"] == "Eenzaam_28" and figures["level"] == "buurt" and figures["n"] > 500
    assert figures["model"] in ("lightgbm", "glm")
    assert figures["r2"] > figures["baseline_r2"] > 0.2
    assert 0.8 <= figures["coverage90"] <= 0.97
    assert figures["min_residents"] == 50 and figures["r2_with_small_areas"] is not None
    # On screen one figure per line, in Dutch: thirty columns side by side do not fit a terminal.
    shown = runner.invoke(app, ["evaluate", "--level", "buurt", "--db", str(trained)])
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in lines if line.startswith("│")]
    assert ["maat", "Eenzaam_28"] in cells and ["niveau", "buurt"] in cells  # a figure per line
    assert ["R²", f"{figures['r2']:.3f}".replace(".", ",")] in cells  # three decimals, as goals are set
    assert any("R² met kleine gebieden" in line for line in lines)
    assert any("minimum inwoners in de groep" in line and "50" in line for line in lines)


def test_priority_almere_top10(trained: Path) -> None:
    result = runner.invoke(
        app,
        [
            "priority",
            "--gemeente",
            "Almere",
            "--thema",
            "eenzaamheid",
            "--top",
            "10",
            "--format",
            "json",
            "--db",
            str(trained),
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    rows = payload["rows"]
    assert len(rows) == 10 and payload["gemeente"] == "GM0034" and payload["measure"] == "Eenzaam_28"
    required = {
        "code",
        "name",
        "rate",
        "lower",
        "upper",
        "residents",
        "expected_affected",
        "rank",
        "p_top10",
        "source",
        "drivers",
        "capacity",
    }
    assert all(required <= set(r) for r in rows)
    assert [r["rank"] for r in rows] == list(range(1, 11))
    assert all(r["code"].startswith("BU0034") for r in rows)
    affected = [r["expected_affected"] for r in rows if r["expected_affected"] is not None]
    assert affected == sorted(affected, reverse=True)
    assert all(r["lower"] <= r["rate"] <= r["upper"] for r in rows)
    assert all(r["source"] in ("peiling", "model") for r in rows)
    assert all(0.0 <= r["p_top10"] <= 1.0 for r in rows if r["p_top10"] is not None)
    assert all(r["drivers"] and r["drivers"][0]["text"] for r in rows)
    assert {"carers_pct", "gp_distance_km"} <= set(rows[0]["capacity"])


def test_a_gemeente_resolved_at_the_edge_is_one_region(trained: Path) -> None:
    """A name becomes a Region once; the library trusts it and remembers one list per gemeente (issue 26)."""
    from unittest.mock import patch

    from wijkradar import priority
    from wijkradar.errors import NotFoundError
    from wijkradar.query import require_gemeente, resolve_gemeente
    from wijkradar.regions import Region

    with Warehouse.open(trained, read_only=True) as wh:
        almere = resolve_gemeente(wh, "almere")
        assert almere == Region("GM0034", "Almere", "gemeente", wh.regions.indeling(), "GM0034")
        assert require_gemeente(wh, almere) is almere and require_gemeente(wh, "GM0034") == almere
        with patch("wijkradar.priority._priority_list", wraps=priority._priority_list) as computed:
            by_name = priority_list(wh, almere, "eenzaamheid")
            assert priority_list(wh, "GM0034", "eenzaamheid") == by_name
        assert computed.call_count == 1  # not computed a second time for the code
        with pytest.raises(NotFoundError):
            priority_list(wh, "Almere", "eenzaamheid")  # a name is for the edges to resolve


def test_priority_table_and_model_card(trained: Path) -> None:
    table = runner.invoke(
        app,
        ["priority", "--gemeente", "GM0034", "--thema", "eenzaamheid", "--top", "5", "--db", str(trained)],
    )
    assert table.exit_code == 0, table.output
    assert "Eenzaamheid onder 65-plussers in Almere" in table.stdout
    assert "waarom" in table.stdout and "inwoners 65+" in table.stdout and "Kerncijfers 2017" in table.stdout
    card = runner.invoke(
        app, ["model-card", "--measure", "Eenzaam_28", "--group", "65+", "--db", str(trained)]
    )
    assert card.exit_code == 0, card.output
    assert card.stdout.startswith("# Modelkaart: Eenzaam_28 (65+), buurt, 2020")
    assert "zelf een modelschatting" in card.stdout and "dekking" in card.stdout
    listed = card.stdout.split("Belangrijkste kenmerken")[1].split("## Beperkingen")[0]
    assert listed.count("\n- ") >= 5  # the largest drivers, from the contributions at training


def test_unknown_theme_suggests(small_db: Path) -> None:
    result = runner.invoke(
        app, ["priority", "--gemeente", "Almere", "--thema", "eenzaamheit", "--db", str(small_db)]
    )
    assert result.exit_code == 3 and "eenzaamheid" in result.stderr


def test_surveyed_areas_are_judged_against_out_of_fold_expectation(trained: Path) -> None:
    with Warehouse.open(trained, read_only=True) as wh:
        result = priority_list(wh, "GM0034", "eenzaamheid")
    labels = {r["expectation"] for r in result["rows"]}
    assert labels <= {"better_than_expected", "worse_than_expected", "as_expected", "no_survey"}
    surveyed = [r for r in result["rows"] if r["source"] == "peiling"]
    assert surveyed and all(r["vs_expected"] is not None for r in surveyed)


def test_reasons_say_what_sets_an_area_apart_from_its_gemeente() -> None:
    """Two buurten the model explains with the same big driver get different chips (issue 27, item 3).

    Both owe most of their estimate to the earlier rounds, as every buurt of the gemeente does; one
    has many one-person households, the other a low income: that is what their chips name.
    """
    from wijkradar.priority import _gemeente_means, _why
    from wijkradar.themes import load_themes

    def area(households: float, income: float) -> list[dict[str, object]]:
        return [
            {
                "feature": "prev:Eenzaam_28|65+",
                "label": "Eenzaam 65+ (peiling 2016)",
                "value": 50,
                "family": "eerdere peilingen",
                "contribution": 3.0,
            },
            {
                "feature": "kwb:g_hhgro",
                "label": "Gemiddelde huishoudensgrootte",
                "value": 2,
                "family": "huishoudens",
                "contribution": households,
            },
            {
                "feature": "kwb:g_ink_pi",
                "label": "Gemiddeld inkomen per inwoner",
                "value": 20,
                "family": "inkomen en werk",
                "contribution": income,
            },
            {
                "feature": "familie:eerdere peilingen",
                "label": "eerdere peilingen",
                "value": None,
                "family": "eerdere peilingen",
                "contribution": 3.0,
            },
            {
                "feature": "familie:huishoudens",
                "label": "huishoudens",
                "value": None,
                "family": "huishoudens",
                "contribution": households,
            },
            {
                "feature": "familie:inkomen en werk",
                "label": "inkomen en werk",
                "value": None,
                "family": "inkomen en werk",
                "contribution": income,
            },
        ]

    alone, poor, typical = area(2.0, 0.1), area(0.2, 1.5), area(0.3, 0.2)
    means = _gemeente_means([alone, poor, typical, typical], ["GM0034"] * 4)["GM0034"]
    theme = load_themes()["eenzaamheid"]
    chips = {
        name: [c["label"] for c in _why(c, means, theme)] for name, c in (("alone", alone), ("poor", poor))
    }
    assert chips == {
        "alone": ["huishoudens", "Gemiddelde huishoudensgrootte"],
        "poor": ["inkomen en werk", "Gemiddeld inkomen per inwoner"],
    }
    assert all("eerdere peilingen" not in labels for labels in chips.values())  # it drives every area
    assert _why(typical, means, theme)[0]["raises"] is False  # below what is typical here


def test_training_keeps_what_sets_each_area_apart_from_its_gemeente() -> None:
    """Drivers carry their contribution minus their gemeente's mean, over every feature (issue 27)."""
    import numpy as np

    from wijkradar.models.explain import Explained, drivers

    columns = ["prev:Eenzaam_28|65+", "kwb:g_hhgro", "kwb:g_ink_pi", *[f"kwb:x{i}" for i in range(8)]]
    contributions = np.zeros((4, len(columns)))
    contributions[:, 0] = [3.0, 3.0, 1.0, 1.0]  # large everywhere in its gemeente: sets nothing apart
    contributions[:, 3:] = 0.5  # the largest but the same for all
    contributions[0, 2] = 0.4  # small, but only here: what sets the first area apart
    explained = Explained(contributions, columns, columns, np.ones_like(contributions))
    found = drivers(explained, ["GM0001", "GM0001", "GM0002", "GM0002"])
    first = {d["feature"]: d["apart"] for d in found[0]}
    assert first["kwb:g_ink_pi"] == 0.2 and first["prev:Eenzaam_28|65+"] == 0.0
    assert "kwb:g_ink_pi" in [d["feature"] for d in found[0]]  # kept although not among the largest


def test_rank_orders_by_expected_affected_then_rate() -> None:
    rows = pd.DataFrame(
        {
            "code": [f"BU0000000{i}" for i in range(6)],
            "rate": [50.0, 40.0, 60.0, 45.0, 70.0, 55.0],
            "lower": [45.0, 35.0, 55.0, 40.0, 65.0, 50.0],
            "upper": [55.0, 45.0, 65.0, 50.0, 75.0, 60.0],
            "residents": [100.0, 1000.0, 10.0, 500.0, np.nan, 200.0],
        }
    )
    rows["expected_affected"] = rows["rate"] / 100 * rows["residents"]
    ranked = _rank(rows, seed=0)
    assert ranked["code"].tolist() == [
        "BU00000001",
        "BU00000003",
        "BU00000005",
        "BU00000000",
        "BU00000002",
        "BU00000004",
    ]
    assert ranked["rank"].tolist() == [1, 2, 3, 4, 5, 6]
    assert np.isnan(ranked["p_top10"].iloc[-1])  # no residents known: no chance computed
    assert ranked.set_index("code").loc["BU00000004", "rank_rate"] == 1


def test_p_top_sums_to_k() -> None:
    rng = np.random.default_rng(0)
    rate = rng.uniform(30, 60, 40)
    rows = pd.DataFrame(
        {
            "code": [f"BU{i:08d}" for i in range(40)],
            "rate": rate,
            "lower": rate - 4,
            "upper": rate + 4,
            "residents": rng.integers(100, 2000, 40).astype(float),
        }
    )
    rows["expected_affected"] = rows["rate"] / 100 * rows["residents"]
    ranked = _rank(rows, seed=1)
    assert ranked["p_top10"].sum() == pytest.approx(10.0, abs=0.01)
    assert ranked["p_top10"].iloc[0] >= ranked["p_top10"].iloc[-1]

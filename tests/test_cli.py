"""The command line: exit codes and output together."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main
from rich.console import Console
from rich.progress import MofNCompleteColumn, Progress, TextColumn
from typer.testing import CliRunner

from conftest import shown_estimate
from odata_fixtures import rivm_subset, serve
from wijkradar.cli import app
from wijkradar.cli.common import StepBar, out
from wijkradar.ingest import discover
from wijkradar.texts import figure_nl, number_nl
from wijkradar.warehouse import Warehouse

runner = CliRunner()


@pytest.fixture
def db(full_db: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "cli.duckdb"
    shutil.copy(full_db, copy)
    return copy


def test_show_json_acceptance(db: Path) -> None:
    result = runner.invoke(app, ["show", "GM0034", "--format", "json", "--db", str(db)])
    assert result.exit_code == 0, result.output
    profile = json.loads(result.stdout)
    assert {"code", "name", "level", "parents", "figures"} <= set(profile)
    lonely = {
        (f["period"], f["value"], f["source"])
        for f in profile["figures"]
        if f["measure"] == "Eenzaam_28" and f["group"] == "65+"
    }
    assert lonely == {("2020", 48.2, "50090NED"), ("2016", 47.3, "50090NED"), ("2012", 48.0, "50090NED")}
    keys = {"measure", "label", "group", "period", "value", "unit", "status", "source"}
    assert all(keys <= set(f) for f in profile["figures"])
    assert any(
        f["measure"] == "a_inw" and f["source"] == "84799NED" and f["value"] == 211893
        for f in profile["figures"]
    )


def test_show_by_name_and_table(db: Path) -> None:
    result = runner.invoke(app, ["show", "Almere", "--period", "2020", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "Almere (GM0034, gemeente, indeling 2020)" in result.stdout and "48,2" in result.stdout


def test_show_unknown_name_suggests(db: Path) -> None:
    result = runner.invoke(app, ["show", "Almre", "--db", str(db)])
    assert result.exit_code == 3
    assert "Bedoelde u: Almere" in result.stderr


def test_regions_of_almere(db: Path) -> None:
    result = runner.invoke(
        app, ["regions", "--gemeente", "Almere", "--level", "buurt", "--format", "csv", "--db", str(db)]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("\ufeffcode;naam;naam uit;naam (code);niveau") and len(lines) == 68
    assert all(line.startswith("BU0034") for line in lines[1:])


def test_sources_listing(db: Path, data: Path) -> None:
    result = runner.invoke(app, ["sources", "--format", "json", "--db", str(db)])
    assert result.exit_code == 0, result.output
    sources = json.loads(result.stdout)
    assert len(sources) == len(discover([data]))
    rivm = [s for s in sources if s["table_id"] == "50090NED"]
    rivm_files = list((data / "rivm-gezondheid-wijk-buurt").glob("*.xlsx"))
    assert len(rivm) == len(rivm_files) >= 6 and all(
        s["licence"] == "CC BY 4.0" and len(s["checksum"]) == 64 for s in rivm
    )


def test_ingest_reports_per_file_and_is_idempotent(tmp_path: Path, data: Path) -> None:
    db = tmp_path / "w.duckdb"
    args = ["ingest", str(data / "cbs-kwb-gemeenten-2020"), "--db", str(db), "--format", "json"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert [r["action"] for r in json.loads(first.stdout)] == ["ingested", "ingested"]
    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    assert [r["action"] for r in json.loads(second.stdout)] == ["unchanged", "unchanged"]
    # Once a second indeling has figures, the crosswalks both ways are derived and kept.
    other = runner.invoke(app, ["ingest", str(data / "cbs-kwb-wijken-2017"), "--db", str(db), "-q"])
    assert other.exit_code == 0, other.output
    with Warehouse.open(db, read_only=True) as wh:
        kept = wh.con.execute("SELECT from_year, to_year FROM derived_crosswalk_sets ORDER BY 1").fetchall()
    assert kept == [(2017, 2020), (2020, 2017)]


def test_ingest_bad_file_exits_nonzero_with_message(tmp_path: Path) -> None:
    bad = tmp_path / "kwb2020.csv"
    bad.write_text("GM_CODE,Aantal inwoners\nGM0034,veel\n", encoding="utf-8")
    result = runner.invoke(app, ["ingest", str(bad), "--db", str(tmp_path / "w.duckdb")])
    assert result.exit_code == 2
    assert "rij 2" in result.stderr and "'Aantal inwoners'" in result.stderr and "'veel'" in result.stderr


def test_show_without_warehouse(tmp_path: Path) -> None:
    result = runner.invoke(app, ["show", "GM0034", "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 5 and "wijkradar ingest" in result.stderr


def test_download_command(rivm: Path, tmp_path: Path) -> None:
    with serve(rivm_subset(rivm / "2020_65plus.xlsx"), page_size=50) as server:
        result = runner.invoke(
            app,
            [
                "download",
                "50090NED",
                "--base-url",
                f"{server.base}/v3",
                "--out",
                str(tmp_path / "dl"),
                "--db",
                str(tmp_path / "w.duckdb"),
                "--format",
                "csv",
            ],
        )
    assert result.exit_code == 0, result.output
    assert "50090NED" in result.stdout and ";ingested;" in result.stdout
    shown = runner.invoke(app, ["show", "Almere", "--format", "json", "--db", str(tmp_path / "w.duckdb")])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["name"] == "Almere"


def test_the_cli_speaks_dutch_down_to_typers_own_words(db: Path) -> None:
    """Help, usage and usage errors come from Typer and its Click: they once read 'Show this message'."""
    helped = runner.invoke(app, ["goals", "add", "--help"], env={"COLUMNS": "120"})
    assert helped.exit_code == 0
    assert "Toon deze hulp en stop." in helped.stdout and "Opties" in helped.stdout
    assert "Gebruik:" in helped.stdout and "Show this message" not in helped.stdout
    for args, dutch in (
        (["themes", "--db", str(db)], "Onbekende optie: --db"),
        (["goals", "add", "--gemeente", "Almere"], "Optie '--target' ontbreekt."),
        (["show", "Almere", "--format", "xml"], "'xml' is geen van 'table', 'csv', 'json'."),
        (["show", "Almere", "--formaat", "json"], "(bedoelde u een van: --format?)"),
    ):
        result = runner.invoke(app, args, env={"COLUMNS": "200"})
        assert result.exit_code == 2 and dutch in result.stderr and "Fout" in result.stderr, result.stderr
        assert "Error" not in result.stderr and "Usage" not in result.stderr
    table = runner.invoke(app, ["sources", "--db", str(db)], env={"COLUMNS": "300"})
    assert table.exit_code == 0
    assert "uitgever" in table.stdout and "ingelezen op" in table.stdout and "publisher" not in table.stdout


@pytest.mark.parametrize(
    ("command", "choices"),
    [
        (["priority", "--gemeente", "Almere", "--thema", "eenzaamheid"], "buurt, wijk, gemeente"),
        (["evaluate", "--measure", "Eenzaam_28", "--group", "65+"], "buurt, wijk, gemeente"),
        (["model-card", "--measure", "Eenzaam_28", "--group", "65+"], "buurt, wijk, gemeente"),
        (["train", "--thema", "eenzaamheid"], "buurt, wijk, gemeente"),
        (["regions", "--gemeente", "Almere"], "land, gemeente, wijk, buurt"),
    ],
)
def test_an_unknown_level_is_refused_with_the_choices(db: Path, command: list[str], choices: str) -> None:
    """Issue 27: `--level straat` ended in a Python traceback (exit 1) in priority, regions and evaluate."""
    result = runner.invoke(app, [*command, "--level", "straat", "--db", str(db)])
    assert result.exit_code == 2, result.output
    assert "onbekend niveau 'straat'" in result.output and choices in " ".join(result.output.split())
    assert "Traceback" not in result.output and "ValueError" not in result.output


def test_a_level_is_read_as_people_type_it(db: Path) -> None:
    typed = runner.invoke(app, ["regions", "--gemeente", "Almere", "--niveau", "Wijken", "--db", str(db)])
    assert typed.exit_code == 0 and "WK003402" in typed.output


def test_words_instead_of_codes_in_cli_tables(db: Path) -> None:
    """Issue 27: `themes` had "naam" over the theme's code and "naam (code)" over its name; goal
    tables said "richting: down"; `users add --gemeente Almere` was refused where names work."""
    themes = runner.invoke(app, ["themes", "--format", "csv"])
    header, first = themes.stdout.lstrip("\ufeff").splitlines()[:2]
    assert header.startswith("thema;maat;groep;naam;") and first.startswith(
        "eenzaamheid;Eenzaam_28;65+;Eenzaamheid"
    )
    assert ";peiling;" in first
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
            "40",
            "--target-year",
            "2030",
            "--db",
            str(db),
        ],
    )
    assert added.exit_code == 0, added.output
    assert "omlaag" in added.stdout and "down" not in added.stdout
    user = runner.invoke(
        app,
        ["users", "add", "anna", "--gemeente", "Almere", "--db", str(db)],
        input="correct paard batterij\n" * 2,
    )
    assert user.exit_code == 0 and "lezer in GM0034" in user.stdout, user.output
    listed = runner.invoke(app, ["users", "list", "--gemeente", "Almere", "--db", str(db), "--format", "csv"])
    assert "anna;GM0034 lezer" in listed.stdout


def _commands() -> list[tuple[str, Any]]:
    """Every command of the CLI with its words (``goals add``); Typer carries its own Click."""

    def walk(command: Any, path: str) -> list[tuple[str, Any]]:
        if hasattr(command, "commands"):
            named = command.commands.items()
            return [found for name, sub in named for found in walk(sub, f"{path} {name}".strip())]
        return [(path, command)]

    return walk(typer.main.get_command(app), "")


@pytest.mark.parametrize(("path", "command"), _commands(), ids=lambda x: x if isinstance(x, str) else "")
def test_every_command_has_help_with_an_example_that_parses(path: str, command: Any) -> None:
    """Issue 27: six options of `goals add` had no help, and help showed Python types (<list[Path]>)."""
    assert all(p.help for p in command.params), path
    helped = runner.invoke(app, [*path.split(), "--help"], env={"COLUMNS": "100"})
    assert helped.exit_code == 0
    assert not re.search(r"<(str|int|bool|path|float|list\[)", helped.stdout), helped.stdout
    example = " ".join(helped.stdout.split("Voorbeeld:")[1].split("╭")[0].split())
    assert f"{example} ".startswith(f"wijkradar {path} "), example
    options = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
    used = set(re.findall(r"(?<=\s)--?[a-z][a-z-]*", example))
    assert used <= options, used - options
    required = [set(p.opts) for p in command.params if p.required and p.opts[0].startswith("-")]
    assert all(names & used for names in required), (path, required)


def test_errors_name_the_option_as_typed(db: Path) -> None:
    """Issue 27: errors named the field behind an option ("kolom 'target_value'")."""
    goal = ["goals", "add", "--gemeente", "Almere", "--thema", "eenzaamheid", "--db", str(db)]
    wrong = runner.invoke(app, [*goal, "--target", "veel", "--target-year", "2030"])
    assert wrong.exit_code == 2 and "optie --target:" in wrong.stderr, wrong.stderr
    late = runner.invoke(app, [*goal, "--target", "40", "--target-year", "1990"])
    assert late.exit_code == 2 and "optie --target-year:" in late.stderr, late.stderr
    start = ["interventions", "add", "--gemeente", "Almere", "--title", "Huiskamer", "--db", str(db)]
    dated = runner.invoke(app, [*start, "--start", "2024-13-01"])
    assert dated.exit_code == 2 and "optie --start:" in dated.stderr, dated.stderr
    role = runner.invoke(
        app,
        [
            "users",
            "add",
            "jan",
            "--gemeente",
            "Almere",
            "--rol",
            "baas",
            "--wachtwoord-stdin",
            "--db",
            str(db),
        ],
        input="een lang wachtwoord van jan\n",
    )
    assert role.exit_code == 2 and "optie --rol: onbekende rol" in role.stderr, role.stderr
    assert not any("kolom" in r.stderr or "target_" in r.stderr for r in (wrong, late, dated, role))


def test_show_gives_the_model_estimate_as_the_site_does(
    web_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 27: the README says `show` prints what the site shows; it showed no estimates.

    The prognoses on that row: ``test_models.test_forward_validation_and_forecast_intervals``.
    """
    monkeypatch.setattr(out, "_width", 100)
    row, estimate = shown_estimate(web_db, "BU00340101")
    low, high = (number_nl(estimate[k]) for k in ("lower", "upper"))
    assert f"{figure_nl(estimate['estimate'])} ({low}–{high})" in row
    assert estimate["label"] == "Eenzaamheid onder 65-plussers" and row.split()[-1] == "–"  # no prognosis
    assert not estimate["forecasts"]


def test_a_step_bar_counts_every_step_of_every_part_and_says_how_long() -> None:
    """Issue 27: `train` printed three lines in 24 minutes; now a bar over the steps with time left."""
    shown = io.StringIO()
    screen = Console(file=shown, force_terminal=True, color_system=None, width=100)
    bar = Progress(TextColumn("{task.description}"), MofNCompleteColumn(), console=screen)
    with bar:
        steps = StepBar(bar, total=4)
        for model in ("buurt", "wijk"):
            steps.part(f"{model}: ")
            steps("toetsen")
            assert bar.tasks[0].description == f"{model}: toetsen"
            steps("opslaan")
        steps.done()
    assert bar.tasks[0].completed == 4 == bar.tasks[0].total
    assert "wijk: opslaan 4/4" in shown.getvalue()


def test_a_command_starts_without_loading_the_model_libraries() -> None:
    """Every command imports the pages; scikit-learn alone made each one start 1.5 s later."""
    probe = "import sys, wijkradar.cli; print(sorted({'sklearn', 'lightgbm', 'scipy'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"

"""The findings of the server review: bad input is refused with a Dutch message and changes nothing.

One test per finding; each failed on the main of 2026-11-24 (crash, data loss or a stored bad value).
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from conftest import stores
from wijkradar.cli import app
from wijkradar.errors import InputError
from wijkradar.goals import add_goal, add_intervention, export_goals
from wijkradar.ingest import ingest
from wijkradar.warehouse import Warehouse
from wijkradar.web.app import create_app

runner = CliRunner()
PAGE = "/gemeente/GM0034/doelen"


@pytest.fixture
def db(web_db: Path, tmp_path: Path) -> Path:
    """A warehouse with one goal and one intervention for Almere."""
    copy = tmp_path / "w.duckdb"
    shutil.copy(web_db, copy)
    with stores(copy) as (wh, own):
        goal = add_goal(wh, own, "GM0034", {"theme": "eenzaamheid", "target_value": 44, "target_year": 2026})
        add_intervention(
            wh, own, "GM0034", {"title": "Buurtkamer", "start": "2021-01-01", "goal_ids": [goal["goal_id"]]}
        )
    return copy


def _plan_size(db: Path) -> tuple[int, int]:
    with stores(db) as (_, own):
        return len(own.goals("GM0034")), len(own.interventions("GM0034"))


def _import(db: Path, path: Path, *extra: str) -> tuple[int, str]:
    result = runner.invoke(
        app, ["goals", "import", "--gemeente", "Almere", str(path), "--db", str(db), *extra]
    )
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("leeg.yaml", "", "geen doelen en geen interventies"),
        ("typfout.yaml", "goalz:\n- theme: eenzaamheid\n", "onbekende sleutel"),
        ("veld.yaml", "goals:\n- theme: eenzaamheid\n  target_valeu: 40\n", "onbekend veld"),
        ("kapot.yaml", "goals: [\n", "geen geldige YAML"),
    ],
)
def test_goals_import_never_wipes_a_plan_by_mistake(
    db: Path, tmp_path: Path, name: str, content: str, needle: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    code, output = _import(db, path)
    assert code == 2 and needle in output and "Traceback" not in output
    assert _plan_size(db) == (1, 1)


def test_an_xlsx_without_the_plan_sheets_is_refused(db: Path, tmp_path: Path) -> None:
    from wijkradar.spreadsheet import write_xlsx

    path = tmp_path / "plan.xlsx"
    write_xlsx(path, {"Blad1": [{"a": 1}]})
    code, output = _import(db, path)
    assert code == 2 and "geen blad 'doelen' of 'interventies'" in output
    assert _plan_size(db) == (1, 1)


def test_only_vervang_alles_empties_a_plan(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "leeg.yaml"
    path.write_text("goals: []\ninterventions: []\n", encoding="utf-8")
    assert _import(db, path)[0] == 2 and _plan_size(db) == (1, 1)
    assert _import(db, path, "--vervang-alles")[0] == 0 and _plan_size(db) == (0, 0)


@pytest.mark.parametrize("levels", [2_000, 100_000])
def test_deeply_nested_yaml_is_refused_with_a_dutch_error(db: Path, tmp_path: Path, levels: int) -> None:
    nested = tmp_path / "diep.yaml"
    nested.write_text("goals: " + "[" * levels + "\n", encoding="utf-8")
    code, output = _import(db, nested)
    assert code == 2 and "te diep genest" in output and "Traceback" not in output
    assert _plan_size(db) == (1, 1)


def test_a_yaml_alias_bomb_is_refused_at_once(db: Path, tmp_path: Path) -> None:
    refs = ", ".join(["*{}"] * 8)
    lines = ['a: &a ["' + "x" * 40 + '"]']
    lines += [f"{chr(98 + i)}: &{chr(98 + i)} [{refs.format(*[chr(97 + i)] * 8)}]" for i in range(8)]
    bomb = tmp_path / "bom.yaml"
    bomb.write_text("\n".join(lines) + "\ngoals:\n- title: *i\n  theme: eenzaamheid\n", encoding="utf-8")
    assert bomb.stat().st_size < 1000
    started = time.perf_counter()
    code, output = _import(db, bomb)
    assert code == 2 and "verwijzingen" in output and time.perf_counter() - started < 10
    assert _plan_size(db) == (1, 1)


def test_long_texts_and_control_characters_are_refused(db: Path) -> None:
    with stores(db) as (wh, own):
        base = {"theme": "eenzaamheid", "target_value": 44, "target_year": 2026}
        with pytest.raises(InputError, match="langer dan 200"):
            add_goal(wh, own, "GM0034", {**base, "title": "x" * 201}, store=False)
        with pytest.raises(InputError, match="stuurteken"):
            add_goal(wh, own, "GM0034", {**base, "title": "doel\x00met nul"}, store=False)
        with pytest.raises(InputError, match="tussen 2000 en 2100"):
            add_goal(wh, own, "GM0034", {**base, "target_year": "1e10"}, store=False)
        with pytest.raises(InputError, match="geen getal"):
            add_goal(wh, own, "GM0034", {**base, "target_value": "1e309"}, store=False)
    assert _plan_size(db) == (1, 1)


def test_the_goal_form_answers_bad_fields_and_exports_keep_working(db: Path) -> None:
    with TestClient(create_app(db, editable=True)) as client:
        token = re.search(r'name="_token" value="([^"]+)"', client.get(PAGE).text)
        assert token is not None
        base = {"_token": token.group(1), "thema": "eenzaamheid", "target_value": "44"}
        for fields, field in (
            ({"target_year": "1e10"}, "target_year"),
            ({"target_year": "2026", "title": "a\x00b"}, "title"),
        ):
            answer = client.post(PAGE, data={**base, **fields}, follow_redirects=False)
            assert answer.status_code == 422 and f'id="doel-{field}-fout"' in answer.text, fields
        assert client.get(f"{PAGE}.xlsx").status_code == 200
    assert _plan_size(db) == (1, 1)


def test_a_binary_csv_does_not_stop_the_batch(data: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(data / "cbs-kwb-gemeenten-2020" / "kwb2020_gemeenten.csv", folder / "kwb2020_gemeenten.csv")
    (folder / "aaa_kapot.csv").write_bytes(bytes(range(256)) * 20)
    with Warehouse.open(tmp_path / "w.duckdb") as wh:
        reports = {Path(r.path).name: r for r in ingest(wh, [folder])}
    assert (
        reports["aaa_kapot.csv"].action == "failed"
        and "geen tekstbestand" in reports["aaa_kapot.csv"].message
    )
    assert reports["kwb2020_gemeenten.csv"].action == "ingested"


def _kwb(data: Path, tmp_path: Path, edit: dict[int, str] | None = None, repeat: int = 0) -> Path:
    lines = (
        (data / "cbs-kwb-buurten-2017" / "kwb2017_buurten.csv").read_text(encoding="utf-8").splitlines()[:30]
    )
    column = lines[0].split(",").index("AantalInwoners_5")
    for row, value in (edit or {}).items():
        cells = lines[row].split(",")
        cells[column] = value
        lines[row] = ",".join(cells)
    path = tmp_path / "kwb2017_buurten.csv"
    path.write_text("\n".join(lines + lines[1 : 1 + repeat]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("value", "needle"),
    [("1e309", "oneindig"), ("1e308", "groter dan een biljard"), ("-5", "negatief aantal")],
)
def test_impossible_numbers_are_refused(data: Path, tmp_path: Path, value: str, needle: str) -> None:
    from refusal import assert_refused

    with Warehouse.open(tmp_path / "w.duckdb") as wh:
        assert_refused(wh, _kwb(data, tmp_path, {5: value}), needle)


def test_duplicate_rows_are_stored_once_and_reported(data: Path, tmp_path: Path) -> None:
    from refusal import assert_refused
    from wijkradar.ingest import ingest_path

    with Warehouse.open(tmp_path / "w.duckdb") as wh:
        report = ingest_path(wh, _kwb(data, tmp_path, repeat=10))
        assert "110 dubbele waarden" in report.message  # ten rows of eleven measures
        assert report.observations == len(wh.observations.table()) and len(wh.observations.table()) < 29 * 12
    with Warehouse.open(tmp_path / "other.duckdb") as wh:
        path = _kwb(data, tmp_path, repeat=3)
        text = path.read_text(encoding="utf-8").splitlines()
        cells = text[-1].split(",")
        cells[4] = str(int(float(cells[4])) + 1)  # the same buurt again with another count
        path.write_text("\n".join([*text[:-1], ",".join(cells)]) + "\n", encoding="utf-8")
        assert_refused(wh, path, "meer dan eens", "verschillende waarden")


def test_report_chart_data_cannot_end_its_script(web_db: Path, tmp_path: Path) -> None:
    from wijkradar.reports.staat import render_html, report_data

    db = tmp_path / "w.duckdb"
    shutil.copy(web_db, db)
    evil = "</script><script>document.title='pwned'</script>"
    with Warehouse.open(db) as wh:
        wh.con.execute("UPDATE regions SET name = ? WHERE code = 'BU00340211'", [evil])
    with stores(db) as (wh, own):
        html = render_html(report_data(wh, own, "GM0034", ["eenzaamheid"]))
    assert evil not in html and "document.title='pwned'" in html.replace("\\u003c", "<").replace(
        "\\u003e", ">"
    )


def test_exports_of_an_intact_plan_still_round_trip(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    with stores(db) as (wh, own):
        export_goals(wh, own, "GM0034", path)
    assert _import(db, path)[0] == 0 and _plan_size(db) == (1, 1)


def test_a_plan_workbook_is_bounded_before_it_is_parsed(db: Path, tmp_path: Path) -> None:
    """Issue 25, finding 4, for `goals import`: openpyxl would hold every cell of a zip bomb."""
    from wijkradar.goals import import_goals
    from workbooks import cells, workbook

    bomb = tmp_path / "plan.xlsx"
    bomb.write_bytes(workbook(iter([cells("title"), *[cells("Buurtkamer")] * 200_000])))
    with stores(db) as (wh, own):
        before = own.goals("GM0034")
        with pytest.raises(InputError, match="zip-bom") as refused:
            import_goals(wh, own, "GM0034", bomb)
        assert str(tmp_path) not in str(refused.value)
        assert own.goals("GM0034") == before

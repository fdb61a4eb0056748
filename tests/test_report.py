"""The "Staat van de gemeente": self-contained HTML and a PDF checked by rendering its pages."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from conftest import stores
from wijkradar.cli import app
from wijkradar.goals import add_goal, add_intervention

runner = CliRunner()
THREE = ["BU00340211", "BU00340212", "BU00340202"]


@pytest.fixture(scope="module")
def report_db(web_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("report") / "report.duckdb"
    shutil.copy(web_db, db)
    with stores(db) as (wh, own):
        whole = add_goal(
            wh,
            own,
            "GM0034",
            {
                "theme": "eenzaamheid",
                "target_value": 44,
                "target_year": 2026,
                "title": "Minder eenzame 65-plussers in Almere",
            },
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
                "title": "Wijkteam Stad",
            },
        )
        add_intervention(
            wh,
            own,
            "GM0034",
            {
                "title": "Buurtkamers voor ouderen",
                "start": "2021-01-01",
                "area": THREE,
                "budget": 120000,
                "goal_ids": [whole["goal_id"], three["goal_id"]],
            },
        )
    return db


def test_html_is_self_contained(report_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "staat.html"
    result = runner.invoke(app, ["report", "--gemeente", "Almere", "--out", str(out), "--db", str(report_db)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "<script" not in html and "http://" not in html and "https://" not in html
    assert html.count('src="data:image/png;base64,') >= 1
    for heading in (
        "Staat van de gemeente Almere",
        "Kernboodschappen",
        "Waar eerst aandacht?",
        "Doelen en voortgang",
        "Minder eenzame 65-plussers in Almere",
        "Buurtkamers voor ouderen",
        "Bronnen en modellen",
    ):
        assert heading in html, heading


def test_pdf_pages_render_and_hold_the_headings(report_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "staat.pdf"
    result = runner.invoke(
        app,
        [
            "report",
            "--gemeente",
            "GM0034",
            "--thema",
            "eenzaamheid",
            "--out",
            str(out),
            "--db",
            str(report_db),
        ],
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    pages = tmp_path / "page"
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(out), str(pages)], check=True)
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) >= 4 and all(p.stat().st_size > 1000 for p in images)
    screenshots = Path(__file__).resolve().parents[1] / "artifacts" / "report"
    screenshots.mkdir(parents=True, exist_ok=True)
    for image in images[:3]:
        shutil.copy(image, screenshots / image.name)
    text = subprocess.run(["pdftotext", str(out), "-"], check=True, capture_output=True, text=True).stdout
    for heading in (
        "Staat van de gemeente Almere",
        "Kernboodschappen",
        "Eenzaamheid onder 65-plussers",
        "Vergelijking met Nederland en vergelijkbare gemeenten",
        "Waar eerst aandacht?",
        "Wat werkt?",
        "Doelen en voortgang",
        "Wijkteam Stad",
        "Interventies",
        "Bronnen en modellen",
        "Modelkaart",
    ):
        assert heading in text, heading
    assert not re.search(r"(^|\s)#{1,3} |\*\*|\|\s*-{3}|`", text), "Markdown syntax in the PDF"
    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    assert not [c for c in commands if f"wijkradar {c}" in text], "a CLI instruction in the PDF"
    numbers = re.sub(r"CC\s+BY\s+4\.0", "licentie", text)  # a licence's name, not a number
    assert not re.search(r"\d\.\d", numbers), re.findall(r"(?s).{30}\d\.\d.{10}", numbers)[:5]  # commas only
    assert re.search(r"\d,\d", text)
    assert "Model" in text and "R²" in text  # the model card as text and a table


def test_wrong_extension_is_refused(report_db: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["report", "--gemeente", "Almere", "--out", str(tmp_path / "staat.docx"), "--db", str(report_db)]
    )
    assert result.exit_code == 1 and ".html of .pdf" in result.stderr

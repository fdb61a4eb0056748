"""The "Staat van de gemeente": self-contained HTML and a PDF checked by rendering its pages."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from conftest import with_a_plan
from wijkradar.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def report_db(web_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return with_a_plan(web_db, tmp_path_factory.mktemp("report"))


def test_html_is_self_contained(report_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "staat.html"
    result = runner.invoke(app, ["report", "--gemeente", "Almere", "--out", str(out), "--db", str(report_db)])
    assert result.exit_code == 0, result.output
    assert "Rapport klaar in " in result.stderr  # long work ends with the time it took
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
        "Hoe betrouwbaar zijn deze cijfers?",
    ):
        assert heading in html, heading
    assert "nog geen risicomodel" not in html  # a theme without a model is left out, and named once
    assert "Zonder getraind model, en daarom niet in dit rapport: Ernstige eenzaamheid" in html


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
        "Hoe betrouwbaar zijn deze cijfers?",
    ):
        assert heading in text, heading
    # Issue 27: words a raad reads. No gaps, no measure codes, no ISO dates, no internal ids.
    assert "nog geen risicomodel" not in text and "Modelkaart" not in text  # the cards stay on /bronnen
    assert not re.findall(r"\b[A-Z][A-Za-z]+_\d+\b", text), "a measure code in the PDF"
    assert not re.findall(r"\b\d{4}-\d{2}-\d{2}\b", text), "an ISO date in the PDF"
    assert "grenzen:" not in text  # a boundary file by its title, each table once in the sources
    assert re.sub(r"\s+", " ", text).count("Gezondheid per wijk en buurt") == 1  # RIVM's four slices
    assert re.search(
        r"opgesteld op \d{1,2} (januari|februari|maart|april|mei|juni|juli|augustus|"
        r"september|oktober|november|december) \d{4}",
        text,
    )
    assert "procentpunt naast de peiling" in text  # how reliable, in words
    # Issue 28: the effect of the plan's intervention (from 2017) with its interval, in words
    flat = re.sub(r"\s+", " ", text)
    assert "Gemeten effect: het verschil met vergelijkbare buurten" in flat
    assert "Kosten per inwoner minder getroffen: het budget gedeeld door het effect" in flat
    assert re.search(
        r"Aanpak ‘Buurtkamers voor ouderen’: Zonder de aanpak verwacht \d+,\d%, gemeten \d+,\d%", flat
    )
    assert re.search(r"\(90%: \d+,\d (lager )?tot \d+,\d (lager|hoger)\)", flat)
    assert not re.search(r"(^|\s)#{1,3} |\*\*|\|\s*-{3}|`", text), "Markdown syntax in the PDF"
    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    assert not [c for c in commands if f"wijkradar {c}" in text], "a CLI instruction in the PDF"
    numbers = re.sub(r"CC\s+BY\s+4\.0", "licentie", text)  # a licence's name, not a number
    assert not re.search(r"\d\.\d", numbers), re.findall(r"(?s).{30}\d\.\d.{10}", numbers)[:5]  # commas only
    assert re.search(r"\d,\d", text)


def test_a_comparison_counts_the_uncertainty() -> None:
    """48,2% against Nederland's 49,5% is "gelijk aan" when the gemeente's interval holds 49,5 (issue 27)."""
    from wijkradar.reports.staat import _messages

    def sentence(lower: float | None, upper: float | None, national: float) -> str:
        figure = {
            "period": "2020",
            "gemeente": 48.2,
            "gemeente_lower": lower,
            "gemeente_upper": upper,
            "national": national,
            "similar_mean": None,
        }
        overview = {
            "theme": {"label": "Eenzaamheid", "unit": "%"},
            "gemeente": {"name": "Almere"},
            "key_figures": [figure],
        }
        return _messages(overview)[0]

    assert "gelijk aan Nederland (49,5%; marge 46,5–49,9%)" in sentence(46.5, 49.9, 49.5)
    assert "hoger dan Nederland (45,0%" in sentence(46.5, 49.9, 45.0)
    assert "lager dan Nederland (51,0%" in sentence(46.5, 49.9, 51.0)
    unknown = sentence(None, None, 49.5)  # no interval: the figures side by side, no verdict
    assert "Nederland 49,5%" in unknown and not re.search(r"gelijk aan|hoger dan|lager dan", unknown)


def test_wrong_extension_is_refused(report_db: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["report", "--gemeente", "Almere", "--out", str(tmp_path / "staat.docx"), "--db", str(report_db)]
    )
    assert result.exit_code == 1 and ".html of .pdf" in result.stderr

"""Golden files: every JSON format of the pages and the CLI listings for Almere and Rotterdam.

A refactoring must leave the figures as they were. Each test renders one JSON answer on the
forty-two-gemeente warehouse (with a trained buurt model and a goal and an intervention in Almere)
and compares it with its file in ``tests/golden/``. A deliberate change of output is recorded with
``pytest tests/test_golden.py --update-golden``; the diff of the golden files then shows it.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from wijkradar.cli import app
from wijkradar.web.app import create_app

GOLDEN = Path(__file__).parent / "golden"
GEMEENTEN = ("GM0034", "GM0599")  # Almere, Rotterdam
VOLATILE = {"ingested_at", "created_at", "updated_at", "trained_at", "path", "file"}
runner = CliRunner()


@pytest.fixture(scope="module")
def db(web_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The web warehouse with one goal and one intervention in Almere, added through the CLI."""
    copy = tmp_path_factory.mktemp("golden") / "golden.duckdb"
    shutil.copy(web_db, copy)
    goal = ["goals", "add", "--gemeente", "Almere", "--thema", "eenzaamheid", "--title", "Minder eenzaam"]
    goal += ["--target", "44", "--target-year", "2026", "--baseline-period", "2016", "--db", str(copy)]
    plan = ["interventions", "add", "--gemeente", "GM0034", "--title", "Buurtkamers"]
    plan += ["--start", "2017-01-01", "--budget", "250000", "--db", str(copy)]
    for command in (goal, plan):
        result = runner.invoke(app, command)
        assert result.exit_code == 0, result.output
    return copy


@pytest.fixture(scope="module")
def client(db: Path) -> Iterator[TestClient]:
    with TestClient(create_app(db)) as test_client:
        yield test_client


def _stable(value: Any) -> Any:
    """The answer without what changes per run (times, paths), floats to 9 significant digits."""
    if isinstance(value, dict):
        kept = {k: v for k, v in value.items() if k not in VOLATILE}
        if isinstance(kept.get("location"), str):  # a file's place differs per run: keep its name
            kept["location"] = Path(kept["location"]).name
        return {k: _stable(v) for k, v in sorted(kept.items())}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    if isinstance(value, str):  # the model card says how long training took
        return re.sub(r"getraind in [0-9,]+ s", "getraind in … s", value)
    if isinstance(value, float) and math.isfinite(value):
        return float(f"{value:.9g}")
    return value


def _compare(name: str, answer: Any, update: bool) -> None:
    path = GOLDEN / f"{name}.json"
    text = json.dumps(_stable(answer), ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    if update:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"{path.name} ontbreekt: draai pytest {__file__} --update-golden"
    assert text == path.read_text(encoding="utf-8"), f"{path.name} wijkt af van de vastgelegde uitvoer"


def _first(db: Path, gemeente: str, level: str) -> str:
    listing = ["regions", "--gemeente", gemeente, "--level", level, "-f", "json", "--db", str(db)]
    result = runner.invoke(app, listing)
    assert result.exit_code == 0, result.output
    return str(sorted(r["code"] for r in json.loads(result.stdout))[0])


def _cli(gemeente: str, db: Path) -> dict[str, list[str]]:
    wijk, buurt = _first(db, gemeente, "wijk"), _first(db, gemeente, "buurt")
    return {
        "sources": ["sources"],
        "themes": ["themes"],
        "evaluate": ["evaluate", "--measure", "Eenzaam_28", "--group", "65+", "--level", "buurt"],
        "regions-buurt": ["regions", "--gemeente", gemeente, "--level", "buurt"],
        "show-gemeente": ["show", gemeente],
        "show-wijk": ["show", wijk],
        "show-buurt": ["show", buurt],
        "priority-buurt": ["priority", "--gemeente", gemeente, "--thema", "eenzaamheid"],
        "goals-list": ["goals", "list", "--gemeente", gemeente],
        "goals-progress": ["goals", "progress", "--gemeente", gemeente],
        "interventions-list": ["interventions", "list", "--gemeente", gemeente],
    }


@pytest.mark.parametrize("gemeente", GEMEENTEN)
def test_cli_listings_are_unchanged(db: Path, gemeente: str, request: pytest.FixtureRequest) -> None:
    update = bool(request.config.getoption("--update-golden"))
    for name, command in _cli(gemeente, db).items():
        where = [] if name == "themes" else ["--db", str(db)]  # the themes are not in the warehouse
        result = runner.invoke(app, [*command, "--format", "json", *where])
        assert result.exit_code == 0, (name, result.output)
        _compare(f"cli-{gemeente}-{name}", json.loads(result.stdout), update)


@pytest.mark.parametrize("gemeente", GEMEENTEN)
def test_page_data_is_unchanged(
    client: TestClient, db: Path, gemeente: str, request: pytest.FixtureRequest
) -> None:
    update = bool(request.config.getoption("--update-golden"))
    wijk, buurt = _first(db, gemeente, "wijk"), _first(db, gemeente, "buurt")
    pages = {
        "gemeente": f"/gemeente/{gemeente}.json",
        "gemeente-rondkomen": f"/gemeente/{gemeente}.json?thema=financiele-zorgen",
        "prioriteit": f"/gemeente/{gemeente}/prioriteit.json",
        "regio-gemeente": f"/regio/{gemeente}.json",
        "regio-wijk": f"/regio/{wijk}.json",
        "regio-buurt": f"/regio/{buurt}.json",
        "bronnen": "/bronnen.json",
    }
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, (url, response.text[:300])
        _compare(f"web-{gemeente}-{name}", response.json(), update)

"""Reads never write: every read command and page leaves the warehouse file as it was (issue 26).

The warehouse is written by ingest, download, omzettabel, train and linkage only. A command or page
that shows something must not store anything on the way (a derived crosswalk, a migrated plan), nor
open the file for writing, which would publish a new version of it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from wijkradar.cli import app
from wijkradar.web.app import create_app

runner = CliRunner()
READS = [
    ["sources"],
    ["regions", "--gemeente", "Almere", "--level", "buurt"],
    ["show", "Almere"],
    ["show", "WK003401", "--format", "json"],
    ["evaluate", "--measure", "Eenzaam_28", "--group", "65+", "--level", "buurt"],
    ["model-card", "--measure", "Eenzaam_28", "--group", "65+", "--level", "buurt"],
    ["priority", "--gemeente", "Almere", "--thema", "eenzaamheid", "--format", "csv"],
    ["goals", "list", "--gemeente", "Almere"],
    ["goals", "progress", "--gemeente", "Almere"],
    ["interventions", "list", "--gemeente", "Almere"],
]
PAGES = [
    "/",
    "/gemeente/GM0034",
    "/gemeente/GM0034.json",
    "/gemeente/GM0034.csv",
    "/gemeente/GM0034.xlsx",
    "/gemeente/GM0034.geojson",
    "/gemeente/GM0034.gpkg",
    "/gemeente/GM0599?thema=financiele-zorgen",
    "/gemeente/GM0034/prioriteit",
    "/gemeente/GM0034/prioriteit.json",
    "/regio/GM0034",
    "/regio/WK003401.json",
    "/regio/BU00340101",
    "/bronnen",
    "/bronnen.json",
    "/gemeente/GM0034/doelen",
    "/gemeente/GM0034/doelen.json",
    "/gemeente/GM0034/interventies.csv",
]


def _state(path: Path) -> tuple[str, int, int]:
    """The file's bytes, its inode and its modification time: a new version changes all three."""
    stat = os.stat(path)
    return hashlib.sha256(path.read_bytes()).hexdigest(), stat.st_ino, stat.st_mtime_ns


def test_every_read_command_and_page_leaves_the_warehouse_as_it_was(web_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "lezen.duckdb"
    shutil.copy(web_db, db)
    goal = ["goals", "add", "--gemeente", "GM0034", "--thema", "eenzaamheid", "--target", "44"]
    assert runner.invoke(app, [*goal, "--target-year", "2026", "--db", str(db)]).exit_code == 0
    before, files = _state(db), sorted(p.name for p in tmp_path.iterdir())
    for command in READS:
        result = runner.invoke(app, [*command, "--db", str(db)])
        assert result.exit_code == 0, (command, result.output)
    with TestClient(create_app(db)) as client:
        for url in PAGES:
            response = client.get(url)
            assert response.status_code == 200, (url, response.text[:300])
    assert _state(db) == before
    # Nothing new beside it but the operational store's journal (the audit log records who looked).
    new = sorted(set(p.name for p in tmp_path.iterdir()) - set(files))
    assert all(name.startswith("lezen.app.sqlite") for name in new), new

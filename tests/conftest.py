"""Shared fixtures: the real open data in ../shared/data and warehouses built from it."""

from __future__ import annotations

import csv
import io
import json
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import fastexcel
import pytest
from typer.testing import CliRunner

from wijkradar.appdb import AppDB
from wijkradar.cli import app
from wijkradar.goals import own_store
from wijkradar.ingest import ingest
from wijkradar.warehouse import Warehouse

REPO = Path(__file__).resolve().parents[1]
FUZZ_CASES: Counter[str] = Counter()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="write tests/golden/ anew")


def fuzzed(test: str) -> None:
    """Count one generated case of a fuzz test; the counts are printed at the end of the run."""
    FUZZ_CASES[test] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print how many cases each fuzz test ran, and on which operational store."""
    if not FUZZ_CASES:
        return
    store = "PostgreSQL" if os.environ.get("WIJKRADAR_TEST_POSTGRES") else "SQLite"
    terminalreporter.write_sep("-", f"fuzzing ({store})")
    for test, count in sorted(FUZZ_CASES.items()):
        terminalreporter.write_line(f"{test}: {count} gevallen")
    terminalreporter.write_line(f"samen: {sum(FUZZ_CASES.values())} gevallen")


@pytest.fixture(scope="session", autouse=True)
def _store_per_warehouse() -> Iterator[None]:
    """With WIJKRADAR_TEST_POSTGRES (a server URL) each warehouse gets a PostgreSQL store of its own.

    CI runs the app tests once on SQLite (the default: a file beside each warehouse) and once so.
    """
    admin = os.environ.get("WIJKRADAR_TEST_POSTGRES")
    if not admin:
        yield
        return
    import hashlib

    import sqlalchemy as sa

    import wijkradar.appdb
    import wijkradar.cli.common
    import wijkradar.cli.site
    import wijkradar.goals.exchange

    engine = sa.create_engine(
        admin.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    made: list[str] = []

    def url_for(warehouse: Path) -> str:
        name = "wr_" + hashlib.sha256(str(Path(warehouse).resolve()).encode()).hexdigest()[:16]
        if name not in made:
            with engine.connect() as connection:
                connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                connection.execute(sa.text(f"CREATE DATABASE {name}"))
            made.append(name)
        return admin.rsplit("/", 1)[0] + "/" + name

    with pytest.MonkeyPatch.context() as patch:
        for module in (wijkradar.appdb, wijkradar.goals.exchange, wijkradar.cli.common, wijkradar.cli.site):
            patch.setattr(module, "default_url", url_for)
        yield
    with engine.connect() as connection:
        for name in made:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    engine.dispose()


@contextmanager
def stores(db: Path) -> Iterator[tuple[Warehouse, AppDB]]:
    """Open a warehouse read-only with its operational store (goals, interventions, accounts)."""
    with Warehouse.open(db, read_only=True) as wh:
        own = own_store(wh)
        try:
            yield wh, own
        finally:
            own.close()


def data_dir() -> Path:
    """The staged open data: $WIJKRADAR_DATA or ../shared/data beside the checkout."""
    configured = os.environ.get("WIJKRADAR_DATA")
    path = Path(configured) if configured else REPO.parent / "shared" / "data"
    if not path.is_dir():
        pytest.fail(f"open data not found at {path}; set WIJKRADAR_DATA")
    return path


@pytest.fixture(scope="session")
def data() -> Path:
    return data_dir()


@pytest.fixture(scope="session")
def rivm(data: Path) -> Path:
    return data / "rivm-gezondheid-wijk-buurt"


@pytest.fixture(scope="session")
def full_db(tmp_path_factory: pytest.TempPathFactory, data: Path) -> Path:
    """A warehouse with all of ../shared/data ingested once for the whole session (read-only use)."""
    path = tmp_path_factory.mktemp("full") / "wijkradar.duckdb"
    with Warehouse.open(path) as wh:
        reports = ingest(wh, [data])
    failed = [r.message for r in reports if r.action == "failed"]
    assert not failed, failed
    return path


@pytest.fixture
def full_wh(full_db: Path) -> Iterator[Warehouse]:
    with Warehouse.open(full_db, read_only=True) as wh:
        yield wh


@pytest.fixture
def wh(tmp_path: Path) -> Iterator[Warehouse]:
    with Warehouse.open(tmp_path / "test.duckdb") as warehouse:
        yield warehouse


@pytest.fixture(scope="session")
def small_db(tmp_path_factory: pytest.TempPathFactory, data: Path) -> Path:
    """RIVM 2016 and 2020 for 42 gemeenten with Almere and Rotterdam (StatLine CSV), plus the Kerncijfers."""
    folder = tmp_path_factory.mktemp("small")
    rivm = data / "rivm-gezondheid-wijk-buurt"
    first = fastexcel.read_excel(str(rivm / "2020_65plus.xlsx")).load_sheet(0, dtypes="string").to_pandas()
    gemeenten = sorted(first["WijkenEnBuurten"].str.strip().str[2:6].unique())
    keep = set(gemeenten[1:80:2]) | {"0034", "0599"}
    for name in ("2016_65plus", "2020_65plus", "2016_18plus", "2020_18plus"):
        frame = fastexcel.read_excel(str(rivm / f"{name}.xlsx")).load_sheet(0, dtypes="string").to_pandas()
        code = frame["WijkenEnBuurten"].str.strip()
        frame = frame[(code == "NL01") | code.str[2:6].isin(keep)]
        with (folder / f"50090NED_{name}.csv").open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, delimiter=";", quoting=csv.QUOTE_ALL)
            writer.writerow(frame.columns)
            writer.writerows(frame.fillna("").itertuples(index=False))
    db = folder / "small.duckdb"
    with Warehouse.open(db) as wh:
        reports = ingest(wh, [folder, data / "cbs-kwb-buurten-2017", data / "cbs-kwb-gemeenten-2020"])
        assert all(r.action == "ingested" for r in reports), [r.message for r in reports]
    return db


def grid_geojson(codes: list[str], path: Path, *, origin: tuple[float, float] = (5.15, 52.33)) -> Path:
    """Small valid buurt polygons in a grid (WGS84), one per code, for the map path of the web app."""
    features = []
    side = 0.01
    for i, code in enumerate(sorted(codes)):
        x0 = origin[0] + (i % 8) * side
        y0 = origin[1] + (i // 8) * side
        ring = [[x0, y0], [x0 + side, y0], [x0 + side, y0 + side], [x0, y0 + side], [x0, y0]]
        features.append(
            {
                "type": "Feature",
                "properties": {"buurtcode": code, "buurtnaam": f"Testbuurt {i + 1}", "jaar": 2020},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def web_db(tmp_path_factory: pytest.TempPathFactory, small_db: Path) -> Path:
    """The forty-gemeente warehouse plus generated buurt boundaries for Almere and a trained model."""
    import shutil

    from wijkradar.models.train import train_model

    folder = tmp_path_factory.mktemp("web")
    db = folder / "web.duckdb"
    shutil.copy(small_db, db)
    with Warehouse.open(db) as wh:
        almere = wh.regions.table(level="buurt", gemeente_code="GM0034")["code"].tolist()
        report = ingest(wh, [grid_geojson(almere, folder / "almere_buurten_2020.geojson")])
        assert report[0].action == "ingested", report[0].message
        if wh.models.get("Eenzaam_28", "65+", "buurt") is None:
            train_model(wh, "Eenzaam_28", "65+", "buurt")
    return db


WIJKTEAM_STAD = ["BU00340211", "BU00340212", "BU00340202"]


def with_a_plan(web_db: Path, folder: Path) -> Path:
    """Copy the web warehouse into ``folder`` with Almere's plan: two goals and an intervention.

    The report and the browser's page checks read pages as they are used, with a budget and a
    long list of partners on them.
    """
    import shutil

    from wijkradar.goals import add_goal, add_intervention

    db = folder / "plan.duckdb"
    shutil.copy(web_db, db)
    goals = (
        {"title": "Minder eenzame 65-plussers in Almere", "target_value": 44},
        {"title": "Wijkteam Stad", "area": WIJKTEAM_STAD, "area_name": "Wijkteam Stad", "target_value": 45},
    )
    with stores(db) as (wh, own):
        ids = [
            add_goal(wh, own, "GM0034", {"theme": "eenzaamheid", "target_year": 2026, **g})["goal_id"]
            for g in goals
        ]
        intervention = {
            "title": "Buurtkamers voor ouderen",
            "theme": "eenzaamheid",
            "start": "2017-03-01",  # between the 2016 and 2020 rounds: its effect can be measured
            "area": WIJKTEAM_STAD,
            "budget": 120000,
            "partners": "Welzijnsorganisatie De Schoor, GGD Flevoland, bibliotheek",
            "goal_ids": ids,
        }
        add_intervention(wh, own, "GM0034", intervention)
    return db


def csv_rows(text: str) -> list[dict[str, str]]:
    """Read a CSV download as Excel in a Dutch locale does: byte order mark, ``;`` between cells."""
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))


def shown_estimate(db: Path, code: str) -> tuple[str, dict[str, Any]]:
    """Return the lines of `show CODE` with the theme's model estimate, and the estimate in JSON."""
    shown = CliRunner().invoke(app, ["show", code, "--db", str(db)])
    assert shown.exit_code == 0, shown.output
    assert "het meest bepaalt" in shown.stdout
    assert max(len(line.rstrip()) for line in shown.stdout.splitlines()[1:]) <= 100
    as_json = json.loads(CliRunner().invoke(app, ["show", code, "--format", "json", "--db", str(db)]).stdout)
    estimate = as_json["estimates"][0]
    lines = [line.rstrip() for line in shown.stdout.splitlines()]
    first = next(i for i, line in enumerate(lines) if estimate["label"] in line)
    block = lines[first : lines.index("", first) if "" in lines[first:] else None]
    return "\n".join(block), estimate

"""Shared fixtures: the real open data in ../shared/data and warehouses built from it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from wijkradar.ingest import ingest
from wijkradar.warehouse import Warehouse

REPO = Path(__file__).resolve().parents[1]


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

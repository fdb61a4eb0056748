"""Boundaries from GeoJSON and GeoPackage, transformed to WGS84."""

from __future__ import annotations

from pathlib import Path

import pytest
import shapely

from wijkradar.sources import geo
from wijkradar.sources.model import Dataset


def _bounds(ds: Dataset) -> tuple[float, float, float, float]:
    assert ds.geometries is not None
    geoms = shapely.from_wkb(ds.geometries["wkb"].to_numpy())
    minx, miny, maxx, maxy = (float(v) for v in shapely.total_bounds(geoms))
    return minx, miny, maxx, maxy


@pytest.mark.parametrize(
    ("name", "count", "year", "first_code"),
    [
        ("rotterdam_buurten.geojson", 92, 0, "BU05990110"),
        ("baarn_buurten.geojson", 21, 2024, "BU03080000"),
        ("ermelo_buurten.gpkg", 17, 2021, "BU02330000"),
        ("amsterdam_buurten_2022.geojson", 518, 2022, "BU0363AA01"),
    ],
)
def test_buurt_boundaries(data: Path, name: str, count: int, year: int, first_code: str) -> None:
    ds = geo.read_file(data / "boundaries" / name)
    assert ds.geometries is not None and len(ds.geometries) == count
    assert ds.meta.boundary_year == year
    assert first_code in set(ds.regions.code)
    minx, miny, maxx, maxy = _bounds(ds)
    assert 3.0 < minx < maxx < 7.5 and 50.5 < miny < maxy < 53.8  # the Netherlands in WGS84


def test_rd_new_geopackage_is_transformed(data: Path) -> None:
    ds = geo.read_file(data / "boundaries" / "ermelo_buurten.gpkg")
    minx, miny, _, _ = _bounds(ds)
    assert 5.4 < minx < 5.8 and 52.2 < miny < 52.4  # Ermelo, not RD metres


def test_gemeente_boundaries_with_names(data: Path) -> None:
    ds = geo.read_file(data / "cbs-kwb-gemeenten-2020" / "gemeenten_2020.geojson")
    assert len(ds.regions) == 355 and ds.meta.boundary_year == 2020
    assert ds.regions.set_index("code").loc["GM0034", "name"] == "Almere"

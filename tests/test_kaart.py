"""Boundaries from PDOK (loopback server), GeoPackage layers, the kaart's DBF and name lists."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely
from typer.testing import CliRunner

from pdok_fixtures import kaart_features, serve_pdok
from wijkradar.cli import app
from wijkradar.ingest import ingest, ingest_path
from wijkradar.sources import geo
from wijkradar.sources.download import Client
from wijkradar.sources.pdok import download_kaart
from wijkradar.warehouse import Warehouse

runner = CliRunner()


@pytest.fixture(scope="module")
def kaart(data: Path):  # type: ignore[no-untyped-def]
    return kaart_features(data)


def test_download_kaart_pages_retries_filters_and_ingests(kaart, tmp_path: Path, wh: Warehouse) -> None:  # type: ignore[no-untyped-def]
    baarn = [f for f in kaart["buurten"] if f["properties"]["gemeentecode"] == "GM0308"]
    with serve_pdok(kaart, page_size=8, failures=1) as server:
        result = download_kaart(
            2024,
            tmp_path,
            levels=["wijk", "buurt"],
            gemeenten=["GM0308"],
            base_url=server.base,
            client=Client(backoff=0.01),
        )
        requests = list(server.requests)
    assert requests[0] == requests[1]  # the 503 was retried
    buurt_pages = [r for r in requests if "/buurten/items" in r]
    assert len(buurt_pages) == -(-len(baarn) // 8) >= 3  # paged by the next links
    assert all("gemeentecode=GM0308" in r for r in buurt_pages)
    assert not list(tmp_path.glob(".*partial"))
    reports = ingest(wh, result.files)
    assert [r.action for r in reports] == ["ingested", "ingested"], [r.message for r in reports]
    buurten = wh.regions.table(level="buurt", gemeente_code="GM0308", year=2024)
    assert len(buurten) == len(baarn) and buurten["name"].notna().all()  # Ermelo filtered out
    assert buurten.set_index("code").loc["BU03080000", "label"] == "Centrum (BU03080000)"
    wijken = wh.regions.table(level="wijk", gemeente_code="GM0308", year=2024)
    assert len(wijken) > 0 and wijken["name"].notna().all()
    figures = wh.observations.figures("BU03080000")
    inhabitants = figures.query("measure == 'a_inw' and period == '2024'")
    assert inhabitants["value"].tolist() == [1825.0] and inhabitants["boundary_year"].tolist() == [2024]
    assert wh.boundaries.of_year(2024, "BU")["region_code"].str.startswith("BU0308").all()


def test_download_kaart_falls_back_to_the_historical_collection(kaart, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with serve_pdok(kaart) as server:
        result = download_kaart(2016, tmp_path, levels=["buurt"], gemeenten=["GM0233"], base_url=server.base)
        requests = list(server.requests)
    assert any("wijken-en-buurten-historisch" in r and "buurten_2016/items" in r for r in requests)
    collection = json.loads(result.files[0].read_text(encoding="utf-8"))
    assert {f["properties"]["gemeentecode"] for f in collection["features"]} == {"GM0233"}


def test_download_kaart_cli(kaart, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "w.duckdb"
    with serve_pdok(kaart) as server:
        result = runner.invoke(
            app,
            [
                "download-kaart",
                "--jaar",
                "2024",
                "--gemeente",
                "GM0233",
                "--niveau",
                "buurt",
                "--base-url",
                server.base,
                "--out",
                str(tmp_path / "dl"),
                "--db",
                str(db),
                "--format",
                "json",
                "--quiet",
            ],
        )
    assert result.exit_code == 0, result.output
    reports = json.loads(result.stdout)
    assert reports[0]["action"] == "ingested" and reports[0]["geometries"] == 17
    # the buurten alone name their gemeente: it is known by code and name on an empty warehouse
    listed = runner.invoke(
        app, ["regions", "--gemeente", "GM0233", "--level", "buurt", "--db", str(db), "--format", "json"]
    )
    assert listed.exit_code == 0, listed.output
    assert len(json.loads(listed.stdout)) == 17
    named = runner.invoke(app, ["regions", "--gemeente", "Ermelo", "--level", "gemeente", "--db", str(db)])
    assert named.exit_code == 0 and "GM0233" in named.output, named.output
    bad = runner.invoke(app, ["download-kaart", "--jaar", "2024", "--niveau", "straat", "--db", str(db)])
    assert bad.exit_code == 2 and "straat" in bad.output
    by_name = runner.invoke(
        app,
        [
            "download-kaart",
            "--jaar",
            "2024",
            "--gemeente",
            "Ermelo",
            "--db",
            str(tmp_path / "nog-niet.duckdb"),
        ],
    )
    assert by_name.exit_code == 1 and "--gemeente GM0034" in by_name.output


def _square(x: float, y: float, side: float = 0.01) -> bytes:
    return shapely.to_wkb(shapely.box(x, y, x + side, y + side))  # type: ignore[no-any-return]


def test_a_geopackage_with_two_layers_ingests_both(tmp_path: Path, wh: Warehouse) -> None:
    path = tmp_path / "wijkbuurtkaart_2020.gpkg"
    layers = {
        "gemeenten": (["GM0001"], ["Testgemeente"], [_square(5.0, 52.0, 0.02)]),
        "buurten": (
            ["BU00010001", "BU00010002"],
            ["Noord", "Zuid"],
            [_square(5.0, 52.0), _square(5.01, 52.0)],
        ),
    }
    for layer, (codes, names, shapes) in layers.items():
        pyogrio.raw.write(
            str(path),
            np.asarray(shapes, dtype=object),
            [np.asarray(codes, dtype=object), np.asarray(names, dtype=object)],
            ["statcode", "statnaam"],
            layer=layer,
            driver="GPKG",
            geometry_type="Polygon",
            crs="EPSG:4326",
            append=path.exists(),
        )
    ds = geo.read_file(path)
    assert sorted(ds.regions["level"].unique()) == ["buurt", "gemeente"] and len(ds.geometries) == 3  # type: ignore[arg-type]
    only = geo.read_file(path, layer="buurten")
    assert set(only.regions["code"]) == {"BU00010001", "BU00010002"}
    report = ingest_path(wh, path)
    assert report.action == "ingested" and report.geometries == 3
    assert wh.regions.table(year=2020).set_index("code").loc["GM0001", "label"] == "Testgemeente (GM0001)"


def test_the_kaart_dbf_reads_like_other_kerncijfers(data: Path, wh: Warehouse) -> None:
    report = ingest_path(wh, data / "cbs-kwb-wijken-2017" / "wijk_2017.dbf")
    assert report.action == "ingested" and report.table_id == "83765NED" and report.periods == ["2017"]
    wijken = wh.regions.table(level="wijk", year=2017)
    assert len(wijken) == 3159 and wijken.set_index("code").loc["WK003401", "name"] == "Wijk 01 Almere Haven"
    figures = wh.observations.figures("WK003401")
    assert {"a_inw", "p_65_eo_jr", "p_eenp_hh", "bev_dich"} <= set(figures["measure"])
    assert (figures["boundary_year"] == 2017).all()


def test_ingest_one_layer_of_a_geopackage_from_the_cli(tmp_path: Path) -> None:
    path = tmp_path / "wijkbuurtkaart_2020.gpkg"
    for layer, code in (("gemeenten", "GM0001"), ("buurten", "BU00010001")):
        pyogrio.raw.write(
            str(path),
            np.asarray([_square(5.0, 52.0)], dtype=object),
            [np.asarray([code], dtype=object)],
            ["statcode"],
            layer=layer,
            driver="GPKG",
            geometry_type="Polygon",
            crs="EPSG:4326",
            append=path.exists(),
        )
    db = tmp_path / "w.duckdb"
    result = runner.invoke(
        app, ["ingest", str(path), "--laag", "buurten", "--db", str(db), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["geometries"] == 1
    wrong = runner.invoke(app, ["ingest", str(path), "--laag", "wijken", "--db", str(tmp_path / "x.duckdb")])
    assert "laag 'wijken' bestaat niet" in wrong.output and "buurten" in wrong.output


def test_the_kaart_gemeente_table_with_water_rows(tmp_path: Path, wh: Warehouse) -> None:
    """gem_YYYY.dbf gives many gemeenten a land row and a water row (all sentinels) under one code."""
    path = tmp_path / "gem_2020.dbf"
    texts = {
        "GM_CODE": ["GM0034", "GM0034", "GM0308", "GM0363", "GM0363"],
        "GM_NAAM": ["Almere", "Almere", "Baarn", "Amsterdam", "Amsterdam"],
        "WATER": ["NEE", "JA", "NEE", "JA", "NEE"],
    }
    residents = np.asarray([214_715, -99_999_999, 24_630, -99_999_999, 872_757], dtype=np.int64)
    pyogrio.raw.write(
        str(path),
        None,
        [*(np.asarray(v, dtype=object) for v in texts.values()), residents],
        [*texts, "AANT_INW"],
        driver="ESRI Shapefile",
        geometry_type=None,
    )
    report = ingest_path(wh, path)
    assert report.action == "ingested", report.message
    assert report.regions == 3 and "2 waterdelen" in report.message
    found = {
        c: wh.observations.figures(c).set_index("measure").loc["a_inw", "value"] for c in ("GM0034", "GM0363")
    }
    assert found == {"GM0034": 214_715, "GM0363": 872_757}

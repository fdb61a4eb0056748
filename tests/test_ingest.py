"""Ingesting into the warehouse: the acceptance figures, idempotence, replacement, bad input."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from refusal import assert_refused
from wijkradar.errors import UnknownFormatError
from wijkradar.ingest import discover, ingest, ingest_path
from wijkradar.query import list_regions, region_profile
from wijkradar.warehouse import Warehouse
from wijkradar.warehouse.observations import Observations


def test_everything_in_shared_data_loads(full_wh: Warehouse, data: Path) -> None:
    # every file found is one source (the folder grows: nothing here counts its files)
    sources = full_wh.sources.table()
    files = discover([data])
    assert len(sources) == len(files) and files
    assert {Path(loc).name for loc in sources["location"]} == {f.name for f in files}
    counts = full_wh.table_counts()
    assert counts["observations"] > 2_500_000 and counts["crosswalks"] > 0
    # every boundary feature of every boundary file is stored
    import pyogrio

    features = sum(
        pyogrio.read_info(str(f), layer=name)["features"]
        for f in files
        if f.suffix in (".geojson", ".gpkg")
        for name, kind in pyogrio.list_layers(str(f))
        if kind is not None
    )
    assert counts["geometries"] == features


def test_almere_profile_has_loneliness_and_population(full_wh: Warehouse) -> None:
    profile = region_profile(full_wh, "GM0034")
    assert profile["name"] == "Almere" and profile["level"] == "gemeente"
    assert profile["parents"] == [{"code": "NL01", "name": "Nederland", "label": "Nederland (NL01)"}]
    figures = pd.DataFrame(profile["figures"])
    lonely = figures[(figures.measure == "Eenzaam_28") & (figures.group == "65+")].set_index("period")
    assert lonely.loc["2020", "value"] == 48.2 and lonely.loc["2016", "value"] == 47.3
    assert set(lonely.source) == {"50090NED"}
    population = figures[(figures.measure == "a_inw") & (figures.period == "2020")].iloc[0]
    assert population["value"] == 211893 and population["source"] == "84799NED"
    assert population["label"] == "Aantal inwoners"


def test_names_resolve_like_codes(full_wh: Warehouse) -> None:
    assert region_profile(full_wh, "almere")["code"] == "GM0034"
    assert region_profile(full_wh, "BU00340101", period="2020")["parents"][-1]["code"] == "WK003401"


def test_almere_buurten(full_wh: Warehouse) -> None:
    buurten = list_regions(full_wh, gemeente="GM0034", level="buurt")
    assert len(buurten) == 67  # RIVM 2020 lists 67 buurten for Almere
    assert buurten.code.str.startswith("BU0034").all()


def test_ingesting_twice_changes_nothing(full_db: Path, data: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.duckdb"
    shutil.copy(full_db, copy)
    with Warehouse.open(copy) as wh:
        before = wh.table_counts()
        reports = ingest(wh, [data])
        assert {r.action for r in reports} == {"unchanged"}
        assert wh.table_counts() == before


def test_newer_version_replaces_older(wh: Warehouse, data: Path, tmp_path: Path) -> None:
    original = data / "cbs-kwb-buurten-2017" / "kwb2017_buurten.csv"
    first = ingest_path(wh, original)
    assert first.action == "ingested"
    corrected = tmp_path / "cbs-kwb-buurten-2017" / "kwb2017_buurten.csv"
    corrected.parent.mkdir()
    frame = pd.read_csv(original, dtype=str)
    frame.loc[0, "AantalInwoners_5"] = "2400"
    frame.to_csv(corrected, index=False)
    second = ingest_path(wh, corrected)
    assert second.action == "replaced" and "vervangt" in second.message
    assert len(wh.sources.table()) == 1
    figures = wh.observations.figures("BU00030000")
    assert figures.query("measure == 'a_inw'")["value"].tolist() == [2400.0]
    assert wh.table_counts()["observations"] == first.observations


# -- bad input: a clear message naming file, row, column; the warehouse unchanged ------------------


def _kwb_lines(data: Path, n: int = 6) -> list[str]:
    return (
        (data / "cbs-kwb-buurten-2017" / "kwb2017_buurten.csv").read_text(encoding="utf-8").splitlines()[:n]
    )


@pytest.fixture
def seeded(wh: Warehouse, data: Path) -> Warehouse:
    ingest_path(wh, data / "cbs-kwb-gemeenten-2020" / "kwb2020_gemeenten.csv")
    return wh


def test_unknown_format(seeded: Warehouse, tmp_path: Path) -> None:
    path = tmp_path / "notities.docx"
    path.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(UnknownFormatError):
        ingest_path(seeded, path)
    other = tmp_path / "tabel.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    assert_refused(seeded, other, "onbekende tabelindeling", "a, b")


def test_missing_column(seeded: Warehouse, tmp_path: Path) -> None:
    path = tmp_path / "50090NED_2020.csv"
    path.write_text(
        "ID;Leeftijd;Marges;Buurt;Perioden;Eenzaam_28\n1;80200;MW00000;GM0034;2020JJ00;48.2\n",
        encoding="utf-8",
    )
    assert_refused(seeded, path, "'WijkenEnBuurten' niet gevonden", "Buurt")
    renamed = tmp_path / "50090NED_renamed.csv"
    renamed.write_text(
        "ID;Leeftijd;Marges;WijkenEnBuurten;Jaar;Eenzaam_28\n1;80200;MW00000;GM0034;2020;48.2\n",
        encoding="utf-8",
    )
    assert_refused(seeded, renamed, "'Perioden' niet gevonden", "Jaar")


def test_invalid_region_code(seeded: Warehouse, data: Path, tmp_path: Path) -> None:
    lines = _kwb_lines(data)
    lines[3] = lines[3].replace("BU00030002", "BU0003002", 1)
    path = tmp_path / "kwb2017_buurten.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert_refused(seeded, path, "ongeldige CBS-regiocode", "rij 4", "'WijkenEnBuurten'", "'BU0003002'")


def test_text_in_numeric_cell(seeded: Warehouse, data: Path, tmp_path: Path) -> None:
    lines = _kwb_lines(data)
    lines[5] = lines[5].replace(",7780,", ",veel,", 1)
    path = tmp_path / "kwb2017_buurten.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert_refused(seeded, path, "tekst in een kolom met getallen", "rij 6", "'AantalInwoners_5'", "'veel'")


def test_empty_file(seeded: Warehouse, tmp_path: Path) -> None:
    path = tmp_path / "kwb2020.csv"
    path.write_bytes(b"")
    assert_refused(seeded, path, "leeg")


def test_truncated_csv(seeded: Warehouse, data: Path, tmp_path: Path) -> None:
    text = "\n".join(_kwb_lines(data, 50))
    path = tmp_path / "kwb2017_buurten.csv"
    path.write_text(text[: len(text) - 25], encoding="utf-8")
    assert_refused(seeded, path, "afgebroken", "rij 50")


def test_truncated_xlsx(seeded: Warehouse, rivm: Path, tmp_path: Path) -> None:
    path = tmp_path / "2020_65plus.xlsx"
    raw = (rivm / "2020_65plus.xlsx").read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    assert_refused(seeded, path, "Excel")


def test_folder_with_a_bad_file_reports_it_and_loads_the_rest(
    wh: Warehouse, data: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(data / "cbs-kwb-gemeenten-2020" / "kwb2020_gemeenten.csv", folder / "kwb2020_gemeenten.csv")
    (folder / "kwb2019_kapot.csv").write_text(
        "WijkenEnBuurten,AantalInwoners_5\nGM0034,x\nGM0036,12,3\n", encoding="utf-8"
    )
    (folder / "LEESMIJ.md").write_text("geen data", encoding="utf-8")
    reports = {Path(r.path).name: r for r in ingest(wh, [folder])}
    assert set(reports) == {"kwb2020_gemeenten.csv", "kwb2019_kapot.csv"}
    assert reports["kwb2020_gemeenten.csv"].action == "ingested"
    assert reports["kwb2019_kapot.csv"].action == "failed"
    assert len(wh.sources.table()) == 1


def test_an_ingest_defers_checkpoints_and_restores_the_setting(
    wh: Warehouse, data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """During an ingest the log is not folded into the file per 16 MB; afterwards it is again."""

    def threshold() -> str:
        return str(wh.con.execute("SELECT current_setting('checkpoint_threshold')").fetchall()[0][0])

    before = threshold()
    seen: list[str] = []
    real_insert = Observations.insert

    def watching(self: Observations, *args: object, **kwargs: object) -> None:
        seen.append(threshold())
        real_insert(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Observations, "insert", watching)
    folder = data / "cbs-kwb-gemeenten-2020"
    assert [r.action for r in ingest(wh, [folder / "kwb2020_gemeenten.csv"])] == ["ingested"]
    assert seen and all(s != before for s in seen)
    assert threshold() == before


def test_crash_midway_leaves_warehouse_as_it_was(
    seeded: Warehouse, data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = seeded.table_counts()

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError("schijf vol")

    monkeypatch.setattr(Observations, "insert", boom)
    with pytest.raises(OSError, match="schijf vol"):
        ingest_path(seeded, data / "cbs-kwb-buurten-2017" / "kwb2017_buurten.csv")
    assert seeded.table_counts() == before


def test_killed_process_leaves_warehouse_as_it_was(tmp_path: Path, data: Path) -> None:
    """A process that dies half-way through an ingest (no rollback, no close) loses only that ingest."""
    db = tmp_path / "kill.duckdb"
    with Warehouse.open(db) as wh:
        ingest_path(wh, data / "cbs-kwb-gemeenten-2020" / "kwb2020_gemeenten.csv")
        before = wh.table_counts()
    script = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from wijkradar.ingest import ingest_path
        from wijkradar.warehouse import Warehouse
        from wijkradar.warehouse.observations import Observations
        def die(*a, **k):
            os._exit(9)
        wh = Warehouse.open(Path({str(db)!r}))
        original = Observations.insert
        def insert_then_die(self, *a, **k):
            original(self, *a, **k)
            die()
        Observations.insert = insert_then_die
        ingest_path(wh, Path({str(data / "cbs-kwb-buurten-2017" / "kwb2017_buurten.csv")!r}))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True)
    assert result.returncode == 9, result.stderr.decode()
    with Warehouse.open(db) as wh:
        assert wh.table_counts() == before


def test_the_same_file_twice_in_one_batch_is_read_once(data: Path, tmp_path: Path, wh: Warehouse) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    source = data / "cbs-monitor-sociaal-domein" / "83620NED.csv"
    (folder / "a_83620NED.csv").write_bytes(source.read_bytes())
    (folder / "b_83620NED_kopie.csv").write_bytes(source.read_bytes())
    (folder / "c_83818NED.csv").write_bytes(
        (data / "cbs-monitor-sociaal-domein" / "83818NED.csv").read_bytes()
    )
    first, copy, later = ingest(wh, [folder])
    assert first.action == "ingested" and later.action == "ingested"  # the files after it are read too
    assert copy.action == "unchanged" and copy.table_id == "83620NED"
    assert "a_83620NED.csv" in copy.message and "al ingelezen" in copy.message

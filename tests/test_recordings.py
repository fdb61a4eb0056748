"""Conformance: the downloader and readers against real recorded answers of the CBS API.

The recordings (../shared/recordings, see its README) are served on a loopback server at the paths
the live service answers them on. What rests on recordings: the v3 answers of 80137ned, the v4
answers of 80072ned, and the metadata (DataProperties, TableInfos) of 85984NED. What rests on
documentation: the v3 envelope around 85984NED's metadata, its WijkenEnBuurten code list and its
TypedDataSet page (values chosen here, with the real keys and data types), and cbsodata's saved data
file (a bare list with titles for the dimension's codes, as that client writes it).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from recordings import recordings_dir, serve_recordings, v3_envelope
from wijkradar.cli import app
from wijkradar.errors import DownloadError
from wijkradar.ingest import ingest
from wijkradar.sources.download import Client, download_table
from wijkradar.warehouse import Warehouse

runner = CliRunner()
KWB_2024 = "85984NED"
# The regions of the built 85984NED page: code, title (as the code list names them), kind.
REGIONS = (
    ("NL01", "Nederland", "Land"),
    ("GM0308", "Baarn", "Gemeente"),
    ("WK030800", "Wijk 00 Baarn", "Wijk"),
    ("BU03080000", "Centrum", "Buurt"),
    ("BU03080001", "Centrum", "Buurt"),  # a title two buurten share, as CBS's titles do
)
RESIDENTS = {
    "NL01": 17_942_942,
    "GM0308": 25_210,
    "WK030800": 12_400,
    "BU03080000": 3_105,
    "BU03080001": None,
}
OLDER = {"NL01": 3_620_000, "GM0308": 6_700, "WK030800": 3_350, "BU03080000": 880, "BU03080001": None}


@pytest.fixture(scope="module")
def recorded(data: Path) -> Path:
    root = recordings_dir(data)
    if not root.is_dir():
        pytest.fail(f"recordings not found at {root}; set WIJKRADAR_RECORDINGS")
    return root


def _properties(recorded: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(
        (recorded / "cbsodata-folder" / KWB_2024 / "DataProperties.json").read_text(encoding="utf-8")
    )
    return rows


def _value(prop: dict[str, Any], code: str, position: int) -> Any:
    """A value of our choosing in the topic's real data type (Long: whole numbers)."""
    if prop["Key"] == "AantalInwoners_5":
        return RESIDENTS[code]
    if prop["Key"] == "k_65JaarOfOuder_12":
        return OLDER[code]
    if code == "BU03080001":
        return None  # an empty cell: not published
    number = (position * 7 + len(code)) % 97
    return number if prop["Datatype"] == "Long" else number / 10


def _rows(recorded: Path, *, titles: bool) -> list[dict[str, Any]]:
    """The data rows of 85984NED: the API's keys (codes), or cbsodata's (titles in the dimension)."""
    topics = [p for p in _properties(recorded) if p["Type"] == "Topic"]
    rows = []
    for i, (code, title, kind) in enumerate(REGIONS):
        row: dict[str, Any] = {"ID": i, "WijkenEnBuurten": title if titles else f"{code:<10}"}
        for position, prop in enumerate(topics):
            if prop["Datatype"] == "String":
                row[prop["Key"]] = {
                    "Gemeentenaam_1": "Baarn" if code != "NL01" else "",
                    "SoortRegio_2": kind,
                    "Codering_3": f"{code:<10}",
                    "IndelingswijzigingGemeenteWijkBuurt_4": "1",
                }.get(prop["Key"], "")
            else:
                row[prop["Key"]] = _value(prop, code, position)
        rows.append(row)
    return rows


def _code_list() -> list[dict[str, Any]]:
    return [
        {"Key": f"{code:<10}", "Title": title, "Description": None, "CategoryGroupID": None}
        for code, title, _ in REGIONS
    ]


def _kwb_endpoints(recorded: Path, base: str) -> dict[str, Any]:
    folder = recorded / "cbsodata-folder" / KWB_2024
    prefix = f"/ODataFeed/odata/{KWB_2024}"
    infos = json.loads((folder / "TableInfos.json").read_text(encoding="utf-8"))
    return {
        f"{prefix}/TableInfos": v3_envelope(KWB_2024, "TableInfos", infos, base),
        f"{prefix}/DataProperties": v3_envelope(KWB_2024, "DataProperties", _properties(recorded), base),
        f"{prefix}/WijkenEnBuurten": v3_envelope(KWB_2024, "WijkenEnBuurten", _code_list(), base),
        f"{prefix}/TypedDataSet": v3_envelope(KWB_2024, "TypedDataSet", _rows(recorded, titles=False), base),
    }


def _figure(wh: Warehouse, code: str, measure: str) -> dict[str, Any]:
    found = wh.observations.figures(code)
    rows = found[found["measure"] == measure]
    assert len(rows) == 1, (code, measure, rows)
    return dict(rows.iloc[0])


def test_v3_national_table_is_refused_before_its_data(recorded: Path, tmp_path: Path) -> None:
    with serve_recordings(recorded) as server:
        with pytest.raises(DownloadError, match="geen regio-indeling") as refused:
            download_table(
                "80137ned", tmp_path, base_url=f"{server.base}/ODataFeed/odata", client=Client(retries=0)
            )
    assert "Persoonskenmerken" in str(refused.value) and "BedrijfstakkenSBI93" in str(refused.value)
    assert server.fetched("DataProperties") and server.fetched("Persoonskenmerken")
    assert not server.fetched("TypedDataSet") and not server.fetched("UntypedDataSet")
    assert not list(tmp_path.iterdir())  # nothing left behind, not even a partial folder


def test_v4_national_table_is_refused_before_its_data(recorded: Path, tmp_path: Path) -> None:
    with serve_recordings(recorded) as server:
        with pytest.raises(DownloadError, match="geen regio-indeling") as refused:
            download_table(
                "80072ned", tmp_path, base_url=f"{server.base}/CBS", api="v4", client=Client(retries=0)
            )
    assert "BedrijfskenmerkenSBI2008" in str(refused.value)
    assert server.fetched("MeasureCodes") and server.fetched("PeriodenCodes")
    assert not server.fetched("Observations")


def test_cli_refusal_is_dutch_and_names_the_table(recorded: Path, tmp_path: Path) -> None:
    with serve_recordings(recorded) as server:
        result = runner.invoke(
            app,
            [
                "download",
                "80137ned",
                "--base-url",
                f"{server.base}/ODataFeed/odata",
                "--out",
                str(tmp_path / "downloads"),
                "--db",
                str(tmp_path / "w.duckdb"),
                "--quiet",
            ],
        )
    assert result.exit_code != 0, result.output
    assert "80137ned" in result.output and "geen regio-indeling" in result.output
    assert "Traceback" not in result.output
    assert not server.fetched("TypedDataSet")


def test_kwb_2024_lands_on_short_ids_for_2024(recorded: Path, tmp_path: Path, wh: Warehouse) -> None:
    with serve_recordings(recorded) as server:
        server.extra.update(_kwb_endpoints(recorded, server.base))
        result = download_table(KWB_2024, tmp_path, base_url=f"{server.base}/ODataFeed/odata")
    assert result.rows == len(REGIONS)
    report = ingest(wh, [result.folder])[0]
    assert report.action == "ingested", report.message
    assert report.periods == ["2024"] and "TableInfos" in report.message
    residents = _figure(wh, "GM0308", "a_inw")
    assert residents["value"] == RESIDENTS["GM0308"] and residents["period"] == "2024"
    assert _figure(wh, "BU03080000", "a_65_oo")["value"] == OLDER["BU03080000"]
    assert _figure(wh, "BU03080001", "a_inw")["status"] == "missing"
    years = wh.sources.table().set_index("table_id")["boundary_year"]
    assert int(str(years[KWB_2024])) == 2024  # the GeoDetail's MapYear
    measures = set(wh.observations.measures()["measure_id"])
    # string topics are region attributes, never measures; a recurring stem keeps both topics
    assert (
        not {"Gemeentenaam_1", "SoortRegio_2", "Codering_3", "IndelingswijzigingGemeenteWijkBuurt_4"}
        & measures
    )
    assert {"Nederland", "Nederland_2", "a_inw", "a_65_oo"} <= measures
    names = wh.regions.table(year=2024).set_index("code")["name"]
    assert names["GM0308"] == "Baarn" and names["BU03080001"] == "Centrum"


def test_kwb_2024_filter_on_the_region_dimension(recorded: Path, tmp_path: Path) -> None:
    with serve_recordings(recorded) as server:
        server.extra.update(_kwb_endpoints(recorded, server.base))
        download_table(KWB_2024, tmp_path, base_url=f"{server.base}/ODataFeed/odata", gemeenten=["GM0308"])
    asked = server.fetched("TypedDataSet")[0]
    assert "startswith(WijkenEnBuurten,'GM0308')" in asked and "startswith(WijkenEnBuurten,'BU0308')" in asked


def test_cbsodata_folder_ingests_onto_the_same_measures(
    recorded: Path, tmp_path: Path, wh: Warehouse
) -> None:
    folder = tmp_path / KWB_2024
    shutil.copytree(recorded / "cbsodata-folder" / KWB_2024, folder)
    # cbsodata writes the data and the code list as bare lists, the dimension as titles
    (folder / "TypedDataSet.json").write_text(json.dumps(_rows(recorded, titles=True)), encoding="utf-8")
    (folder / "WijkenEnBuurten.json").write_text(json.dumps(_code_list()), encoding="utf-8")
    report = ingest(wh, [folder])[0]
    assert report.action == "ingested", report.message
    assert _figure(wh, "GM0308", "a_inw")["value"] == RESIDENTS["GM0308"]
    assert (
        _figure(wh, "BU03080001", "a_inw")["status"] == "missing"
    )  # its title is shared: code from Codering
    assert wh.sources.table().set_index("table_id").loc[KWB_2024, "format"] == "cbsodata"


def test_recorded_national_folder_says_why_it_cannot_be_read(
    recorded: Path, tmp_path: Path, wh: Warehouse
) -> None:
    folder = tmp_path / "80137ned"
    shutil.copytree(recorded / "cbs-odata-v3" / "80137ned", folder)
    report = ingest(wh, [folder])[0]
    assert report.action == "failed"
    assert "geen regio-indeling" in report.message
    dimensions = report.message.split("dimensies: ")[1].split(".")[0]
    assert set(dimensions.split(", ")) == {"Persoonskenmerken", "BedrijfstakkenSBI93", "Perioden"}

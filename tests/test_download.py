"""The downloader against a loopback server that answers in the CBS OData API's shapes."""

from __future__ import annotations

from pathlib import Path

import pytest

from odata_fixtures import rivm_subset, serve
from wijkradar.errors import DownloadError
from wijkradar.ingest import ingest
from wijkradar.sources.download import Client, download_table
from wijkradar.warehouse import Warehouse


@pytest.fixture(scope="module")
def almere(rivm: Path):  # type: ignore[no-untyped-def]
    return rivm_subset(rivm / "2020_65plus.xlsx")


def test_v3_download_pages_retries_and_ingests(almere, tmp_path: Path, wh: Warehouse) -> None:  # type: ignore[no-untyped-def]
    progress: list[tuple[int, int | None]] = []
    with serve(almere, page_size=25, failures=2) as server:
        result = download_table(
            "50090NED",
            tmp_path / "downloads",
            base_url=f"{server.base}/v3",
            client=Client(backoff=0.01),
            on_progress=lambda what, rows, total: progress.append((rows, total)),
        )
        requests = list(server.requests)
    assert result.rows == len(almere) and result.pages == -(-len(almere) // 25)
    assert all("/TableInfos" in r for r in requests[:3])  # two 503s, then success
    assert progress[-1] == (len(almere), len(almere))
    assert sorted(p.name for p in result.folder.glob("TypedDataSet-*.json"))[0] == "TypedDataSet-0001.json"
    assert not list((tmp_path / "downloads").glob(".*partial"))
    reports = ingest(wh, [result.folder])
    assert reports[0].action == "ingested" and reports[0].table_id == "50090NED"
    figures = wh.observations.figures("GM0034")
    assert figures.query("measure == 'Eenzaam_28'")["value"].tolist() == [48.2]
    assert wh.regions.table().set_index("code").loc["GM0034", "name"] == "Almere"


def test_v3_filter_is_passed_on(almere, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with serve(almere, page_size=1000) as server:
        result = download_table(
            "50090NED",
            tmp_path,
            base_url=f"{server.base}/v3",
            odata_filter="startswith(WijkenEnBuurten,'WK0034')",
        )
    assert 0 < result.rows < len(almere)


def test_v4_download_and_ingest(almere, tmp_path: Path, wh: Warehouse) -> None:  # type: ignore[no-untyped-def]
    with serve(almere, page_size=1500) as server:
        result = download_table("50090NED", tmp_path, base_url=f"{server.base}/v4", api="v4")
    assert result.pages > 1
    reports = ingest(wh, [result.folder])
    assert reports[0].action == "ingested", reports[0].message
    figures = wh.observations.figures("GM0034")
    assert figures.query("label == 'Eenzaam'")["value"].tolist() == [48.2]


def test_unknown_table_is_a_clear_error(almere, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with serve(almere) as server, pytest.raises(DownloadError, match=r"404.*tabelnummer"):
        download_table("99999XYZ", tmp_path, base_url=f"{server.base}/v3")
    assert not any(tmp_path.iterdir())


def test_server_that_keeps_failing_gives_up(almere, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with serve(almere, failures=100) as server, pytest.raises(DownloadError, match="3 pogingen"):
        download_table(
            "50090NED", tmp_path, base_url=f"{server.base}/v3", client=Client(retries=2, backoff=0.01)
        )
    assert not any(tmp_path.iterdir())

"""OData JSON downloads (v3 typed and untyped, v4 observations) read to the same values as the xlsx."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from odata_fixtures import rivm_subset, with_margins, write_v3_bundle, write_v4_bundle
from wijkradar.errors import InputError
from wijkradar.ingest import read_any
from wijkradar.sources import odata, statline


@pytest.fixture(scope="module")
def almere(rivm: Path):  # type: ignore[no-untyped-def]
    return rivm_subset(rivm / "2020_65plus.xlsx")


@pytest.mark.parametrize("typed", [True, False])
def test_v3_bundle_matches_xlsx(almere, rivm: Path, tmp_path: Path, typed: bool) -> None:  # type: ignore[no-untyped-def]
    folder = write_v3_bundle(almere, tmp_path / "50090NED", typed=typed, page_size=40)
    assert odata.is_bundle(folder)
    ds = odata.read_bundle(folder)
    assert ds.meta.table_id == "50090NED" and ds.meta.publisher == "RIVM"
    assert ds.meta.format == ("odata-v3-typed" if typed else "odata-v3-untyped")
    assert ds.meta.title.startswith("Gezondheid per wijk en buurt")
    assert ds.groups == ["65+"] and ds.periods == ["2020"]
    xlsx = statline.read_file(rivm / "2020_65plus.xlsx").observations
    key = ["region_code", "period", "measure_id", "population_group"]
    merged = ds.observations.merge(xlsx, on=key, suffixes=("_api", "_xlsx"))
    assert len(merged) == len(ds.observations)
    assert (merged.status_api == merged.status_xlsx).all()
    assert merged.value_api.fillna(-1).equals(merged.value_xlsx.fillna(-1))
    names = ds.regions.set_index("code")["name"]
    assert names["GM0034"] == "Almere" and names["BU00340101"] == "Buurt 01"
    labels = ds.measures.set_index("measure_id")
    assert labels.loc["Eenzaam_28", "label"] == "Eenzaam" and labels.loc["Eenzaam_28", "unit"] == "%"


def test_v3_single_page_alone(almere, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = write_v3_bundle(almere, tmp_path / "dl", page_size=100000)
    page = folder / "TypedDataSet-0001.json"
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / page.name).write_bytes(page.read_bytes())
    ds = read_any(lone / page.name)
    assert ds.meta.table_id == "50090NED"
    assert (
        ds.observations.query("region_code == 'GM0034' and measure_id == 'Eenzaam_28'")["value"].iloc[0]
        == 48.2
    )


def test_v4_observations_with_margins(almere, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = write_v4_bundle(with_margins(almere), tmp_path / "v4", page_size=4000)
    ds = odata.read_bundle(folder)
    assert ds.meta.format == "odata-v4" and ds.meta.table_id == "50090NED"
    assert ds.groups == ["65+"]
    eenzaam = ds.measures.loc[ds.measures.label == "Eenzaam", "measure_id"].iloc[0]
    assert eenzaam == "Eenzaam_28"  # matched to the v3 key by its title, not left as M0000xx
    obs = ds.observations
    row = obs[(obs.region_code == "GM0034") & (obs.measure_id == eenzaam)].iloc[0]
    assert (row["value"], row["lower"], row["upper"]) == (48.2, 46.2, 50.2)
    missing = ds.observations.query("status == 'missing'")
    assert len(missing) > 0 and missing["value"].isna().all()


def test_truncated_json_page_is_refused(almere, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = write_v3_bundle(almere, tmp_path / "50090NED", page_size=40)
    page = folder / "TypedDataSet-0002.json"
    page.write_text(page.read_text()[:5000], encoding="utf-8")
    with pytest.raises(InputError, match=r"TypedDataSet-0002\.json.*afgebroken JSON"):
        odata.read_bundle(folder)


def test_json_without_value_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "TypedDataSet.json"
    path.write_text(json.dumps({"rows": []}), encoding="utf-8")
    with pytest.raises(InputError, match="'value'"):
        odata.read_page(path)


def test_one_table_lands_on_the_same_measures_through_v3_and_v4(almere, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    v3 = odata.read_bundle(write_v3_bundle(almere, tmp_path / "v3"))
    v4 = odata.read_bundle(write_v4_bundle(almere, tmp_path / "v4"))
    assert set(v4.measures["measure_id"]) == set(v3.measures["measure_id"])
    assert not any(m.startswith("M0") for m in v4.measures["measure_id"])
    key = ["region_code", "measure_id", "period", "population_group"]
    a = v3.observations.astype({k: str for k in key}).set_index(key)["value"].sort_index()
    b = v4.observations.astype({k: str for k in key}).set_index(key)["value"].sort_index()
    assert a.index.equals(b.index) and a.equals(b)

"""Kerncijfers wijken en buurten in its four layouts, mapped onto the same measure ids."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from wijkradar.errors import InputError
from wijkradar.sources import kwb
from wijkradar.sources.model import Dataset


def _get(ds: Dataset, code: str, measure: str) -> float:
    obs = ds.observations
    return float(obs[(obs.region_code == code) & (obs.measure_id == measure)]["value"].iloc[0])


def test_api_key_style_2017(data: Path) -> None:
    ds = kwb.read_file(data / "cbs-kwb-buurten-2017" / "kwb2017_buurten.csv")
    assert ds.meta.table_id == "83765NED" and ds.meta.format == "kwb-api" and ds.periods == ["2017"]
    assert ds.meta.boundary_year == 2017
    assert len(ds.regions) == 9028 and set(ds.regions.level) == {"buurt"}
    assert set(ds.measures.measure_id) == {
        "a_inw",
        "bev_dich",
        "g_hhgro",
        "g_ink_pi",
        "a_hh_m_k",
        "a_hh",
        "p_hh_osm",
        "ste_mvs",
        "a_00_14",
        "a_25_44",
        "a_65_oo",
    }
    assert _get(ds, "BU00030000", "a_inw") == 2335 and _get(ds, "BU00030000", "a_65_oo") == 710


def test_descriptive_headers_2020(data: Path) -> None:
    ds = kwb.read_file(data / "cbs-kwb-gemeenten-2020" / "kwb2020_gemeenten.csv")
    assert ds.meta.table_id == "84799NED" and ds.meta.format == "kwb-kaart" and ds.periods == ["2020"]
    assert _get(ds, "GM0034", "a_inw") == 211893
    assert _get(ds, "GM0034", "p_65_eo_jr") == 12
    assert _get(ds, "GM0003", "af_artspr") == 1.4  # Afstand tot huisartsenpraktijk (km)
    assert _get(ds, "GM0003", "av3_superm") == 4.0  # Aantal grote supermarkten binnen 3 km
    labels = ds.measures.set_index("measure_id")
    assert labels.loc["g_ink_pi", "unit"] == "x 1 000 euro"
    # columns the staging author added are not CBS figures and are left out
    assert not {"inkomengroep", "opleidingsgroep", "perc_opleiding"} & set(ds.measures.measure_id)
    assert ds.regions.set_index("code").loc["GM0034", "name"] == "Almere"


def test_derived_utrecht_table(data: Path) -> None:
    ds = kwb.read_file(data / "utrecht-buurten" / "buurten.csv")
    assert ds.meta.publisher == "afgeleid" and "derden" in ds.meta.note
    assert ds.periods == ["2020-2022"]
    assert len(ds.regions) == 969
    assert ds.regions.set_index("code").loc["BU03070100", "name"] == "Hof"
    ids = set(ds.measures.measure_id)
    assert {"a_inw", "af_superm", "af_cafe", "leefbarometer_score"} <= ids


def test_official_kwb_xlsx_layout(data: Path, tmp_path: Path) -> None:
    """kwb-2017.xlsx as CBS ships it: gwb_code_10, regio, recs, short names, '.' for missing."""
    source = pd.read_csv(data / "cbs-kwb-buurten-2017" / "kwb2017_buurten.csv").head(200)
    names = {
        "AantalInwoners_5": "a_inw",
        "k_65JaarOfOuder_12": "a_65_oo",
        "GemiddeldInkomenPerInwoner_66": "g_ink_pi",
        "HuishOnderOfRondSociaalMinimum_73": "p_hh_osm",
    }
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["gwb_code_10", "gwb_code_8", "regio", "gm_naam", "recs", *names.values()])
    for i, record in enumerate(source.to_dict("records")):
        values = [record[k] for k in names]
        if i == 3:
            values[2] = "."  # CBS writes '.' where a figure is missing
        sheet.append(
            [
                record["WijkenEnBuurten"],
                record["WijkenEnBuurten"][2:],
                f"Buurt {i}",
                record["Gemeentenaam_1"],
                "Buurt",
                *values,
            ]
        )
    path = tmp_path / "kwb-2017.xlsx"
    book.save(path)
    ds = kwb.read_file(path)
    assert ds.meta.format == "kwb-xlsx" and ds.meta.table_id == "83765NED" and ds.periods == ["2017"]
    api = kwb.read_file(data / "cbs-kwb-buurten-2017" / "kwb2017_buurten.csv").observations
    merged = ds.observations.merge(api, on=["region_code", "period", "measure_id"], suffixes=("_x", "_api"))
    assert len(merged) == 200 * 4
    published = merged[merged.status_x == "published"]
    assert np.allclose(published.value_x, published.value_api)
    assert (merged.status_x == "missing").sum() == 1


def test_kwb_without_year_asks_for_one(data: Path, tmp_path: Path) -> None:
    path = tmp_path / "kerncijfers_buurten.csv"
    path.write_bytes((data / "cbs-kwb-buurten-2017" / "kwb2017_buurten.csv").read_bytes())
    with pytest.raises(InputError, match="--period"):
        kwb.read_file(path)
    assert kwb.read_file(path, period="2017").periods == ["2017"]

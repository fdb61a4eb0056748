"""StatLine exports: the real RIVM 50090NED xlsx files, and the same table as StatLine CSV."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from odata_fixtures import rivm_subset, with_margins
from wijkradar.errors import InputError
from wijkradar.sources import statline
from wijkradar.sources.model import Dataset
from wijkradar.sources.tabular import load_table


def _value(ds: Dataset, code: str, measure: str) -> float:
    obs = ds.observations
    row = obs[(obs.region_code == code) & (obs.measure_id == measure)]
    assert len(row) == 1
    return float(row["value"].iloc[0])


@pytest.mark.parametrize(
    ("name", "period", "group", "almere", "nl"),
    [
        ("2020_65plus.xlsx", "2020", "65+", 48.2, 49.5),
        ("2016_65plus.xlsx", "2016", "65+", 47.3, 48.3),
        ("2020_18plus.xlsx", "2020", "18+", 48.5, None),
        ("2016_18plus.xlsx", "2016", "18+", 44.2, None),
    ],
)
def test_rivm_xlsx(rivm: Path, name: str, period: str, group: str, almere: float, nl: float | None) -> None:
    ds = statline.read_file(rivm / name)
    assert ds.meta.table_id == "50090NED" and ds.meta.publisher == "RIVM"
    assert ds.meta.boundary_year == 2020
    assert ds.periods == [period] and ds.groups == [group]
    assert ds.regions["level"].value_counts().to_dict() == {
        "buurt": 13808,
        "wijk": 3177,
        "gemeente": 355,
        "land": 1,
    }
    assert _value(ds, "GM0034", "Eenzaam_28") == almere
    if nl is not None:
        assert _value(ds, "NL01", "Eenzaam_28") == nl
    labels = ds.measures.set_index("measure_id")["label"]
    assert labels["Eenzaam_28"] == "Eenzaam" and labels["MoeiteMetRondkomen_38"] == "Moeite met rondkomen"
    names = ds.regions.set_index("code")["name"]
    assert names["GM0034"] == "Almere" and pd.isna(names["BU00340101"])


def test_rivm_2020_65plus_missing_counts(rivm: Path) -> None:
    ds = statline.read_file(rivm / "2020_65plus.xlsx")
    obs = ds.observations
    buurt_lonely = obs[(obs.measure_id == "Eenzaam_28") & obs.region_code.str.startswith("BU")]
    assert (buurt_lonely.status == "published").sum() == 12125  # as stated in SOURCES.md
    assert buurt_lonely.loc[buurt_lonely.status != "published", "value"].isna().all()


def _write_statline_csv(
    frame: pd.DataFrame, path: Path, *, sep: str = ";", decimal_comma: bool = False
) -> None:
    """Write a frame as StatLine's CSV export does: quoted, padded, semicolon-separated."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=sep, quoting=csv.QUOTE_ALL)
        writer.writerow(frame.columns)
        for row in frame.itertuples(index=False):
            cells = ["" if pd.isna(v) else str(v) for v in row]
            if decimal_comma:
                cells = [c.replace(".", ",") if c.strip().replace(".", "", 1).isdigit() else c for c in cells]
            writer.writerow(cells)


@pytest.mark.parametrize("decimal_comma", [False, True])
def test_statline_csv_equals_xlsx(rivm: Path, tmp_path: Path, decimal_comma: bool) -> None:
    frame = rivm_subset(rivm / "2020_65plus.xlsx")
    path = tmp_path / "50090NED_2020_65plus.csv"
    _write_statline_csv(frame, path, decimal_comma=decimal_comma)
    from_csv = statline.read_file(path)
    assert from_csv.meta.format == "statline-csv"
    full = statline.read_file(rivm / "2020_65plus.xlsx").observations
    key = ["region_code", "period", "measure_id", "population_group"]
    merged = from_csv.observations.merge(full, on=key, suffixes=("_csv", "_xlsx"))
    assert len(merged) == len(from_csv.observations) > 1000
    assert (merged.status_csv == merged.status_xlsx).all()
    pd.testing.assert_series_equal(merged.value_csv, merged.value_xlsx, check_names=False)


def test_margins_fold_into_lower_and_upper(rivm: Path, tmp_path: Path) -> None:
    frame = with_margins(rivm_subset(rivm / "2020_65plus.xlsx"))
    path = tmp_path / "50090NED_marges.csv"
    _write_statline_csv(frame, path)
    ds = statline.read_file(path)
    row = ds.observations.query("region_code == 'GM0034' and measure_id == 'Eenzaam_28'").iloc[0]
    assert (row["value"], row["lower"], row["upper"]) == (48.2, 46.2, 50.2)
    assert len(ds.observations) == len(frame) // 3 * (len(frame.columns) - 8)


def test_load_table_reports_sheet(rivm: Path) -> None:
    table = load_table(rivm / "2016_18plus.xlsx")
    assert table.first_row == 2 and table.sheet == "50090NED_UntypedDataSet_1305202"


def test_every_cbs_region_kind_is_read_with_its_level(tmp_path: Path) -> None:
    """A StatLine export per region kind: land, landsdeel, provincie, GGD-regio and gemeente."""
    rows = [
        ("NL01", "Nederland"),
        ("LD01", "Noord-Nederland"),
        ("PV24", "Flevoland"),
        ("GG3003", "GGD Flevoland"),
        ("CR40", "Flevoland"),
        ("GM0034", "Almere"),
    ]
    path = tmp_path / "50090NED_regio.csv"
    lines = ["ID;Leeftijd;Marges;RegioS;Perioden;Eenzaam_28"]
    lines += [f"{i};80200;MW00000;{code:<10};2020JJ00;{40 + i}.5" for i, (code, _) in enumerate(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ds = statline.read_file(path)
    levels = ds.regions.set_index("code")["level"].to_dict()
    assert levels == {
        "NL01": "land",
        "LD01": "landsdeel",
        "PV24": "provincie",
        "GG3003": "ggd-regio",
        "CR40": "corop",
        "GM0034": "gemeente",
    }
    parents = ds.regions.set_index("code")["gemeente_code"]
    assert parents.isna().sum() == 5 and parents["GM0034"] == "GM0034"  # groupings lie in no gemeente
    assert _value(ds, "GG3003", "Eenzaam_28") == 43.5


def test_monitor_sociaal_domein_as_cbsodata_saves_it(data: Path) -> None:
    """The region dimension holds titles, the code is in Codering_3, half-years beside the year."""
    ds = statline.read_file(data / "cbs-monitor-sociaal-domein" / "83620NED.csv")
    assert ds.meta.table_id == "83620NED" and ds.meta.boundary_year == 2016
    assert ds.periods == ["2016", "2016-H1", "2016-H2"] and ds.groups == ["totaal"]
    obs = ds.observations.set_index(["region_code", "period", "measure_id"])["value"]
    assert obs[("WK003401", "2016", "wmo_clienten_per_1000")] == 70  # as in SOURCES.md
    assert obs[("WK003401", "2016-H1", "wmo_clienten_per_1000")] == 64
    assert obs[("GM0034", "2016", "wmo_clienten_per_1000")] == 51
    assert ds.regions.set_index("code").loc["WK003401", "name"] == "Wijk 01 Almere Haven"
    assert "zonder regiocode en zonder cijfers overgeslagen" in ds.meta.note
    units = ds.measures.set_index("measure_id")["unit"]
    assert units["wmo_clienten"] == "aantal" and units["wmo_clienten_per_1000"] == "per 1 000 inwoners"


def test_a_row_with_figures_but_no_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "83620NED.csv"
    path.write_text(
        "ID;Financieringsvorm;Wijken;Perioden;Gemeentenaam_1;SoortRegio_2;Codering_3;WmoClienten_5\n"
        "0;Totaal;Almere;2016;Almere;Gemeente;GM0034  ;10105.0\n"
        "1;Totaal;Aalsmeer;2016;Aalsmeer;Gemeente;;\n"
        "2;Totaal;Baarn;2016;Baarn;Gemeente;;640.0\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="rij 4") as refused:
        statline.read_file(path)
    assert "Codering_3" in str(refused.value) and "zonder regiocode" in str(refused.value)


def test_category_dimensions_never_collapse(tmp_path: Path) -> None:
    path = tmp_path / "83619NED.csv"
    path.write_text(
        "ID;AantalVoorzieningen;SoortVoorzieningSociaalDomein;Wijken;Perioden;Codering_3;ClientenMetVoorzieningen_5\n"
        "0;Totaal;Totaal;Almere;2016;GM0034;100\n"
        "1;Twee of meer;Totaal;Almere;2016;GM0034;40\n"
        "2;Totaal;Jeugd en Wmo;Almere;2016;GM0034;30\n"
        "3;Twee of meer;Jeugd en Wmo;Almere;2016;GM0034;20\n",
        encoding="utf-8",
    )
    ds = statline.read_file(path)
    assert ds.groups == [
        "AantalVoorzieningen=Twee of meer",
        "AantalVoorzieningen=Twee of meer;SoortVoorzieningSociaalDomein=Jeugd en Wmo",
        "SoortVoorzieningSociaalDomein=Jeugd en Wmo",
        "totaal",
    ]
    assert sorted(ds.observations["value"].tolist()) == [20, 30, 40, 100]

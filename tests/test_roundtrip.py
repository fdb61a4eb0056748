"""Property: whatever a well-formed table holds comes back out of the warehouse unchanged."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wijkradar.ingest import ingest_path
from wijkradar.warehouse import Warehouse

STEMS = {
    "AantalInwoners_5": "a_inw",
    "k_65JaarOfOuder_12": "a_65_oo",
    "GemiddeldInkomenPerInwoner_66": "g_ink_pi",
    "HuishOnderOfRondSociaalMinimum_73": "p_hh_osm",
}
SYMBOL_STATUS = {".": "missing", "x": "suppressed", "-": "nil", "?": "unreliable", "": "missing"}

COUNTS = {"AantalInwoners_5", "k_65JaarOfOuder_12"}  # never negative: ingest refuses that


def cell(lowest: float) -> st.SearchStrategy[float | str]:
    return st.one_of(
        st.floats(min_value=lowest, max_value=1e7, allow_nan=False).map(lambda v: round(v, 1)),
        st.sampled_from(list(SYMBOL_STATUS)),
    )


@st.composite
def tables(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 25))
    numbers = draw(st.lists(st.integers(0, 99_999_999), min_size=n, max_size=n, unique=True))
    columns = draw(st.lists(st.sampled_from(sorted(STEMS)), min_size=1, max_size=4, unique=True))
    frame = pd.DataFrame({"WijkenEnBuurten": [f"BU{x:08d}" for x in numbers]})
    for column in columns:
        lowest = 0.0 if column in COUNTS else -50_000.0
        frame[column] = draw(st.lists(cell(lowest), min_size=n, max_size=n))
    return frame


def _expected(frame: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for record in frame.to_dict("records"):
        for column, measure in STEMS.items():
            if column not in record:
                continue
            raw = record[column]
            if isinstance(raw, str):
                rows.append((record["WijkenEnBuurten"], measure, np.nan, SYMBOL_STATUS[raw]))
            else:
                rows.append((record["WijkenEnBuurten"], measure, float(raw), "published"))
    return pd.DataFrame(rows, columns=["region_code", "measure_id", "value", "status"])


def _write(frame: pd.DataFrame, path: Path) -> None:
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
        return
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        sheet.append(list(row))
    book.save(path)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=tables(), suffix=st.sampled_from([".csv", ".xlsx"]))
def test_ingest_round_trips_values_and_statuses(frame: pd.DataFrame, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp, Warehouse.open(Path(":memory:")) as wh:
        path = Path(tmp) / f"kwb2019_buurten{suffix}"
        _write(frame, path)
        report = ingest_path(wh, path)
        assert report.action == "ingested" and report.periods == ["2019"]
        stored = wh.observations.table()[["region_code", "measure_id", "value", "status"]]
        expected = _expected(frame)
        key = ["region_code", "measure_id"]
        got = stored.sort_values(key).reset_index(drop=True)
        want = expected.sort_values(key).reset_index(drop=True)
        pd.testing.assert_frame_equal(got, want, check_dtype=False)

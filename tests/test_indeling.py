"""Boundary years: names per indeling, crosswalks (published and geometric), moving figures onto one
indeling, and table slices that do not overwrite each other."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from refusal import assert_refused
from wijkradar import indeling
from wijkradar.indeling.crosswalks import RULES
from wijkradar.ingest import ingest, ingest_path
from wijkradar.models.features import Target
from wijkradar.models.inputs import load_inputs
from wijkradar.pages.model_card import render_markdown
from wijkradar.query import region_profile
from wijkradar.warehouse import Warehouse

VNG = "crosswalks/vng-grenswijzigen-wijk/wijk_crosswalk_long.csv"
_CARD = {  # the smallest model card render_markdown takes
    "measure": "Eenzaam_28",
    "group": "65+",
    "level": "buurt",
    "period": "2020",
    "previous_period": "2016",
    "n": 1,
    "n_gemeenten": 1,
    "folds": 5,
    "model": "glm",
    "validation": {
        m: {"r2": 0.5, "mae": 1.0, "spearman": 0.5, "coverage90": 0.9, "calibration_slope": 1.0}
        for m in ("glm", "lightgbm")
    },
    "baseline": {"r2": 0.4, "mae": 1.0, "spearman": 0.4, "calibration_slope": 1.0},
    "forward": None,
    "forward_missing": "er is geen eerdere peiling",
    "interval_halfwidth_by_bin": {"0": 4.0},
    "n_features": 1,
    "feature_families": {"prev": 1},
}


# -- names belong to a code in a year ----------------------------------------------------------------


def test_almere_buurten_have_names_with_their_year(full_wh: Warehouse) -> None:
    buurten = full_wh.regions.table(level="buurt", gemeente_code="GM0034")
    assert len(buurten) == 67 and (buurten["boundary_year"] == 2020).all()
    named = buurten.dropna(subset=["name"])
    assert len(named) >= 66 and set(named["name_year"]) == {2017}
    werven = buurten.set_index("code").loc["BU00340102"]
    assert werven["name"] == "De Werven" and werven["label"] == "De Werven (BU00340102; naam 2017)"
    assert buurten.set_index("code").loc["BU00340111", "label"] == "BU00340111"  # no name known at all


def test_a_reused_code_never_joins_one_area_to_the_other(full_db: Path, tmp_path: Path) -> None:
    """BU00340102 is De Werven in 2017 and Centrum Haven Zuid in 2024: two areas, one code."""
    copy = tmp_path / "w.duckdb"
    copy.write_bytes(full_db.read_bytes())
    # A 2024 Kerncijfers figure for the 2024 area with that code, and one for the 2017 area.
    csv = tmp_path / "kwb-2024" / "kwb_2024_almere.csv"
    csv.parent.mkdir()
    csv.write_text("buurtcode,buurtnaam,aantal_inwoners,jaar\nBU00340102,Centrum Haven Zuid,777,2024\n")
    with Warehouse.open(copy) as wh:
        report = ingest_path(wh, csv)
        assert report.action == "ingested", report.message
        profile = region_profile(wh, "BU00340102")
        assert profile["name"] == "De Werven" and profile["boundary_year"] == 2020
        inhabitants = [f for f in profile["figures"] if f["measure"] == "a_inw"]
        assert [f["period"] for f in inhabitants] == ["2017"]  # 2017 De Werven, assumed unchanged to 2020
        assert inhabitants[0]["method"] == "identity_assumed"
        assert profile["left_out"] == {"2024": 1}  # the 2024 area's figure is not joined
        # the model's inputs on the 2020 indeling hold no 2024 figure for the code either
        inputs = load_inputs(wh, Target("Eenzaam_28", "65+", "buurt", "2020"))
        obs = inputs.observations
        here = obs[(obs["region_code"] == "BU00340102") & (obs["measure_id"] == "a_inw")]
        assert here["period"].astype(str).tolist() == ["2017"]
        assert (inputs.target_rows["boundary_year"] == 2020).all()
        assert inputs.indeling["boundary_year"] == 2020 and inputs.indeling["left_out"][2024] >= 1
        assert (
            inputs.indeling["moved"]["2017 identity_assumed"] > 0
            and inputs.indeling["moved"]["2017 addresses"] > 0
        )
        card = render_markdown({**_CARD, "boundaries": inputs.indeling})
        assert "waarden van indeling 2017: omgerekend op adressen" in card
        assert "waarden van indeling 2024 weggelaten" in card
        # the 2024 name is not a way to find the 2020 area
        with pytest.raises(Exception, match="Centrum Haven Zuid"):
            region_profile(wh, "Centrum Haven Zuid")


# -- crosswalks ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vng(data: Path) -> pd.DataFrame:
    return pd.read_csv(data / VNG)


def test_vng_crosswalk_is_stored_with_weights_summing_to_one(full_wh: Warehouse, vng: pd.DataFrame) -> None:
    rows = full_wh.crosswalks.rows("wijk")
    assert len(rows) == len(vng) and set(rows["method"]) == {"addresses"}
    sums = rows.groupby(["from_code", "from_year", "to_year"])["weight"].sum()
    assert np.allclose(sums, 1.0)
    source = full_wh.sources.table().query("table_id == 'crosswalk:wijk_crosswalk_long'").iloc[0]
    assert source["publisher"] == "VNG Realisatie" and source["licence"] == "CC BY-NC-SA 4.0"


def test_vng_crosswalk_moves_a_count_and_a_rate_onto_2020_wijken(
    full_wh: Warehouse, vng: pd.DataFrame
) -> None:
    walk = indeling.crosswalk(full_wh, 2017, 2020, "wijk")
    assert np.allclose(walk.groupby("from_code")["weight"].sum(), 1.0)
    # Delfzijl's wijken were redrawn between 2017 and 2020 (in VNG's table).
    changed = vng[(vng.year_from == 2017) & (vng.year_to == 2020) & vng.wijk_from.str.startswith("WK0010")]
    sources = sorted(set(changed.wijk_from))
    values = full_wh.observations.values("a_inw", "totaal", sources)
    values = values[values["boundary_year"] == 2017].assign(measure_id="a_inw", population_group="totaal")
    assert len(values) == len(sources)
    moved = indeling.move(values, walk, {"a_inw"})
    # Expected independently: each source wijk's inhabitants split by its share of addresses.
    expected: dict[str, float] = {}
    by_code = values.set_index("region_code")["value"]
    for wijk_from, wijk_to, weight in zip(changed.wijk_from, changed.wijk_to, changed.weight, strict=True):
        share = float(weight) / float(changed[changed.wijk_from == wijk_from].weight.sum())
        expected[str(wijk_to)] = expected.get(str(wijk_to), 0.0) + share * float(by_code[wijk_from])
    complete = {t for t in expected if set(walk[walk.to_code == t].from_code) <= set(sources)}
    got = moved.set_index("region_code")["value"]
    for code in complete:
        assert got[code] == pytest.approx(expected[code])
    assert set(got.index) == complete
    # totals are kept when every target is complete
    assert got.sum() == pytest.approx(sum(expected[c] for c in complete))
    # a rate becomes the weighted mean, not a sum
    rate = values.assign(measure_id="p_65_eo_jr", value=20.0)
    assert np.allclose(indeling.move(rate, walk, {"a_inw"})["value"], 20.0)


def test_counts_keep_their_total_through_a_crosswalk() -> None:
    walk = pd.DataFrame(
        {
            "from_code": ["WK000101", "WK000101", "WK000102", "WK000103"],
            "to_code": ["WK000111", "WK000112", "WK000112", "WK000112"],
            "weight": [0.3, 0.7, 1.0, 1.0],
            "method": "addresses",
        }
    )
    values = pd.DataFrame(
        {
            "region_code": ["WK000101", "WK000102", "WK000103"],
            "measure_id": "a_inw",
            "period": "2017",
            "population_group": "totaal",
            "value": [1000.0, 200.0, 50.0],
        }
    )
    moved = indeling.move(values, walk, {"a_inw"}).set_index("region_code")["value"]
    assert moved.to_dict() == pytest.approx({"WK000111": 300.0, "WK000112": 950.0})
    assert moved.sum() == pytest.approx(1250.0)
    partial = indeling.move(values.iloc[:2], walk, {"a_inw"}).set_index("region_code")["value"]
    assert list(partial.index) == ["WK000111"]  # WK000112 lacks WK000103's part: left out, not half-made


def _box(x0: float, x1: float, y0: float = 52.0, y1: float = 52.01) -> bytes:
    return shapely.to_wkb(shapely.box(x0, y0, x1, y1))  # type: ignore[no-any-return]


def test_geometric_crosswalk_split_merge_and_moved_border() -> None:
    # 2019: A (split in two), B and C (merged), D and E (border moved 20% of D's width into E).
    old = {
        "BU00010001": _box(5.00, 5.02),
        "BU00010002": _box(5.02, 5.03),
        "BU00010003": _box(5.03, 5.04),
        "BU00010004": _box(5.04, 5.05),
        "BU00010005": _box(5.05, 5.06),
    }
    new = {
        "BU00010011": _box(5.00, 5.01),
        "BU00010012": _box(5.01, 5.02),
        "BU00010023": _box(5.02, 5.04),
        "BU00010004": _box(5.04, 5.048),
        "BU00010005": _box(5.048, 5.06),
    }
    walk = indeling.overlap_crosswalk(list(old), list(old.values()), list(new), list(new.values()))
    w = {(r.from_code, r.to_code): r.weight for r in walk.itertuples()}
    assert w[("BU00010001", "BU00010011")] == pytest.approx(0.5, abs=0.01)
    assert w[("BU00010001", "BU00010012")] == pytest.approx(0.5, abs=0.01)
    assert w[("BU00010002", "BU00010023")] == pytest.approx(1.0) and w[
        ("BU00010003", "BU00010023")
    ] == pytest.approx(1.0)
    assert w[("BU00010004", "BU00010004")] == pytest.approx(0.8, abs=0.01)
    assert w[("BU00010004", "BU00010005")] == pytest.approx(0.2, abs=0.01)
    assert w[("BU00010005", "BU00010005")] == pytest.approx(1.0)  # only touching its neighbour: no sliver
    assert np.allclose(walk.groupby("from_code")["weight"].sum(), 1.0)


def test_geometric_crosswalk_from_two_ingested_vintages(wh: Warehouse, tmp_path: Path) -> None:
    def write(year: int, shapes: dict[str, bytes]) -> Path:
        path = tmp_path / f"buurten_{year}.geojson"
        features = [
            {
                "type": "Feature",
                "properties": {"buurtcode": c, "jaar": year},
                "geometry": shapely.geometry.mapping(shapely.from_wkb(g)),
            }
            for c, g in shapes.items()
        ]
        path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
        return path

    ingest(
        wh,
        [
            write(2019, {"BU00010001": _box(5.0, 5.02), "BU00010002": _box(5.02, 5.03)}),
            write(2020, {"BU00010001": _box(5.0, 5.01), "BU00010009": _box(5.01, 5.03)}),
        ],
    )
    report = indeling.store_overlap_crosswalk(wh, 2019, 2020, "buurt")
    assert report.action == "ingested"
    walk = indeling.crosswalk(wh, 2019, 2020, "buurt").set_index(["from_code", "to_code"])["weight"]
    assert walk[("BU00010001", "BU00010001")] == pytest.approx(0.5, abs=0.01)
    assert walk[("BU00010002", "BU00010009")] == pytest.approx(1.0)
    # the code kept but redrawn is not "unchanged": its 2019 name or figures never count as 2020's
    assert "BU00010001" in wh.regions.name_breaks()


@pytest.mark.parametrize(
    ("row", "needles"),
    [
        ("2017,2020,WK001000,WK001001,-5", ("gewicht ontbreekt of is negatief", "rij 3", "'weight'")),
        ("2017,2020,WK00100,WK001001,5", ("ongeldige CBS-regiocode", "rij 3", "'wijk_from'")),
        ("2017,2020,WK001000,BU00100101,5", ("verschillend niveau", "rij 3")),
        ("2017,2020,WK001099,WK001001,0", ("tellen op tot 0", "rij 3", "'weight'")),
    ],
)
def test_a_bad_crosswalk_is_refused_whole(
    wh: Warehouse, tmp_path: Path, row: str, needles: tuple[str, ...]
) -> None:
    path = tmp_path / "grenswijzigingen.csv"
    path.write_text(
        "year_from,year_to,wijk_from,wijk_to,weight\n2017,2020,WK001000,WK001002,12\n" + row + "\n"
    )
    assert_refused(wh, path, *needles)


# -- one table, several files -----------------------------------------------------------------------------


def test_slices_of_one_table_for_two_gemeenten_are_both_kept(wh: Warehouse, tmp_path: Path) -> None:
    header = "WijkenEnBuurten,AantalInwoners_5\n"
    almere = tmp_path / "almere" / "kwb-2021.csv"
    rotterdam = tmp_path / "rotterdam" / "kwb-2021.csv"
    for path, rows in ((almere, "GM0034,218096\nBU00340101,1000\n"), (rotterdam, "GM0599,651157\n")):
        path.parent.mkdir()
        path.write_text(header + rows)
    first, second = ingest(wh, [almere, rotterdam])
    assert first.action == second.action == "ingested"
    assert "vult een eerder bestand" in second.message
    assert wh.observations.figures("GM0034").query("measure == 'a_inw'")["value"].tolist() == [218096.0]
    assert wh.observations.figures("GM0599").query("measure == 'a_inw'")["value"].tolist() == [651157.0]
    # a corrected Almere file replaces Almere's figures only, and says so
    corrected = tmp_path / "almere2" / "kwb-2021.csv"
    corrected.parent.mkdir()
    corrected.write_text(header + "GM0034,218100\nBU00340101,1001\n")
    third = ingest_path(wh, corrected)
    assert third.action == "replaced" and "vervangt" in third.message
    assert wh.observations.figures("GM0034").query("measure == 'a_inw'")["value"].tolist() == [218100.0]
    assert wh.observations.figures("GM0599").query("measure == 'a_inw'")["value"].tolist() == [651157.0]
    assert len(wh.sources.table()) == 2


def test_gemeente_mergers_are_crosswalks_and_searchable(wh: Warehouse, tmp_path: Path) -> None:
    names = tmp_path / "gemeenten_2024.csv"
    names.write_text("Identifier,Title\nGM1979,Eemsdelta\nGM0014,Groningen\n")
    ingest_path(wh, names)
    assert region_profile(wh, "Appingedam")["code"] == "GM1979"  # a former gemeente finds its successor
    walk = indeling.crosswalk(wh, 2020, 2024, "gemeente")
    merged = walk[walk["to_code"] == "GM1979"]
    assert set(merged["from_code"]) == {"GM0003", "GM0010", "GM0024"} and set(merged["method"]) == {"merger"}
    # The successor is another area than any of its parts; Amsterdam after Weesp is another area too.
    breaks = wh.regions.name_breaks()
    assert (2020, 2021) in breaks["GM1979"] and (2021, 2022) in breaks["GM0363"]


def test_omzettabel_cli_builds_and_stores_an_area_crosswalk(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from wijkradar.cli import app

    runner = CliRunner()
    db = tmp_path / "w.duckdb"
    for year, shapes in (
        (2019, {"BU00010001": (5.0, 5.02)}),
        (2020, {"BU00010011": (5.0, 5.01), "BU00010012": (5.01, 5.02)}),
    ):
        features = [
            {
                "type": "Feature",
                "properties": {"buurtcode": c, "jaar": year},
                "geometry": shapely.geometry.mapping(shapely.box(x0, 52.0, x1, 52.01)),
            }
            for c, (x0, x1) in shapes.items()
        ]
        path = tmp_path / f"buurten_{year}.geojson"
        path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
        assert runner.invoke(app, ["ingest", str(path), "--db", str(db)]).exit_code == 0
    result = runner.invoke(
        app, ["omzettabel", "--van", "2019", "--naar", "2020", "--db", str(db), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["table_id"] == "crosswalk:overlap:buurt:2019-2020"
    again = runner.invoke(
        app, ["omzettabel", "--van", "2019", "--naar", "2020", "--db", str(db), "--format", "json"]
    )
    assert json.loads(again.stdout)[0]["action"] == "unchanged"
    missing = runner.invoke(app, ["omzettabel", "--van", "2018", "--naar", "2020", "--db", str(db)])
    assert missing.exit_code != 0 and "download-kaart --jaar 2018" in missing.output


def test_two_crosswalks_for_the_same_years_do_not_add_up(wh: Warehouse, tmp_path: Path) -> None:
    first = tmp_path / "a" / "grenswijzigingen.csv"
    second = tmp_path / "b" / "eigen_omzettabel.csv"
    for path, rows in (
        (first, "2017,2020,WK001000,WK001001,30,addresses\n2017,2020,WK001000,WK001002,70,addresses\n"),
        (second, "2017,2020,WK001000,WK001001,1,area\n"),
    ):
        path.parent.mkdir()
        path.write_text("year_from,year_to,wijk_from,wijk_to,weight,method\n" + rows)
        assert ingest_path(wh, path).action == "ingested"
    walk = indeling.crosswalk(wh, 2017, 2020, "wijk")
    mine = walk[walk["from_code"] == "WK001000"]
    assert mine[["to_code", "weight", "method"]].values.tolist() == [["WK001001", 1.0, "area"]]


def test_derived_crosswalks_are_kept_for_new_processes_until_the_sources_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "w.duckdb"
    first = tmp_path / "a" / "grenswijzigingen.csv"
    second = tmp_path / "b" / "eigen_omzettabel.csv"
    for path, rows in (
        (first, "2017,2020,WK001000,WK001001,30,addresses\n2017,2020,WK001000,WK001002,70,addresses\n"),
        (second, "2017,2020,WK001000,WK001001,1,area\n"),
    ):
        path.parent.mkdir()
        path.write_text("year_from,year_to,wijk_from,wijk_to,weight,method\n" + rows)
    with Warehouse.open(db) as wh:
        ingest_path(wh, first)
        assert indeling.derive_crosswalks(wh, [2017, 2020]) == 2  # as ingest does once files are in
        derived = indeling.crosswalk(wh, 2017, 2020)
    assert sorted(derived["weight"]) == [0.3, 0.7]

    def derive_again(*args: object) -> pd.DataFrame:
        raise AssertionError("derived again instead of read from the warehouse")

    with monkeypatch.context() as patched, Warehouse.open(db, read_only=True) as reader:
        patched.setattr(indeling.crosswalks, "_build_crosswalk", derive_again)
        pd.testing.assert_frame_equal(indeling.crosswalk(reader, 2017, 2020), derived, check_dtype=False)
    with Warehouse.open(db) as wh:
        ingest_path(wh, second)  # the sources change: what was kept is stale and derived again
        assert wh.crosswalks.derived(wh.sources_stamp() + f"|rules {RULES}", 2017, 2020, None) is None
        indeling.derive_crosswalks(wh, [2017, 2020])
        walk = indeling.crosswalk(wh, 2017, 2020)
        mine = walk[walk["from_code"] == "WK001000"]
        assert mine[["to_code", "weight", "method"]].values.tolist() == [["WK001001", 1.0, "area"]]
        assert wh.crosswalks.derived(wh.sources_stamp() + f"|rules {RULES}", 2017, 2020, None) is not None
        # One state of the sources is kept at a time: the stale rows are gone.
        stamps = wh.con.execute("SELECT DISTINCT stamp FROM derived_crosswalks").fetchall()
        assert len(stamps) == 1


def test_rates_are_weighted_by_the_residents_that_move() -> None:
    # Two gemeenten merge: 10% of 1,000 residents and 40% of 9,000 residents -> 37% (not 25%).
    walk = pd.DataFrame(
        {
            "from_code": ["GM0001", "GM0002"],
            "to_code": ["GM0009", "GM0009"],
            "weight": [1.0, 1.0],
            "method": "merger",
        }
    )
    rate = pd.DataFrame(
        {
            "region_code": ["GM0001", "GM0002"],
            "measure_id": "p_x",
            "period": "2020",
            "population_group": "totaal",
            "value": [10.0, 40.0],
        }
    )
    sizes = pd.Series({"GM0001": 1000.0, "GM0002": 9000.0})
    assert indeling.move(rate, walk, set(), sizes=sizes)["value"].tolist() == [pytest.approx(37.0)]
    assert indeling.move(rate, walk, set())["value"].tolist() == [pytest.approx(25.0)]  # no residents known
    partial = pd.Series({"GM0001": 1000.0})  # one part unknown: by the share alone, never half-weighted
    assert indeling.move(rate, walk, set(), sizes=partial)["value"].tolist() == [pytest.approx(25.0)]

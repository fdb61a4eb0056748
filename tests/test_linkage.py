"""Register linkage: correctness against pandas on both engines, privacy, disclosure control."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from wijkradar.cli import app
from wijkradar.errors import InputError, KeyMissing, SparkMissing
from wijkradar.linkage import duckdb_engine
from wijkradar.linkage.api import cell_table, link, run_linkage
from wijkradar.linkage.synth import Marginals, generate, marginals_from_observations
from wijkradar.privacy import Key, Table, audit, load_key, protect
from wijkradar.warehouse import Warehouse

KEY = Key(b"test-sleutel-0123456789abcdef")
runner = CliRunner()


@pytest.fixture(scope="module")
def almere(tmp_path_factory: pytest.TempPathFactory, full_db: Path) -> tuple[Path, Path]:
    with Warehouse.open(full_db, read_only=True) as wh:
        marginals = marginals_from_observations(wh.observations.published())
    frame = marginals.frame[marginals.frame.index.str.startswith("BU0034")]
    persons, provisions, _ = generate(
        Marginals(frame), tmp_path_factory.mktemp("almere"), period=2023, seed=7
    )
    return persons, provisions


def _linkage_args(almere: tuple[Path, Path], *extra: str) -> list[str]:
    persons, provisions = almere
    return [
        "linkage",
        "run",
        "--persons",
        str(persons),
        "--provisions",
        str(provisions),
        "--period",
        "2023",
        "--gemeente",
        "GM0034",
        *extra,
    ]


def expected_with_pandas(persons: Path, provisions: Path, period: int) -> pd.DataFrame:
    """The definition, computed independently and naively in pandas."""
    people = pq.read_table(persons).to_pandas()
    given_ = pq.read_table(provisions).to_pandas()
    people = people[people["period"] == period]
    start, end = pd.Timestamp(f"{period}-01-01"), pd.Timestamp(f"{period}-12-31")
    active = given_[
        (pd.to_datetime(given_["start"]) <= end)
        & (given_["end"].isna() | (pd.to_datetime(given_["end"]) >= start))
    ]
    kinds = active.merge(people[["person_id", "household_id"]], on="person_id")
    per_household = kinds.groupby("household_id")["kind"].apply(set)
    buurt = people.groupby("household_id")["buurt_code"].min()
    order = ["wmo", "jeugd", "bijstand", "other"]
    labels = buurt.index.map(
        lambda h: "+".join(k for k in order if k in per_household.get(h, set())) or "geen"
    )
    frame = pd.DataFrame({"buurt_code": buurt.to_numpy(), "combination": labels})
    return frame.groupby(["buurt_code", "combination"]).size().rename("households").reset_index()


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[["buurt_code", "combination", "households"]].astype({"households": "int64"})
    return (
        out.astype({"buurt_code": object, "combination": object})
        .sort_values(["buurt_code", "combination"])
        .reset_index(drop=True)
    )


def test_duckdb_equals_pandas(almere: tuple[Path, Path]) -> None:
    tables, counts, _ = link(*almere, 2023, KEY, gemeente="GM0034")
    assert counts["persons"] > 150_000
    pd.testing.assert_frame_equal(
        _sorted(tables["combinations"]), _sorted(expected_with_pandas(*almere, 2023))
    )


@pytest.mark.spark
def test_spark_equals_duckdb(almere: tuple[Path, Path]) -> None:
    duck, _, _ = link(*almere, 2023, KEY, gemeente="GM0034")
    spark, _, _ = link(*almere, 2023, KEY, gemeente="GM0034", engine="spark", master="local[2]")
    for name in ("combinations", "ages"):
        columns = list(duck[name].columns)
        a = duck[name].astype(object).sort_values(columns[:-1]).reset_index(drop=True)
        b = spark[name][columns].astype(object).sort_values(columns[:-1]).reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b, check_dtype=False)


def test_pseudonyms_match_python_hmac(almere: tuple[Path, Path], tmp_path: Path) -> None:
    duckdb_engine.intake(*almere, KEY, tmp_path, "GM0034")
    raw = pq.read_table(almere[0], columns=["person_id"]).column(0).to_pylist()[:50]
    hashed = set(pq.read_table(tmp_path / "persons.parquet", columns=["pid"]).column(0).to_pylist())
    assert all(KEY.pseudonym(r) in hashed for r in raw)


def test_no_raw_identifier_anywhere(
    almere: tuple[Path, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key_file = tmp_path / "sleutel"
    key_file.write_text("een-geheime-sleutel-van-32-tekens!", encoding="utf-8")
    db = tmp_path / "w.duckdb"
    caplog.set_level(logging.DEBUG)
    result = runner.invoke(
        app, _linkage_args(almere, "--key-file", str(key_file), "--db", str(db), "--format", "json")
    )
    assert result.exit_code == 0, result.output
    people = pq.read_table(almere[0], columns=["person_id", "household_id"]).to_pandas()
    raw = set(people["person_id"]) | set(people["household_id"])
    with Warehouse.open(db, read_only=True) as wh:
        for table in ("sources", "regions", "measures", "observations"):
            frame = wh.con.execute(f"SELECT * FROM {table}").fetchdf()  # noqa: S608
            for column in frame.select_dtypes(exclude="number").columns:
                assert not set(frame[column].astype(str)) & raw, (table, column)
    blob = db.read_bytes()
    sample = list(people["person_id"].sample(200, random_state=1)) + list(
        people["household_id"].sample(200, random_state=1)
    )
    assert not any(s.encode() in blob for s in sample)
    assert not any(s in result.output for s in sample[:50])
    assert not any(s in record.getMessage() for record in caplog.records for s in sample[:50])


def test_validation_names_row_and_column_but_never_the_id(tmp_path: Path) -> None:
    persons = tmp_path / "personen.csv"
    persons.write_text(
        "person_id,household_id,birth_year,sex,buurt_code,period\n"
        "111222333,HH1,1950,V,BU00340101,2023\n"
        "999888777,HH2,1960,Q,BU00340101,2023\n",
        encoding="utf-8",
    )
    provisions = tmp_path / "voorzieningen.csv"
    provisions.write_text("person_id,kind,start,end\n111222333,wmo,2022-01-01,\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        duckdb_engine.intake(persons, provisions, KEY, tmp_path / "out", "GM0034")
    message = str(info.value)
    assert "personen.csv" in message and "rij 3" in message and "kolom 'sex'" in message
    assert "999888777" not in message and "'Q'" not in message  # no value at all: it might be an id
    persons.write_text(
        "person_id,household_id,birth_year,sex,buurt_code,period\n111222333,HH1,1950,V,BU00340101,2023\n",
        encoding="utf-8",
    )
    provisions.write_text("person_id,kind,start,end\n111222333,schuldhulp,2022-01-01,\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"voorzieningen\.csv, rij 2.*kind"):
        duckdb_engine.intake(persons, provisions, KEY, tmp_path / "out", "GM0034")
    # a person id typed into the start column is still a person id
    provisions.write_text("person_id,kind,start,end\n111222333,wmo,PSECRET42,\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"rij 2.*start") as info:
        duckdb_engine.intake(persons, provisions, KEY, tmp_path / "out", "GM0034")
    assert "PSECRET42" not in str(info.value)
    assert not (tmp_path / "out" / "persons.parquet").exists()


def test_refuses_without_key(
    almere: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WIJKRADAR_KEY", raising=False)
    monkeypatch.delenv("WIJKRADAR_KEY_FILE", raising=False)
    with pytest.raises(KeyMissing, match="weigert"):
        load_key(None)
    result = runner.invoke(app, _linkage_args(almere, "--db", str(tmp_path / "w.duckdb")))
    assert result.exit_code == 7 and "--key-file" in result.stderr
    assert not (tmp_path / "w.duckdb").exists()
    with pytest.raises(KeyMissing, match="te kort"):
        load_key(None, "kort")
    assert "sleutel" not in repr(load_key(None, "x" * 20))


def test_results_appear_as_ordinary_measures(almere: tuple[Path, Path], wh: Warehouse) -> None:
    report = run_linkage(wh, *almere, 2023, KEY, gemeente="GM0034")
    assert report.stored is not None and report.stored.action == "ingested"
    figures = wh.observations.figures("GM0034", "2023").set_index("measure")
    total = figures.loc["huishoudens_totaal"]
    assert total["status"] == "published" and total["value"] > 50_000 and total["source"] == "stapeling"
    assert {"stapeling_2plus", "stapeling_2plus_per_1000", "stapeling_wmo_jeugd"} <= set(figures.index)
    # Large gemeente-level figures stay visible: secondary suppression hides small buurt cells,
    # not the headline (regression test for an earlier version that cascaded up the hierarchy).
    assert figures.loc["stapeling_2plus", "status"] == "published"
    assert figures.loc["stapeling_2plus_per_1000", "status"] == "published"
    observations = wh.observations.table(period="2023")
    rates = observations[observations["measure_id"].str.endswith("_per_1000")]
    counts = observations.set_index(["region_code", "measure_id"])["value"]
    published = rates[rates["status"] == "published"].head(200)
    for row in published.itertuples():
        count = counts[(str(row.region_code), str(row.measure_id).removesuffix("_per_1000"))]
        denominator = counts[(str(row.region_code), "huishoudens_totaal")]
        assert row.value == pytest.approx(round(count / denominator * 1000, 1))
    hidden = observations[observations["status"] == "suppressed"]
    assert hidden["value"].isna().all() and len(hidden) > 0
    again = run_linkage(wh, *almere, 2023, KEY, gemeente="GM0034")
    assert again.stored is not None and again.stored.action == "unchanged"


# -- disclosure control ------------------------------------------------------------------------


@st.composite
def small_gemeente(draw: st.DrawFn) -> dict[str, pd.DataFrame]:
    wijken = draw(st.integers(1, 3))
    rows = []
    for w in range(wijken):
        for b in range(draw(st.integers(1, 3))):
            code = f"BU0001{w:02d}{b:02d}"
            for combination in ("geen", "wmo", "jeugd", "wmo+jeugd", "bijstand", "wmo+bijstand"):
                value = draw(st.one_of(st.integers(0, 6), st.integers(0, 60)))
                if value:
                    rows.append((code, combination, combination.count("+") + (combination != "geen"), value))
    if not rows:
        rows.append(("BU00010000", "geen", 0, 10))
    combos = pd.DataFrame(rows, columns=["buurt_code", "combination", "n_kinds", "households"])
    ages = pd.DataFrame(columns=["buurt_code", "age_band", "persons"])
    return {"combinations": combos, "ages": ages}


# Found by this test: a hidden wijk total pinned by a published zero elsewhere (counts are never
# negative, so the zero forces its hidden parts to 0 and the rest follows from the totals).
ZERO_PINNED = {
    "combinations": pd.DataFrame(
        {
            "buurt_code": ["BU00010000", "BU00010000", "BU00010100", "BU00010200"],
            "combination": ["jeugd", "wmo+bijstand", "wmo+bijstand", "wmo+bijstand"],
            "n_kinds": [1, 2, 2, 2],
            "households": [6, 5, 5, 1],
        }
    ),
    "ages": pd.DataFrame(columns=["buurt_code", "age_band", "persons"]),
}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(tables=ZERO_PINNED)
@given(tables=small_gemeente())
def test_suppressed_cells_cannot_be_recovered(tables: dict[str, pd.DataFrame]) -> None:
    cells, relations, _ = cell_table(tables)
    table = Table(cells, relations)
    suppressed = protect(table, threshold=5)
    values = cells.set_index("cell")["value"]
    small = values[(values > 0) & (values < 5)].index
    assert suppressed.loc[small].all()
    # The small counts are what must stay hidden: no published figure may pin one down.
    bounds = audit(table, suppressed, cells=list(small))
    for cell, (low, high) in bounds.items():
        assert high - low >= 1 - 1e-6, (cell, values[cell], low, high)


def test_single_hidden_cell_in_a_total_gets_a_companion() -> None:
    cells = pd.DataFrame({"cell": ["t", "a", "b", "c"], "value": [30, 2, 13, 15]})
    relations = pd.DataFrame(
        {"relation": ["r"] * 4, "cell": ["t", "a", "b", "c"], "role": ["total", "part", "part", "part"]}
    )
    suppressed = protect(Table(cells, relations))
    assert suppressed["a"] and suppressed["b"] and not suppressed["c"] and not suppressed["t"]
    low, high = audit(Table(cells, relations), suppressed)["a"]
    assert low == 0 and high == 15


@pytest.fixture
def no_spark_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    import builtins

    real_import = builtins.__import__

    def fake(name: str, *args: object, **kwargs: object) -> object:
        if name.startswith("pyspark"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", fake)
    yield


def test_spark_missing_says_how_to_install(no_spark_env: None, tmp_path: Path) -> None:
    from wijkradar.linkage import spark_engine

    with pytest.raises(SparkMissing, match=r"pip install 'wijkradar\[spark\]'"):
        spark_engine.run(tmp_path, 2023)


def test_synth_cli(tmp_path: Path, full_db: Path) -> None:
    result = runner.invoke(
        app, ["synth", "--gemeente", "Almere", "--seed", "3", "--out", str(tmp_path), "--db", str(full_db)]
    )
    assert result.exit_code == 0, result.output
    people = pq.read_table(tmp_path / "persons.parquet").to_pandas()
    assert people["buurt_code"].str.startswith("BU0034").all() and len(people) > 150_000
    ages = 2023 - people["birth_year"]
    share_65 = float((ages >= 65).mean())
    assert 0.08 < share_65 < 0.2  # Almere is young: about 12% 65+ in the Kerncijfers
    assert np.isclose(
        people.groupby("household_id").size().mean(), len(people) / people["household_id"].nunique()
    )


# -- a linkage belongs to a gemeente (server review findings) -----------------------------------


def _small_register(folder: Path, elsewhere: int = 0) -> tuple[Path, Path]:
    """Forty households in an Almere buurt (every second with Wmo), plus persons living elsewhere."""
    folder.mkdir(parents=True, exist_ok=True)
    persons = ["person_id,household_id,birth_year,sex,buurt_code,period"]
    provisions = ["person_id,kind,start,end"]
    for i in range(80):
        persons.append(f"P{i},H{i // 2},{1940 + i % 50},{'MV'[i % 2]},BU00340211,2023")
        if i % 4 == 0:
            provisions.append(f"P{i},wmo,2023-01-01,")
    for i in range(elsewhere):
        persons.append(f"A{i},AH{i},1950,V,BU03630000,2023")
        provisions.append(f"A{i},jeugd,2023-02-01,")
    (folder / "persons.csv").write_text("\n".join(persons) + "\n", encoding="utf-8")
    (folder / "provisions.csv").write_text("\n".join(provisions) + "\n", encoding="utf-8")
    return folder / "persons.csv", folder / "provisions.csv"


def test_persons_outside_the_gemeente_are_counted_and_left_out(wh: Warehouse, tmp_path: Path) -> None:
    persons, provisions = _small_register(tmp_path / "in", elsewhere=60)
    report = run_linkage(wh, persons, provisions, 2023, KEY, gemeente="GM0034")
    assert report.outside == 60 and report.persons == 80
    codes = set(wh.observations.table(period="2023")["region_code"])
    assert codes and all(c.startswith(("BU0034", "WK0034", "GM0034")) for c in codes)


@pytest.mark.parametrize(
    ("extra", "needle"),
    [(("--threshold", "1"), "schakelt de onthullingscontrole uit"), (("--threshold", "3"), "--reden")],
)
def test_the_disclosure_threshold_has_a_floor(tmp_path: Path, extra: tuple[str, ...], needle: str) -> None:
    persons, provisions = _small_register(tmp_path / "in")
    args = ["linkage", "run", "--persons", str(persons), "--provisions", str(provisions), "--period", "2023"]
    key_file = tmp_path / "sleutel"
    key_file.write_bytes(b"x" * 32)
    db = ["--db", str(tmp_path / "w.duckdb"), "--key-file", str(key_file)]
    result = runner.invoke(app, [*args, "--gemeente", "GM0034", *extra, *db])
    assert result.exit_code == 2 and needle in result.output
    allowed = runner.invoke(
        app, [*args, "--gemeente", "GM0034", "--threshold", "3", "--reden", "proef met GGD", *db]
    )
    assert allowed.exit_code == 0, allowed.output
    assert "Koppeling klaar in " in allowed.stderr
    with Warehouse.open(tmp_path / "w.duckdb", read_only=True) as wh:
        note = wh.sources.table()["note"].iloc[0]
    assert "drempel 3 in plaats van 5, reden: proef met GGD" in note and "aantallen 1-2 onderdrukt" in note


def test_none_or_all_of_a_small_group_is_suppressed() -> None:
    from wijkradar.linkage.api import small_group_extremes

    meta = pd.DataFrame(
        {
            "region": ["BU00010001"] * 3 + ["BU00010002"] * 3,
            "measure": ["huishoudens_totaal", "stapeling_wmo", "stapeling_jeugd"] * 2,
            "group": "huishoudens",
        }
    )
    meta["cell"] = meta["region"] + "|" + meta["measure"]
    meta["value"] = [12, 12, 0, 400, 400, 0]
    cells = meta[["cell", "value"]]
    marked = small_group_extremes(cells, meta, threshold=5)
    assert marked.to_dict() == {
        "BU00010001|huishoudens_totaal": False,
        "BU00010001|stapeling_wmo": True,  # all 12 households: 100% of a small group
        "BU00010001|stapeling_jeugd": True,  # none of them: 0%
        "BU00010002|huishoudens_totaal": False,
        "BU00010002|stapeling_wmo": False,  # a large group may show 100%
        "BU00010002|stapeling_jeugd": False,
    }


def test_a_malformed_csv_line_is_named_never_quoted(tmp_path: Path) -> None:
    persons, provisions = _small_register(tmp_path / "in")
    lines = persons.read_text(encoding="utf-8").splitlines()
    lines[40] = 'GEHEIM-ID-4711,"HH-GEHEIM,1950,V,BU00340211,2023,extra,"'
    persons.write_text("\n".join(lines) + "\n", encoding="utf-8")
    key_file = tmp_path / "sleutel"
    key_file.write_bytes(b"x" * 32)
    args = ["linkage", "run", "--persons", str(persons), "--provisions", str(provisions), "--period", "2023"]
    result = runner.invoke(
        app, [*args, "--gemeente", "GM0034", "--key-file", str(key_file), "--db", str(tmp_path / "w.duckdb")]
    )
    assert result.exit_code == 2 and "persons.csv" in result.output, result.output
    assert "GEHEIM" not in result.output and "Traceback" not in result.output
    missing = runner.invoke(
        app,
        [
            "linkage",
            "run",
            "--persons",
            str(tmp_path / "weg.csv"),
            "--provisions",
            str(provisions),
            "--period",
            "2023",
            "--gemeente",
            "GM0034",
            "--key-file",
            str(key_file),
            "--db",
            str(tmp_path / "w.duckdb"),
        ],
    )
    assert missing.exit_code == 2 and "bestaat niet" in missing.output and "Traceback" not in missing.output


def test_no_person_level_file_survives_a_killed_run(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    script = (
        "from wijkradar.linkage.scratch import scratch_folder\n"
        "import time\n"
        "with scratch_folder() as folder:\n"
        "    (folder / 'persons.parquet').write_bytes(b'pseudoniemen')\n"
        "    print(folder, flush=True)\n"
        "    time.sleep(60)\n"
    )
    run = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert run.stdout is not None
    folder = Path(run.stdout.readline().strip())
    assert (folder / "persons.parquet").exists()
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    deadline = time.monotonic() + 10
    while folder.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not folder.exists()

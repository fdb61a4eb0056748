"""Run a linkage end to end: intake, link on an engine, aggregate, protect, store as observations."""

from __future__ import annotations

import hashlib
import itertools
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from wijkradar.errors import InputError
from wijkradar.ingest import FileReport, checksum, store
from wijkradar.linkage import duckdb_engine
from wijkradar.linkage.definition import AGE_BANDS, KINDS
from wijkradar.linkage.scratch import scratch_folder
from wijkradar.privacy import DEFAULT_THRESHOLD, Key, Table, protect
from wijkradar.regions import gemeente_codes, wijk_codes
from wijkradar.sources.model import (
    MEASURE_COLUMNS,
    OBS_COLUMNS,
    OWN_DATA_PUBLISHER,
    Dataset,
    SourceMeta,
    regions_frame,
)
from wijkradar.steps import OnStep, unseen
from wijkradar.warehouse import Warehouse

Engine = Literal["duckdb", "spark"]
COMBINATIONS = ["geen"] + [
    "+".join(c) for n in range(1, len(KINDS) + 1) for c in itertools.combinations(KINDS, n)
]
KIND_NL = {"wmo": "Wmo", "jeugd": "jeugdhulp", "bijstand": "bijstand", "other": "andere voorziening"}
SOURCE_TABLE = "stapeling"


@dataclass
class LinkageReport:
    """What a linkage run did, for the CLI and the closing figures."""

    period: int
    engine: str
    persons: int
    provisions: int
    households: int
    cells: int
    suppressed_primary: int
    suppressed_secondary: int
    gemeente: str = ""
    outside: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    stored: FileReport | None = None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


LINKAGE_STEPS: Final = (
    "pseudonimiseren en inlezen",
    "koppelen en tellen",
    "kleine aantallen afschermen",
    "opslaan",
)


def link(
    persons: Path,
    provisions: Path,
    period: int,
    key: Key,
    *,
    gemeente: str,
    engine: Engine = "duckdb",
    master: str | None = None,
    on_step: OnStep = unseen,
) -> tuple[dict[str, pd.DataFrame], dict[str, int], dict[str, float]]:
    """Pseudonymise and link one gemeente's persons; return buurt-level tables, counts and timings.

    The pseudonymised person-level files live in a temporary folder that is removed afterwards,
    also when this process is killed (see :func:`wijkradar.linkage.scratch.scratch_folder`).
    """
    seconds: dict[str, float] = {}
    with scratch_folder() as tmp:
        start = time.perf_counter()
        on_step(LINKAGE_STEPS[0])
        counts = duckdb_engine.intake(persons, provisions, key, Path(tmp), gemeente)
        seconds["intake"] = time.perf_counter() - start
        start = time.perf_counter()
        on_step(LINKAGE_STEPS[1])
        if engine == "spark":
            from wijkradar.linkage import spark_engine

            tables = spark_engine.run(Path(tmp), period, master or "local[*]")
        else:
            tables = duckdb_engine.run(Path(tmp), period)
        seconds["link"] = time.perf_counter() - start
    return tables, counts, seconds


def run_linkage(
    wh: Warehouse,
    persons: Path,
    provisions: Path,
    period: int,
    key: Key,
    *,
    engine: Engine = "duckdb",
    master: str | None = None,
    gemeente: str,
    threshold: int = DEFAULT_THRESHOLD,
    reason: str | None = None,
    on_step: OnStep = unseen,
) -> LinkageReport:
    """Link one gemeente's register, protect and store the results as that gemeente's own measures.

    ``threshold`` is the smallest count shown: 5 unless a lower one comes with a ``reason``, which
    is stored with the figures. ``on_step`` hears each of the :data:`LINKAGE_STEPS` as it begins.
    """
    for path in (persons, provisions):
        if not path.is_file():
            raise InputError(str(path), "bestand bestaat niet", fix="controleer het pad")
    _check_threshold(threshold, reason)
    digest = hashlib.sha256(
        f"{checksum(persons)}|{checksum(provisions)}|{period}|{threshold}|{gemeente}".encode()
    ).hexdigest()
    known = wh.sources.by_checksum(digest)
    if known is not None:
        return LinkageReport(
            period=period,
            engine=engine,
            persons=0,
            provisions=0,
            households=0,
            cells=0,
            suppressed_primary=0,
            suppressed_secondary=0,
            stored=FileReport(
                path=f"{persons.name} + {provisions.name}",
                action="unchanged",
                table_id=SOURCE_TABLE,
                message="al gekoppeld met dezelfde invoer; niets gewijzigd",
            ),
        )
    tables, counts, seconds = link(
        persons, provisions, period, key, gemeente=gemeente, engine=engine, master=master, on_step=on_step
    )
    start = time.perf_counter()
    on_step(LINKAGE_STEPS[2])
    cells, relations, meta = cell_table(tables)
    whole = small_group_extremes(cells, meta, threshold)
    suppressed = protect(Table(cells, relations), threshold, also=whole)
    values = cells.set_index("cell")["value"]
    primary = int(
        (((values > 0) & (values < threshold)) | whole.reindex(values.index, fill_value=False)).sum()
    )
    seconds["disclosure"] = time.perf_counter() - start
    dataset = to_dataset(cells, meta, suppressed, period, engine, threshold, (persons, provisions), reason)
    start = time.perf_counter()
    on_step(LINKAGE_STEPS[3])
    stored = store(wh, f"{persons.name} + {provisions.name}", digest, dataset)
    seconds["store"] = time.perf_counter() - start
    households = int(
        cells.loc[(meta["measure"] == "huishoudens_totaal") & (meta["level"] == "buurt"), "value"].sum()
    )
    return LinkageReport(
        period=period,
        engine=engine,
        gemeente=gemeente,
        outside=counts["outside"],
        persons=counts["persons"],
        provisions=counts["provisions"],
        households=households,
        cells=len(cells),
        suppressed_primary=primary,
        suppressed_secondary=int(suppressed.sum()) - primary,
        seconds=seconds,
        stored=stored,
        tables=tables,
    )


def _measure_id(combination: str) -> str:
    return "stapeling_" + combination.replace("+", "_")


SMALL_GROUP_FACTOR: Final = 4  # a buurt with fewer than 4 x threshold households is a small group
MIN_THRESHOLD: Final = 2


def _check_threshold(threshold: int, reason: str | None) -> None:
    """Keep the disclosure rule on: below 5 only with a stated reason, and never below 2."""
    if threshold < MIN_THRESHOLD:
        raise InputError(
            "--threshold",
            f"drempel {threshold} schakelt de onthullingscontrole uit",
            fix=f"gebruik {DEFAULT_THRESHOLD} (of minstens {MIN_THRESHOLD} met --reden)",
        )
    if threshold < DEFAULT_THRESHOLD and not (reason or "").strip():
        raise InputError(
            "--threshold",
            f"drempel {threshold} ligt onder de standaard {DEFAULT_THRESHOLD}",
            fix="geef met --reden op waarom (de reden wordt bij de cijfers bewaard), of gebruik 5",
        )


def small_group_extremes(cells: pd.DataFrame, meta: pd.DataFrame, threshold: int) -> pd.Series:
    """Mark household counts that are 0% or 100% of a small group (index: cell id).

    In a buurt of a dozen households, "none of them" or "all of them" tells something about every
    household; such cells are suppressed like small counts.
    """
    totals = meta[meta["measure"] == "huishoudens_totaal"].set_index("region")["value"]
    parts = meta["group"].eq("huishoudens") & meta["measure"].ne("huishoudens_totaal")
    total = meta["region"].map(totals).to_numpy(dtype=float)
    value = cells["value"].to_numpy(dtype=float)
    small = (total > 0) & (total < SMALL_GROUP_FACTOR * threshold)
    extreme = parts.to_numpy() & small & ((value == 0) | (value == total))
    return pd.Series(extreme, index=cells["cell"].to_numpy())


def cell_table(tables: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """All published count cells at buurt, wijk and gemeente level, and the relations between them.

    Returns ``cells`` (cell, value), ``relations`` (relation, cell, role) and ``meta`` (region,
    level, measure, group) aligned with ``cells``.
    """
    combos = tables["combinations"]
    wide = combos.pivot_table(index="buurt_code", columns="combination", values="households", aggfunc="sum")
    wide = wide.reindex(columns=COMBINATIONS).fillna(0).astype(np.int64)
    wide.columns = [_measure_id(c) for c in COMBINATIONS]
    two_plus = [_measure_id(c) for c in COMBINATIONS if c != "geen" and c.count("+") >= 1]
    wide["huishoudens_totaal"] = wide[[_measure_id(c) for c in COMBINATIONS]].sum(axis=1)
    wide["stapeling_2plus"] = wide[two_plus].sum(axis=1)
    ages = tables["ages"]
    bands = [name for name, _, _ in AGE_BANDS]
    age_wide = ages.pivot_table(index="buurt_code", columns="age_band", values="persons", aggfunc="sum")
    age_wide = age_wide.reindex(index=wide.index, columns=bands).fillna(0).astype(np.int64)
    age_wide.columns = [f"stapeling_personen_{b}" for b in bands]
    buurt = pd.concat([wide, age_wide], axis=1)
    buurt.index = buurt.index.astype(str)
    wijk = buurt.groupby(wijk_codes(buurt.index)).sum()
    gemeente = buurt.groupby(gemeente_codes(buurt.index)).sum()

    frames = []
    for level, frame in (("buurt", buurt), ("wijk", wijk), ("gemeente", gemeente)):
        long = frame.stack().reset_index()
        long.columns = pd.Index(["region", "measure", "value"])
        long["level"] = level
        frames.append(long)
    meta = pd.concat(frames, ignore_index=True)
    meta["group"] = np.where(meta["measure"].str.startswith("stapeling_personen"), "personen", "huishoudens")
    meta["cell"] = meta["region"] + "|" + meta["measure"]
    cells = meta[["cell", "value"]].reset_index(drop=True)

    relations = []
    household_parts = [_measure_id(c) for c in COMBINATIONS]
    for level, frame in (("buurt", buurt), ("wijk", wijk), ("gemeente", gemeente)):
        for region in frame.index:
            relations.append((f"{region}|totaal", f"{region}|huishoudens_totaal", "total"))
            relations += [(f"{region}|totaal", f"{region}|{m}", "part") for m in household_parts]
            relations.append((f"{region}|2plus", f"{region}|stapeling_2plus", "total"))
            relations += [(f"{region}|2plus", f"{region}|{m}", "part") for m in two_plus]
        del level
    measures = list(buurt.columns)
    for child, prefix, width in ((buurt, "WK", 8), (wijk, "GM", 6)):
        for code in child.index:
            parent = prefix + str(code)[2:width]
            for m in measures:
                relations.append((f"{parent}|{m}|h", f"{code}|{m}", "part"))
    for parent in list(wijk.index) + list(gemeente.index):
        for m in measures:
            relations.append((f"{parent}|{m}|h", f"{parent}|{m}", "total"))
    relation_frame = pd.DataFrame(relations, columns=["relation", "cell", "role"])
    return cells, relation_frame, meta.reset_index(drop=True)


def _label(measure: str) -> tuple[str, str]:
    if measure == "huishoudens_totaal":
        return "Huishoudens (eigen registratie)", "aantal"
    if measure == "stapeling_2plus":
        return "Huishoudens met twee of meer soorten ondersteuning", "aantal"
    if measure.startswith("stapeling_personen_"):
        return (
            f"Personen {measure.rsplit('_', 1)[-1]} jaar in huishoudens met twee of meer soorten "
            "ondersteuning",
            "aantal",
        )
    combo = measure.removeprefix("stapeling_")
    if combo == "geen":
        return "Huishoudens zonder ondersteuning", "aantal"
    return "Huishoudens met " + " + ".join(KIND_NL[k] for k in combo.split("_")), "aantal"


def to_dataset(
    cells: pd.DataFrame,
    meta: pd.DataFrame,
    suppressed: pd.Series,
    period: int,
    engine: str,
    threshold: int,
    inputs: tuple[Path, Path],
    reason: str | None = None,
) -> Dataset:
    """Turn the protected cells (and rates per 1,000 households) into warehouse observations."""
    values = cells["value"].to_numpy(dtype=float)
    hidden = meta["cell"].map(suppressed).to_numpy(dtype=bool)
    counts = pd.DataFrame(
        {
            "region_code": meta["region"],
            "period": str(period),
            "measure_id": meta["measure"],
            "population_group": meta["group"],
            "value": np.where(hidden, np.nan, values),
            "lower": np.nan,
            "upper": np.nan,
            "status": np.where(hidden, "suppressed", "published"),
        }
    )
    totals = meta[meta["measure"] == "huishoudens_totaal"].set_index("region")["value"]
    household_rows = meta["group"].eq("huishoudens") & meta["measure"].ne("huishoudens_totaal")
    rate_meta = meta[household_rows]
    denominator = rate_meta["region"].map(totals).to_numpy(dtype=float)
    rate_hidden = hidden[household_rows.to_numpy()] | rate_meta["region"].map(
        lambda r: suppressed.get(f"{r}|huishoudens_totaal", False)
    ).to_numpy(dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.round(values[household_rows.to_numpy()] / denominator * 1000, 1)
    ok = ~rate_hidden & (denominator > 0)
    rates = pd.DataFrame(
        {
            "region_code": rate_meta["region"].to_numpy(),
            "period": str(period),
            "measure_id": rate_meta["measure"].to_numpy() + "_per_1000",
            "population_group": "huishoudens",
            "value": np.where(ok, rate, np.nan),
            "lower": np.nan,
            "upper": np.nan,
            "status": np.where(rate_hidden, "suppressed", np.where(ok, "published", "missing")),
        }
    )
    observations = pd.concat([counts, rates], ignore_index=True)[list(OBS_COLUMNS)]
    labels = []
    for measure in sorted(set(meta["measure"])):
        label, unit = _label(measure)
        labels.append((measure, label, unit, ""))
        if not measure.startswith("stapeling_personen") and measure != "huishoudens_totaal":
            labels.append(
                (f"{measure}_per_1000", f"{label} per 1 000 huishoudens", "per 1 000 huishoudens", "")
            )
    source = SourceMeta(
        publisher=OWN_DATA_PUBLISHER,
        table_id=SOURCE_TABLE,
        title=f"Stapeling van Wmo, jeugdhulp, bijstand en andere voorzieningen per huishouden, {period}",
        location=f"{inputs[0].name} + {inputs[1].name} (gepseudonimiseerd, niet bewaard)",
        format=f"linkage-{engine}",
        boundary_year=int(period),
        licence="intern; alleen geaggregeerd en na onthullingscontrole",
        note=(
            f"aantallen 1-{threshold - 1} onderdrukt, en 0% en 100% in groepen kleiner dan "
            f"{SMALL_GROUP_FACTOR * threshold} huishoudens, plus secundaire onderdrukking zodat geen cel "
            "uit totalen terug te rekenen is; aantallen niet afgerond; cijfers per 1 000 op 1 decimaal"
            + (f"; drempel {threshold} in plaats van {DEFAULT_THRESHOLD}, reden: {reason}" if reason else "")
        ),
    )
    regions = regions_frame(pd.Series(sorted(set(meta["region"]))))
    measures = pd.DataFrame(labels, columns=list(MEASURE_COLUMNS))
    return Dataset(meta=source, observations=observations, regions=regions, measures=measures)


def summary(report: LinkageReport) -> dict[str, Any]:
    """Return the report as plain data."""
    return {
        "period": report.period,
        "gemeente": report.gemeente,
        "engine": report.engine,
        "outside_gemeente": report.outside,
        "persons": report.persons,
        "provisions": report.provisions,
        "households": report.households,
        "cells": report.cells,
        "suppressed_primary": report.suppressed_primary,
        "suppressed_secondary": report.suppressed_secondary,
        "seconds": {k: round(v, 2) for k, v in report.seconds.items()},
        "stored": report.stored.action if report.stored else None,
    }

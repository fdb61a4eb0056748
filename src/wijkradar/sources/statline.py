"""StatLine tables in their wide layout: xlsx and CSV exports, and OData data pages.

A StatLine table (such as RIVM's 50090NED, *Gezondheid per wijk en buurt*) has dimension columns
(``WijkenEnBuurten``, ``Perioden``, ``Leeftijd``, ``Marges`` ...), region attributes
(``Gemeentenaam_1``, ``SoortRegio_2``, ``Codering_3``) and one column per topic
(``Eenzaam_28`` ...). Exports pad codes and values with spaces. The ``Marges`` dimension carries
the point estimate (``MW00000``) and, where published, the bounds of its 95% interval.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, partial
from importlib import resources
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from wijkradar.errors import InputError
from wijkradar.sources.model import (
    MEASURE_COLUMNS,
    OBS_COLUMNS,
    TOTAL_GROUP,
    Dataset,
    SourceMeta,
    check_codes,
    key_stem,
    long_frame,
    normalise_period,
    regions_frame,
    split_camel,
)
from wijkradar.sources.tabular import Table, load_table

REGION_DIMENSIONS: Final = ("WijkenEnBuurten", "RegioS", "Regio", "Gemeenten")
PERIOD_DIMENSION: Final = "Perioden"
MARGIN_DIMENSION: Final = "Marges"
ATTRIBUTE_STEMS: Final = frozenset(
    {"Gemeentenaam", "SoortRegio", "Codering", "IndelingswijzigingWijkenEnBuurten", "ID"}
)
# Age codes used by CBS in 50090NED and its successors, for files that carry no labels.
AGE_CODES: Final[dict[str, str]] = {
    "80200": "65+",
    "20300": "18+",
    "53115": "18-64",
    "10000": TOTAL_GROUP,
}
KNOWN_TABLES: Final[dict[str, tuple[str, str]]] = {
    # A topic only this table has -> (table id, publisher)
    "ErvarenGezondheidGoedZeerGoed": ("50090NED", "RIVM"),
}
TABLE_TITLES: Final[dict[str, str]] = {
    "50090NED": "Gezondheid per wijk en buurt (Gezondheidsmonitor Volwassenen en Ouderen)",
}
# RIVM publishes 50090NED on the boundaries of its last round, for every round.
TABLE_BOUNDARY_YEAR: Final[dict[str, int]] = {"50090NED": 2020}


@dataclass
class Labels:
    """Labels and units from a table's metadata (OData DataProperties), where available."""

    topics: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # key -> label, unit, descr
    dimension_titles: dict[str, dict[str, str]] = field(default_factory=dict)  # dim -> code -> title
    region_names: dict[str, str] = field(default_factory=dict)
    table_id: str | None = None
    title: str | None = None
    publisher: str | None = None


@cache
def rivm_catalogue() -> dict[str, tuple[str, str, str]]:
    """Dutch labels, units and descriptions of 50090NED's topics, by key stem."""
    text = (
        resources.files("wijkradar.sources.catalogue")
        .joinpath("rivm_50090NED.csv")
        .read_text(encoding="utf-8")
    )
    return {r["stem"]: (r["label"], r["unit"], r["description"]) for r in csv.DictReader(text.splitlines())}


@cache
def v3_keys_by_title() -> dict[str, dict[str, str]]:
    """Per table, its v3 column keys by measure title (lower case): how a v4 measure code is matched.

    CBS's v4 API names measures by code (``M001234``); the v3 API, CSV and xlsx by key
    (``Eenzaam_28``). The title (and, where titles repeat, the description) is the same in both.
    """
    text = (
        resources.files("wijkradar.sources.catalogue")
        .joinpath("rivm_50090NED.csv")
        .read_text(encoding="utf-8")
    )
    rows = list(csv.DictReader(text.splitlines()))
    return {"50090NED": {_title_key(r["label"], r["description"]): r["key"] for r in rows}}


def _title_key(title: str, description: str = "") -> str:
    return " ".join(title.lower().split()) + "|" + " ".join(description.lower().split())


def looks_like(columns: list[str]) -> bool:
    """Tell whether a header row is a StatLine wide table with a period dimension."""
    cols = set(columns)
    return PERIOD_DIMENSION in cols and any(d in cols for d in REGION_DIMENSIONS)


def missing_dimension(columns: list[str]) -> str | None:
    """Name the dimension a StatLine-like header lacks (a renamed or dropped column), if any.

    A header with topic keys (``Eenzaam_28``) and one of the two key dimensions is meant to be a
    StatLine table; saying which dimension is missing beats calling the format unknown.
    """
    cols = set(columns)
    has_topics = any(re.search(r"_\d+$", c) for c in cols)
    has_region = any(d in cols for d in REGION_DIMENSIONS)
    if has_topics and has_region and PERIOD_DIMENSION not in cols and MARGIN_DIMENSION in cols:
        return PERIOD_DIMENSION
    if has_topics and PERIOD_DIMENSION in cols and not has_region:
        return "WijkenEnBuurten"
    return None


def read_file(path: Path) -> Dataset:
    """Read a StatLine xlsx or CSV export (UntypedDataSet layout).

    Examples
    --------
    >>> ds = read_file(Path("../shared/data/rivm-gezondheid-wijk-buurt/2020_65plus.xlsx"))
    ... # doctest: +SKIP
    """
    return from_table(path, load_table(path))


def from_table(path: Path, table: Table) -> Dataset:
    """Read a StatLine export that has already been loaded as text."""
    fmt = "statline-xlsx" if path.suffix.lower().startswith(".xls") else "statline-csv"
    return from_wide(table, file=str(path), location=str(path.resolve()), fmt=fmt, labels=Labels())


def from_wide(table: Table, *, file: str, location: str, fmt: str, labels: Labels) -> Dataset:
    """Turn a wide StatLine frame into a Dataset (shared by the file and OData readers)."""
    frame = table.frame
    columns = list(frame.columns)
    region_dim = next((d for d in REGION_DIMENSIONS if d in columns), None)
    if region_dim is None or PERIOD_DIMENSION not in columns:
        missing = [c for c in ("WijkenEnBuurten", PERIOD_DIMENSION) if c not in columns]
        raise InputError(
            file,
            f"kolom(men) {', '.join(repr(m) for m in missing)} niet gevonden; gevonden: "
            + ", ".join(columns[:12]),
            fix="exporteer de tabel uit StatLine met de codes (onbewerkte dataset) en hernoem geen kolommen",
        )
    topics = [c for c in columns if _is_topic(c, frame[c], labels)]
    dims = [c for c in columns if c not in topics and key_stem(c) not in ATTRIBUTE_STEMS and c != region_dim]
    group_dims = [d for d in dims if d not in (PERIOD_DIMENSION, MARGIN_DIMENSION)]
    table_id, publisher = _identify(topics, labels, file)

    codes = check_codes(frame[region_dim], file=file, column=region_dim, first_row=table.first_row)
    periods = _map_unique(frame[PERIOD_DIMENSION].astype("string").str.strip(), normalise_period)
    groups = _groups(frame, group_dims, labels)
    margin = (
        _margin_kind(frame, labels) if MARGIN_DIMENSION in columns else pd.Series("value", index=frame.index)
    )

    measure_ids = {c: c for c in topics}
    long = long_frame(
        frame,
        keys={"region_code": codes, "period": periods, "population_group": groups},
        measures=measure_ids,
        file=file,
        first_row=table.first_row,
        decimal_comma=table.decimal_comma,
    )
    long["margin"] = np.tile(margin.to_numpy(), len(topics)) if topics else []
    observations = _fold_margins(long)

    names = _region_names(frame, codes, labels)
    regions = regions_frame(codes, names)
    measures = _measures(topics, measure_ids, labels, publisher)
    boundary_year = TABLE_BOUNDARY_YEAR.get(table_id) or int(max(p[:4] for p in periods.unique()))
    meta = SourceMeta(
        publisher=publisher,
        table_id=table_id,
        title=labels.title or TABLE_TITLES.get(table_id, table_id),
        location=location,
        format=fmt,
        boundary_year=boundary_year,
    )
    return Dataset(meta=meta, observations=observations, regions=regions, measures=measures)


def _is_topic(column: str, values: pd.Series, labels: Labels) -> bool:
    if labels.topics:
        return column in labels.topics
    if column in REGION_DIMENSIONS or column in (PERIOD_DIMENSION, MARGIN_DIMENSION):
        return False
    if key_stem(column) in ATTRIBUTE_STEMS or not re.search(r"_\d+$", column):
        return False
    return True


def _identify(topics: list[str], labels: Labels, file: str) -> tuple[str, str]:
    if labels.table_id:
        stems = {key_stem(t) for t in topics}
        publisher = labels.publisher or next(
            (pub for stem, (tid, pub) in KNOWN_TABLES.items() if stem in stems and tid == labels.table_id),
            "CBS",
        )
        return labels.table_id, publisher
    stems = {key_stem(t) for t in topics}
    for stem, found in KNOWN_TABLES.items():
        if stem in stems:
            return found
    match = re.search(r"(\d{5,6}[A-Z]{3})", Path(file).name.upper())
    if match:
        return match.group(1), "CBS"
    raise InputError(
        file,
        "onbekend welke StatLine-tabel dit is",
        fix="zet het tabelnummer in de bestandsnaam, bijvoorbeeld 50090NED_2020.csv",
    )


def _groups(frame: pd.DataFrame, group_dims: list[str], labels: Labels) -> pd.Series:
    if not group_dims:
        return pd.Series(TOTAL_GROUP, index=frame.index, dtype=object)
    parts = []
    for dim in group_dims:
        codes = frame[dim].astype("string").str.strip()
        titles = labels.dimension_titles.get(dim, {})
        parts.append(_map_unique(codes, partial(_group_label_of, dim, titles)))
    out = parts[0]
    for extra in parts[1:]:
        out = out + ";" + extra
    return out.astype(object)


def _group_label_of(dim: str, titles: dict[str, str], code: str) -> str:
    return _group_label(dim, code, titles.get(code))


def _group_label(dim: str, code: str, title: str | None) -> str:
    """Short population-group label: '65+', '18-64', or the title/code when unknown."""
    if dim == "Leeftijd":
        if code in AGE_CODES:
            return AGE_CODES[code]
        if title:
            m = re.match(r"(\d+) jaar of ouder", title)
            if m:
                return f"{m.group(1)}+"
            m = re.match(r"(\d+) tot (\d+) jaar", title)
            if m:
                return f"{m.group(1)}-{int(m.group(2)) - 1}"
    if title and title.lower() in ("totaal", "totaal mannen en vrouwen", "totaal leeftijd"):
        return TOTAL_GROUP
    return f"{dim}={title or code}"


def _map_unique(values: pd.Series, func: Callable[[str], str]) -> pd.Series:
    """Apply ``func`` once per distinct value: a table repeats a handful of codes many times."""
    idx, uniques = pd.factorize(values)
    mapped = np.asarray([func(str(u)) for u in uniques], dtype=object)
    return pd.Series(mapped[idx], index=values.index, dtype=object)


def _margin_kind(frame: pd.DataFrame, labels: Labels) -> pd.Series:
    codes = frame[MARGIN_DIMENSION].astype("string").str.strip()
    titles = labels.dimension_titles.get(MARGIN_DIMENSION, {})

    def kind(code: str) -> str:
        title = titles.get(code, "").lower()
        if code.startswith("MW") or "waarde" in title:
            return "value"
        if "ondergrens" in title or code.startswith(("MOG", "MO")):
            return "lower"
        if "bovengrens" in title or code.startswith(("MBG", "MB")):
            return "upper"
        return "other"

    return _map_unique(codes, kind)


def _fold_margins(long: pd.DataFrame) -> pd.DataFrame:
    """Put lower and upper bounds beside the point estimate they belong to."""
    key = ["region_code", "period", "measure_id", "population_group"]
    point = long[long["margin"] == "value"].drop(columns=["margin", "lower", "upper"])
    for bound in ("lower", "upper"):
        part = long.loc[long["margin"] == bound, [*key, "value"]].rename(columns={"value": bound})
        point = point.merge(part, on=key, how="left") if len(part) else point.assign(**{bound: np.nan})
    return point[list(OBS_COLUMNS)].reset_index(drop=True)


def _region_names(frame: pd.DataFrame, codes: pd.Series, labels: Labels) -> pd.Series:
    names = codes.map(labels.region_names) if labels.region_names else pd.Series(None, index=codes.index)
    gm_col = next((c for c in frame.columns if key_stem(c) == "Gemeentenaam"), None)
    if gm_col is not None:
        # In 50090NED, Gemeentenaam holds the gemeente's name on every row; it names a region
        # only on the gemeente's own row.
        is_gm = codes.str.startswith("GM").to_numpy()
        gm_names = frame[gm_col].astype("string").str.strip()
        names = names.where(~(is_gm & names.isna().to_numpy()), gm_names)
    return names


def _measures(topics: list[str], measure_ids: dict[str, str], labels: Labels, publisher: str) -> pd.DataFrame:
    catalogue = rivm_catalogue() if publisher == "RIVM" else {}
    rows = []
    for column in topics:
        mid = measure_ids[column]
        if column in labels.topics:
            label, unit, description = labels.topics[column]
        elif key_stem(column) in catalogue:
            label, unit, description = catalogue[key_stem(column)]
        else:
            label, unit, description = split_camel(column), "", ""
        rows.append((mid, label, unit, description))
    return pd.DataFrame(rows, columns=list(MEASURE_COLUMNS)).drop_duplicates("measure_id")

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
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from wijkradar.errors import InputError
from wijkradar.regions import CODE_PATTERN, level_mask
from wijkradar.sources.kwb import KWB_TABLE_IDS, kwb_measure_ids
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
from wijkradar.sources.monitor import monitor_label, monitor_measure_ids, monitor_title
from wijkradar.sources.tabular import Table, load_table

# The names CBS gives its region dimension; used only to word an error and to route a file to this
# reader: which column holds the regions is decided from the metadata or the values.
REGION_DIMENSIONS: Final = ("WijkenEnBuurten", "RegioS", "Regio", "Gemeenten", "Wijken", "Buurten")
PERIOD_DIMENSION: Final = "Perioden"
MARGIN_DIMENSION: Final = "Marges"
# Region attributes CBS publishes as (string) topics beside the figures: never measures.
ATTRIBUTE_STEMS: Final = frozenset(
    {"Gemeentenaam", "SoortRegio", "Codering", "ID", "Meestvoorkomendepostcode"}
)
ATTRIBUTE_PREFIXES: Final = ("Indelingswijziging",)
# Share of a column's (non-empty) cells that must be CBS region codes for it to hold the regions.
CODE_SHARE: Final = 0.8
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
    geo_dimension: str | None = None  # the GeoDimension or GeoDetail of the metadata
    map_year: int | None = None  # the indeling of its codes (a GeoDetail's MapYear)
    period_note: str = ""  # where the period came from, when the table has no time dimension
    attributes: set[str] = field(default_factory=set)  # string topics: region attributes
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


def measure_ids_for(table_id: str, topics: list[str]) -> dict[str, str]:
    """Map a table's topic keys to the measure ids that are the same in every year's table.

    Kerncijfers land on CBS's short names (``a_inw``), the Monitor Sociaal Domein on its
    catalogue's ids; other tables keep their keys.
    """
    if table_id in KWB_TABLE_IDS.values():
        return kwb_measure_ids(topics)
    return monitor_measure_ids(table_id, topics)


def table_title(table_id: str) -> str:
    """Return a table's title where wijkradar knows it, else its id."""
    return monitor_title(table_id) or TABLE_TITLES.get(table_id, table_id)


def _title_key(title: str, description: str = "") -> str:
    return " ".join(title.lower().split()) + "|" + " ".join(description.lower().split())


def is_attribute(column: str) -> bool:
    """Tell whether a column is one of CBS's region attributes (name, kind, code, change flag).

    Examples
    --------
    >>> is_attribute("Codering_3"), is_attribute("IndelingswijzigingWijken_4"), is_attribute("Eenzaam_28")
    (True, True, False)
    """
    stem = key_stem(column)
    return stem in ATTRIBUTE_STEMS or stem.startswith(ATTRIBUTE_PREFIXES)


def looks_like(columns: list[str]) -> bool:
    """Tell whether a header row is a StatLine wide table with a period dimension.

    A period and either a known region dimension or CBS's ``Codering`` attribute (``cbsodata``
    saves the region dimension as titles, with the code in ``Codering_N``).
    """
    cols = set(columns)
    has_coding = any(key_stem(c) == "Codering" for c in cols)
    return PERIOD_DIMENSION in cols and (has_coding or any(d in cols for d in REGION_DIMENSIONS))


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
    topics = [c for c in columns if _is_topic(c, frame[c], labels)]
    dims = [c for c in columns if c not in topics and not is_attribute(c) and c not in labels.attributes]
    region_dim, code_column = _region_columns(frame, dims, labels)
    if region_dim is None or code_column is None:
        raise InputError(
            file,
            "geen regio-indeling: geen kolom met CBS-regiocodes (GM0034, WK003401 ...); dimensies: "
            + (", ".join(dims) or "geen"),
            fix="wijkradar leest tabellen per gemeente, wijk of buurt: kies de regionale tabel, of "
            "exporteer uit StatLine met de codes (onbewerkte dataset) zonder kolommen te hernoemen",
        )
    if PERIOD_DIMENSION not in columns:
        raise InputError(
            file,
            f"kolom '{PERIOD_DIMENSION}' niet gevonden; gevonden: " + ", ".join(columns[:12]),
            column=PERIOD_DIMENSION,
            fix="exporteer de tabel uit StatLine met de codes (onbewerkte dataset) en hernoem geen kolommen",
        )
    frame, passed_over = _rows_with_codes(frame, code_column, topics, file, table.first_row)
    group_dims = [d for d in dims if d not in (region_dim, PERIOD_DIMENSION, MARGIN_DIMENSION)]
    table_id, publisher = _identify(topics, labels, file)

    codes = check_codes(frame[code_column], file=file, column=code_column, first_row=table.first_row)
    periods = _map_unique(frame[PERIOD_DIMENSION].astype("string").str.strip(), normalise_period)
    groups = _groups(frame, group_dims, labels)
    margin = (
        _margin_kind(frame, labels) if MARGIN_DIMENSION in columns else pd.Series("value", index=frame.index)
    )

    measure_ids = measure_ids_for(table_id, topics)
    long = long_frame(
        frame,
        keys={"region_code": codes, "period": periods, "population_group": groups},
        measures=measure_ids,
        file=file,
        first_row=table.first_row,
        decimal_comma=table.decimal_comma,
    )
    if (margin != "value").any():  # bounds to put beside their values (RIVM's estimates)
        long["margin"] = np.tile(margin.to_numpy(), len(topics)) if topics else []
        observations = _fold_margins(long)
    else:
        observations = long

    names = _region_names(frame, codes, labels, None if region_dim == code_column else region_dim)
    regions = regions_frame(codes, names)
    measures = _measures(topics, measure_ids, labels, publisher)
    boundary_year = (
        TABLE_BOUNDARY_YEAR.get(table_id) or labels.map_year or int(max(p[:4] for p in periods.unique()))
    )
    notes = [
        labels.period_note,
        f"{passed_over} rijen zonder regiocode en zonder cijfers overgeslagen" if passed_over else "",
    ]
    note = "; ".join(n for n in notes if n)
    meta = SourceMeta(
        publisher=publisher,
        table_id=table_id,
        title=labels.title or TABLE_TITLES.get(table_id) or table_title(table_id),
        location=location,
        format=fmt,
        boundary_year=boundary_year,
        note=note,
    )
    return Dataset(meta=meta, observations=observations, regions=regions, measures=measures)


def _share_of_codes(values: pd.Series) -> float:
    """Share of the non-empty cells (of a sample) that are CBS region codes."""
    distinct = pd.Series(pd.unique(values.dropna()), dtype="string")  # a few, however long the table
    sample = distinct.str.strip().str.upper()
    sample = sample[sample != ""].drop_duplicates().head(500)
    if sample.empty:
        return 0.0
    return float(sample.str.fullmatch(CODE_PATTERN).fillna(False).mean())


def _region_columns(frame: pd.DataFrame, dims: list[str], labels: Labels) -> tuple[str | None, str | None]:
    """Find the region dimension and the column with its codes, from the metadata or the values.

    The dimension holds the codes (the API, StatLine's exports), or their titles with the codes in
    CBS's ``Codering`` attribute (``cbsodata``'s saves): then the dimension is the one named in
    the metadata, or else the one whose titles pair off with the codes most nearly one to one (a
    category such as 'Totaal' recurs with every code).
    """
    named = labels.geo_dimension if labels.geo_dimension in frame.columns else None
    for column in [named, *dims] if named else dims:
        if column is not None and column != PERIOD_DIMENSION and _share_of_codes(frame[column]) >= CODE_SHARE:
            return column, column
    coding = next((c for c in frame.columns if key_stem(c) == "Codering"), None)
    if coding is None or _share_of_codes(frame[coding]) < CODE_SHARE:
        return None, None
    if named:
        return named, coding
    others = [d for d in dims if d not in (PERIOD_DIMENSION, MARGIN_DIMENSION)]
    if not others:
        return coding, coding
    codes, _ = pd.factorize(frame[coding].astype("string").str.strip())

    def pairing(dim: str) -> float:
        """Share of codes with one title times share of titles with one code (1: a perfect pairing)."""
        titles, uniques = pd.factorize(frame[dim].astype("string").str.strip())
        width = len(uniques) + 1
        pairs = np.unique((codes.astype(np.int64) + 1) * width + titles + 1)  # each pair as one number
        one_title = float((np.unique(pairs // width, return_counts=True)[1] == 1).mean())
        one_code = float((np.unique(pairs % width, return_counts=True)[1] == 1).mean())
        return one_title * one_code

    return max(others, key=pairing), coding


def _rows_with_codes(
    frame: pd.DataFrame, code_column: str, topics: list[str], file: str, first_row: int
) -> tuple[pd.DataFrame, int]:
    """Pass over rows without a region code that carry no figures; refuse one that carries figures.

    ``cbsodata`` saves such rows for a region CBS lists without a code (Aalsmeer in some
    Monitor Sociaal Domein tables): without a code a figure cannot be placed.
    """
    codes = frame[code_column].astype("string").str.strip()
    empty = (codes.isna() | (codes == "")).to_numpy()
    if not empty.any():
        return frame, 0
    cells = frame.loc[empty, topics]
    text = pd.Series(cells.to_numpy().ravel(), dtype="string").str.strip()  # one pass, row by row
    filled = (text.notna() & ~text.isin(["", "."])).to_numpy().reshape(cells.shape).any(axis=1)
    if filled.any():
        position = int(np.flatnonzero(empty)[int(np.flatnonzero(filled)[0])])
        raise InputError(
            file,
            "rij met cijfers maar zonder regiocode",
            row=first_row + position,
            column=code_column,
            fix="vul de CBS-regiocode in of verwijder de rij; download de tabel anders opnieuw",
        )
    kept = frame.loc[~empty]
    return kept, int(empty.sum())


def _is_topic(column: str, values: pd.Series, labels: Labels) -> bool:
    if labels.topics:
        return column in labels.topics and column not in labels.attributes
    if column in REGION_DIMENSIONS or column in (PERIOD_DIMENSION, MARGIN_DIMENSION):
        return False
    return not is_attribute(column) and bool(re.search(r"_\d+$", column))


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
    """One population group per row: every category dimension's category, totals left out.

    A row at the total of every category dimension is ``totaal``; otherwise its group names each
    category that is not a total (``Financieringsvorm=Pgb``), so two categories never collapse.
    """
    if not group_dims:
        return pd.Series(TOTAL_GROUP, index=frame.index, dtype=object)
    combined = np.zeros(len(frame), dtype=np.int64)
    labels_of: list[list[str]] = []
    for dim in group_dims:
        idx, uniques = pd.factorize(frame[dim].astype("string").str.strip())
        titles = labels.dimension_titles.get(dim, {})
        labels_of.append([_group_label(dim, str(u), titles.get(str(u))) for u in uniques])
        combined = combined * (len(uniques) + 1) + idx + 1  # each row's categories as one number
    rows, combos = pd.factorize(combined)
    joined = np.asarray([_join_groups(_categories(int(c), labels_of)) for c in combos], dtype=object)
    return pd.Series(joined[rows], index=frame.index, dtype=object)


def _categories(number: int, labels_of: list[list[str]]) -> list[str]:
    """Undo the numbering of :func:`_groups`: the label of each dimension's category, in order."""
    out = []
    for names in reversed(labels_of):
        number, position = divmod(number, len(names) + 1)
        out.append(names[position - 1] if position else TOTAL_GROUP)  # 0: an empty cell
    return out[::-1]


def _join_groups(parts: list[str]) -> str:
    named = [p for p in parts if p != TOTAL_GROUP]
    return ";".join(named) if named else TOTAL_GROUP


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
    if (title or code).lower().startswith("totaal") or re.fullmatch(r"T00\d+", code):
        return TOTAL_GROUP  # CBS's totals: 'Totaal', 'Totaal jeugdzorg', code T001038
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


def _region_names(frame: pd.DataFrame, codes: pd.Series, labels: Labels, title_dim: str | None) -> pd.Series:
    """Each region's name: from the metadata's code list, or the dimension's titles (``cbsodata``)."""
    if title_dim is not None:
        return frame[title_dim].astype("string").str.strip()
    names = codes.map(labels.region_names) if labels.region_names else pd.Series(None, index=codes.index)
    gm_col = next((c for c in frame.columns if key_stem(c) == "Gemeentenaam"), None)
    if gm_col is not None:
        # In 50090NED, Gemeentenaam holds the gemeente's name on every row; it names a region
        # only on the gemeente's own row.
        is_gm = level_mask(codes, "gemeente").to_numpy()
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
        elif monitor_label(mid):
            label, unit, description = monitor_label(mid) or ("", "", "")
        elif key_stem(column) in catalogue:
            label, unit, description = catalogue[key_stem(column)]
        else:
            label, unit, description = split_camel(column), "", ""
        rows.append((mid, label, unit, description))
    return pd.DataFrame(rows, columns=list(MEASURE_COLUMNS)).drop_duplicates("measure_id")

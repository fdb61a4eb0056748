"""Crosswalks between indelingen as published tables.

A crosswalk says which share of an area of one year lies in which area of another year.

The long form is ``year_from, year_to, <level>_from, <level>_to, weight`` (VNG's grenswijzigen
converted to long form, or a gemeente's own table), with an optional ``method`` column. Weights
may be counts (addresses, residents) or shares; they are stored as shares of the source area, so
they sum to 1 per source area. Tables such as VNG's list changed areas only: an area that is not
listed is taken as unchanged where nothing else says otherwise (see ``regions``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from wijkradar.errors import InputError
from wijkradar.regions import level_of
from wijkradar.sources.model import (
    CROSSWALK_METHODS,
    Dataset,
    SourceMeta,
    check_codes,
    parse_values,
    regions_frame,
    without_figures,
)
from wijkradar.sources.tabular import Table

PREFIXES: Final = ("buurt", "wijk", "gemeente", "code")
VNG_NOTE: Final = (
    "adresgewogen grenswijzigingen van VNG Realisatie; alleen gewijzigde wijken staan erin "
    "(licentie CC BY-NC-SA 4.0: niet voor commercieel gebruik)"
)


def code_columns(columns: list[str]) -> tuple[str, str] | None:
    """Find the pair of code columns (``wijk_from``/``wijk_to``, ``code_from``/``code_to`` ...)."""
    lower = {c.strip().lower(): c for c in columns}
    for prefix in PREFIXES:
        pair = (f"{prefix}_from", f"{prefix}_to")
        if all(p in lower for p in pair):
            return lower[pair[0]], lower[pair[1]]
    return None


def looks_like(columns: list[str]) -> bool:
    """Tell whether a header is a crosswalk in long form.

    Examples
    --------
    >>> looks_like(["year_from", "year_to", "wijk_from", "wijk_to", "weight"])
    True
    """
    lower = {c.strip().lower() for c in columns}
    return {"year_from", "year_to", "weight"} <= lower and code_columns(columns) is not None


def from_table(path: Path, table: Table) -> Dataset:
    """Read and check a crosswalk; refuse it whole when any row is wrong."""
    frame = table.frame
    file = str(path)
    first = table.first_row
    lower = {c.strip().lower(): c for c in frame.columns}
    pair = code_columns(list(frame.columns))
    assert pair is not None  # noqa: S101  # looks_like() was checked by the caller
    from_codes = check_codes(frame[pair[0]], file=file, column=pair[0], first_row=first)
    to_codes = check_codes(frame[pair[1]], file=file, column=pair[1], first_row=first)
    years = {}
    for key in ("year_from", "year_to"):
        values, _ = parse_values(frame[lower[key]], file=file, column=lower[key], first_row=first)
        bad = np.flatnonzero(~((values >= 1980) & (values <= 2100) & (values == np.round(values))))
        if len(bad):
            raise InputError(
                file,
                "geen geldig jaar",
                row=first + int(bad[0]),
                column=lower[key],
                fix="vul een jaartal in, bijvoorbeeld 2020",
            )
        years[key] = values.astype(int)
    weights, _ = parse_values(frame[lower["weight"]], file=file, column=lower["weight"], first_row=first)
    bad = np.flatnonzero(~(weights >= 0))
    if len(bad):
        raise InputError(
            file,
            "gewicht ontbreekt of is negatief",
            row=first + int(bad[0]),
            column=lower["weight"],
            fix="geef elk gewicht als getal van 0 of meer (aantal adressen, inwoners of een aandeel)",
        )
    levels_from = from_codes.map(level_of)
    mixed = np.flatnonzero((levels_from != to_codes.map(level_of)).to_numpy())
    if len(mixed):
        raise InputError(
            file,
            "de codes van en naar zijn van verschillend niveau",
            row=first + int(mixed[0]),
            column=pair[1],
            fix="koppel buurten aan buurten, wijken aan wijken en gemeenten aan gemeenten",
        )
    rows = pd.DataFrame(
        {
            "from_code": from_codes.to_numpy(),
            "from_year": years["year_from"],
            "to_code": to_codes.to_numpy(),
            "to_year": years["year_to"],
            "weight": weights,
        }
    )
    same_year = np.flatnonzero((rows["from_year"] >= rows["to_year"]).to_numpy())
    if len(same_year):
        raise InputError(
            file,
            "year_to moet later zijn dan year_from",
            row=first + int(same_year[0]),
            column=lower["year_to"],
            fix="zet het oudste jaar in year_from en het nieuwste in year_to",
        )
    totals = rows.groupby(["from_code", "from_year", "to_year"])["weight"].transform("sum")
    zero = np.flatnonzero((totals <= 0).to_numpy())
    if len(zero):
        raise InputError(
            file,
            "de gewichten van dit brongebied tellen op tot 0, dus het kan nergens heen",
            row=first + int(zero[0]),
            column=lower["weight"],
            fix="geef ten minste één doelgebied van dit brongebied een gewicht groter dan 0, "
            "of laat het brongebied weg",
        )
    rows["weight"] = rows["weight"] / totals
    rows["method"] = _methods(frame, lower, path, first)
    vng = "grenswijzig" in str(path).lower()
    year_list = sorted({*rows["from_year"].tolist(), *rows["to_year"].tolist()})
    meta = SourceMeta(
        publisher="VNG Realisatie" if vng else "eigen tabel",
        table_id=f"crosswalk:{path.stem}",
        title=f"Omzettabel {level_of(str(rows['from_code'].iloc[0]))}en "
        f"{year_list[0]}-{year_list[-1]} ({path.name})",
        location=str(path.resolve()),
        format="crosswalk-long",
        boundary_year=int(rows["to_year"].max()),
        licence="CC BY-NC-SA 4.0" if vng else "eigen gegevens",
        note=VNG_NOTE if vng else "",
    )
    return without_figures(meta, regions_frame(pd.Series(dtype=object)), kind="crosswalk", crosswalk=rows)


def _methods(frame: pd.DataFrame, lower: dict[str, str], path: Path, first: int) -> pd.Series:
    if "method" not in lower:
        if "grenswijzig" in str(path).lower():
            return pd.Series(["addresses"] * len(frame), dtype=object)
        raise InputError(
            str(path),
            "kolom 'method' ontbreekt: niet bekend waarop de gewichten berusten",
            column="method",
            fix="voeg een kolom method toe met " + ", ".join(CROSSWALK_METHODS[:3]),
        )
    column = lower["method"]
    methods = frame[column].astype("string").str.strip().str.lower()
    bad = np.flatnonzero((~methods.isin(CROSSWALK_METHODS)).to_numpy())
    if len(bad):
        raise InputError(
            str(path),
            "onbekende methode",
            row=first + int(bad[0]),
            column=column,
            value=str(frame[column].iloc[int(bad[0])]),
            fix="gebruik een van: " + ", ".join(CROSSWALK_METHODS),
        )
    return methods.astype(object)

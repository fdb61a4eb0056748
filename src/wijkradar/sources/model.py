"""The common shape every reader produces, and CBS's conventions for missing values."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import pandas as pd

from wijkradar.errors import InputError
from wijkradar.regions import gemeente_of, is_valid_code, level_of, normalise_code, wijk_of

PUBLISHED: Final = "published"
MISSING: Final = "missing"
SUPPRESSED: Final = "suppressed"
NIL: Final = "nil"
UNRELIABLE: Final = "unreliable"
STATUSES: Final = (PUBLISHED, MISSING, SUPPRESSED, NIL, UNRELIABLE)

# StatLine's symbols (Verklaring van symbolen). '-' means "nihil" and 'x' "geheim"; we keep them as
# flags so that no average ever silently includes a made-up number.
SYMBOLS: Final[dict[str, str]] = {
    ".": MISSING,
    "..": MISSING,
    "x": SUPPRESSED,
    "X": SUPPRESSED,
    "-": NIL,
    "?": UNRELIABLE,
}
# The wijk- en buurtkaart and PDOK layers write -99999999, -99999997, -99995, -99997 ... for
# "geheim, onbekend of niet van toepassing"; CBS does not tell those apart, so they become missing.
SENTINEL_BELOW: Final = -99990.0

OBS_COLUMNS: Final = (
    "region_code",
    "period",
    "measure_id",
    "population_group",
    "value",
    "lower",
    "upper",
    "status",
)
REGION_COLUMNS: Final = ("code", "name", "level", "gemeente_code", "wijk_code")
MEASURE_COLUMNS: Final = ("measure_id", "label", "unit", "description")
TOTAL_GROUP: Final = "totaal"


@dataclass(frozen=True)
class SourceMeta:
    """Provenance of one ingested table: who published it, which table, which period."""

    publisher: str
    table_id: str
    title: str
    location: str
    format: str
    boundary_year: int
    licence: str = "CC BY 4.0"
    note: str = ""


@dataclass
class Dataset:
    """A table read into wijkradar's long form, ready to be written in one transaction."""

    meta: SourceMeta
    observations: pd.DataFrame
    regions: pd.DataFrame
    measures: pd.DataFrame
    geometries: pd.DataFrame | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def periods(self) -> list[str]:
        """Sorted distinct periods in the observations."""
        return sorted(self.observations["period"].unique().tolist())

    @property
    def groups(self) -> list[str]:
        """Sorted distinct population groups in the observations."""
        return sorted(self.observations["population_group"].unique().tolist())

    @property
    def dataset_key(self) -> str:
        """What makes two files 'the same table': a newer one of these replaces the older.

        Examples
        --------
        A 2020 65+ extract of 50090NED and a corrected re-download of it share a key; the 2016
        extract of the same table does not.
        """
        levels = sorted(self.regions["level"].unique().tolist()) if len(self.regions) else []
        parts = [
            self.meta.publisher,
            self.meta.table_id,
            ",".join(self.periods),
            ",".join(self.groups),
            ",".join(levels),
            "geo" if self.geometries is not None else "data",
        ]
        return "|".join(parts)


def parse_values(
    raw: pd.Series,
    *,
    file: str,
    column: str,
    first_row: int,
    decimal_comma: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Turn a column of cells into numbers and status flags.

    Parameters
    ----------
    raw
        The cells, as read (strings, numbers or missing).
    file, column
        Named in the error for a cell that is neither a number nor a CBS symbol.
    first_row
        The spreadsheet row number of ``raw``'s first element, for that error.
    decimal_comma
        Read ``48,2`` as 48.2 (Dutch-language exports).

    Returns
    -------
    values, statuses
        Float array with NaN wherever the status is not ``published``, and the status array.

    Examples
    --------
    >>> v, s = parse_values(pd.Series(["  4.5", "x", "", "-99999999"]), file="f", column="c",
    ...                     first_row=2)
    >>> v.tolist()[0], s.tolist()
    (4.5, ['published', 'suppressed', 'missing', 'missing'])
    """
    n = len(raw)
    status = np.full(n, PUBLISHED, dtype=object)
    if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        values = raw.to_numpy(dtype="float64", na_value=np.nan, copy=True)
    else:
        text = raw.astype("string").str.strip()
        empty = text.isna() | (text == "")
        symbol = text.isin(list(SYMBOLS))
        if symbol.any():
            status[symbol.to_numpy()] = text[symbol].map(SYMBOLS).to_numpy()
        if decimal_comma:
            text = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        numeric = pd.to_numeric(text.where(~(empty | symbol)), errors="coerce")
        bad = numeric.isna() & ~empty & ~symbol
        if bad.any():
            pos = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(
                file,
                "tekst in een kolom met getallen",
                row=first_row + pos,
                column=column,
                value=str(raw.iloc[pos]),
                fix=(
                    "vervang de cel door een getal of door een CBS-symbool "
                    "('.' ontbreekt, 'x' geheim, '-' nihil), of laat hem leeg"
                ),
            )
        values = numeric.to_numpy(dtype="float64", na_value=np.nan)
    nan = np.isnan(values)
    status[nan & (status == PUBLISHED)] = MISSING
    sentinel = ~nan & (values <= SENTINEL_BELOW)
    status[sentinel] = MISSING
    values[status != PUBLISHED] = np.nan
    return values, status


def check_codes(codes: pd.Series, *, file: str, column: str, first_row: int) -> pd.Series:
    """Normalise region codes and raise an InputError naming the first invalid one."""
    norm = codes.astype("string").str.strip().str.upper()
    ok = norm.fillna("").map(is_valid_code).astype(bool)
    if not ok.all():
        pos = int(np.flatnonzero(~ok.to_numpy())[0])
        raise InputError(
            file,
            "ongeldige CBS-regiocode",
            row=first_row + pos,
            column=column,
            value=None if pd.isna(codes.iloc[pos]) else str(codes.iloc[pos]),
            fix="gebruik codes als NL01, GM0034, WK003401 of BU00340101",
        )
    return norm.astype(object)


def regions_frame(codes: pd.Series, names: pd.Series | None = None) -> pd.DataFrame:
    """Build the regions table for a set of (valid, normalised) codes."""
    frame = pd.DataFrame({"code": codes.astype(object)})
    frame["name"] = names.astype("string").str.strip().astype(object) if names is not None else None
    frame = frame.drop_duplicates("code").reset_index(drop=True)
    frame["level"] = frame["code"].map(level_of)
    frame["gemeente_code"] = frame["code"].map(gemeente_of)
    frame["wijk_code"] = frame["code"].map(wijk_of)
    frame.loc[frame["level"] == "land", "name"] = frame.loc[frame["level"] == "land", "name"].fillna(
        "Nederland"
    )
    return frame[list(REGION_COLUMNS)]


def long_frame(
    wide: pd.DataFrame,
    *,
    keys: dict[str, pd.Series | str],
    measures: dict[str, str],
    file: str,
    first_row: int,
    decimal_comma: bool = False,
) -> pd.DataFrame:
    """Melt a wide table (one column per measure) into wijkradar's long observations.

    ``keys`` gives region_code, period and population_group, each a column or one constant;
    ``measures`` maps a column of ``wide`` to the measure id it holds.
    """
    parts = []
    for column, measure_id in measures.items():
        values, status = parse_values(
            wide[column], file=file, column=column, first_row=first_row, decimal_comma=decimal_comma
        )
        part = pd.DataFrame({"value": values, "status": status})
        for key, val in keys.items():
            part[key] = val.to_numpy() if isinstance(val, pd.Series) else val
        part["measure_id"] = measure_id
        parts.append(part)
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in OBS_COLUMNS})
    out = pd.concat(parts, ignore_index=True)
    out["lower"] = np.nan
    out["upper"] = np.nan
    return out[list(OBS_COLUMNS)]


_YEAR_RE: Final = re.compile(r"(?<!\d)(19[89]\d|20\d\d)(?!\d)")


def year_from_path(parts: list[str]) -> int | None:
    """Find a year (1980-2099) in a file name, or else in its folders, innermost first.

    Examples
    --------
    >>> year_from_path(["data", "cbs-kwb-buurten-2017", "kwb_buurten.csv"])
    2017
    """
    for part in reversed(parts):
        found = _YEAR_RE.findall(part)
        if found:
            return int(found[-1])
    return None


def normalise_period(raw: object) -> str:
    """CBS period codes to wijkradar's: ``2020JJ00`` -> ``2020``, ``2021KW02`` -> ``2021-K2``.

    Examples
    --------
    >>> normalise_period("2020JJ00 "), normalise_period("2021MM03")
    ('2020', '2021-03')
    """
    text = str(raw).strip()
    m = re.fullmatch(r"(\d{4})(JJ|KW|MM|X0)(\d{2})", text)
    if not m:
        return text
    year, kind, num = m.groups()
    if kind == "JJ":
        return year
    if kind == "KW":
        return f"{year}-K{int(num)}"
    if kind == "MM":
        return f"{year}-{num}"
    return year


def split_camel(key: str) -> str:
    """Make a readable label from a CBS key: ``MoeiteMetRondkomen_38`` -> ``Moeite met rondkomen``.

    Examples
    --------
    >>> split_camel("MoeiteMetRondkomen_38")
    'Moeite met rondkomen'
    """
    stem = re.sub(r"_\d+$", "", key)
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", stem).replace("_", " ").split()
    text = " ".join(w.lower() for w in words)
    return text[:1].upper() + text[1:]


def key_stem(key: str) -> str:
    """Strip the position suffix of a CBS column key: ``AantalInwoners_5`` -> ``AantalInwoners``."""
    return re.sub(r"_\d+$", "", key.strip())


def normalise_code_series(s: pd.Series) -> pd.Series:
    """Apply :func:`normalise_code` to every element."""
    return s.map(normalise_code)

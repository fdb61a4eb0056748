"""The common shape every reader produces, and CBS's conventions for missing values."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from wijkradar.errors import InputError
from wijkradar.regions import CODE_PATTERN, PREFIX_LEVEL, gemeente_codes, wijk_codes
from wijkradar.texts import MONTHS_NL

# The publisher of a gemeente's own data (register linkage, uploads): visible to that gemeente only.
OWN_DATA_PUBLISHER: Final = "eigen registratie"
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
# No figure of a neighbourhood table comes near this (the largest, national euro amounts, stay
# below 10^13): a larger number is a mistake, and one as large as 1e308 breaks every sum after it.
MAX_MAGNITUDE: Final = 1e15

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
CROSSWALK_COLUMNS: Final = ("from_code", "from_year", "to_code", "to_year", "weight", "method")
# How a crosswalk's weights were made; texts.py has the Dutch words.
CROSSWALK_METHODS: Final = ("addresses", "residents", "area", "identity", "merger")
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
    crosswalk: pd.DataFrame | None = None
    kind: str = "data"  # data, geo, names or crosswalk: part of what makes two files the same table
    # regions the file names without covering them (a buurt layer's wijken and gemeente): stored
    # with their names, never part of the slice a newer version of the file replaces
    context_regions: pd.DataFrame | None = None

    @cached_property
    def periods(self) -> list[str]:
        """Sorted distinct periods in the observations."""
        return sorted(self.observations["period"].unique().tolist())

    @cached_property
    def groups(self) -> list[str]:
        """Sorted distinct population groups in the observations."""
        return sorted(self.observations["population_group"].unique().tolist())

    @property
    def dataset_key(self) -> str:
        """What makes two files 'the same table': a newer one replaces the older for its regions.

        Examples
        --------
        A 2020 65+ extract of 50090NED and a corrected re-download of it share a key, and so do
        the Almere and the Rotterdam file of one Kerncijfers year (each keeps the other's regions);
        the 2016 extract of the same table does not.
        """
        parts = [
            self.meta.publisher,
            self.meta.table_id,
            ",".join(self.periods),
            ",".join(self.groups),
            "geo" if self.geometries is not None and self.kind == "data" else self.kind,
        ]
        return "|".join(parts)


def without_figures(
    meta: SourceMeta,
    regions: pd.DataFrame,
    *,
    kind: str,
    geometries: pd.DataFrame | None = None,
    crosswalk: pd.DataFrame | None = None,
) -> Dataset:
    """Make a dataset that brings no observations: boundaries, a name list or a crosswalk."""
    return Dataset(
        meta=meta,
        observations=empty_frame(OBS_COLUMNS),
        regions=regions,
        measures=empty_frame(MEASURE_COLUMNS),
        geometries=geometries,
        crosswalk=None if crosswalk is None else crosswalk[list(CROSSWALK_COLUMNS)],
        kind=kind,
    )


_NUMBER_RE: Final = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"
_STATUS_CODES: Final = {status: i for i, status in enumerate(STATUSES)}


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
    values, codes = parse_block(
        [raw], file=file, columns=[column], first_row=first_row, decimal_comma=decimal_comma
    )
    return values, np.asarray(STATUSES, dtype=object)[codes]


def parse_block(
    columns_data: list[pd.Series],
    *,
    file: str,
    columns: list[str],
    first_row: int,
    decimal_comma: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Parse several equally long columns at once, stacked column after column.

    Returns the float values and status codes (indexes into :data:`STATUSES`) of the stacked
    cells. One pass over all cells of a table is much faster than one per column.
    """
    n = len(columns_data[0]) if columns_data else 0
    numeric = [
        pd.api.types.is_numeric_dtype(c.dtype) and not pd.api.types.is_bool_dtype(c.dtype)
        for c in columns_data
    ]
    if all(numeric):
        values = (
            np.concatenate([c.to_numpy(dtype="float64", na_value=np.nan) for c in columns_data])
            if columns_data
            else np.empty(0)
        )
        codes = np.zeros(len(values), dtype=np.int8)
    else:
        stacked = pd.concat([c.astype("string") for c in columns_data], ignore_index=True)
        text = pc.utf8_trim_whitespace(pa.array(stacked, type=pa.string(), from_pandas=True))
        empty = pc.fill_null(pc.equal(text, ""), True)
        symbol_index = pc.index_in(text, value_set=pa.array(list(SYMBOLS)))
        is_symbol = pc.is_valid(symbol_index)
        if decimal_comma:
            text = pc.replace_substring(pc.replace_substring(text, ".", ""), ",", ".")
        number_cells = pc.if_else(pc.or_(empty, is_symbol), pa.scalar(None, pa.string()), text)
        parsed = _as_numbers(number_cells)
        if parsed is not None:  # every other cell a plain number: no need to look at each one
            is_number = pc.is_valid(number_cells)
            bad = pa.array([False])
        else:
            is_number = pc.fill_null(pc.match_substring_regex(text, _NUMBER_RE), False)
            bad = pc.and_(pc.invert(pc.or_(empty, is_symbol)), pc.invert(is_number))
        if pc.any(bad).as_py():
            col, row = divmod(int(pc.index(bad, True).as_py()), n)
            raise _cell_error(
                file,
                (first_row + row, columns[col]),
                "tekst in een kolom met getallen",
                "vervang de cel door een getal of door een CBS-symbool "
                "('.' ontbreekt, 'x' geheim, '-' nihil), of laat hem leeg",
                value=str(columns_data[col].iloc[row]),
            )
        if parsed is None:
            parsed = pc.cast(pc.if_else(is_number, text, pa.scalar(None, pa.string())), pa.float64())
        values = np.array(parsed.to_numpy(zero_copy_only=False), dtype="float64", copy=True)
        symbol_codes = np.asarray([_STATUS_CODES[SYMBOLS[s]] for s in SYMBOLS], dtype=np.int8)
        idx = symbol_index.to_numpy(zero_copy_only=False)
        codes = np.zeros(len(values), dtype=np.int8)
        sym_mask = is_symbol.to_numpy(zero_copy_only=False)
        codes[sym_mask] = symbol_codes[idx[sym_mask].astype(np.int64)]
    with np.errstate(invalid="ignore"):
        absurd = np.isinf(values) | (np.abs(values) > MAX_MAGNITUDE)
    if absurd.any():
        col, row = divmod(int(np.flatnonzero(absurd)[0]), n)
        raise _cell_error(
            file,
            (first_row + row, columns[col]),
            "getal buiten bereik (oneindig of groter dan een biljard)",
            "controleer de cel; een geheim of ontbrekend getal schrijft u als 'x' of '.'",
        )
    nan = np.isnan(values)
    codes[nan & (codes == 0)] = _STATUS_CODES[MISSING]
    codes[~nan & (values <= SENTINEL_BELOW)] = _STATUS_CODES[MISSING]
    values[codes != 0] = np.nan
    return values, codes


def _as_numbers(cells: pa.Array) -> pa.Array | None:
    """Cast text cells to numbers in one go, or None when any cell is no plain number.

    Arrow's cast is several times faster than matching every cell against :data:`_NUMBER_RE`,
    but it also reads 'nan' and 'inf'; a cell it reads as one of those is no number here either,
    and the caller then looks at every cell to name the first that is not.
    """
    try:
        parsed = pc.cast(cells, pa.float64())
    except pa.ArrowInvalid:
        return None
    if not pc.any(pc.invert(pc.is_finite(parsed))).as_py():
        return parsed
    return None


def _cell_error(
    file: str, where: tuple[int, str], problem: str, fix: str, value: str | None = None
) -> InputError:
    """Return the error for one cell of a stacked block: file, row and column, problem and fix."""
    return InputError(file, problem, row=where[0], column=where[1], value=value, fix=fix)


def check_codes(codes: pd.Series, *, file: str, column: str, first_row: int) -> pd.Series:
    """Normalise region codes and raise an InputError naming the first invalid one."""
    norm = codes.astype("string").str.strip().str.upper()
    ok = norm.str.fullmatch(CODE_PATTERN).fillna(False).astype(bool)
    if not ok.all():
        pos = int(np.flatnonzero(~ok.to_numpy())[0])
        raise InputError(
            file,
            "ongeldige CBS-regiocode",
            row=first_row + pos,
            column=column,
            value=None if pd.isna(codes.iloc[pos]) else str(codes.iloc[pos]),
            fix="gebruik CBS-regiocodes als NL01, PV24, GG3003, GM0034, WK003401 of BU00340101",
        )
    return norm.astype(object)


def empty_frame(columns: tuple[str, ...]) -> pd.DataFrame:
    """Make an empty table with the given text columns (a file brings no rows of that kind)."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def regions_frame(codes: pd.Series, names: pd.Series | None = None) -> pd.DataFrame:
    """Build the regions table for a set of (valid, normalised) codes."""
    every = codes.astype(object).to_numpy()
    first = ~pd.Series(every).duplicated().to_numpy()  # a region keeps the name of its first row
    frame = pd.DataFrame({"code": every[first]})
    frame["name"] = (
        names[first].astype("string").str.strip().astype(object).to_numpy() if names is not None else None
    )
    code = frame["code"].astype("string")
    prefix = code.str.slice(0, 2)
    frame["level"] = prefix.map(PREFIX_LEVEL).astype(object)
    frame["gemeente_code"] = gemeente_codes(code).where(prefix.isin(["GM", "WK", "BU"])).astype(object)
    frame["wijk_code"] = wijk_codes(code).where(prefix.isin(["BU", "WK"])).astype(object)
    frame = frame.replace({np.nan: None})
    is_land = frame["level"] == "land"
    frame.loc[is_land, "name"] = frame.loc[is_land, "name"].fillna("Nederland")
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
    ``measures`` maps a column of ``wide`` to the measure id it holds. Text columns come out as
    categoricals: a table repeats the same few codes hundreds of thousands of times.
    """
    columns = list(measures)
    n, m = len(wide), len(columns)
    values, codes = parse_block(
        [wide[c] for c in columns],
        file=file,
        columns=columns,
        first_row=first_row,
        decimal_comma=decimal_comma,
    )
    data: dict[str, Any] = {}
    for key in ("region_code", "period", "population_group"):
        val = keys[key]
        if isinstance(val, pd.Series):
            idx, uniques = pd.factorize(val.astype(object))
            data[key] = _categorical(np.tile(idx, m), list(uniques))
        else:
            data[key] = _categorical(np.zeros(n * m, dtype=np.int8), [val])
    measure_ids = list(dict.fromkeys(measures.values()))
    position = {mid: i for i, mid in enumerate(measure_ids)}
    measure_codes = np.array([position[measures[c]] for c in columns], dtype=np.int32)
    data["measure_id"] = _categorical(np.repeat(measure_codes, n), measure_ids)
    data["value"] = values
    data["lower"] = np.full(n * m, np.nan)
    data["upper"] = np.full(n * m, np.nan)
    data["status"] = _categorical(codes, list(STATUSES))
    return pd.DataFrame(data)[list(OBS_COLUMNS)]


def _categorical(codes: np.ndarray, categories: list[Any]) -> Any:
    return pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(categories))


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


_PERIOD_CODE_RE: Final = re.compile(r"(\d{4})(JJ|HJ|KW|MM|X0|G0)(\d{2})")
_HALF_TITLE_RE: Final = re.compile(r"(?:(\d)e halfjaar (\d{4})|(\d{4}) (\d)e halfjaar)")
_QUARTER_TITLE_RE: Final = re.compile(r"(?:(\d)e kwartaal (\d{4})|(\d{4}) (\d)e kwartaal)")
_MONTH_TITLE_RE: Final = re.compile(
    r"(\d{4}) (" + "|".join(MONTHS_NL) + r")|(" + "|".join(MONTHS_NL) + r") (\d{4})"
)
_RANGE_RE: Final = re.compile(r"(\d{4})\s*[-/]\s*(\d{4})")


def normalise_period(raw: object) -> str:
    """CBS period codes and titles to wijkradar's period keys.

    Years stay ``2020``; half-years become ``2016-H1``, quarters ``2021-K2``, months ``2021-03``
    and multi-year periods ``2014-2018``. CBS's API gives codes (``2020JJ00``, ``2016HJ01``,
    ``2021KW02``, ``2021MM03``); the ``cbsodata`` client and StatLine's exports give the titles
    (``2020``, ``1e halfjaar 2016``, ``2021 2e kwartaal``, ``2021 maart``). Anything else is
    returned stripped, unchanged.

    Examples
    --------
    >>> normalise_period("2020JJ00 "), normalise_period("2021MM03"), normalise_period("2016HJ01")
    ('2020', '2021-03', '2016-H1')
    >>> normalise_period("1e halfjaar 2016"), normalise_period("2021 2e kwartaal")
    ('2016-H1', '2021-K2')
    """
    text = " ".join(str(raw).split())
    m = _PERIOD_CODE_RE.fullmatch(text)
    if m:
        year, kind, num = m.groups()
        if kind == "HJ":
            return f"{year}-H{int(num)}"
        if kind == "KW":
            return f"{year}-K{int(num)}"
        if kind == "MM":
            return f"{year}-{num}"
        return year
    low = text.lower().rstrip("*").strip()  # StatLine marks provisional figures with '*'
    if re.fullmatch(r"\d{4}", low):
        return low
    for pattern, mark in ((_HALF_TITLE_RE, "H"), (_QUARTER_TITLE_RE, "K")):
        m = pattern.fullmatch(low)
        if m:
            number, year = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
            return f"{year}-{mark}{int(number)}"
    m = _MONTH_TITLE_RE.fullmatch(low)
    if m:
        year, month = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        return f"{year}-{MONTHS_NL.index(month) + 1:02d}"
    m = _RANGE_RE.fullmatch(low)
    if m:
        return f"{m.group(1)}-{m.group(2)}"
    return text


def period_kind(period: str) -> str:
    """Tell a period key's length: ``year``, ``half``, ``quarter``, ``month``, ``range`` or ``other``.

    Figures of different kinds are never mixed in one series (a half-year is not a year).

    Examples
    --------
    >>> period_kind("2016"), period_kind("2016-H1"), period_kind("2014-2018")
    ('year', 'half', 'range')
    """
    if re.fullmatch(r"\d{4}", period):
        return "year"
    if re.fullmatch(r"\d{4}-H[12]", period):
        return "half"
    if re.fullmatch(r"\d{4}-K[1-4]", period):
        return "quarter"
    if re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period):
        return "month"
    if re.fullmatch(r"\d{4}-\d{4}", period):
        return "range"
    return "other"


def split_camel(key: str) -> str:
    """Make a readable label from a CBS key: ``MoeiteMetRondkomen_38`` -> ``Moeite met rondkomen``.

    Examples
    --------
    >>> split_camel("MoeiteMetRondkomen_38")
    'Moeite met rondkomen'
    """
    stem = re.sub(r"_\d+$", "", key)
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[a-z])(?=\d)", " ", stem).replace("_", " ").split()
    text = " ".join(w.lower() for w in words)
    return text[:1].upper() + text[1:]


def key_stem(key: str) -> str:
    """Strip the position suffix of a CBS column key: ``AantalInwoners_5`` -> ``AantalInwoners``."""
    return re.sub(r"_\d+$", "", key.strip())

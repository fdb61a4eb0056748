"""Read an uploaded table of a gemeente's own figures: codes, periods and one column per measure.

The file is read with the ingest's own loader (:func:`wijkradar.sources.tabular.load_table`: CSV
with ``,`` or ``;``, decimal comma, Excel) and its cells with the ingest's number parser, so the
errors are the same: file, row, column, the problem and the fix. Nothing is stored unless the whole
file is right.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from wijkradar.errors import InputError
from wijkradar.regions import CODE_PATTERN, gemeente_of, level_of
from wijkradar.sources.model import PUBLISHED, normalise_period, parse_values
from wijkradar.sources.tabular import CSV_SUFFIXES, EXCEL_SUFFIXES, load_table

MAX_BYTES: Final = 5 * 1024 * 1024
MAX_ROWS: Final = 20_000
MAX_MEASURES: Final = 20
SUFFIXES: Final = EXCEL_SUFFIXES | CSV_SUFFIXES
CODE_HEADERS: Final = frozenset(
    {
        "code",
        "regiocode",
        "gebiedscode",
        "wijkcode",
        "buurtcode",
        "wijk_code",
        "buurt_code",
        "gwb_code",
        "gwb_code_10",
        "wijkenenbuurten",
        "codering",
        "codering_3",
    }
)
PERIOD_HEADERS: Final = frozenset({"jaar", "periode", "perioden", "peiljaar", "period", "year"})
NAME_HEADERS: Final = frozenset(
    {
        "naam",
        "wijk",
        "buurt",
        "wijknaam",
        "buurtnaam",
        "regio",
        "regionaam",
        "gebied",
        "gebiedsnaam",
        "name",
        "omschrijving",
        "wijken",
        "buurten",
    }
)
PERIOD_RE: Final = re.compile(r"^\d{4}(-K[1-4]|-\d{2})?$")
SHAPE: Final = (
    "één rij per wijk of buurt en jaar: een kolom 'code' (WK… of BU…), een kolom 'jaar' en één "
    "kolom per maat (bijvoorbeeld 'Wmo-cliënten')"
)


@dataclass
class UploadedMeasure:
    """One measure of an upload: its key (``own-<key>`` in themes), label, unit and values."""

    key: str
    label: str
    unit: str
    values: list[dict[str, Any]] = field(default_factory=list)
    not_published: int = 0


@dataclass
class Upload:
    """What a file holds, checked against the gemeente's regions."""

    file_name: str
    sha256: str
    level: str
    boundary_year: int
    measures: list[UploadedMeasure]
    periods: list[str]


def read_upload(
    path: Path,
    *,
    file_name: str,
    gemeente: str,
    regions: pd.DataFrame,
    boundary_year: int,
    period: str | None = None,
) -> Upload:
    """Read and check an uploaded file of ``gemeente``'s own figures.

    ``regions`` are the gemeente's regions on indeling ``boundary_year`` (codes and levels); every
    row must name one of them, or the gemeente itself. ``period`` is used when the file has no
    year column.

    Raises
    ------
    InputError
        Naming ``file_name`` (never the temporary path), the row and column, and the fix.
    """
    if path.suffix.lower() not in SUFFIXES:
        raise InputError(
            file_name,
            f"onbekend bestandstype '{path.suffix or '(geen extensie)'}'",
            fix="lever een CSV- of Excel-bestand (.csv, .xlsx) aan",
        )
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise InputError(
            file_name,
            f"het bestand is {size / 1e6:.1f} MB; de grens is {MAX_BYTES / 1e6:.0f} MB",
            fix="lever alleen de kolommen per wijk of buurt aan die u wilt gebruiken",
        )
    try:
        table = load_table(path, max_rows=MAX_ROWS)
    except InputError as exc:
        raise _renamed(exc, file_name) from None
    frame = table.frame
    if len(frame) > MAX_ROWS:
        raise InputError(
            file_name,
            f"{len(frame)} rijen; de grens is {MAX_ROWS}",
            fix="lever cijfers per wijk of buurt aan, niet per persoon of adres",
        )
    columns = [str(c) for c in frame.columns]
    code_column = _code_column(frame, columns, file_name)
    period_column = next((c for c in columns if _norm(c) in PERIOD_HEADERS), None)
    measure_columns = [
        c for c in columns if c not in (code_column, period_column) and _norm(c) not in NAME_HEADERS
    ]
    if not measure_columns:
        raise InputError(file_name, "geen kolom met cijfers gevonden", fix=f"lever {SHAPE} aan")
    if len(measure_columns) > MAX_MEASURES:
        raise InputError(
            file_name,
            f"{len(measure_columns)} kolommen met cijfers; de grens is {MAX_MEASURES}",
            fix="verdeel de kolommen over meer bestanden",
        )
    first = table.first_row
    codes = _codes(frame[code_column], file_name, code_column, first, gemeente, regions, boundary_year)
    periods = _periods(frame, period_column, period, file_name, first)
    level = _level(codes, file_name, code_column, first)
    _no_repeats(codes, periods, file_name, code_column, first)
    measures = [
        _measure(frame[column], column, codes, periods, file_name, first, table.decimal_comma)
        for column in measure_columns
    ]
    keys = [m.key for m in measures]
    twice = next((k for k in keys if keys.count(k) > 1), None)
    if twice is not None:
        raise InputError(
            file_name,
            f"twee kolommen krijgen dezelfde naam '{twice}'",
            fix="geef elke kolom met cijfers een eigen kopnaam",
        )
    return Upload(
        file_name=file_name,
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        level=level,
        boundary_year=boundary_year,
        measures=measures,
        periods=sorted(set(periods)),
    )


def slug(text: str) -> str:
    """Make a measure key from a column header: ``Wmo-cliënten 75+`` -> ``wmo-clienten-75``.

    Examples
    --------
    >>> slug("Wmo-cliënten (aantal) 75+")
    'wmo-clienten-aantal-75'
    """
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:30].strip("-")


def _norm(header: str) -> str:
    return re.sub(r"[\s\-]+", "_", header.strip().lower())


def _renamed(exc: InputError, file_name: str) -> InputError:
    """Return the same error, naming the file as the user knows it rather than its temporary copy."""
    return InputError(file_name, exc.problem, row=exc.row, column=exc.column, value=exc.value, fix=exc.fix)


def _code_column(frame: pd.DataFrame, columns: list[str], file_name: str) -> str:
    named = next((c for c in columns if _norm(c) in CODE_HEADERS), None)
    if named is not None:
        return named
    for column in columns:  # else the first column whose cells all look like CBS codes
        cells = frame[column].astype("string").str.strip().str.upper()
        filled = cells[cells.fillna("") != ""]
        if len(filled) and filled.str.fullmatch(CODE_PATTERN).all():
            return column
    raise InputError(
        file_name,
        "geen kolom met wijk- of buurtcodes gevonden; gevonden: " + ", ".join(columns[:8]),
        column="code",
        fix=f"lever {SHAPE} aan",
    )


def _codes(
    raw: pd.Series,
    file_name: str,
    column: str,
    first: int,
    gemeente: str,
    regions: pd.DataFrame,
    boundary_year: int,
) -> list[str]:
    known = set(regions["code"])
    codes = raw.astype("string").fillna("").str.strip().str.upper().tolist()
    for row, code in enumerate(codes, start=first):
        if not re.fullmatch(CODE_PATTERN, code):
            raise InputError(
                file_name,
                "lege cel" if not code else "geen CBS-code van een wijk of buurt",
                row=row,
                column=column,
                fix="gebruik codes als WK036301 of BU03630001 (tekst; een totaalrij kan weg)",
            )
        if gemeente_of(code) != gemeente:
            raise InputError(
                file_name,
                f"{code} ligt niet in {gemeente}",
                row=row,
                column=column,
                fix=f"lever alleen wijken en buurten van {gemeente} aan",
            )
        if code != gemeente and code not in known:
            raise InputError(
                file_name,
                f"{code} bestaat niet in de indeling {boundary_year}",
                row=row,
                column=column,
                fix=f"gebruik de wijk- en buurtcodes van {boundary_year} (zie de regiolijst van de gemeente)",
            )
    return codes


def _periods(
    frame: pd.DataFrame, column: str | None, given: str | None, file_name: str, first: int
) -> list[str]:
    if column is None:
        chosen = normalise_period(given or "")
        if not PERIOD_RE.fullmatch(chosen):
            raise InputError(
                file_name,
                "geen kolom 'jaar' en geen jaar opgegeven",
                column="jaar",
                fix="voeg een kolom 'jaar' toe of vul het jaar in op het formulier",
            )
        return [chosen] * len(frame)
    periods = [normalise_period(v) for v in frame[column].astype("string").fillna("")]
    for row, found in enumerate(periods, start=first):
        text = found[:-2] if found.endswith(".0") else found  # 2023.0 from an Excel number cell
        periods[row - first] = text
        if not PERIOD_RE.fullmatch(text):
            raise InputError(
                file_name,
                "geen jaartal",
                row=row,
                column=column,
                fix="schrijf het jaar als 2023 (of 2023-K2 voor een kwartaal)",
            )
    return periods


def _level(codes: list[str], file_name: str, column: str, first: int) -> str:
    levels = [level_of(c) for c in codes]
    areas = {lvl for lvl in levels if lvl in ("wijk", "buurt")}
    if not areas:
        raise InputError(
            file_name,
            "geen wijk- of buurtcodes, alleen de gemeente zelf",
            column=column,
            fix="lever cijfers per wijk of per buurt aan",
        )
    if len(areas) > 1:
        row = first + next(i for i, lvl in enumerate(levels) if lvl == "buurt")
        raise InputError(
            file_name,
            "wijken en buurten door elkaar",
            row=row,
            column=column,
            fix="lever wijken en buurten in aparte bestanden aan",
        )
    return areas.pop()


def _no_repeats(codes: list[str], periods: list[str], file_name: str, column: str, first: int) -> None:
    seen: dict[tuple[str, str], int] = {}
    for row, key in enumerate(zip(codes, periods, strict=True), start=first):
        if key in seen:
            raise InputError(
                file_name,
                f"{key[0]} staat voor {key[1]} ook al in rij {seen[key]}",
                row=row,
                column=column,
                fix="houd één rij per gebied en jaar over",
            )
        seen[key] = row


def _measure(
    raw: pd.Series,
    column: str,
    codes: list[str],
    periods: list[str],
    file_name: str,
    first: int,
    decimal_comma: bool,
) -> UploadedMeasure:
    label = " ".join(column.split())[:200]
    key = slug(label)
    if not key:
        raise InputError(
            file_name, "kolom zonder bruikbare naam", column=column, fix="geef de kolom een naam"
        )
    values, statuses = parse_values(
        raw, file=file_name, column=column, first_row=first, decimal_comma=decimal_comma
    )
    published = statuses == PUBLISHED
    lowered = label.lower()
    whole = bool(published.any()) and bool(np.all(np.mod(values[published], 1) == 0))
    unit = (
        "%"
        if ("%" in lowered or lowered.startswith(("percentage", "aandeel")))
        else ("aantal" if whole else "")
    )
    if unit == "aantal" and (values[published] < 0).any():
        row = first + int(np.flatnonzero(published & (np.nan_to_num(values) < 0))[0])
        raise InputError(
            file_name,
            "negatief aantal",
            row=row,
            column=column,
            fix="een aantal is nul of meer; een geheim getal schrijft u als 'x', een ontbrekend als '.'",
        )
    out = [
        {"region_code": c, "period": p, "value": float(v)}
        for c, p, v, ok in zip(codes, periods, values, published, strict=True)
        if ok
    ]
    return UploadedMeasure(key=key, label=label, unit=unit, values=out, not_published=int((~published).sum()))

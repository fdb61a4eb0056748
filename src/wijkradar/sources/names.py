"""Region name lists: the ``WijkenEnBuurten`` dimension of a CBS table (``Identifier,Title``).

CBS's OData API and its CSV exports list every region of a table with its name. A name belongs to
a code *in the table's boundary year* (codes are re-used: ``BU00340102`` is "De Werven" in 2017 and
"Centrum Haven Zuid" in 2024), so the list's indeling is taken from the table id (83765NED is the
Kerncijfers of 2017) or from a year in the file name, and never guessed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

from wijkradar.errors import InputError
from wijkradar.sources.kwb import KWB_TABLE_IDS
from wijkradar.sources.model import (
    Dataset,
    SourceMeta,
    check_codes,
    regions_frame,
    without_figures,
    year_from_path,
)
from wijkradar.sources.tabular import Table

CODE_COLUMNS: Final = ("Identifier", "Key")
_TABLE_RE: Final = re.compile(r"(\d{5}NED)", re.IGNORECASE)


def looks_like(columns: list[str]) -> bool:
    """Tell whether a header is a dimension list: a code column, ``Title`` and little else.

    Examples
    --------
    >>> looks_like(["Identifier", "Title"]), looks_like(["Identifier", "Title", "Eenzaam_28"])
    (True, False)
    """
    cols = {c.strip() for c in columns}
    extra = cols - {*CODE_COLUMNS, "Title", "Description", "DimensionGroupId", "CategoryGroupID"}
    return "Title" in cols and bool(cols & set(CODE_COLUMNS)) and not extra


def from_table(path: Path, table: Table) -> Dataset:
    """Read a dimension list of region codes and names."""
    frame = table.frame
    file = str(path)
    code_col = next(c for c in frame.columns if c.strip() in CODE_COLUMNS)
    title_col = next(c for c in frame.columns if c.strip() == "Title")
    codes = check_codes(frame[code_col], file=file, column=code_col, first_row=table.first_row)
    table_id, year = _table_and_year(path)
    regions = regions_frame(codes, frame[title_col])
    regions = regions[regions["level"] != "land"].reset_index(drop=True)
    meta = SourceMeta(
        publisher="CBS",
        table_id=table_id,
        title=f"Regionamen {table_id} (indeling {year})",
        location=str(path.resolve()),
        format="cbs-dimension",
        boundary_year=year,
    )
    return without_figures(meta, regions, kind="names")


def _table_and_year(path: Path) -> tuple[str, int]:
    by_table = {table: year for year, table in KWB_TABLE_IDS.items()}
    found = _TABLE_RE.search(path.name)
    table_id = found.group(1).upper() if found else ""
    year = by_table.get(table_id) or year_from_path([path.name])
    if year is None:
        raise InputError(
            str(path),
            "het jaar van de gemeentelijke indeling van deze naamlijst staat niet in de bestandsnaam",
            fix="zet de tabel of het jaar in de bestandsnaam, bijvoorbeeld buurten_85984NED_2024.csv",
        )
    return table_id or f"regionamen-{year}", int(year)

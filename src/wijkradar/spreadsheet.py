"""Writing spreadsheets that open safely: text stays text, never a formula.

A cell that starts with ``=``, ``+``, ``-`` or ``@`` is a formula to Excel and LibreOffice when it
comes from a CSV file or a formula cell; a title such as ``=HYPERLINK(...)`` would then run. In an
``.xlsx`` every text is written as a text cell (so it reads back unchanged); in a CSV such text gets
a leading apostrophe, as OWASP advises.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from openpyxl import Workbook
from openpyxl.cell.cell import TYPE_STRING

FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """Return a value ready for a CSV cell: lists and dicts as JSON, text that could start a formula quoted.

    >>> csv_cell("=1+1"), csv_cell(-4.5), csv_cell(["a", "b"])
    ("'=1+1", -4.5, '["a", "b"]')
    """
    if isinstance(value, (list, dict)):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_bytes(rows: Sequence[Mapping[str, Any]]) -> bytes:
    """Return rows as CSV (UTF-8), the columns of the first row, cells made safe."""
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: csv_cell(v) for k, v in row.items()})
    return buffer.getvalue().encode("utf-8")


def xlsx_bytes(sheets: Mapping[str, Iterable[Mapping[str, Any]]]) -> bytes:
    """Return an Excel workbook with one sheet per name; text always as text cells, never formulas."""
    book = Workbook()
    for default in book.worksheets:
        book.remove(default)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name[:31])
        columns: list[str] = []
        for row in rows:
            if not columns:
                columns = list(row)
                sheet.append(columns)
            sheet.append([_xlsx_value(row.get(c)) for c in columns])
        for cells in sheet.iter_rows():
            for cell in cells:
                if isinstance(cell.value, str):
                    cell.data_type = TYPE_STRING
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_xlsx(path: Path, sheets: Mapping[str, Iterable[Mapping[str, Any]]]) -> None:
    """Write :func:`xlsx_bytes` to a file."""
    path.write_bytes(xlsx_bytes(sheets))


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value

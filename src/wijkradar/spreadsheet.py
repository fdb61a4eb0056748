"""Writing spreadsheets that open safely: text stays text, never a formula.

A cell that starts with ``=``, ``+``, ``-`` or ``@`` is a formula to Excel and LibreOffice when it
comes from a CSV file or a formula cell; a title such as ``=HYPERLINK(...)`` would then run. In an
``.xlsx`` every text is written as a text cell (so it reads back unchanged); in a CSV such text gets
a leading apostrophe, as OWASP advises.

CSV files are written in the dialect of Excel in a Dutch locale (``;``, decimal comma, UTF-8 with a
byte order mark), numbers rounded as the pages show them; workbooks have typed cells.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from openpyxl import Workbook
from openpyxl.cell.cell import TYPE_STRING
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """Return the text of one CSV cell as a Dutch Excel reads it.

    Numbers get a decimal comma and are rounded as the pages show them (:func:`shown_number`), dates
    are dates without a time of day, lists and dicts become JSON, ``None`` an empty cell, and text
    that could start a formula gets a leading apostrophe.

    >>> csv_cell("=1+1"), csv_cell(-4.5), csv_cell(["a", "b"]), csv_cell(125000.0), csv_cell(0.86457)
    ("'=1+1", '-4,5', '["a", "b"]', '125000', '0,86')
    >>> csv_cell("2024-03-01 00:00:00"), csv_cell(dt.date(2024, 3, 1)), csv_cell(True), csv_cell(None)
    ('2024-03-01', '2024-03-01', 'ja', '')
    """
    text = cell_text(value)
    if isinstance(_plain(value), str) and text.startswith(FORMULA_START):
        return "'" + text
    return text


def cell_text(value: Any) -> str:
    """Return a value as a table shows it in text: Dutch numbers rounded as shown, dates, ja/nee."""
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, (int, float)):
        return str(shown_number(value)).replace(".", ",")
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def shown_number(value: float) -> float | int:
    """Round a number as the tables show it: whole numbers whole, else two decimals below 10, one above.

    >>> shown_number(48.25), shown_number(0.86457), shown_number(211893.0), shown_number(-4.5)
    (48.2, 0.86, 211893, -4.5)
    """
    if isinstance(value, int) or float(value).is_integer():
        return int(value)
    return round(float(value), 2 if abs(value) < 10 else 1)


def csv_bytes(rows: Sequence[Mapping[str, Any]], headers: Mapping[str, str] | None = None) -> bytes:
    """Return rows as CSV in the Dutch Excel dialect: ``;`` between cells, UTF-8 with a byte order mark.

    The columns are those of the first row, headed by ``headers`` (a column without one keeps its key).
    Excel in a Dutch locale opens such a file with a double click and reads the numbers as numbers.
    """
    buffer = io.StringIO()
    if rows:
        columns = list(rows[0])
        writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
        writer.writerow([_header(c, headers) for c in columns])
        writer.writerows([csv_cell(row.get(c)) for c in columns] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


def xlsx_bytes(
    sheets: Mapping[str, Iterable[Mapping[str, Any]]], headers: Mapping[str, str] | None = None
) -> bytes:
    """Return an Excel workbook with one sheet per name: typed cells, text never a formula.

    Numbers are numbers (shown with the decimals the pages use), dates are dates, text is a text
    cell. The header row (``headers`` as in :func:`csv_bytes`) is bold and stays in view.
    """
    book = Workbook()
    for default in book.worksheets:
        book.remove(default)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name[:31])
        columns: list[str] = []
        widths: dict[int, int] = {}
        for row in rows:
            if not columns:
                columns = list(row)
                sheet.append([_header(c, headers) for c in columns])
            sheet.append([_xlsx_value(row.get(c)) for c in columns])
        for cells in sheet.iter_rows():
            for cell in cells:
                _typed(cell)
                widths[cell.column] = max(widths.get(cell.column, 8), min(len(str(cell.value or "")) + 2, 60))
        for cell in sheet[1] if columns else ():
            cell.font = Font(bold=True)
        for column, width in widths.items():
            sheet.column_dimensions[get_column_letter(column)].width = width
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_xlsx(path: Path, sheets: Mapping[str, Iterable[Mapping[str, Any]]]) -> None:
    """Write :func:`xlsx_bytes` to a file (keys as headers, so the file reads back as it was written)."""
    path.write_bytes(xlsx_bytes(sheets))


def _header(column: str, headers: Mapping[str, str] | None) -> str:
    return headers.get(column, column) if headers else column


def _plain(value: Any) -> Any:
    """Return a value as plain Python: NaN and NaT as None, numpy numbers as numbers, ISO dates as dates."""
    if value is None:
        return None
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        value = value.item()
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        value = value.to_pydatetime()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dt.datetime) and value.time() == dt.time(0) and value.tzinfo is None:
        return value.date()
    if isinstance(value, str) and (found := ISO_DATE.fullmatch(value)):
        when = dt.datetime.fromisoformat(value)
        return (
            when.date() if found["time"] is None or when.time() == dt.time(0) else when.replace(microsecond=0)
        )
    return value


ISO_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}(?P<time>[ T]\d{2}:\d{2}:\d{2}(?:\.\d+)?)?")


def _xlsx_value(value: Any) -> Any:
    value = _plain(value)
    if isinstance(value, float):
        return shown_number(value)
    return value


def _typed(cell: Any) -> None:
    """Give a cell its type and number format: text as text, dates as dates, decimals as shown."""
    value = cell.value
    if isinstance(value, str):
        cell.data_type = TYPE_STRING
    elif isinstance(value, dt.datetime):
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
    elif isinstance(value, dt.date):
        cell.number_format = "yyyy-mm-dd"
    elif isinstance(value, float):
        cell.number_format = "0.00" if abs(value) < 10 else "0.0"

"""Loading spreadsheets and CSV files as text tables, with errors that name the file and row.

Cells are kept as text: the readers decide per column what is a code, a name or a number, so a
CBS symbol such as ``x`` or a space-padded code never gets mangled by type guessing.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pandas as pd

from wijkradar.errors import InputError

EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls"})
CSV_SUFFIXES = frozenset({".csv", ".txt", ".tsv"})

# Bounds checked on the zip before a workbook is parsed, so that a zip bomb (a 1.5 MB file of five
# million identical rows) costs a second of streaming instead of a gigabyte of parsed cells. The
# staged RIVM workbooks unpack to 25 MB at a ratio of 6.5; Apache POI refuses entries that inflate
# more than 100 times, and so do we once an entry unpacks to more than a megabyte.
MAX_INFLATE_RATIO: Final = 100
RATIO_FROM_BYTES: Final = 1 << 20
MAX_UNPACKED_BYTES: Final = 1 << 30
_CHUNK: Final = 1 << 20


@dataclass
class Table:
    """A text table and the spreadsheet row number of its first data row."""

    frame: pd.DataFrame
    first_row: int
    decimal_comma: bool = False
    sheet: str | None = None


def load_table(path: Path, *, sheet: str | int = 0, max_rows: int | None = None) -> Table:
    """Read an xlsx or CSV file into a table of strings.

    With ``max_rows``, a workbook with more rows is refused before it is parsed.

    Raises
    ------
    InputError
        When the file is empty, damaged or cut off, naming the file and the row.
    """
    if path.stat().st_size == 0:
        raise InputError(str(path), "het bestand is leeg", fix="download het bestand opnieuw")
    if path.suffix.lower() in EXCEL_SUFFIXES:
        return _load_excel(path, sheet, max_rows)
    return _load_csv(path)


def check_workbook(path: Path, *, max_rows: int | None = None, origin: str | None = None) -> None:
    """Refuse a workbook that unpacks too far, or holds more rows than ``max_rows``, unparsed.

    The sizes a zip declares can lie, so the worksheets are streamed (never held) and counted as
    they unpack: rows by their ``<row`` tags, bytes as they come.

    Raises
    ------
    InputError
        For a file that is no zip, an entry that inflates more than :data:`MAX_INFLATE_RATIO`
        times, more than :data:`MAX_UNPACKED_BYTES` in all, or more rows than ``max_rows``;
        named ``origin`` (the path when not given).
    """
    name = origin or str(path)
    damaged = InputError(
        name,
        "het bestand is geen geldig Excel-bestand (beschadigd of afgebroken)",
        fix="download of exporteer het bestand opnieuw",
    )
    if not zipfile.is_zipfile(path):
        raise damaged
    too_big = InputError(
        name,
        "het Excel-bestand pakt uit tot een onwaarschijnlijke omvang (een zip-bom of een beschadigd bestand)",
        fix="open het in Excel en sla het opnieuw op, met alleen de gegevens die u nodig hebt",
    )
    unpacked = 0
    try:
        with zipfile.ZipFile(path) as archive:
            for entry in archive.infolist():
                if entry.file_size > RATIO_FROM_BYTES and (
                    entry.file_size > MAX_INFLATE_RATIO * max(entry.compress_size, 1)
                ):
                    raise too_big
                if not entry.filename.startswith("xl/worksheets/"):
                    unpacked += entry.file_size
                    continue
                rows = 0
                with archive.open(entry) as stream:
                    tail = b""
                    while chunk := stream.read(_CHUNK):
                        unpacked += len(chunk)
                        if unpacked > MAX_UNPACKED_BYTES:
                            raise too_big
                        if max_rows is None:
                            continue
                        rows += (tail + chunk).count(b"<row") - tail.count(b"<row")
                        tail = chunk[-4:]
                        if rows > max_rows + 1:  # the header row is one
                            raise InputError(
                                name,
                                f"meer dan {max_rows} rijen; de grens is {max_rows}",
                                fix="lever cijfers per wijk of buurt aan, niet per persoon of adres",
                            )
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as exc:
        raise damaged from exc
    if unpacked > MAX_UNPACKED_BYTES:
        raise too_big


def _load_excel(path: Path, sheet: str | int, max_rows: int | None) -> Table:
    import fastexcel  # imported here so CSV-only work does not pay for it

    check_workbook(path, max_rows=max_rows)
    try:
        reader = fastexcel.read_excel(str(path))
        loaded = reader.load_sheet(sheet, dtypes="string")
        frame = loaded.to_pandas()
    except Exception as exc:  # calamine reports damage with a variety of exception types
        raise InputError(
            str(path),
            # the reader's own words name the server's temporary path: only their kind is said
            f"het Excel-bestand kan niet gelezen worden ({type(exc).__name__})",
            fix="open het in Excel, sla het opnieuw op als .xlsx, of download het opnieuw",
        ) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise InputError(str(path), "het werkblad bevat geen gegevens", fix="kies het juiste bestand")
    sheet_name = reader.sheet_names[sheet] if isinstance(sheet, int) else sheet
    return Table(frame=frame, first_row=2, sheet=sheet_name)


def _load_csv(path: Path) -> Table:
    raw = path.read_bytes()
    not_text = InputError(
        str(path),
        "geen tekstbestand (het bevat binaire gegevens)",
        fix="exporteer de tabel opnieuw als CSV (UTF-8) of lever het Excel-bestand zelf aan",
    )
    if b"\x00" in raw[:65536]:
        raise not_text
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp1252")  # Excel on Windows saves CSV in this code page
        except UnicodeDecodeError:
            raise not_text from None
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise InputError(str(path), "het bestand is leeg", fix="download het bestand opnieuw")
    try:
        dialect = csv.Sniffer().sniff(lines[0], delimiters=",;\t")
        sep = dialect.delimiter
    except csv.Error:
        sep = ","
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            skipinitialspace=False,
            engine="c",
        )
    except pd.errors.ParserError as exc:
        raise InputError(
            str(path),
            f"de regels hebben niet allemaal evenveel kolommen ({exc})",
            fix="controleer scheidingstekens en aanhalingstekens in het bestand",
        ) from exc
    except pd.errors.EmptyDataError as exc:
        raise InputError(str(path), "het bestand is leeg", fix="download het bestand opnieuw") from exc
    frame.columns = [str(c).strip().strip('"') for c in frame.columns]
    if frame.columns[0] in ("", "Unnamed: 0"):
        frame = frame.iloc[:, 1:]  # a pandas index written along with the data
    _check_complete(path, lines, sep)
    if frame.empty:
        raise InputError(str(path), "het bestand bevat alleen een kopregel", fix="kies het juiste bestand")
    decimal_comma = sep == ";" and _looks_decimal_comma(frame)
    return Table(frame=frame, first_row=2, decimal_comma=decimal_comma)


def _check_complete(path: Path, lines: list[str], sep: str) -> None:
    """Detect a file that was cut off: its last line has fewer fields than the header."""
    header = next(csv.reader([lines[0]], delimiter=sep))
    last_index = len(lines) - 1
    while last_index > 0 and not lines[last_index].strip():
        last_index -= 1
    if last_index == 0:
        return
    last = next(csv.reader([lines[last_index]], delimiter=sep))
    if len(last) < len(header):
        raise InputError(
            str(path),
            f"de laatste regel heeft {len(last)} van de {len(header)} kolommen; het bestand lijkt afgebroken",
            row=last_index + 1,
            fix="download het bestand opnieuw; er ontbreekt een deel",
        )


def _looks_decimal_comma(frame: pd.DataFrame) -> bool:
    """Tell whether some column of the first 200 rows has decimal commas and no decimal points.

    The cells are matched in one pass, column after column, and then judged per column.
    """
    sample = frame.head(200)
    if sample.empty:
        return False
    cells = pd.Series(sample.to_numpy().ravel(order="F"), dtype="string").str.strip()
    shape = (len(sample.columns), len(sample))
    comma = cells.str.fullmatch(r"-?\d+,\d+").fillna(False).to_numpy(dtype=bool).reshape(shape)
    point = cells.str.fullmatch(r"-?\d+\.\d+").fillna(False).to_numpy(dtype=bool).reshape(shape)
    return bool((comma.any(axis=1) & ~point.any(axis=1)).any())

"""The CLI's shared parts: the Typer app, output formats, error handling, progress."""

from __future__ import annotations

import getpass
import json
import math
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Final

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from wijkradar import __version__
from wijkradar.appdb import AppDB, default_url
from wijkradar.config import Settings
from wijkradar.errors import InputError, WijkradarError
from wijkradar.ingest import FileReport
from wijkradar.query import resolve_gemeente
from wijkradar.regions import Level, is_level, is_valid_code, normalise_code, parse_level
from wijkradar.renamed import OLD_KEYS, with_old_keys
from wijkradar.spreadsheet import csv_bytes
from wijkradar.texts import column_nl, duration_nl, number_nl, table_nl, value_nl
from wijkradar.themes import use_extra_themes
from wijkradar.warehouse import Warehouse

app = typer.Typer(
    help="wijkradar: buurtgegevens, risicosignalen en resultaatsturing voor gemeenten.",
    no_args_is_help=True,
    add_completion=False,
)
# Piped output (to a file, Excel, another program) gets wide tables instead of wrapped cells.
out = Console(width=None if sys.stdout.isatty() else 220)
err = Console(stderr=True)


class Format(StrEnum):
    """Output formats every listing supports."""

    table = "table"
    csv = "csv"
    json = "json"


DbOption = Annotated[
    Path | None,
    typer.Option("--db", help="Datapakhuis (DuckDB-bestand); standaard $WIJKRADAR_DB of ./wijkradar.duckdb"),
]
FormatOption = Annotated[Format, typer.Option("--format", "-f", help="Uitvoer: table, csv of json")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Geen voortgangsbalk")]


def _db(path: Path | None) -> Path:
    return path or Settings.from_env().db_path


@contextmanager
def _stores(db: Path | None, *, write: bool = False) -> Iterator[tuple[Warehouse, AppDB]]:
    """Open the warehouse read-only and the operational store beside it (goals, interventions).

    A command that changes goals (``write``) first takes over an older warehouse's own goals.
    """
    from wijkradar.goals import adopt_old_plan, own_store

    with Warehouse.open(_db(db), read_only=True) as wh:
        own = own_store(wh, Settings.from_env().app_db)
        try:
            if write:
                adopt_old_plan(wh, own)
            yield wh, own
        finally:
            own.close()


def _app_db(db: Path | None) -> AppDB:
    """Open the operational store on its own (accounts, audit log)."""
    return AppDB.open(Settings.from_env().app_db or default_url(_db(db)))


def cli_actor() -> str:
    """Name whoever ran a command on this server in the audit log: ``cli:`` and their login."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name in a bare container
        return "cli"


@contextmanager
def _handled(options: dict[str, str] | None = None) -> Iterator[None]:
    """Turn wijkradar's errors into one clear message and a non-zero exit code.

    ``options``: which command-line option gave which field (``{"target_value": "--target"}``),
    so that an error names the option as the user typed it rather than the field behind it.
    """
    try:
        yield
    except WijkradarError as exc:
        if options and isinstance(exc, InputError):
            exc = exc.named(options)
        # soft_wrap: one line per message, never broken inside a path or a quoted value
        err.print(f"[bold red]Fout:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None


def _emit_json(data: Any) -> None:
    """Write JSON as every command gives it: UTF-8, indented, renamed keys also under their old name."""
    sys.stdout.write(json.dumps(with_old_keys(data), ensure_ascii=False, indent=2, default=str) + "\n")


def _emit(frame: pd.DataFrame, fmt: Format, title: str | None = None) -> None:
    if fmt is Format.json:
        old = {
            o: frame[new] for new, o in OLD_KEYS.items() if new in frame.columns and o not in frame.columns
        }
        sys.stdout.write(
            frame.assign(**old).to_json(orient="records", force_ascii=False, date_format="iso", indent=2)
            + "\n"
        )
    elif fmt is Format.csv:
        rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
        cells = [{str(k): _listed(v) for k, v in r.items()} for r in rows]
        sys.stdout.write(csv_bytes(table_nl(cells)).decode("utf-8"))
    else:
        table = Table(title=title, show_lines=False)
        columns = [str(c) for c in frame.columns]
        for column in columns:
            table.add_column(column_nl(column), overflow="fold")
        for row in frame.itertuples(index=False):
            table.add_row(*[_shown(value_nl(c, v)) for c, v in zip(columns, row, strict=True)])
        out.print(table)


def _emit_record(record: dict[str, Any], fmt: Format, lines: list[tuple[str, Any]], title: str) -> None:
    """Write one record: JSON and CSV with every key; on screen one labelled value per line."""
    if fmt is Format.json:
        _emit_json(record)
    elif fmt is Format.csv:
        _emit(pd.DataFrame([record]), fmt)
    else:
        _emit(pd.DataFrame(lines, columns=["cijfer", "waarde"]), fmt, title=title)


def _shown(value: Any) -> str:
    """Text for a cell of a table on screen: Dutch numbers with sensible precision, short times.

    >>> _shown(0.8645749239446391), _shown(48.25), _shown(2020.0), _shown(True)
    ('0,86', '48,2', '2020', 'ja')
    >>> _shown("2026-11-25 15:42:24.023445"), _shown(pd.Timestamp("2026-11-25 15:42:24.5"))
    ('2026-11-25 15:42:24', '2026-11-25 15:42:24')
    """
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, float) and math.isfinite(value):
        if value.is_integer():
            return str(int(value))
        return number_nl(value, 2 if abs(value) < 10 else 1)
    if isinstance(value, pd.Timestamp) or (isinstance(value, str) and TIMESTAMP.match(value)):
        return str(value)[:19]
    return _cell(value)


TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}\.\d+$")


def _listed(value: Any) -> Any:
    return _cell(value) if isinstance(value, (list, tuple)) else value


def _cell(value: Any) -> str:
    """Text for one table or CSV cell: lists (area codes, linked goals) comma-separated."""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _nl(value: Any) -> str:
    return number_nl(value, None, empty="")


def _progress(quiet: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("nog"),
        TimeRemainingColumn(),
        console=err,
        disable=quiet or not err.is_terminal,
        transient=True,
    )


@contextmanager
def _timed(what: str, quiet: bool) -> Iterator[None]:
    """End long work with how long it took ("Trainen klaar in 3 min 12 s."), unless ``quiet``."""
    started = time.perf_counter()
    yield
    if not quiet:
        err.print(f"{what} klaar in {duration_nl(time.perf_counter() - started)}.", highlight=False)


class StepBar:
    """A progress bar over the named steps of long work (see :mod:`wijkradar.steps`).

    A library function calls the bar with each step's name as it begins; the step before it is
    then done. :meth:`part` starts the next part of the work (the next model to train), so the
    bar counts every step of every part and estimates the time left from them.
    """

    def __init__(self, bar: Progress, total: int) -> None:
        self.bar = bar
        self.task: TaskID = bar.add_task("", total=total)
        self.prefix = ""
        self.begun = False

    def __call__(self, step: str) -> None:
        """Begin ``step``: the one before it is done."""
        self.done()
        self.begun = True
        self.bar.update(self.task, description=f"{self.prefix}{step}")

    def part(self, prefix: str) -> None:
        """Begin the next part of the work, named before each of its steps."""
        self.done()
        self.prefix = prefix

    def done(self) -> None:
        """Count the step that is running as done."""
        if self.begun:
            self.bar.advance(self.task)
            self.begun = False


@contextmanager
def _steps(what: str, total: int, quiet: bool) -> Iterator[StepBar]:
    """Show a bar over ``total`` steps and end with the time taken."""
    with _timed(what, quiet), _progress(quiet) as bar:
        steps = StepBar(bar, total)
        yield steps
        steps.done()


@app.callback(invoke_without_command=True)
def main(
    version: Annotated[bool, typer.Option("--version", help="Toon de versie")] = False,
) -> None:
    """Buurtgegevens koppelen, risico's signaleren, prioriteren en sturen op resultaat."""
    if version:
        out.print(f"wijkradar {__version__}")
        raise typer.Exit()
    use_extra_themes(Settings.from_env().themes_file)


def _emit_reports(reports: list[FileReport], fmt: Format) -> None:
    """Print per-file reports (Dutch columns in the table, stable keys in JSON/CSV); fail on errors."""
    if fmt is Format.table:
        _emit(_report_frame(reports), fmt, title="Ingelezen")
    else:
        _emit(pd.DataFrame([r.as_dict() for r in reports]), fmt)
    failed = [r for r in reports if r.action == "failed"]
    for report in failed:
        err.print(f"[bold red]Fout:[/] {escape(report.message)}", highlight=False, soft_wrap=True)
    if failed:
        raise typer.Exit(2)


def _report_frame(reports: list[FileReport]) -> pd.DataFrame:
    labels = {
        "ingested": "ingelezen",
        "unchanged": "ongewijzigd",
        "replaced": "vervangen",
        "failed": "mislukt",
    }
    return pd.DataFrame(
        [
            {
                "bestand": str(Path(*Path(r.path).parts[-2:])),
                "actie": labels[r.action],
                "tabel": r.table_id,
                "perioden": ",".join(r.periods),
                "groepen": ",".join(r.groups),
                "waarnemingen": r.observations,
                "regio's": r.regions,
                "grenzen": r.geometries,
                "opmerking": r.message if r.action != "failed" else "zie foutmelding",
            }
            for r in reports
        ]
    )


def _code_as_given(text: str, *levels: Level) -> str | None:
    """Return ``text`` as a region code when it is a code of one of ``levels`` (else None: a name)."""
    code = normalise_code(text)
    return code if is_valid_code(code) and any(is_level(code, level) for level in levels) else None


def _gemeente_code(text: str, db: Path | None) -> str:
    """Return a GM code as given, or look it up by name in the warehouse."""
    code = _code_as_given(text, "gemeente")
    if code is not None:
        return code
    if not _db(db).exists():
        raise WijkradarError(
            f"Gemeente {text!r} kan nog niet op naam gevonden worden: er is nog geen datapakhuis. "
            "Oplossing: geef de CBS-code, bijvoorbeeld --gemeente GM0034 voor Almere."
        )
    with Warehouse.open(_db(db), read_only=True) as wh:
        return resolve_gemeente(wh, text).code


OutDirOption = Annotated[Path, typer.Option("--out", help="Map voor de downloads")]
NoIngestOption = Annotated[bool, typer.Option("--no-ingest", help="Alleen downloaden")]
GemeenteOption = Annotated[str, typer.Option("--gemeente", help="Naam of code van de gemeente")]
MeasureOption = Annotated[str, typer.Option("--measure", help="Maat, bv. Eenzaam_28")]
GroupOption = Annotated[str, typer.Option("--group", help="Groep, bv. 65+ of 18+")]
MODEL_LEVELS: Final = ("buurt", "wijk", "gemeente")


def level_choice(allowed: tuple[str, ...]) -> Callable[[Any], Any]:
    """Check a ``--level`` as it is typed ("buurten", "Wijk"): exit 2 with the choices when unknown."""

    def check(value: Any) -> Any:
        if value is None:
            return None
        found = []
        for typed in value if isinstance(value, list) else [value]:
            try:
                level: str | None = parse_level(typed)
            except ValueError:
                level = None
            if level not in allowed:
                raise typer.BadParameter(f"onbekend niveau {typed!r}; kies uit {', '.join(allowed)}")
            found.append(level)
        return found if isinstance(value, list) else found[0]

    return check


LevelOption = Annotated[
    str,
    typer.Option("--level", "--niveau", help="buurt, wijk of gemeente", callback=level_choice(MODEL_LEVELS)),
]
PeriodOption = Annotated[str | None, typer.Option("--period", help="Periode; standaard de laatste peiling")]

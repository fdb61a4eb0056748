"""Commands that bring data in and show it: ingest, downloads, crosswalks, sources, regions, show."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich import box
from rich.markup import escape
from rich.progress import TaskID
from rich.table import Table

from wijkradar.cli.common import (
    DbOption,
    Format,
    FormatOption,
    NoIngestOption,
    OutDirOption,
    QuietOption,
    _db,
    _emit,
    _emit_json,
    _emit_reports,
    _gemeente_code,
    _handled,
    _nl,
    _progress,
    _timed,
    app,
    err,
    level_choice,
    out,
)
from wijkradar.config import DEFAULT_ODATA_V4, Settings
from wijkradar.indeling import derive_crosswalks, store_overlap_crosswalk
from wijkradar.ingest import FileReport, ingest
from wijkradar.pages import views
from wijkradar.query import list_regions, list_sources, resolve_gemeente
from wijkradar.regions import LEVELS, parse_level
from wijkradar.sources.download import download_table
from wijkradar.sources.pdok import DEFAULT_PDOK, download_kaart
from wijkradar.texts import STATUS_NL, figure_nl, number_nl, period_nl
from wijkradar.warehouse import Warehouse


@app.command("ingest")
def ingest_cmd(
    paths: Annotated[list[Path], typer.Argument(metavar="PAD", help="Bestanden of mappen (recursief)")],
    db: DbOption = None,
    period: Annotated[
        str | None, typer.Option(help="Jaar voor tabellen zonder jaar in naam of inhoud")
    ] = None,
    laag: Annotated[
        str | None, typer.Option("--laag", help="Alleen deze laag van een GeoPackage (standaard: alle lagen)")
    ] = None,
    fmt: FormatOption = Format.table,
    quiet: QuietOption = False,
) -> None:
    """Lees open data en eigen tabellen in het datapakhuis in (één transactie per bestand).

    Voorbeeld: wijkradar ingest ../shared/data
    """
    with _handled(), Warehouse.open(_db(db)) as wh, _timed("Inlezen", quiet), _progress(quiet) as bar:
        task = bar.add_task("Inlezen", total=None)

        def tick(path: Path, done: int, total: int) -> None:
            bar.update(task, total=total, completed=done, description=f"Inlezen {path.name}")

        reports = ingest(wh, paths, period=period, layer=laag, on_progress=tick)
        bar.update(task, description="Omzettabellen tussen de grensjaren afleiden")
        _derive(wh, reports)
    _emit_reports(reports, fmt)


def _derive(wh: Warehouse, reports: list[FileReport]) -> None:
    """Derive the crosswalks between the indelingen once new files are in (see derive_crosswalks)."""
    if any(r.action in ("ingested", "replaced") for r in reports):
        derive_crosswalks(wh)


@app.command("sources")
def sources_cmd(db: DbOption = None, fmt: FormatOption = Format.table) -> None:
    """Toon de ingelezen bronnen met uitgever, tabel, periode, licentie en controlegetal.

    Voorbeeld: wijkradar sources --format csv > bronnen.csv
    """
    with _handled(), Warehouse.open(_db(db), read_only=True) as wh:
        frame = list_sources(wh)
    if fmt is Format.table:
        frame = frame[
            [
                "source_id",
                "publisher",
                "table_id",
                "period",
                "population_groups",
                "boundary_year",
                "licence",
                "n_observations",
                "ingested_at",
            ]
        ]
    _emit(frame, fmt, title="Bronnen")


@app.command("regions")
def regions_cmd(
    gemeente: Annotated[str | None, typer.Option(help="Naam of code van de gemeente")] = None,
    level: Annotated[
        str | None,
        typer.Option("--level", "--niveau", help="gemeente, wijk of buurt", callback=level_choice(LEVELS)),
    ] = None,
    jaar: Annotated[
        int | None,
        typer.Option(help="Gemeentelijke indeling (grensjaar); standaard die van de meeste cijfers"),
    ] = None,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Toon regio's van één indeling met hun naam: gemeenten, wijken of buurten, eventueel per gemeente.

    Voorbeeld: wijkradar regions --gemeente Almere --level wijk
    """
    with _handled(), Warehouse.open(_db(db), read_only=True) as wh:
        code = resolve_gemeente(wh, gemeente) if gemeente else None
        frame = list_regions(wh, gemeente=code, level=level, year=jaar)
    _emit(frame, fmt, title="Regio's")


@app.command("show")
def show_cmd(
    region: Annotated[str, typer.Argument(metavar="REGIO", help="Code (GM0034) of naam (Almere)")],
    period: Annotated[str | None, typer.Option(help="Alleen deze periode, bv. 2020")] = None,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Toon de cijfers van een gemeente, wijk of buurt, met de modelschattingen en prognoses.

    Op het scherm één regel per cijfer met de eerste en de laatste meting; alle perioden met
    status, bron en indeling geeft --format csv of json (wat de website bij /regio/CODE.json geeft).

    Voorbeeld: wijkradar show "Almere Haven"   (of: wijkradar show WK003401 --format json)
    """
    with _handled(), Warehouse.open(_db(db), read_only=True) as wh:
        profile = views.profile(wh, region, period=period)
    if fmt is Format.json:
        _emit_json(profile)
        return
    figures = pd.DataFrame(profile["figures"])
    if fmt is Format.csv:
        _emit(figures, fmt)
        return
    parents = " > ".join(f"{p['name'] or p['code']}" for p in profile["parents"])
    named = (
        f" naam uit {profile['name_year']},"
        if profile["name_year"] not in (None, profile["boundary_year"])
        else ""
    )
    title = escape(profile["name"] or profile["code"])
    out.print(
        f"[bold]{title}[/] ({profile['code']}, {profile['level']},{named} "
        f"indeling {profile['boundary_year']})" + (f" — in {escape(parents)}" if parents else ""),
        highlight=False,
    )
    for year, n in profile["left_out"].items():
        out.print(
            f"{n} cijfers van indeling {year} weggelaten: daar betekent deze code mogelijk een ander gebied.",
            highlight=False,
        )
    if profile["estimates"]:
        out.print(_estimates_table(profile["estimates"]))
        for e in profile["estimates"]:
            said = ", ".join(
                f"{d['label']} ({'+' if d['contribution'] > 0 else ''}{number_nl(d['contribution'], 2)} punt)"
                for d in e["drivers"][:3]
            )
            if said:
                out.print(
                    f"Wat de schatting {escape(e['label'])} het meest bepaalt: {escape(said)}.\n",
                    width=min(out.width, 100),
                    highlight=False,
                )
    if figures.empty:
        out.print("Geen cijfers voor deze regio" + (f" in {period}" if period else "") + ".")
        return
    for table in _figures_tables(figures):
        out.print(table)
    out.print("Alle perioden met status, bron en indeling: --format csv of --format json.", highlight=False)


def _estimates_table(estimates: list[dict[str, Any]]) -> Table:
    """Tabulate the model's estimates beside the survey, and its prognoses (never a survey)."""
    table = Table(
        title="Modelschatting van wijkradar naast de peiling (90%-interval)",
        box=box.SIMPLE_HEAD,
        title_justify="left",
    )
    for column in ("maat", "peiling", "modelschatting", "prognose (model, geen peiling)"):
        table.add_column(column, overflow="fold")
    for e in estimates:
        forecasts = "\n".join(
            f"{f['period']}: {figure_nl(f['estimate'])} ({_nl(f['lower'])}–{_nl(f['upper'])})"
            for f in e["forecasts"]
        )
        table.add_row(
            escape(e["label"]),
            f"{e['period']}: {figure_nl(e['survey'])}" if e["survey"] is not None else "geen peiling",
            f"{figure_nl(e['estimate'])} ({_nl(e['lower'])}–{_nl(e['upper'])})",
            forecasts or "–",
        )
    return table


def _figures_tables(figures: pd.DataFrame) -> list[Table]:
    """Tabulate the figures to fit a terminal of 100 columns.

    One table per source, one line per figure (year and half-year figures apart) with its first
    and last measurement. A source is named without its year (the Monitor Sociaal Domein
    publishes one table per year).
    """
    figures = figures.assign(
        topic=figures["source_title"].fillna(figures["source"]).str.replace(r",? \d{4}$", "", regex=True),
        half=figures["period"].str.contains("-"),
    )
    tables = []
    for topic, part in figures.groupby("topic", sort=False):
        ids = sorted(set(part["source"]))
        sources = ", ".join(ids) if len(ids) < 3 else f"{ids[0]} … {ids[-1]}, {len(ids)} tabellen"
        table = Table(box=box.SIMPLE_HEAD, title=f"{topic} ({sources})", title_justify="left")
        table.add_column("cijfer", max_width=44, overflow="fold")
        for column in ("groep", "eerste meting", "laatste meting"):
            table.add_column(column, no_wrap=True)
        for (label, group, unit, half), series in part.groupby(
            ["label", "group", "unit", "half"], sort=False
        ):
            said = not unit or unit in ("%", "aantal") or str(unit) in str(label)
            named = str(label) + ("" if said else f" ({unit})")
            known = series[series["status"] == "published"].sort_values("period")
            if known.empty:
                first, last = "", STATUS_NL.get(str(series["status"].iloc[-1]), "–")
            else:
                first = _measured(known.iloc[0], unit) if len(known) > 1 else ""
                last = _measured(known.iloc[-1], unit)
            table.add_row(
                escape(named + (" (halfjaar)" if half else "")),
                "" if group == "totaal" else escape(str(group)),
                first,
                last,
            )
        if not any(table.columns[2].cells):  # one period only (--period): no first measurement
            table.columns.pop(2)
        tables.append(table)
    return tables


def _measured(figure: pd.Series, unit: object) -> str:
    """Say a value with its period: '47,7% in 2020', '78 in 2e hj 2021'."""
    value = figure_nl(figure["value"]) if unit == "%" else _nl(figure["value"])
    when = period_nl(figure["period"]).replace("halfjaar", "hj")
    return f"{value} in {when}"


@app.command("download")
def download_cmd(
    table_ids: Annotated[
        list[str], typer.Argument(metavar="TABEL", help="CBS-tabelnummers, bv. 50090NED 84799NED")
    ],
    base_url: Annotated[str | None, typer.Option(help="Adres van de OData-dienst")] = None,
    odata_filter: Annotated[
        str | None,
        typer.Option("--filter", help="OData-filter, bv. \"startswith(WijkenEnBuurten,'GM0034')\""),
    ] = None,
    api: Annotated[str, typer.Option(help="v3 (opendata.cbs.nl) of v4 (datasets.cbs.nl)")] = "v3",
    gemeente: Annotated[
        list[str] | None,
        typer.Option("--gemeente", help="Alleen deze gemeente(n) met hun wijken en buurten: naam of GM-code"),
    ] = None,
    out_dir: OutDirOption = Path("downloads"),
    no_ingest: NoIngestOption = False,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
    quiet: QuietOption = False,
) -> None:
    """Download tabellen van de CBS open-data-API (met paginering en herhaalpogingen) en lees ze in.

    Eerst de beschrijving van de tabel: een tabel zonder regio-indeling wordt geweigerd voordat er
    gegevens worden opgehaald.

    Voorbeeld: wijkradar download 85984NED --gemeente Almere
    """
    if api not in ("v3", "v4"):
        err.print("[bold red]Fout:[/] --api moet v3 of v4 zijn.")
        raise typer.Exit(2)
    settings = Settings.from_env()
    base = base_url or (settings.odata_base_url if api == "v3" else DEFAULT_ODATA_V4)
    folders = []
    with _handled(), _timed("Download", quiet), _progress(quiet) as bar:
        codes = [_gemeente_code(g, db) for g in gemeente or []]
        for table_id in table_ids:
            task = bar.add_task(f"Download {table_id}", total=None)

            def update(what: str, rows: int, total: int | None, t: TaskID = task) -> None:
                bar.update(t, completed=rows, total=total)

            result = download_table(
                table_id,
                out_dir,
                base_url=base,
                odata_filter=odata_filter,
                api="v4" if api == "v4" else "v3",
                on_progress=update,
                gemeenten=codes,
            )
            folders.append(result.folder)
            err.print(f"{table_id}: {result.rows} rijen in {result.pages} pagina's -> {result.folder}")
    if no_ingest:
        return
    with _handled(), Warehouse.open(_db(db)) as wh, _timed("Inlezen", quiet):
        reports = ingest(wh, folders)
        _derive(wh, reports)
    _emit_reports(reports, fmt)


@app.command("download-kaart")
def download_kaart_cmd(
    jaar: Annotated[int, typer.Option("--jaar", help="Jaar van de wijk- en buurtkaart, bv. 2024")],
    gemeente: Annotated[
        list[str] | None, typer.Option("--gemeente", help="Alleen deze gemeente(n): naam of GM-code")
    ] = None,
    niveau: Annotated[
        list[str] | None, typer.Option("--niveau", help="gemeente, wijk of buurt (standaard wijk en buurt)")
    ] = None,
    base_url: Annotated[str, typer.Option(help="Adres van PDOK")] = DEFAULT_PDOK,
    out_dir: OutDirOption = Path("downloads"),
    no_ingest: NoIngestOption = False,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
    quiet: QuietOption = False,
) -> None:
    """Download gemeente-, wijk- en buurtgrenzen met namen en kerncijfers van PDOK en lees ze in.

    Voorbeeld: wijkradar download-kaart --jaar 2024 --gemeente Almere
    """
    try:
        levels = [parse_level(n) for n in (niveau or ["wijk", "buurt"])]
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--niveau") from None
    with _handled():
        codes = [_gemeente_code(g, db) for g in gemeente or []]
    with _handled(), _timed("Download", quiet), _progress(quiet) as bar:
        task = bar.add_task(f"Wijk- en buurtkaart {jaar}", total=None)

        def update(what: str, rows: int, total: int | None) -> None:
            bar.update(task, description=f"Kaart {jaar}: {what}", completed=rows, total=total)

        result = download_kaart(
            jaar, out_dir, levels=levels, gemeenten=codes, base_url=base_url, on_progress=update
        )
    err.print(f"Wijk- en buurtkaart {jaar}: {result.features} gebieden -> {result.folder}")
    if no_ingest:
        return
    with _handled(), Warehouse.open(_db(db)) as wh, _timed("Inlezen", quiet):
        reports = ingest(wh, result.files)
        _derive(wh, reports)
    _emit_reports(reports, fmt)


@app.command("omzettabel")
def crosswalk_cmd(
    van: Annotated[int, typer.Option("--van", help="Grensjaar van de oude indeling, bv. 2019")],
    naar: Annotated[int, typer.Option("--naar", help="Grensjaar van de nieuwe indeling, bv. 2020")],
    niveau: Annotated[str, typer.Option("--niveau", help="gemeente, wijk of buurt")] = "buurt",
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Maak een omzettabel op oppervlakte uit twee ingelezen grensjaren en bewaar die in het datapakhuis.

    Voorbeeld: wijkradar omzettabel --van 2020 --naar 2024
    """
    try:
        level = parse_level(niveau)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--niveau") from None
    with _handled(), Warehouse.open(_db(db)) as wh:
        report = store_overlap_crosswalk(wh, van, naar, level)
        _derive(wh, [report])
    _emit_reports([report], fmt)

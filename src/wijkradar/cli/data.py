"""Commands that bring data in and show it: ingest, downloads, crosswalks, sources, regions, show."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.markup import escape
from rich.progress import TaskID

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
    app,
    err,
    level_choice,
    out,
)
from wijkradar.config import DEFAULT_ODATA_V4, Settings
from wijkradar.indeling import derive_crosswalks, store_overlap_crosswalk
from wijkradar.ingest import FileReport, ingest
from wijkradar.query import list_regions, list_sources, region_profile, resolve_gemeente
from wijkradar.regions import LEVELS, parse_level
from wijkradar.sources.download import download_table
from wijkradar.sources.pdok import DEFAULT_PDOK, download_kaart
from wijkradar.texts import STATUS_NL, period_nl
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
    with _handled(), Warehouse.open(_db(db)) as wh, _progress(quiet) as bar:
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
    """Toon alle cijfers van een gemeente, wijk of buurt, met periode, bron en status.

    Voorbeeld: wijkradar show "Almere Haven"   (of: wijkradar show WK003401 --format json)
    """
    with _handled(), Warehouse.open(_db(db), read_only=True) as wh:
        profile = region_profile(wh, region, period=period)
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
    if figures.empty:
        out.print("Geen cijfers voor deze regio" + (f" in {period}" if period else "") + ".")
        return
    shown = figures[
        ["label", "group", "period", "value", "unit", "status", "source", "how", "measure"]
    ].copy()
    shown["value"] = [_nl(v) for v in shown["value"]]
    shown["status"] = shown["status"].map(STATUS_NL)
    if fmt is Format.table:  # JSON and CSV keep the period keys (2016-H1) that programs sort on
        shown["period"] = shown["period"].map(period_nl)
    for year, n in profile["left_out"].items():
        out.print(
            f"{n} cijfers van indeling {year} weggelaten: daar betekent deze code mogelijk een ander gebied."
        )
    _emit(
        shown.rename(
            columns={
                "label": "cijfer",
                "group": "groep",
                "period": "periode",
                "value": "waarde",
                "unit": "eenheid",
                "source": "bron",
                "how": "indeling",
                "measure": "code",
            }
        ),
        fmt,
    )


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
    with _handled(), _progress(quiet) as bar:
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
    with _handled(), Warehouse.open(_db(db)) as wh:
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
    with _handled(), _progress(quiet) as bar:
        task = bar.add_task(f"Wijk- en buurtkaart {jaar}", total=None)

        def update(what: str, rows: int, total: int | None) -> None:
            bar.update(task, description=f"Kaart {jaar}: {what}", completed=rows, total=total)

        result = download_kaart(
            jaar, out_dir, levels=levels, gemeenten=codes, base_url=base_url, on_progress=update
        )
    err.print(f"Wijk- en buurtkaart {jaar}: {result.features} gebieden -> {result.folder}")
    if no_ingest:
        return
    with _handled(), Warehouse.open(_db(db)) as wh:
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

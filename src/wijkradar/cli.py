"""The ``wijkradar`` command: thin wrappers that parse arguments, call one API function, print."""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from wijkradar import __version__
from wijkradar.access import add_user, load_users
from wijkradar.config import DEFAULT_ODATA_V4, Settings
from wijkradar.errors import NotFoundError, WijkradarError
from wijkradar.goals import (
    STATUS_RULE,
    add_goal,
    add_intervention,
    delete_goal,
    delete_intervention,
    export_goals,
    find_goal,
    import_goals,
    update_goal,
)
from wijkradar.goals import progress as goal_progress
from wijkradar.indeling import store_overlap_crosswalk
from wijkradar.ingest import FileReport, ingest
from wijkradar.linkage.api import run_linkage
from wijkradar.linkage.api import summary as linkage_summary
from wijkradar.linkage.synth import generate, marginals_from_observations
from wijkradar.models.card import render_markdown
from wijkradar.models.train import evaluation, model_card, train_and_evaluate
from wijkradar.priority import priority_list
from wijkradar.privacy import load_key
from wijkradar.query import list_regions, list_sources, region_profile, resolve_gemeente
from wijkradar.regions import is_valid_code, parse_level
from wijkradar.sources.download import download_table
from wijkradar.sources.pdok import DEFAULT_PDOK, download_kaart
from wijkradar.texts import STATUS_NL, number_nl
from wijkradar.themes import load_themes
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
def _handled() -> Iterator[None]:
    """Turn wijkradar's errors into one clear message and a non-zero exit code."""
    try:
        yield
    except WijkradarError as exc:
        err.print(f"[bold red]Fout:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(exc.exit_code) from None


def _emit(frame: pd.DataFrame, fmt: Format, title: str | None = None) -> None:
    if fmt is Format.json:
        sys.stdout.write(
            frame.to_json(orient="records", force_ascii=False, date_format="iso", indent=2) + "\n"
        )
    elif fmt is Format.csv:
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False)
        sys.stdout.write(buffer.getvalue())
    else:
        table = Table(title=title, show_lines=False)
        for column in frame.columns:
            table.add_column(str(column), overflow="fold")
        for row in frame.itertuples(index=False):
            table.add_row(*["" if pd.isna(v) else str(v) for v in row])
        out.print(table)


def _nl(value: Any) -> str:
    return number_nl(value, None, empty="")


def _progress(quiet: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=quiet or not err.is_terminal,
        transient=True,
    )


@app.callback(invoke_without_command=True)
def main(
    version: Annotated[bool, typer.Option("--version", help="Toon de versie")] = False,
) -> None:
    """Buurtgegevens koppelen, risico's signaleren, prioriteren en sturen op resultaat."""
    if version:
        out.print(f"wijkradar {__version__}")
        raise typer.Exit()


@app.command("ingest")
def ingest_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Bestanden of mappen (recursief)")],
    db: DbOption = None,
    period: Annotated[
        str | None, typer.Option(help="Jaar voor tabellen zonder jaar in naam of inhoud")
    ] = None,
    fmt: FormatOption = Format.table,
    quiet: QuietOption = False,
) -> None:
    """Lees open data en eigen tabellen in het datapakhuis in (één transactie per bestand)."""
    with _handled(), Warehouse.open(_db(db)) as wh, _progress(quiet) as bar:
        task = bar.add_task("Inlezen", total=None)

        def tick(path: Path, done: int, total: int) -> None:
            bar.update(task, total=total, completed=done, description=f"Inlezen {path.name}")

        reports = ingest(wh, paths, period=period, on_progress=tick)
    _emit_reports(reports, fmt)


def _emit_reports(reports: list[FileReport], fmt: Format) -> None:
    """Print per-file reports (Dutch columns in the table, stable keys in JSON/CSV); fail on errors."""
    if fmt is Format.table:
        _emit(_report_frame(reports), fmt, title="Ingelezen")
    else:
        _emit(pd.DataFrame([r.as_dict() for r in reports]), fmt)
    failed = [r for r in reports if r.action == "failed"]
    for report in failed:
        err.print(f"[bold red]Fout:[/] {report.message}", highlight=False)
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


@app.command("sources")
def sources_cmd(db: DbOption = None, fmt: FormatOption = Format.table) -> None:
    """Toon de ingelezen bronnen met uitgever, tabel, periode, licentie en controlegetal."""
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
    level: Annotated[str | None, typer.Option(help="gemeente, wijk of buurt")] = None,
    jaar: Annotated[
        int | None,
        typer.Option(help="Gemeentelijke indeling (grensjaar); standaard die van de meeste cijfers"),
    ] = None,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Toon regio's van één indeling met hun naam: gemeenten, wijken of buurten, eventueel per gemeente."""
    with _handled(), Warehouse.open(_db(db), read_only=True) as wh:
        frame = list_regions(wh, gemeente=gemeente, level=level, year=jaar)
    _emit(frame, fmt, title="Regio's")


@app.command("show")
def show_cmd(
    region: Annotated[str, typer.Argument(help="Code (GM0034) of naam (Almere)")],
    period: Annotated[str | None, typer.Option(help="Alleen deze periode, bv. 2020")] = None,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Toon alle cijfers van een gemeente, wijk of buurt, met periode, bron en status."""
    with _handled(), Warehouse.open(_db(db), read_only=True) as wh:
        profile = region_profile(wh, region, period=period)
    if fmt is Format.json:
        sys.stdout.write(json.dumps(profile, ensure_ascii=False, indent=2, default=str) + "\n")
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
    table_ids: Annotated[list[str], typer.Argument(help="CBS-tabelnummers, bv. 50090NED 84799NED")],
    base_url: Annotated[str | None, typer.Option(help="Adres van de OData-dienst")] = None,
    odata_filter: Annotated[
        str | None,
        typer.Option("--filter", help="OData-filter, bv. \"startswith(WijkenEnBuurten,'GM0034')\""),
    ] = None,
    api: Annotated[str, typer.Option(help="v3 (opendata.cbs.nl) of v4 (datasets.cbs.nl)")] = "v3",
    out_dir: Annotated[Path, typer.Option("--out", help="Map voor de downloads")] = Path("downloads"),
    no_ingest: Annotated[bool, typer.Option("--no-ingest", help="Alleen downloaden")] = False,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
    quiet: QuietOption = False,
) -> None:
    """Download tabellen van de CBS open-data-API (met paginering en herhaalpogingen) en lees ze in."""
    if api not in ("v3", "v4"):
        err.print("[bold red]Fout:[/] --api moet v3 of v4 zijn.")
        raise typer.Exit(2)
    settings = Settings.from_env()
    base = base_url or (settings.odata_base_url if api == "v3" else DEFAULT_ODATA_V4)
    folders = []
    with _handled(), _progress(quiet) as bar:
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
            )
            folders.append(result.folder)
            err.print(f"{table_id}: {result.rows} rijen in {result.pages} pagina's -> {result.folder}")
    if no_ingest:
        return
    with _handled(), Warehouse.open(_db(db)) as wh:
        reports = ingest(wh, folders)
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
    out_dir: Annotated[Path, typer.Option("--out", help="Map voor de downloads")] = Path("downloads"),
    no_ingest: Annotated[bool, typer.Option("--no-ingest", help="Alleen downloaden")] = False,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
    quiet: QuietOption = False,
) -> None:
    """Download gemeente-, wijk- en buurtgrenzen met namen en kerncijfers van PDOK en lees ze in."""
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
    _emit_reports(reports, fmt)


@app.command("omzettabel")
def crosswalk_cmd(
    van: Annotated[int, typer.Option("--van", help="Grensjaar van de oude indeling, bv. 2019")],
    naar: Annotated[int, typer.Option("--naar", help="Grensjaar van de nieuwe indeling, bv. 2020")],
    niveau: Annotated[str, typer.Option("--niveau", help="gemeente, wijk of buurt")] = "buurt",
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Maak een omzettabel op oppervlakte uit twee ingelezen grensjaren en bewaar die in het datapakhuis."""
    try:
        level = parse_level(niveau)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--niveau") from None
    with _handled(), Warehouse.open(_db(db)) as wh:
        report = store_overlap_crosswalk(wh, van, naar, level)
    _emit_reports([report], fmt)


def _gemeente_code(text: str, db: Path | None) -> str:
    """Return a GM code as given, or look it up by name in the warehouse."""
    code = text.strip().upper()
    if is_valid_code(code) and code.startswith("GM"):
        return code
    if not _db(db).exists():
        raise WijkradarError(
            f"Gemeente {text!r} kan nog niet op naam gevonden worden: er is nog geen datapakhuis. "
            "Oplossing: geef de CBS-code, bijvoorbeeld --gemeente GM0034 voor Almere."
        )
    with Warehouse.open(_db(db), read_only=True) as wh:
        return resolve_gemeente(wh, text)


MeasureOption = Annotated[str, typer.Option("--measure", help="Maat, bv. Eenzaam_28")]
GroupOption = Annotated[str, typer.Option("--group", help="Groep, bv. 65+ of 18+")]
LevelOption = Annotated[str, typer.Option("--level", help="buurt, wijk of gemeente")]
PeriodOption = Annotated[str | None, typer.Option("--period", help="Periode; standaard de laatste peiling")]


@app.command("evaluate")
def evaluate_cmd(
    measure: MeasureOption = "Eenzaam_28",
    group: GroupOption = "65+",
    level: LevelOption = "buurt",
    period: PeriodOption = None,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Toon de toetsing van het opgeslagen risicomodel (hele gemeenten buiten de training)."""
    with _handled(), Warehouse.open(_db(db), read_only=True) as wh:
        result = evaluation(wh, measure, group, level, period)
    if fmt is Format.json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
        return
    _emit(pd.DataFrame([result]), fmt, title="Validatie")


@app.command("model-card")
def model_card_cmd(
    measure: MeasureOption = "Eenzaam_28",
    group: GroupOption = "65+",
    level: LevelOption = "buurt",
    period: PeriodOption = None,
    db: DbOption = None,
) -> None:
    """Toon de modelkaart (Markdown): wat het model schat, hoe goed, waarmee en de beperkingen."""
    with _handled(), Warehouse.open(_db(db), read_only=True) as wh:
        card = model_card(wh, measure, group, level, period)
    sys.stdout.write(render_markdown(card))


@app.command("priority")
def priority_cmd(
    gemeente: Annotated[str, typer.Option("--gemeente", help="Naam of code van de gemeente")],
    thema: Annotated[str, typer.Option("--thema", help="Thema, bv. eenzaamheid (zie 'wijkradar themes')")],
    level: LevelOption = "buurt",
    period: PeriodOption = None,
    top: Annotated[int | None, typer.Option("--top", help="Alleen de eerste N")] = None,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Rangschik buurten of wijken van een gemeente op verwacht aantal getroffen inwoners."""
    with _handled(), Warehouse.open(_db(db), read_only=True) as wh:
        result = priority_list(wh, gemeente, thema, level=level, period=period, top=top)
    if fmt is Format.json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
        return
    rows = pd.DataFrame(result["rows"])
    if fmt is Format.csv:
        flat = rows.drop(columns=["drivers", "capacity"]).assign(
            drivers=["; ".join(d["text"] for d in ds) for ds in rows["drivers"]],
            **{k: [c[k] for c in rows["capacity"]] for k in (rows["capacity"].iloc[0] if len(rows) else {})},
        )
        _emit(flat, fmt)
        return
    out.print(
        f"[bold]{result['label']}[/] in {result['gemeente_name']} ({result['gemeente']}), "
        f"{result['level']}, {result['period']} — model {result['model']['algorithm']}, "
        f"R² {_nl(result['model']['r2'] * 100)}% verklaard, "
        f"dekking 90%-interval {_nl(result['model']['coverage90'] * 100)}%",
        highlight=False,
    )
    shown = pd.DataFrame(
        {
            "#": rows["rank"],
            "gebied": rows["label"],
            "%": [_nl(v) for v in rows["rate"]],
            "90%-interval": [
                f"{_nl(lo)}–{_nl(hi)}" for lo, hi in zip(rows["lower"], rows["upper"], strict=True)
            ],
            "bron": rows["source"],
            "inwoners": [_nl(v) for v in rows["residents"]],
            "verwacht getroffen": [_nl(v) for v in rows["expected_affected"]],
            "kans top 10": [_nl(None if v is None else v * 100) for v in rows["p_top10"]],
            "t.o.v. verwachting": rows["verwachting"],
            "belangrijkste factor": [d[0]["label"] if d else "" for d in rows["drivers"]],
        }
    )
    _emit(shown, fmt)
    out.print(
        f"Inwoners: {result['residents_definition']}. "
        "Bron 'peiling' = RIVM 50090NED; 'model' = schatting van wijkradar."
    )


@app.command("themes")
def themes_cmd(fmt: FormatOption = Format.table) -> None:
    """Toon de thema's (uit te breiden met een CSV via WIJKRADAR_THEMES)."""
    with _handled():
        themes = load_themes()
    _emit(pd.DataFrame([t.__dict__ for t in themes.values()]), fmt, title="Thema's")


@app.command("train")
def train_cmd(
    thema: Annotated[
        list[str] | None, typer.Option("--thema", help="Thema('s); standaard alle thema's")
    ] = None,
    measure: Annotated[
        str | None,
        typer.Option("--measure", help="Of een maat buiten de thema's, bv. Roker_11 (met --group)"),
    ] = None,
    group: Annotated[str | None, typer.Option("--group", help="Groep bij --measure, bv. 65+")] = None,
    level: Annotated[
        list[str] | None, typer.Option("--level", help="Niveau(s); standaard buurt, wijk en gemeente")
    ] = None,
    period: PeriodOption = None,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Train, toets en bewaar risicomodellen (het enige commando dat modellen maakt)."""
    themes = load_themes()
    if (measure is None) != (group is None):
        raise typer.BadParameter("geef --measure en --group samen", param_hint="--measure/--group")
    names = thema or ([] if measure else list(themes))
    unknown = [name for name in names if name not in themes]
    with _handled():
        if unknown:
            raise NotFoundError("thema", unknown[0], themes)
    targets = [(themes[n].measure_id, themes[n].population_group, themes[n].label) for n in names]
    if measure is not None and group is not None:
        targets.insert(0, (measure, group, f"{measure} {group}"))
    levels = level or ["buurt", "wijk", "gemeente"]
    results = []
    with _handled(), Warehouse.open(_db(db)) as wh:
        for measure_id, population_group, label in targets:
            for lvl in levels:
                err.print(f"Trainen: {escape(label)}, {lvl} …", highlight=False)
                results.append(train_and_evaluate(wh, measure_id, population_group, lvl, period))
    _emit(pd.DataFrame(results), fmt, title="Getraind")


@app.command("serve")
def serve_cmd(
    host: Annotated[str, typer.Option(help="Adres om op te luisteren")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Poort")] = 8000,
    users_file: Annotated[
        Path | None,
        typer.Option(
            "--gebruikers",
            help="Gebruikersbestand (wijkradar users add): iedereen logt in en ziet alleen de eigen "
            "gegevens van de eigen gemeente. Standaard $WIJKRADAR_USERS.",
        ),
    ] = None,
    read_only: Annotated[
        bool,
        typer.Option(
            "--alleen-lezen",
            help="Doelen en interventies niet wijzigbaar; dan kunnen andere programma's het bestand lezen",
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """Start de website (FastAPI) op http://HOST:PORT."""
    import uvicorn  # only the server needs it

    from wijkradar.web.app import create_app

    users_path = users_file or (
        Path(os.environ["WIJKRADAR_USERS"]) if os.environ.get("WIJKRADAR_USERS") else None
    )
    with _handled():
        users = load_users(users_path) if users_path else None
        application = create_app(_db(db), editable=not read_only, users=users)
    if users:
        err.print(f"Inloggen verplicht: {len(users)} gebruikers uit {users_path}")
    elif not read_only and host not in ("127.0.0.1", "localhost", "::1"):
        err.print(
            "[bold yellow]Let op:[/] de website heeft geen inlog; op dit adres kan iedereen die het bereikt "
            "doelen en interventies wijzigen. Gebruik --alleen-lezen om dat uit te sluiten."
        )
    err.print(f"wijkradar draait op http://{host}:{port} (stoppen met Ctrl+C)")
    uvicorn.run(application, host=host, port=port, log_level="warning")


linkage_app = typer.Typer(help="Koppeling van persoonsregisters (stapeling van ondersteuning per buurt).")
app.add_typer(linkage_app, name="linkage")


@linkage_app.command("run")
def linkage_run_cmd(
    persons: Annotated[Path, typer.Option("--persons", help="Personen (CSV of Parquet)")],
    provisions: Annotated[Path, typer.Option("--provisions", help="Voorzieningen (CSV of Parquet)")],
    period: Annotated[int, typer.Option("--period", help="Jaar, bv. 2023")],
    engine: Annotated[str, typer.Option(help="duckdb (standaard) of spark")] = "duckdb",
    master: Annotated[str | None, typer.Option(help="Spark-master, bv. spark://host:7077")] = None,
    key_file: Annotated[
        Path | None, typer.Option("--key-file", help="Geheime sleutel voor pseudonimisering")
    ] = None,
    threshold: Annotated[int, typer.Option(help="Kleinste aantal dat getoond mag worden")] = 5,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Pseudonimiseer, koppel en tel huishoudens met meerdere voorzieningen per buurt, wijk en gemeente."""
    if engine not in ("duckdb", "spark"):
        err.print("[bold red]Fout:[/] --engine moet duckdb of spark zijn.")
        raise typer.Exit(2)
    with _handled():
        key = load_key(key_file)
        with Warehouse.open(_db(db)) as wh:
            report = run_linkage(
                wh,
                persons,
                provisions,
                period,
                key,
                engine="spark" if engine == "spark" else "duckdb",
                master=master,
                threshold=threshold,
            )
    result = linkage_summary(report)
    if fmt is Format.json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
        return
    flat = {k: v for k, v in result.items() if k != "seconds"} | {
        f"s_{k}": v for k, v in result["seconds"].items()
    }
    _emit(pd.DataFrame([flat]), fmt, title="Koppeling")


@app.command("synth")
def synth_cmd(
    out_dir: Annotated[Path, typer.Option("--out", help="Map voor persons.parquet en provisions.parquet")],
    gemeente: Annotated[str | None, typer.Option(help="Naam of code van de gemeente")] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Heel Nederland (alle buurten met Kerncijfers)")
    ] = False,
    persons: Annotated[
        int | None, typer.Option("--persons", help="Schaal naar ongeveer zoveel personen")
    ] = None,
    period: Annotated[int, typer.Option(help="Jaar")] = 2023,
    seed: Annotated[int, typer.Option(help="Startwaarde van de toevalsgenerator")] = 0,
    db: DbOption = None,
) -> None:
    """Maak een synthetische bevolking (alleen voor testen van schaal en juistheid, niet voor conclusies)."""
    if bool(gemeente) == all_:
        err.print("[bold red]Fout:[/] kies --gemeente NAAM of --all.")
        raise typer.Exit(2)
    with _handled(), Warehouse.open(_db(db), read_only=True) as wh:
        marginals = marginals_from_observations(wh.published())
        if gemeente:
            code = resolve_gemeente(wh, gemeente)
            marginals = type(marginals)(marginals.frame[marginals.frame.index.str[2:6] == code[2:]])
            if marginals.frame.empty:
                raise NotFoundError("gemeente met Kerncijfers per buurt", gemeente, [])
    persons_path, provisions_path, counts = generate(
        marginals, out_dir, period=period, seed=seed, scale_to=persons
    )
    out.print(
        f"{counts['persons']:,} personen in {counts['households']:,} huishoudens, "
        f"{counts['provisions']:,} voorzieningen -> {persons_path}, {provisions_path}"
    )


goals_app = typer.Typer(help="Doelen (doelenboom): nulmeting, streefwaarde en voortgang.")
interventions_app = typer.Typer(help="Interventies per gebied en thema, gekoppeld aan doelen.")
app.add_typer(goals_app, name="goals")
app.add_typer(interventions_app, name="interventions")
GemeenteOption = Annotated[str, typer.Option("--gemeente", help="Naam of code van de gemeente")]
AreaOption = Annotated[
    list[str] | None, typer.Option("--area", help="Gebied: code of naam; herhaal voor een set buurten")
]


def _goal_options(area: list[str] | None, **fields: Any) -> dict[str, Any]:
    """Collect the goal options given on the command line: one area, or a set of buurten."""
    spec = {**fields, "area": area if area and len(area) > 1 else (area[0] if area else None)}
    return {k: v for k, v in spec.items() if v is not None}


@goals_app.command("add")
def goals_add_cmd(
    gemeente: GemeenteOption,
    target: Annotated[float, typer.Option("--target", help="Streefwaarde")],
    target_year: Annotated[int, typer.Option("--target-year", help="Streefjaar")],
    thema: Annotated[str | None, typer.Option("--thema", help="Thema (of --measure en --group)")] = None,
    measure: Annotated[str | None, typer.Option("--measure")] = None,
    group: Annotated[str | None, typer.Option("--group")] = None,
    area: AreaOption = None,
    area_name: Annotated[str | None, typer.Option("--area-name", help="Naam van een set buurten")] = None,
    baseline_period: Annotated[str | None, typer.Option("--baseline-period")] = None,
    direction: Annotated[str | None, typer.Option(help="omlaag of omhoog (standaard: afgeleid)")] = None,
    title: Annotated[str | None, typer.Option()] = None,
    owner: Annotated[str, typer.Option()] = "",
    description: Annotated[str, typer.Option()] = "",
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Voeg een doel toe; de nulmeting komt uit de cijfers."""
    spec = _goal_options(
        area,
        thema=thema,
        measure_id=measure,
        population_group=group,
        area_name=area_name,
        baseline_period=baseline_period,
        target_value=target,
        target_year=target_year,
        direction=direction,
        title=title,
        owner=owner,
        description=description,
    )
    with _handled(), Warehouse.open(_db(db)) as wh:
        record = add_goal(wh, gemeente, spec)
    _emit(pd.DataFrame([record]), fmt, title="Doel toegevoegd")


@goals_app.command("list")
def goals_list_cmd(gemeente: GemeenteOption, db: DbOption = None, fmt: FormatOption = Format.table) -> None:
    """Toon de doelen van een gemeente."""
    with _handled(), Warehouse.open(_db(db), read_only=True) as wh:
        frame = wh.rows("goals", resolve_gemeente(wh, gemeente))
    _emit(frame.drop(columns=["created_at"]), fmt, title="Doelen")


@goals_app.command("show")
def goals_show_cmd(
    gemeente: GemeenteOption,
    goal_id: Annotated[int, typer.Argument(help="Nummer van het doel ('wijkradar goals list')")],
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Toon één doel: omschrijving, voortgang per periode en gekoppelde interventies."""
    with _handled(), Warehouse.open(_db(db), read_only=True) as wh:
        goal = find_goal(wh, gemeente, goal_id)
    if fmt is Format.json:
        sys.stdout.write(json.dumps(goal, ensure_ascii=False, indent=2, default=str) + "\n")
        return
    facts = {
        "titel": goal["title"],
        "maat": f"{goal['measure_id']} ({goal['population_group']})",
        "gebied": f"{goal['area_name']} ({', '.join(goal['area_codes'])})",
        "nulmeting": f"{_nl(goal['baseline_value'])} in {goal['baseline_period']}",
        "streefwaarde": f"{_nl(goal['target_value'])} in {goal['target_year']} ({goal['direction']})",
        "eigenaar": goal["owner"] or "–",
        "toelichting": goal["description"] or "–",
        "interventies": ", ".join(i["title"] for i in goal["interventions"]) or "–",
        "status": goal["progress"]["status"],
    }
    if fmt is Format.table:
        for key, value in facts.items():
            out.print(f"[bold]{key}:[/] {value}")
    _emit(pd.DataFrame(_progress_rows([goal["progress"]])), fmt, title=f"Voortgang doel {goal_id}")
    if fmt is Format.table:
        out.print(f"Regel: {STATUS_RULE}")


@goals_app.command("update")
def goals_update_cmd(
    gemeente: GemeenteOption,
    goal_id: Annotated[int, typer.Argument(help="Nummer van het doel")],
    target: Annotated[float | None, typer.Option("--target", help="Streefwaarde")] = None,
    target_year: Annotated[int | None, typer.Option("--target-year", help="Streefjaar")] = None,
    thema: Annotated[str | None, typer.Option("--thema")] = None,
    area: AreaOption = None,
    area_name: Annotated[str | None, typer.Option("--area-name")] = None,
    baseline_period: Annotated[str | None, typer.Option("--baseline-period")] = None,
    direction: Annotated[str | None, typer.Option()] = None,
    title: Annotated[str | None, typer.Option()] = None,
    owner: Annotated[str | None, typer.Option()] = None,
    description: Annotated[str | None, typer.Option()] = None,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Wijzig een doel; wat u niet opgeeft blijft zoals het was, de nulmeting wordt opnieuw gemeten."""
    spec = _goal_options(
        area,
        thema=thema,
        area_name=area_name,
        baseline_period=baseline_period,
        target_value=target,
        target_year=target_year,
        direction=direction,
        title=title,
        owner=owner,
        description=description,
    )
    with _handled(), Warehouse.open(_db(db)) as wh:
        record = update_goal(wh, gemeente, goal_id, spec, merge=True)
    _emit(pd.DataFrame([record]), fmt, title="Doel gewijzigd")


@goals_app.command("delete")
def goals_delete_cmd(
    gemeente: GemeenteOption,
    goal_id: Annotated[int, typer.Argument(help="Nummer van het doel")],
    db: DbOption = None,
) -> None:
    """Verwijder een doel; gekoppelde interventies blijven, zonder de koppeling."""
    with _handled(), Warehouse.open(_db(db)) as wh:
        delete_goal(wh, gemeente, goal_id)
    out.print(f"Doel {goal_id} verwijderd")


@goals_app.command("progress")
def goals_progress_cmd(
    gemeente: GemeenteOption, db: DbOption = None, fmt: FormatOption = Format.table
) -> None:
    """Toon de voortgang van elk doel, met de regel voor de status."""
    with _handled(), Warehouse.open(_db(db), read_only=True) as wh:
        goals = wh.rows("goals", resolve_gemeente(wh, gemeente)).to_dict("records")
        reports = [goal_progress(wh, {str(k): v for k, v in g.items()}) for g in goals]
    if fmt is Format.json:
        sys.stdout.write(json.dumps(reports, ensure_ascii=False, indent=2, default=str) + "\n")
        return
    _emit(pd.DataFrame(_progress_rows(reports)), fmt, title="Voortgang")
    if fmt is Format.table:
        out.print(f"Regel: {STATUS_RULE}")


def _progress_rows(reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "doel": r["goal_id"],
            "titel": r["title"],
            "periode": p["period"],
            "waarde": _nl(p["value"]),
            "vereist": _nl(p["required"]),
            "marge": _nl(p["u"]),
            "status": p["status"],
            "toelichting": p["note"],
        }
        for r in reports
        for p in r["points"]
    ]


@goals_app.command("export")
def goals_export_cmd(
    gemeente: GemeenteOption,
    out_file: Annotated[Path, typer.Option("--out", help="Bestand .yaml of .xlsx")],
    db: DbOption = None,
) -> None:
    """Schrijf doelen en interventies naar YAML of Excel."""
    with _handled(), Warehouse.open(_db(db), read_only=True) as wh:
        count = export_goals(wh, gemeente, out_file)
    out.print(f"{count} doelen en interventies -> {out_file}")


@goals_app.command("import")
def goals_import_cmd(
    gemeente: GemeenteOption,
    in_file: Annotated[Path, typer.Argument(help="Bestand .yaml of .xlsx")],
    db: DbOption = None,
) -> None:
    """Vervang de doelen en interventies van een gemeente door die uit een bestand (alles of niets)."""
    with _handled(), Warehouse.open(_db(db)) as wh:
        counts = import_goals(wh, gemeente, in_file)
    out.print(f"Ingelezen: {counts['goals']} doelen, {counts['interventions']} interventies")


@interventions_app.command("add")
def interventions_add_cmd(
    gemeente: GemeenteOption,
    title: Annotated[str, typer.Option("--title")],
    start: Annotated[str, typer.Option("--start", help="JJJJ-MM-DD")],
    end: Annotated[str | None, typer.Option("--end", help="JJJJ-MM-DD")] = None,
    thema: Annotated[str, typer.Option("--thema")] = "",
    area: AreaOption = None,
    budget: Annotated[float | None, typer.Option()] = None,
    partners: Annotated[str, typer.Option()] = "",
    description: Annotated[str, typer.Option()] = "",
    goal: Annotated[list[int] | None, typer.Option("--goal", help="Gekoppeld doel (id); herhaalbaar")] = None,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Voeg een interventie toe (gebied, thema, looptijd, budget, partners, doelen)."""
    spec = {
        "title": title,
        "start": start,
        "end": end,
        "theme": thema,
        "area": area,
        "budget": budget,
        "partners": partners,
        "description": description,
        "goal_ids": goal or [],
    }
    with _handled(), Warehouse.open(_db(db)) as wh:
        record = add_intervention(wh, gemeente, spec)
    _emit(pd.DataFrame([record]), fmt, title="Interventie toegevoegd")


@interventions_app.command("list")
def interventions_list_cmd(
    gemeente: GemeenteOption, db: DbOption = None, fmt: FormatOption = Format.table
) -> None:
    """Toon de interventies van een gemeente."""
    with _handled(), Warehouse.open(_db(db), read_only=True) as wh:
        frame = wh.rows("interventions", resolve_gemeente(wh, gemeente))
    _emit(frame.drop(columns=["created_at"]), fmt, title="Interventies")


@interventions_app.command("delete")
def interventions_delete_cmd(
    gemeente: GemeenteOption,
    intervention_id: Annotated[int, typer.Argument(help="Nummer van de interventie")],
    db: DbOption = None,
) -> None:
    """Verwijder een interventie."""
    with _handled(), Warehouse.open(_db(db)) as wh:
        delete_intervention(wh, gemeente, intervention_id)
    out.print(f"Interventie {intervention_id} verwijderd")


users_app = typer.Typer(help="Gebruikers van de website: wie ziet de eigen gegevens van welke gemeente.")
app.add_typer(users_app, name="users")
UsersFile = Annotated[Path, typer.Option("--file", help="Gebruikersbestand (YAML)")]


@users_app.command("add")
def users_add_cmd(
    users_file: UsersFile,
    name: Annotated[str, typer.Option("--name", help="Gebruikersnaam")],
    gemeente: Annotated[list[str], typer.Option("--gemeente", help="Gemeentecode, bv. GM0034; herhaalbaar")],
    password: Annotated[
        str,
        typer.Option(prompt="Wachtwoord", hide_input=True, confirmation_prompt=True, help="Wordt gevraagd"),
    ],
) -> None:
    """Voeg een gebruiker toe of zet een nieuw wachtwoord en nieuwe gemeenten (wachtwoord als scrypt-hash)."""
    with _handled():
        user = add_user(users_file, name, gemeente, password)
    out.print(f"Gebruiker {user.name} ziet de eigen gegevens van {', '.join(sorted(user.gemeenten))}")


@users_app.command("list")
def users_list_cmd(users_file: UsersFile, fmt: FormatOption = Format.table) -> None:
    """Toon de gebruikers en hun gemeenten (nooit de wachtwoorden)."""
    with _handled():
        users = load_users(users_file)
    rows = [{"naam": u.name, "gemeenten": ", ".join(sorted(u.gemeenten))} for u in users.values()]
    _emit(pd.DataFrame(rows, columns=["naam", "gemeenten"]), fmt, title="Gebruikers")


@app.command("report")
def report_cmd(
    gemeente: GemeenteOption,
    out_file: Annotated[Path, typer.Option("--out", help="Bestand .html (zelfstandig) of .pdf")],
    thema: Annotated[list[str] | None, typer.Option("--thema", help="Thema('s); standaard alle")] = None,
    db: DbOption = None,
) -> None:
    """Maak de 'Staat van de gemeente' als zelfstandige HTML of als PDF."""
    from wijkradar.reports.staat import write_report  # needs the browser stack

    with _handled(), Warehouse.open(_db(db), read_only=True) as wh:
        path = write_report(wh, gemeente, out_file, thema)
    out.print(f"Rapport geschreven: {path}")


if __name__ == "__main__":
    app()

"""Commands for register linkage and synthetic populations."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from wijkradar.cli.common import (
    DbOption,
    Format,
    FormatOption,
    QuietOption,
    _code_as_given,
    _db,
    _emit,
    _emit_json,
    _handled,
    _steps,
    app,
    err,
    out,
)
from wijkradar.config import Settings
from wijkradar.errors import NotFoundError
from wijkradar.linkage.api import LINKAGE_STEPS, run_linkage
from wijkradar.linkage.api import summary as linkage_summary
from wijkradar.linkage.synth import generate, marginals_from_observations
from wijkradar.privacy import load_key
from wijkradar.query import resolve_gemeente
from wijkradar.regions import gemeente_codes
from wijkradar.warehouse import Warehouse

linkage_app = typer.Typer(help="Koppeling van persoonsregisters (stapeling van ondersteuning per buurt).")
app.add_typer(linkage_app, name="linkage")


@linkage_app.command("run")
def linkage_run_cmd(
    persons: Annotated[Path, typer.Option("--persons", help="Personen (CSV of Parquet)")],
    provisions: Annotated[Path, typer.Option("--provisions", help="Voorzieningen (CSV of Parquet)")],
    period: Annotated[int, typer.Option("--period", help="Jaar, bv. 2023")],
    gemeente: Annotated[str, typer.Option("--gemeente", help="Gemeente van de registratie (naam of code)")],
    engine: Annotated[str, typer.Option(help="duckdb (standaard) of spark")] = "duckdb",
    master: Annotated[str | None, typer.Option(help="Spark-master, bv. spark://host:7077")] = None,
    key_file: Annotated[
        Path | None, typer.Option("--key-file", help="Geheime sleutel voor pseudonimisering")
    ] = None,
    threshold: Annotated[int, typer.Option(help="Kleinste aantal dat getoond mag worden (standaard 5)")] = 5,
    reason: Annotated[
        str | None, typer.Option("--reden", help="Waarom een drempel onder 5 (wordt bij de cijfers bewaard)")
    ] = None,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
    quiet: QuietOption = False,
) -> None:
    """Pseudonimiseer, koppel en tel huishoudens met meerdere voorzieningen per buurt, wijk en gemeente.

    Voorbeeld: wijkradar linkage run --persons personen.parquet
    --provisions voorzieningen.parquet --period 2023 --gemeente Almere --key-file sleutel.txt
    """
    if engine not in ("duckdb", "spark"):
        err.print("[bold red]Fout:[/] --engine moet duckdb of spark zijn.")
        raise typer.Exit(2)
    with _handled():
        settings = Settings.from_env()
        key = load_key(key_file or settings.key_file, settings.key)
        with Warehouse.open(_db(db)) as wh, _steps("Koppeling", len(LINKAGE_STEPS), quiet) as steps:
            code = _gemeente_or_land(wh, gemeente)
            report = run_linkage(
                wh,
                persons,
                provisions,
                period,
                key,
                engine="spark" if engine == "spark" else "duckdb",
                master=master,
                gemeente=code,
                threshold=threshold,
                reason=reason,
                on_step=steps,
            )
    result = linkage_summary(report)
    if fmt is Format.json:
        _emit_json(result)
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
    """Maak een synthetische bevolking (alleen voor testen van schaal en juistheid, niet voor conclusies).

    Voorbeeld: wijkradar synth --gemeente Almere --out synth/
    """
    if bool(gemeente) == all_:
        err.print("[bold red]Fout:[/] kies --gemeente NAAM of --all.")
        raise typer.Exit(2)
    with _handled(), Warehouse.open(_db(db), read_only=True) as wh:
        marginals = marginals_from_observations(wh.observations.published())
        if gemeente:
            code = _gemeente_or_land(wh, gemeente)
            marginals = type(marginals)(marginals.frame[gemeente_codes(marginals.frame.index) == code])
            if marginals.frame.empty:
                raise NotFoundError("gemeente met Kerncijfers per buurt", gemeente, [])
    persons_path, provisions_path, counts = generate(
        marginals, out_dir, period=period, seed=seed, scale_to=persons
    )
    out.print(
        f"{counts['persons']:,} personen in {counts['households']:,} huishoudens, "
        f"{counts['provisions']:,} voorzieningen -> {persons_path}, {provisions_path}"
    )


def _gemeente_or_land(wh: Warehouse, text: str) -> str:
    """Take a gemeente code or NL01 as given, or look a gemeente's name up in the warehouse.

    A code is taken as given: a synthetic population may hold gemeenten the warehouse lacks.
    """
    return _code_as_given(text, "gemeente", "land") or resolve_gemeente(wh, text).code

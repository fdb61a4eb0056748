"""Commands for the web app and the report: serve, users, report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from wijkradar.access import add_user, load_users
from wijkradar.cli.common import (
    DbOption,
    Format,
    FormatOption,
    GemeenteOption,
    _db,
    _emit,
    _handled,
    app,
    err,
    out,
)
from wijkradar.config import Settings
from wijkradar.warehouse import Warehouse


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

    users_path = users_file or Settings.from_env().users_file
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

"""Commands for the web app and the report: serve, users, report."""

from __future__ import annotations

import socket
import sys
from functools import partial
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from wijkradar.access import check_gemeente, check_name, check_password, check_role, hash_password
from wijkradar.appdb import AppDB, default_url
from wijkradar.cli.common import (
    DbOption,
    Format,
    FormatOption,
    GemeenteOption,
    QuietOption,
    _app_db,
    _db,
    _emit,
    _gemeente_code,
    _handled,
    _steps,
    _stores,
    app,
    cli_actor,
    err,
    out,
)
from wijkradar.config import Settings
from wijkradar.errors import InputError, NotFoundError, WijkradarError
from wijkradar.query import resolve_gemeente
from wijkradar.texts import ROLE_NL
from wijkradar.warehouse import Warehouse

LOOPBACK = ("127.0.0.1", "localhost", "::1")
USER_OPTIONS = {"gemeente": "--gemeente", "rol": "--rol", "wachtwoord": "--wachtwoord-stdin"}  # for errors


@app.command("serve")
def serve_cmd(
    host: Annotated[str, typer.Option(help="Adres om op te luisteren")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Poort")] = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Aantal processen")] = 1,
    read_only: Annotated[
        bool, typer.Option("--alleen-lezen", help="Geen formulieren: doelen en interventies niet wijzigbaar")
    ] = False,
    open_data: Annotated[
        bool,
        typer.Option(
            "--alleen-open-data",
            help="Toon geen eigen gegevens van gemeenten (geen doelen, geen registraties): een openbare site",
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """Start de website (FastAPI) op http://HOST:PORT; het datapakhuis blijft ondertussen bruikbaar.

    Voorbeeld: wijkradar serve --port 8000
    """
    import uvicorn  # only the server needs it

    from wijkradar.goals import adopt_old_plan, own_store
    from wijkradar.web.app import create_app

    settings = Settings.from_env()
    with _handled():
        path = _db(db).resolve()
        if Warehouse.outdated(path):  # brought up to date before any worker reads it
            Warehouse.open(path).close()
        with Warehouse.open(path, read_only=True) as wh, own_store(wh, settings.app_db) as store:
            users = store.accounts.user_count()
            adopted = adopt_old_plan(wh, store)  # once, before any worker reads the goals
        if adopted:
            err.print(
                f"{adopted} doelen en interventies overgenomen uit het datapakhuis van een oudere versie."
            )
        if not users and not open_data and host not in LOOPBACK:
            raise WijkradarError(
                f"Geen gebruikers: op {host} zou iedereen die de site bereikt de eigen gegevens van "
                "gemeenten zien en wijzigen. Oplossing: maak gebruikers aan met 'wijkradar users add', "
                "of start met --alleen-open-data voor een openbare site zonder eigen gegevens."
            )
    if open_data:
        err.print("Alleen open data: doelen, interventies en registraties van gemeenten zijn niet te zien.")
    elif users:
        err.print(f"Inloggen verplicht: {users} {'gebruiker' if users == 1 else 'gebruikers'}.")
    else:
        err.print("Geen gebruikers: deze site is alleen voor deze computer en toont alles.")
    hosts = settings.hosts
    if not hosts and host not in ("0.0.0.0", "::"):  # noqa: S104  # compared, not bound
        hosts = tuple(sorted({host, *LOOPBACK} - {"::1"}))
    # Each worker builds the app from these settings: uvicorn hands the (picklable) factory to the
    # processes it starts, so nothing passes through the environment.
    factory = partial(
        create_app,
        path,
        editable=not (read_only or open_data),
        app_db=settings.app_db or default_url(path),
        open_data_only=open_data,
        hosts=hosts,
        themes_file=settings.themes_file,
        page_threads=settings.page_threads,
    )
    err.print(f"wijkradar draait op http://{host}:{port} met {workers} proces(sen) (stoppen met Ctrl+C)")
    config = uvicorn.Config(
        factory,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        # A client's X-Forwarded-For is believed only from the proxies named in WIJKRADAR_PROXIES:
        # uvicorn believes 127.0.0.1 by default, so anyone on the machine could pick the address
        # that login throttling counts.
        proxy_headers=bool(settings.proxies),
        forwarded_allow_ips=",".join(settings.proxies) or None,
    )
    if workers == 1:
        uvicorn.Server(config).run()
        return
    from uvicorn.supervisors import Multiprocess

    try:
        Multiprocess(config, sockets=[_tcp(config.bind_socket())]).run()
    except KeyboardInterrupt:
        pass


def _tcp(sock: socket.socket) -> socket.socket:
    """Return the listening socket marked as TCP, so every connection gets TCP_NODELAY.

    uvicorn binds the socket of several workers with protocol 0, and asyncio only switches Nagle's
    algorithm off for sockets that say they are TCP: every request after the first on a kept-alive
    connection then waited ~40 ms for a delayed ACK (uvicorn issue 3149; measured here: /healthz
    44 ms with two workers against 4 ms with one).
    """
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return sock
    marked = socket.socket(sock.family, socket.SOCK_STREAM, socket.IPPROTO_TCP, fileno=sock.detach())
    marked.set_inheritable(True)
    return marked


users_app = typer.Typer(help="Gebruikers van de website en hun rol per gemeente (lezer, analist, beheerder).")
app.add_typer(users_app, name="users")
NameArgument = Annotated[str, typer.Argument(metavar="NAAM", help="Gebruikersnaam")]
RoleOption = Annotated[str, typer.Option("--rol", help="lezer, analist of beheerder")]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = typer.prompt("Wachtwoord", hide_input=True)
    if typer.prompt("Nog een keer", hide_input=True) != first:
        raise InputError(
            "wachtwoord", "de twee wachtwoorden verschillen", fix="typ hetzelfde wachtwoord twee keer"
        )
    return str(first)


@users_app.command("add")
def users_add_cmd(
    name: NameArgument,
    gemeente: Annotated[
        str | None, typer.Option("--gemeente", help="Naam of code van de gemeente, bv. Almere")
    ] = None,
    role: RoleOption = "lezer",
    national: Annotated[
        bool, typer.Option("--landelijk-beheerder", help="Beheert de gebruikers van alle gemeenten")
    ] = False,
    stdin: Annotated[
        bool, typer.Option("--wachtwoord-stdin", help="Lees het wachtwoord van standaardinvoer")
    ] = False,
    db: DbOption = None,
) -> None:
    """Voeg een gebruiker toe (of zet een nieuw wachtwoord) met een rol in een gemeente.

    Voorbeeld: wijkradar users add marieke --gemeente Almere --rol analist --wachtwoord-stdin < wachtwoord.txt
    """
    with _handled(USER_OPTIONS):
        check_name(name)
        if gemeente is None and not national:
            raise InputError(
                "gebruiker",
                "geen gemeente",
                column="gemeente",
                fix="geef --gemeente GM.... of --landelijk-beheerder",
            )
        if gemeente is not None:
            gemeente = check_gemeente(_gemeente_code(gemeente, db))
            role = check_role(role)
        password = hash_password(check_password(_password(stdin)))
        with _app_db(db) as store:
            store.accounts.save_user(name, password, national_admin=national or None)
            if gemeente is not None:
                store.accounts.set_role(name, gemeente, role)
            for code in (store.accounts.user(name) or {}).get("roles", {}):
                said = ROLE_NL[role] if code == gemeente else "wachtwoord"
                store.log(cli_actor(), code, "role", f"{name}: {said}")
            if national:  # manages the users of every gemeente: each one's beheerders see it
                for code in _gemeenten_with_users(store):
                    store.log(cli_actor(), code, "role", f"{name}: landelijk beheerder")
    where = f"{ROLE_NL[role]} in {gemeente}" if gemeente else "landelijk beheerder"
    out.print(f"Gebruiker {name}: {where}")


def _gemeenten_with_users(store: AppDB) -> set[str]:
    """Return the gemeenten where anyone has a role: their audit logs tell of a landelijk beheerder."""
    return {code for user in store.accounts.users() for code in user["roles"]}


@users_app.command("role")
def users_role_cmd(
    name: NameArgument,
    gemeente: Annotated[str, typer.Option("--gemeente", help="Naam of code van de gemeente, bv. Almere")],
    role: Annotated[str, typer.Option("--rol", help="lezer, analist, beheerder, of geen (rol intrekken)")],
    db: DbOption = None,
) -> None:
    """Geef een gebruiker een rol in een gemeente, of trek die in (--rol geen).

    Voorbeeld: wijkradar users role marieke --gemeente Almere --rol beheerder
    """
    with _handled(USER_OPTIONS), _app_db(db) as store:
        gemeente = check_gemeente(_gemeente_code(gemeente, db))
        if store.accounts.user(name) is None:
            raise NotFoundError("gebruiker", name, [u["name"] for u in store.accounts.users()])
        code = None if role == "geen" else check_role(role)
        role = ROLE_NL[code] if code else role
        store.accounts.set_role(name, gemeente, code)
        store.log(cli_actor(), gemeente, "role", f"{name}: {role}")
    out.print(f"Gebruiker {name}: {role} in {gemeente}")


@users_app.command("remove")
def users_remove_cmd(name: NameArgument, db: DbOption = None) -> None:
    """Verwijder een gebruiker; sessies van die gebruiker stoppen meteen.

    Voorbeeld: wijkradar users remove marieke
    """
    with _handled(), _app_db(db) as store:
        found = store.accounts.user(name) or {}
        if not store.accounts.remove_user(name):
            raise NotFoundError("gebruiker", name, [u["name"] for u in store.accounts.users()])
        told = _gemeenten_with_users(store) if found.get("national_admin") else set()
        for code in sorted(set(found.get("roles", {})) | told):
            store.log(cli_actor(), code, "role", f"{name}: geen", "gebruiker verwijderd")
    out.print(f"Gebruiker {name} verwijderd")


@users_app.command("list")
def users_list_cmd(
    gemeente: Annotated[
        str | None, typer.Option("--gemeente", help="Alleen gebruikers met een rol hier")
    ] = None,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Toon de gebruikers en hun rollen (nooit de wachtwoorden).

    Voorbeeld: wijkradar users list --gemeente Almere
    """
    with _handled(), _app_db(db) as store:
        found = store.accounts.users(_gemeente_code(gemeente, db) if gemeente else None)
    rows = [
        {
            "naam": u["name"],
            "rollen": ", ".join(f"{g} {ROLE_NL.get(r, r)}" for g, r in sorted(u["roles"].items())),
            "landelijk beheerder": "ja" if u["national_admin"] else "",
        }
        for u in found
    ]
    _emit(pd.DataFrame(rows, columns=["naam", "rollen", "landelijk beheerder"]), fmt, title="Gebruikers")


@app.command("audit")
def audit_cmd(
    gemeente: GemeenteOption,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Toon het auditlogboek van een gemeente: wie zag of wijzigde wanneer welke eigen gegevens.

    Voorbeeld: wijkradar audit --gemeente Almere
    """
    with _handled(), _stores(db) as (wh, own):
        code = resolve_gemeente(wh, gemeente).code
        rows = own.audit(code)
        own.log(cli_actor(), code, "view", "auditlog (cli)")
    columns = {
        "at": "moment",
        "user_name": "gebruiker",
        "action": "actie",
        "object": "wat",
        "detail": "toelichting",
    }
    frame = (
        pd.DataFrame(rows, columns=["entry_id", *columns]).drop(columns="entry_id").rename(columns=columns)
    )
    frame["moment"] = frame["moment"].astype(str)
    _emit(frame, fmt, title="Auditlogboek")


@app.command("report")
def report_cmd(
    gemeente: GemeenteOption,
    out_file: Annotated[Path, typer.Option("--out", help="Bestand .html (zelfstandig) of .pdf")],
    thema: Annotated[list[str] | None, typer.Option("--thema", help="Thema('s); standaard alle")] = None,
    db: DbOption = None,
    quiet: QuietOption = False,
) -> None:
    """Maak de 'Staat van de gemeente' als zelfstandige HTML of als PDF.

    Voorbeeld: wijkradar report --gemeente Almere --out staat-van-almere.pdf
    """
    from wijkradar.reports.staat import REPORT_STEPS, write_report  # needs the browser stack

    total = len(REPORT_STEPS) - (out_file.suffix.lower() != ".pdf")
    with _handled(), _stores(db) as (wh, own), _steps("Rapport", total, quiet) as steps:
        chromium = Settings.from_env().chromium
        path = write_report(
            wh, own, resolve_gemeente(wh, gemeente), out_file, thema, chromium=chromium, on_step=steps
        )
    out.print(f"Rapport geschreven: {path}")


if __name__ == "__main__":
    app()

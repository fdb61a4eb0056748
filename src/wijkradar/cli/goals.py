"""Commands for goals and interventions (results monitoring)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from wijkradar.cli.common import (
    DbOption,
    Format,
    FormatOption,
    GemeenteOption,
    _emit,
    _emit_json,
    _handled,
    _nl,
    _stores,
    app,
    cli_actor,
    out,
)
from wijkradar.goals import (
    STATUS_RULE,
    add_goal,
    add_intervention,
    delete_goal,
    delete_intervention,
    described,
    export_goals,
    find_goal,
    import_goals,
    plan,
    progress_rows,
    update_goal,
)
from wijkradar.query import resolve_gemeente
from wijkradar.texts import DIRECTION_NL, GOAL_STATUS_NL

goals_app = typer.Typer(help="Doelen (doelenboom): nulmeting, streefwaarde en voortgang.")
interventions_app = typer.Typer(help="Interventies per gebied en thema, gekoppeld aan doelen.")
app.add_typer(goals_app, name="goals")
app.add_typer(interventions_app, name="interventions")
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
    target: Annotated[str, typer.Option("--target", help="Streefwaarde, bijvoorbeeld 44,5")],
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
        theme=thema,
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
    with _handled(), _stores(db, write=True) as (wh, own):
        record = add_goal(wh, own, resolve_gemeente(wh, gemeente), spec)
        own.log(cli_actor(), record["gemeente_code"], "create", described(record))
    _emit(pd.DataFrame([record]), fmt, title="Doel toegevoegd")


@goals_app.command("list")
def goals_list_cmd(gemeente: GemeenteOption, db: DbOption = None, fmt: FormatOption = Format.table) -> None:
    """Toon de doelen van een gemeente."""
    with _handled(), _stores(db) as (wh, own):
        code = resolve_gemeente(wh, gemeente).code
        frame = pd.DataFrame(own.goals(code))
        own.log(cli_actor(), code, "view", "doelen (cli)")
    _emit(frame.drop(columns=["created_at"], errors="ignore"), fmt, title="Doelen")


@goals_app.command("show")
def goals_show_cmd(
    gemeente: GemeenteOption,
    goal_id: Annotated[int, typer.Argument(help="Nummer van het doel ('wijkradar goals list')")],
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Toon één doel: omschrijving, voortgang per periode en gekoppelde interventies."""
    with _handled(), _stores(db) as (wh, own):
        goal = find_goal(wh, own, resolve_gemeente(wh, gemeente), goal_id)
        own.log(cli_actor(), goal["gemeente_code"], "view", described(goal))
    if fmt is Format.json:
        _emit_json(goal)
        return
    facts = {
        "titel": goal["title"],
        "maat": f"{goal['measure_id']} ({goal['population_group']})",
        "gebied": f"{goal['area_name']} ({', '.join(goal['area_codes'])})",
        "nulmeting": f"{_nl(goal['baseline_value'])} in {goal['baseline_period']}",
        "streefwaarde": f"{_nl(goal['target_value'])} in {goal['target_year']} "
        f"({DIRECTION_NL.get(goal['direction'], goal['direction'])})",
        "eigenaar": goal["owner"] or "–",
        "toelichting": goal["description"] or "–",
        "interventies": ", ".join(i["title"] for i in goal["interventions"]) or "–",
        "status": GOAL_STATUS_NL.get(goal["progress"]["status"], goal["progress"]["status"]),
    }
    if fmt is Format.table:
        for key, value in facts.items():
            out.print(f"[bold]{key}:[/] {value}")
    _emit(_progress_table([goal], fmt), fmt, title=f"Voortgang doel {goal_id}")
    if fmt is Format.table:
        out.print(f"Regel: {STATUS_RULE}")


@goals_app.command("update")
def goals_update_cmd(
    gemeente: GemeenteOption,
    goal_id: Annotated[int, typer.Argument(help="Nummer van het doel")],
    target: Annotated[str | None, typer.Option("--target", help="Streefwaarde, bijvoorbeeld 44,5")] = None,
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
        theme=thema,
        area_name=area_name,
        baseline_period=baseline_period,
        target_value=target,
        target_year=target_year,
        direction=direction,
        title=title,
        owner=owner,
        description=description,
    )
    with _handled(), _stores(db, write=True) as (wh, own):
        record = update_goal(wh, own, resolve_gemeente(wh, gemeente), goal_id, spec, merge=True)
        own.log(cli_actor(), record["gemeente_code"], "update", described(record))
    _emit(pd.DataFrame([record]), fmt, title="Doel gewijzigd")


@goals_app.command("delete")
def goals_delete_cmd(
    gemeente: GemeenteOption,
    goal_id: Annotated[int, typer.Argument(help="Nummer van het doel")],
    db: DbOption = None,
) -> None:
    """Verwijder een doel; gekoppelde interventies blijven, zonder de koppeling."""
    with _handled(), _stores(db, write=True) as (wh, own):
        removed = delete_goal(wh, own, resolve_gemeente(wh, gemeente), goal_id)
        own.log(cli_actor(), removed["gemeente_code"], "delete", described(removed))
    out.print(f"Doel {goal_id} verwijderd")


@goals_app.command("progress")
def goals_progress_cmd(
    gemeente: GemeenteOption, db: DbOption = None, fmt: FormatOption = Format.table
) -> None:
    """Toon de voortgang van elk doel, met de regel voor de status."""
    with _handled(), _stores(db) as (wh, own):
        code = resolve_gemeente(wh, gemeente).code
        goals = plan(wh, own, code)["goals"]  # as the site shows them, uploads' goals included
        own.log(cli_actor(), code, "view", "voortgang (cli)")
    if fmt is Format.json:
        reports = [g["progress"] for g in goals]
        _emit_json(reports)
        return
    _emit(_progress_table(goals, fmt), fmt, title="Voortgang")
    if fmt is Format.table:
        out.print(f"Regel: {STATUS_RULE}")


def _progress_table(goals: list[dict[str, Any]], fmt: Format) -> pd.DataFrame:
    """Return the progress rows; on screen only the columns that fit beside each other."""
    frame = pd.DataFrame(progress_rows(goals))
    if fmt is Format.table and not frame.empty:
        frame = frame[["goal_id", "title", "period", "value", "required", "u", "goal_status", "note"]]
    return frame


@goals_app.command("export")
def goals_export_cmd(
    gemeente: GemeenteOption,
    out_file: Annotated[Path, typer.Option("--out", help="Bestand .yaml of .xlsx")],
    db: DbOption = None,
) -> None:
    """Schrijf doelen en interventies naar YAML of Excel."""
    with _handled(), _stores(db) as (wh, own):
        code = resolve_gemeente(wh, gemeente).code
        count = export_goals(wh, own, code, out_file)
        own.log(cli_actor(), code, "export", f"doelen en interventies ({count})")
    out.print(f"{count} doelen en interventies -> {out_file}")


@goals_app.command("import")
def goals_import_cmd(
    gemeente: GemeenteOption,
    in_file: Annotated[Path, typer.Argument(help="Bestand .yaml of .xlsx")],
    replace_all: Annotated[
        bool, typer.Option("--vervang-alles", help="Ook een bestand zonder doelen inlezen (wist alles)")
    ] = False,
    db: DbOption = None,
) -> None:
    """Vervang de doelen en interventies van een gemeente door die uit een bestand (alles of niets)."""
    with _handled(), _stores(db, write=True) as (wh, own):
        code = resolve_gemeente(wh, gemeente).code
        counts = import_goals(wh, own, code, in_file, replace_all=replace_all)
        own.log(
            cli_actor(),
            code,
            "import",
            f"{counts['goals']} doelen, {counts['interventions']} interventies",
            "vervangt het hele plan",
        )
    out.print(f"Ingelezen: {counts['goals']} doelen, {counts['interventions']} interventies")


@interventions_app.command("add")
def interventions_add_cmd(
    gemeente: GemeenteOption,
    title: Annotated[str, typer.Option("--title")],
    start: Annotated[str, typer.Option("--start", help="JJJJ-MM-DD")],
    end: Annotated[str | None, typer.Option("--end", help="JJJJ-MM-DD")] = None,
    thema: Annotated[str, typer.Option("--thema")] = "",
    area: AreaOption = None,
    budget: Annotated[str | None, typer.Option(help="Budget in euro, bijvoorbeeld 125.000")] = None,
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
    with _handled(), _stores(db, write=True) as (wh, own):
        record = add_intervention(wh, own, resolve_gemeente(wh, gemeente), spec)
        own.log(cli_actor(), record["gemeente_code"], "create", described(record))
    _emit(pd.DataFrame([record]), fmt, title="Interventie toegevoegd")


@interventions_app.command("list")
def interventions_list_cmd(
    gemeente: GemeenteOption, db: DbOption = None, fmt: FormatOption = Format.table
) -> None:
    """Toon de interventies van een gemeente."""
    with _handled(), _stores(db) as (wh, own):
        code = resolve_gemeente(wh, gemeente).code
        frame = pd.DataFrame(own.interventions(code))
        own.log(cli_actor(), code, "view", "interventies (cli)")
    _emit(frame.drop(columns=["created_at"], errors="ignore"), fmt, title="Interventies")


@interventions_app.command("delete")
def interventions_delete_cmd(
    gemeente: GemeenteOption,
    intervention_id: Annotated[int, typer.Argument(help="Nummer van de interventie")],
    db: DbOption = None,
) -> None:
    """Verwijder een interventie."""
    with _handled(), _stores(db, write=True) as (wh, own):
        removed = delete_intervention(wh, own, resolve_gemeente(wh, gemeente), intervention_id)
        own.log(cli_actor(), removed["gemeente_code"], "delete", described(removed))
    out.print(f"Interventie {intervention_id} verwijderd")

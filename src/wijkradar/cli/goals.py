"""Commands for goals and interventions (results monitoring)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Final

import pandas as pd
import typer

from wijkradar.cli.common import (
    DbOption,
    Format,
    FormatOption,
    GemeenteOption,
    _emit,
    _emit_json,
    _emit_record,
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
    intervention_effect,
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


GOAL_OPTIONS: Final = {  # field of a goal -> the option that gives it, for errors
    "theme": "--thema",
    "measure_id": "--measure",
    "population_group": "--group",
    "area": "--area",
    "area_name": "--area-name",
    "baseline_period": "--baseline-period",
    "target_value": "--target",
    "target_year": "--target-year",
    "direction": "--direction",
    "title": "--title",
    "owner": "--owner",
    "description": "--description",
}
THEMA_HELP: Final = "Thema, bv. eenzaamheid ('wijkradar themes'); of --measure en --group"
BASELINE_HELP: Final = "Periode van de nulmeting, bv. 2016 (standaard: de laatste met een cijfer)"
DIRECTION_HELP: Final = "omlaag of omhoog (standaard: afgeleid uit nulmeting en streefwaarde)"
TITLE_HELP: Final = "Korte naam van het doel (standaard: maat, groep en gebied)"
OWNER_HELP: Final = "Wie het doel bewaakt, bv. team Wmo"
DESCRIPTION_HELP: Final = "Toelichting: waarom dit doel, met welke aanpak"


@goals_app.command("add")
def goals_add_cmd(
    gemeente: GemeenteOption,
    target: Annotated[str, typer.Option("--target", help="Streefwaarde, bijvoorbeeld 44,5")],
    target_year: Annotated[int, typer.Option("--target-year", help="Streefjaar, bv. 2028")],
    thema: Annotated[str | None, typer.Option("--thema", help=THEMA_HELP)] = None,
    measure: Annotated[
        str | None, typer.Option("--measure", help="Maat buiten de thema's, bv. Roker_11 (met --group)")
    ] = None,
    group: Annotated[str | None, typer.Option("--group", help="Groep bij --measure, bv. 65+")] = None,
    area: AreaOption = None,
    area_name: Annotated[str | None, typer.Option("--area-name", help="Naam van een set buurten")] = None,
    baseline_period: Annotated[str | None, typer.Option("--baseline-period", help=BASELINE_HELP)] = None,
    direction: Annotated[str | None, typer.Option(help=DIRECTION_HELP)] = None,
    title: Annotated[str | None, typer.Option(help=TITLE_HELP)] = None,
    owner: Annotated[str, typer.Option(help=OWNER_HELP)] = "",
    description: Annotated[str, typer.Option(help=DESCRIPTION_HELP)] = "",
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Voeg een doel toe; de nulmeting komt uit de cijfers.

    Voorbeeld: wijkradar goals add --gemeente Almere --thema eenzaamheid --area "Almere Haven"
    --target 44,5 --target-year 2028 --owner "team Wmo"
    """
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
    with _handled(GOAL_OPTIONS), _stores(db, write=True) as (wh, own):
        record = add_goal(wh, own, resolve_gemeente(wh, gemeente), spec)
        own.log(cli_actor(), record["gemeente_code"], "create", described(record))
    _emit(pd.DataFrame([record]), fmt, title="Doel toegevoegd")


@goals_app.command("list")
def goals_list_cmd(gemeente: GemeenteOption, db: DbOption = None, fmt: FormatOption = Format.table) -> None:
    """Toon de doelen van een gemeente.

    Voorbeeld: wijkradar goals list --gemeente Almere
    """
    with _handled(), _stores(db) as (wh, own):
        code = resolve_gemeente(wh, gemeente).code
        frame = pd.DataFrame(own.goals(code))
        own.log(cli_actor(), code, "view", "doelen (cli)")
    _emit(frame.drop(columns=["created_at"], errors="ignore"), fmt, title="Doelen")


@goals_app.command("show")
def goals_show_cmd(
    gemeente: GemeenteOption,
    goal_id: Annotated[
        int, typer.Argument(metavar="DOEL", help="Nummer van het doel ('wijkradar goals list')")
    ],
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Toon één doel: omschrijving, voortgang per periode en gekoppelde interventies.

    Voorbeeld: wijkradar goals show 1 --gemeente Almere
    """
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
    goal_id: Annotated[int, typer.Argument(metavar="DOEL", help="Nummer van het doel")],
    target: Annotated[str | None, typer.Option("--target", help="Streefwaarde, bijvoorbeeld 44,5")] = None,
    target_year: Annotated[int | None, typer.Option("--target-year", help="Streefjaar, bv. 2028")] = None,
    thema: Annotated[str | None, typer.Option("--thema", help=THEMA_HELP)] = None,
    area: AreaOption = None,
    area_name: Annotated[str | None, typer.Option("--area-name", help="Naam van een set buurten")] = None,
    baseline_period: Annotated[str | None, typer.Option("--baseline-period", help=BASELINE_HELP)] = None,
    direction: Annotated[str | None, typer.Option(help=DIRECTION_HELP)] = None,
    title: Annotated[str | None, typer.Option(help=TITLE_HELP)] = None,
    owner: Annotated[str | None, typer.Option(help=OWNER_HELP)] = None,
    description: Annotated[str | None, typer.Option(help=DESCRIPTION_HELP)] = None,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Wijzig een doel; wat u niet opgeeft blijft zoals het was, de nulmeting wordt opnieuw gemeten.

    Voorbeeld: wijkradar goals update 3 --gemeente Almere --target 43 --target-year 2030
    """
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
    with _handled(GOAL_OPTIONS), _stores(db, write=True) as (wh, own):
        record = update_goal(wh, own, resolve_gemeente(wh, gemeente), goal_id, spec, merge=True)
        own.log(cli_actor(), record["gemeente_code"], "update", described(record))
    _emit(pd.DataFrame([record]), fmt, title="Doel gewijzigd")


@goals_app.command("delete")
def goals_delete_cmd(
    gemeente: GemeenteOption,
    goal_id: Annotated[int, typer.Argument(metavar="DOEL", help="Nummer van het doel")],
    db: DbOption = None,
) -> None:
    """Verwijder een doel; gekoppelde interventies blijven, zonder de koppeling.

    Voorbeeld: wijkradar goals delete 1 --gemeente Almere
    """
    with _handled(), _stores(db, write=True) as (wh, own):
        removed = delete_goal(wh, own, resolve_gemeente(wh, gemeente), goal_id)
        own.log(cli_actor(), removed["gemeente_code"], "delete", described(removed))
    out.print(f"Doel {goal_id} verwijderd")


@goals_app.command("progress")
def goals_progress_cmd(
    gemeente: GemeenteOption, db: DbOption = None, fmt: FormatOption = Format.table
) -> None:
    """Toon de voortgang van elk doel, met de regel voor de status.

    Voorbeeld: wijkradar goals progress --gemeente Almere --format csv > voortgang.csv
    """
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
    """Schrijf doelen en interventies naar YAML of Excel.

    Voorbeeld: wijkradar goals export --gemeente Almere --out doelen.xlsx
    """
    with _handled(), _stores(db) as (wh, own):
        code = resolve_gemeente(wh, gemeente).code
        count = export_goals(wh, own, code, out_file)
        own.log(cli_actor(), code, "export", f"doelen en interventies ({count})")
    out.print(f"{count} doelen en interventies -> {out_file}")


@goals_app.command("import")
def goals_import_cmd(
    gemeente: GemeenteOption,
    in_file: Annotated[Path, typer.Argument(metavar="BESTAND", help="Bestand .yaml of .xlsx")],
    replace_all: Annotated[
        bool, typer.Option("--vervang-alles", help="Ook een bestand zonder doelen inlezen (wist alles)")
    ] = False,
    db: DbOption = None,
) -> None:
    """Vervang de doelen en interventies van een gemeente door die uit een bestand (alles of niets).

    Voorbeeld: wijkradar goals import doelen.xlsx --gemeente Almere
    """
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


INTERVENTION_OPTIONS: Final = {
    "title": "--title",
    "start": "--start",
    "end": "--end",
    "theme": "--thema",
    "area": "--area",
    "budget": "--budget",
    "partners": "--partners",
    "description": "--description",
    "goal_ids": "--goal",
}


@interventions_app.command("add")
def interventions_add_cmd(
    gemeente: GemeenteOption,
    title: Annotated[str, typer.Option("--title", help="Naam van de aanpak, bv. 'Huiskamer Haven'")],
    start: Annotated[str, typer.Option("--start", help="Begindatum JJJJ-MM-DD, bv. 2024-01-01")],
    end: Annotated[str | None, typer.Option("--end", help="Einddatum JJJJ-MM-DD (leeg: loopt nog)")] = None,
    thema: Annotated[str, typer.Option("--thema", help="Thema, bv. eenzaamheid ('wijkradar themes')")] = "",
    area: AreaOption = None,
    budget: Annotated[str | None, typer.Option(help="Budget in euro, bijvoorbeeld 125.000")] = None,
    partners: Annotated[str, typer.Option(help="Uitvoerende partners, bv. 'Welzijn Almere, GGD'")] = "",
    description: Annotated[str, typer.Option(help="Toelichting: wat de aanpak doet en voor wie")] = "",
    goal: Annotated[list[int] | None, typer.Option("--goal", help="Gekoppeld doel (id); herhaalbaar")] = None,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Voeg een interventie toe (gebied, thema, looptijd, budget, partners, doelen).

    Voorbeeld: wijkradar interventions add --gemeente Almere --title "Huiskamer Haven"
    --thema eenzaamheid --area "Almere Haven" --start 2024-01-01 --budget 125.000 --goal 1
    """
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
    with _handled(INTERVENTION_OPTIONS), _stores(db, write=True) as (wh, own):
        record = add_intervention(wh, own, resolve_gemeente(wh, gemeente), spec)
        own.log(cli_actor(), record["gemeente_code"], "create", described(record))
    _emit(pd.DataFrame([record]), fmt, title="Interventie toegevoegd")


@interventions_app.command("list")
def interventions_list_cmd(
    gemeente: GemeenteOption, db: DbOption = None, fmt: FormatOption = Format.table
) -> None:
    """Toon de interventies van een gemeente.

    Voorbeeld: wijkradar interventions list --gemeente Almere
    """
    with _handled(), _stores(db) as (wh, own):
        code = resolve_gemeente(wh, gemeente).code
        frame = pd.DataFrame(own.interventions(code))
        own.log(cli_actor(), code, "view", "interventies (cli)")
    _emit(frame.drop(columns=["created_at"], errors="ignore"), fmt, title="Interventies")


@interventions_app.command("delete")
def interventions_delete_cmd(
    gemeente: GemeenteOption,
    intervention_id: Annotated[int, typer.Argument(metavar="INTERVENTIE", help="Nummer van de interventie")],
    db: DbOption = None,
) -> None:
    """Verwijder een interventie.

    Voorbeeld: wijkradar interventions delete 2 --gemeente Almere
    """
    with _handled(), _stores(db, write=True) as (wh, own):
        removed = delete_intervention(wh, own, resolve_gemeente(wh, gemeente), intervention_id)
        own.log(cli_actor(), removed["gemeente_code"], "delete", described(removed))
    out.print(f"Interventie {intervention_id} verwijderd")


EFFECT_ROWS: Final = (  # what a person reads, in this order; --format json gives every key
    ("title", "interventie"),
    ("label", "uitkomst"),
    ("text", "effect"),
    ("observed", "gemeten na de start"),
    ("expected", "zonder de aanpak verwacht"),
    ("effect", "effect (gemeten min verwacht)"),
    ("lower90", "90%-interval, van"),
    ("upper90", "90%-interval, tot"),
    ("minimal_detectable_effect", "kleinste effect dat te zien is"),
    ("areas", "gebieden van de aanpak"),
    ("comparison_areas", "vergelijkingsgebieden"),
    ("placebo_coverage90", "dekking 90%-interval op placebo's"),
    ("before", "metingen voor de start"),
    ("after", "metingen na de start"),
    ("cost_per_resident", "kosten per inwoner minder getroffen (euro)"),
    ("cost_lower90", "kosten, 90%-interval van"),
    ("cost_upper90", "kosten, 90%-interval tot"),
    ("cost_note", "kosten"),
    ("method", "methode"),
    ("caveat", "let op"),
)


@interventions_app.command("effect")
def interventions_effect_cmd(
    intervention_id: Annotated[int, typer.Argument(metavar="INTERVENTIE", help="Nummer van de interventie")],
    measure: Annotated[
        str | None, typer.Option("--measure", help="Uitkomst anders dan het thema, bv. wmo_clienten_per_1000")
    ] = None,
    group: Annotated[
        str | None, typer.Option("--group", help="Groep bij --measure, bv. 65+ of totaal")
    ] = None,
    gemeente: Annotated[
        str | None, typer.Option("--gemeente", help="Gemeente van de interventie (ter controle)")
    ] = None,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Meet het effect van een interventie tegen vergelijkbare gebieden zonder aanpak, met 90%-interval.

    Verschil-in-verschillen tegen gematchte buurten of wijken; het interval komt uit placebo's
    (dezelfde schatting op willekeurige gebieden zonder aanpak).

    Voorbeeld: wijkradar interventions effect 1 --format json
    """
    with _handled(), _stores(db) as (wh, own):
        found = intervention_effect(
            wh, own, resolve_gemeente(wh, gemeente) if gemeente else None, intervention_id, measure, group
        )
        own.log(cli_actor(), found["gemeente_code"], "view", f"effect interventie {intervention_id} (cli)")
    lines = [(label, found.get(key)) for key, label in EFFECT_ROWS if found.get(key) not in (None, "", [])]
    _emit_record(found, fmt, lines, f"Effect van interventie {intervention_id}")

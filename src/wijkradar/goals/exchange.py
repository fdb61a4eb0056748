"""Goals and interventions to and from YAML and Excel (all or nothing on import)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Final

import pandas as pd

from wijkradar.appdb import AppDB, default_url
from wijkradar.errors import InputError
from wijkradar.goals.store import (
    GOAL_FIELDS,
    add_goal,
    add_intervention,
)
from wijkradar.query import require_gemeente
from wijkradar.regions import Region
from wijkradar.sources.tabular import check_workbook
from wijkradar.spreadsheet import write_xlsx
from wijkradar.warehouse import Warehouse


def own_store(wh: Warehouse, url: str | None = None) -> AppDB:
    """Open the operational store at ``url``, else the file beside the warehouse.

    The CLI and the site hand down ``url`` from their settings (``WIJKRADAR_APP_DB``). Opening
    reads; an older warehouse's own goals are taken over by :func:`adopt_old_plan`, not here.
    """
    return AppDB.open(url or default_url(wh.path))


def adopt_old_plan(wh: Warehouse, own: AppDB) -> int:
    """Take over, once, the goals and interventions a warehouse of before 0.2 kept itself.

    Called by what writes anyway (``wijkradar serve`` and the commands that change goals), never
    when goals are only read. Returns how many rows were taken over (0 when done before, or when
    the store has goals of its own).
    """
    return own.adopt(*wh.legacy.plan())


def export_goals(wh: Warehouse, own: AppDB, gemeente: Region | str, path: Path) -> int:
    """Write the gemeente's goals and interventions to YAML or Excel; return how many rows."""
    gm = require_gemeente(wh, gemeente).code
    goals = own.goals(gm)
    interventions = own.interventions(gm)
    for row in goals + interventions:
        row.pop("created_at", None)
    for row in interventions:
        row["start"] = row.pop("start_date")
        row["end"] = row.pop("end_date")
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        path.write_text(
            yaml.safe_dump(
                {"gemeente": gm, "goals": goals, "interventions": interventions},
                allow_unicode=True,
                sort_keys=False,
            ),
            encoding="utf-8",
        )
    elif path.suffix.lower() == ".xlsx":
        lists = ("area_codes", "goal_ids")  # as "a,b,c" in a cell
        write_xlsx(
            path,
            {
                name: [
                    {k: ",".join(map(str, v)) if k in lists else v for k, v in row.items()} for row in rows
                ]
                for name, rows in (("doelen", goals), ("interventies", interventions))
            },
        )
    else:
        raise InputError(str(path), "onbekend exportformaat", fix="gebruik .yaml of .xlsx")
    return len(goals) + len(interventions)


def import_goals(
    wh: Warehouse, own: AppDB, gemeente: Region | str, path: Path, *, replace_all: bool = False
) -> dict[str, int]:
    """Replace the gemeente's goals and interventions with those in a YAML or Excel file.

    Everything is validated first; nothing is stored unless all of it is valid. A file without any
    goal or intervention would wipe out the plan: it is refused unless ``replace_all``.
    """
    gm = require_gemeente(wh, gemeente).code
    goals, interventions = _read_plan(path)
    if not goals and not interventions and not replace_all:
        raise InputError(
            path.name,
            "het bestand bevat geen doelen en geen interventies; inlezen zou alles wissen",
            fix="controleer het bestand (bladen 'doelen' en 'interventies', of de sleutels goals: en "
            "interventions:); wilt u echt alles wissen, gebruik dan --vervang-alles",
        )
    checked = [
        add_goal(wh, own, gm, g, store=False, origin=f"{path.name}, doel {i + 1}")
        for i, g in enumerate(goals)
    ]
    old_ids = [int(g.get("goal_id", i + 1)) for i, g in enumerate(goals)]
    with own.transaction():
        own.remove_plan(gm)
        # A goal keeps its number (links, minutes and reports refer to it) unless another
        # gemeente's goal has it meanwhile; then it gets a new one, and its interventions follow.
        taken = {int(g["goal_id"]) for g in own.goals()}
        new_ids: dict[int, int] = {}
        for i, (old, record) in enumerate(zip(old_ids, checked, strict=True)):
            keep = "goal_id" in goals[i] and old not in taken
            new_ids[old] = own.add_goal({**record, "goal_id": old} if keep else record)
            taken.add(new_ids[old])
        used = {int(r["intervention_id"]) for r in own.interventions()}
        for i, spec in enumerate(interventions):
            spec = {**spec, "goal_ids": [new_ids.get(int(g), -1) for g in spec.get("goal_ids") or []]}
            record = add_intervention(
                wh, own, gm, spec, store=False, origin=f"{path.name}, interventie {i + 1}"
            )
            given = spec.get("intervention_id")
            if given is not None and str(given).isdigit() and int(given) not in used:
                record = {**record, "intervention_id": int(given)}
            used.add(own.add_intervention(record))
    return {"goals": len(checked), "interventions": len(interventions)}


MAX_PLAN_BYTES: Final = 5_000_000
MAX_PLAN_ROWS: Final = 10_000  # goals and interventions of one sheet; a plan has tens
PLAN_KEYS: Final = frozenset({"gemeente", "goals", "interventions"})
GOAL_KEYS: Final = frozenset(
    {*GOAL_FIELDS, "goal_id", "gemeente_code", "baseline_value", "created_at", "theme", "thema", "area"}
)
INTERVENTION_KEYS: Final = frozenset(
    {
        "intervention_id",
        "gemeente_code",
        "title",
        "theme",
        "area",
        "area_codes",
        "start",
        "end",
        "start_date",
        "end_date",
        "budget",
        "partners",
        "description",
        "goal_ids",
        "created_at",
    }
)


def _read_plan(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Read goals and interventions from YAML or Excel, refusing what is not a plan."""
    if not path.is_file():
        raise InputError(str(path), "bestand bestaat niet", fix="controleer het pad")
    if path.stat().st_size > MAX_PLAN_BYTES:
        raise InputError(path.name, "bestand is groter dan 5 MB", fix="een plan met doelen past ruim in 5 MB")
    if path.suffix.lower() in (".yaml", ".yml"):
        goals, interventions = _yaml_plan(path)
    elif path.suffix.lower() == ".xlsx":
        goals, interventions = _xlsx_plan(path)
    else:
        raise InputError(str(path), "onbekend importformaat", fix="gebruik .yaml of .xlsx")
    for kind, rows, allowed in (
        ("doel", goals, GOAL_KEYS),
        ("interventie", interventions, INTERVENTION_KEYS),
    ):
        for number, row in enumerate(rows, start=1):
            if not isinstance(row, dict):
                raise InputError(
                    path.name,
                    f"{kind} {number} is geen lijst van velden",
                    row=number,
                    fix="zie 'wijkradar goals export'",
                )
            unknown = sorted(str(k) for k in row if str(k) not in allowed)
            if unknown:
                raise InputError(
                    path.name,
                    f"{kind} {number}: onbekend veld",
                    row=number,
                    column=unknown[0][:40],
                    fix=f"gebruik alleen {', '.join(sorted(allowed))}",
                )
    return goals, interventions


# A plan is a mapping of lists of mappings of lists (a goal's areas): four levels; deeper nesting
# is no plan, and thousands of levels made the loader recurse until Python gave up.
MAX_YAML_DEPTH = 8


def _check_yaml_events(yaml: Any, text: str, name: str) -> None:
    """Refuse aliases and deep nesting while streaming the events, before anything is built."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        # Aliases (&a / *a) let a few hundred bytes expand to gigabytes: a plan never needs them.
        if isinstance(event, yaml.AliasEvent):
            raise InputError(
                name, "verwijzingen (*naam) zijn niet toegestaan", fix="schrijf elke waarde voluit"
            )
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise InputError(
                    name,
                    f"te diep genest (meer dan {MAX_YAML_DEPTH} niveaus)",
                    fix="een plan heeft gemeente:, goals: en interventions: met per doel zijn velden",
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _yaml_plan(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    import yaml

    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        _check_yaml_events(yaml, text, path.name)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(
            path.name,
            "geen geldige YAML",
            row=mark.line + 1 if mark else None,
            fix="controleer inspringing en dubbele punten",
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(path.name, "geen plan", fix="begin met goals: en interventions:")
    unknown = sorted(str(k) for k in data if str(k) not in PLAN_KEYS)
    if unknown:
        raise InputError(
            path.name,
            "onbekende sleutel",
            column=unknown[0][:40],
            fix="gebruik gemeente:, goals: en interventions:",
        )
    goals, interventions = data.get("goals") or [], data.get("interventions") or []
    if not isinstance(goals, list) or not isinstance(interventions, list):
        raise InputError(
            path.name, "goals: en interventions: moeten lijsten zijn", fix="zet '- ' voor elk doel"
        )
    return goals, interventions


def _xlsx_plan(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    check_workbook(path, max_rows=MAX_PLAN_ROWS, origin=path.name)
    try:
        sheets = pd.read_excel(path, sheet_name=None, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise InputError(
            path.name,
            f"geen leesbaar Excel-bestand ({type(exc).__name__})",
            fix="sla het opnieuw op als .xlsx",
        ) from None
    if "doelen" not in sheets and "interventies" not in sheets:
        raise InputError(
            path.name,
            f"geen blad 'doelen' of 'interventies' (wel: {', '.join(sorted(sheets))[:100]})",
            fix="gebruik de bladnamen van 'wijkradar goals export'",
        )
    goals = sheets.get("doelen", pd.DataFrame()).to_dict("records")
    interventions = sheets.get("interventies", pd.DataFrame()).to_dict("records")
    for row in goals + interventions:
        for column in ("area_codes", "goal_ids"):
            if column in row and isinstance(row[column], str):
                row[column] = [x for x in row[column].split(",") if x]
            elif column in row and isinstance(row[column], (int, float)) and not pd.isna(row[column]):
                row[column] = [str(int(row[column]))]
        for key in list(row):
            if isinstance(row[key], float) and math.isnan(row[key]):
                row[key] = None
    return [{str(k): v for k, v in r.items()} for r in goals], [
        {str(k): v for k, v in r.items()} for r in interventions
    ]

"""Goals and interventions to and from YAML and Excel (all or nothing on import)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from wijkradar.appdb import AppDB, default_url
from wijkradar.config import Settings
from wijkradar.errors import InputError
from wijkradar.goals.store import (
    add_goal,
    add_intervention,
)
from wijkradar.query import resolve_gemeente
from wijkradar.spreadsheet import write_xlsx
from wijkradar.warehouse import Warehouse


def own_store(wh: Warehouse, url: str | None = None) -> AppDB:
    """Open the operational store: ``url``, else ``WIJKRADAR_APP_DB``, else the file beside the warehouse.

    On first use it takes over the goals and interventions an older warehouse kept itself.
    """
    own = AppDB.open(url or Settings.from_env().app_db or default_url(wh.path))
    own.adopt(*wh.legacy_plan())
    return own


def export_goals(wh: Warehouse, own: AppDB, gemeente: str, path: Path) -> int:
    """Write the gemeente's goals and interventions to YAML or Excel; return how many rows."""
    gm = resolve_gemeente(wh, gemeente)
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


def import_goals(wh: Warehouse, own: AppDB, gemeente: str, path: Path) -> dict[str, int]:
    """Replace the gemeente's goals and interventions with those in a YAML or Excel file.

    Everything is validated first; nothing is stored unless all of it is valid.
    """
    gm = resolve_gemeente(wh, gemeente)
    goals, interventions = _read_plan(path)
    checked = [
        add_goal(wh, own, gm, g, store=False, origin=f"{path.name}, doel {i + 1}")
        for i, g in enumerate(goals)
    ]
    old_ids = [int(g.get("goal_id", i + 1)) for i, g in enumerate(goals)]
    with own.transaction():
        own.remove_plan(gm)
        new_ids = {old: own.add_goal(record) for old, record in zip(old_ids, checked, strict=True)}
        for i, spec in enumerate(interventions):
            spec = {**spec, "goal_ids": [new_ids.get(int(g), -1) for g in spec.get("goal_ids") or []]}
            record = add_intervention(
                wh, own, gm, spec, store=False, origin=f"{path.name}, interventie {i + 1}"
            )
            own.add_intervention(record)
    return {"goals": len(checked), "interventions": len(interventions)}


def _read_plan(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return list(data.get("goals") or []), list(data.get("interventions") or [])
    if path.suffix.lower() == ".xlsx":
        sheets = pd.read_excel(path, sheet_name=None, engine="openpyxl")
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
    raise InputError(str(path), "onbekend importformaat", fix="gebruik .yaml of .xlsx")

"""Progress of a goal per period against the required path, with the status rule; the plan of a gemeente."""

from __future__ import annotations

import json
import math
from functools import partial
from typing import Any, Final

from wijkradar.appdb import AppDB
from wijkradar.goals.measure import (
    area_value,
)
from wijkradar.query import resolve_gemeente
from wijkradar.uploads import with_uploads
from wijkradar.warehouse import Warehouse

# Statuses are English codes; texts.GOAL_STATUS_NL has the words people read.
ON_TRACK: Final = "on_track"
AT_RISK: Final = "at_risk"
BEHIND: Final = "behind"
UNKNOWN: Final = "unknown"
BASELINE: Final = "baseline"
STATUS_RULE = (
    "op koers: vooruitgang > u en achterstand op het pad ≤ u; achter: achterstand > u en vooruitgang ≤ u; "
    "risico: daartussen; onbekend: nog geen meting na de nulmeting (u = gecombineerde 90%-marge)"
)


def status(direction: str, baseline: float, value: float | None, path: float, u: float) -> str:
    """Apply the status rule (see the module docstring) to one measurement.

    Examples
    --------
    >>> status("down", 50.0, 45.0, 48.0, 2.0)
    'on_track'
    >>> status("down", 50.0, 49.0, 46.0, 2.0)
    'behind'
    """
    if value is None:
        return UNKNOWN
    sign = -1.0 if direction == "down" else 1.0
    progress = sign * (value - baseline)
    behind = sign * (path - value)
    if progress > u and behind <= u:
        return ON_TRACK
    if behind > u and progress <= u:
        return BEHIND
    return AT_RISK


def progress(wh: Warehouse, goal: dict[str, Any]) -> dict[str, Any]:
    """Every measurement after the baseline, the required path, and the status of the latest."""
    codes = list(goal["area_codes"])
    periods = wh.periods(goal["measure_id"], goal["population_group"])
    base_year = int(str(goal["baseline_period"])[:4])
    baseline = area_value(
        wh, goal["measure_id"], goal["population_group"], codes, str(goal["baseline_period"])
    )
    u_base = baseline["halfwidth"] or 0.0
    points = []
    for period in periods:
        year = int(period[:4])
        if year < base_year:
            continue
        measured = area_value(wh, goal["measure_id"], goal["population_group"], codes, period)
        fraction = (year - base_year) / (int(goal["target_year"]) - base_year)
        path = (
            float(goal["baseline_value"])
            + (float(goal["target_value"]) - float(goal["baseline_value"])) * fraction
        )
        u = math.hypot(u_base, measured["halfwidth"] or 0.0)
        points.append(
            {
                "period": period,
                "value": measured["value"],
                "halfwidth": measured["halfwidth"],
                "required": round(path, 3),
                "u": round(u, 3),
                "status": BASELINE
                if year == base_year
                else status(goal["direction"], float(goal["baseline_value"]), measured["value"], path, u),
                "note": measured["note"],
            }
        )
    later = [p for p in points if p["status"] != BASELINE]
    return {
        "goal_id": goal.get("goal_id"),
        "title": goal["title"],
        "status": later[-1]["status"] if later else UNKNOWN,
        "rule": STATUS_RULE,
        "points": points,
    }


def plan(wh: Warehouse, own: AppDB, gemeente: str) -> dict[str, Any]:
    """Collect the gemeente's goals (with progress and linked interventions) and all interventions.

    Plain data (strings, numbers, lists) for pages, the report and ``goals show``.
    """
    gm = resolve_gemeente(wh, gemeente)
    wh = with_uploads(wh, own, gm)  # goals may be set on the gemeente's own uploads
    interventions = own.interventions(gm)
    goals = own.goals(gm)
    for row in goals:
        # A plan changes one goal at a time: the others' progress is remembered per goal as stored.
        key = ("goal_progress", json.dumps(row, sort_keys=True, default=str))
        row["progress"] = wh.memo(key, partial(progress, wh, row))
        row["interventions"] = [
            {"intervention_id": i["intervention_id"], "title": i["title"]}
            for i in interventions
            if row["goal_id"] in i["goal_ids"]
        ]
    return {"gemeente": gm, "rule": STATUS_RULE, "goals": goals, "interventions": interventions}

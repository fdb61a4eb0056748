"""Progress of a goal per period against the required path, with the status rule; the plan of a gemeente."""

from __future__ import annotations

import json
import math
from functools import partial
from typing import Any, Final

from wijkradar.appdb import AppDB
from wijkradar.cache import remember
from wijkradar.goals.effect import effects_of_plan
from wijkradar.goals.measure import area_forecast, area_value, measure_label
from wijkradar.query import require_gemeente
from wijkradar.regions import Region
from wijkradar.sources.model import period_kind
from wijkradar.texts import GOAL_STATUS_NL, number_nl
from wijkradar.uploads import with_uploads
from wijkradar.warehouse import Warehouse

# Statuses are English codes; texts.GOAL_STATUS_NL has the words people read.
ON_TRACK: Final = "on_track"
AT_RISK: Final = "at_risk"
BEHIND: Final = "behind"
UNKNOWN: Final = "unknown"
BASELINE: Final = "baseline"
STATUS_RULE = (
    "Op koers: de vooruitgang sinds de nulmeting is groter dan de meetonzekerheid en de meting ligt niet "
    "verder achter op het pad naar het doel dan die onzekerheid. Achter: de meting ligt verder achter op "
    "het pad dan de meetonzekerheid en de vooruitgang is niet groter dan die. Risico: daartussen. "
    "Onbekend: nog geen meting na de nulmeting. De meetonzekerheid is de 90%-marge van nulmeting en "
    "meting samen"
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
    # Only periods as long as the baseline's: a half-year is never a step on a path of years.
    kind = period_kind(str(goal["baseline_period"]))
    periods = [
        p
        for p in wh.observations.periods(goal["measure_id"], goal["population_group"])
        if period_kind(p) == kind
    ]
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
    forecast = area_forecast(wh, goal["measure_id"], goal["population_group"], codes)
    measured_years = [int(p["period"][:4]) for p in points if p["value"] is not None]
    if forecast is not None and int(forecast["period"][:4]) <= max(measured_years, default=base_year):
        forecast = None  # a measurement of that year or later says more
    return {
        "goal_id": goal.get("goal_id"),
        "title": goal["title"],
        "status": later[-1]["status"] if later else UNKNOWN,
        # Shown beside the measurements, never one of them: status and explanation ignore it.
        "forecast": forecast,
        "rule": STATUS_RULE,
        "explanation": explain(
            goal["direction"], float(goal["baseline_value"]), later[-1] if later else None
        ),
        "points": points,
    }


def explain(direction: str, baseline: float, point: dict[str, Any] | None) -> str:
    """Say in one plain sentence, with this goal's numbers, why its latest status is what it is.

    Examples
    --------
    >>> print(explain("down", 50.0, {"period": "2024", "value": 47.3, "required": 45.1, "u": 2.0,
    ...                              "status": "behind"}))  # doctest: +NORMALIZE_WHITESPACE
    De laatste meting (2024: 47,3) ligt 2,2 punt boven het pad naar het doel (45,1); dat verschil is
    groter dan de meetonzekerheid (2,0), dus: achter.
    """
    if point is None or point["value"] is None:
        return "Er is nog geen meting na de nulmeting, dus: onbekend."
    value, path, u = float(point["value"]), float(point["required"]), float(point["u"])
    sign = -1.0 if direction == "down" else 1.0
    gap = value - path
    where = "op" if abs(gap) < 0.05 else ("boven" if gap > 0 else "onder")
    measured = f"De laatste meting ({point['period']}: {number_nl(value)})"
    position = (
        f"{measured} ligt op het pad naar het doel ({number_nl(path)})"
        if where == "op"
        else f"{measured} ligt {number_nl(abs(gap))} punt {where} het pad naar het doel ({number_nl(path)})"
    )
    behind, progress_made = -sign * gap, sign * (value - baseline)
    words = GOAL_STATUS_NL.get(point["status"], point["status"])
    if point["status"] == BEHIND:
        return f"{position}; dat verschil is groter dan de meetonzekerheid ({number_nl(u)}), dus: {words}."
    if point["status"] == ON_TRACK:
        return (
            f"{position}; de vooruitgang sinds de nulmeting ({number_nl(progress_made)}) is groter dan de "
            f"meetonzekerheid ({number_nl(u)}), dus: {words}."
        )
    if behind <= u:
        return (
            f"{position}; de vooruitgang sinds de nulmeting ({number_nl(progress_made)}) is niet groter dan "
            f"de meetonzekerheid ({number_nl(u)}), de achterstand ook niet, dus: {words}."
        )
    return (
        f"{position}; er is vooruitgang ({number_nl(progress_made)}), maar de achterstand op het pad "
        f"({number_nl(behind)}) is groter dan de meetonzekerheid ({number_nl(u)}), dus: {words}."
    )


def plan(wh: Warehouse, own: AppDB, gemeente: Region | str) -> dict[str, Any]:
    """Collect the gemeente's goals (with progress and linked interventions) and all interventions.

    Plain data (strings, numbers, lists) for pages, the report and ``goals show``.
    """
    gm = require_gemeente(wh, gemeente).code
    wh = with_uploads(wh, own, gm)  # goals may be set on the gemeente's own uploads
    interventions = own.interventions(gm)
    goals = own.goals(gm)
    for row in goals:
        # A plan changes one goal at a time: the others' progress is remembered per goal as stored.
        key = ("goal_progress", json.dumps(row, sort_keys=True, default=str))
        row["progress"] = remember(wh, key, partial(progress, wh, row))
        row["measure_label"] = measure_label(wh, row["measure_id"], row["population_group"])
        row["interventions"] = [
            {"intervention_id": i["intervention_id"], "title": i["title"]}
            for i in interventions
            if row["goal_id"] in i["goal_ids"]
        ]
    effects_of_plan(wh, goals, interventions)
    return {"gemeente": gm, "rule": STATUS_RULE, "goals": goals, "interventions": interventions}


def progress_rows(goals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return one row per goal and measured period, for tables (English keys; see texts.table_nl).

    ``goals`` carry their ``progress``, as :func:`plan` gives them.
    """
    return [
        {
            "goal_id": g["goal_id"],
            "title": g["title"],
            "measure_id": g["measure_id"],
            "measure_label": g["measure_label"],
            "population_group": g["population_group"],
            "area_name": g["area_name"],
            "area_codes": ",".join(g["area_codes"]),
            "target_value": g["target_value"],
            "target_year": g["target_year"],
            "direction": g["direction"],
            **{k: p[k] for k in ("period", "value", "halfwidth", "required", "u", "note")},
            "goal_status": p["status"],
        }
        for g in goals
        for p in g["progress"]["points"]
    ]

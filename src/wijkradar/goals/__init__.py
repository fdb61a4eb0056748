"""Steering on results: goals (doelenboom), interventions and progress.

A goal names a measure and population group, an area (the gemeente, a wijk or buurt, or a named
set of buurten such as a wijkteam area), a baseline taken from the data, a target value and year,
and a direction. Progress is measured every period the warehouse has, against the straight path
from baseline to target, with the uncertainty of the measured values taken into account.

Status rule (also printed with every progress report); ``u`` is the combined 90% half-width of
the baseline and the measured value, "vooruitgang" the change from baseline in the goal's
direction, "achterstand" how far the value lags the required path:

* ``on_track`` (op koers)  vooruitgang > u and achterstand ≤ u
* ``behind`` (achter)      achterstand > u and vooruitgang ≤ u
* ``at_risk`` (risico)     everything in between (a change within the intervals is not called progress)
* ``unknown`` (onbekend)   no measurement after the baseline period

Statuses are English codes in Python and JSON; the Dutch words come from ``texts.GOAL_STATUS_NL``.
"""

from wijkradar.goals.effect import intervention_effect
from wijkradar.goals.exchange import adopt_old_plan, export_goals, import_goals, own_store
from wijkradar.goals.measure import area_value, model_margin
from wijkradar.goals.progress import STATUS_RULE, plan, progress, progress_rows, status
from wijkradar.goals.store import (
    GOAL_FIELDS,
    add_goal,
    add_intervention,
    delete_goal,
    delete_intervention,
    described,
    find_goal,
    number,
    update_goal,
    valid_code,
)

__all__ = [
    "GOAL_FIELDS",
    "STATUS_RULE",
    "add_goal",
    "add_intervention",
    "adopt_old_plan",
    "area_value",
    "delete_goal",
    "delete_intervention",
    "described",
    "export_goals",
    "find_goal",
    "import_goals",
    "intervention_effect",
    "model_margin",
    "number",
    "own_store",
    "plan",
    "progress",
    "progress_rows",
    "status",
    "update_goal",
    "valid_code",
]

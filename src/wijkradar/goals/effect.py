"""The measured effect of a gemeente's interventions (see :mod:`wijkradar.effects` for the method).

An intervention is measured on its theme's outcome, or on a goal's measure when it is linked to
that goal; the areas of the gemeente's other interventions are never its comparisons or placebos.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from wijkradar.appdb import AppDB
from wijkradar.effects import Outcome, estimate
from wijkradar.errors import NotFoundError
from wijkradar.goals.measure import measure_label
from wijkradar.query import require_gemeente
from wijkradar.regions import Region
from wijkradar.themes import Theme, load_themes
from wijkradar.uploads import own_themes, with_uploads
from wijkradar.warehouse import Warehouse


def outcome_of(wh: Warehouse, measure: str, group: str) -> Outcome:
    """Name the outcome of a measure and group: a theme's label, unit and direction where one has it."""
    themes: list[Theme] = [*load_themes().values(), *own_themes(wh).values()]
    for theme in themes:
        if theme.measure_id == measure and theme.population_group == group:
            return Outcome(
                measure,
                group,
                theme.label,
                unit=theme.unit,
                source="register" if theme.source == "register" or theme.upload else "survey",
                higher_is_worse=theme.higher_is_worse,
            )
    known = wh.observations.measures().set_index("measure_id")
    if measure not in known.index:
        raise NotFoundError("maat", measure, known.index.tolist(), field="measure_id")
    unit = str(known.loc[measure].get("unit") or "")
    survey = str(known.loc[measure].get("publisher") or "") == "RIVM"  # small-area estimates
    return Outcome(
        measure, group, measure_label(wh, measure, group), unit, "survey" if survey else "register"
    )


def measured(
    wh: Warehouse,
    intervention: dict[str, Any],
    outcome: Outcome,
    others: set[str],
) -> dict[str, Any]:
    """Return the effect of one stored intervention on ``outcome``, or the plain words why not."""
    codes = list(intervention["area_codes"])
    start = date.fromisoformat(str(intervention["start_date"])[:10])
    found = estimate(wh, outcome, codes, start, budget=intervention.get("budget"), others=others - set(codes))
    return {
        "intervention_id": intervention["intervention_id"],
        "title": intervention["title"],
        "start": start.isoformat(),
        **found,
    }


def intervention_effect(
    wh: Warehouse,
    own: AppDB,
    gemeente: Region | str | None,
    intervention_id: int,
    measure: str | None = None,
    group: str | None = None,
) -> dict[str, Any]:
    """Return the effect of intervention ``intervention_id`` on its theme (or ``measure`` and ``group``).

    Without ``gemeente`` it is looked up among every gemeente's interventions (the CLI on the server).
    """
    gm = require_gemeente(wh, gemeente).code if gemeente is not None else None
    every = own.interventions(gm)
    chosen = next((i for i in every if int(i["intervention_id"]) == intervention_id), None)
    if chosen is None:
        raise NotFoundError("interventie", str(intervention_id), [str(i["intervention_id"]) for i in every])
    gm = str(chosen["gemeente_code"])
    view = with_uploads(wh, own, gm)
    found = measured(
        view, chosen, _outcome(view, chosen, measure, group), _areas(view, own.interventions(gm))
    )
    return {"gemeente_code": gm, **found}


def _outcome(wh: Warehouse, intervention: dict[str, Any], measure: str | None, group: str | None) -> Outcome:
    if measure is not None:
        return outcome_of(wh, measure, group or "totaal")
    themes = {**load_themes(), **own_themes(wh)}
    theme = themes.get(intervention.get("theme") or "")
    if theme is None:
        raise NotFoundError(
            "thema van de interventie", intervention.get("theme") or "(geen)", themes, field="theme"
        )
    return outcome_of(wh, theme.measure_id, theme.population_group)


def _areas(wh: Warehouse, interventions: list[dict[str, Any]]) -> set[str]:
    """Return every area an intervention touches: its own, the buurten inside and the wijk around."""
    codes = {c for i in interventions for c in i["area_codes"]}
    regions = wh.regions.table()
    inside = (
        regions["code"].isin(codes) | regions["wijk_code"].isin(codes) | regions["gemeente_code"].isin(codes)
    )
    around = regions.loc[regions["code"].isin(codes), "wijk_code"].dropna()
    return codes | set(regions.loc[inside, "code"]) | set(around)


def effects_of_plan(wh: Warehouse, goals: list[dict[str, Any]], interventions: list[dict[str, Any]]) -> None:
    """Add to every intervention its effect on its theme, and to every goal those of its interventions.

    ``wh`` is the gemeente's view with its uploads. An intervention without a theme is measured
    only on the goals it is linked to.
    """
    everywhere = _areas(wh, interventions)
    themes = {**load_themes(), **own_themes(wh)}
    for intervention in interventions:
        theme = themes.get(intervention.get("theme") or "")
        intervention["effect"] = (
            measured(wh, intervention, outcome_of(wh, theme.measure_id, theme.population_group), everywhere)
            if theme is not None
            else None
        )
    by_id = {int(i["intervention_id"]): i for i in interventions}
    for goal in goals:
        outcome = outcome_of(wh, goal["measure_id"], goal["population_group"])
        for linked in goal["interventions"]:
            linked["effect"] = measured(wh, by_id[int(linked["intervention_id"])], outcome, everywhere)

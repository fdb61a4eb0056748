"""The goal and intervention forms: from posted fields to specifications, and errors back to fields."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import ImmutableMultiDict

from wijkradar.errors import InputError, NotFoundError
from wijkradar.goals import GOAL_FIELDS
from wijkradar.regions import is_level
from wijkradar.texts import number_nl
from wijkradar.themes import load_themes

FORM_FIELDS = {  # the input an error is about (its column or field) -> the form field to point at
    "theme": "thema",
    "region": "area",
    "area_codes": "area",
}


def form_error(exc: InputError | NotFoundError) -> dict[str, Any]:
    """Say what is wrong with a form and which field to fix."""
    if isinstance(exc, InputError):
        field = FORM_FIELDS.get(str(exc.column), exc.column)
        return {
            "field": field,
            "message": f"{exc.problem[:1].upper()}{exc.problem[1:]}. Oplossing: {exc.fix}.",
        }
    return {"field": FORM_FIELDS.get(str(exc.field), exc.field), "message": str(exc)}


def _form_text(form: Any, *names: str) -> dict[str, Any]:
    return {name: str(form.get(name) or "").strip() for name in names}


def goal_spec(form: Any) -> dict[str, Any]:
    """Turn the goal form into a goal specification; empty fields are left to their defaults."""
    spec = _form_text(form, "thema", *(f for f in GOAL_FIELDS if f != "area_codes"))
    if spec["measure_id"]:  # a measure given by hand wins over the theme
        spec["thema"] = ""
        if not spec["population_group"]:
            raise InputError(
                "formulier",
                "bij een eigen maat hoort een groep",
                column="population_group",
                fix="vul de groep in, bijvoorbeeld 65+ of 18+",
            )
    elif not spec["thema"]:
        raise InputError(
            "formulier", "kies een thema of vul een maat in", column="thema", fix="kies een thema"
        )
    areas = [str(a) for a in form.getlist("area")]
    spec["area"] = areas[0] if len(areas) == 1 else areas
    spec["theme"] = spec.pop("thema")  # the form's field is Dutch, the specification's key English
    return {k: v for k, v in spec.items() if v}


def goal_form(goal: dict[str, Any]) -> ImmutableMultiDict[str, str]:
    """Fill the goal form with a stored goal, as if it had just been typed in."""
    theme = next(
        (
            t.name
            for t in load_themes().values()
            if (t.measure_id, t.population_group) == (goal["measure_id"], goal["population_group"])
        ),
        "",
    )
    fields = [
        ("title", goal["title"]),
        ("thema", theme),
        ("measure_id", "" if theme else goal["measure_id"]),
        ("population_group", "" if theme else goal["population_group"]),
        ("area_name", goal["area_name"]),
        ("baseline_period", goal["baseline_period"]),
        ("target_value", number_nl(goal["target_value"], None)),
        ("target_year", str(goal["target_year"])),
        ("direction", goal["direction"]),
        ("owner", goal["owner"]),
        ("description", goal["description"]),
    ]
    fields += [("area", c) for c in goal["area_codes"] if not is_level(c, "gemeente")]
    return ImmutableMultiDict(fields)


def intervention_spec(form: Any) -> dict[str, Any]:
    """Turn the intervention form into an intervention specification."""
    spec = _form_text(form, "title", "theme", "start", "end", "budget", "partners", "description")
    spec["area"] = [str(a) for a in form.getlist("area")]
    spec["goal_ids"] = [int(g) for g in form.getlist("goal_ids") if str(g).isdigit()]
    if not spec["start"]:
        raise InputError("formulier", "de startdatum ontbreekt", column="start", fix="kies een startdatum")
    return {k: v for k, v in spec.items() if v not in ("", [])}

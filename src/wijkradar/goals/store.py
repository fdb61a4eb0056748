"""Goals and interventions: validation against the data, storage, editing and deleting."""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Any, Final

import pandas as pd

from wijkradar.appdb import AppDB
from wijkradar.errors import InputError, NotFoundError
from wijkradar.goals.measure import (
    area_value,
)
from wijkradar.goals.progress import (
    plan,
)
from wijkradar.query import require_gemeente, resolve_region
from wijkradar.regions import Region, gemeente_of, is_level, is_valid_code, parents_of
from wijkradar.renamed import upload_code
from wijkradar.sources.model import MAX_MAGNITUDE, period_kind
from wijkradar.texts import DIRECTION_CODES, number_nl, parse_number_nl
from wijkradar.themes import load_themes
from wijkradar.uploads import own_themes, with_uploads
from wijkradar.warehouse import Warehouse

GOAL_FIELDS = (
    "title",
    "measure_id",
    "population_group",
    "area_name",
    "area_codes",
    "baseline_period",
    "target_value",
    "target_year",
    "direction",
    "owner",
    "description",
)


LIMITS: Final = {
    "title": 200,
    "area_name": 200,
    "owner": 200,
    "partners": 500,
    "description": 4000,
    "theme": 40,
}
# What the forms and files call each field: errors name a field as people see it.
FIELD_WORDS: Final = {
    "title": "titel",
    "area_name": "naam van het gebied",
    "owner": "eigenaar",
    "partners": "partners",
    "description": "toelichting",
    "theme": "thema",
    "target_value": "streefwaarde",
    "target_year": "streefjaar",
    "budget": "budget",
}
FIRST_YEAR: Final = 2000
LAST_YEAR: Final = 2100
CONTROL: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def text_field(spec: dict[str, Any], key: str, origin: str, default: str = "") -> str:
    """Return a text field of a goal or intervention, refused when too long or with control characters.

    >>> text_field({"title": "Minder eenzaam"}, "title", "formulier")
    'Minder eenzaam'
    """
    value = spec.get(key)
    text = (
        default if value is None or (isinstance(value, float) and math.isnan(value)) else str(value).strip()
    )
    if len(text) > LIMITS[key]:
        raise InputError(
            origin,
            f"{FIELD_WORDS[key]} is langer dan {LIMITS[key]} tekens",
            column=key,
            fix=f"kort de tekst in tot hoogstens {LIMITS[key]} tekens",
        )
    if CONTROL.search(text) or (key != "description" and ("\n" in text or "\r" in text)):
        raise InputError(
            origin,
            f"{FIELD_WORDS[key]} bevat een stuurteken (zoals een nul-byte of regeleinde)",
            column=key,
            fix="typ de tekst opnieuw, zonder onzichtbare tekens",
        )
    return text


def _area(wh: Warehouse, gemeente: str, area: list[str] | str, file: str) -> tuple[str, list[str]]:
    items = [area] if isinstance(area, str) else list(area)
    codes = []
    for item in items:
        code = resolve_region(wh, item)
        if is_level(code, "land") or gemeente_of(code) != gemeente_of(gemeente):
            raise InputError(
                file,
                f"gebied {item} ({code}) ligt buiten gemeente {gemeente}",
                column="area",
                value=item,
                fix="kies wijken of buurten van deze gemeente",
            )
        codes.append(code)
    for code in codes:
        overlap = [c for c in parents_of(code) if c in codes] + ([code] if codes.count(code) > 1 else [])
        if overlap:
            raise InputError(
                file,
                f"gebied {code} ligt al in {overlap[0]}: het zou dubbel meetellen",
                column="area",
                value=code,
                fix="kies een wijk of de buurten ervan, niet allebei",
            )
    labels = wh.regions.table().set_index("code")["label"]
    label = labels.get(codes[0]) or codes[0] if len(codes) == 1 else f"{len(codes)} gebieden"
    return str(label), codes


def add_goal(
    wh: Warehouse,
    own: AppDB,
    gemeente: Region | str,
    spec: dict[str, Any],
    *,
    store: bool = True,
    origin: str = "doel",
) -> dict[str, Any]:
    """Validate a goal against the data and store it; the baseline value comes from the warehouse."""
    gm = require_gemeente(wh, gemeente).code
    wh = with_uploads(wh, own, gm)  # goals may be set on the gemeente's own uploads
    themes = load_themes() | own_themes(wh)
    spec = _english_keys(spec)
    if spec.get("theme"):
        if spec["theme"] not in themes:
            raise NotFoundError("thema", spec["theme"], themes, field="theme")
        theme = themes[spec["theme"]]
        spec = {"measure_id": theme.measure_id, "population_group": theme.population_group, **spec}
    measure, group = spec.get("measure_id"), spec.get("population_group")
    measures = wh.observations.measures()
    if measure not in set(measures["measure_id"]):
        raise NotFoundError("maat", str(measure), measures["measure_id"].tolist(), field="measure_id")
    periods = wh.observations.periods(str(measure), str(group))
    if not periods:
        raise InputError(
            origin,
            f"geen cijfers voor {measure} in groep {group}",
            column="population_group",
            value=group,
            fix="kies een groep met cijfers (bijvoorbeeld 65+ of 18+)",
        )
    area = spec.get("area") or spec.get("area_codes") or gm
    area_name, codes = _area(wh, gm, area, origin)
    # The latest round before today: a goal starts from where the gemeente stands now. A measure
    # published per year and per half-year (the Monitor Sociaal Domein) starts from a year.
    yearly = [p for p in periods if period_kind(p) in ("year", "range")] or periods
    before_today = [p for p in yearly if int(p[:4]) <= date.today().year]
    baseline_period = str(spec.get("baseline_period") or (before_today or yearly)[-1])
    if baseline_period not in periods:
        raise InputError(
            origin,
            f"nulmeting {baseline_period} bestaat niet",
            column="baseline_period",
            value=baseline_period,
            fix=f"kies uit {', '.join(periods)}",
        )
    baseline = area_value(wh, str(measure), str(group), codes, baseline_period)
    if baseline["value"] is None or not math.isfinite(baseline["value"]):
        raise InputError(
            origin,
            f"geen bruikbare waarde voor de nulmeting in {area_name}",
            column="area",
            value=area_name,
            fix="kies een gebied of periode met cijfers",
        )
    target_value = number(spec.get("target_value"), "target_value", origin, example="44,0")
    target_year = number(spec.get("target_year"), "target_year", origin, example="2028")
    if target_year != int(target_year):
        raise InputError(
            origin,
            "streefjaar is geen heel jaar",
            column="target_year",
            value=target_year,
            fix="bijvoorbeeld 2028",
        )
    if not FIRST_YEAR <= target_year <= LAST_YEAR:
        raise InputError(
            origin,
            f"streefjaar ligt niet tussen {FIRST_YEAR} en {LAST_YEAR}",
            column="target_year",
            value=target_year,
            fix="bijvoorbeeld 2028",
        )
    target_year = int(target_year)
    if target_year <= int(baseline_period[:4]):
        raise InputError(
            origin,
            f"streefjaar {target_year} ligt niet na de nulmeting {baseline_period}",
            column="target_year",
            value=target_year,
            fix="kies een streefjaar na de nulmeting",
        )
    given = str(spec.get("direction") or "").strip().lower()
    direction = (
        DIRECTION_CODES.get(given) if given else ("down" if target_value < baseline["value"] else "up")
    )
    if direction is None:
        raise InputError(
            origin,
            "richting moet omlaag of omhoog zijn",
            column="direction",
            value=spec.get("direction"),
            fix="gebruik omlaag of omhoog",
        )
    start = float(baseline["value"])
    if (direction == "down" and target_value >= start) or (direction == "up" and target_value <= start):
        words = "omlaag" if direction == "down" else "omhoog"
        side = "onder" if direction == "down" else "boven"
        raise InputError(
            origin,
            f"richting {words} past niet bij streefwaarde {number_nl(target_value, None)}: de nulmeting "
            f"{baseline_period} is {number_nl(start)}",
            column="direction",
            fix=f"kies een streefwaarde {side} {number_nl(start)}, of de andere richting",
        )
    area_name = text_field(spec, "area_name", origin) or area_name
    record = {
        "gemeente_code": gm,
        "title": text_field(spec, "title", origin)
        or f"{_label(measures, str(measure))} ({group}) in {area_name}",
        "measure_id": str(measure),
        "population_group": str(group),
        "area_name": area_name,
        "area_codes": codes,
        "baseline_period": baseline_period,
        "baseline_value": round(float(baseline["value"]), 3),
        "target_value": target_value,
        "target_year": target_year,
        "direction": direction,
        "owner": text_field(spec, "owner", origin),
        "description": text_field(spec, "description", origin),
    }
    if store:
        record["goal_id"] = own.add_goal(record)
    return record


def add_intervention(
    wh: Warehouse,
    own: AppDB,
    gemeente: Region | str,
    spec: dict[str, Any],
    *,
    store: bool = True,
    origin: str = "interventie",
) -> dict[str, Any]:
    """Validate an intervention (areas in the gemeente, dates, linked goals) and store it."""
    gm = require_gemeente(wh, gemeente).code
    if not text_field(spec, "title", origin):
        raise InputError(
            origin, "een interventie heeft een naam nodig", column="title", fix="geef de interventie een naam"
        )
    _, codes = _area(wh, gm, spec.get("area") or spec.get("area_codes") or gm, origin)
    try:
        # Spreadsheets hand dates back as timestamps ("2021-01-01 00:00:00"): the date is enough.
        start = date.fromisoformat(str(spec["start"])[:10])
        end = date.fromisoformat(str(spec["end"])[:10]) if spec.get("end") else None
    except (KeyError, ValueError) as exc:
        raise InputError(
            origin,
            "start (en eventueel eind) als JJJJ-MM-DD",
            column="start",
            fix="bijvoorbeeld start: 2024-01-01",
        ) from exc
    if end is not None and end < start:
        raise InputError(
            origin,
            "einddatum ligt voor de startdatum",
            column="end",
            value=str(end),
            fix="kies een einddatum na de start",
        )
    known = {int(g["goal_id"]) for g in own.goals(gm)}
    goal_ids = [int(g) for g in spec.get("goal_ids") or []]
    unknown = [g for g in goal_ids if g not in known]
    if unknown:
        raise InputError(
            origin,
            f"onbekende doelen {unknown} voor {gm}",
            column="goal_ids",
            value=unknown,
            fix="koppel alleen doelen van deze gemeente ('wijkradar goals list')",
        )
    record = {
        "gemeente_code": gm,
        "title": text_field(spec, "title", origin),
        "theme": text_field(spec, "theme", origin),
        "area_codes": codes,
        "start_date": start,
        "end_date": end,
        "budget": None
        if spec.get("budget") in (None, "")
        else number(spec["budget"], "budget", origin, example="125.000", minimum=0),
        "partners": text_field(spec, "partners", origin),
        "description": text_field(spec, "description", origin),
        "goal_ids": goal_ids,
    }
    if store:
        record["intervention_id"] = own.add_intervention(record)
    return record


def _label(measures: pd.DataFrame, measure: str) -> str:
    labels = measures.set_index("measure_id")["label"]
    label = labels.get(measure)
    return str(label) if isinstance(label, str) and label else measure


def number(value: Any, column: str, origin: str, *, example: str, minimum: float | None = None) -> float:
    """Read a number as people type it: 44.5, 44,5, 125.000 or € 125.000,50.

    Infinity, NaN and numbers beyond a biljard are refused like the ingest refuses them (one such
    number breaks every sum and path after it), and so is a number below ``minimum``.

    >>> number("125.000", "budget", "formulier", example="1")
    125000.0
    >>> number("44,5", "target_value", "formulier", example="1")
    44.5
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        parsed = float(value)
    else:
        text = str(value or "").strip()
        if not text:
            raise InputError(
                origin,
                f"{FIELD_WORDS.get(column, column)} ontbreekt",
                column=column,
                fix=f"vul een getal in, bijvoorbeeld {example}",
            )
        parsed = parse_number_nl(text)
    words = FIELD_WORDS.get(column, column)
    if not math.isfinite(parsed):
        problem = f"{words} is geen getal"
    elif abs(parsed) > MAX_MAGNITUDE:
        problem = f"{words} is buiten bereik (groter dan een biljard)"
    elif minimum is not None and parsed < minimum:
        problem = f"{words} is kleiner dan {number_nl(minimum, None)}"
    else:
        return parsed
    raise InputError(origin, problem, column=column, value=value, fix=f"schrijf bijvoorbeeld {example}")


def find_goal(wh: Warehouse, own: AppDB, gemeente: Region | str, goal_id: int) -> dict[str, Any]:
    """One goal of the gemeente with its progress and interventions, or NotFoundError."""
    goals: list[dict[str, Any]] = plan(wh, own, gemeente)["goals"]
    for goal in goals:
        if goal["goal_id"] == goal_id:
            return goal
    raise NotFoundError("doel-id", str(goal_id), [str(g["goal_id"]) for g in goals])


def _stored(rows: list[dict[str, Any]], key: str, row_id: int) -> dict[str, Any]:
    """Return one stored goal or intervention of the gemeente (fields only), or NotFoundError."""
    for row in rows:
        if row[key] == row_id:
            return row
    kind = {"goal_id": "doel-id", "intervention_id": "interventie-id"}[key]
    raise NotFoundError(kind, str(row_id), [str(r[key]) for r in rows])


def update_goal(
    wh: Warehouse,
    own: AppDB,
    gemeente: Region | str,
    goal_id: int,
    spec: dict[str, Any],
    *,
    merge: bool,
    origin: str = "doel",
) -> dict[str, Any]:
    """Change a goal, validated exactly like a new one; the baseline is measured again.

    With ``merge`` the fields not in ``spec`` keep their values (the CLI); without, ``spec`` is the
    whole goal (a form, where an emptied field means empty).
    """
    current = _stored(own.goals(require_gemeente(wh, gemeente).code), "goal_id", goal_id)
    if merge:
        kept = {k: current[k] for k in GOAL_FIELDS if k != "area_codes"}
        area = current["area_codes"]
        spec = {**kept, "area": area, **{k: v for k, v in _english_keys(spec).items() if v is not None}}
        if "theme" in spec:  # a new theme replaces the measure and group
            spec.pop("measure_id"), spec.pop("population_group")
    record = add_goal(wh, own, gemeente, spec, store=False, origin=origin)
    own.change_goal(goal_id, record)
    return {**record, "goal_id": goal_id}


def delete_goal(wh: Warehouse, own: AppDB, gemeente: Region | str, goal_id: int) -> dict[str, Any]:
    """Remove a goal; interventions stay but lose their link to it. Return what was removed."""
    gm = require_gemeente(wh, gemeente).code
    removed = _stored(own.goals(gm), "goal_id", goal_id)
    own.remove_goal(goal_id)
    return removed


def delete_intervention(
    wh: Warehouse, own: AppDB, gemeente: Region | str, intervention_id: int
) -> dict[str, Any]:
    """Remove one intervention of the gemeente. Return what was removed."""
    gm = require_gemeente(wh, gemeente).code
    removed = _stored(own.interventions(gm), "intervention_id", intervention_id)
    own.remove_intervention(intervention_id)
    return removed


def described(record: dict[str, Any]) -> str:
    """Name a goal or intervention in the audit log by its number and title: "doel 12: Minder eenzaam".

    >>> described({"goal_id": 12, "title": "Minder eenzaam"})
    'doel 12: Minder eenzaam'
    """
    if "goal_id" in record:
        return f"doel {record['goal_id']}: {record.get('title') or ''}"
    return f"interventie {record.get('intervention_id')}: {record.get('title') or ''}"


def valid_code(code: str) -> bool:
    """Tell whether a string is a CBS region code (for area lists in files)."""
    return is_valid_code(code)


def _english_keys(spec: dict[str, Any]) -> dict[str, Any]:
    """Return a goal specification as 0.3 names it: ``thema`` is ``theme``, ``eigen-x`` is ``own-x``."""
    renamed = {k: v for k, v in spec.items() if k != "thema"}
    if "thema" in spec:
        renamed.setdefault("theme", spec["thema"])
    for key in ("theme", "measure_id"):
        if isinstance(renamed.get(key), str):
            renamed[key] = upload_code(renamed[key])
    return renamed

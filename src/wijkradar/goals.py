"""Steering on results: goals (doelenboom), interventions and progress.

A goal names a measure and population group, an area (the gemeente, a wijk or buurt, or a named
set of buurten such as a wijkteam area), a baseline taken from the data, a target value and year,
and a direction. Progress is measured every period the warehouse has, against the straight path
from baseline to target, with the uncertainty of the measured values taken into account.

Status rule (also printed with every progress report); ``u`` is the combined 90% half-width of
the baseline and the measured value, "vooruitgang" the change from baseline in the goal's
direction, "achterstand" how far the value lags the required path:

* ``op koers``  vooruitgang > u and achterstand ≤ u
* ``achter``    achterstand > u and vooruitgang ≤ u
* ``risico``    everything in between (a change within the intervals is not called progress)
* ``onbekend``  no measurement after the baseline period
"""

from __future__ import annotations

import json
import math
import re
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wijkradar.errors import InputError, NotFoundError, WijkradarError
from wijkradar.indeling import values_on
from wijkradar.priority import priority_list, residents
from wijkradar.query import resolve_gemeente, resolve_region
from wijkradar.regions import is_valid_code, level_of, parents_of
from wijkradar.texts import method_nl
from wijkradar.themes import load_themes
from wijkradar.warehouse import ROW_KEYS, Warehouse

STATUS_RULE = (
    "op koers: vooruitgang > u en achterstand op het pad ≤ u; achter: achterstand > u en vooruitgang ≤ u; "
    "risico: daartussen; onbekend: nog geen meting na de nulmeting (u = gecombineerde 90%-marge)"
)
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


class GoalError(WijkradarError):
    """A goal or intervention that cannot be stored as given."""

    exit_code = 2


MARGIN_LEVELS = ("gemeente", "wijk", "buurt")  # coarse to fine


def _weights(wh: Warehouse, group: str, codes: list[str], year: int) -> tuple[pd.Series, str]:
    """Residents of the group per region as weights, or equal weights when counts are missing."""
    counts, periods = residents(wh, group, codes, year)
    w = counts.reindex(codes).astype(float)
    if w.isna().any() or (w <= 0).all():
        return pd.Series(1.0, index=codes), "ongewogen gemiddelde (inwonertallen ontbreken)"
    return w, f"gewogen naar inwoners ({', '.join(periods)})"


def _units(wh: Warehouse, codes: list[str], level: str) -> list[str]:
    """List the regions at ``level`` that make up the given regions (themselves when at that level)."""
    if all(level_of(c) == level for c in codes):
        return codes
    regions = wh.regions(level=level)
    by_level = {lvl: [c for c in codes if level_of(c) == lvl] for lvl in ("gemeente", "wijk")}
    inside = (
        regions["code"].isin(codes)
        | regions["gemeente_code"].isin(by_level["gemeente"])
        | regions["wijk_code"].isin(by_level["wijk"])
    )
    return regions.loc[inside, "code"].tolist()


def model_margin(
    wh: Warehouse, measure: str, group: str, codes: list[str], period: str
) -> tuple[float | None, str]:
    """Return an upper bound for the 90% margin of an area's value, from the model's intervals.

    The area's value is a resident-weighted mean of units, so its error is at most the weighted mean
    of the units' errors (triangle inequality, whatever their correlation): the weighted mean of the
    units' interval half-widths bounds the margin. Units are the areas themselves when a model exists
    at their level, else the finer regions inside them (a gemeente's wijken, a wijk's buurten). The
    model of the same period is used, else the newest; the note says which.
    """
    # A set mixing levels (a wijk and some buurten) is measured in units of its finest level.
    level = max(
        (level_of(c) for c in codes), key=lambda lvl: MARGIN_LEVELS.index(lvl) if lvl in MARGIN_LEVELS else -1
    )
    finer = MARGIN_LEVELS[MARGIN_LEVELS.index(level) :] if level in MARGIN_LEVELS else (level,)
    for candidate in finer:
        stored = wh.model(measure, group, candidate, period) or wh.model(measure, group, candidate)
        if stored is None:
            continue
        estimates = wh.estimates(int(stored["model_id"]), _units(wh, codes, candidate))
        if estimates.empty:
            continue
        half = ((estimates["upper"] - estimates["lower"]) / 2).set_axis(estimates["region_code"].tolist())
        weights, _ = _weights(wh, group, half.index.tolist(), int(period[:4]))
        margin = float(np.average(half, weights=weights))
        note = f"modelmarge {stored['period']}"
        if candidate != level or len(codes) > 1:
            note += f" (bovengrens uit {len(half)} {candidate}en)"
        return margin, note
    return None, "marge onbekend: geen model ('wijkradar train')"


def area_value(wh: Warehouse, measure: str, group: str, codes: list[str], period: str) -> dict[str, Any]:
    """Measure an area in a period: one region's value, or a population-weighted mean.

    Returns value, halfwidth (90%) and a note saying how it was made; value None when unknown.
    The margin is the source's own where it publishes one, else a bound from the model.
    """
    values = values_on(wh, measure, group, codes, wh.indeling())
    now = values[(values["period"] == period) & (values["status"] == "published")].set_index("region_code")
    present = [c for c in codes if c in now.index]
    if not present:
        return {"value": None, "halfwidth": None, "note": "geen gepubliceerde waarde"}
    if len(codes) == 1:
        row: dict[str, Any] = {str(k): v for k, v in now.loc[present[0]].to_dict().items()}
        value = float(row["value"])
        moved = method_nl(str(row["method"]), int(row["from_year"]))
        how = f"{row['source']} {period}" + (f" ({moved})" if moved else "")
        if pd.notna(row["lower"]) and pd.notna(row["upper"]):
            half: float | None = (float(row["upper"]) - float(row["lower"])) / 2
            return {"value": value, "halfwidth": half, "note": f"{how}; marge van de bron"}
    else:
        weights, weighting = _weights(wh, group, present, int(period[:4]))
        value = float(np.average(now.loc[present, "value"].astype(float), weights=weights))
        missing = len(codes) - len(present)
        how = f"{len(present)} van {len(codes)} gebieden, {weighting}" + (
            f"; {missing} zonder waarde" if missing else ""
        )
    half, margin = model_margin(wh, measure, group, present, period)
    return {"value": value, "halfwidth": half, "note": f"{how}; {margin}"}


def _area(wh: Warehouse, gemeente: str, area: list[str] | str, file: str) -> tuple[str, list[str]]:
    items = [area] if isinstance(area, str) else list(area)
    codes = []
    for item in items:
        code = resolve_region(wh, item)
        if code[2:6] != gemeente[2:6] or code.startswith("NL"):
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
    labels = wh.regions().set_index("code")["label"]
    label = labels.get(codes[0]) or codes[0] if len(codes) == 1 else f"{len(codes)} gebieden"
    return str(label), codes


def add_goal(
    wh: Warehouse, gemeente: str, spec: dict[str, Any], *, store: bool = True, origin: str = "doel"
) -> dict[str, Any]:
    """Validate a goal against the data and store it; the baseline value comes from the warehouse."""
    gm = resolve_gemeente(wh, gemeente)
    themes = load_themes()
    if spec.get("thema"):
        if spec["thema"] not in themes:
            raise NotFoundError("thema", spec["thema"], themes)
        theme = themes[spec["thema"]]
        spec = {"measure_id": theme.measure_id, "population_group": theme.population_group, **spec}
    measure, group = spec.get("measure_id"), spec.get("population_group")
    measures = wh.measures()
    if measure not in set(measures["measure_id"]):
        raise NotFoundError("maat", str(measure), measures["measure_id"].tolist())
    periods = wh.periods(str(measure), str(group))
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
    baseline_period = str(spec.get("baseline_period") or periods[0])
    if baseline_period not in periods:
        raise InputError(
            origin,
            f"nulmeting {baseline_period} bestaat niet",
            column="baseline_period",
            value=baseline_period,
            fix=f"kies uit {', '.join(periods)}",
        )
    baseline = area_value(wh, str(measure), str(group), codes, baseline_period)
    if baseline["value"] is None:
        raise InputError(
            origin,
            f"geen waarde voor de nulmeting in {area_name}",
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
    target_year = int(target_year)
    if target_year <= int(baseline_period[:4]):
        raise InputError(
            origin,
            f"streefjaar {target_year} ligt niet na de nulmeting {baseline_period}",
            column="target_year",
            value=target_year,
            fix="kies een streefjaar na de nulmeting",
        )
    direction = spec.get("direction") or ("omlaag" if target_value < baseline["value"] else "omhoog")
    if direction not in ("omlaag", "omhoog"):
        raise InputError(
            origin,
            "richting moet omlaag of omhoog zijn",
            column="direction",
            value=direction,
            fix="gebruik omlaag of omhoog",
        )
    record = {
        "gemeente_code": gm,
        "title": str(
            spec.get("title")
            or f"{_label(measures, str(measure))} ({group}) in {spec.get('area_name') or area_name}"
        ),
        "measure_id": str(measure),
        "population_group": str(group),
        "area_name": str(spec.get("area_name") or area_name),
        "area_codes": json.dumps(codes),
        "baseline_period": baseline_period,
        "baseline_value": round(float(baseline["value"]), 3),
        "target_value": target_value,
        "target_year": target_year,
        "direction": direction,
        "owner": str(spec.get("owner") or ""),
        "description": str(spec.get("description") or ""),
    }
    if store:
        with wh.transaction():
            record["goal_id"] = wh.insert_row("goals", record)
    return record


def add_intervention(
    wh: Warehouse, gemeente: str, spec: dict[str, Any], *, store: bool = True, origin: str = "interventie"
) -> dict[str, Any]:
    """Validate an intervention (areas in the gemeente, dates, linked goals) and store it."""
    gm = resolve_gemeente(wh, gemeente)
    if not str(spec.get("title") or "").strip():
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
    goals = wh.rows("goals", gm)
    goal_ids = [int(g) for g in spec.get("goal_ids") or []]
    unknown = [g for g in goal_ids if g not in set(goals["goal_id"])]
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
        "title": str(spec["title"]).strip(),
        "theme": str(spec.get("theme") or ""),
        "area_codes": json.dumps(codes),
        "start_date": start,
        "end_date": end,
        "budget": None
        if spec.get("budget") in (None, "")
        else number(spec["budget"], "budget", origin, example="125.000"),
        "partners": str(spec.get("partners") or ""),
        "description": str(spec.get("description") or ""),
        "goal_ids": json.dumps(goal_ids),
    }
    if store:
        with wh.transaction():
            record["intervention_id"] = wh.insert_row("interventions", record)
    return record


def _label(measures: pd.DataFrame, measure: str) -> str:
    labels = measures.set_index("measure_id")["label"]
    label = labels.get(measure)
    return str(label) if isinstance(label, str) and label else measure


def number(value: Any, column: str, origin: str, *, example: str) -> float:
    """Read a number as people type it: 44.5, 44,5, 125.000 or € 125.000,50.

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
                origin, f"{column} ontbreekt", column=column, fix=f"vul een getal in, bijvoorbeeld {example}"
            )
        text = re.sub(r"[€\s\u00a0]", "", text)
        if "," in text:
            text = text.replace(".", "").replace(",", ".")
        elif re.fullmatch(r"-?\d{1,3}(\.\d{3})+", text):
            text = text.replace(".", "")
        try:
            parsed = float(text)
        except ValueError:
            parsed = math.nan
    if not math.isfinite(parsed):
        raise InputError(
            origin,
            f"{column} is geen getal",
            column=column,
            value=value,
            fix=f"schrijf bijvoorbeeld {example}",
        )
    return parsed


def status(direction: str, baseline: float, value: float | None, path: float, u: float) -> str:
    """Apply the status rule (see the module docstring) to one measurement.

    Examples
    --------
    >>> status("omlaag", 50.0, 45.0, 48.0, 2.0)
    'op koers'
    >>> status("omlaag", 50.0, 49.0, 46.0, 2.0)
    'achter'
    """
    if value is None:
        return "onbekend"
    sign = -1.0 if direction == "omlaag" else 1.0
    progress = sign * (value - baseline)
    behind = sign * (path - value)
    if progress > u and behind <= u:
        return "op koers"
    if behind > u and progress <= u:
        return "achter"
    return "risico"


def progress(wh: Warehouse, goal: dict[str, Any]) -> dict[str, Any]:
    """Every measurement after the baseline, the required path, and the status of the latest."""
    codes = (
        json.loads(goal["area_codes"]) if isinstance(goal["area_codes"], str) else list(goal["area_codes"])
    )
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
                "status": "nulmeting"
                if year == base_year
                else status(goal["direction"], float(goal["baseline_value"]), measured["value"], path, u),
                "note": measured["note"],
            }
        )
    later = [p for p in points if p["status"] != "nulmeting"]
    return {
        "goal_id": goal.get("goal_id"),
        "title": goal["title"],
        "status": later[-1]["status"] if later else "onbekend",
        "rule": STATUS_RULE,
        "points": points,
    }


def wat_werkt(wh: Warehouse, gemeente: str, thema: str) -> dict[str, Any]:
    """Areas that did better than the model expected, with the interventions that ran there.

    Evidence to discuss, not proof: the model does not know about the interventions, so an area
    beating its expectation while an intervention ran is a coincidence worth a conversation,
    nothing more. Needs the theme's model ('wijkradar train').
    """
    gm = resolve_gemeente(wh, gemeente)
    ranking = priority_list(wh, gm, thema)
    interventions = wh.rows("interventions", gm).to_dict("records")
    year = int(ranking["period"][:4])
    rows = []
    for row in ranking["rows"]:
        if row["verwachting"] != "beter dan verwacht":
            continue
        code = row["code"]
        containing = {code, "WK" + code[2:8], "GM" + code[2:6]}
        ran = [
            {
                "intervention_id": int(i["intervention_id"]),
                "title": i["title"],
                "start": str(i["start_date"])[:10],
                "end": None if pd.isna(i["end_date"]) else str(i["end_date"])[:10],
            }
            for i in interventions
            if containing & set(json.loads(i["area_codes"])) and pd.Timestamp(i["start_date"]).year <= year
        ]
        rows.append(
            {
                "code": code,
                "name": row["name"],
                "label": row["label"],
                "rate": row["rate"],
                "expected": row["estimate"],
                "vs_expected": row["vs_expected"],
                "interventions": ran,
            }
        )
    return {
        "gemeente": gm,
        "thema": ranking["thema"],
        "period": ranking["period"],
        "caveat": "Samenhang, geen bewijs: het model kent de interventies niet. Bespreek, concludeer niet.",
        "rows": sorted(rows, key=lambda r: r["vs_expected"]),
    }


def plan(wh: Warehouse, gemeente: str) -> dict[str, Any]:
    """Collect the gemeente's goals (with progress and linked interventions) and all interventions.

    Plain data (strings, numbers, lists) for pages, the report and ``goals show``.
    """
    gm = resolve_gemeente(wh, gemeente)
    interventions = [_plain(r) for r in wh.rows("interventions", gm).to_dict("records")]
    for row in interventions:
        row["area_codes"] = json.loads(row["area_codes"])
        row["goal_ids"] = json.loads(row["goal_ids"])
    goals = [_plain(r) for r in wh.rows("goals", gm).to_dict("records")]
    for row in goals:
        row["area_codes"] = json.loads(row["area_codes"])
        row["progress"] = progress(wh, row)
        row["interventions"] = [
            {"intervention_id": i["intervention_id"], "title": i["title"]}
            for i in interventions
            if row["goal_id"] in i["goal_ids"]
        ]
    return {"gemeente": gm, "rule": STATUS_RULE, "goals": goals, "interventions": interventions}


def find_goal(wh: Warehouse, gemeente: str, goal_id: int) -> dict[str, Any]:
    """One goal of the gemeente with its progress and interventions, or NotFoundError."""
    goals: list[dict[str, Any]] = plan(wh, gemeente)["goals"]
    for goal in goals:
        if goal["goal_id"] == goal_id:
            return goal
    raise NotFoundError("doel-id", str(goal_id), [str(g["goal_id"]) for g in goals])


def _stored(wh: Warehouse, table: str, gemeente: str, row_id: int) -> dict[str, Any]:
    """Return one stored goal or intervention of the gemeente (fields only), or NotFoundError."""
    rows = wh.rows(table, gemeente)
    key = ROW_KEYS[table]
    match = rows[rows[key] == row_id]
    if match.empty:
        kind = {"goals": "doel-id", "interventions": "interventie-id"}[table]
        raise NotFoundError(kind, str(row_id), [str(i) for i in rows[key]])
    return _plain(match.iloc[0].to_dict())


def update_goal(
    wh: Warehouse, gemeente: str, goal_id: int, spec: dict[str, Any], *, merge: bool, origin: str = "doel"
) -> dict[str, Any]:
    """Change a goal, validated exactly like a new one; the baseline is measured again.

    With ``merge`` the fields not in ``spec`` keep their values (the CLI); without, ``spec`` is the
    whole goal (a form, where an emptied field means empty).
    """
    current = _stored(wh, "goals", resolve_gemeente(wh, gemeente), goal_id)
    if merge:
        kept = {k: current[k] for k in GOAL_FIELDS if k != "area_codes"}
        area = json.loads(current["area_codes"])
        spec = {**kept, "area": area, **{k: v for k, v in spec.items() if v is not None}}
        if "thema" in spec:  # a new theme replaces the measure and group
            spec.pop("measure_id"), spec.pop("population_group")
    record = add_goal(wh, gemeente, spec, store=False, origin=origin)
    with wh.transaction():
        wh.update_row("goals", goal_id, record)
    return {**record, "goal_id": goal_id}


def delete_goal(wh: Warehouse, gemeente: str, goal_id: int) -> None:
    """Remove a goal; interventions stay but lose their link to it."""
    gm = resolve_gemeente(wh, gemeente)
    _stored(wh, "goals", gm, goal_id)
    with wh.transaction():
        for row in wh.rows("interventions", gm).to_dict("records"):
            linked = [int(g) for g in json.loads(row["goal_ids"])]
            if goal_id in linked:
                wh.set_goal_links(int(row["intervention_id"]), [g for g in linked if g != goal_id])
        wh.delete_row("goals", goal_id)


def delete_intervention(wh: Warehouse, gemeente: str, intervention_id: int) -> None:
    """Remove one intervention of the gemeente."""
    _stored(wh, "interventions", resolve_gemeente(wh, gemeente), intervention_id)
    with wh.transaction():
        wh.delete_row("interventions", intervention_id)


def export_goals(wh: Warehouse, gemeente: str, path: Path) -> int:
    """Write the gemeente's goals and interventions to YAML or Excel; return how many rows."""
    gm = resolve_gemeente(wh, gemeente)
    goals = [_plain(r) for r in wh.rows("goals", gm).to_dict("records")]
    interventions = [_plain(r) for r in wh.rows("interventions", gm).to_dict("records")]
    for row in goals + interventions:
        row["area_codes"] = json.loads(row["area_codes"])
        row.pop("created_at", None)
    for row in interventions:
        row["goal_ids"] = json.loads(row["goal_ids"])
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
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            for name, rows in (("doelen", goals), ("interventies", interventions)):
                frame = pd.DataFrame(rows)
                for column in ("area_codes", "goal_ids"):
                    if column in frame:
                        frame[column] = frame[column].map(lambda v: ",".join(str(x) for x in v))
                frame.to_excel(writer, sheet_name=name, index=False)
    else:
        raise InputError(str(path), "onbekend exportformaat", fix="gebruik .yaml of .xlsx")
    return len(goals) + len(interventions)


def import_goals(wh: Warehouse, gemeente: str, path: Path) -> dict[str, int]:
    """Replace the gemeente's goals and interventions with those in a YAML or Excel file.

    Everything is validated first; nothing is stored unless all of it is valid.
    """
    gm = resolve_gemeente(wh, gemeente)
    goals, interventions = _read_plan(path)
    checked = [
        add_goal(wh, gm, g, store=False, origin=f"{path.name}, doel {i + 1}") for i, g in enumerate(goals)
    ]
    old_ids = [int(g.get("goal_id", i + 1)) for i, g in enumerate(goals)]
    with wh.transaction():
        wh.delete_rows("interventions", gm)
        wh.delete_rows("goals", gm)
        new_ids = {old: wh.insert_row("goals", record) for old, record in zip(old_ids, checked, strict=True)}
        for i, spec in enumerate(interventions):
            spec = {**spec, "goal_ids": [new_ids.get(int(g), -1) for g in spec.get("goal_ids") or []]}
            record = add_intervention(wh, gm, spec, store=False, origin=f"{path.name}, interventie {i + 1}")
            wh.insert_row("interventions", record)
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


def _plain(row: dict[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
            value = None
        elif isinstance(value, np.integer):
            value = int(value)
        elif isinstance(value, pd.Timestamp):
            value = value.date().isoformat()
        elif isinstance(value, date):
            value = value.isoformat()
        out[str(key)] = value
    return out


def valid_code(code: str) -> bool:
    """Tell whether a string is a CBS region code (for area lists in files)."""
    return is_valid_code(code)

"""What each page shows, as plain data.

The HTML templates, the JSON/CSV/GeoJSON routes and the tests all use these functions, so a page
and its data can never disagree.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from wijkradar.appdb import AppDB
from wijkradar.cache import remember
from wijkradar.errors import ModelMissing, NotFoundError
from wijkradar.goals import plan
from wijkradar.goals.measure import measure_label
from wijkradar.indeling import geometries_on, values_on
from wijkradar.jsonable import number_or_none, to_jsonable
from wijkradar.models.families import split
from wijkradar.models.features import Target
from wijkradar.models.inputs import too_few
from wijkradar.pages import charts
from wijkradar.pages.compare import key_figures, no_similar_reason, similar_gemeenten
from wijkradar.pages.model_card import render_markdown
from wijkradar.pages.theming import (
    registrations,
    series_of,
    source_words,
    sources_line,
    theme_dict,
    theme_kind,
    theme_or_error,
)
from wijkradar.priority import priority_list, what_works
from wijkradar.query import KNOWN_AS, region_profile, require_gemeente, sort_key
from wijkradar.regions import Region
from wijkradar.texts import NO_MODEL, boundary_note, periods_nl
from wijkradar.themes import Theme
from wijkradar.uploads import own_themes, with_uploads
from wijkradar.warehouse import Warehouse


def wijk_names(wh: Warehouse, gemeente: str) -> dict[str, str]:
    """Return the names of a gemeente's wijken on the current indeling, by code (for map labels)."""
    found = wh.regions.table(level="wijk", gemeente_code=gemeente)
    names = zip(found["code"], found["name"], strict=True)
    return {str(c): str(n) for c, n in names if isinstance(n, str) and n}


def gemeenten(wh: Warehouse) -> list[dict[str, str]]:
    """List every gemeente with a name, alphabetically ('s-Gravenhage under G), for the chooser."""
    frame = wh.regions.table(level="gemeente").dropna(subset=["name"])
    found = [
        {"code": c, "name": n, "known_as": KNOWN_AS.get(c, "")}
        for c, n in zip(frame["code"], frame["name"], strict=True)
    ]
    return sorted(found, key=lambda g: sort_key(g["name"]))


def areas(wh: Warehouse, gemeente: str, chosen: Theme, level: str = "buurt") -> dict[str, Any]:
    """Collect the theme's value per buurt (or wijk) of a gemeente: survey where published, else model."""
    regions = wh.regions.table(level=level, gemeente_code=gemeente)
    codes = regions["code"].tolist()
    values = series_of(
        chosen, values_on(wh, chosen.measure_id, chosen.population_group, codes, wh.regions.indeling())
    )
    periods = sorted(values.loc[values["status"] == "published", "period"].unique().tolist())
    period = periods[-1] if periods else None
    current = values[values["period"] == period].drop_duplicates("region_code").set_index("region_code")
    stored = wh.models.get(chosen.measure_id, chosen.population_group, level, period) if period else None
    estimates = (
        wh.models.estimates(int(stored["model_id"]), codes).set_index("region_code")
        if stored is not None
        else None
    )
    algorithm = stored["algorithm"] if stored is not None else ""
    later = wh.models.forecasts(int(stored["model_id"]), codes) if stored is not None else None
    forecast_period = str(later["period"].max()) if later is not None and len(later) else None
    prognosed = (
        {
            c: (e, lo, up)
            for c, p, e, lo, up, _ in later.itertuples(index=False, name=None)
            if p == forecast_period
        }
        if later is not None
        else {}
    )
    forecast_inputs = (
        periods_nl(later.loc[later["period"] == forecast_period, "kerncijfers"])
        if later is not None and forecast_period
        else ""
    )
    limit = int(stored["card"].get("min_residents", 0)) if stored is not None else 0
    small = (
        too_few(wh, Target(chosen.measure_id, chosen.population_group, level, str(period)), codes, limit)
        if limit
        else set()
    )
    # Plain dicts: a lookup per area in a DataFrame costs more than the rest of the page.
    surveys = dict(
        zip(
            current.index,
            zip(current["value"], current["status"], current["source"], strict=True),
            strict=True,
        )
    )
    modelled = (
        dict(
            zip(
                estimates.index,
                zip(estimates["estimate"], estimates["lower"], estimates["upper"], strict=True),
                strict=True,
            )
        )
        if estimates is not None
        else {}
    )
    rows = []
    for code, name, label in zip(regions["code"], regions["name"], regions["label"], strict=True):
        survey, status, source = surveys.get(code, (None, "missing", None))
        row: dict[str, Any] = {
            "code": code,
            "name": name if isinstance(name, str) else None,
            "label": label,
            "status": str(status),
            "period": period,
        }
        row["survey"] = number_or_none(survey)
        estimate, lower, upper = modelled.get(code, (None, None, None))
        row.update(
            estimate=number_or_none(estimate), lower=number_or_none(lower), upper=number_or_none(upper)
        )
        row["value"] = row["survey"] if row["survey"] is not None else row["estimate"]
        if forecast_period:  # a later year without a survey: shown beside, never as the value
            forecast, low, high = prognosed.get(code, (None, None, None))
            row.update(
                forecast=number_or_none(forecast),
                forecast_lower=number_or_none(low),
                forecast_upper=number_or_none(high),
                forecast_period=forecast_period,
            )
        row["source"] = (
            f"{source_words(str(source))} {period}"
            if row["survey"] is not None
            else (f"model wijkradar ({algorithm})" if row["estimate"] is not None else "geen gegevens")
        )
        if code in small:  # the survey's figure stays in the row; the map shows no colour for it
            row["value"] = None
            row["status"] = "too_few"
            row["source"] = f"te weinig inwoners (minder dan {limit} in de groep {chosen.population_group})"
        rows.append(row)
    return {
        "level": level,
        "boundary_year": wh.regions.indeling(),
        "period": period,
        "forecast_period": forecast_period,
        "forecast_inputs": forecast_inputs,
        "model": None
        if stored is None
        else {
            "model_id": int(stored["model_id"]),
            "algorithm": stored["algorithm"],
            **stored["metrics"],
        },
        "rows": sorted(rows, key=lambda r: (r["value"] is None, -(r["value"] or 0))),
    }


def areas_geojson(wh: Warehouse, gemeente: str, chosen: Theme, level: str | None = None) -> dict[str, Any]:
    """Return the areas as a GeoJSON FeatureCollection (WGS84) with the theme's values as properties."""
    import shapely

    data = areas(wh, gemeente, chosen, level or chosen.level)
    geoms = geometries_on(wh, [r["code"] for r in data["rows"]], wh.regions.indeling()).set_index(
        "region_code"
    )
    features = []
    for row in data["rows"]:
        if row["code"] not in geoms.index:
            continue
        found = geoms.loc[row["code"]]
        row = {**row, "boundary": boundary_note(int(found["from_year"]), str(found["method"]))}
        shape = shapely.from_wkb(bytes(found["wkb"]))
        # About 5 m: invisible at buurt scale, and pages a fraction of the size.
        shape = shapely.set_precision(shapely.simplify(shape, 0.00005, preserve_topology=True), 0.00001)
        features.append(
            {"type": "Feature", "id": row["code"], "properties": row, "geometry": shape.__geo_interface__}
        )
    return {"type": "FeatureCollection", "features": features}


def overview(wh: Warehouse, gemeente: Region | str, theme_name: str, *, top: int = 10) -> dict[str, Any]:
    """Collect everything on the gemeente page."""
    gm = require_gemeente(wh, gemeente)
    gemeente = gm.code
    chosen = theme_or_error(theme_name, wh)
    data = areas(wh, gemeente, chosen, chosen.level)
    shapes = geometries_on(wh, [r["code"] for r in data["rows"]], wh.regions.indeling())
    has_map = not shapes.empty
    mapped = set(shapes["region_code"])
    data["not_on_map"] = [
        {"code": r["code"], "label": r["label"]} for r in data["rows"] if r["code"] not in mapped
    ]
    data["boundary_years"] = sorted(
        {boundary_note(int(y), str(m)) for y, m in zip(shapes["from_year"], shapes["method"], strict=True)}
    )
    similar = similar_gemeenten(wh, gemeente)
    figures = key_figures(wh, gemeente, chosen, similar)
    try:
        ranking = priority_list(wh, gemeente, chosen.name, top=top) if chosen.modelled else None
    except ModelMissing:
        ranking = None
    return {
        "gemeente": gm.named(),
        "theme": theme_dict(chosen),
        "areas": data,
        "has_map": has_map,
        "similar": similar,
        "similar_note": "" if similar else no_similar_reason(wh, gemeente),
        "key_figures": figures,
        "sources_line": sources_line([k["source"] for k in figures]),
        "priority": ranking,
    }


def priority(wh: Warehouse, gemeente: Region | str, theme_name: str) -> dict[str, Any]:
    """Return the full priority list of the gemeente for a theme (the model must exist)."""
    gemeente = require_gemeente(wh, gemeente).code
    chosen = theme_or_error(theme_name, wh)
    if not chosen.modelled:
        raise NotFoundError("prioriteitenlijst", f"{theme_name} ({NO_MODEL[theme_kind(chosen)]})")
    result = priority_list(wh, gemeente, chosen.name)
    result["theme"] = theme_dict(chosen)
    return result


def doelen(wh: Warehouse, own: AppDB, gemeente: Region | str, theme_name: str) -> dict[str, Any]:
    """Collect the goals page: goals with progress, interventions, wat werkt, and the form's choices."""
    gm = require_gemeente(wh, gemeente)
    gemeente = gm.code
    wh = with_uploads(wh, own, gemeente)
    chosen = theme_or_error(theme_name, wh)
    data = plan(wh, own, gemeente)
    werkt: dict[str, Any] | None = None
    if not chosen.modelled:
        werkt_missing: str | None = NO_MODEL[theme_kind(chosen)].capitalize() + "; kies een thema van RIVM."
    else:
        try:
            werkt, werkt_missing = what_works(wh, own, gemeente, chosen.name), None
        except ModelMissing as exc:
            werkt_missing = str(exc)
    for goal in data["goals"]:
        goal["chart"] = charts.goal_path(goal)
    return {
        "gemeente": gm.named(),
        "theme": theme_dict(chosen),
        "rule": data["rule"],
        "goals": data["goals"],
        "interventions": data["interventions"],
        "what_works": werkt,
        "what_works_missing": werkt_missing,
        "areas": area_choices(wh, gemeente),
        "own_measures": [
            {"measure": t.measure_id, "group": t.population_group, "label": f"{t.label} (eigen upload)"}
            for t in own_themes(wh).values()
        ],
    }


def area_choices(wh: Warehouse, gemeente: str) -> list[dict[str, Any]]:
    """List the gemeente's wijken, each with its buurten, to choose the area of a goal or intervention."""
    return remember(wh, ("area_choices", gemeente), lambda: _area_choices(wh, gemeente))


def _area_choices(wh: Warehouse, gemeente: str) -> list[dict[str, Any]]:
    regions = wh.regions.table(gemeente_code=gemeente)
    buurten = regions[regions["level"] == "buurt"]
    out = []
    for wijk in regions[regions["level"] == "wijk"].itertuples():
        inside = buurten[buurten["wijk_code"] == wijk.code]
        out.append(
            {
                "code": wijk.code,
                "label": wijk.label,
                "buurten": [
                    {"code": c, "label": label}
                    for c, label in zip(inside["code"], inside["label"], strict=True)
                ],
            }
        )
    return out


def measure_choices(wh: Warehouse) -> list[dict[str, str]]:
    """List the measures and groups a goal can be set on (the form's suggestions)."""
    frame = wh.observations.measure_groups()
    return [
        {"measure": m, "group": g, "label": lbl}
        for m, g, lbl in zip(frame["measure_id"], frame["population_group"], frame["label"], strict=True)
    ]


def profile(wh: Warehouse, region: str, *, period: str | None = None) -> dict[str, Any]:
    """Collect a region's figures, trends across periods and model estimates against survey values.

    ``region``: a code or a name. With ``period`` only that period's figures, and the estimates
    of that round or with a prognosis for it.
    """
    data = region_profile(wh, region, period=period)
    figures = pd.DataFrame(data["figures"])
    trends = []
    data["registrations"] = registrations(figures)
    if not figures.empty:
        survey = figures[(figures["source"] == "50090NED") & (figures["status"] == "published")]
        for (measure, group), part in survey.groupby(["measure", "group"], sort=True):
            if part["period"].nunique() > 1:
                trends.append(
                    {
                        "measure": measure,
                        "label": part["label"].iloc[0],
                        "group": group,
                        "points": [
                            {"period": p, "value": float(v)}
                            for p, v in zip(part["period"], part["value"], strict=True)
                        ],
                    }
                )
    estimates = []
    models = wh.models.table()
    level = data["level"]
    for row in models[models["level"] == level].itertuples(index=False):
        found = wh.models.estimates(int(row.model_id), [data["code"]])
        if found.empty:
            continue
        est = found.iloc[0]
        estimates.append(
            {
                "measure": row.measure_id,
                "label": measure_label(wh, row.measure_id, row.population_group),
                "group": row.population_group,
                "period": row.period,
                "algorithm": row.algorithm,
                "estimate": number_or_none(est["estimate"]),
                "lower": number_or_none(est["lower"]),
                "upper": number_or_none(est["upper"]),
                "survey": number_or_none(est["survey"]),
                "expected": number_or_none(est["expected"]),
                "drivers": split(est["contributions"])[0][:5],
                "families": split(est["contributions"])[1],
                "forecasts": [
                    {
                        "period": str(p),
                        "estimate": float(e),
                        "lower": float(lo),
                        "upper": float(up),
                        "kerncijfers": periods_nl([read]),
                    }
                    for _, p, e, lo, up, read in wh.models.forecasts(
                        int(row.model_id), [data["code"]]
                    ).itertuples(index=False, name=None)
                ],
            }
        )
    data["trends"] = trends
    data["estimates"] = [
        e
        for e in estimates
        if period is None or e["period"] == period or any(f["period"] == period for f in e["forecasts"])
    ]
    return data


def sources(wh: Warehouse) -> dict[str, Any]:
    """List the sources with licences, and the model cards."""
    frame = wh.sources.table()
    frame["ingested_at"] = frame["ingested_at"].astype(str)
    cards = []
    for model_id in wh.models.table()["model_id"].tolist():
        stored = wh.models.by_id(int(model_id))
        if stored is None:
            continue
        card = stored["card"]
        card["model_id"] = int(model_id)
        title = f"{stored['measure_id']} {stored['population_group']}, {stored['level']}, {stored['period']}"
        cards.append(
            {
                "model_id": int(model_id),
                "measure": stored["measure_id"],
                "title": title,
                "markdown": render_markdown(card),
                "metrics": stored["metrics"],
            }
        )
    records = [{str(k): to_jsonable(v) for k, v in r.items()} for r in frame.to_dict("records")]
    return {"sources": records, "models": cards}

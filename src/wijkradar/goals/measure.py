"""Measuring an area: its value in a period (a region, or a resident-weighted set) and the margin.

Also the model's prognose for the area in a later year without a survey: shown beside the
measurements, never one of them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from wijkradar.cache import remember
from wijkradar.indeling import values_on
from wijkradar.models.residents import residents
from wijkradar.regions import level_of
from wijkradar.texts import method_nl, periods_nl
from wijkradar.themes import load_themes
from wijkradar.uploads import own_themes
from wijkradar.warehouse import Warehouse

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
    found: list[str] = remember(wh, ("units", level, *codes), lambda: _units_inside(wh, codes, level))
    return found


def _units_inside(wh: Warehouse, codes: list[str], level: str) -> list[str]:
    regions = wh.regions.table(level=level)
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
        stored = wh.models.get(measure, group, candidate, period) or wh.models.get(measure, group, candidate)
        if stored is None:
            continue
        estimates = wh.models.estimates(int(stored["model_id"]), _units(wh, codes, candidate))
        if estimates.empty:
            continue
        half = ((estimates["upper"] - estimates["lower"]) / 2).set_axis(estimates["region_code"].tolist())
        weights, _ = _weights(wh, group, half.index.tolist(), int(period[:4]))
        margin = float(np.average(half, weights=weights))
        note = f"modelmarge {stored['period']}"
        if candidate != level or len(codes) > 1:
            note += f" (bovengrens uit {len(half)} {candidate}en)"
        return margin, note
    return None, "marge onbekend: nog geen risicomodel (de beheerder maakt het met 'wijkradar train')"


def area_value(wh: Warehouse, measure: str, group: str, codes: list[str], period: str) -> dict[str, Any]:
    """Measure an area in a period: one region's value, or a population-weighted mean.

    Returns value, halfwidth (90%) and a note saying how it was made; value None when unknown.
    The margin is the source's own where it publishes one, else a bound from the model.
    Remembered until the data change: a plan measures the same areas again and again.
    """
    key = ("area_value", measure, group, tuple(codes), period)
    return remember(wh, key, lambda: _area_value(wh, measure, group, codes, period))


def _area_value(wh: Warehouse, measure: str, group: str, codes: list[str], period: str) -> dict[str, Any]:
    values = values_on(wh, measure, group, codes, wh.regions.indeling())
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


def area_forecast(wh: Warehouse, measure: str, group: str, codes: list[str]) -> dict[str, Any] | None:
    """Return the newest model's latest prognose for an area (resident-weighted over its units), or None.

    Units are found as for :func:`model_margin`; the margin is the weighted mean of the units'
    prognose half-widths, an upper bound as there. None when a unit has no prognose (too few
    residents, or no model with prognoses).
    """
    levels = [level_of(c) for c in codes]
    level = max(levels, key=lambda lvl: MARGIN_LEVELS.index(lvl) if lvl in MARGIN_LEVELS else -1)
    finer = MARGIN_LEVELS[MARGIN_LEVELS.index(level) :] if level in MARGIN_LEVELS else (level,)
    for candidate in finer:
        stored = wh.models.get(measure, group, candidate)
        if stored is None or not stored["card"].get("forecast_periods"):
            continue
        units = _units(wh, codes, candidate)
        later = wh.models.forecasts(int(stored["model_id"]), units)
        if later.empty:
            continue
        period = str(later["period"].max())
        found = later[later["period"] == period].set_index("region_code")
        if not set(units) <= set(found.index):
            continue
        weights, weighting = _weights(wh, group, units, int(period[:4]))
        value = float(np.average(found.loc[units, "estimate"], weights=weights))
        half = float(np.average((found.loc[units, "upper"] - found.loc[units, "lower"]) / 2, weights=weights))
        how = f"prognose van het model van {stored['period']} ({candidate})"
        read = periods_nl(found.loc[units, "kerncijfers"])
        if read:
            how += f", uit Kerncijfers {read}"
        if len(units) > 1:
            how += f", {len(units)} {candidate}en {weighting}"
        return {"period": period, "value": value, "halfwidth": half, "note": how}
    return None


def measure_label(wh: Warehouse, measure: str, group: str) -> str:
    """Name a goal's measure as people read it: its theme's label, else the measure's own label.

    An own upload is named by its upload label; the code is only the last resort.
    """
    for theme in (*load_themes().values(), *own_themes(wh).values()):
        if theme.measure_id == measure and theme.population_group == group:
            return theme.label
    known = wh.observations.measures().set_index("measure_id")["label"]
    label = str(known.get(measure) or measure)
    return label if group in ("", "totaal") else f"{label} ({group})"

"""Priorities: which buurten (or wijken) of a gemeente need attention first for a theme.

Rows are ranked by the expected number of residents affected (rate x residents of the age
group), with the rate's 90% interval, the chance of being in the top 10 given those intervals,
the main drivers of the model's estimate, capacity indicators, and whether the area does better
or worse than the model expects. Each row says whether its rate is the published survey estimate
or the model's.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import pandas as pd

from wijkradar.appdb import AppDB
from wijkradar.cache import remember
from wijkradar.errors import InputError, ModelMissing
from wijkradar.jsonable import to_jsonable
from wijkradar.models.families import EARLIER, split
from wijkradar.models.inputs import resolve_target
from wijkradar.models.residents import RESIDENTS, latest, residents
from wijkradar.query import require_gemeente
from wijkradar.regions import Region, code_of, gemeente_codes, gemeente_of, parents_of
from wijkradar.texts import NO_MODEL, number_nl, periods_nl
from wijkradar.themes import Theme, theme
from wijkradar.warehouse import Warehouse

# How a survey value compares with the model's expectation, in interval units (texts.EXPECTATION_NL
# has the Dutch words).
BETTER: Final = "better_than_expected"
WORSE: Final = "worse_than_expected"
AS_EXPECTED: Final = "as_expected"
NO_SURVEY: Final = "no_survey"

Z90 = 1.6448536269514722


DRAWS = 4000
CAPACITY = {  # key -> (measure, group); survey figures of the same round, Kerncijfers distances
    "carers_pct": ("Mantelzorger_32", "18+"),
    "volunteers_pct": ("Vrijwilligerswerk_33", "18+"),
    "gp_distance_km": ("af_artspr", "totaal"),
    "supermarket_distance_km": ("af_superm", "totaal"),
}


def priority_list(
    wh: Warehouse,
    gemeente: Region | str,
    theme_name: str,
    *,
    level: str = "buurt",
    period: str | None = None,
    top: int | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Rank the regions of a gemeente for a theme with its stored model.

    Reading never trains: without a stored model this raises :class:`ModelMissing`, which names
    the 'wijkradar train' command that makes one.
    """
    key = ("priority", code_of(gemeente), theme_name, level, period, top, seed)
    return remember(
        wh,
        key,
        lambda: _priority_list(wh, gemeente, theme_name, level=level, period=period, top=top, seed=seed),
    )


def _priority_list(
    wh: Warehouse,
    gemeente: Region | str,
    theme_name: str,
    *,
    level: str,
    period: str | None,
    top: int | None,
    seed: int,
) -> dict[str, Any]:
    gm = require_gemeente(wh, gemeente).code
    chosen = theme(theme_name)
    if not chosen.modelled:
        raise InputError(
            "--thema",
            f"thema '{chosen.name}' heeft geen prioriteitenlijst: {NO_MODEL['register']}",
            fix="kies een thema van RIVM (wijkradar themes laat zien welke)",
        )
    target = resolve_target(wh, chosen.measure_id, chosen.population_group, level, period)
    stored = wh.models.get(target.measure_id, target.population_group, target.level, target.period)
    if stored is None:
        raise ModelMissing(
            f"{chosen.label} ({target.level}, {target.period})",
            f"--thema {chosen.name} --level {target.level}",
        )
    codes = wh.regions.table(level=target.level, gemeente_code=gm)
    # Regions with too few residents of the group have no estimate (see models.train): not ranked.
    estimates = wh.models.estimates(int(stored["model_id"]), codes["code"].tolist())
    rows = _rows(wh, estimates, codes.set_index("code"), chosen, target.period)
    residents_periods = rows.attrs.get("residents_periods", [])
    forecast_period, forecast_inputs = _with_forecast(
        rows, wh.models.forecasts(int(stored["model_id"]), codes["code"].tolist())
    )
    rows = _rank(rows, seed=seed)
    if top:
        rows = rows.head(top)
    metrics = stored["metrics"]
    return {
        "gemeente": gm,
        "gemeente_name": wh.regions.table(level="gemeente").set_index("code")["name"].get(gm),
        "theme": chosen.name,
        "label": chosen.label,
        "measure": chosen.measure_id,
        "group": chosen.population_group,
        "level": target.level,
        "period": target.period,
        "forecast_period": forecast_period,
        "forecast_inputs": forecast_inputs,
        "model": {
            "model_id": int(stored["model_id"]),
            "algorithm": stored["algorithm"],
            "r2": metrics["r2"],
            "coverage90": metrics["coverage90"],
            "forward_r2": metrics.get("forward_r2"),
            "note": model_note(metrics),
        },
        "residents_definition": RESIDENTS.get(chosen.population_group, ("", ""))[1]
        + (f" (Kerncijfers {', '.join(residents_periods)})" if residents_periods else " (onbekend)"),
        "residents_group": RESIDENTS.get(chosen.population_group, ("", "inwoners"))[1],
        "residents_periods": residents_periods,
        "capacity_gemeente": _shared_capacity(rows),
        "scale_max": _scale_max(rows),
        "rows": [_clean_row({str(k): v for k, v in r.items()}) for r in rows.to_dict("records")],
    }


def model_note(metrics: dict[str, Any]) -> str:
    """Say in one Dutch sentence how well the model did: across gemeenten and forward in time."""

    def pct(value: float) -> str:
        return "minder dan 0%" if value < 0 else f"{number_nl(value * 100, 0)}%"

    over = (
        f", over de gebieden met minstens {metrics['min_residents']} inwoners in de groep"
        if metrics.get("min_residents")
        else ""
    )
    text = (
        f"Model {metrics['model']}: verklaarde variantie {pct(metrics['r2'])}, dekking 90%-interval "
        f"{pct(metrics['coverage90'])} (getoetst op gemeenten buiten de training{over})"
    )
    if metrics.get("forward_r2") is not None:
        start, end = str(metrics["forward_periods"]).split(" -> ")
        text += (
            f"; vooruit getoetst van de peiling van {start} naar die van {end}: verklaarde variantie "
            f"{pct(metrics['forward_r2'])}, dekking {pct(metrics['forward_coverage90'])}"
        )
    return text + "."


def _with_forecast(rows: pd.DataFrame, prognoses: pd.DataFrame) -> tuple[str | None, str]:
    """Add the latest prognose (a later year without a survey) to the rows; return its year.

    It is shown beside the rate of the survey year, never ranked on: the list ranks what was
    measured or estimated for a surveyed year. Also returns the periods of the Kerncijfers those
    prognoses read, in words ("2017 en 2020"; each row has its own in ``forecast_inputs``).
    """
    if prognoses.empty:
        return None, ""
    period = str(prognoses["period"].max())
    latest_year = prognoses[prognoses["period"] == period].set_index("region_code")
    for column, key in (("estimate", "forecast"), ("lower", "forecast_lower"), ("upper", "forecast_upper")):
        rows[key] = rows["code"].map(latest_year[column])
    read = rows["code"].map(latest_year["kerncijfers"])
    rows["forecast_inputs"] = [periods_nl([r]) if isinstance(r, str) else None for r in read]
    return period, periods_nl(r for r in read if isinstance(r, str))


def _shared_capacity(rows: pd.DataFrame) -> dict[str, Any]:
    """Return the capacity figures every row takes from the gemeente (no area has its own): shown once."""
    shared: dict[str, Any] = {}
    for key in CAPACITY:
        levels = {r[f"{key}_level"] for r in rows["capacity"]}
        values = {r[key] for r in rows["capacity"]}
        if levels == {"gemeente"} and len(values) == 1:
            shared[key] = values.pop()
    return shared


def _scale_max(rows: pd.DataFrame) -> float:
    """Return where the rate axis of the drawn intervals ends: the next multiple of 10 above them."""
    top = pd.to_numeric(rows["upper"], errors="coerce").max()
    return float(min(100, 10 * np.ceil(top / 10))) if pd.notna(top) and top > 0 else 100.0


def _rows(
    wh: Warehouse, estimates: pd.DataFrame, regions: pd.DataFrame, chosen: Theme, period: str
) -> pd.DataFrame:
    year = int(period[:4])
    codes = estimates["region_code"].tolist()
    frame = estimates.set_index("region_code")
    has_survey = frame["survey"].notna()
    rate = frame["survey"].where(has_survey, frame["estimate"])
    survey_bounds = has_survey & frame["survey_lower"].notna()
    lower = frame["survey_lower"].where(survey_bounds, frame["lower"] - frame["estimate"] + rate)
    upper = frame["survey_upper"].where(survey_bounds, frame["upper"] - frame["estimate"] + rate)
    counts, residents_periods = residents(wh, chosen.population_group, codes, year)
    inhabitants = counts.reindex(frame.index)
    halfwidth = (frame["upper"] - frame["lower"]) / 2
    deviation = (frame["survey"] - frame["expected"]) / halfwidth
    sign = 1.0 if chosen.higher_is_worse else -1.0
    gemeenten = sorted({str(gemeente_of(c)) for c in codes})
    capacity: dict[str, pd.Series] = {}
    for key, (measure, group) in CAPACITY.items():
        own = latest(wh, measure, group, codes, year).reindex(frame.index)
        # Where the region itself has no figure, show its gemeente's and say so.
        of_gemeente = latest(wh, measure, group, gemeenten, year)
        fallback = pd.Series(gemeente_codes(frame.index), index=frame.index).map(of_gemeente)
        capacity[key] = own.combine_first(fallback)
        capacity[f"{key}_level"] = pd.Series(  # codes; texts.CAPACITY_LEVEL_NL has the words
            np.where(own.notna(), "area", np.where(fallback.notna(), "gemeente", "unknown")),
            index=frame.index,
        )
    out = pd.DataFrame(
        {
            "code": frame.index,
            "name": regions["name"].reindex(frame.index).to_numpy(),
            "name_year": regions["name_year"].reindex(frame.index).to_numpy(),
            "label": [regions["label"].get(c, c) for c in frame.index],
            "rate": rate.to_numpy(),
            "lower": lower.to_numpy(),
            "upper": upper.to_numpy(),
            "interval_source": np.where(survey_bounds, "peiling", "model"),
            "source": np.where(has_survey, "peiling", "model"),
            "estimate": frame["estimate"].to_numpy(),
            "residents": inhabitants.to_numpy(),
            "vs_expected": (sign * deviation).to_numpy(),
        }
    )
    out["expected_affected"] = out["rate"] / 100 * out["residents"]
    out.attrs["residents_periods"] = residents_periods
    out["expectation"] = [_versus(v) for v in out["vs_expected"]]
    out["drivers"] = pd.Series([_drivers(c, chosen) for c in frame["contributions"]], dtype=object)
    in_gemeente = gemeente_codes(frame.index).tolist()
    typical = _gemeente_means(frame["contributions"].tolist(), in_gemeente)
    out["why"] = pd.Series(
        [_why(c, typical[gm], chosen) for c, gm in zip(frame["contributions"], in_gemeente, strict=True)],
        dtype=object,
    )
    columns = {key: [to_jsonable(v) for v in series.tolist()] for key, series in capacity.items()}
    out["capacity"] = pd.Series(
        [{key: values[i] for key, values in columns.items()} for i in range(len(frame))], dtype=object
    )
    return out


def _versus(value: float) -> str:
    """Say how a survey value compares with the model's out-of-fold expectation (an English code)."""
    if value is None or np.isnan(value):
        return NO_SURVEY
    if value <= -1:
        return BETTER
    if value >= 1:
        return WORSE
    return AS_EXPECTED


def _drivers(contributions: list[dict[str, Any]], chosen: Theme, top: int = 3) -> list[dict[str, Any]]:
    out = []
    for item in split(contributions)[0][:top]:
        effect = float(item["contribution"])
        raises = effect > 0
        worse = raises == chosen.higher_is_worse
        value = item["value"]
        shown = "onbekend" if value is None else _nl(value)
        out.append(
            {
                "feature": item["feature"],
                "label": item["label"],
                "value": value,
                "effect": round(effect, 2),
                "text": f"{item['label']} ({shown}) {'verhoogt' if raises else 'verlaagt'} de schatting "
                f"met {_nl(abs(effect))} {'(ongunstig)' if worse else '(gunstig)'}",
            }
        )
    return out


def _gemeente_means(
    contributions: list[list[dict[str, Any]]], gemeenten: list[str]
) -> dict[str, dict[str, float]]:
    """Per gemeente the mean contribution of each driver over its areas: its typical area.

    Only for models stored before 0.3, whose drivers carry no ``apart`` of their own. Family sums
    are stored for every area; a concrete driver only where it is among an area's largest, so
    elsewhere it counts as 0 (it was smaller than those kept).
    """
    totals: dict[str, dict[str, float]] = {}
    counts: dict[str, int] = {}
    for stored, gm in zip(contributions, gemeenten, strict=True):
        counts[gm] = counts.get(gm, 0) + 1
        sums = totals.setdefault(gm, {})
        for item in stored:
            sums[item["feature"]] = sums.get(item["feature"], 0.0) + float(item["contribution"])
    return {gm: {k: v / counts[gm] for k, v in sums.items()} for gm, sums in totals.items()}


def _why(
    contributions: list[dict[str, Any]], typical: dict[str, float], chosen: Theme
) -> list[dict[str, Any]]:
    """Give two short reasons why this area differs from a typical area of its gemeente, with direction.

    A driver counts as its contribution minus the gemeente's mean (``apart``, kept by training;
    from ``typical`` for older models), so what the model leans on everywhere names no area in
    particular. The reasons are the family and the concrete driver outside the earlier survey
    rounds that set the area apart most: what a wijkteam can act on.
    """
    concrete, summed = split(contributions)

    def apart(item: dict[str, Any]) -> float:
        if item.get("apart") is not None:
            return float(item["apart"])
        return float(item["contribution"]) - typical.get(item["feature"], 0.0)

    def most_apart(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted((c for c in items if c["family"] != EARLIER), key=lambda c: -abs(apart(c)))[:1]

    chips = []
    for item in most_apart(summed) + most_apart(concrete):
        effect = apart(item)
        chips.append(
            {
                "label": item["label"],
                "family": item["family"],
                "effect": round(effect, 2),
                "raises": effect > 0,
                "unfavourable": (effect > 0) == chosen.higher_is_worse,
                "text": f"{item['label']} ({'verhoogt' if effect > 0 else 'verlaagt'} {_nl(abs(effect))} "
                "t.o.v. een doorsnee gebied)",
            }
        )
    return chips


def _nl(value: float) -> str:
    r"""Say a contribution in points; one that rounds to nothing is said to be small, not 0,0.

    >>> _nl(0.26), _nl(0.02), _nl(1234.5)
    ('0,3', 'minder dan 0,1', '1\xa0234,5')
    """
    return "minder dan 0,1" if abs(value) < 0.05 else number_nl(value, 1)


def _rank(rows: pd.DataFrame, *, seed: int) -> pd.DataFrame:
    rows = rows.copy()
    rows["rank_rate"] = rows["rate"].rank(ascending=False, method="min", na_option="bottom").astype(int)
    order = rows.sort_values(["expected_affected", "rate"], ascending=False, na_position="last")
    rows = order.reset_index(drop=True)
    rows["rank"] = np.arange(1, len(rows) + 1)
    rows["p_top10"] = _p_top(rows, 10, seed)
    return rows


def _p_top(rows: pd.DataFrame, k: int, seed: int) -> np.ndarray:
    """Chance of being among the k largest expected numbers, drawing rates from their intervals.

    Areas that cannot reach the k largest (their expected number at 4.5 standard deviations up stays
    below the k-th largest at 4.5 down, a chance under one in 100 000 a draw) get 0 and are not
    drawn: in a city of 500 buurten about 30 remain, so the page is quick.
    """
    ok = rows["expected_affected"].notna().to_numpy()
    result = np.full(len(rows), np.nan)
    n = int(ok.sum())
    if n == 0:
        return result
    if n <= k:
        result[ok] = 1.0
        return result
    rate = rows.loc[ok, "rate"].to_numpy()
    sd = np.maximum((rows.loc[ok, "upper"].to_numpy() - rows.loc[ok, "lower"].to_numpy()) / (2 * Z90), 1e-9)
    residents = rows.loc[ok, "residents"].to_numpy()
    low = (rate - 4.5 * sd).clip(0, 100) * residents
    high = (rate + 4.5 * sd).clip(0, 100) * residents
    kth_low = np.partition(low, n - k)[n - k]
    drawn = high >= kth_low
    rng = np.random.default_rng(seed)
    m = int(drawn.sum())
    draws = rng.normal(rate[drawn], sd[drawn], size=(DRAWS, m)).clip(0, 100) / 100 * residents[drawn]
    kth = np.partition(draws, m - k, axis=1)[:, m - k][:, None]
    chances = np.zeros(n)
    chances[drawn] = (draws >= kth).mean(axis=0)
    result[ok] = chances
    return result


def _clean_row(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = to_jsonable(row)
    for key in (
        "rate",
        "lower",
        "upper",
        "estimate",
        "vs_expected",
        "p_top10",
        "forecast",
        "forecast_lower",
        "forecast_upper",
    ):
        if out.get(key) is not None:
            out[key] = round(float(out[key]), 3)
    if out.get("expected_affected") is not None:
        out["expected_affected"] = round(float(out["expected_affected"]), 1)
    return out


def what_works(wh: Warehouse, own: AppDB, gemeente: Region | str, theme_name: str) -> dict[str, Any]:
    """Areas that did better than the model expected, with the interventions that ran there.

    Evidence to discuss, not proof: the model does not know about the interventions, so an area
    beating its expectation while an intervention ran is a coincidence worth a conversation,
    nothing more. Needs the theme's model ('wijkradar train').
    """
    gm = require_gemeente(wh, gemeente).code
    ranking = priority_list(wh, gm, theme_name)
    interventions = own.interventions(gm)
    year = int(ranking["period"][:4])
    rows = []
    for row in ranking["rows"]:
        if row["expectation"] != BETTER:
            continue
        code = row["code"]
        containing = {code, *parents_of(code)}
        ran = [
            {
                "intervention_id": int(i["intervention_id"]),
                "title": i["title"],
                "start": i["start_date"],
                "end": i["end_date"],
            }
            for i in interventions
            if containing & set(i["area_codes"]) and int(i["start_date"][:4]) <= year
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
        "theme": ranking["theme"],
        "period": ranking["period"],
        "caveat": "Samenhang, geen bewijs: het model kent de interventies niet. Bespreek, concludeer niet.",
        "rows": sorted(rows, key=lambda r: r["vs_expected"]),
    }


def table_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the priority list's rows flattened for a table: drivers as text, capacity as columns."""
    return [
        {
            **{k: v for k, v in row.items() if k not in ("drivers", "capacity", "why")},
            "why": "; ".join(d["text"] for d in row["why"]),
            "drivers": "; ".join(d["text"] for d in row["drivers"]),
            **row["capacity"],
        }
        for row in rows
    ]

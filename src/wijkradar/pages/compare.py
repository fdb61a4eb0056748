"""How a gemeente compares: its similar gemeenten, and its figures beside Nederland and theirs.

A comparison counts the uncertainty of the gemeente's figure (:func:`compared`): the report's and
the site's sentences state a difference only when the other value lies outside its 90% interval.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from wijkradar.cache import remember
from wijkradar.indeling import values_on
from wijkradar.jsonable import number_or_none
from wijkradar.pages.theming import series_of, source_words
from wijkradar.themes import Theme
from wijkradar.warehouse import Warehouse

SIMILAR_ON = {  # structure variables for "similar gemeenten", from the Kerncijfers per gemeente
    "a_inw": "inwoners (log)",
    "p_65_eo_jr": "aandeel 65-plussers",
    "ste_mvs": "stedelijkheid",
    "g_ink_pi": "inkomen per inwoner",
    "p_eenp_hh": "eenpersoonshuishoudens",
}
N_SIMILAR = 5


def similar_gemeenten(wh: Warehouse, gemeente: str) -> list[dict[str, Any]]:
    """Find the nearest gemeenten on size, age, urbanity, income and household structure."""
    z: pd.DataFrame = remember(wh, ("similar_z",), lambda: _standardised(wh), shared=True)
    if gemeente not in z.index or len(z) <= 1:
        return []
    distance = np.sqrt(((z - z.loc[gemeente]) ** 2).sum(axis=1)).drop(gemeente).nsmallest(N_SIMILAR)
    names = wh.regions.table(level="gemeente").set_index("code")["name"]
    return [{"code": c, "name": names.get(c, c), "distance": round(float(d), 2)} for c, d in distance.items()]


def no_similar_reason(wh: Warehouse, gemeente: str) -> str:
    """Say why a gemeente has no similar gemeenten: which structure figures it lacks."""
    z: pd.DataFrame = remember(wh, ("similar_z",), lambda: _standardised(wh), shared=True)
    if len(z) <= 1:
        return "de Kerncijfers per gemeente zijn niet ingelezen."
    own = wh.observations.level_values(list(SIMILAR_ON), gemeente)
    have = set(own.loc[own["region_code"] == gemeente, "measure_id"])
    missing = [words for measure, words in SIMILAR_ON.items() if measure not in have]
    if not missing:
        return "de structuurcijfers van deze gemeente zijn niet compleet."
    return "voor deze gemeente publiceert CBS geen " + ", ".join(missing) + " (geheim of onbekend)."


def _standardised(wh: Warehouse) -> pd.DataFrame:
    """Return the structure variables of every gemeente (latest period), standardised."""
    obs = wh.observations.level_values(list(SIMILAR_ON), "GM").sort_values("period")
    wide = obs.pivot_table(index="region_code", columns="measure_id", values="value", aggfunc="last")
    wide = wide.reindex(columns=list(SIMILAR_ON)).dropna()
    wide["a_inw"] = np.log(wide["a_inw"].clip(lower=1))
    return (wide - wide.mean()) / wide.std(ddof=0).replace(0, 1)


def key_figures(
    wh: Warehouse, gemeente: str, chosen: Theme, similar: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Compare the theme's figure for the gemeente with NL and similar gemeenten (survey values)."""
    codes = [gemeente, "NL01", *[s["code"] for s in similar]]
    values = series_of(
        chosen, values_on(wh, chosen.measure_id, chosen.population_group, codes, wh.regions.indeling())
    )
    published = values[values["status"] == "published"]
    out = []
    for period in sorted(published["period"].unique()):
        rows = published[published["period"] == period].set_index("region_code")
        now = rows["value"]
        peers = [float(now[c]) for c in codes[2:] if c in now.index]
        low, high = _interval(wh, chosen, gemeente, str(period), rows)
        out.append(
            {
                "period": period,
                "gemeente": number_or_none(now.get(gemeente)),
                "gemeente_lower": low,
                "gemeente_upper": high,
                "national": number_or_none(now.get("NL01")),
                "similar_mean": round(float(np.mean(peers)), 1) if peers else None,
                "n_similar": len(peers),
                "source": "eigen upload"
                if chosen.upload
                else ", ".join(
                    sorted(
                        {
                            source_words(str(s), short=True)
                            for s in published.loc[published["period"] == period, "source"]
                        }
                    )
                ),
            }
        )
    return out


def _interval(
    wh: Warehouse, chosen: Theme, gemeente: str, period: str, rows: pd.DataFrame
) -> tuple[float | None, float | None]:
    """Return the 90% interval of the gemeente's figure: the survey's own, else its model's, else none.

    The model's is the one the priority list shows for a surveyed area: the width of the model's
    interval, around the survey value.
    """
    mine = rows[rows.index == gemeente]
    if mine.empty:
        return None, None
    value, low, high = (
        number_or_none(mine[c].iloc[-1]) if c in mine else None for c in ("value", "lower", "upper")
    )
    if low is not None and high is not None:
        return low, high
    if value is None or not chosen.modelled:
        return None, None
    stored = wh.models.get(chosen.measure_id, chosen.population_group, "gemeente", period)
    if stored is None:
        return None, None
    estimate = wh.models.estimates(int(stored["model_id"]), [gemeente])
    if estimate.empty:
        return None, None
    half = (float(estimate["upper"].iloc[0]) - float(estimate["lower"].iloc[0])) / 2
    return number_or_none(value - half), number_or_none(value + half)


def compared(figure: dict[str, Any], other: float | None) -> str | None:
    """Say how the gemeente's figure of a period compares with another value, counting its uncertainty.

    ``same`` when the other value lies inside the gemeente's 90% interval, ``higher`` or ``lower``
    when outside it, None when the interval is unknown (then no sentence states a difference).

    >>> compared({"gemeente": 48.2, "gemeente_lower": 46.5, "gemeente_upper": 49.9}, 49.5)
    'same'
    >>> compared({"gemeente": 48.2, "gemeente_lower": 46.5, "gemeente_upper": 49.9}, 45.0)
    'higher'
    >>> compared({"gemeente": 48.2, "gemeente_lower": None, "gemeente_upper": None}, 49.5) is None
    True
    """
    low, high = figure.get("gemeente_lower"), figure.get("gemeente_upper")
    if other is None or low is None or high is None or figure.get("gemeente") is None:
        return None
    if low <= other <= high:
        return "same"
    return "higher" if other < low else "lower"

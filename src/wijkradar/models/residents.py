"""Residents of a population group per region, from the Kerncijfers: the weights of rates.

The priority list counts the people affected with them, goals weight a set of buurten by them, and
the models leave out regions with too few residents of the group to estimate anything for.
"""

from __future__ import annotations

import pandas as pd

from wijkradar.cache import remember
from wijkradar.indeling import every_value_on
from wijkradar.warehouse import Warehouse

RESIDENTS = {  # population group -> how to count its residents from Kerncijfers
    "65+": ("a_65_oo", "inwoners van 65 jaar en ouder"),
    "18+": ("a_inw-a_00_14", "inwoners van 15 jaar en ouder (benadering van 18+)"),
    "totaal": ("a_inw", "inwoners"),
}


def latest(wh: Warehouse, measure: str, group: str, codes: list[str], year: int) -> pd.Series:
    """Return the latest value up to the year after ``year`` per region; ``attrs['periods']`` says which."""
    every = remember(
        wh,
        ("latest", measure, group, year),
        lambda: _every_latest(wh, measure, group, year),
        shared=True,
        sources_only=True,
    )
    found = every.loc[every.index.intersection(pd.Index(codes).unique())]
    values = found["value"].copy()
    values.attrs["periods"] = sorted(set(found["period"]))
    return values


def _every_latest(wh: Warehouse, measure: str, group: str, year: int) -> pd.DataFrame:
    obs = every_value_on(wh, measure, group, wh.regions.indeling())
    obs = obs[obs["status"] == "published"]
    obs = obs[obs["period"].str[:4].astype(int) <= year + 1].sort_values("period", kind="stable")
    return obs.drop_duplicates("region_code", keep="last").set_index("region_code")[["value", "period"]]


def residents(wh: Warehouse, group: str, codes: list[str], year: int) -> tuple[pd.Series, list[str]]:
    """Return the residents of the group per region, and the Kerncijfers periods they come from."""
    spec = RESIDENTS.get(group, ("a_inw", ""))[0]
    if "-" in spec:
        total, minus = (latest(wh, m, "totaal", codes, year) for m in spec.split("-"))
        return total - minus, sorted(set(total.attrs["periods"]) | set(minus.attrs["periods"]))
    counts = latest(wh, spec, "totaal", codes, year)
    periods = set(counts.attrs["periods"])
    if spec == "a_65_oo":
        # Gemeente tables give a share instead of a count.
        share, inhabitants = (latest(wh, m, "totaal", codes, year) for m in ("p_65_eo_jr", "a_inw"))
        counts = counts.combine_first((share / 100 * inhabitants).round())
        periods |= set(share.attrs["periods"]) if share.notna().any() else set()
    return counts, sorted(periods)

"""Moving figures, boundaries and residents onto one indeling along the crosswalks.

See :mod:`wijkradar.indeling` for the rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from wijkradar.cache import remember
from wijkradar.indeling.crosswalks import (
    COUNT_UNITS,
    IDENTITY_ASSUMED,
    NATIVE,
    crosswalk,
)
from wijkradar.regions import name_key
from wijkradar.warehouse import Warehouse


@dataclass
class Moved:
    """Figures on one indeling, and what it took to get there."""

    frame: pd.DataFrame
    year: int
    moved: dict[str, int] = field(default_factory=dict)  # "2017 identity_assumed" -> values
    left_out: dict[int, int] = field(default_factory=dict)  # boundary year -> values left out

    def summary(self) -> dict[str, object]:
        """Plain dict for model cards and JSON."""
        return {"boundary_year": self.year, "moved": dict(self.moved), "left_out": dict(self.left_out)}


def move(
    values: pd.DataFrame,
    walk: pd.DataFrame,
    count_measures: set[str],
    extra_keys: tuple[str, ...] = (),
    sizes: pd.Series | None = None,
) -> pd.DataFrame:
    """Move values (``region_code, measure_id, period, population_group, value``) along a crosswalk.

    Counts (``count_measures``) are summed by weight; everything else becomes the weighted mean
    over the contributing areas, weighted by the share moved times the source area's residents
    (``sizes``, by source code) where every contributing area has that number, else by the share
    alone. A target area gets a value only when every area that sends it a share has one. The
    result has the target codes, ``method`` (the crosswalk's, or ``identity_*`` where every
    contribution is a whole unchanged area) and ``n_sources``.

    Examples
    --------
    >>> walk = pd.DataFrame({"from_code": ["WK000101", "WK000101", "WK000102"],
    ...                      "to_code": ["WK000111", "WK000112", "WK000112"],
    ...                      "weight": [0.25, 0.75, 1.0], "method": "addresses"})
    >>> vals = pd.DataFrame({"region_code": ["WK000101", "WK000102"], "measure_id": "a_inw",
    ...                      "period": "2017", "population_group": "totaal", "value": [400.0, 100.0]})
    >>> move(vals, walk, {"a_inw"})[["region_code", "value"]].values.tolist()
    [['WK000111', 100.0], ['WK000112', 400.0]]
    """
    keys = ["measure_id", "period", "population_group", *extra_keys]
    columns = ["region_code", *keys, "value", "method", "n_sources"]
    if values.empty or walk.empty:
        return values.iloc[0:0].assign(method=pd.Series(dtype=object), n_sources=pd.Series(dtype=int))
    walk = walk[walk["weight"] > 0]
    # A target fed by exactly one whole source (most of any crosswalk) needs no aggregation.
    feeds = walk.groupby("to_code")["from_code"].transform("size")
    whole = (feeds == 1) & (walk["weight"] >= 1 - 1e-9)
    vals = values.astype({"region_code": str})
    direct = vals.merge(walk[whole], left_on="region_code", right_on="from_code", how="inner")
    direct = direct.assign(region_code=direct["to_code"], n_sources=1)[columns]
    parts = walk[~whole]
    joined = vals.merge(parts, left_on="region_code", right_on="from_code", how="inner")
    if joined.empty:
        direct.attrs["used"] = len(direct)
        return direct.reset_index(drop=True)
    joined = joined.astype({k: str for k in keys})
    is_count = joined["measure_id"].isin(count_measures).to_numpy()
    joined["wv"] = joined["value"] * joined["weight"]
    size = joined["from_code"].map(sizes) if sizes is not None else pd.Series(np.nan, index=joined.index)
    joined["ws"] = joined["weight"] * size.where(size > 0)
    joined["wsv"] = joined["ws"] * joined["value"]
    joined["identity"] = joined["method"].str.startswith("identity") | (joined["method"] == NATIVE)
    grouped = joined.assign(is_count=is_count).groupby(["to_code", *keys], sort=True, observed=True)
    out = grouped.agg(
        wv=("wv", "sum"),
        w=("weight", "sum"),
        wsv=("wsv", "sum"),
        ws=("ws", "sum"),
        sized=("ws", "count"),
        n=("ws", "size"),
        is_count=("is_count", "first"),
        n_sources=("from_code", "nunique"),
        identity=("identity", "all"),
        method=("method", "first"),
    ).reset_index()
    needed = parts.groupby("to_code")["weight"].sum()
    complete = out["w"].to_numpy() >= out["to_code"].map(needed).to_numpy() - 1e-9
    out = out[complete]
    used = joined.merge(out[["to_code", *keys]], on=["to_code", *keys])
    n_used = len(used.drop_duplicates(["from_code", *keys]))
    by_residents = (out["sized"] == out["n"]) & (out["ws"] > 0)
    mean = np.where(by_residents, out["wsv"] / out["ws"].where(by_residents, 1.0), out["wv"] / out["w"])
    out["value"] = np.where(out["is_count"], out["wv"], mean)
    out["method"] = np.where(
        out["identity"],
        out["method"],
        out["method"].where(~out["method"].str.startswith("identity"), "mixed"),
    )
    out = out.rename(columns={"to_code": "region_code"})
    result = pd.concat([direct, out[columns]], ignore_index=True) if len(direct) else out[columns]
    result = result.sort_values(["region_code", *keys]).reset_index(drop=True)
    result.attrs["used"] = n_used + len(direct)
    return result


def values_on(
    wh: Warehouse, measure_id: str, population_group: str, codes: list[str], year: int
) -> pd.DataFrame:
    """Every observation of one measure and group for regions of indeling ``year``.

    Like ``wh.observations.values``, plus ``method`` and ``from_year``: values published on another
    indeling are moved onto ``year`` (or left out) as :func:`onto` does, so a trend never joins
    two different areas that happen to share a code. The measure is moved for every region once
    per data version and remembered; each call picks its regions from that.
    """
    every = every_value_on(wh, measure_id, population_group, year)
    return every[every["region_code"].isin(set(codes))].reset_index(drop=True)


def every_value_on(wh: Warehouse, measure_id: str, population_group: str, year: int) -> pd.DataFrame:
    """Return :func:`values_on` for every region, remembered and shared: read it, never change it."""
    found: pd.DataFrame = remember(
        wh,
        ("values_on", measure_id, population_group, year),
        lambda: _values_on(wh, measure_id, population_group, year),
        shared=True,
        sources_only=True,
    )
    return found


def _values_on(wh: Warehouse, measure_id: str, population_group: str, year: int) -> pd.DataFrame:
    own = wh.observations.values(measure_id, population_group)
    native = own[own["boundary_year"] == year].assign(method=NATIVE, from_year=year)
    parts = [native]
    counts = count_measures(wh)
    for other in wh.observations.boundary_years_of(measure_id, population_group):
        if other in (year, 0):
            continue
        walk = crosswalk(wh, other, year)
        if walk.empty:
            continue
        source = wh.observations.values(measure_id, population_group, sorted(set(walk["from_code"])))
        source = source[(source["boundary_year"] == other) & (source["status"] == "published")]
        moved = move(
            source.assign(measure_id=measure_id, population_group=population_group),
            walk,
            counts,
            extra_keys=("source",),
            sizes=residents_of(wh, sorted(set(walk["from_code"])), other),
        )
        parts.append(
            moved.drop(columns=["measure_id", "population_group", "n_sources"]).assign(
                lower=np.nan, upper=np.nan, status="published", boundary_year=year, from_year=other
            )
        )
    frame = (
        pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else native
    )
    return frame.sort_values(["region_code", "period"]).reset_index(drop=True)


def figures_on(wh: Warehouse, code: str, year: int, period: str | None = None) -> Moved:
    """Every figure of one region of indeling ``year``, with those of other indelingen moved onto it.

    Figures of a year in which the code cannot be placed on ``year``'s area are left out and
    counted per year in ``left_out``.
    """
    figures = wh.observations.figures(code, period)
    years = figures["boundary_year"].astype(int)
    parts = [figures[years == year].assign(method=NATIVE, from_year=year)]
    result = Moved(frame=parts[0], year=year)
    counts = count_measures(wh)
    keys = ("label", "unit", "source", "publisher", "source_title")
    for other in sorted(set(years) - {year}):
        chunk = figures[years == other]
        walk = crosswalk(wh, int(other), year) if other else pd.DataFrame(columns=["to_code"])
        walk = walk[walk["to_code"] == code]
        if walk.empty:
            result.left_out[int(other)] = int((chunk["status"] == "published").sum())
            continue
        sources = [
            wh.observations.figures(c, period).assign(region_code=c) for c in sorted(set(walk["from_code"]))
        ]
        source = pd.concat(sources, ignore_index=True)
        source = source[(source["boundary_year"] == other) & (source["status"] == "published")]
        source = source.rename(columns={"measure": "measure_id", "group": "population_group"})
        sizes = residents_of(wh, sorted(set(walk["from_code"])), int(other))
        moved = move(source, walk, counts, extra_keys=keys, sizes=sizes).rename(
            columns={"measure_id": "measure", "population_group": "group"}
        )
        # cells without a figure (missing, secret) are not figures left out
        published = int((chunk["status"] == "published").sum())
        result.left_out[int(other)] = max(0, published - len(moved))
        for method, n in moved["method"].value_counts().items():
            result.moved[f"{other} {method}"] = int(n)
        parts.append(
            moved.drop(columns=["region_code", "n_sources"]).assign(
                lower=np.nan, upper=np.nan, status="published", boundary_year=year, from_year=int(other)
            )
        )
    frame = pd.concat([p for p in parts if len(p)], ignore_index=True) if len(parts) > 1 else parts[0]
    result.frame = frame.sort_values(["measure", "group", "period", "source"]).reset_index(drop=True)
    return result


def geometries_on(wh: Warehouse, codes: list[str], year: int) -> pd.DataFrame:
    """Boundaries for regions of indeling ``year``: that year's, else the nearest year's same area.

    A boundary of another year is used only where the code is the same area there (see
    :func:`crosswalk`); one from a file without a year only where its name there is the region's
    name now. Returns ``region_code, wkb, from_year, method``; codes without usable boundaries are
    absent (a map marks them).
    """
    versions = wh.boundaries.versions(codes)
    out = []
    names = (
        wh.regions.table(year=year).set_index("code")["name"]
        if (versions["boundary_year"] == 0).any()
        else None
    )
    identity: dict[int, set[str]] = {}
    for code, rows in versions.groupby("region_code", sort=True):
        by_year = dict(zip(rows["boundary_year"].astype(int), rows["wkb"], strict=True))
        if year in by_year:
            out.append((code, by_year[year], year, NATIVE))
            continue
        for other in sorted(by_year, key=lambda y: (y == 0, abs(y - year), y > year)):
            if other == 0:
                file_name = rows.loc[rows["boundary_year"] == 0, "name"].iloc[0]
                now = names.get(code) if names is not None else None
                if (
                    isinstance(file_name, str)
                    and isinstance(now, str)
                    and name_key(file_name) == name_key(now)
                ):
                    out.append((code, by_year[0], 0, IDENTITY_ASSUMED))
                    break
                continue
            if other not in identity:
                walk = crosswalk(wh, other, year)
                identity[other] = set(walk.loc[walk["method"].str.startswith("identity"), "from_code"])
            if code in identity[other]:
                out.append((code, by_year[other], other, IDENTITY_ASSUMED))
                break
    return pd.DataFrame(out, columns=["region_code", "wkb", "from_year", "method"])


def residents_of(wh: Warehouse, codes: list[str], year: int) -> pd.Series:
    """Residents (``a_inw``, the latest period) of areas of one indeling: the weights of rates."""
    if not codes:
        return pd.Series(dtype=float)
    found = wh.observations.values("a_inw", "totaal", codes)
    found = found[(found["boundary_year"] == year) & (found["status"] == "published")]
    return (
        found.sort_values("period")
        .drop_duplicates("region_code", keep="last")
        .set_index("region_code")["value"]
    )


def count_measures(wh: Warehouse) -> set[str]:
    """Return the measures that are counts (moved by summing), by their unit."""
    measures = wh.observations.measures()
    return set(measures.loc[measures["unit"].str.strip().str.lower().isin(COUNT_UNITS), "measure_id"])


def onto(wh: Warehouse, observations: pd.DataFrame, year: int) -> Moved:
    """Bring published observations (with ``boundary_year``) onto the indeling of ``year``.

    Values already on it stay as they are; values of other years are moved through
    :func:`crosswalk`, and those that cannot be are left out and counted.
    """
    years = observations["boundary_year"].astype(int)
    native = observations[years == year].assign(method=NATIVE, from_year=year)
    parts = [native]
    result = Moved(frame=native, year=year)
    counts = count_measures(wh)
    for other in sorted(set(years.unique()) - {year}):
        chunk = observations[years == other]
        if other == 0:
            result.left_out[0] = len(chunk)
            continue
        walk = crosswalk(wh, int(other), year)
        cols = ["region_code", "measure_id", "period", "population_group", "value"]
        moved = move(
            chunk[cols], walk, counts, sizes=residents_of(wh, sorted(set(walk["from_code"])), int(other))
        )
        moved = moved.assign(boundary_year=year, from_year=int(other), lower=np.nan, upper=np.nan)
        for method, n in moved["method"].value_counts().items():
            result.moved[f"{other} {method}"] = int(n)
        result.left_out[int(other)] = len(chunk) - int(moved.attrs.get("used", 0))
        parts.append(moved.drop(columns="n_sources"))
    result.frame = _concat(parts) if len(parts) > 1 else native
    return result


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate frames whose text columns may be categorical, keeping them categorical (fast)."""
    from pandas.api.types import union_categoricals

    columns = list(frames[0].columns)
    out: dict[str, object] = {}
    for column in columns:
        parts = [f[column] for f in frames]
        if any(isinstance(p.dtype, pd.CategoricalDtype) for p in parts) or parts[0].dtype == object:
            cats = [
                p.astype(str).astype("category") if not isinstance(p.dtype, pd.CategoricalDtype) else p
                for p in parts
            ]
            out[column] = union_categoricals(cats, ignore_order=True)
        else:
            out[column] = np.concatenate([p.to_numpy() for p in parts])
    return pd.DataFrame(out)

"""Features per region for a risk model, from what the warehouse holds.

Families (a feature's name starts with its family):

* ``prev:``  the previous survey round of the same table, every measure and group, at the region;
* ``prev2:`` / ``chg2:`` (``prev3:`` ...)  the rounds before that, of the target's measure: the level
  then and the change from then to the previous round;
* ``kwb:``   Kerncijfers and other tables of the region (latest period up to the year after the
  target year, as Kerncijfers count the population on 1 January),
  plus derived shares (``kwb:aandeel_65_oo`` = a_65_oo / a_inw);
* ``wk:`` / ``gm:``  the same for the containing wijk and gemeente (spatial context);
* ``nb:``    the previous round of the target in the other regions of the same wijk (buurten) or
  gemeente (wijken): neighbours by code structure.

No figure of the target's own table for the target period (or later) ever becomes a feature, so
a model cannot peek at the survey it is validated against. Features are named by role, not by
year, so a model trained for 2020 (previous round 2016) scores 2024 (previous round 2020).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import pandas as pd

from wijkradar.regions import gemeente_codes, level_prefix, wijk_codes
from wijkradar.sources.model import period_kind
from wijkradar.sources.monitor import is_monitor_table

SHARES: Final = {  # derived share -> (numerator, denominator)
    "aandeel_00_14": ("a_00_14", "a_inw"),
    "aandeel_25_44": ("a_25_44", "a_inw"),
    "aandeel_65_oo": ("a_65_oo", "a_inw"),
    "aandeel_hh_m_k": ("a_hh_m_k", "a_hh"),
}
SHARE_LABELS: Final = {
    "aandeel_00_14": "aandeel kinderen 0-14 jaar",
    "aandeel_25_44": "aandeel 25-44 jaar",
    "aandeel_65_oo": "aandeel 65-plussers",
    "aandeel_hh_m_k": "aandeel huishoudens met kinderen",
}


@dataclass(frozen=True)
class Target:
    """What a model estimates: a measure for a population group, at a level, in a period."""

    measure_id: str
    population_group: str
    level: str
    period: str

    @property
    def prefix(self) -> str:
        """Region code prefix of the level."""
        return level_prefix(self.level)


@dataclass
class FeatureSet:
    """Features and target for every region of a level."""

    target: Target
    X: pd.DataFrame
    y: pd.Series
    y_lower: pd.Series
    y_upper: pd.Series
    groups: pd.Series
    labels: dict[str, str] = field(default_factory=dict)
    previous_period: str | None = None
    # per region: the periods of the Kerncijfers (and other tables) its features read, its own and
    # its wijk's and gemeente's, e.g. ("2017", "2020"); empty where it has none
    input_periods: pd.Series | None = None

    def periods_read(self) -> pd.Series:
        """Return per region the periods of the other tables its features read (see ``input_periods``)."""
        if self.input_periods is None:
            return pd.Series([()] * len(self.X), index=self.X.index, dtype=object)
        return self.input_periods.reindex(self.X.index).apply(lambda p: p if isinstance(p, tuple) else ())

    @property
    def labelled(self) -> np.ndarray:
        """Boolean mask of regions with a published target value."""
        return self.y.notna().to_numpy()


def _year(period: str) -> int:
    return int(str(period)[:4])


def build_features(
    observations: pd.DataFrame,
    target_rows: pd.DataFrame,
    measures: pd.DataFrame,
    target: Target,
    *,
    include_previous: bool = True,
) -> FeatureSet:
    """Build the feature table for ``target``.

    Parameters
    ----------
    observations
        Published observations (region_code, period, measure_id, population_group, value).
    target_rows
        Every observation of the target measure (all statuses): defines the regions to estimate.
    measures
        The measures table (measure_id, label, table_id), for labels and to know which measures
        belong to the target's own table.
    target
        What to estimate.
    include_previous
        Use the previous survey round as input.
    """
    obs = observations.astype(
        {c: "category" for c in ("region_code", "measure_id", "population_group", "period")}
    )
    labels_of = dict(zip(measures["measure_id"], measures["label"], strict=True))
    table_of = dict(zip(measures["measure_id"], measures["table_id"], strict=True))
    own_table = str(table_of.get(target.measure_id, ""))
    own = _per_category(obs["measure_id"], lambda m: table_of.get(m) == own_table)
    year = _year(target.period)

    rows = target_rows[target_rows["region_code"].astype(str).str.startswith(target.prefix)]
    regions = pd.Index(sorted(rows["region_code"].astype(str).unique()), name="region_code")
    current = rows[
        (rows["period"].astype(str) == target.period) & (rows["population_group"] == target.population_group)
    ]
    current = current.drop_duplicates("region_code").set_index("region_code")
    y = current["value"].reindex(regions).astype(float)
    y_lower = current["lower"].reindex(regions).astype(float)
    y_upper = current["upper"].reindex(regions).astype(float)

    survey = obs[own]
    earlier = sorted({str(p) for p in survey["period"].unique() if _year(p) < year})
    previous_period = str(earlier[-1]) if earlier and include_previous else None
    prev = survey[survey["period"] == previous_period] if previous_period else survey.iloc[0:0]
    prev_wide = _wide(prev, "prev:", with_group=True)
    history_wide, history_labels = _history(
        survey,
        earlier[:-1] if previous_period else [],
        target.measure_id,
        str(labels_of.get(target.measure_id, target.measure_id)),
        prev_wide,
    )
    # Kerncijfers of year Y+1 count the population on 1 January Y+1: the end of survey year Y.
    # The Monitor Sociaal Domein counts support given (an outcome of policy, and staged for part of
    # the gemeenten only) and sub-year periods are no structure figures: neither feeds a model.
    inputs = _per_category(obs["measure_id"], lambda m: not is_monitor_table(table_of.get(m)))
    yearly = _per_category(
        obs["period"], lambda p: _year(p) <= year + 1 and period_kind(p) in ("year", "range")
    )
    other = obs[~own & inputs & yearly]
    kwb_wide, kwb_periods = _latest_wide(other)

    labels: dict[str, str] = {}
    for column in prev_wide.columns:
        measure, group = column[5:].split("|")
        labels[column] = f"{labels_of.get(measure, measure)} {group} (peiling {previous_period})"
    for column in kwb_wide.columns:
        labels[column] = str(SHARE_LABELS.get(column[4:]) or labels_of.get(column[4:]) or column[4:])

    labels.update(history_labels)

    own_level = pd.concat([prev_wide, history_wide, kwb_wide], axis=1)
    X = own_level.reindex(regions)
    read = [kwb_periods.reindex(regions).to_numpy()]
    if target.level in ("buurt", "wijk"):
        gm_codes = pd.Series(gemeente_codes(regions), index=regions)
        X = X.join(_context(own_level, gm_codes, "gm", labels), how="left")
        read.append(kwb_periods.reindex(gm_codes.to_numpy()).to_numpy())
    if target.level == "buurt":
        wk_codes = pd.Series(wijk_codes(regions), index=regions)
        X = X.join(_context(own_level, wk_codes, "wk", labels), how="left")
        read.append(kwb_periods.reindex(wk_codes.to_numpy()).to_numpy())
    target_prev = f"prev:{target.measure_id}|{target.population_group}"
    if target.level in ("buurt", "wijk") and target_prev in X.columns:
        parent = wijk_codes(regions) if target.level == "buurt" else gemeente_codes(regions)
        X = X.join(_neighbours(X[target_prev], pd.Series(parent, index=regions)), how="left")
        labels["nb:prev_target"] = f"{labels_of.get(target.measure_id, target.measure_id)} in naburige " + (
            "buurten (zelfde wijk)" if target.level == "buurt" else "wijken (zelfde gemeente)"
        )
        labels["nb:count"] = "aantal naburige gebieden met een waarde"
    X = X.loc[:, X.notna().any()].astype(float)
    groups = pd.Series(gemeente_codes(regions), index=regions, name="gemeente")
    return FeatureSet(
        target=target,
        X=X,
        y=y,
        y_lower=y_lower,
        y_upper=y_upper,
        groups=groups,
        labels={c: labels.get(c, c) for c in X.columns},
        previous_period=previous_period,
        input_periods=_joined(read, regions),
    )


def _joined(read: list[np.ndarray], regions: pd.Index) -> pd.Series:
    """Join per region the periods its own row and its context rows read (few distinct combinations)."""
    seen: dict[tuple[object, ...], tuple[str, ...]] = {}
    joined = []
    for parts in zip(*read, strict=True):
        key = tuple(p if isinstance(p, tuple) else () for p in parts)
        if key not in seen:
            seen[key] = union_of_periods(key)
        joined.append(seen[key])
    return pd.Series(joined, index=regions, dtype=object)


def union_of_periods(parts: Iterable[object]) -> tuple[str, ...]:
    """Join tuples of periods (anything else counts as none) into one, ordered by year."""
    found = {p for part in parts if isinstance(part, tuple) for p in part}
    return tuple(sorted(found, key=lambda p: (_year(p), p)))


def _history(
    survey: pd.DataFrame, rounds: list[str], measure_id: str, label: str, prev_wide: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Every round before the previous one, of the target's measure (all its groups): levels and changes.

    The round k places before the target gives ``prevk:`` (its value) and ``chgk:`` (the change
    from it to the previous round), named by distance as ``prev:`` is: a model of 2020 reads 2012
    as ``prev2:``, scoring 2024 reads 2016 there.
    """
    parts, labels = [], {}
    for k, period in enumerate(reversed(rounds), start=2):
        frame = survey[(survey["period"] == period) & (survey["measure_id"] == measure_id)]
        wide = _wide(frame, f"prev{k}:", with_group=True)
        if wide.empty:
            continue
        changes = {}
        for column in [str(c) for c in wide.columns]:
            key = column.split(":", 1)[1]
            group = key.split("|")[1]
            labels[column] = f"{label} {group} (peiling {period})"
            if f"prev:{key}" in prev_wide.columns:
                name = f"chg{k}:{key}"
                changes[name] = prev_wide[f"prev:{key}"].reindex(wide.index) - wide[column]
                labels[name] = f"verandering {label} {group} sinds {period}"
        parts += [wide, pd.DataFrame(changes, index=wide.index)]
    if not parts:
        return pd.DataFrame(index=pd.Index([], name="region_code")), labels
    return pd.concat(parts, axis=1), labels


def _per_category(column: pd.Series, test: Callable[[str], bool]) -> np.ndarray:
    """Evaluate ``test`` once per category of a categorical column, not once per row."""
    categories = column.cat.categories
    hits = np.array([bool(test(str(c))) for c in categories] + [False])
    return hits[column.cat.codes.to_numpy()]  # code -1 (missing) picks the trailing False


def _wide(frame: pd.DataFrame, prefix: str, *, with_group: bool = False) -> pd.DataFrame:
    """Pivot long observations to one column per measure (and group); later rows win."""
    if frame.empty:
        return pd.DataFrame(index=pd.Index([], name="region_code"))
    region_codes, regions = pd.factorize(frame["region_code"].astype(str), sort=True)
    measure = frame["measure_id"].astype("category")
    group = frame["population_group"].astype("category")
    if with_group:
        # Combine the two category codes instead of concatenating a million strings.
        n_groups = len(group.cat.categories)
        combined = measure.cat.codes.to_numpy(dtype=np.int64) * n_groups + group.cat.codes.to_numpy()
        feature_codes, uniques = pd.factorize(combined, sort=True)
        features = [
            f"{measure.cat.categories[int(c) // n_groups]}|{group.cat.categories[int(c) % n_groups]}"
            for c in uniques
        ]
    else:
        feature_codes, found = pd.factorize(measure.cat.codes.to_numpy(), sort=True)
        features = [str(measure.cat.categories[int(c)]) for c in found]
    values = np.full((len(regions), len(features)), np.nan)
    values[region_codes, feature_codes] = frame["value"].to_numpy(dtype=float)
    return pd.DataFrame(
        values, index=pd.Index(regions, name="region_code"), columns=[f"{prefix}{f}" for f in features]
    )


def _latest_wide(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Pivot the latest value per region and measure (population group 'totaal' only).

    Also returns per region the periods those latest values come from (a tuple, ordered by year).
    """
    frame = frame[frame["population_group"] == "totaal"]
    years = frame["period"].cat.codes.map(
        dict(enumerate(_year(str(p)) for p in frame["period"].cat.categories))
    )
    latest = frame.iloc[np.argsort(years.to_numpy(), kind="stable")]
    wide = _wide(latest, "kwb:")
    periods = _periods_of_latest(latest)
    for share, (num, den) in SHARES.items():
        n, d = f"kwb:{num}", f"kwb:{den}"
        if n in wide.columns and d in wide.columns:
            wide[f"kwb:{share}"] = wide[n] / wide[d].where(wide[d] > 0)
    return wide, periods


def _periods_of_latest(latest: pd.DataFrame) -> pd.Series:
    """Per region, the periods of the rows :func:`_wide` keeps (the last per region and measure)."""
    if latest.empty:
        return pd.Series(dtype=object)
    region = latest["region_code"].astype("category")
    measure = latest["measure_id"].astype("category")
    period = latest["period"].astype("category")
    codes = region.cat.codes.to_numpy(dtype=np.int64)
    key = codes * len(measure.cat.categories) + measure.cat.codes.to_numpy(dtype=np.int64)
    _, first_from_end = np.unique(key[::-1], return_index=True)
    kept = len(key) - 1 - first_from_end  # the last row of every region and measure
    # One bit per period: a region's set of periods is the OR of its rows' bits.
    masks = np.zeros(len(region.cat.categories), dtype=np.int64)
    np.bitwise_or.at(masks, codes[kept], np.left_shift(1, period.cat.codes.to_numpy(dtype=np.int64)[kept]))
    names = [str(p) for p in period.cat.categories]
    ordered = sorted(range(len(names)), key=lambda i: (_year(names[i]), names[i]))
    spelled = {int(m): tuple(names[i] for i in ordered if int(m) >> i & 1) for m in np.unique(masks)}
    found = masks > 0
    return pd.Series(
        [spelled[int(m)] for m in masks[found]],
        index=pd.Index([str(c) for c in region.cat.categories[found]], name="region_code"),
        dtype=object,
    )


def _context(
    own_level: pd.DataFrame, parents: pd.Series, prefix: str, labels: dict[str, str]
) -> pd.DataFrame:
    where = {"gm": "gemeente", "wk": "wijk"}[prefix]
    context = own_level.reindex(parents.to_numpy())
    context.index = parents.index
    context.columns = [f"{prefix}:{c}" for c in own_level.columns]
    for column in own_level.columns:
        labels[f"{prefix}:{column}"] = f"{where}: {labels.get(column, column)}"
    return context


def _neighbours(values: pd.Series, parent: pd.Series) -> pd.DataFrame:
    """Mean of the other regions with the same parent (leave-one-out), and how many there are."""
    frame = pd.DataFrame({"v": values, "p": parent})
    total = frame.groupby("p")["v"].transform("sum")
    count = frame.groupby("p")["v"].transform("count")
    own = frame["v"].notna().astype(float)
    others = count - own
    mean = (total - frame["v"].fillna(0.0)) / others.where(others > 0)
    return pd.DataFrame({"nb:prev_target": mean, "nb:count": others})

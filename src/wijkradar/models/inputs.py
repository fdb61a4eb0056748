"""What a model reads and how its target is checked: the inputs on the target's indeling, the learners."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from wijkradar import indeling
from wijkradar.errors import NotFoundError, WijkradarError
from wijkradar.models.features import FeatureSet, Target, build_features
from wijkradar.models.learners import GradientBoosting, Learner, RidgeGLM
from wijkradar.models.residents import RESIDENTS, residents
from wijkradar.regions import parse_level
from wijkradar.sources.monitor import is_monitor_table
from wijkradar.warehouse import Warehouse


@dataclass
class Inputs:
    """What feature building reads from the warehouse."""

    observations: pd.DataFrame
    target_rows: pd.DataFrame
    measures: pd.DataFrame
    indeling: dict[str, Any] = field(default_factory=dict)


def resolve_target(wh: Warehouse, measure_id: str, group: str, level: str, period: str | None) -> Target:
    """Check a measure/group/level/period against the warehouse; default to the latest period."""
    measures = wh.observations.measures()
    if measure_id not in set(measures["measure_id"]):
        raise NotFoundError("maat", measure_id, measures["measure_id"].tolist())
    periods = wh.observations.periods(measure_id, group)
    if not periods:
        groups = sorted(set(wh.observations.table(measure_id=measure_id)["population_group"]))
        if group in groups:
            raise WijkradarError(
                f"{measure_id} heeft voor groep {group} geen gepubliceerde waarden (alle cellen leeg of "
                "geheim), dus er valt niets te schatten of te toetsen. Oplossing: kies een andere groep "
                "of maat; 'wijkradar show NL01' laat zien welke cijfers er zijn."
            )
        raise NotFoundError(f"groep voor {measure_id}", group, groups)
    chosen = period or periods[-1]
    if chosen not in periods:
        raise NotFoundError(f"periode voor {measure_id} {group}", chosen, periods)
    return Target(measure_id, group, parse_level(level), chosen)


def load_inputs(wh: Warehouse, target: Target, *, scoring: bool = False) -> Inputs:
    """Read the observations a model of ``target`` may use, all on the target's indeling.

    Figures of other boundary years are moved onto it (or left out) by :mod:`wijkradar.indeling`,
    so a code that meant another area in another year never feeds the model. ``scoring`` reads
    only what scoring the target's period needs (see ``wh.observations.published_before``); training
    reads everything, as its validation also builds the features of the rounds before.
    """
    target_rows = wh.observations.table(measure_id=target.measure_id)
    year = target_indeling(target_rows, target)
    measures = wh.observations.measures()
    # The Monitor Sociaal Domein counts support given, not structure, and is staged for part of
    # the gemeenten only: no model reads it (nor moves its million rows onto the indeling).
    not_inputs = [str(t) for t in measures["table_id"].unique() if is_monitor_table(t)]
    if scoring:
        table = measures.loc[measures["measure_id"] == target.measure_id, "table_id"].iloc[0]
        observations = wh.observations.published_before(
            str(table), target.measure_id, int(target.period[:4]), without_tables=not_inputs
        )
    else:
        observations = wh.observations.published(without_tables=not_inputs)
    moved = indeling.onto(wh, observations, year)
    return Inputs(
        observations=moved.frame,
        target_rows=target_rows[target_rows["boundary_year"] == year],
        measures=measures,
        indeling=moved.summary(),
    )


def target_indeling(target_rows: pd.DataFrame, target: Target) -> int:
    """Return the boundary year of the target's survey round (the most common one among its rows)."""
    rows = target_rows[target_rows["period"].astype(str) == target.period]
    years = (rows if len(rows) else target_rows)["boundary_year"].astype(int)
    return int(years.mode().iloc[0])


def features_for(inputs: Inputs, target: Target, *, include_previous: bool = True) -> FeatureSet:
    """Build the feature set of ``target`` from loaded inputs."""
    return build_features(
        inputs.observations, inputs.target_rows, inputs.measures, target, include_previous=include_previous
    )


def too_few(wh: Warehouse, target: Target, codes: list[str], limit: int) -> set[str]:
    """Return the regions whose group has fewer than ``limit`` residents (unknown counts are kept).

    For pages, on the warehouse's indeling; a model counts on its own (see :func:`group_residents`).
    """
    counts, _ = residents(wh, target.population_group, codes, int(target.period[:4]))
    counts = pd.to_numeric(counts, errors="coerce")
    small = counts[counts < limit]
    return {str(c) for c in small.index}


def shown_areas(fs: FeatureSet, limit: int) -> np.ndarray:
    """Mask of the regions that get an estimate: at least ``limit`` residents of the group, or unknown.

    Counted from the feature set, so on the model's own indeling and from the same Kerncijfers
    period as the pages count (the latest up to the year after the target year).
    """
    return np.asarray(~(group_residents(fs).to_numpy(dtype=float) < limit), dtype=bool)


def without_small_areas(fs: FeatureSet, estimates: pd.DataFrame, limit: int) -> tuple[pd.DataFrame, int]:
    """Leave out the estimates of regions with too few residents of the group; say how many."""
    few = set(fs.X.index[~shown_areas(fs, limit)])
    return estimates[~estimates["region_code"].isin(few)].reset_index(drop=True), len(few)


def group_residents(fs: FeatureSet) -> pd.Series:
    """Residents of the target's group per region, from the region's Kerncijfers features (NaN: unknown).

    Counted as :mod:`wijkradar.models.residents` counts them, from the same period.
    """
    spec = RESIDENTS.get(fs.target.population_group, ("a_inw", ""))[0]

    def column(name: str) -> pd.Series:
        found = fs.X.get(f"kwb:{name}")
        return found.astype(float) if found is not None else pd.Series(np.nan, index=fs.X.index)

    if "-" in spec:
        total, minus = spec.split("-")
        return column(total) - column(minus)
    counts = column(spec)
    if spec == "a_65_oo":  # gemeente tables give a share instead of a count
        counts = counts.combine_first((column("p_65_eo_jr") / 100 * column("a_inw")).round())
    return counts


def prev_bins(fs: FeatureSet) -> np.ndarray:
    """Return per region 1 when the earlier round has its value, else 0: intervals are set per bin."""
    prev = f"prev:{fs.target.measure_id}|{fs.target.population_group}"
    if prev not in fs.X.columns:
        return np.zeros(len(fs.X), dtype=int)
    return fs.X[prev].notna().to_numpy().astype(int)


def make_learner(kind: str, n: int, seed: int) -> Learner:
    """Return a fresh learner of a family (``lightgbm`` or ``glm``) for ``n`` training rows."""
    return GradientBoosting(n_rows=n, seed=seed) if kind == GradientBoosting.name else RidgeGLM()


def weights_for(kind: str, fs: FeatureSet, rows: np.ndarray) -> np.ndarray | None:
    """Weigh the regions ``rows`` picks in the fit by their residents of the group; None: all equal.

    Counted from the region's Kerncijfers features as :mod:`wijkradar.models.residents` counts
    them; a region without a count weighs as the median one, and weights are clipped to [10, the
    99th percentile], so a handful of very large areas cannot decide the fit alone. The ridge GLM
    stays unweighted: grouped CV of Eenzaam_28 65+ showed weights cost it R² (wijk 0.741 -> 0.683)
    while gradient boosting held level (0.814 -> 0.815; gemeente 0.763 -> 0.768).
    """
    if kind != GradientBoosting.name:
        return None
    counts = group_residents(fs)
    values = counts.to_numpy(dtype=float)
    known = values[np.isfinite(values) & (values > 0)]
    if not len(known):
        return None
    values = np.where(np.isfinite(values) & (values > 0), values, np.median(known))
    clipped = np.clip(values, 10, max(10.0, float(np.quantile(known, 0.99))))
    return np.asarray(clipped[rows], dtype=float)

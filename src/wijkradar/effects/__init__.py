"""Wat werkt, measured: the effect of an intervention against comparable areas without it.

**The estimator.** Difference in differences against matched comparison areas: for every area of
the intervention, the change of the outcome from before the start (the mean of the periods before
the start year) to after it (the mean of the periods after the start year; the start year itself
is a transition and left out) minus the mean change of its five nearest areas without the
intervention, matched on the outcome in every period before the start (level and trend). The
effect is the mean over the intervention's areas; the counterfactual ("zonder de aanpak
verwacht") is what the areas measured after the start minus that effect.

**The interval** is not a formula's but the placebos': the same estimator run on many random sets
of areas without the intervention (as many areas, from gemeenten of the same stedelijkheid, the
same periods) gives what the estimate looks like when nothing happened. Areas close together move
together, so a placebo set is drawn as whole neighbourhoods: all buurten of a random wijk (all
wijken of a random gemeente) in turn, until it has as many areas as the intervention. The 90%
interval is the estimate minus the 5th and 95th percentile of those placebo estimates; its
coverage is measured on a second, independent set of placebos and reported with every effect
(``placebo_coverage90``). The minimal detectable effect is what a 90% test sees four times out of
five: (1,645 + 0,842) placebo standard deviations.

**Why this estimator and not a library's.** Compared on PyPI: ``pyfixest`` (two-way fixed effects
and did2s, analytic or clustered standard errors), ``differences`` (staggered ATT(g,t)),
``pysyncon`` (synthetic control). The survey has three rounds per area (2012, 2016, 2020), so a
synthetic control has one or two periods to fit its weights on, too few to trust; clustered
standard errors assume many independent clusters, while the intervention's areas lie together in
one gemeente. The placebo distribution needs the estimate a thousand times per interval, under
two seconds: a regression library per placebo is too slow for that, so the difference of mean
changes (which is what the two-way fixed-effects regression computes on this balanced panel) is
computed directly. ``tests/test_effects.py`` checks it against ``pyfixest``'s TWFE coefficient.
Matching narrows the placebo spread, and so the detectable effect, by 4-14% against comparing
with every other area (``benchmarks/effects.py``, on the staged data).

Survey figures per buurt are themselves model estimates (RIVM's small-area estimates), which
pull a buurt towards what its characteristics predict and so shrink a local effect; every effect
on a survey outcome says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import numpy as np
import pandas as pd

from wijkradar.cache import remember
from wijkradar.effects.words import NOT_MEASURED_NL, effect_nl, short_nl, too_little
from wijkradar.effects.words import TOO_LITTLE_NL as TOO_LITTLE_NL
from wijkradar.indeling import every_value_on
from wijkradar.models.residents import latest, residents
from wijkradar.regions import gemeente_of, level_of, wijk_of
from wijkradar.warehouse import Warehouse

MATCHES: Final = 5  # comparison areas per area of the intervention
PLACEBOS: Final = 2000  # per interval; as many again to measure the interval's coverage
Z_DETECT: Final = 1.645 + 0.842  # a two-sided 90% test, four times out of five
EFFECT_LEVELS: Final = ("buurt", "wijk")
MIN_POOL: Final = 30  # comparison areas at least, else no effect is estimated
METHOD: Final = "verschil-in-verschillen tegen 5 gematchte vergelijkingsgebieden per gebied"
SHRUNK_NL: Final = (
    "Peilingcijfers per buurt en wijk zijn zelf modelschattingen (RIVM), die een buurt naar het "
    "landelijke verband trekken: een lokaal effect wordt daardoor kleiner gemeten dan het is."
)


@dataclass(frozen=True)
class Outcome:
    """What an effect is measured on: a measure and group, its unit, and which way is better."""

    measure_id: str
    population_group: str
    label: str
    unit: str = "%"
    source: str = "survey"  # survey (RIVM, modelled) or register (counted)
    higher_is_worse: bool = True


def panel(wh: Warehouse, outcome: Outcome, level: str) -> pd.DataFrame:
    """Return the outcome per area of ``level`` (rows) and year (columns) on the current indeling.

    Only published year figures: a half-year is never mixed with a year. Values published on
    another indeling come through the crosswalks (see :func:`wijkradar.indeling.values_on`).
    """
    indeling = wh.regions.indeling()
    found: pd.DataFrame = remember(
        wh,
        ("effect-panel", outcome.measure_id, outcome.population_group, level, indeling),
        lambda: _panel(wh, outcome, level, indeling),
        sources_only=True,
    )
    return found


def _panel(wh: Warehouse, outcome: Outcome, level: str, indeling: int) -> pd.DataFrame:
    values = every_value_on(wh, outcome.measure_id, outcome.population_group, indeling)
    values = values[(values["status"] == "published") & values["period"].str.fullmatch(r"\d{4}")]
    values = values[[level_of(c) == level for c in values["region_code"]]]
    table = values.pivot_table(index="region_code", columns="period", values="value", aggfunc="first")
    return table.sort_index(axis=1)


def periods_around(columns: list[str], start: date) -> tuple[list[str], list[str]]:
    """Split the years into before the start year and after it (the start year is left out).

    >>> periods_around(["2012", "2016", "2020"], date(2017, 3, 1))
    (['2012', '2016'], ['2020'])
    >>> periods_around(["2016", "2017", "2018", "2019"], date(2017, 1, 1))
    (['2016'], ['2018', '2019'])
    """
    return [p for p in columns if int(p) < start.year], [p for p in columns if int(p) > start.year]


def stedelijkheid(wh: Warehouse) -> pd.Series:
    """Return the stedelijkheid class (1 = zeer sterk ... 5 = niet stedelijk) per gemeente code."""
    codes = wh.regions.table(level="gemeente")["code"].tolist()
    return latest(wh, "ste_mvs", "totaal", codes, wh.regions.indeling()).dropna().round()


@dataclass
class Setup:
    """Everything an estimate needs: the changes, the matching space and the pool of comparisons."""

    codes: np.ndarray  # area codes of the pool (areas without the intervention, complete figures)
    change: np.ndarray  # mean after minus mean before, per pool area
    before: np.ndarray  # standardised outcome per period before the start (matching space)
    clusters: np.ndarray  # the neighbourhood each pool area lies in (wijk of a buurt, gemeente of a wijk)
    scale: tuple[np.ndarray, np.ndarray]  # centre and spread that standardised ``before``


def setup(
    table: pd.DataFrame, pre: list[str], post: list[str], exclude: set[str], gemeenten: set[str] | None
) -> Setup:
    """Build the pool: areas outside ``exclude``, in ``gemeenten`` (when given), with every figure."""
    complete = table[pre + post].dropna()
    codes = complete.index.to_numpy()
    keep = np.array([c not in exclude for c in codes], dtype=bool)  # bool also when empty
    if gemeenten is not None:
        keep &= np.array([gemeente_of(c) in gemeenten for c in codes], dtype=bool)
    complete = complete[keep]
    before_raw = complete[pre].to_numpy(dtype=float)
    if len(before_raw):
        centre, spread = before_raw.mean(axis=0), before_raw.std(axis=0)
    else:  # no area has every figure: an empty pool, and the caller's plain words
        centre, spread = np.zeros(len(pre)), np.ones(len(pre))
    spread = np.where(spread > 0, spread, 1.0)
    after = complete[post].to_numpy(dtype=float).mean(axis=1)
    level = level_of(str(complete.index[0])) if len(complete) else "buurt"
    cluster_of = wijk_of if level == "buurt" else gemeente_of
    return Setup(
        codes=complete.index.to_numpy(),
        change=after - before_raw.mean(axis=1),
        before=(before_raw - centre) / spread,
        clusters=np.array([cluster_of(str(c)) or str(c) for c in complete.index]),
        scale=(centre, spread),
    )


def _matched_effect(
    own_change: np.ndarray, near: np.ndarray, change: np.ndarray, taken: Sequence[int] = ()
) -> float:
    """Return the mean over areas of (own change - mean change of its first MATCHES comparisons).

    ``near`` holds each area's nearest pool areas, nearest first; those in ``taken`` (the set
    itself, for a placebo) are never a comparison.
    """
    free = ~np.isin(near, np.asarray(taken, dtype=int))
    used = free & (np.cumsum(free, axis=1) <= MATCHES)
    compared = (change[near] * used).sum(axis=1) / used.sum(axis=1)
    return float(np.mean(own_change - compared))


def draw_sets(pool: Setup, size: int, n: int, seed: int) -> list[list[int]]:
    """Draw ``n`` sets of ``size`` pool areas as whole neighbourhoods.

    A random wijk's buurten in turn (a random gemeente's wijken), so that a set lies together as
    an intervention's areas do: areas close together move together.
    """
    rng = np.random.default_rng(seed)
    members: dict[str, list[int]] = {}
    for i, cluster in enumerate(pool.clusters):
        members.setdefault(str(cluster), []).append(i)
    names = np.array(sorted(members))
    sets = []
    for _ in range(n):
        chosen: list[int] = []
        for cluster in rng.permutation(names):
            chosen.extend(rng.permutation(members[str(cluster)])[: size - len(chosen)].tolist())
            if len(chosen) >= size:
                break
        sets.append(chosen)
    return sets


def effects_on_sets(pool: Setup, sets: list[list[int]], shift: float = 0.0) -> np.ndarray:
    """Estimate the effect for each set of pool areas, compared with the pool's other areas.

    ``shift`` is added to every set's outcome after the start (an injected effect: what the
    estimator should find), never to the comparison areas.
    """
    size = max((len(s) for s in sets), default=0)
    k = min(len(pool.codes), MATCHES + size + 1)
    neighbours = _nearest(pool.before, pool.before, k)
    return np.array(
        [
            _matched_effect(pool.change[chosen] + shift, neighbours[chosen], pool.change, chosen)
            for chosen in sets
        ]
    )


def placebo_effects(pool: Setup, size: int, n: int, seed: int) -> np.ndarray:
    """Estimate the effect on ``n`` random sets of ``size`` pool areas without an intervention."""
    return effects_on_sets(pool, draw_sets(pool, size, n, seed))


def null_distribution(
    wh: Warehouse,
    outcome: Outcome,
    level: str,
    periods: tuple[list[str], list[str]],
    kind: float | None,
    size: int,
    exclude: frozenset[str],
) -> dict[str, np.ndarray]:
    """Placebo estimates for an intervention of ``size`` areas, remembered per warehouse version.

    Placebos are drawn from areas outside ``exclude`` (the areas of the gemeente's interventions).
    ``calibrate`` sets the interval; ``check`` (another seed) measures how often it covers 0.
    """
    pre, post = periods
    key = (
        "effect-null",
        outcome.measure_id,
        outcome.population_group,
        level,
        tuple(pre),
        tuple(post),
        kind,
        size,
        tuple(sorted(exclude)),
    )

    def make() -> dict[str, np.ndarray]:
        pool = setup(panel(wh, outcome, level), pre, post, set(exclude), _same_kind(wh, kind))
        return {
            "calibrate": placebo_effects(pool, size, PLACEBOS, seed=1),
            "check": placebo_effects(pool, size, PLACEBOS, seed=2),
        }

    found: dict[str, np.ndarray] = remember(wh, key, make, shared=True, sources_only=True)
    return found


def _same_kind(wh: Warehouse, kind: float | None) -> set[str] | None:
    """Return the gemeenten of stedelijkheid ``kind`` (None: every gemeente)."""
    if kind is None:
        return None
    classes = stedelijkheid(wh)
    return set(classes.index[classes == kind])


def bounds(placebos: np.ndarray) -> tuple[float, float]:
    """Return the 5th and 95th percentile of the placebo estimates, with the finite-sample step.

    >>> bounds(np.arange(1, 101, dtype=float))
    (5.0, 96.0)
    """
    ordered = np.sort(placebos)
    n = len(ordered)
    low = max(math.floor(0.05 * (n + 1)) - 1, 0)
    high = min(math.ceil(0.95 * (n + 1)) - 1, n - 1)
    return float(ordered[low]), float(ordered[high])


def coverage(calibrate: np.ndarray, check: np.ndarray) -> float:
    """How often the interval set by ``calibrate`` covers 0 for the independent placebos ``check``."""
    low, high = bounds(calibrate)
    return float(np.mean((check >= low) & (check <= high)))


def estimate(
    wh: Warehouse,
    outcome: Outcome,
    codes: list[str],
    start: date,
    *,
    budget: float | None = None,
    others: set[str] | frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Estimate the effect of an intervention in ``codes`` from ``start`` on ``outcome``.

    ``others``: the areas of the gemeente's other interventions, never a comparison or a placebo.

    Returns a dict with ``observed``, ``expected``, ``effect``, ``lower90``, ``upper90`` (None,
    with ``status`` "too_little_data" when the data cannot tell, or "not_measured" for areas
    that are not all buurten or all wijken), ``method``,
    ``comparison_areas``, ``minimal_detectable_effect``, ``placebo_coverage90`` and the cost per
    resident less affected with its interval (``budget`` in euro).
    """
    levels = {level_of(c) for c in codes}
    level = next(iter(levels)) if len(levels) == 1 else ""
    table = panel(wh, outcome, level) if level in EFFECT_LEVELS else pd.DataFrame()
    pre, post = periods_around([str(c) for c in table.columns], start)
    result: dict[str, Any] = {
        "measure": outcome.measure_id,
        "group": outcome.population_group,
        "label": outcome.label,
        "unit": outcome.unit,
        "level": level,
        "indeling": wh.regions.indeling(),
        "areas": len(codes),
        "before": pre,
        "after": post,
        "method": METHOD,
        "placebos": PLACEBOS,
        "caveat": SHRUNK_NL if outcome.source == "survey" else "",
        **dict.fromkeys(EFFECT_KEYS),
    }
    if level not in EFFECT_LEVELS:
        return {**result, "status": "not_measured", "short": "niet gemeten", "text": NOT_MEASURED_NL}
    own = table.reindex(codes)[pre + post].dropna() if pre and post else pd.DataFrame()
    kind = _kind_of(wh, codes)
    exclude = frozenset(codes) | frozenset(others)
    pool = setup(table, pre, post, set(exclude), _same_kind(wh, kind)) if len(own) else None
    if pool is not None and len(pool.codes) < MIN_POOL * 2:
        kind = None  # too few gemeenten of the same kind: compare with every gemeente
        pool = setup(table, pre, post, set(exclude), None)
    if pool is None or len(pool.codes) < MIN_POOL:
        words = too_little(pre, post, start, len(own))
        return {**result, "status": "too_little_data", "text": words, "short": "te weinig gegevens"}
    effect, observed, compared = effect_of(pool, own, pre, post)
    null = null_distribution(wh, outcome, level, (pre, post), kind, len(own), exclude)
    low, high = bounds(null["calibrate"])
    detectable = Z_DETECT * float(np.std(null["calibrate"]))
    result |= {
        "status": "estimated",
        "areas": len(own),
        "observed": round(observed, 2),
        "expected": round(observed - effect, 2),
        "effect": round(effect, 2),
        "lower90": round(effect - high, 2),
        "upper90": round(effect - low, 2),
        "comparison_areas": compared,
        "pool": len(pool.codes),
        "same_kind": kind is not None,
        "minimal_detectable_effect": round(detectable, 2),
        "placebo_coverage90": round(coverage(null["calibrate"], null["check"]), 3),
    }
    result |= cost_per_resident(wh, outcome, list(own.index), result, budget)
    result["text"] = effect_nl(result)
    result["short"] = short_nl(result)
    return result


def effect_of(pool: Setup, own: pd.DataFrame, pre: list[str], post: list[str]) -> tuple[float, float, int]:
    """Return the effect on the areas ``own``, their mean after the start and the comparisons used.

    ``own`` has a row per area and a column per period; its comparisons come from ``pool``.
    """
    neighbours = comparisons(pool, own, pre)
    after = own[post].to_numpy(dtype=float).mean(axis=1)
    change = after - own[pre].to_numpy(dtype=float).mean(axis=1)
    effect = _matched_effect(change, neighbours, pool.change)
    return effect, float(after.mean()), len(set(neighbours.ravel().tolist()))


def comparisons(pool: Setup, own: pd.DataFrame, pre: list[str]) -> np.ndarray:
    """Return, per area of ``own``, the pool positions of its MATCHES nearest areas before the start."""
    centre, spread = pool.scale
    before = (own[pre].to_numpy(dtype=float) - centre) / spread
    k = min(len(pool.codes), MATCHES)
    return _nearest(pool.before, before, k)


def _nearest(pool: np.ndarray, areas: np.ndarray, k: int) -> np.ndarray:
    """Return, per row of ``areas``, the positions of its ``k`` nearest rows of ``pool``.

    scikit-learn is imported here, not with the module: every ``wijkradar`` command imports this
    module through the pages, and loading scikit-learn took half of a command's 3 s start.
    """
    from sklearn.neighbors import NearestNeighbors

    found: np.ndarray = NearestNeighbors(n_neighbors=k).fit(pool).kneighbors(areas)[1]
    return found


EFFECT_KEYS: Final = (
    "observed",
    "expected",
    "effect",
    "lower90",
    "upper90",
    "comparison_areas",
    "minimal_detectable_effect",
    "placebo_coverage90",
    "cost_per_resident",
    "cost_lower90",
    "cost_upper90",
)


def _kind_of(wh: Warehouse, codes: list[str]) -> float | None:
    gemeente = gemeente_of(codes[0]) or ""
    classes = stedelijkheid(wh)
    return float(classes[gemeente]) if gemeente in classes.index else None


def cost_per_resident(
    wh: Warehouse, outcome: Outcome, codes: list[str], effect: dict[str, Any], budget: float | None
) -> dict[str, Any]:
    """Return the budget per resident less affected in ``codes`` (see :func:`costs`)."""
    counts, _ = residents(wh, outcome.population_group, codes, wh.regions.indeling())
    people = float(counts.sum()) if counts.notna().any() else None
    found: dict[str, Any] = {"residents": people, "budget": budget}
    if budget is None:
        return found | {"cost_note": "geen budget opgegeven"}
    if not people:
        return found | {"cost_note": "inwonertal onbekend"}
    per = 1000.0 if "1 000" in outcome.unit else 100.0
    return found | costs(effect, budget, people, per, -1.0 if outcome.higher_is_worse else 1.0)


def costs(effect: dict[str, Any], budget: float, people: float, per: float, sign: float) -> dict[str, Any]:
    """Return the budget per resident less affected, with the effect's interval carried through.

    ``people``: residents of the group in the areas; ``per``: the unit's base (100 for a
    percentage, 1 000 for a rate per 1 000); ``sign``: -1 when a lower outcome is better. Only
    where the interval lies wholly on the better side of 0: otherwise perhaps no one was helped,
    and the cost per resident is "niet te bepalen".
    """
    better = sorted(sign * effect[k] for k in ("lower90", "upper90"))
    if better[0] <= 0 or sign * effect["effect"] <= 0:
        return {
            **dict.fromkeys(("residents_helped", "cost_per_resident", "cost_lower90", "cost_upper90")),
            "cost_note": "niet te bepalen: het interval van het effect bevat 0 of wijst de verkeerde kant op",
        }
    helped = sign * effect["effect"] / per * people
    fewest, most = (b / per * people for b in better)
    return {
        "residents_helped": round(helped),
        "cost_per_resident": round(budget / helped),
        "cost_lower90": round(budget / most),
        "cost_upper90": round(budget / fewest),
        "cost_note": "",
    }

"""Crosswalks between indelingen: stored ones, identities with their evidence, and by area.

See :mod:`wijkradar.indeling` for the rules.
"""

from __future__ import annotations

import hashlib
from typing import Final

import numpy as np
import pandas as pd

from wijkradar.cache import remember
from wijkradar.errors import WijkradarError
from wijkradar.ingest import FileReport, store
from wijkradar.regions import gemeente_mergers, level_prefix, name_key
from wijkradar.sources.model import SourceMeta, regions_frame, without_figures
from wijkradar.warehouse import Warehouse

IDENTITY_ASSUMED: Final = "identity_assumed"
IDENTITY_GEOMETRY: Final = "identity_geometry"
NATIVE: Final = "native"
# Boundaries of one area in two years differ by less than this share of its area: the same area.
GEOMETRY_TOLERANCE: Final = 0.01
# An overlap smaller than this share of the source area is a digitising sliver, not a move.
SLIVER: Final = 0.005
EQUAL_AREA_CRS: Final = "EPSG:28992"  # RD New: metres, for areas within the Netherlands
COUNT_UNITS: Final = frozenset({"aantal"})


# Bump when the rules of _build_crosswalk change: crosswalks kept in a warehouse are derived again.
RULES: Final = 3


def crosswalk(wh: Warehouse, from_year: int, to_year: int, level: str | None = None) -> pd.DataFrame:
    """Return the crosswalk between two indelingen (remembered until the warehouse's sources change).

    Deriving one takes a third of a second on the national data (names of both years, boundaries);
    ingest keeps them in the warehouse (see :func:`derive_crosswalks`), so a new process, a web
    worker or a scoring run, reads it instead. Reading one never writes.
    """
    return remember(
        wh,
        ("crosswalk", from_year, to_year, level),
        lambda: _kept_or_built(wh, from_year, to_year, level),
        sources_only=True,
    )


def derive_crosswalks(wh: Warehouse, years: list[int] | None = None) -> int:
    """Derive and keep the crosswalks between every two indelingen with figures; return how many.

    ``years`` names the indelingen instead (default: those the figures are on).

    Ingest calls this once its files are stored: figures are moved between exactly these years.
    The only function that writes derived crosswalks; those of an older state of the sources go.
    """
    years = sorted(y for y in (years or wh.regions.observation_years()) if y > 0)
    pairs = [(a, b) for a in years for b in years if a != b]
    stamp = _stamp(wh)
    missing = [(a, b) for a, b in pairs if wh.crosswalks.derived(stamp, a, b, None) is None]
    wh.crosswalks.keep_derived(stamp, {(a, b, None): crosswalk(wh, a, b) for a, b in missing})
    return len(pairs)


def _stamp(wh: Warehouse) -> str:
    return f"{wh.sources_stamp()}|rules {RULES}"


def _kept_or_built(wh: Warehouse, from_year: int, to_year: int, level: str | None) -> pd.DataFrame:
    kept = wh.crosswalks.derived(_stamp(wh), from_year, to_year, level)
    return kept if kept is not None else _build_crosswalk(wh, from_year, to_year, level)


def _build_crosswalk(wh: Warehouse, from_year: int, to_year: int, level: str | None) -> pd.DataFrame:
    """Return the crosswalk between two indelingen: stored rows plus identities with their evidence.

    Returns ``from_code, to_code, weight, method`` (weights sum to 1 per source code). Codes of
    ``from_year`` that cannot be placed in ``to_year`` are absent.
    """
    columns = ["from_code", "to_code", "weight", "method"]
    if from_year == to_year:
        codes = _codes(wh, from_year, level)
        return pd.DataFrame({"from_code": codes, "to_code": codes, "weight": 1.0, "method": NATIVE})
    rows = wh.crosswalks.rows(level)
    rows = rows[(rows["from_year"] == from_year) & (rows["to_year"] == to_year)]
    # Two stored crosswalks for the same years (VNG's and one built from boundaries): per source
    # area the newest one counts, so its weights still sum to 1.
    newest = rows.groupby("from_code")["source_id"].transform("max")
    stored = rows[rows["source_id"] == newest][columns]
    if level in (None, "gemeente") and from_year < to_year:
        merged = [
            (m.from_code, m.to_code, 1.0, "merger")
            for m in gemeente_mergers()
            if from_year < m.year <= to_year and m.from_code not in set(stored["from_code"])
        ]
        stored = pd.concat([stored, pd.DataFrame(merged, columns=columns)], ignore_index=True)
    both = sorted(set(_codes(wh, from_year, level)) & set(_codes(wh, to_year, level)))
    changed = _changed(wh, from_year, to_year)
    touched = set(stored["from_code"]) | set(stored["to_code"])
    candidates = [c for c in both if c not in touched and c not in changed]
    same_shape, other_shape = _geometry_evidence(wh, candidates, from_year, to_year, level)
    identity = pd.DataFrame({"from_code": [c for c in candidates if c not in other_shape]})
    identity["to_code"] = identity["from_code"]
    identity["weight"] = 1.0
    identity["method"] = np.where(identity["from_code"].isin(same_shape), IDENTITY_GEOMETRY, IDENTITY_ASSUMED)
    return pd.concat([stored, identity[columns]], ignore_index=True)


def _codes(wh: Warehouse, year: int, level: str | None) -> tuple[str, ...]:
    """Codes of one indeling and level (remembered: every pair of indelingen asks for them)."""
    prefix = level_prefix(level)
    codes = lambda: tuple(c for c in wh.regions.codes_in_year(year) if c.startswith(prefix))  # noqa: E731
    found: tuple[str, ...] = remember(wh, ("codes", year, prefix), codes, sources_only=True)
    return found


def _changed(wh: Warehouse, from_year: int, to_year: int) -> frozenset[str]:
    """Codes with evidence of change between the two years.

    Evidence: a crosswalk row that splits, merges or moves the code; another name for it in a year
    in between; or, at the two ends, different names (each end's own, or the nearest same-area
    name it is shown with: "De Werven" on 2020 is not "Centrum Haven Zuid" of 2024).
    """
    low, high = sorted((from_year, to_year))
    found: frozenset[str] = remember(  # the same for both directions
        wh, ("changed", low, high), lambda: _changed_between(wh, low, high), sources_only=True
    )
    return found


def _changed_between(wh: Warehouse, low: int, high: int) -> frozenset[str]:
    out = {
        code
        for code, spans in wh.regions.name_breaks().items()
        if any(a < high and b > low for a, b in spans)
    }
    names = wh.regions.names_in_years(low, high)
    names = names[names["boundary_year"] > 0]
    ends = [
        wh.regions.table(year=year)[["code", "name"]].dropna().assign(boundary_year=year)
        for year in (low, high)
    ]
    every = pd.concat([names, *ends], ignore_index=True)
    codes, code_names = pd.factorize(every["code"])
    names_at, distinct = pd.factorize(every["name"])  # the same names recur: each is keyed once
    keys, _ = pd.factorize(np.asarray([name_key(str(n)) for n in distinct.tolist()], dtype=object))
    pairs = np.unique(codes.astype(np.int64) * (len(distinct) + 1) + keys[names_at])
    per_code = np.bincount(pairs // (len(distinct) + 1), minlength=len(code_names))
    out |= {str(code) for code in np.asarray(code_names.tolist(), dtype=object)[per_code > 1]}
    return frozenset(out)


def _geometry_evidence(
    wh: Warehouse, codes: list[str], from_year: int, to_year: int, level: str | None
) -> tuple[set[str], set[str]]:
    """Codes whose boundaries of both years are stored and agree, and those where they differ."""
    prefix = level_prefix(level)
    a = wh.boundaries.of_year(from_year, prefix).set_index("region_code")["wkb"]
    b = wh.boundaries.of_year(to_year, prefix).set_index("region_code")["wkb"]
    common = sorted(set(codes) & set(a.index) & set(b.index))
    if not common:
        return set(), set()
    import shapely

    ga = _equal_area(shapely.from_wkb(a.loc[common].to_numpy()))
    gb = _equal_area(shapely.from_wkb(b.loc[common].to_numpy()))
    differ = shapely.area(shapely.symmetric_difference(ga, gb)) / np.maximum(shapely.area(ga), 1e-9)
    same = {c for c, d in zip(common, differ, strict=True) if d <= GEOMETRY_TOLERANCE}
    return same, set(common) - same


def _equal_area(geoms: np.ndarray) -> np.ndarray:
    import shapely
    from pyproj import Transformer

    transformer = Transformer.from_crs("EPSG:4326", EQUAL_AREA_CRS, always_xy=True)
    return np.asarray(
        shapely.transform(geoms, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))
    )


def overlap_crosswalk(
    from_codes: list[str], from_wkb: list[bytes], to_codes: list[str], to_wkb: list[bytes]
) -> pd.DataFrame:
    """Make a crosswalk by area from two vintages of WGS84 boundaries (WKB).

    Each source area is divided over the target areas it overlaps, in proportion to the shared
    area (measured in RD New); slivers under 0.5% of the source are dropped as digitising noise,
    and the rest is scaled to sum to 1. A source that overlaps nothing is absent.

    Examples
    --------
    >>> import shapely
    >>> square = lambda x0, x1: shapely.to_wkb(shapely.box(x0, 52.0, x1, 52.01))
    >>> cw = overlap_crosswalk(["BU00010001"], [square(5.0, 5.02)],
    ...                        ["BU00010011", "BU00010012"], [square(5.0, 5.01), square(5.01, 5.02)])
    >>> [round(w, 2) for w in cw["weight"]]
    [0.5, 0.5]
    """
    import shapely

    src = _equal_area(shapely.from_wkb(np.asarray(from_wkb, dtype=object)))
    dst = _equal_area(shapely.from_wkb(np.asarray(to_wkb, dtype=object)))
    tree = shapely.STRtree(dst)
    pairs = tree.query(src, predicate="intersects")
    i, j = pairs[0], pairs[1]
    shared = shapely.area(shapely.intersection(src[i], dst[j]))
    share = shared / np.maximum(shapely.area(src[i]), 1e-9)
    frame = pd.DataFrame(
        {
            "from_code": np.asarray(from_codes, dtype=object)[i],
            "to_code": np.asarray(to_codes, dtype=object)[j],
            "weight": share,
        }
    )
    frame = frame[frame["weight"] >= SLIVER]
    frame["weight"] = frame["weight"] / frame.groupby("from_code")["weight"].transform("sum")
    frame["method"] = "area"
    return frame.sort_values(["from_code", "to_code"]).reset_index(drop=True)


def store_overlap_crosswalk(wh: Warehouse, from_year: int, to_year: int, level: str) -> FileReport:
    """Build the area crosswalk between two ingested vintages of boundaries and store it as data.

    It is stored like any other source (publisher wijkradar, method ``area``), replaces an earlier
    one of the same years and level, and from then on counts as evidence: a code whose area moved
    is no longer taken as unchanged.
    """
    prefix = level_prefix(level)
    old = wh.boundaries.of_year(from_year, prefix)
    new = wh.boundaries.of_year(to_year, prefix)
    if old.empty or new.empty:
        missing = from_year if old.empty else to_year
        raise WijkradarError(
            f"Er zijn geen {level}grenzen van {missing} ingelezen. Oplossing: lees ze in met "
            f"'wijkradar download-kaart --jaar {missing} --niveau {level}' of 'wijkradar ingest BESTAND'."
        )
    walk = overlap_crosswalk(
        old["region_code"].tolist(),
        [bytes(b) for b in old["wkb"]],
        new["region_code"].tolist(),
        [bytes(b) for b in new["wkb"]],
    ).assign(from_year=from_year, to_year=to_year)
    digest = hashlib.sha256()
    for frame in (old, new):
        for code, wkb in zip(frame["region_code"], frame["wkb"], strict=True):
            digest.update(code.encode())
            digest.update(bytes(wkb))
    meta = SourceMeta(
        publisher="wijkradar",
        table_id=f"crosswalk:overlap:{level}:{from_year}-{to_year}",
        title=f"Omzettabel {level}en {from_year}-{to_year} op oppervlakte (uit de ingelezen grenzen)",
        location=f"grenzen {from_year} en {to_year} in het datapakhuis",
        format="overlap",
        boundary_year=to_year,
        licence="afgeleid van de grenzen (CBS/Kadaster, CC BY 4.0)",
        note="gewichten = aandeel van de oppervlakte van het brongebied; snippers onder 0,5% weggelaten",
    )
    dataset = without_figures(meta, regions_frame(pd.Series(dtype=object)), kind="crosswalk", crosswalk=walk)
    known = wh.sources.by_checksum(digest.hexdigest())
    if known is not None:
        return FileReport(path=meta.location, action="unchanged", table_id=meta.table_id, title=meta.title)
    return store(wh, meta.location, digest.hexdigest(), dataset)

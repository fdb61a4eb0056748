"""Looking things up: regions by code or name, a region's figures, the sources.

These are the calls the CLI and the web app share; each takes an open warehouse and returns data.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Final

import pandas as pd

from wijkradar.errors import NotFoundError
from wijkradar.indeling import figures_on
from wijkradar.jsonable import to_jsonable
from wijkradar.regions import (
    Region,
    gemeente_mergers,
    is_level,
    is_valid_code,
    normalise_code,
    parents_of,
    parse_level,
)
from wijkradar.texts import method_nl
from wijkradar.warehouse import Warehouse

_LEVEL_ORDER = {"gemeente": 0, "land": 1, "wijk": 2, "buurt": 3}
# Names people use for a gemeente besides its official one (search keys, see search_key).
ALIASES: Final = {
    "den haag": "s gravenhage",
    "the hague": "s gravenhage",
    "gravenhage": "s gravenhage",
    "den bosch": "s hertogenbosch",
    "hertogenbosch": "s hertogenbosch",
    "bosch": "s hertogenbosch",
}
# Shown beside the official name in lists, so "Den Haag" is found where people look for it.
KNOWN_AS: Final = {"GM0518": "Den Haag", "GM0796": "Den Bosch"}


def search_key(text: str) -> str:
    """Reduce a name to what a search compares: no accents, no case, words only, aliases resolved.

    Examples
    --------
    >>> search_key("Súdwest-Fryslân"), search_key("'s-Gravenhage"), search_key("  den  HAAG ")
    ('sudwest fryslan', 's gravenhage', 's gravenhage')
    """
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    key = " ".join(re.findall(r"[a-z0-9]+", plain))
    return ALIASES.get(key, key)


def sort_key(name: str) -> str:
    """Order names as a Dutch list does: by their first real word ('s-Gravenhage under G).

    Examples
    --------
    >>> sorted(["Zwolle", "'s-Gravenhage", "Ämsterdam"], key=sort_key)
    ['Ämsterdam', "'s-Gravenhage", 'Zwolle']
    """
    key = search_key(name)
    return key[2:] if key.startswith(("s ", "t ")) else key


def resolve_region(wh: Warehouse, text: str, *, level: str | None = None) -> str:
    """Return the CBS code for a code or a name (``Almere`` -> ``GM0034``).

    Names match case-insensitively; where several regions share a name, gemeenten win over wijken
    and buurten, so ``Almere`` is the gemeente, not its buurt "Almere Haven". An unknown name
    raises :class:`NotFoundError` with the closest names as suggestions.
    """
    candidate = normalise_code(text)
    if is_valid_code(candidate):
        if wh.regions.code_years(candidate):
            return candidate
        raise NotFoundError("regiocode", text, wh.regions.table()["code"].tolist(), field="region")
    current = wh.regions.table()
    names = _searchable_names(wh, current)
    wanted = search_key(text)
    hits = names[names["name"].map(search_key) == wanted]
    if level:
        hits = hits[hits["level"] == parse_level(level)]
    if hits.empty:
        successor = _successor(wh, wanted)
        if successor:
            return successor
        pool = names if not level else names[names["level"] == parse_level(level)]
        gemeenten_first = pool.sort_values("level", key=lambda s: s.map(_LEVEL_ORDER))
        raise NotFoundError(
            "gemeente of regio", text, gemeenten_first["name"].drop_duplicates().tolist(), field="region"
        )
    best = hits.sort_values(["current", "level"], key=_search_order).iloc[0]
    return str(best["code"])


def _successor(wh: Warehouse, wanted: str) -> str | None:
    """Return the gemeente a former gemeente merged into (followed on to one the warehouse knows)."""
    later = {m.from_code: m.to_code for m in gemeente_mergers()}
    code = next((m.to_code for m in gemeente_mergers() if search_key(m.from_name) == wanted), None)
    while code is not None and not wh.regions.code_years(code):
        code = later.get(code)
    return code


def _searchable_names(wh: Warehouse, current: pd.DataFrame) -> pd.DataFrame:
    """List names to search: the current indeling's, then other years' where the code means the same.

    A code re-used for another area is not found by its old name.
    """
    now = current.dropna(subset=["name"])[["code", "name", "level"]].assign(current=True)
    other = wh.regions.names()
    meaning = dict(zip(current["code"], current["name"], strict=True))
    same = [
        meaning.get(c, n) == n or c not in meaning for c, n in zip(other["code"], other["name"], strict=True)
    ]
    return pd.concat([now, other[same].assign(current=False)], ignore_index=True)


def _search_order(column: pd.Series) -> pd.Series:
    if column.name == "current":
        return ~column.astype(bool)
    return column.map(_LEVEL_ORDER)


def resolve_gemeente(wh: Warehouse, text: str) -> Region:
    """Resolve a gemeente's name or code to its Region: for the edges, once per request or command."""
    code = resolve_region(wh, text, level=None if is_valid_code(normalise_code(text)) else "gemeente")
    if not is_level(code, "gemeente"):
        raise NotFoundError("gemeente", text, wh.regions.table(level="gemeente")["name"].dropna().tolist())
    return require_gemeente(wh, code)


def require_gemeente(wh: Warehouse, gemeente: Region | str) -> Region:
    """Return a gemeente as a Region: as given when an edge resolved it, else its code checked.

    Takes a Region or a code, never a name: names are resolved once, at the edges (the CLI's
    options, the web's paths), with :func:`resolve_gemeente`. An unknown code raises NotFoundError.
    """
    if isinstance(gemeente, Region):
        if gemeente.level != "gemeente":
            raise NotFoundError("gemeente", gemeente.code, [])
        return gemeente
    frame = wh.regions.table(level="gemeente")
    row = frame[frame["code"] == gemeente]
    if row.empty:
        raise NotFoundError("gemeente", gemeente, frame["name"].dropna().tolist())
    return Region(
        code=gemeente,
        name=str(row["name"].iloc[0] or gemeente),
        level="gemeente",
        boundary_year=wh.regions.indeling(),
        gemeente=gemeente,
    )


def list_regions(
    wh: Warehouse, *, gemeente: Region | str | None = None, level: str | None = None, year: int | None = None
) -> pd.DataFrame:
    """Regions of one indeling (default: the one most figures are on), with their names there."""
    gm = require_gemeente(wh, gemeente).code if gemeente else None
    lvl = parse_level(level) if level else None
    frame = wh.regions.table(level=lvl, gemeente_code=gm, year=year)
    return frame.drop(columns=["wijk_code"]) if lvl in ("gemeente", "land") else frame


def list_sources(wh: Warehouse) -> pd.DataFrame:
    """List the ingested sources with their provenance."""
    return wh.sources.table()


def region_profile(wh: Warehouse, text: str, *, period: str | None = None) -> dict[str, Any]:
    """Everything known about one region: its place in the hierarchy and every figure.

    The shape is the one ``wijkradar show --format json`` prints::

        {"code", "name", "level", "parents": [...],
         "figures": [{"measure", "label", "group", "period", "value", "unit", "status", "source", ...}]}
    """
    code = resolve_region(wh, text)
    years = wh.regions.code_years(code)
    indeling = wh.regions.indeling()
    year = indeling if indeling in years else max(years)
    regions = wh.regions.table(year=year)
    row = regions[regions["code"] == code].iloc[0]
    names = dict(zip(regions["code"], regions["name"], strict=True))
    labels = dict(zip(regions["code"], regions["label"], strict=True))
    placed = figures_on(wh, code, year, period)
    figures = placed.frame
    return {
        "code": code,
        "name": to_jsonable(row["name"]),
        "name_year": None if pd.isna(row["name_year"]) else int(row["name_year"]),
        "label": row["label"],
        "level": row["level"],
        "boundary_year": year,
        "parents": [
            {"code": p, "name": to_jsonable(names.get(p)), "label": labels.get(p, p)}
            for p in parents_of(code)
        ],
        "figures": [_figure({str(k): v for k, v in r.items()}) for r in figures.to_dict("records")],
        "left_out": {str(y): n for y, n in placed.left_out.items() if n},
    }


def _figure(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "measure": record["measure"],
        "label": record["label"],
        "group": record["group"],
        "period": record["period"],
        "value": to_jsonable(record["value"]),
        "lower": to_jsonable(record["lower"]),
        "upper": to_jsonable(record["upper"]),
        "unit": record["unit"],
        "status": record["status"],
        "source": record["source"],
        "publisher": record["publisher"],
        "source_title": record["source_title"],
        "boundary_year": int(record["boundary_year"]),
        "method": record["method"],
        "from_year": int(record["from_year"]),
        "how": method_nl(str(record["method"]), int(record["from_year"])),
    }

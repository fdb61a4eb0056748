"""Themes as the pages show them: looked up with suggestions, as plain data, their series and sources."""

from __future__ import annotations

from typing import Any

import pandas as pd

from wijkradar.errors import NotFoundError
from wijkradar.sources.model import period_kind
from wijkradar.sources.monitor import is_monitor_table
from wijkradar.themes import Theme, load_themes
from wijkradar.uploads import own_themes
from wijkradar.warehouse import Warehouse


def theme_or_error(theme_name: str, wh: Warehouse | None = None) -> Theme:
    """Look up a theme by name (also a gemeente's uploads, in a view that has them).

    Unknown names raise NotFoundError with suggestions.
    """
    themes = load_themes() | (own_themes(wh) if wh is not None else {})
    if theme_name not in themes:
        raise NotFoundError("thema", theme_name, themes)
    return themes[theme_name]


def theme_dict(chosen: Theme) -> dict[str, Any]:
    """Return a theme as plain data."""
    return {
        "name": chosen.name,
        "label": chosen.label,
        "measure": chosen.measure_id,
        "group": chosen.population_group,
        "attention_when": chosen.attention_when,
        "description": chosen.description,
        "level": chosen.level,
        "upload": chosen.upload,
        "modelled": chosen.modelled,
        "kind": theme_kind(chosen),
        "unit": chosen.unit,
    }


def theme_kind(chosen: Theme) -> str:
    """Say what a theme's figures are: ``survey`` (modelled), ``register`` or ``upload``."""
    return "upload" if chosen.upload else chosen.source


def series_of(chosen: Theme, values: pd.DataFrame) -> pd.DataFrame:
    """Keep the periods of a theme's one series: a registration's years, never its half-years beside them.

    The Monitor Sociaal Domein publishes every year and both its halves; a map or a trend of the
    year shows years only (the half-years stay in the region's profile and the exports).
    """
    if chosen.source != "register" or values.empty:
        return values
    kinds = {p: period_kind(str(p)) for p in values["period"].unique()}
    return values[values["period"].map(kinds) == "year"]


def source_words(source: str, *, short: bool = False) -> str:
    """Name a value's source for people: its publisher and table.

    Examples
    --------
    >>> source_words("50090NED"), source_words("83620NED", short=True)
    ('peiling RIVM 50090NED', 'CBS Monitor Sociaal Domein 83620NED')
    """
    if source in ("50090NED", "50120NED"):
        return f"RIVM {source}" if short else f"peiling RIVM {source}"
    if is_monitor_table(source):
        return (
            f"CBS Monitor Sociaal Domein {source}"
            if short
            else f"registratie CBS Monitor Sociaal Domein {source}"
        )
    return source


def sources_line(sources: list[str]) -> str:
    """Name the sources of a series once: the publisher, then its tables in order.

    Examples
    --------
    >>> sources_line(["CBS Monitor Sociaal Domein 83620NED", "CBS Monitor Sociaal Domein 85046NED"])
    'CBS Monitor Sociaal Domein (83620NED, 85046NED)'
    >>> sources_line(["RIVM 50090NED", "RIVM 50090NED"])
    'RIVM 50090NED'
    """
    distinct = list(dict.fromkeys(s for s in sources if s))
    if len(distinct) <= 1:
        return distinct[0] if distinct else ""
    heads = {s.rsplit(" ", 1)[0] for s in distinct}
    if len(heads) == 1:
        return f"{heads.pop()} ({', '.join(s.rsplit(' ', 1)[1] for s in distinct)})"
    return ", ".join(distinct)


def registrations(figures: pd.DataFrame) -> list[dict[str, Any]]:
    """Return the register themes' figures of a region per year, half-years beside, never mixed.

    One row per theme: its label and unit, and per year the year's figure and its two halves.
    """
    out: list[dict[str, Any]] = []
    if figures.empty:
        return out
    for chosen in load_themes().values():
        if chosen.source != "register":
            continue
        rows = figures[
            (figures["measure"] == chosen.measure_id)
            & (figures["group"] == chosen.population_group)
            & (figures["status"] == "published")
        ]
        if rows.empty:
            continue
        value = dict(zip(rows["period"].astype(str), rows["value"].astype(float), strict=True))
        years = sorted({p[:4] for p in value if period_kind(p) in ("year", "half")})
        out.append(
            {
                "theme": chosen.name,
                "label": chosen.label,
                "unit": chosen.unit,
                "sources": sources_line(
                    [source_words(str(s), short=True) for s in rows["source"].drop_duplicates()]
                ),
                "years": [
                    {
                        "year": y,
                        "value": value.get(y),
                        "first_half": value.get(f"{y}-H1"),
                        "second_half": value.get(f"{y}-H2"),
                    }
                    for y in years
                ],
            }
        )
    return out

"""The CBS Monitor Sociaal Domein: its tables per year and measure ids that stay the same across them.

CBS publishes the Monitor per wijk as one table per year (Wmo-cliënten 83620NED for 2016 ...
85046NED for 2021); the ``_N`` suffixes of their keys shift, so the catalogue names each measure
once (``wmo_clienten_per_1000``) for every year's table.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources

from wijkradar.sources.model import key_stem


@cache
def _monitor_tables() -> dict[str, tuple[str, str]]:
    """Return the Monitor Sociaal Domein tables wijkradar knows: table id -> (family, title)."""
    text = (
        resources.files("wijkradar.sources.catalogue")
        .joinpath("monitor_sociaal_domein_tables.csv")
        .read_text(encoding="utf-8")
    )
    return {r["table_id"]: (r["family"], r["title"]) for r in csv.DictReader(text.splitlines())}


@cache
def _monitor_measures() -> dict[tuple[str, str, int], tuple[str, str, str, str]]:
    """Return the catalogue's measures: (family, key stem, occurrence) -> (id, label, unit, description)."""
    text = (
        resources.files("wijkradar.sources.catalogue")
        .joinpath("monitor_sociaal_domein.csv")
        .read_text(encoding="utf-8")
    )
    return {
        (r["family"], r["stem"], int(r["occurrence"])): (r["id"], r["label"], r["unit"], r["description"])
        for r in csv.DictReader(text.splitlines())
    }


def is_monitor_table(table_id: object) -> bool:
    """Tell whether a table is one of the Monitor Sociaal Domein's (registrations of support given).

    Examples
    --------
    >>> is_monitor_table("83620NED"), is_monitor_table("50090NED")
    (True, False)
    """
    return str(table_id) in _monitor_tables()


def monitor_title(table_id: str) -> str | None:
    """Return a Monitor table's title, or None for another table."""
    known = _monitor_tables().get(table_id)
    return known[1] if known else None


def monitor_measure_ids(table_id: str, topics: list[str]) -> dict[str, str]:
    """Map a table's topic keys to measure ids that stay the same from one year's table to the next.

    The Monitor Sociaal Domein publishes one table per year, and the ``_N`` suffix of a key
    shifts between them; a stem that occurs twice in one table (a count and its rate per 1 000)
    is told apart by its order, as CBS always puts the count first. Other tables keep their keys.

    Examples
    --------
    >>> monitor_measure_ids("83620NED", ["WmoClienten_5", "WmoClientenPer1000Inwoners_6"])
    {'WmoClienten_5': 'wmo_clienten', 'WmoClientenPer1000Inwoners_6': 'wmo_clienten_per_1000'}
    """
    known = _monitor_tables().get(table_id)
    if known is None:
        return {t: t for t in topics}
    family = known[0]
    seen: dict[str, int] = {}
    out: dict[str, str] = {}
    for topic in topics:
        stem = key_stem(topic)
        seen[stem] = seen.get(stem, 0) + 1
        entry = _monitor_measures().get((family, stem, seen[stem]))
        suffix = "" if seen[stem] == 1 else f"_{seen[stem]}"
        out[topic] = entry[0] if entry else f"{family}_{stem}{suffix}"
    return out


def monitor_label(measure_id: str) -> tuple[str, str, str] | None:
    """Return the label, unit and description of a Monitor measure id, where the catalogue has it."""
    for mid, label, unit, description in _monitor_measures().values():
        if mid == measure_id:
            return label, unit, description
    return None

"""Themes: named shortcuts for a measure and population group (``eenzaamheid`` = Eenzaam_28, 65+).

The catalogue ships with wijkradar; a gemeente adds or overrides themes with a CSV of the same
columns. The CLI and the app factory name that file once per process, from ``WIJKRADAR_THEMES``
(:func:`use_extra_themes`); :func:`load_themes` also takes one directly.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from wijkradar.errors import InputError, NotFoundError
from wijkradar.texts import ATTENTION_CODES

DEFAULT_THEME = "eenzaamheid"  # the theme a page shows when none is asked for
COLUMNS = ("name", "measure_id", "population_group", "label", "attention_when", "description")
# Optional columns: the level its map shows, and whether it is a survey that models estimate
# (``survey``) or a registration of support given, published per wijk (``register``).
OPTIONAL = ("level", "source", "unit")
SOURCES = ("survey", "register")
_EXTRA: list[Path | None] = [None]  # the file of extra themes, as the edges were configured


@dataclass(frozen=True)
class Theme:
    """A theme: which measure and group, and whether high or low values need attention."""

    name: str
    measure_id: str
    population_group: str
    label: str
    attention_when: str = "high"  # or "low" (texts.ATTENTION_NL has the Dutch words)
    description: str = ""
    level: str = "buurt"  # the areas its map shows: a gemeente's upload may be per wijk
    upload: bool = False  # a gemeente's own upload (no model, no priority list)
    source: str = "survey"  # survey (RIVM, modelled) or register (Monitor Sociaal Domein, counted)
    unit: str = "%"

    @property
    def modelled(self) -> bool:
        """True for a survey theme: risk models estimate it and a priority list ranks on it."""
        return not self.upload and self.source == "survey"

    @property
    def higher_is_worse(self) -> bool:
        """True when a higher value means more need for attention."""
        return self.attention_when != "low"


def _read(text: str, origin: str) -> dict[str, Theme]:
    rows = list(csv.DictReader(text.splitlines()))
    themes: dict[str, Theme] = {}
    for number, row in enumerate(rows, start=2):
        missing = [c for c in COLUMNS[:4] if not (row.get(c) or "").strip()]
        if missing:
            raise InputError(
                origin,
                "thema zonder " + ", ".join(missing),
                row=number,
                fix=f"vul de kolommen {', '.join(COLUMNS)}",
            )
        when = ATTENTION_CODES.get((row.get("attention_when") or "high").strip().lower(), "")
        if not when:
            raise InputError(
                origin,
                "attention_when moet 'high' of 'low' zijn (of 'hoog' of 'laag')",
                row=number,
                column="attention_when",
                value=when,
                fix="gebruik high of low",
            )
        source = (row.get("source") or "survey").strip().lower()
        if source not in SOURCES:
            raise InputError(
                origin,
                "source moet 'survey' of 'register' zijn",
                row=number,
                column="source",
                value=source,
                fix="gebruik survey (peiling met model) of register (registratie, zonder model)",
            )
        theme = Theme(
            name=row["name"].strip().lower(),
            measure_id=row["measure_id"].strip(),
            population_group=row["population_group"].strip(),
            label=row["label"].strip(),
            attention_when=when,
            description=(row.get("description") or "").strip(),
            level=(row.get("level") or "buurt").strip().lower(),
            source=source,
            unit=(row.get("unit") or "%").strip(),
        )
        themes[theme.name] = theme
    return themes


def use_extra_themes(extra: Path | None) -> None:
    """Extend the catalogue with a CSV of themes from now on (the CLI and the app factory call this)."""
    _EXTRA[0] = extra


def load_themes(extra: Path | None = None) -> dict[str, Theme]:
    """Load the built-in themes, extended or overridden by ``extra`` or the configured file.

    Both are read once (the file again when it changes): every page asks for its theme.
    """
    themes = dict(_builtin())
    path = extra or _EXTRA[0]
    if path is not None:
        if not path.is_file():
            raise InputError(str(path), "themabestand bestaat niet", fix="controleer WIJKRADAR_THEMES")
        themes.update(_extra(path, path.stat().st_mtime_ns))
    return themes


@functools.cache
def _builtin() -> dict[str, Theme]:
    text = resources.files("wijkradar.sources.catalogue").joinpath("themes.csv").read_text(encoding="utf-8")
    return _read(text, "themes.csv")


@functools.lru_cache(maxsize=8)
def _extra(path: Path, _mtime_ns: int) -> dict[str, Theme]:
    return _read(path.read_text(encoding="utf-8-sig"), str(path))


def theme(name: str, extra: Path | None = None) -> Theme:
    """Look up one theme by name, with suggestions when it is unknown."""
    themes = load_themes(extra)
    key = name.strip().lower()
    if key not in themes:
        raise NotFoundError("thema", name, themes, field="theme")
    return themes[key]

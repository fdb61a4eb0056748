"""Keys and codes renamed to English (issue 26, language policy), and the old names kept readable.

JSON answers of the site and the CLI carry each renamed key twice until version 0.4: under its
English name and, with the same value, under its old Dutch one, so a script that reads
``prognose`` keeps working one release (CHANGELOG, "Deprecated"). Model cards, metrics and
artifacts stored by an older wijkradar are read under the new names.

>>> with_old_keys({"forecast": 12.5, "rows": [{"carers_pct": 14.0}]})
{'forecast': 12.5, 'rows': [{'carers_pct': 14.0, 'mantelzorgers_pct': 14.0}], 'prognose': 12.5}
>>> upgrade_keys({"prognose_periods": ["2022"], "buurten": None})
{'forecast_periods': ['2022'], 'bottom_up': None}
"""

from __future__ import annotations

from typing import Any, Final

REMOVED_IN: Final = "0.4"  # the release that stops writing the old keys

_LEVEL: Final = "_level"
_CAPACITY: Final = {
    "carers_pct": "mantelzorgers_pct",
    "volunteers_pct": "vrijwilligers_pct",
    "gp_distance_km": "afstand_huisarts_km",
    "supermarket_distance_km": "afstand_supermarkt_km",
}
OLD_KEYS: Final[dict[str, str]] = {  # new English key -> the Dutch key it replaces
    "forecast": "prognose",
    "forecast_lower": "prognose_lower",
    "forecast_upper": "prognose_upper",
    "forecast_period": "prognose_period",
    "forecast_periods": "prognose_periods",
    "forecast_inputs": "prognose_kerncijfers",
    "forecasts": "prognoses",
    "national": "nederland",
    "similar_mean": "vergelijkbaar",
    "n_similar": "n_vergelijkbaar",
    "what_works": "wat_werkt",
    "what_works_missing": "wat_werkt_missing",
    "bottom_up": "buurten",
    "r2_buurt_model": "r2_buurten",
    "r2_without_bottom_up": "r2_without_buurten",
    "forward_r2_without_bottom_up": "forward_r2_without_buurten",
    "boundaries": "indeling",  # a model card's summary of the inputs' indelingen
    "boundary_year": "indeling",  # ... the year in it, and the overview's
    **_CAPACITY,
    **{new + _LEVEL: old + _LEVEL for new, old in _CAPACITY.items()},
}
UPLOAD_OLD_KEYS: Final[dict[str, str]] = {  # an upload in /gemeente/X/uploads.json (before 0.3)
    "theme": "thema",
    "name": "naam",
    "unit": "eenheid",
    "level": "niveau",
    "boundary_year": "indeling",
    "attention_when": "aandacht_bij",
    "file_name": "bestand",
    "n_values": "waarden",
    "uploaded_by": "door",
    "uploaded_at": "op",
}
NEW_KEYS: Final[dict[str, str]] = {old: new for new, old in OLD_KEYS.items() if old != "indeling"}


def new_key(old: str, value: Any) -> str:
    """Return the key a stored key has since 0.3 (``indeling`` held a year or a summary of them).

    >>> new_key("prognose", 1.0), new_key("indeling", 2020), new_key("indeling", {}), new_key("rank", 1)
    ('forecast', 'boundary_year', 'boundaries', 'rank')
    """
    if old == "indeling":
        return "boundaries" if isinstance(value, dict) else "boundary_year"
    return NEW_KEYS.get(old, old)


OLD_UPLOAD_PREFIX: Final = "eigen-"  # an upload's theme and measure id before 0.3: eigen-<key>
UPLOAD_PREFIX: Final = "own-"  # ... and since: own-<key>


def upload_code(name: str) -> str:
    """Return an upload's theme or measure id as stored since 0.3 (``eigen-x`` is ``own-x``).

    >>> upload_code("eigen-wmo"), upload_code("own-wmo"), upload_code("eenzaamheid")
    ('own-wmo', 'own-wmo', 'eenzaamheid')
    """
    if name.startswith(OLD_UPLOAD_PREFIX):
        return UPLOAD_PREFIX + name.removeprefix(OLD_UPLOAD_PREFIX)
    return name


def with_old_keys(data: Any, renamed: dict[str, str] = OLD_KEYS) -> Any:
    """Return JSON-ready data with each renamed key also under its old name (until 0.4).

    Only for answers leaving wijkradar; what is stored and compared inside uses the new keys.
    ``renamed`` maps new keys to old ones (an answer with keys of its own passes its map).
    """
    if isinstance(data, dict):
        out = {key: with_old_keys(value, renamed) for key, value in data.items()}
        for new, value in list(out.items()):
            old = renamed.get(new)
            if old is not None and old not in out:
                out[old] = value
        return out
    if isinstance(data, list):
        return [with_old_keys(item, renamed) for item in data]
    return data


def upgrade_keys(data: Any) -> Any:
    """Return stored JSON (a model card, metrics or artifact) with old keys under their new names."""
    if isinstance(data, dict):
        return {new_key(key, value): upgrade_keys(value) for key, value in data.items()}
    if isinstance(data, list):
        return [upgrade_keys(item) for item in data]
    return data

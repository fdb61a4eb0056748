"""Dutch words and number formats shared by everything people read (CLI, web pages, reports)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import date
from typing import Any, Final

STATUS_NL: Final[dict[str, str]] = {
    "published": "gepubliceerd",
    "missing": "ontbreekt",
    "suppressed": "geheim",
    "nil": "nihil",
    "unreliable": "onbetrouwbaar",
    "too_few": "te weinig inwoners",
}

# A goal's direction: stored as an English code; people type and read the Dutch word.
DIRECTION_NL: Final[dict[str, str]] = {"down": "omlaag", "up": "omhoog"}
DIRECTION_CODES: Final[dict[str, str]] = {"down": "down", "up": "up", "omlaag": "down", "omhoog": "up"}

# A user's role in a gemeente and when a theme needs attention: stored as English codes; people
# type and read the Dutch word (both are accepted where they type one).
ROLE_NL: Final[dict[str, str]] = {"reader": "lezer", "analyst": "analist", "admin": "beheerder"}
ROLE_CODES: Final[dict[str, str]] = {**{c: c for c in ROLE_NL}, **{w: c for c, w in ROLE_NL.items()}}
ATTENTION_NL: Final[dict[str, str]] = {"high": "hoog", "low": "laag"}
ATTENTION_CODES: Final[dict[str, str]] = {
    **{c: c for c in ATTENTION_NL},
    **{w: c for c, w in ATTENTION_NL.items()},
}

GOAL_STATUS_NL: Final[dict[str, str]] = {
    "on_track": "op koers",
    "at_risk": "risico",
    "behind": "achter",
    "unknown": "onbekend",
    "baseline": "nulmeting",
}
EXPECTATION_NL: Final[dict[str, str]] = {
    "better_than_expected": "beter dan verwacht",
    "worse_than_expected": "slechter dan verwacht",
    "as_expected": "zoals verwacht",
    "no_survey": "geen peiling",
}
# Where a capacity figure of the priority list comes from (the area itself, else its gemeente).
CAPACITY_LEVEL_NL: Final[dict[str, str]] = {
    "area": "eigen gebied",
    "gemeente": "gemeente",
    "unknown": "onbekend",
}

# Column names of tables (English codes in JSON), as tables on screen and in CSV and Excel files show them.
COLUMN_NL: Final[dict[str, str]] = {
    "code": "code",
    "name": "naam",
    "name_year": "naam uit",
    "label": "naam (code)",
    "measure_label": "omschrijving",
    "level": "niveau",
    "gemeente_code": "gemeente",
    "wijk_code": "wijk",
    "boundary_year": "indeling",
    "boundary_years": "indelingen",
    "source_id": "bron",
    "publisher": "uitgever",
    "table_id": "tabel",
    "title": "titel",
    "period": "periode",
    "population_groups": "groepen",
    "levels": "niveaus",
    "licence": "licentie",
    "n_observations": "cijfers",
    "ingested_at": "ingelezen op",
    "location": "locatie",
    "format": "formaat",
    "checksum": "controlegetal",
    "measure": "maat",
    "measure_id": "maat",
    "group": "groep",
    "population_group": "groep",
    "attention_when": "aandacht bij",
    "file_name": "bestand",
    "n_values": "waarden",
    "uploaded_by": "door",
    "uploaded_at": "op",
    "upload_id": "upload",
    "periods": "perioden",
    "description": "toelichting",
    "goal_id": "doel",
    "area_name": "gebied",
    "area_codes": "gebiedscodes",
    "baseline_period": "nulmeting (periode)",
    "baseline_value": "nulmeting",
    "target_value": "streefwaarde",
    "target_year": "streefjaar",
    "direction": "richting",
    "owner": "eigenaar",
    "intervention_id": "interventie",
    "theme": "thema",
    "start_date": "start",
    "end_date": "einde",
    "budget": "budget",
    "partners": "partners",
    "goal_ids": "doelen",
    "value": "waarde",
    "lower": "ondergrens",
    "upper": "bovengrens",
    "unit": "eenheid",
    "status": "status",
    "source": "bron",
    "n": "aantal",
    "r2": "R²",
    "r2_with_small_areas": "R² met kleine gebieden",
    "min_residents": "minimum inwoners in de groep",
    "mae": "MAE",
    "spearman": "Spearman",
    "coverage90": "dekking 90%",
    "baseline_r2": "R² vorige peiling",
    "baseline_missing": "geen vorige peiling",
    "model": "model",
    "r2_without_bottom_up": "R² zonder buurten",
    "glm_r2": "R² glm",
    "lightgbm_r2": "R² lightgbm",
    "calibration_slope": "kalibratie",
    "forward_r2": "R² vooruit",
    "forward_r2_with_small_areas": "R² vooruit met kleine gebieden",
    "forward_r2_without_bottom_up": "R² vooruit zonder buurten",
    "forward_mae": "MAE vooruit",
    "forward_spearman": "Spearman vooruit",
    "forward_coverage90": "dekking 90% vooruit",
    "forward_periods": "vooruit getoetst",
    "forward_missing": "niet vooruit getoetst",
    "survey": "peiling",
    "estimate": "schatting",
    "forecast": "prognose (model, geen peiling)",
    "forecast_lower": "prognose ondergrens",
    "forecast_upper": "prognose bovengrens",
    "forecast_period": "prognosejaar",
    "forecast_periods": "prognoses voor",
    "forecast_inputs": "prognose uit Kerncijfers van",
    "kerncijfers": "uit Kerncijfers van",
    "rate": "percentage",
    "interval_source": "interval uit",
    "residents": "inwoners in de groep",
    "vs_expected": "verschil met verwachting",
    "expected_affected": "verwacht aantal",
    "expectation": "verwachting",
    "rank_rate": "rang naar percentage",
    "rank": "rang",
    "p_top10": "kans bij de tien hoogste",
    "why": "waarom",
    "drivers": "factoren",
    "carers_pct": "mantelzorgers (%)",
    "volunteers_pct": "vrijwilligers (%)",
    "gp_distance_km": "afstand tot huisarts (km)",
    "supermarket_distance_km": "afstand tot supermarkt (km)",
    "source_title": "brontitel",
    "method": "omrekening",
    "from_year": "van indeling",
    "how": "hoe omgerekend",
    "n_regions": "gebieden",
    "note": "opmerking",
    "goal_status": "status",
    "halfwidth": "meetonzekerheid",
    "required": "pad naar het doel",
    "u": "marge",
    "at": "tijdstip",
    "user_name": "gebruiker",
    "action": "handeling",
    "object": "onderwerp",
    "detail": "toelichting",
    "entry_id": "nummer",
    "created_at": "aangemaakt op",
    "updated_at": "gewijzigd op",
    # an intervention's measured effect (wijkradar.effects), flattened beside it in a table
    "effect_label": "effect op",
    "effect_short": "effect",
    "effect_observed": "gemeten na de start",
    "effect_expected": "zonder aanpak verwacht",
    "effect_effect": "effect (gemeten min verwacht)",
    "effect_lower90": "effect 90% van",
    "effect_upper90": "effect 90% tot",
    "effect_comparison_areas": "vergelijkingsgebieden",
    "effect_minimal_detectable_effect": "kleinste zichtbare effect",
    "effect_placebo_coverage90": "dekking interval op placebo's",
    "effect_cost_per_resident": "kosten per inwoner minder getroffen",
    "effect_cost_lower90": "kosten 90% van",
    "effect_cost_upper90": "kosten 90% tot",
    "effect_method": "methode",
    "effect_text": "effect in woorden",
}


# How a figure came onto the indeling it is shown on (wijkradar.indeling's method codes).
METHOD_NL: Final[dict[str, str]] = {
    "native": "op deze indeling gepubliceerd",
    "identity_assumed": "aangenomen ongewijzigd (niets wijst op een grenswijziging)",
    "identity_geometry": "ongewijzigd (grenzen van beide jaren gelijk)",
    "addresses": "omgerekend op adressen",
    "residents": "omgerekend op inwoners",
    "area": "omgerekend op oppervlakte",
    "merger": "omgerekend bij gemeentelijke herindeling",
    "mixed": "omgerekend (deels ongewijzigd, deels via omzettabel)",
}


def method_nl(method: str, from_year: int | None = None) -> str:
    """Say how a figure came onto its indeling: ``omgerekend van indeling 2017, op adressen``.

    Examples
    --------
    >>> method_nl("addresses", 2017)
    'omgerekend van indeling 2017, op adressen'
    >>> method_nl("native")
    ''
    """
    if method in ("", "native"):
        return ""
    if method.startswith("identity"):
        return f"{METHOD_NL[method]}, indeling {from_year}" if from_year else METHOD_NL[method]
    basis = METHOD_NL.get(method, method).replace("omgerekend ", "")
    return f"omgerekend van indeling {from_year}, {basis}" if from_year else f"omgerekend {basis}"


def boundary_note(from_year: int, method: str) -> str:
    """Say which boundaries a map shows: ``grenzen 2015, aangenomen ongewijzigd``.

    Examples
    --------
    >>> boundary_note(2020, "native"), boundary_note(0, "identity_assumed")
    ('grenzen 2020', 'grenzen uit een bestand zonder jaar, zelfde naam')
    """
    if from_year == 0:
        return "grenzen uit een bestand zonder jaar, zelfde naam"
    if method == "native":
        return f"grenzen {from_year}"
    return f"grenzen {from_year}, aangenomen ongewijzigd"


def periods_nl(read: Iterable[str]) -> str:
    """Say which periods of the Kerncijfers some figures read, from their comma-separated lists.

    Examples
    --------
    >>> periods_nl(["2017,2020", "2020", "2017,2020-2022"])
    '2017, 2020 en 2020-2022'
    >>> periods_nl(["", ""])
    ''
    """
    found = {p.strip() for text in read for p in str(text or "").split(",") if p.strip()}
    ordered = sorted(found, key=lambda p: (p[:4], p))
    if len(ordered) < 2:
        return "".join(ordered)
    return f"{', '.join(ordered[:-1])} en {ordered[-1]}"


def parse_number_nl(text: str) -> float:
    """Read a number as people type it in the Netherlands; NaN when it is none.

    Examples
    --------
    >>> parse_number_nl("€ 125.000,50"), parse_number_nl("44,5"), parse_number_nl("125.000")
    (125000.5, 44.5, 125000.0)
    >>> parse_number_nl("44.5"), parse_number_nl("veel")
    (44.5, nan)
    """
    text = re.sub(r"[€\s\u00a0]", "", text)
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"-?\d{1,3}(\.\d{3})+", text):
        text = text.replace(".", "")
    try:
        return float(text)
    except ValueError:
        return math.nan


def number_nl(value: Any, decimals: int | None = 1, *, empty: str = "–") -> str:
    r"""Format a number the Dutch way: ``48,2`` and ``12 345``; ``empty`` for missing values.

    ``decimals=None`` shows whole numbers without decimals and others with one. Thousands are
    separated by a no-break space, so "1 875" never breaks over two lines.

    Examples
    --------
    >>> number_nl(48.25), number_nl(12345, 0), number_nl(None), number_nl(3.0, None)
    ('48,2', '12\xa0345', '–', '3')
    """
    if value is None or value == "":
        return empty
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(number):
        return empty
    if decimals is None:
        decimals = 0 if number.is_integer() else 1
    text = f"{number:,.{decimals}f}"
    return text.replace(",", "\u00a0").replace(".", ",")


# Columns whose values are codes, and the words a table shows for them.
VALUE_NL: Final[dict[str, dict[str, str]]] = {
    "status": STATUS_NL,
    "expectation": EXPECTATION_NL,
    "method": METHOD_NL,
    "direction": DIRECTION_NL,
    "source": {"survey": "peiling", "register": "registratie", "upload": "eigen upload"},
    "attention_when": ATTENTION_NL,
    "goal_status": GOAL_STATUS_NL,
    "role": ROLE_NL,
}


def table_nl(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return table rows as a Dutch reader sees them: Dutch column names and words for coded values.

    A capacity's ``<column>_level`` is headed "<column> geldt voor"; columns without a Dutch name keep
    their own (measure codes, a gemeente's upload columns).

    >>> table_nl([{"code": "BU1", "status": "published", "rank": 1, "carers_pct_level": "area"}])
    [{'code': 'BU1', 'status': 'gepubliceerd', 'rang': 1, 'mantelzorgers (%) geldt voor': 'eigen gebied'}]
    """
    return [{column_nl(k): value_nl(k, v) for k, v in row.items()} for row in rows]


def column_nl(column: str) -> str:
    """Return the Dutch heading of a column (its own name when it has none)."""
    if column.endswith("_level") and column != "level":
        return f"{column_nl(column.removesuffix('_level'))} geldt voor"
    return COLUMN_NL.get(column, column)


def value_nl(column: str, value: Any) -> Any:
    """Return the Dutch word for a coded value of a column ("down" -> "omlaag"), else the value."""
    if not isinstance(value, str):
        return value
    words = CAPACITY_LEVEL_NL if column.endswith("_level") else VALUE_NL.get(column, {})
    return words.get(value, value)


# Why a theme has no risk model, estimates or priority list, by what its figures are.
# What the two reasons beside an area in the priority list mean (CLI, site, report).
WHY_NL: Final = (
    "wat dit gebied onderscheidt van een doorsnee gebied in dezelfde gemeente (een gemeente: van een "
    "doorsnee gemeente), buiten eerdere peilingen: de groep factoren en de factor die de schatting het "
    "meest boven (▲) of onder (▼) die van zo'n gebied brengen."
)
NO_MODEL: Final = {
    "upload": "een eigen upload heeft geen risicomodel",
    "register": "een registratie (CBS Monitor Sociaal Domein) telt wie ondersteuning krijgt en heeft geen "
    "risicomodel of prioriteitenlijst",
}


def figure_nl(value: Any, unit: str = "%") -> str:
    """Show a theme's figure: a percentage with one decimal and '%', a rate per 1 000 as a whole number.

    Examples
    --------
    >>> figure_nl(48.25), figure_nl(78.0, "per 1 000 inwoners"), figure_nl(None)
    ('48,2%', '78', '–')
    """
    if value is None:
        return "–"
    return f"{number_nl(value, 1)}%" if unit == "%" else number_nl(value, 0)


def percent_nl(value: Any, decimals: int = 1) -> str:
    """Show a percentage the Dutch way, '–' when there is none.

    >>> percent_nl(48.25), percent_nl(None)
    ('48,2%', '–')
    """
    return "–" if value is None else f"{number_nl(value, decimals)}%"


def template_filters() -> dict[str, Any]:
    """Return the Dutch filters every front end's templates use (the site's pages and the report)."""
    return {
        "nl": number_nl,
        "pct": percent_nl,
        "fig": figure_nl,
        "status": lambda s: STATUS_NL.get(str(s), str(s)),
        "expectation": lambda s: EXPECTATION_NL.get(str(s), ""),
        "goal_status": lambda s: GOAL_STATUS_NL.get(str(s), str(s)),
        "direction": lambda s: DIRECTION_NL.get(str(s), str(s)),
        "role": lambda s: ROLE_NL.get(str(s), str(s)),
        "attention": lambda s: ATTENTION_NL.get(str(s), str(s)),
        "period": period_nl,
        "date": date_nl,
    }


def date_nl(value: Any) -> str:
    """Write a date the Dutch way: ``6 december 2026`` (a date, a timestamp or ISO text).

    >>> date_nl("2026-12-06"), date_nl("2021-01-01 00:00:00"), date_nl(None)
    ('6 december 2026', '1 januari 2021', '–')
    """
    if value is None or value == "":
        return "–"
    text = str(value)[:10]
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return str(value)
    return f"{day.day} {MONTHS_NL[day.month - 1]} {day.year}"


# How a figure compares with another once its uncertainty is counted (see pages.compare.compared).
COMPARED_NL: Final = {"same": "gelijk aan", "higher": "hoger dan", "lower": "lager dan"}


MONTHS_NL: Final = (  # also how CBS names months in its period titles
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)


def period_nl(period: object) -> str:
    """Say a period key as Dutch readers write it; a year stays as it is.

    Examples
    --------
    >>> period_nl("2016-H1"), period_nl("2021-K2"), period_nl("2021-03"), period_nl("2020")
    ('1e halfjaar 2016', '2e kwartaal 2021', 'maart 2021', '2020')
    """
    text = str(period)
    m = re.fullmatch(r"(\d{4})-([HK])([1-4])", text)
    if m:
        return f"{m.group(3)}e {'halfjaar' if m.group(2) == 'H' else 'kwartaal'} {m.group(1)}"
    m = re.fullmatch(r"(\d{4})-(0[1-9]|1[0-2])", text)
    if m:
        return f"{MONTHS_NL[int(m.group(2)) - 1]} {m.group(1)}"
    return text


def duration_nl(seconds: float) -> str:
    """Say how long something took as people say it.

    Examples
    --------
    >>> duration_nl(4.24), duration_nl(65.4), duration_nl(3725)
    ('4,2 s', '1 min 5 s', '1 uur 2 min')
    """
    if seconds < 60:
        return f"{number_nl(seconds, 1)} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    return f"{minutes // 60} uur {minutes % 60} min"

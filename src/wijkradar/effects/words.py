"""An effect said in Dutch: a sentence for a raad, a cell for a table, and why there is none."""

from __future__ import annotations

from datetime import date
from typing import Any, Final

from wijkradar.texts import number_nl

TOO_LITTLE_NL: Final = "te weinig gebieden of metingen om een effect van deze grootte te zien"
NOT_MEASURED_NL: Final = (
    "Alleen een aanpak in buurten of in wijken wordt gemeten, tegen vergelijkbare buurten of wijken "
    f"elders: {TOO_LITTLE_NL}."
)


def too_little(pre: list[str], post: list[str], start: date, own: int) -> str:
    """Say why there is no effect: no measurement after or before the start, or no areas with both."""
    if not post:
        return f"Nog geen meting na {start.year}: {TOO_LITTLE_NL}."
    if not pre:
        return f"Geen meting voor {start.year}: {TOO_LITTLE_NL}."
    if not own:
        return f"De gebieden van de aanpak hebben geen cijfers voor en na de start: {TOO_LITTLE_NL}."
    return f"Te weinig vergelijkbare gebieden met cijfers: {TOO_LITTLE_NL}."


def effect_nl(found: dict[str, Any]) -> str:
    """Say an effect as a raad reads it, with its interval, and what the data cannot see.

    >>> effect_nl({"status": "estimated", "unit": "%", "expected": 51.0, "observed": 48.2,
    ...     "effect": -2.8, "lower90": -4.7, "upper90": -0.9, "minimal_detectable_effect": 3.1,
    ...     "areas": 8, "level": "buurt"})
    'Zonder de aanpak verwacht 51,0%, gemeten 48,2%: 2,8 punt lager (90%: 0,9 tot 4,7 lager).'
    """
    if found["status"] != "estimated":
        return str(found.get("text") or TOO_LITTLE_NL)
    unit = "%" if found["unit"] == "%" else ""
    text = (
        f"Zonder de aanpak verwacht {_n(found['expected'])}{unit}, gemeten {_n(found['observed'])}{unit}: "
        f"{_n(abs(found['effect']))} punt {_direction(found)} ({_span(found)})."
    )
    if _around_zero(found):
        areas = f"{found['areas']} {'buurten' if found['level'] == 'buurt' else 'wijken'}"
        text += (
            f" Dat is niet van toeval te onderscheiden: met {areas} is een effect kleiner dan "
            f"{_n(found['minimal_detectable_effect'])} punt niet te zien."
        )
    return text


def short_nl(found: dict[str, Any]) -> str:
    """Say an effect in a table cell: its size and interval, or that the data cannot tell.

    >>> short_nl({"status": "estimated", "effect": -2.8, "lower90": -4.7, "upper90": -0.9})
    '2,8 punt lager (90%: 0,9 tot 4,7 lager)'
    >>> short_nl({"status": "estimated", "effect": 0.2, "lower90": -11.9, "upper90": 13.6})
    'niet te onderscheiden van geen effect (90%: 11,9 lager tot 13,6 hoger)'
    """
    if found["status"] != "estimated":
        return "te weinig gegevens"
    if _around_zero(found):
        return f"niet te onderscheiden van geen effect ({_span(found)})"
    return f"{_n(abs(found['effect']))} punt {_direction(found)} ({_span(found)})"


def _around_zero(found: dict[str, Any]) -> bool:
    return bool(found["lower90"] < 0 < found["upper90"])


def _direction(found: dict[str, Any]) -> str:
    return "lager" if found["effect"] < 0 else "hoger"


def _span(found: dict[str, Any]) -> str:
    """Say the 90% interval: from lower to higher around 0, else both ends on the effect's side."""
    lower, upper = found["lower90"], found["upper90"]
    if _around_zero(found):
        return f"90%: {_n(-lower)} lager tot {_n(upper)} hoger"
    ends = sorted([abs(lower), abs(upper)])
    return f"90%: {_n(ends[0])} tot {_n(ends[1])} {_direction(found)}"


def _n(value: float) -> str:
    return number_nl(value, 1)

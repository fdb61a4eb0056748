"""Dutch words and number formats shared by everything people read (CLI, web pages, reports)."""

from __future__ import annotations

import math
from typing import Any, Final

STATUS_NL: Final[dict[str, str]] = {
    "published": "gepubliceerd",
    "missing": "ontbreekt",
    "suppressed": "geheim",
    "nil": "nihil",
    "unreliable": "onbetrouwbaar",
}


def number_nl(value: Any, decimals: int | None = 1, *, empty: str = "–") -> str:
    """Format a number the Dutch way: ``48,2`` and ``12 345``; ``empty`` for missing values.

    ``decimals=None`` shows whole numbers without decimals and others with one.

    Examples
    --------
    >>> number_nl(48.25), number_nl(12345, 0), number_nl(None), number_nl(3.0, None)
    ('48,2', '12 345', '–', '3')
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
    return text.replace(",", " ").replace(".", ",")

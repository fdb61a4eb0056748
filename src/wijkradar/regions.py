"""CBS region codes (NL01, GMxxxx, WKxxxxxx, BUxxxxxxxx): validation, levels and hierarchy.

A buurt code contains its wijk and gemeente: ``BU01530404`` lies in ``WK015304`` in ``GM0153``.
Codes are only unique within one boundary year (CBS redraws buurten every year), so anything
stored with a code also stores the boundary year it refers to.
"""

from __future__ import annotations

import re
from typing import Final, Literal

Level = Literal["land", "gemeente", "wijk", "buurt"]
LEVELS: Final[tuple[Level, ...]] = ("land", "gemeente", "wijk", "buurt")

# Amsterdam's 2022 codes use letters in the wijk and buurt part (BU0363AA01), so the part
# after the gemeente number is alphanumeric.
CODE_PATTERN: Final = r"NL\d{2}|GM\d{4}|WK\d{4}[0-9A-Z]{2}|BU\d{4}[0-9A-Z]{4}"
_CODE_RE: Final = re.compile(f"^(?:{CODE_PATTERN})$")
PREFIX_LEVEL: Final[dict[str, Level]] = {
    "NL": "land",
    "GM": "gemeente",
    "WK": "wijk",
    "BU": "buurt",
}
_LEVEL_ALIASES: Final[dict[str, Level]] = {
    "land": "land",
    "nederland": "land",
    "gemeente": "gemeente",
    "gemeenten": "gemeente",
    "wijk": "wijk",
    "wijken": "wijk",
    "buurt": "buurt",
    "buurten": "buurt",
}


def normalise_code(raw: object) -> str:
    """Strip padding and upper-case a code as found in CBS files.

    Examples
    --------
    >>> normalise_code("GM1680    ")
    'GM1680'
    """
    return str(raw).strip().upper()


def is_valid_code(code: str) -> bool:
    """Tell whether ``code`` is a well-formed CBS region code.

    Examples
    --------
    >>> is_valid_code("BU01530404"), is_valid_code("BU0153")
    (True, False)
    """
    return bool(_CODE_RE.match(code))


def level_of(code: str) -> Level:
    """Return the level of a valid region code.

    Examples
    --------
    >>> level_of("WK015304")
    'wijk'
    """
    return PREFIX_LEVEL[code[:2]]


def parse_level(text: str) -> Level:
    """Turn a user's level word (``buurt``, ``wijken`` ...) into a level, or raise ValueError."""
    try:
        return _LEVEL_ALIASES[text.strip().lower()]
    except KeyError:
        raise ValueError(f"onbekend niveau {text!r}; kies uit {', '.join(LEVELS)}") from None


def gemeente_of(code: str) -> str | None:
    """Return the gemeente code that contains ``code`` (itself for a gemeente, None for NL).

    Examples
    --------
    >>> gemeente_of("BU01530404")
    'GM0153'
    """
    if code.startswith("NL"):
        return None
    return "GM" + code[2:6]


def wijk_of(code: str) -> str | None:
    """Return the wijk code that contains a buurt (itself for a wijk, None otherwise).

    Examples
    --------
    >>> wijk_of("BU01530404")
    'WK015304'
    """
    if code.startswith("BU"):
        return "WK" + code[2:8]
    if code.startswith("WK"):
        return code
    return None


def parents_of(code: str) -> list[str]:
    """Return the containing regions of ``code`` from large to small, NL01 first.

    Examples
    --------
    >>> parents_of("BU01530404")
    ['NL01', 'GM0153', 'WK015304']
    """
    level = level_of(code)
    if level == "land":
        return []
    chain = ["NL01"]
    gm = gemeente_of(code)
    if level in ("wijk", "buurt") and gm:
        chain.append(gm)
    if level == "buurt":
        wk = wijk_of(code)
        if wk:
            chain.append(wk)
    return chain

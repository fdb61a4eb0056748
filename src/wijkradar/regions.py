"""CBS region codes (NL01, GMxxxx, WKxxxxxx, BUxxxxxxxx): validation, levels and hierarchy.

A buurt code contains its wijk and gemeente: ``BU01530404`` lies in ``WK015304`` in ``GM0153``.
Codes are only unique within one boundary year (CBS redraws buurten every year), so anything
stored with a code also stores the boundary year it refers to.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Final, Literal, NamedTuple, TypeVar, get_args

if TYPE_CHECKING:
    import pandas as pd

CodesT = TypeVar("CodesT", "pd.Series", "pd.Index")

Level = Literal[
    "land",
    "landsdeel",
    "provincie",
    "corop",
    "ggd-regio",
    "jeugdzorgregio",
    "arbeidsmarktregio",
    "veiligheidsregio",
    "gemeente",
    "wijk",
    "buurt",
]
# The nested levels every analysis is built on (a buurt lies in a wijk in a gemeente in NL).
LEVELS: Final[tuple[Level, ...]] = ("land", "gemeente", "wijk", "buurt")


@dataclass(frozen=True)
class Region:
    """A region as an edge (the CLI's options, the site's paths) resolved it, once.

    Its code on one indeling (``boundary_year``), its level, its name there and the gemeente and
    wijk it lies in (its own code for a gemeente or wijk). Library functions take a Region and
    trust it; they check a bare code (from Python callers) themselves.

    >>> Region("GM0034", "Almere", "gemeente", 2020, "GM0034").named()
    {'code': 'GM0034', 'name': 'Almere'}
    """

    code: str
    name: str
    level: str
    boundary_year: int
    gemeente: str | None = None
    wijk: str | None = None

    def named(self) -> dict[str, str]:
        """Return the code and name, as pages and JSON show a gemeente."""
        return {"code": self.code, "name": self.name}


def code_of(region: Region | str) -> str:
    """Return a region's code, from a Region or a code (to key what is remembered per gemeente)."""
    return region.code if isinstance(region, Region) else region


# CBS's other region kinds: groupings of whole gemeenten, published beside them. They carry no
# gemeente or wijk of their own; a page may compare a gemeente with the ones it lies in.
GROUPING_LEVELS: Final[tuple[Level, ...]] = tuple(lvl for lvl in get_args(Level) if lvl not in LEVELS)

# Amsterdam's 2022 codes use letters in the wijk and buurt part (BU0363AA01), so the part
# after the gemeente number is alphanumeric. GGD-regio codes have four digits (GG3003), the
# other groupings two (LD01, PV20, CR01, JZ01, AM01, VR01).
GEMEENTE_PATTERN: Final = r"GM\d{4}"
WIJK_PATTERN: Final = r"WK\d{4}[0-9A-Z]{2}"
BUURT_PATTERN: Final = r"BU\d{4}[0-9A-Z]{4}"
CODE_PATTERN: Final = (
    rf"NL\d{{2}}|{GEMEENTE_PATTERN}|{WIJK_PATTERN}|{BUURT_PATTERN}|(?:LD|PV|CR|JZ|AM|VR)\d{{2}}|GG\d{{4}}"
)
_CODE_RE: Final = re.compile(f"^(?:{CODE_PATTERN})$")
PREFIX_LEVEL: Final[dict[str, Level]] = {
    "NL": "land",
    "LD": "landsdeel",
    "PV": "provincie",
    "CR": "corop",
    "GG": "ggd-regio",
    "JZ": "jeugdzorgregio",
    "AM": "arbeidsmarktregio",
    "VR": "veiligheidsregio",
    "GM": "gemeente",
    "WK": "wijk",
    "BU": "buurt",
}
LEVEL_PREFIX: Final[dict[Level, str]] = {level: prefix for prefix, level in PREFIX_LEVEL.items()}
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


def is_level(code: object, level: Level) -> bool:
    """Tell whether a code is of ``level``, by its prefix (every other code check lives here too).

    Examples
    --------
    >>> is_level("BU01530404", "buurt"), is_level("GM0153", "buurt"), is_level("x", "land")
    (True, False, False)
    """
    return PREFIX_LEVEL.get(str(code)[:2]) == level


def level_mask(codes: pd.Series, level: Level) -> pd.Series:
    """Tell for every code of a Series whether it is of ``level`` (vectorised :func:`is_level`).

    Examples
    --------
    >>> import pandas as pd
    >>> level_mask(pd.Series(["BU01530404", "GM0153"]), "buurt").tolist()
    [True, False]
    """
    return codes.astype("string").str.startswith(LEVEL_PREFIX[level]).fillna(False).astype(bool)


def own_prefixes(gemeente_code: str) -> tuple[str, str, str]:
    """Return the prefixes of a gemeente's own code, its wijken's and its buurten's.

    >>> own_prefixes("GM0034")
    ('GM0034', 'WK0034', 'BU0034')
    """
    number = gemeente_code[2:6]
    return (f"GM{number}", f"WK{number}", f"BU{number}")


def level_prefix(level: str | None) -> str:
    """Return the code prefix of a level (``buurt`` -> ``BU``); the empty string for none.

    >>> level_prefix("wijk"), level_prefix(None)
    ('WK', '')
    """
    return LEVEL_PREFIX[parse_level(level)] if level else ""


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
    >>> gemeente_of("BU01530404"), gemeente_of("PV20")
    ('GM0153', None)
    """
    if code[:2] not in ("GM", "WK", "BU"):
        return None
    return "GM" + code[2:6]


def buurt_prefix(gemeente_code: str) -> str:
    """Return the prefix every buurt code of a gemeente starts with.

    >>> buurt_prefix("GM0034")
    'BU0034'
    """
    return "BU" + gemeente_code[2:6]


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


def gemeente_codes(codes: CodesT) -> CodesT:
    """Return the gemeente code of every code of a pandas Series or Index (vectorised ``gemeente_of``).

    Examples
    --------
    >>> import pandas as pd
    >>> gemeente_codes(pd.Series(["BU01530404", "WK015304"])).tolist()
    ['GM0153', 'GM0153']
    """
    return "GM" + codes.str.slice(2, 6)


def wijk_codes(codes: CodesT) -> CodesT:
    """Return the wijk code of every buurt or wijk code of a pandas Series or Index.

    Examples
    --------
    >>> import pandas as pd
    >>> wijk_codes(pd.Index(["BU01530404"])).tolist()
    ['WK015304']
    """
    return "WK" + codes.str.slice(2, 8)


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
    if level in GROUPING_LEVELS:
        return ["NL01"]
    chain = ["NL01"]
    gm = gemeente_of(code)
    if level in ("wijk", "buurt") and gm:
        chain.append(gm)
    if level == "buurt":
        wk = wijk_of(code)
        if wk:
            chain.append(wk)
    return chain


def region_label(code: str, name: object = None, name_year: object = None, year: object = None) -> str:
    """How a region is shown everywhere: "name (code)", with the name's year when it is another.

    A bare code only where no name is known at all.

    Examples
    --------
    >>> region_label("GM0034", "Almere")
    'Almere (GM0034)'
    >>> region_label("BU00340102", "De Werven", 2017, 2020)
    'De Werven (BU00340102; naam 2017)'
    >>> region_label("BU00340111")
    'BU00340111'
    """
    if not isinstance(name, str) or not name.strip() or name.strip() == code:
        return code
    if name_year is not None and year is not None and _int(name_year) != _int(year):
        when = "jaar onbekend" if _int(name_year) == 0 else str(_int(name_year))
        return f"{name.strip()} ({code}; naam {when})"
    return f"{name.strip()} ({code})"


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


@lru_cache(maxsize=1 << 17)  # crosswalks between every two indelingen compare the same names
def name_key(name: str) -> str:
    """Return a name as compared across years: case, hyphens and spacing do not make another area.

    Nor does the wijk number CBS writes before a wijk's name in some tables and years and not in
    others ("Wijk 12 Houten Zuid-West" in the kaart of 2017, "Houten Zuid-West" in 2020).

    Examples
    --------
    >>> name_key("Centrum Almere-Haven") == name_key("Centrum  almere haven")
    True
    >>> name_key("Wijk 12 Houten Zuid-West") == name_key("Houten Zuid-West"), name_key("Wijk 11")
    (True, 'wijk 11')
    """
    plain = " ".join(name.lower().replace("-", " ").replace("'", "").split())
    numbered = _WIJK_NUMBER.match(plain)
    return plain[numbered.end() :] if numbered and numbered.end() < len(plain) else plain


_WIJK_NUMBER: Final = re.compile(r"wijk ?\d+[ :.]+")


def choose_names(
    known: dict[str, dict[int, str]], codes: list[str], year: int, breaks: dict[str, list[tuple[int, int]]]
) -> dict[str, tuple[str, int]]:
    """Pick a name for each code as it is in ``year``'s indeling.

    ``known`` gives the names a code has per boundary year; ``breaks`` the spans (from year, to
    year) over which a code is known to change area (a crosswalk that splits, merges or moves it,
    or boundaries that differ). A code named in ``year`` itself keeps that name. Otherwise the
    name of the nearest year is taken, unless a break, or a year in which the code carries another
    name, lies between: a code that reappears with another name is not the same area.

    Examples
    --------
    >>> known = {"BU00340102": {2017: "De Werven", 2024: "Centrum Haven Zuid"}}
    >>> choose_names(known, ["BU00340102"], 2020, {})
    {'BU00340102': ('De Werven', 2017)}
    >>> choose_names(known, ["BU00340102"], 2020, {"BU00340102": [(2017, 2020)]})
    {'BU00340102': ('Centrum Haven Zuid', 2024)}
    """
    out: dict[str, tuple[str, int]] = {}
    for code in codes:
        names = known.get(code)
        if not names:
            continue
        if year in names:
            out[code] = (names[year], year)
            continue
        spans = breaks.get(code, [])
        for other in sorted(names, key=lambda y: (abs(y - year), y > year)):
            low, high = sorted((other, year))
            crossed = any(a < high and b > low for a, b in spans)
            renamed = any(low < y < high and name_key(names[y]) != name_key(names[other]) for y in names)
            if not crossed and not renamed:
                out[code] = (names[other], other)
                break
    return out


class Merger(NamedTuple):
    """A whole gemeente that became part of another on 1 January of ``year``."""

    year: int
    from_code: str
    from_name: str
    to_code: str
    to_name: str


@cache
def gemeente_mergers() -> tuple[Merger, ...]:
    """Gemeentelijke herindelingen in which whole gemeenten merged (CBS, 2021-2023).

    A merger is a crosswalk too: the old gemeente goes whole into its successor, and the
    successor is another area than before (Amsterdam with Weesp is not Amsterdam of 2021).

    Examples
    --------
    >>> [m.to_name for m in gemeente_mergers() if m.from_name == "Appingedam"]
    ['Eemsdelta']
    """
    text = resources.files("wijkradar.sources.catalogue").joinpath("gemeente_mergers.csv").read_text("utf-8")
    return tuple(
        Merger(int(r["year"]), r["from_code"], r["from_name"], r["to_code"], r["to_name"])
        for r in csv.DictReader(text.splitlines())
    )

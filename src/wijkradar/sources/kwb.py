"""CBS Kerncijfers Wijken en Buurten (KWB) in the layouts people actually have.

* API key style (``WijkenEnBuurten, AantalInwoners_5, k_65JaarOfOuder_12`` ...), as the OData
  API and tools built on it deliver the tables 83765NED (2017) ... 85984NED (2024).
* Descriptive Dutch headers (``GM_CODE, Aantal inwoners, Personen 65 jaar en ouder (%)`` ...), as in
  the attribute tables of the wijk- en buurtkaart.
* The official ``kwb-YYYY.xlsx`` download (``gwb_code_10, regio, recs, a_inw, a_65_oo`` ...).
* Derived lower-case tables that combine KWB with other sources (``buurt_code, aantal_inwoners``).

All four map onto one set of measure ids: CBS's own short variable names from the kwb-YYYY.xlsx
documentation (``a_inw``, ``p_65_eo_jr``, ``g_ink_pi``, ``af_artspr`` ...), so the same figure
from different years and layouts lands on the same measure.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Final, NamedTuple

import pandas as pd

from wijkradar.errors import InputError
from wijkradar.sources.model import (
    MEASURE_COLUMNS,
    TOTAL_GROUP,
    Dataset,
    SourceMeta,
    check_codes,
    key_stem,
    long_frame,
    regions_frame,
    split_camel,
    year_from_path,
)
from wijkradar.sources.tabular import Table, load_table

KWB_TABLE_IDS: Final[dict[int, str]] = {
    2013: "82339NED",
    2014: "82931NED",
    2015: "83220NED",
    2016: "83487NED",
    2017: "83765NED",
    2018: "84286NED",
    2019: "84583NED",
    2020: "84799NED",
    2021: "85039NED",
    2022: "85318NED",
    2023: "85618NED",
    2024: "85984NED",
}
# Nabijheid voorzieningen: (code, distance phrase, count phrase) as CBS words them.
FACILITIES: Final[tuple[tuple[str, str, str], ...]] = (
    ("artspr", "huisartsenpraktijk", "huisartsenpraktijken"),
    ("artspo", "huisartsenpost", "huisartsenposten"),
    ("apoth", "apotheek", "apotheken"),
    ("ziek_i", "ziekenhuis incl. buitenpolikliniek", "ziekenhuizen incl. buitenpolikliniek"),
    ("ziek_e", "ziekenhuis excl. buitenpolikliniek", "ziekenhuizen excl. buitenpolikliniek"),
    ("superm", "grote supermarkt", "grote supermarkten"),
    ("daglmd", "overige dagelijkse levensmiddelen", "winkels overige dagelijkse levensmiddelen"),
    ("warenh", "warenhuis", "warenhuizen"),
    ("cafe", "café", "cafés"),
    ("caftar", "cafetaria", "cafetaria's"),
    ("restau", "restaurant", "restaurants"),
    ("hotel", "hotel", "hotels"),
    ("kdv", "kinderdagverblijf", "kinderdagverblijven"),
    ("bso", "buitenschoolse opvang", "buitenschoolse opvang"),
    ("ondbas", "basisscholen", "basisscholen"),
    ("ondvrt", "voortgezet onderwijs", "voortgezet onderwijs"),
    ("ondvmb", "scholen vmbo", "scholen vmbo"),
    ("ondhv", "scholen havo/vwo", "scholen havo/vwo"),
    ("brandw", "brandweerkazerne", "brandweerkazernes"),
    ("oprith", "oprit hoofdverkeersweg", "opritten hoofdverkeersweg"),
    ("treinst", "treinstation", "treinstations"),
    ("overst", "belangrijk overstapstation", "overstapstations"),
    ("zwemb", "zwembad", "zwembaden"),
    ("ijsbaan", "kunstijsbaan", "kunstijsbanen"),
    ("biblio", "bibliotheek", "bibliotheken"),
    ("pop", "poppodium", "poppodia"),
    ("bios", "bioscoop", "bioscopen"),
    ("sauna", "sauna", "sauna's"),
    ("zonbnk", "zonnebank", "zonnebanken"),
    ("attrac", "attractie", "attracties"),
    ("podium", "podiumkunsten", "podiumkunsten"),
    ("museum", "museum", "musea"),
)
# PDOK's code properties (finest first) and the name property beside each.
PDOK_CODES: Final = {"buurtcode": "buurtnaam", "wijkcode": "wijknaam", "gemeentecode": "gemeentenaam"}
# Columns of the descriptive and derived layouts that are not figures.
NON_MEASURES: Final = frozenset(
    {
        "h2o",
        "water",
        "jrstatcode",
        "jaarstatcode",
        "jaar",
        "shape_leng",
        "shape_area",
        "ind_wbi",
        "postcode",
        "meest_voorkomende_postcode",
        "regio",
        "gm_naam",
        "wk_naam",
        "bu_naam",
        "gwb_code",
        "gwb_code_8",
        "gwb_code_10",
        "recs",
        "buurt_code",
        "wijk_code",
        "gm_code",
        "wk_code",
        "bu_code",
        "id",
        "gemeentenaam",
        "indelingswijziging",
        "indelingswijziging_wijken_en_buurten",
        "dekkingspercentage",
        "buurtcode",
        "buurtnaam",
        "wijkcode",
        "wijknaam",
        "gemeentecode",
        # added by the author of the staged gemeente table, not published by CBS
        "inkomengroep",
        "perc_opleiding",
        "opleidingsgroep",
    }
)


@dataclass(frozen=True)
class Variable:
    """One KWB variable: its id, Dutch label and unit."""

    id: str
    label: str
    unit: str


class Catalogue(NamedTuple):
    """The KWB variables and the lookups from each layout's column names to their ids."""

    variables: dict[str, Variable]
    by_stem: dict[str, str]  # API key stem, lower case
    by_header: dict[str, str]  # descriptive Dutch header, normalised
    by_derived: dict[str, str]  # lower-case derived name
    by_kaart: dict[str, str]  # the kaart's shapefile/DBF field (AANT_INW)
    by_pdok: dict[str, str]  # PDOK's snake_case property (aantal_inwoners)


# PDOK words some facilities differently from CBS's Nabijheid headers.
PDOK_FACILITY_STEMS: Final = {
    "ziek_i": ("ziekenhuis_incl_buitenpolikliniek_gem_afst", "ziekenhuis_incl_buitenpoli_gem_aantal"),
    "ziek_e": ("ziekenhuis_excl_buitenpolikliniek_gem_afst", "ziekenhuis_excl_buitenpoli_gem_aantal"),
    "daglmd": ("winkels_ov_dagelijkse_levensm_gem_afst", "winkels_ov_dagel_levensm_gem_aantal"),
    "bso": ("buitenschoolse_opvang_gem_afstand", "buitenschoolse_opvang_gemiddeld_aantal"),
    "ondbas": ("basisonderwijs_gemiddelde_afstand", "basisonderwijs_gemiddeld_aantal"),
    "ondvrt": ("voortgezet_onderwijs_gem_afstand", "voortgezet_onderwijs_gemiddeld_aantal"),
    "ondvmb": ("vmbo_gemiddelde_afstand", "vmbo_gemiddeld_aantal"),
    "ondhv": ("havo_vwo_gemiddelde_afstand", "havo_vwo_gemiddeld_aantal"),
    "overst": ("overstapstation_gemiddelde_afstand", "overstapstation_gemiddeld_aantal"),
}


@cache
def catalogue() -> Catalogue:
    """Load the KWB variables and the lookups from every layout's column names."""
    text = resources.files("wijkradar.sources.catalogue").joinpath("kwb.csv").read_text(encoding="utf-8")
    cat = Catalogue({}, {}, {}, {}, {}, {})
    for row in csv.DictReader(text.splitlines()):
        cat.variables[row["id"]] = Variable(row["id"], row["label"], row["unit"])
        for lookup, key in (
            (cat.by_stem, row["api_stem"].lower()),
            (cat.by_header, _norm_header(row["header"])),
            (cat.by_derived, row["derived"]),
            (cat.by_kaart, row["kaart"].upper()),
            (cat.by_pdok, row["pdok"]),
        ):
            if key:
                lookup[key] = row["id"]
    for code, one, many in FACILITIES:
        cat.variables[f"af_{code}"] = Variable(f"af_{code}", f"Afstand tot {one}", "km")
        cat.by_derived[f"afstand_tot_{_slug(one)}_km"] = f"af_{code}"
        distance, count = PDOK_FACILITY_STEMS.get(
            code, (f"{_slug(one)}_gemiddelde_afstand", f"{_slug(one)}_gemiddeld_aantal")
        )
        cat.by_pdok[f"{distance}_in_km"] = f"af_{code}"
        for radius in (1, 3, 5, 10, 20, 50):
            vid = f"av{radius}_{code}"
            cat.variables[vid] = Variable(vid, f"Aantal {many} binnen {radius} km", "gemiddeld aantal")
            cat.by_pdok[f"{count}_binnen_{radius}_km"] = vid
    cat.by_derived["afstand_tot_ziekenhuis_km"] = "af_ziek_i"
    cat.by_derived["afstand_tot_buitenschoolseopvang_km"] = "af_bso"
    cat.by_derived["afstand_tot_hoofdverkeersweg_km"] = "af_oprith"
    return cat


def _norm_header(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower().replace("’", "'"))


def _facility_id(header: str) -> str | None:
    """Map 'Afstand tot huisartsenpraktijk (km)' or 'Aantal cafés binnen 3 km' to a KWB id."""
    h = _norm_header(header)
    m = re.fullmatch(r"afstand tot (.+?) \(km\)", h)
    if m:
        phrase = m.group(1)
        for code, one, _ in FACILITIES:
            if phrase == one.lower() or phrase.startswith(one.lower()):
                return f"af_{code}"
    m = re.fullmatch(r"aantal (.+?) binnen (\d+) km", h)
    if m:
        phrase, radius = m.group(1), m.group(2)
        for code, one, many in FACILITIES:
            if phrase in (many.lower(), one.lower()):
                return f"av{radius}_{code}"
    return None


def _slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^0-9a-z]+", "_", plain.lower()).strip("_")


def _label_and_unit(header: str) -> tuple[str, str]:
    """Split 'Gemiddeld inkomen per inwoner (x1000 euro)' into label and unit."""
    m = re.fullmatch(r"(.+?)\s*\(([^()]*)\)\s*", header)
    if not m:
        return header.strip(), ""
    unit = m.group(2).replace("km2", "km²").replace("x1000", "x 1 000")
    if unit.startswith("% van"):
        unit = "%"
    return m.group(1).strip(), unit


def layout_of(columns: Iterable[str]) -> str | None:
    """Name the KWB layout a header row is in, or None when it is none of them."""
    cols = {c.strip() for c in columns}
    lower = {c.lower() for c in cols}
    by_stem = catalogue().by_stem
    if "WijkenEnBuurten" in cols and "Perioden" not in cols:
        if any(key_stem(c).lower() in by_stem for c in cols):
            return "kwb-api"
    if lower & {"gwb_code_10", "gwb_code"} and "regio" in lower:
        return "kwb-xlsx"
    if lower & {"gm_code", "wk_code", "bu_code"}:
        return "kwb-kaart"
    if "buurt_code" in lower:
        return "kwb-derived"
    if lower & set(PDOK_CODES) and lower & set(catalogue().by_pdok):
        return "kwb-pdok"
    return None


def read_file(path: Path, *, period: str | None = None) -> Dataset:
    """Read a KWB table in any of the supported layouts."""
    return from_table(path, load_table(path), period=period)


def from_table(path: Path, table: Table, *, period: str | None = None) -> Dataset:
    """Read a KWB table that has already been loaded as text."""
    frame = table.frame
    layout = layout_of(frame.columns)
    file = str(path)
    if layout is None:
        raise InputError(
            file,
            "geen bekende indeling van de Kerncijfers wijken en buurten; gevonden kolommen: "
            + ", ".join(list(frame.columns)[:10]),
            fix="gebruik een bestand met WijkenEnBuurten, gwb_code_10, GM_CODE/WK_CODE/BU_CODE of buurt_code",
        )
    cat = catalogue()
    lower_map = {c.lower(): c for c in frame.columns}

    if layout == "kwb-api":
        code_col = "WijkenEnBuurten"
        name_col = None
    elif layout == "kwb-xlsx":
        code_col = lower_map.get("gwb_code_10") or lower_map["gwb_code"]
        name_col = lower_map["regio"]
    elif layout == "kwb-kaart":
        code_col = next(lower_map[c] for c in ("bu_code", "wk_code", "gm_code") if c in lower_map)
        name_col = lower_map.get(code_col.lower().replace("code", "naam"))
    elif layout == "kwb-pdok":
        code_col = next(lower_map[c] for c in PDOK_CODES if c in lower_map)
        name_col = lower_map.get(PDOK_CODES[code_col.lower()])
    else:
        code_col = lower_map["buurt_code"]
        name_col = lower_map.get("regio")

    frame, water_rows = _without_water_rows(frame, code_col)
    table = Table(frame=frame, first_row=table.first_row, decimal_comma=table.decimal_comma)
    year = _year(frame, path, period)
    measures: dict[str, str] = {}
    labels: dict[str, Variable] = {}
    api_ids = kwb_measure_ids([str(c) for c in frame.columns]) if layout == "kwb-api" else {}
    for column in frame.columns:
        low = column.lower().strip()
        if (
            column in (code_col, name_col)
            or low in NON_MEASURES
            or key_stem(column)
            in (
                "Gemeentenaam",
                "SoortRegio",
                "Codering",
                "IndelingswijzigingWijkenEnBuurten",
            )
        ):
            continue
        vid, var = _variable(layout, column, cat)
        if column in api_ids:
            vid = api_ids[column]
            var = cat.variables.get(vid) or Variable(vid, split_camel(column), "")
        if vid in measures.values():
            continue  # the same figure twice (a derived table's copy): keep the first
        measures[column] = vid
        labels[vid] = var

    codes = check_codes(frame[code_col], file=file, column=code_col, first_row=table.first_row)
    observations = long_frame(
        frame,
        keys={"region_code": codes, "period": str(year), "population_group": TOTAL_GROUP},
        measures=measures,
        file=file,
        first_row=table.first_row,
        decimal_comma=table.decimal_comma,
    )
    names = frame[name_col] if name_col else None
    regions = regions_frame(codes, names)
    measure_frame = pd.DataFrame(
        [(v.id, v.label, v.unit, "") for v in labels.values()], columns=list(MEASURE_COLUMNS)
    )
    derived = layout == "kwb-derived"
    boundary = int(str(year)[-4:])
    meta = SourceMeta(
        publisher="afgeleid" if derived else "CBS",
        table_id=(
            f"afgeleid:{path.parent.name}/{path.stem}" if derived else KWB_TABLE_IDS.get(boundary, "KWB")
        ),
        title=(
            "Afgeleide buurttabel (CBS Kerncijfers en Nabijheid, Leefbaarometer, RIVM, CBS)"
            if derived
            else f"Kerncijfers wijken en buurten {year}"
        ),
        location=str(path.resolve()),
        format=layout,
        boundary_year=boundary,
        note="samengesteld door derden; controleer de bronnen per kolom"
        if derived
        else (
            f"{water_rows} waterdelen (WATER = JA) overgeslagen; de cijfers staan bij het land"
            if water_rows
            else ""
        ),
    )
    return Dataset(meta=meta, observations=observations, regions=regions, measures=measure_frame)


def kwb_measure_ids(keys: list[str]) -> dict[str, str]:
    """Map the API keys of a Kerncijfers table to measure ids that are the same in every year's table.

    The ``_N`` suffix of a key shifts from year to year (``AantalInwoners_5`` in 2024): a key stem
    in the catalogue becomes CBS's short variable name (``a_inw``); any other becomes its stem,
    with ``_2``, ``_3`` for a stem that recurs in the table (``Nederland`` as country of birth and
    of origin), so the same topic of two years still meets.

    Examples
    --------
    >>> kwb_measure_ids(["AantalInwoners_5", "Nederland_17", "Nederland_20"])
    {'AantalInwoners_5': 'a_inw', 'Nederland_17': 'Nederland', 'Nederland_20': 'Nederland_2'}
    """
    by_stem = catalogue().by_stem
    seen: dict[str, int] = {}
    out: dict[str, str] = {}
    for key in keys:
        stem = key_stem(key)
        known = by_stem.get(stem.lower())
        if known and known not in out.values():
            out[key] = known
            continue
        seen[stem] = seen.get(stem, 0) + 1
        out[key] = stem if seen[stem] == 1 else f"{stem}_{seen[stem]}"
    return out


def _without_water_rows(frame: pd.DataFrame, code_col: str) -> tuple[pd.DataFrame, int]:
    """Drop the kaart's water rows where the same code also has its land row.

    The wijk- en buurtkaart gives many areas a land part (``WATER`` = ``NEE``) and a water part
    (``WATER`` = ``JA``) under one code; the water part carries only sentinels, and CBS counts the
    figures with the land. A code with a water row only (an area that is all water) keeps it.
    """
    flag = next((c for c in frame.columns if c.strip().lower() in ("water", "h2o")), None)
    if flag is None:
        return frame, 0
    is_water = (frame[flag].astype("string").str.strip().str.upper() == "JA").fillna(False).to_numpy()
    codes = frame[code_col].astype("string").str.strip().str.upper()
    land_codes = set(codes[~is_water].dropna())
    drop = is_water & codes.isin(land_codes).to_numpy()
    return frame.loc[~drop], int(drop.sum())


def _variable(layout: str, column: str, cat: Catalogue) -> tuple[str, Variable]:
    variables = cat.variables
    if layout == "kwb-xlsx":
        own = column.strip().lower()
        return own, variables.get(own, Variable(own, own, ""))
    if layout == "kwb-kaart":
        upper = column.strip().upper()
        found = (
            cat.by_kaart.get(upper)
            or (upper.lower() if upper.lower() in variables and upper == column.strip() else None)
            or cat.by_header.get(_norm_header(column))
            or _facility_id(column)
        )
        if found:
            return found, variables[found]
        label, unit = _label_and_unit(column)
        return _slug(column), Variable(_slug(column), label, unit)
    name = column.strip().lower()
    known = cat.by_pdok.get(name) or cat.by_derived.get(name) or (name if name in variables else None)
    if known:
        return known, variables[known]
    label = name.replace("_", " ")
    return name, Variable(name, label[:1].upper() + label[1:], "")


def _year(frame: pd.DataFrame, path: Path, period: str | None) -> str:
    if period:
        return period
    for col in ("JAAR", "jaar"):
        if col in frame.columns:
            years = frame[col].astype("string").str.strip().str[:4].unique().tolist()
            if len(years) == 1 and years[0] and years[0].isdigit():
                return str(years[0])
    found = year_from_path([*path.parent.parts[-2:], path.name])
    if found is None:
        if layout_of(frame.columns) == "kwb-derived":
            return "2020-2022"
        raise InputError(
            str(path),
            "het jaar van deze Kerncijfers staat niet in het bestand of de bestandsnaam",
            fix="zet het jaar in de bestandsnaam (kwb-2020.xlsx) of geef --period 2020",
        )
    return str(found)

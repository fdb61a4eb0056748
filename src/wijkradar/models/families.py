"""Families of model features, so that drivers read as things a wijkteam can act on.

A buurt's estimate is the sum of many small contributions; summed per family they say *why* in a
few words: earlier survey rounds (of the area, its wijk, its gemeente or its neighbours), the
population, households, income and work, facilities nearby, or the surroundings (the Kerncijfers of
the wijk and gemeente around it, the housing and the built environment). The family of a feature
follows from its role prefix (see :mod:`wijkradar.models.features`) and, for the Kerncijfers, from
the CBS column name.
"""

from __future__ import annotations

import re
from typing import Any, Final

EARLIER: Final = "eerdere peilingen"
FAMILIES: Final = (EARLIER, "bevolking", "huishoudens", "inkomen en werk", "voorzieningen", "omgeving")
FAMILY_PREFIX: Final = "familie:"
BELOW: Final = "buurten:"  # drivers of a wijk or gemeente estimate that come from its buurten

# Checked in this order: the first pattern that matches the CBS column name decides.
_RULES: Final = (
    ("voorzieningen", re.compile(r"^af_|^afstand|^av\d|binnen_\d|afstand|leefbarometer_voorzieningen")),
    (
        "inkomen en werk",
        re.compile(
            r"ink|soz|uitkering|bijstand|_hh_(li|hi|lkk|110|120|osm|sti|ver)$|^m_hh_ver|arbeid|"
            r"werknemer|zelfstandig|opl_|social_economische|vermogen"
        ),
    ),
    ("huishoudens", re.compile(r"hh|huishoud|eenp|gehuwd|gescheid|verweduw")),
    (
        "omgeving",
        re.compile(
            r"woning|woz|huur|koop|bouwj|^p_bj|gezw|leegs|bewndw|wcorp|ov_hw|^ste_|dich|opp_|_ha$|"
            r"leefbarometer|geluid|pau|motor|bedrijf|vestiging|bedv|gas|^g_ele|stadsverwarming"
        ),
    ),
)


def family(feature: str) -> str:
    """Return the family of a model feature (one of :data:`FAMILIES`).

    >>> family("prev:Eenzaam_28|65+"), family("gm:chg2:Eenzaam_28|65+"), family("wk:kwb:a_65_oo")
    ('eerdere peilingen', 'eerdere peilingen', 'omgeving')
    >>> family("kwb:aandeel_65_oo"), family("kwb:p_hh_li"), family("kwb:p_eenp_hh"), family("kwb:af_superm")
    ('bevolking', 'inkomen en werk', 'huishoudens', 'voorzieningen')

    A driver from the buurten below a wijk or gemeente (``buurten:``) has its buurt feature's family:

    >>> family("buurten:nb:prev_target"), family("buurten:kwb:g_ink_pi")
    ('eerdere peilingen', 'inkomen en werk')
    """
    if feature.startswith(BELOW):
        return family(feature[len(BELOW) :])
    if re.match(r"(wk:|gm:|nb:)?(prev|chg)", feature):
        return EARLIER  # the area's, its wijk's, its gemeente's or its neighbours' earlier rounds
    if feature.startswith(("nb:", "wk:", "gm:")):
        return "omgeving"
    column = feature.split(":", 1)[-1].lower()
    for name, pattern in _RULES:
        if pattern.search(column):
            return name
    return "bevolking"


def split(contributions: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Split a stored estimate's contributions into the concrete drivers and the family sums.

    Every concrete driver gets its family. Models stored before families were summed have no sums:
    those are then summed from the concrete drivers that were kept (the largest few), the best left.
    """
    concrete = [
        {**c, "family": c.get("family") or family(str(c["feature"]))}
        for c in contributions
        if not str(c["feature"]).startswith(FAMILY_PREFIX)
    ]
    summed = [c for c in contributions if str(c["feature"]).startswith(FAMILY_PREFIX)]
    if not summed and concrete:
        totals: dict[str, float] = {}
        for c in concrete:
            name = c["family"]
            totals[name] = totals.get(name, 0.0) + float(c["contribution"])
        summed = [
            {"feature": f"{FAMILY_PREFIX}{n}", "label": n, "family": n, "value": None, "contribution": v}
            for n, v in sorted(totals.items(), key=lambda item: -abs(item[1]))
        ]
    return concrete, summed

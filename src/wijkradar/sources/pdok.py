"""Download the CBS wijk- en buurtkaart from PDOK's OGC API Features.

``{base}/cbs/wijken-en-buurten-{year}/ogc/v1/collections/{gemeenten|wijken|buurten}/items`` answers
GeoJSON pages of at most ``limit`` features with a ``next`` link, ``numberMatched`` and
``numberReturned``; ``gemeentecode=GM0034`` filters on a property. Each feature carries the kaart's
Kerncijfers in snake_case (``aantal_inwoners``, ...). Years without an API of their own are in
PDOK's historical dataset (``wijken-en-buurten-historisch``), whose collections are found by level
and year. The pages of one level are saved as one GeoJSON file (in WGS84, as PDOK sends them) in a
temporary folder that is moved into place only when every level is complete; ingesting that file
gives the regions, their names, their boundaries and that year's Kerncijfers on that indeling.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from wijkradar.errors import DownloadError
from wijkradar.sources.download import Client, Progress, staged

DEFAULT_PDOK: Final = "https://api.pdok.nl"
COLLECTIONS: Final = {"gemeente": "gemeenten", "wijk": "wijken", "buurt": "buurten"}
PAGE_SIZE: Final = 1000


@dataclass(frozen=True)
class KaartResult:
    """Where a kaart download was saved: one GeoJSON file per level."""

    year: int
    folder: Path
    files: list[Path]
    features: int


def download_kaart(
    year: int,
    out_dir: Path,
    *,
    levels: Iterable[str] = ("wijk", "buurt"),
    gemeenten: Iterable[str] = (),
    base_url: str = DEFAULT_PDOK,
    client: Client | None = None,
    on_progress: Progress | None = None,
) -> KaartResult:
    """Download the kaart of ``year`` (some levels, optionally some gemeenten) into ``out_dir``."""
    own = client is None
    http = client or Client()
    codes = sorted(set(gemeenten))
    stem = f"wijkenbuurten_{year}" + (f"_{'_'.join(codes)}" if codes else "")
    final = out_dir / stem
    files = []
    total = 0
    try:
        with staged(final) as partial:
            api = _api(http, base_url.rstrip("/"), year)
            for level in levels:
                url = _items_url(http, api, level, year)
                features = []
                for code in codes or [""]:
                    params = {"f": "json", "limit": str(PAGE_SIZE)}
                    if code:
                        params["gemeentecode"] = code
                    what = f"{COLLECTIONS[level]} {code}".strip()
                    features += _pages(http, url, params, what, on_progress)
                for feature in features:
                    feature.setdefault("properties", {}).setdefault("jaar", year)
                target = partial / f"{COLLECTIONS[level]}_{year}.geojson"
                collection = {"type": "FeatureCollection", "name": COLLECTIONS[level], "features": features}
                target.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
                files.append(final / target.name)
                total += len(features)
    finally:
        if own:
            http.close()
    return KaartResult(year=year, folder=final, files=files, features=total)


def _api(http: Client, base: str, year: int) -> str:
    """Return the OGC API of the year's kaart, or PDOK's historical one when the year has none."""
    own = f"{base}/cbs/wijken-en-buurten-{year}/ogc/v1"
    try:
        http.get_json(f"{own}/collections", {"f": "json"})
    except DownloadError as exc:
        if "(404)" not in str(exc):
            raise
        return f"{base}/cbs/wijken-en-buurten-historisch/ogc/v1"
    return own


def _items_url(http: Client, api: str, level: str, year: int) -> str:
    collection = COLLECTIONS[level]
    if not api.endswith("historisch/ogc/v1"):
        return f"{api}/collections/{collection}/items"
    listing = http.get_json(f"{api}/collections", {"f": "json"})
    ids = [str(c.get("id", "")) for c in listing.get("collections", []) if isinstance(c, dict)]
    found = [i for i in ids if collection in i.lower() and str(year) in i]
    if not found:
        raise DownloadError(
            f"PDOK heeft geen {collection} voor {year} (ook niet in de historische kaarten). "
            "Oplossing: kies een ander jaar met --jaar."
        )
    return f"{api}/collections/{found[0]}/items"


def _pages(
    http: Client, url: str, params: dict[str, str], what: str, on_progress: Progress | None
) -> list[dict[str, Any]]:
    """Every feature of a listing, following the ``next`` links."""
    features: list[dict[str, Any]] = []
    next_url: str | None = url
    query: dict[str, str] | None = params
    while next_url:
        page = http.get_json(next_url, query)
        query = None  # the next link carries the query already
        if not isinstance(page, dict) or not isinstance(page.get("features"), list):
            raise DownloadError(
                f"{next_url} gaf geen GeoJSON-features terug. Oplossing: controleer --base-url."
            )
        features += page["features"]
        if on_progress:
            matched = page.get("numberMatched")
            on_progress(what, len(features), int(matched) if isinstance(matched, int) else None)
        next_url = next(
            (str(link["href"]) for link in page.get("links", []) if link.get("rel") == "next"), None
        )
    return features

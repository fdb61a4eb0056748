"""Download tables from the CBS open-data API (OData v3 and v4) into a folder that mirrors it.

Each endpoint's answer is saved unchanged as JSON (data pages numbered), so the folder documents
exactly what the API said; :mod:`wijkradar.sources.odata` reads it. The download goes to a
temporary folder first and is moved into place only when complete: an interrupted download never
looks like a finished one.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import httpx

from wijkradar.errors import DownloadError
from wijkradar.regions import is_valid_code, own_prefixes

RETRY_STATUS: Final = frozenset({429, 500, 502, 503, 504})
# Share of a dimension's codes that must be CBS region codes for it to be the region dimension
# (a region list may carry a few codes of its own, such as a total).
REGION_SHARE: Final = 0.8
Progress = Callable[[str, int, int | None], None]  # (what, rows so far, total rows or None)


@dataclass(frozen=True)
class DownloadResult:
    """Where a table was saved and how much it holds."""

    table_id: str
    folder: Path
    rows: int
    pages: int


class Client:
    """A small HTTP client with retries and back-off, returning parsed JSON."""

    def __init__(
        self,
        *,
        retries: int = 4,
        backoff: float = 0.5,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.retries = retries
        self.backoff = backoff
        self.http = httpx.Client(
            timeout=timeout,
            follow_redirects=True,
            transport=transport,
            headers={"Accept": "application/json"},
        )

    def close(self) -> None:
        """Close the underlying connection pool."""
        self.http.close()

    def get_json(self, url: str, params: dict[str, str] | None = None) -> Any:
        """GET ``url`` and parse JSON, retrying transient failures."""
        response = self._get(url, params)
        try:
            return response.json()
        except json.JSONDecodeError as exc:
            raise DownloadError(
                f"{url} gaf geen geldige JSON terug ({exc.msg}). Oplossing: probeer het later "
                "opnieuw of controleer --base-url."
            ) from exc

    def get_text(self, url: str, params: dict[str, str] | None = None) -> str:
        """GET ``url`` as text, retrying transient failures."""
        return self._get(url, params).text

    def _get(self, url: str, params: dict[str, str] | None) -> httpx.Response:
        last: str = ""
        for attempt in range(self.retries + 1):
            try:
                response = self.http.get(url, params=params)
            except httpx.TransportError as exc:
                last = f"verbinding mislukt ({exc.__class__.__name__}: {exc})"
            else:
                if response.status_code == 200:
                    return response
                if response.status_code == 404:
                    raise DownloadError(
                        f"{response.url} bestaat niet (404). Oplossing: controleer het tabelnummer of jaar "
                        "op https://opendata.cbs.nl of de --base-url."
                    )
                if response.status_code not in RETRY_STATUS:
                    raise DownloadError(
                        f"{response.url} antwoordde {response.status_code}: "
                        f"{response.text[:200]!r}. Oplossing: controleer het filter (--filter)."
                    )
                last = f"de server antwoordde {response.status_code}"
            if attempt < self.retries:
                time.sleep(self.backoff * (2**attempt))
        raise DownloadError(
            f"{url}: {last}, ook na {self.retries + 1} pogingen. Oplossing: controleer de "
            "internetverbinding of probeer het later opnieuw."
        )


@contextmanager
def staged(final: Path) -> Iterator[Path]:
    """Write into a temporary folder beside ``final`` and move it into place only when complete.

    An interrupted download (an error, Ctrl+C) removes the temporary folder and leaves an earlier
    complete download at ``final`` as it was.
    """
    partial = final.parent / f".{final.name}.partial"
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    try:
        yield partial
        if final.exists():
            shutil.rmtree(final)
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def download_table(
    table_id: str,
    out_dir: Path,
    *,
    base_url: str,
    odata_filter: str | None = None,
    api: Literal["v3", "v4"] = "v3",
    client: Client | None = None,
    on_progress: Progress | None = None,
    gemeenten: list[str] | None = None,
) -> DownloadResult:
    """Download one table into ``out_dir / table_id`` and return where it went.

    The table's metadata and code lists come first: a table without a region dimension is refused
    before any of its data is fetched. ``gemeenten`` (codes) keeps only those gemeenten with their
    wijken and buurten, on the region dimension whatever its name.
    """
    own = client is None
    http = client or Client()
    final = out_dir / table_id
    try:
        with staged(final) as partial:
            if api == "v3":
                rows, pages = _download_v3(
                    http, base_url.rstrip("/"), table_id, partial, odata_filter, on_progress, gemeenten or []
                )
            else:
                rows, pages = _download_v4(
                    http, base_url.rstrip("/"), table_id, partial, odata_filter, on_progress, gemeenten or []
                )
    finally:
        if own:
            http.close()
    return DownloadResult(table_id=table_id, folder=final, rows=rows, pages=pages)


def _save(folder: Path, name: str, payload: Any) -> None:
    (folder / name).write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")


def _follow(http: Client, url: str, params: dict[str, str] | None, next_key: str) -> list[Any]:
    """All pages of a listing, following the API's next links."""
    pages = []
    next_url: str | None = url
    while next_url:
        payload = http.get_json(next_url, params)
        params = None  # the next link carries the query already
        pages.append(payload)
        next_url = payload.get(next_key) if isinstance(payload, dict) else None
    return pages


def _data_pages(
    http: Client,
    url: str,
    params: dict[str, str],
    next_key: str,
    folder: Path,
    stem: str,
    total: int | None,
    on_progress: Progress | None,
) -> tuple[int, int]:
    rows = pages = 0
    next_url: str | None = url
    query: dict[str, str] | None = params
    while next_url:
        payload = http.get_json(next_url, query)
        query = None
        values = payload.get("value") if isinstance(payload, dict) else None
        if not isinstance(values, list):
            raise DownloadError(f"{next_url} gaf geen OData-rijen ('value' ontbreekt).")
        pages += 1
        rows += len(values)
        _save(folder, f"{stem}-{pages:04d}.json", payload)
        if on_progress:
            on_progress(stem, rows, total)
        next_url = payload.get(next_key)
    return rows, pages


def _count(http: Client, url: str, params: dict[str, str]) -> int | None:
    try:
        text = http.get_text(url, params).strip()
    except DownloadError:
        return None
    return int(text) if text.isdigit() else None


def region_dimension(kinds: dict[str, str], code_lists: dict[str, list[str]]) -> str | None:
    """Name the dimension that holds CBS region codes, from the metadata or else from its codes.

    ``kinds`` gives each dimension's kind (``GeoDimension``, ``GeoDetail``, ``Dimension`` ...);
    ``code_lists`` its codes. A Geo kind decides; otherwise a dimension whose codes are (mostly)
    CBS region codes is one, whatever its name (``Wijken``, ``RegioS``, ``Gemeenten``).

    Examples
    --------
    >>> region_dimension({"Perioden": "TimeDimension", "Wijken": "Dimension"},
    ...                  {"Wijken": ["GM0034", "WK003401"], "Perioden": ["2016JJ00"]})
    'Wijken'
    """
    for key, kind in kinds.items():
        if kind in ("GeoDimension", "GeoDetail"):
            return key
    for key, kind in kinds.items():
        codes = [c.strip().upper() for c in code_lists.get(key, []) if c.strip()]
        if kind == "Dimension" and codes and sum(map(is_valid_code, codes)) >= REGION_SHARE * len(codes):
            return key
    return None


def _refuse_without_regions(table_id: str, title: str, dimensions: list[str]) -> DownloadError:
    listed = ", ".join(dimensions) or "geen"
    return DownloadError(
        f"Tabel {table_id} ({title}) heeft geen regio-indeling (dimensies: {listed}): het is een landelijke "
        "tabel, en wijkradar leest tabellen per gemeente, wijk of buurt. Er zijn geen gegevens "
        "gedownload. Oplossing: kies de tabel met de cijfers per regio (zie 'Tabellen om te downloaden' "
        "in de README)."
    )


def gemeente_filter(dimension: str, gemeente: str) -> str:
    """Build the OData filter that keeps one gemeente with its wijken and buurten.

    Examples
    --------
    >>> gemeente_filter("Wijken", "GM0034")
    "startswith(Wijken,'GM0034') or startswith(Wijken,'WK0034') or startswith(Wijken,'BU0034')"
    """
    return " or ".join(f"startswith({dimension},'{prefix}')" for prefix in own_prefixes(gemeente))


def _merged_filter(odata_filter: str | None, dimension: str, gemeenten: list[str]) -> str | None:
    parts = [f"({gemeente_filter(dimension, g)})" for g in gemeenten]
    region = " or ".join(parts)
    if region and odata_filter:
        return f"({region}) and ({odata_filter})"
    return region or odata_filter


def _download_v3(
    http: Client,
    base: str,
    table_id: str,
    folder: Path,
    odata_filter: str | None,
    on_progress: Progress | None,
    gemeenten: list[str],
) -> tuple[int, int]:
    table = f"{base}/{table_id}"
    fmt = {"$format": "json"}
    infos = http.get_json(f"{table}/TableInfos", fmt)
    _save(folder, "TableInfos.json", infos)
    properties = http.get_json(f"{table}/DataProperties", fmt)
    _save(folder, "DataProperties.json", properties)
    kinds: dict[str, str] = {}
    code_lists: dict[str, list[str]] = {}
    for prop in properties.get("value", []):
        if prop.get("Type") in ("Dimension", "GeoDimension", "GeoDetail", "TimeDimension"):
            key = str(prop["Key"])
            pages = _follow(http, f"{table}/{key}", fmt, "odata.nextLink")
            merged = {**pages[0], "value": [v for p in pages for v in p.get("value", [])]}
            merged.pop("odata.nextLink", None)
            _save(folder, f"{key}.json", merged)
            kinds[key] = str(prop.get("Type"))
            code_lists[key] = [str(v.get("Key", "")) for v in merged["value"]]
    region = region_dimension(kinds, code_lists)
    if region is None:
        title = str((infos.get("value") or [{}])[0].get("Title") or table_id)
        raise _refuse_without_regions(table_id, title, list(kinds))
    params = dict(fmt)
    odata_filter = _merged_filter(odata_filter, region, gemeenten)
    if odata_filter:
        params["$filter"] = odata_filter
    total = _count(http, f"{table}/TypedDataSet/$count", {k: v for k, v in params.items() if k != "$format"})
    return _data_pages(
        http,
        f"{table}/TypedDataSet",
        params,
        "odata.nextLink",
        folder,
        "TypedDataSet",
        total,
        on_progress,
    )


def _download_v4(
    http: Client,
    base: str,
    table_id: str,
    folder: Path,
    odata_filter: str | None,
    on_progress: Progress | None,
    gemeenten: list[str],
) -> tuple[int, int]:
    table = f"{base}/{table_id}"
    properties = http.get_json(f"{table}/Properties")
    _save(folder, "Properties.json", properties)
    measures = _follow(http, f"{table}/MeasureCodes", None, "@odata.nextLink")
    _save(folder, "MeasureCodes.json", {"value": [v for p in measures for v in p.get("value", [])]})
    dimensions = http.get_json(f"{table}/Dimensions")
    _save(folder, "Dimensions.json", dimensions)
    kinds: dict[str, str] = {}
    code_lists: dict[str, list[str]] = {}
    for dim in dimensions.get("value", []):
        ident = str(dim["Identifier"])
        pages = _follow(http, f"{table}/{ident}Codes", None, "@odata.nextLink")
        codes = [v for p in pages for v in p.get("value", [])]
        _save(folder, f"{ident}Codes.json", {"value": codes})
        kinds[ident] = str(dim.get("Kind") or "Dimension")
        code_lists[ident] = [str(v.get("Identifier", "")) for v in codes]
    region = region_dimension(kinds, code_lists)
    if region is None:
        title = str(properties.get("Title") or table_id) if isinstance(properties, dict) else table_id
        raise _refuse_without_regions(table_id, title, list(kinds))
    odata_filter = _merged_filter(odata_filter, region, gemeenten)
    params = {"$filter": odata_filter} if odata_filter else {}
    total = _count(http, f"{table}/Observations/$count", params)
    return _data_pages(
        http,
        f"{table}/Observations",
        params,
        "@odata.nextLink",
        folder,
        "Observations",
        total,
        on_progress,
    )

"""A loopback server that answers in the shape of PDOK's OGC API Features for the CBS wijken en buurten.

Its buurten are the staged Baarn (PDOK 2024 shape, as published) and Ermelo (RD New GeoPackage,
transformed to WGS84) files; its wijken are those buurten dissolved per wijkcode, named from the
staged 2017 wijk table. Built from real staged files only; nothing is invented but the grouping.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import numpy as np
import pyogrio
import shapely
from pyproj import Transformer

from odata_fixtures import running


def _features(path: Path) -> list[dict[str, Any]]:
    meta, _, wkb, fields = pyogrio.raw.read(str(path))
    geoms = shapely.from_wkb(np.asarray(wkb, dtype=object))
    if meta.get("crs") and "28992" in str(meta["crs"]):
        rd = Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)
        geoms = shapely.transform(geoms, lambda xy: np.column_stack(rd.transform(xy[:, 0], xy[:, 1])))
    names = [str(n) for n in meta["fields"]]
    out = []
    for i, geom in enumerate(geoms):
        props = {n: _plain(v[i]) for n, v in zip(names, fields, strict=True)}
        out.append({"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(geom)})
    return out


def _plain(value: Any) -> Any:
    """A JSON value as PDOK sends it: numbers as numbers, missing as null."""
    value = value.item() if hasattr(value, "item") else value
    return None if isinstance(value, float) and value != value else value


def kaart_features(data: Path) -> dict[str, list[dict[str, Any]]]:
    """Gemeenten, wijken and buurten of Baarn and Ermelo in PDOK's property names."""
    buurten = _features(data / "boundaries" / "baarn_buurten.geojson")
    buurten += _features(data / "boundaries" / "ermelo_buurten.gpkg")
    for f in buurten:
        f["properties"]["jaar"] = 2024
    meta, _, _, fields = pyogrio.raw.read(
        str(data / "cbs-kwb-wijken-2017" / "wijk_2017.dbf"), read_geometry=False
    )
    columns = dict(zip([str(n) for n in meta["fields"]], fields, strict=True))
    wijk_names = dict(zip(columns["WK_CODE"], columns["WK_NAAM"], strict=True))
    wijken = []
    for code in sorted({f["properties"]["wijkcode"] for f in buurten}):
        parts = [f for f in buurten if f["properties"]["wijkcode"] == code]
        shape = shapely.union_all([shapely.geometry.shape(f["geometry"]) for f in parts])
        props = {
            "wijkcode": code,
            "wijknaam": wijk_names.get(code, code),
            "gemeentecode": parts[0]["properties"]["gemeentecode"],
            "aantal_inwoners": sum(max(0, int(f["properties"].get("aantal_inwoners") or 0)) for f in parts),
            "jaar": 2024,
        }
        wijken.append({"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(shape)})
    return {"buurten": buurten, "wijken": wijken, "gemeenten": []}


class PdokServer(ThreadingHTTPServer):
    """Serves ``/cbs/wijken-en-buurten-{year}/ogc/v1/collections/{c}/items`` with paging and failures."""

    def __init__(self, features: dict[str, list[dict[str, Any]]], *, page_size: int, failures: int) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.features = features
        self.page_size = page_size
        self.failures = failures
        self.requests: list[str] = []
        self.own_years = {2024}

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: PdokServer

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # the name http.server calls
        self.server.requests.append(self.path)
        if self.server.failures > 0:
            self.server.failures -= 1
            return self._send(503, {"detail": "tijdelijk niet beschikbaar"})
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        parts = url.path.strip("/").split("/")
        if len(parts) < 5 or parts[0] != "cbs" or parts[2:4] != ["ogc", "v1"]:
            return self._send(404, {"detail": "onbekend"})
        dataset = parts[1]
        historic = dataset == "wijken-en-buurten-historisch"
        year = None if historic else int(dataset.rsplit("-", 1)[1])
        if year is not None and year not in self.server.own_years:
            return self._send(404, {"detail": "onbekend"})
        if parts[4:] == ["collections"]:
            ids = [f"{c}_2016" if historic else c for c in self.server.features]
            return self._send(200, {"collections": [{"id": i} for i in ids]})
        if len(parts) == 7 and parts[4] == "collections" and parts[6] == "items":
            return self._items(parts[5].split("_")[0], query)
        return self._send(404, {"detail": "onbekend"})

    def _items(self, collection: str, query: dict[str, str]) -> None:
        rows = self.server.features.get(collection, [])
        if "gemeentecode" in query:
            rows = [f for f in rows if f["properties"]["gemeentecode"] == query["gemeentecode"]]
        limit = min(int(query.get("limit", "10")), self.server.page_size)
        offset = int(query.get("offset", "0"))
        page = rows[offset : offset + limit]
        links = []
        if offset + limit < len(rows):
            nxt = {**query, "offset": str(offset + limit)}
            links.append(
                {"rel": "next", "href": f"{self.server.base}{urlparse(self.path).path}?{urlencode(nxt)}"}
            )
        body = {
            "type": "FeatureCollection",
            "features": page,
            "numberMatched": len(rows),
            "numberReturned": len(page),
            "links": links,
        }
        self._send(200, body)

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/geo+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def serve_pdok(
    features: dict[str, list[dict[str, Any]]], *, page_size: int = 8, failures: int = 0
) -> AbstractContextManager[PdokServer]:
    return running(PdokServer(features, page_size=page_size, failures=failures))

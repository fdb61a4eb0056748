"""Payloads in the CBS OData API's exact shapes (v3 and v4), built from the real RIVM xlsx files.

Used to write download folders for the reader tests and to feed the loopback HTTP server of the
downloader tests.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlparse

import fastexcel
import pandas as pd

from wijkradar.sources.statline import rivm_catalogue

DIMENSIONS = ("Leeftijd", "Marges", "WijkenEnBuurten", "Perioden")
ATTRIBUTES = ("Gemeentenaam_1", "SoortRegio_2", "Codering_3")
AGE_TITLES = {"80200": "65 jaar of ouder", "20300": "18 jaar of ouder"}
MARGIN_TITLES = {
    "MW00000": "Waarde",
    "MOG0095": "Ondergrens 95%-interval",
    "MBG0095": "Bovengrens 95%-interval",
}


def rivm_subset(xlsx: Path, gemeente: str = "0034") -> pd.DataFrame:
    """The rows of one gemeente (and NL01) from a RIVM export, as the text the file holds."""
    frame = fastexcel.read_excel(str(xlsx)).load_sheet(0, dtypes="string").to_pandas()
    code = frame["WijkenEnBuurten"].str.strip()
    keep = (code == "NL01") | code.str[2:6].eq(gemeente)
    return frame[keep].reset_index(drop=True)


def topics(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in ("ID", *DIMENSIONS, *ATTRIBUTES)]


def with_margins(frame: pd.DataFrame, spread: float = 2.0) -> pd.DataFrame:
    """Add lower and upper bound rows (value -/+ spread) as the Marges dimension would carry them."""
    parts = [frame]
    for code, sign in (("MOG0095", -1), ("MBG0095", 1)):
        bound = frame.copy()
        bound["Marges"] = code
        for column in topics(frame):
            numbers = pd.to_numeric(bound[column].str.strip(), errors="coerce") + sign * spread
            bound[column] = numbers.map(lambda v: "" if pd.isna(v) else f"{v:.1f}")
        parts.append(bound)
    return pd.concat(parts, ignore_index=True)


def _number(cell: Any) -> float | None:
    text = "" if cell is None or (isinstance(cell, float) and pd.isna(cell)) else str(cell).strip()
    try:
        return float(text)
    except ValueError:
        return None


def v3_rows(frame: pd.DataFrame, *, typed: bool) -> list[dict[str, Any]]:
    rows = []
    for i, record in enumerate(frame.to_dict("records")):
        row: dict[str, Any] = {"ID": i}
        for column in (*DIMENSIONS, *ATTRIBUTES):
            row[column] = record[column]
        for column in topics(frame):
            cell = record[column]
            if typed:
                row[column] = _number(cell)
            else:
                row[column] = "       ." if _number(cell) is None else str(cell)
        rows.append(row)
    return rows


def v3_metadata(frame: pd.DataFrame, table_id: str = "50090NED") -> dict[str, dict[str, Any]]:
    base = f"https://opendata.cbs.nl/ODataApi/OData/{table_id}/$metadata"
    catalogue = rivm_catalogue()
    props: list[dict[str, Any]] = [
        {
            "odata.type": "Cbs.OData.Dimension",
            "ID": 0,
            "Position": 0,
            "ParentID": None,
            "Type": "Dimension",
            "Key": "Leeftijd",
            "Title": "Leeftijd",
            "Description": None,
        },
        {
            "odata.type": "Cbs.OData.Dimension",
            "ID": 1,
            "Position": 1,
            "ParentID": None,
            "Type": "Dimension",
            "Key": "Marges",
            "Title": "Marges",
            "Description": None,
        },
        {
            "odata.type": "Cbs.OData.GeoDimension",
            "ID": 2,
            "Position": 2,
            "ParentID": None,
            "Type": "GeoDimension",
            "Key": "WijkenEnBuurten",
            "Title": "Wijken en buurten",
        },
        {
            "odata.type": "Cbs.OData.TimeDimension",
            "ID": 3,
            "Position": 3,
            "ParentID": None,
            "Type": "TimeDimension",
            "Key": "Perioden",
            "Title": "Perioden",
        },
    ]
    for n, column in enumerate(ATTRIBUTES, start=4):  # region attributes: string topics, as CBS serves them
        props.append(
            {
                "odata.type": "Cbs.OData.Topic",
                "ID": n,
                "Position": n,
                "ParentID": None,
                "Type": "Topic",
                "Key": column,
                "Title": column.split("_")[0],
                "Datatype": "String",
                "Unit": "code",
            }
        )
    for n, column in enumerate(topics(frame), start=10):
        label, unit, description = catalogue[column.rsplit("_", 1)[0]]
        props.append(
            {
                "odata.type": "Cbs.OData.Topic",
                "ID": n,
                "Position": n,
                "ParentID": None,
                "Type": "Topic",
                "Key": column,
                "Title": label,
                "Description": description,
                "Datatype": "Double",
                "Unit": unit,
                "Decimals": 1,
                "Default": "Impossible",
            }
        )
    regions = frame.drop_duplicates("WijkenEnBuurten")
    region_titles = [
        {
            "Key": r["WijkenEnBuurten"],
            "Title": (
                r["Gemeentenaam_1"].strip()
                if r["WijkenEnBuurten"].startswith(("GM", "NL"))
                else f"Buurt {r['WijkenEnBuurten'].strip()[-2:]}"
            ),
            "Description": None,
            "CategoryGroupID": None,
        }
        for r in regions.to_dict("records")
    ]
    return {
        "TableInfos": {
            "odata.metadata": f"{base}#Cbs.OData.WebAPI.TableInfos",
            "value": [
                {
                    "ID": 0,
                    "Title": "Gezondheid per wijk en buurt; 2016 en 2020 (indeling 2020)",
                    "ShortTitle": "Gezondheid per wijk en buurt",
                    "Identifier": table_id,
                    "Period": "2016, 2020",
                    "Modified": "2022-06-07T02:00:00",
                    "Language": "nl",
                    "Catalog": "CBS",
                }
            ],
        },
        "DataProperties": {"odata.metadata": f"{base}#Cbs.OData.WebAPI.DataProperties", "value": props},
        "Leeftijd": {
            "odata.metadata": f"{base}#Cbs.OData.WebAPI.Leeftijd",
            "value": [
                {"Key": k, "Title": t, "Description": None, "CategoryGroupID": None}
                for k, t in AGE_TITLES.items()
            ],
        },
        "Marges": {
            "odata.metadata": f"{base}#Cbs.OData.WebAPI.Marges",
            "value": [
                {"Key": k, "Title": t, "Description": None, "CategoryGroupID": None}
                for k, t in MARGIN_TITLES.items()
            ],
        },
        "WijkenEnBuurten": {
            "odata.metadata": f"{base}#Cbs.OData.WebAPI.WijkenEnBuurten",
            "value": region_titles,
        },
        "Perioden": {
            "odata.metadata": f"{base}#Cbs.OData.WebAPI.Perioden",
            "value": [
                {"Key": p, "Title": p[:4], "Description": None, "Status": "Definitief"}
                for p in sorted(frame["Perioden"].str.strip().unique())
            ],
        },
    }


def v4_payloads(frame: pd.DataFrame, table_id: str = "50090NED") -> dict[str, Any]:
    """Properties, MeasureCodes, Dimensions, <Dim>Codes and the Observations rows."""
    catalogue = rivm_catalogue()
    measure_ids = {column: f"M{n:06d}" for n, column in enumerate(topics(frame), start=1)}
    observations: list[dict[str, Any]] = []
    for record in frame.to_dict("records"):
        for column, mid in measure_ids.items():
            value = _number(record[column])
            observations.append(
                {
                    "Id": len(observations),
                    "Measure": mid,
                    "ValueAttribute": "None" if value is not None else "Missing",
                    "Value": value,
                    "StringValue": None,
                    **{d: record[d].strip() for d in DIMENSIONS},
                }
            )
    v3 = v3_metadata(frame, table_id)
    return {
        "Properties": {
            "Identifier": table_id,
            "Title": v3["TableInfos"]["value"][0]["Title"],
            "Language": "nl",
        },
        "MeasureCodes": {
            "value": [
                {
                    "Identifier": mid,
                    "Index": i,
                    "Title": catalogue[col.rsplit("_", 1)[0]][0],
                    "Description": "",
                    "MeasureGroupId": None,
                    "DataType": "Double",
                    "Unit": "%",
                    "Decimals": 1,
                }
                for i, (col, mid) in enumerate(measure_ids.items())
            ]
        },
        "Dimensions": {"value": [{"Identifier": d, "Title": d, "Kind": "Dimension"} for d in DIMENSIONS]},
        **{
            f"{d}Codes": {
                "value": [{"Identifier": e["Key"].strip(), "Title": e["Title"]} for e in v3[d]["value"]]
            }
            for d in DIMENSIONS
        },
        "Observations": observations,
        "measure_ids": measure_ids,
    }


def write_v3_bundle(frame: pd.DataFrame, folder: Path, *, typed: bool = True, page_size: int = 500) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, payload in v3_metadata(frame).items():
        (folder / f"{name}.json").write_text(json.dumps(payload), encoding="utf-8")
    rows = v3_rows(frame, typed=typed)
    stem = "TypedDataSet" if typed else "UntypedDataSet"
    for n, start in enumerate(range(0, len(rows), page_size), start=1):
        page = {
            "odata.metadata": "https://opendata.cbs.nl/ODataApi/OData/50090NED/$metadata#Cbs.OData.WebAPI."
            f"{stem}",
            "value": rows[start : start + page_size],
        }
        (folder / f"{stem}-{n:04d}.json").write_text(json.dumps(page), encoding="utf-8")
    return folder


def write_v4_bundle(frame: pd.DataFrame, folder: Path, *, page_size: int = 5000) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    payloads = v4_payloads(frame)
    for name, payload in payloads.items():
        if name in ("Observations", "measure_ids"):
            continue
        (folder / f"{name}.json").write_text(json.dumps(payload), encoding="utf-8")
    rows = payloads["Observations"]
    for n, start in enumerate(range(0, len(rows), page_size), start=1):
        page = {
            "@odata.context": "https://datasets.cbs.nl/odata/v1/CBS/50090NED/$metadata#Observations",
            "value": rows[start : start + page_size],
        }
        (folder / f"Observations-{n:04d}.json").write_text(json.dumps(page), encoding="utf-8")
    return folder


class _Handler(BaseHTTPRequestHandler):
    server: ODataServer

    def log_message(self, format: str, *args: Any) -> None:  # silence the test output
        return

    def do_GET(self) -> None:  # the name http.server dispatches on
        self.server.requests.append(self.path)
        if self.server.failures > 0:
            self.server.failures -= 1
            self._send(503, {"error": "tijdelijk niet beschikbaar"})
            return
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        parts = [p for p in url.path.split("/") if p]
        self._route(parts, query)

    def _send(self, status: int, payload: Any, *, text: bool = False) -> None:
        body = (str(payload) if text else json.dumps(payload)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain" if text else "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _route(self, parts: list[str], query: dict[str, str]) -> None:
        srv = self.server
        # /v3/<table>/<endpoint>[/$count]  or  /v4/<table>/<endpoint>[/$count]
        if len(parts) < 3 or parts[1] != srv.table_id:
            self._send(404, {"error": "niet gevonden"})
            return
        api, endpoint = parts[0], parts[2]
        rows = srv.filtered(query.get("$filter"), api)
        if len(parts) == 4 and parts[3] == "$count":
            self._send(200, len(rows), text=True)
            return
        data_endpoint = "TypedDataSet" if api == "v3" else "Observations"
        if endpoint == data_endpoint:
            skip = int(query.get("$skip", "0"))
            page = rows[skip : skip + srv.page_size]
            payload: dict[str, Any] = {"value": page}
            if skip + srv.page_size < len(rows):
                nxt = f"{srv.base}/{api}/{srv.table_id}/{endpoint}?$skip={skip + srv.page_size}"
                if query.get("$filter"):
                    nxt += "&$filter=" + query["$filter"]
                if query.get("$format"):
                    nxt += "&$format=json"
                payload["odata.nextLink" if api == "v3" else "@odata.nextLink"] = nxt
            self._send(200, payload)
            return
        meta = srv.v3_meta if api == "v3" else srv.v4
        if endpoint in meta:
            self._send(200, meta[endpoint])
            return
        self._send(404, {"error": "onbekend eindpunt"})


class ODataServer(ThreadingHTTPServer):
    """A loopback server answering like opendata.cbs.nl (v3) and datasets.cbs.nl (v4)."""

    def __init__(self, frame: pd.DataFrame, *, page_size: int = 100, failures: int = 0) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.table_id = "50090NED"
        self.page_size = page_size
        self.failures = failures
        self.requests: list[str] = []
        self.v3_meta = v3_metadata(frame)
        self.v3_rows = v3_rows(frame, typed=True)
        self.v4 = v4_payloads(frame)
        self.base = f"http://127.0.0.1:{self.server_address[1]}"

    def filtered(self, odata_filter: str | None, api: str) -> list[dict[str, Any]]:
        rows = self.v3_rows if api == "v3" else self.v4["Observations"]
        if not odata_filter:
            return rows
        # The one filter form the tests use: startswith(WijkenEnBuurten,'GM0034')
        prefix = odata_filter.split("'")[1]
        return [r for r in rows if str(r["WijkenEnBuurten"]).strip().startswith(prefix)]


S = TypeVar("S", bound=ThreadingHTTPServer)


@contextmanager
def serve(frame: pd.DataFrame, **kwargs: Any) -> Iterator[ODataServer]:
    with running(ODataServer(frame, **kwargs)) as server:
        yield server


@contextmanager
def running(server: S) -> Iterator[S]:
    """Serve on a background thread for the duration of the block (any loopback test server)."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()

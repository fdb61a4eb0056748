"""CBS OData JSON: v3 data pages with ``DataProperties``, and v4 ``Observations``.

v3 means ``TypedDataSet`` / ``UntypedDataSet`` with ``DataProperties``; v4 means ``Observations``
with ``MeasureCodes``.

A download is a folder that mirrors the API: one JSON file per endpoint, data pages numbered
(``TypedDataSet-0001.json`` ...), exactly as the service returned them. The folder is one table;
a single data page on its own can be read too (labels then come from its siblings, if any).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Final

import pandas as pd

from wijkradar.errors import InputError
from wijkradar.sources.model import Dataset, normalise_period
from wijkradar.sources.statline import PERIOD_DIMENSION, Labels, from_wide, is_attribute, v3_keys_by_title
from wijkradar.sources.tabular import Table

V3_DATA: Final = ("TypedDataSet", "UntypedDataSet")
V4_DATA: Final = "Observations"
METADATA_FILES: Final = ("DataProperties.json", "MeasureCodes.json")
# v4 ValueAttribute -> StatLine symbol, so both versions share one set of status rules.
V4_ATTRIBUTES: Final[dict[str, str]] = {
    "Missing": ".",
    "Impossible": ".",
    "Confidential": "x",
    "Secret": "x",
    "Nil": "-",
    "Zero": "-",
    "Unreliable": "?",
}


def is_bundle(folder: Path) -> bool:
    """Tell whether a folder is an OData download (it holds the table's metadata)."""
    return any((folder / name).is_file() for name in METADATA_FILES)


def is_page(path: Path) -> bool:
    """Tell whether a JSON file is an OData data page (v3 or v4)."""
    return path.suffix.lower() == ".json" and path.name.startswith((*V3_DATA, V4_DATA))


def read_bundle(folder: Path) -> Dataset:
    """Read a downloaded OData table folder into one Dataset."""
    if (folder / "MeasureCodes.json").is_file():
        return _read_v4(folder, _pages(folder, V4_DATA))
    pages = [p for kind in V3_DATA for p in _pages(folder, kind)]
    if not pages:
        raise InputError(
            str(folder),
            "de map bevat metadata maar geen gegevens (TypedDataSet*.json of UntypedDataSet*.json)",
            fix="download de tabel opnieuw met 'wijkradar download'",
        )
    return _read_v3(folder, pages)


def read_page(path: Path) -> Dataset:
    """Read a single saved data page; labels come from metadata files beside it, if present."""
    if path.name.startswith(V4_DATA):
        return _read_v4(path.parent, [path])
    return _read_v3(path.parent, [path])


def _pages(folder: Path, kind: str) -> list[Path]:
    return sorted(p for p in folder.glob(f"{kind}*.json") if p.is_file())


def _parse(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise InputError(
            str(path),
            f"ongeldige of afgebroken JSON ({exc.msg})",
            row=exc.lineno,
            fix="download het bestand opnieuw",
        ) from exc
    except UnicodeDecodeError as exc:
        raise InputError(
            str(path), "het bestand is geen tekst (UTF-8)", fix="kies het juiste bestand"
        ) from exc


def _load(path: Path) -> dict[str, Any]:
    payload = _parse(path)
    if isinstance(payload, list):  # cbsodata saves each entity set as a bare list
        return {"value": payload}
    if not isinstance(payload, dict) or not isinstance(payload.get("value"), list):
        raise InputError(
            str(path),
            "geen OData-antwoord: het object 'value' met rijen ontbreekt",
            fix="sla het antwoord van de API ongewijzigd op (?$format=json)",
        )
    return payload


def _values(folder: Path, name: str) -> list[dict[str, Any]]:
    """Rows of a metadata file; v4's Properties is one object rather than a list."""
    path = folder / name
    if not path.is_file():
        return []
    payload = _parse(path)
    if isinstance(payload, list):  # cbsodata's saves: no envelope
        return [p for p in payload if isinstance(p, dict)]
    if isinstance(payload, dict) and isinstance(payload.get("value"), list):
        return list(payload["value"])
    return [payload] if isinstance(payload, dict) else []


def _table_id(payloads: list[dict[str, Any]], folder: Path) -> str | None:
    infos = _values(folder, "TableInfos.json") or _values(folder, "Properties.json")
    if infos and infos[0].get("Identifier"):
        return str(infos[0]["Identifier"])
    for payload in payloads:
        context = str(payload.get("odata.metadata") or payload.get("@odata.context") or "")
        m = re.search(r"/(\d{5}[A-Z]{3}|\d{5}[a-z]{3})/", context)
        if m:
            return m.group(1).upper()
    m = re.search(r"(\d{5}[A-Z]{3})", folder.name.upper())
    return m.group(1) if m else None


def _title(folder: Path) -> str | None:
    infos = _values(folder, "TableInfos.json") or _values(folder, "Properties.json")
    return str(infos[0]["Title"]) if infos and infos[0].get("Title") else None


GEO_KINDS: Final = ("GeoDimension", "GeoDetail")
DIMENSION_KINDS: Final = ("Dimension", "GeoDimension", "GeoDetail", "TimeDimension")


def _read_v3(folder: Path, pages: list[Path]) -> Dataset:
    payloads = [_load(p) for p in pages]
    rows = [row for payload in payloads for row in payload["value"]]
    file = str(pages[0] if len(pages) == 1 else folder)
    if not rows:
        raise InputError(file, "de gedownloade tabel bevat geen rijen", fix="controleer het filter")
    labels = Labels(table_id=_table_id(payloads, folder), title=_title(folder))
    frame = pd.DataFrame.from_records(rows)
    frame.columns = [str(c) for c in frame.columns]
    frame = frame.drop(columns=[c for c in ("ID",) if c in frame.columns])
    for prop in _values(folder, "DataProperties.json"):
        kind = prop.get("Type")
        key = str(prop.get("Key", ""))
        if is_attribute(key) or (kind == "Topic" and str(prop.get("Datatype") or "") == "String"):
            labels.attributes.add(key)  # names, kinds and codes of regions: never a measure
        elif kind == "Topic":
            labels.topics[key] = (
                str(prop.get("Title") or key).strip(),
                str(prop.get("Unit") or "").strip(),
                str(prop.get("Description") or "").strip(),
            )
        elif kind in DIMENSION_KINDS:
            entries = _values(folder, f"{key}.json")
            titles = {str(e["Key"]).strip(): str(e.get("Title", "")).strip() for e in entries}
            labels.dimension_titles[key] = titles
            if key in frame.columns:
                frame[key] = _codes_for_titles(frame[key], titles)
            if kind in GEO_KINDS and (labels.geo_dimension is None or kind == "GeoDimension"):
                labels.geo_dimension = key
                labels.region_names = {k.upper(): v for k, v in titles.items() if v}
                if prop.get("MapYear"):
                    labels.map_year = int(prop["MapYear"])
    if PERIOD_DIMENSION not in frame.columns:
        period = _table_period(folder)
        if period is None:
            raise InputError(
                file,
                "de tabel heeft geen periode-dimensie en TableInfos noemt geen periode",
                fix="download de tabel opnieuw met 'wijkradar download' (dat bewaart TableInfos)",
            )
        frame[PERIOD_DIMENSION] = period
        labels.period_note = (
            f"periode {period} uit de tabelinformatie (TableInfos): de tabel heeft geen Perioden"
        )
    table = Table(frame=frame, first_row=1)
    fmt = "odata-v3-typed" if pages[0].name.startswith("Typed") else "odata-v3-untyped"
    if (folder / "DataProperties.json").is_file() and isinstance(
        _parse(folder / "DataProperties.json"), list
    ):
        fmt = "cbsodata"  # the Python client's save: bare lists, dimensions as titles
    return from_wide(table, file=file, location=str(folder.resolve()), fmt=fmt, labels=labels)


def _codes_for_titles(column: pd.Series, titles: dict[str, str]) -> pd.Series:
    """Map a dimension saved as titles (``cbsodata`` does so) back to its codes.

    A column already holding codes is returned as it is; a title that two codes share cannot be
    mapped back and stays a title (the region reader then takes the code from ``Codering``).
    """
    if not titles:
        return column
    values = column.astype("string").str.strip()
    if values.isin(list(titles)).all():
        return column
    by_title: dict[str, str] = {}
    shared: set[str] = set()
    for code, title in titles.items():
        if title in by_title:
            shared.add(title)
        by_title[title] = code
    for title in shared:
        by_title.pop(title)
    mapped = values.map(by_title)
    return mapped.where(mapped.notna(), values).astype(object)


def _table_period(folder: Path) -> str | None:
    """Return the period of a table without a time dimension, from its TableInfos (``Period`` "2024")."""
    infos = _values(folder, "TableInfos.json")
    text = str(infos[0].get("Period") or "").strip() if infos else ""
    return normalise_period(text) if text else None


def _v3_names(labels: Labels) -> dict[str, str]:
    """Map v4 measure codes onto the table's v3 keys by title (and description where titles repeat).

    Renames ``labels.topics`` in place, so a v4 download lands on the same measure ids as the same
    table from v3, CSV or xlsx; codes without a match keep their v4 code.
    """
    known = v3_keys_by_title().get(labels.table_id or "", {})
    if not known:
        return {}
    titles = {k.split("|")[0] for k in known}
    by_title = {t: [v for k, v in known.items() if k.split("|")[0] == t] for t in titles}
    mapping: dict[str, str] = {}
    for code, (title, _unit, description) in labels.topics.items():
        key = " ".join(title.lower().split())
        candidates = by_title.get(key, [])
        if len(candidates) == 1:
            mapping[code] = candidates[0]
        elif candidates:
            exact = known.get(key + "|" + " ".join(description.lower().split()))
            if exact:
                mapping[code] = exact
    labels.topics = {mapping.get(code, code): value for code, value in labels.topics.items()}
    return mapping


def _read_v4(folder: Path, pages: list[Path]) -> Dataset:
    if not pages:
        raise InputError(str(folder), "de map bevat geen Observations*.json", fix="download de tabel opnieuw")
    payloads = [_load(p) for p in pages]
    rows = [row for payload in payloads for row in payload["value"]]
    file = str(pages[0] if len(pages) == 1 else folder)
    if not rows:
        raise InputError(file, "de gedownloade tabel bevat geen rijen", fix="controleer het filter")
    obs = pd.DataFrame.from_records(rows)
    for required in ("Measure", "Value"):
        if required not in obs.columns:
            raise InputError(
                file,
                f"kolom '{required}' ontbreekt in Observations",
                column=required,
                fix="sla het antwoord van de v4-API ongewijzigd op",
            )
    labels = Labels(table_id=_table_id(payloads, folder), title=_title(folder))
    for measure in _values(folder, "MeasureCodes.json"):
        labels.topics[str(measure["Identifier"])] = (
            str(measure.get("Title") or measure["Identifier"]),
            str(measure.get("Unit") or "").strip(),
            str(measure.get("Description") or "").strip(),
        )
    dims = [c for c in obs.columns if c not in ("Id", "Measure", "ValueAttribute", "Value", "StringValue")]
    kinds = {str(d.get("Identifier")): d for d in _values(folder, "Dimensions.json")}
    for dim in dims:
        entries = _values(folder, f"{dim}Codes.json")
        titles = {str(e["Identifier"]).strip(): str(e.get("Title", "")).strip() for e in entries}
        labels.dimension_titles[dim] = titles
        described = kinds.get(dim, {})
        if described.get("Kind") in GEO_KINDS:
            labels.geo_dimension = dim
            labels.map_year = int(described["MapYear"]) if described.get("MapYear") else None
        if described.get("Kind") in GEO_KINDS or dim in ("WijkenEnBuurten", "RegioS", "Regio", "Gemeenten"):
            labels.region_names = {k.upper(): v for k, v in titles.items() if v}
    attribute = (
        obs["ValueAttribute"] if "ValueAttribute" in obs.columns else pd.Series("None", index=obs.index)
    )
    cell = obs["Value"].astype(object)
    symbol = attribute.map(V4_ATTRIBUTES)
    cell = cell.where(symbol.isna(), symbol)
    obs = obs.assign(cell=cell)
    obs["Measure"] = obs["Measure"].astype(str).map(_v3_names(labels)).fillna(obs["Measure"].astype(str))
    wide = obs.pivot_table(index=dims, columns="Measure", values="cell", aggfunc="first", dropna=False)
    wide = wide.reset_index()
    wide.columns = [str(c) for c in wide.columns]
    if not labels.topics:
        labels.topics = {m: (m, "", "") for m in obs["Measure"].astype(str).unique()}
    table = Table(frame=wide, first_row=1)
    return from_wide(table, file=file, location=str(folder.resolve()), fmt="odata-v4", labels=labels)

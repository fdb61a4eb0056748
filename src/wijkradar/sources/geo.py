"""Boundaries: GeoJSON and GeoPackage layers of gemeenten, wijken or buurten.

Geometries are stored as WKB in WGS84 (EPSG:4326), the coordinate system web maps and QGIS users
exchange; files in RD New (EPSG:28992), as PDOK and CBS deliver them, are transformed on the way
in. The code field is found by looking at the values, since every publisher names it differently.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from wijkradar.errors import InputError
from wijkradar.regions import CODE_PATTERN, is_valid_code
from wijkradar.sources import kwb
from wijkradar.sources.model import (
    MEASURE_COLUMNS,
    OBS_COLUMNS,
    Dataset,
    SourceMeta,
    empty_frame,
    regions_frame,
    year_from_path,
)
from wijkradar.sources.tabular import Table

GEO_SUFFIXES: Final = frozenset({".geojson", ".gpkg", ".json", ".shp", ".zip"})
ATTRIBUTE_SUFFIXES: Final = frozenset({".dbf"})
CODE_FIELDS: Final = (
    "buurtcode",
    "bu_code",
    "wijkcode",
    "wk_code",
    "gemeentecode",
    "gm_code",
    "statcode",
    "cbscode",
    "code",
    "id",
)
NAME_FIELDS: Final = (
    "buurtnaam",
    "bu_naam",
    "wijknaam",
    "wk_naam",
    "gemeentenaam",
    "gm_naam",
    "statnaam",
    "naam",
    "name",
)
YEAR_FIELDS: Final = ("jaar", "jrstatcode", "jaarstatcode")
UNKNOWN_YEAR: Final = 0


def read_file(path: Path, *, layer: str | None = None) -> Dataset:
    """Read the boundary layers of a file (all of them, or the one named).

    Gives the regions, their names and shapes in WGS84, and, where a layer carries the wijk- en
    buurtkaart's Kerncijfers with their year (PDOK's ``jaar``), those figures as that year's
    Kerncijfers on that indeling.
    """
    import pyogrio  # GDAL loads slowly; only boundary files need it

    file = str(path)
    try:
        layers = [(str(name), kind) for name, kind in pyogrio.list_layers(file)]
    except Exception as exc:  # GDAL raises its own hierarchy for damaged or foreign files
        raise _unreadable(file, exc) from exc
    if layer is not None:
        if layer not in {name for name, _ in layers}:
            raise InputError(
                file,
                f"laag '{layer}' bestaat niet; lagen: " + ", ".join(name for name, _ in layers),
                fix="kies een van de genoemde lagen met --laag",
            )
        chosen = [layer]
    else:
        chosen = [name for name, kind in layers if kind is not None] or [layers[0][0]]
    parts = [_read_layer(path, name) for name in chosen]
    if len(parts) == 1:
        return parts[0]
    return _combine(path, parts)


def read_attributes(path: Path, *, layer: str | None = None) -> pd.DataFrame:
    """Read a layer's attribute table only (a DBF, or a shapefile's fields) as a frame."""
    import pyogrio

    try:
        _, _, _, field_data = pyogrio.raw.read(str(path), layer=layer, read_geometry=False)
        meta = pyogrio.read_info(str(path), layer=layer)
    except Exception as exc:
        raise _unreadable(str(path), exc) from exc
    fields = [str(f) for f in meta["fields"]]
    return pd.DataFrame({name: values for name, values in zip(fields, field_data, strict=True)})


def _unreadable(file: str, exc: Exception) -> InputError:
    return InputError(
        file,
        f"het grensbestand kan niet gelezen worden ({type(exc).__name__})",
        fix="controleer dat het een GeoJSON-, GeoPackage- of shapebestand is; download het opnieuw",
    )


def _read_layer(path: Path, layer: str) -> Dataset:
    import pyogrio
    import shapely
    from pyproj import CRS, Transformer

    file = str(path)
    try:
        meta, _, wkb, field_data = pyogrio.raw.read(file, layer=layer)
    except Exception as exc:
        raise _unreadable(file, exc) from exc
    fields = [str(f) for f in meta["fields"]]
    attrs = pd.DataFrame({name: values for name, values in zip(fields, field_data, strict=True)})
    if attrs.empty or wkb is None:
        raise InputError(
            file, f"laag '{layer}' bevat geen vlakken", fix="kies het juiste bestand of de juiste laag"
        )
    code_col = _find_code_field(attrs)
    if code_col is None:
        raise InputError(
            file,
            "geen kolom met CBS-regiocodes gevonden; gevonden velden: " + ", ".join(fields[:12]),
            column=None,
            fix="voeg een veld buurtcode/wijkcode/gemeentecode toe met codes als BU00340101",
        )
    name_col = next((f for f in fields if f.lower() in NAME_FIELDS and f != code_col), None)
    codes = attrs[code_col].astype("string").str.strip().str.upper().astype(object)

    geoms = shapely.from_wkb(np.asarray(wkb, dtype=object))
    crs = CRS.from_user_input(meta["crs"]) if meta.get("crs") else CRS.from_epsg(4326)
    if crs.to_epsg() != 4326:
        transformer = Transformer.from_crs(crs, CRS.from_epsg(4326), always_xy=True)
        geoms = shapely.transform(
            geoms, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
        )
    geoms = shapely.make_valid(geoms)

    geometries = pd.DataFrame({"code": codes, "wkb": shapely.to_wkb(geoms)})
    geometries = geometries.drop_duplicates("code").reset_index(drop=True)
    regions = regions_frame(codes, attrs[name_col] if name_col else None)
    containing = _containing(attrs, code_col)
    context = pd.concat(containing, ignore_index=True).drop_duplicates("code") if containing else None
    if context is not None:
        context = context[~context["code"].isin(set(regions["code"]))].reset_index(drop=True)
    year, stated = _year(attrs, fields, path)
    kinds = sorted(regions["level"].unique().tolist())
    figures = None
    if stated and kwb.layout_of(attrs.columns):
        figures = kwb.from_table(path, Table(frame=attrs, first_row=1), period=str(year))
        if figures.measures.empty:
            figures = None
    source = SourceMeta(
        publisher="CBS/Kadaster",
        table_id=f"grenzen:{'+'.join(kinds)}:{path.stem}",
        title=f"Grenzen {', '.join(kinds)} ({path.name})",
        location=str(path.resolve()),
        format="geopackage" if path.suffix.lower() == ".gpkg" else "geojson",
        boundary_year=year,
        note="" if year else "grensjaar onbekend: niet in het bestand of de bestandsnaam",
    )
    if figures is not None:
        source = replace(
            source,
            table_id=figures.meta.table_id,
            title=f"{figures.meta.title} met grenzen ({path.name})",
            format=f"{source.format}+{figures.meta.format}",
        )
    return Dataset(
        meta=source,
        observations=figures.observations if figures is not None else empty_frame(OBS_COLUMNS),
        regions=regions,
        measures=figures.measures if figures is not None else empty_frame(MEASURE_COLUMNS),
        geometries=geometries,
        context_regions=context,
    )


# The containing areas a layer names beside its own (PDOK's buurten carry their wijk and gemeente).
PARENT_FIELDS: Final = (
    ("wijkcode", "wijknaam"),
    ("wk_code", "wk_naam"),
    ("gemeentecode", "gemeentenaam"),
    ("gm_code", "gm_naam"),
)


def _containing(attrs: pd.DataFrame, code_col: str) -> list[pd.DataFrame]:
    """Regions for the wijken and gemeenten a layer's features lie in, with their names.

    A download of the buurten alone then still knows its gemeente by code and name
    (``wijkradar regions --gemeente GM0308`` on a warehouse with only those buurten).
    """
    lower = {c.lower(): c for c in attrs.columns}
    out = []
    for code_field, name_field in PARENT_FIELDS:
        column = lower.get(code_field)
        if column is None or column == code_col:
            continue
        codes = attrs[column].astype("string").str.strip().str.upper()
        valid = codes.str.fullmatch(CODE_PATTERN).fillna(False).astype(bool)
        if not valid.any():
            continue
        names = attrs[lower[name_field]] if name_field in lower else None
        out.append(regions_frame(codes[valid].astype(object), None if names is None else names[valid]))
    return out


def _combine(path: Path, parts: list[Dataset]) -> Dataset:
    """One dataset from the layers of one file (gemeenten, wijken and buurten of one kaart)."""
    years = {part.meta.boundary_year for part in parts}
    if len(years) > 1:
        raise InputError(
            str(path),
            "de lagen hebben verschillende jaren: " + ", ".join(str(y) for y in sorted(years)),
            fix="lees de lagen apart in met --laag",
        )
    first = parts[0].meta
    kinds = sorted({k for part in parts for k in part.regions["level"].unique().tolist()})
    regions = pd.concat([p.regions for p in parts], ignore_index=True)
    named = [p.context_regions for p in parts if p.context_regions is not None]
    context = pd.concat(named, ignore_index=True).drop_duplicates("code") if named else regions.iloc[0:0]
    geometries = [part.geometries for part in parts if part.geometries is not None]
    return Dataset(
        meta=replace(
            first,
            table_id=(
                first.table_id
                if len({part.meta.table_id.split(":")[0] for part in parts}) == 1
                and not first.table_id.startswith("grenzen:")
                else f"grenzen:{'+'.join(kinds)}:{path.stem}"
            ),
            title=f"{first.title.split(' (')[0]} — lagen {', '.join(kinds)} ({path.name})",
        ),
        observations=pd.concat([p.observations for p in parts], ignore_index=True),
        regions=regions,
        measures=pd.concat([p.measures for p in parts], ignore_index=True).drop_duplicates("measure_id"),
        geometries=pd.concat(geometries, ignore_index=True) if geometries else None,
        context_regions=context[~context["code"].isin(set(regions["code"]))] if len(context) else None,
    )


def _find_code_field(attrs: pd.DataFrame) -> str | None:
    by_lower = {c.lower(): c for c in attrs.columns}
    ordered = [by_lower[f] for f in CODE_FIELDS if f in by_lower]
    ordered += [c for c in attrs.columns if c not in ordered]
    for column in ordered:
        values = attrs[column].dropna().astype(str).str.strip().str.upper()
        if len(values) == len(attrs) and values.map(is_valid_code).all():
            return str(column)
    return None


def _year(attrs: pd.DataFrame, fields: list[str], path: Path) -> tuple[int, bool]:
    """Return the boundary year, and whether the data state it (not only the file name)."""
    for field in fields:
        if field.lower() in YEAR_FIELDS:
            years = attrs[field].astype(str).str.strip().str[:4].unique().tolist()
            if len(years) == 1 and years[0].isdigit():
                return int(years[0]), True
    return year_from_path([path.name]) or UNKNOWN_YEAR, False

"""Boundaries: GeoJSON and GeoPackage layers of gemeenten, wijken or buurten.

Geometries are stored as WKB in WGS84 (EPSG:4326), the coordinate system web maps and QGIS users
exchange; files in RD New (EPSG:28992), as PDOK and CBS deliver them, are transformed on the way
in. The code field is found by looking at the values, since every publisher names it differently.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from wijkradar.errors import InputError
from wijkradar.regions import is_valid_code
from wijkradar.sources.model import (
    MEASURE_COLUMNS,
    OBS_COLUMNS,
    Dataset,
    SourceMeta,
    regions_frame,
    year_from_path,
)

GEO_SUFFIXES: Final = frozenset({".geojson", ".gpkg", ".json"})
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
    """Read one boundary layer: the regions it names and their shapes in WGS84."""
    import pyogrio  # GDAL loads slowly; only boundary files need it
    import shapely
    from pyproj import CRS, Transformer

    file = str(path)
    try:
        layers = pyogrio.list_layers(file)
        chosen = layer or str(layers[0][0])
        meta, _, wkb, field_data = pyogrio.raw.read(file, layer=chosen)
    except Exception as exc:  # GDAL raises its own hierarchy for damaged or foreign files
        raise InputError(
            file,
            f"het grensbestand kan niet gelezen worden ({exc})",
            fix="controleer dat het een GeoJSON- of GeoPackage-bestand is; download het opnieuw",
        ) from exc
    fields = [str(f) for f in meta["fields"]]
    attrs = pd.DataFrame({name: values for name, values in zip(fields, field_data, strict=True)})
    if attrs.empty:
        raise InputError(file, "het grensbestand bevat geen vlakken", fix="kies het juiste bestand")
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
    year = _year(attrs, fields, path)
    kinds = sorted(regions["level"].unique().tolist())
    source = SourceMeta(
        publisher="CBS/Kadaster",
        table_id=f"grenzen:{'+'.join(kinds)}:{path.stem}",
        title=f"Grenzen {', '.join(kinds)} ({path.name})",
        location=str(path.resolve()),
        format="geopackage" if path.suffix.lower() == ".gpkg" else "geojson",
        boundary_year=year,
        note="" if year else "grensjaar onbekend: niet in het bestand of de bestandsnaam",
    )
    empty_obs = pd.DataFrame({c: pd.Series(dtype=object) for c in OBS_COLUMNS})
    empty_measures = pd.DataFrame({c: pd.Series(dtype=object) for c in MEASURE_COLUMNS})
    return Dataset(
        meta=source,
        observations=empty_obs,
        regions=regions,
        measures=empty_measures,
        geometries=geometries,
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


def _year(attrs: pd.DataFrame, fields: list[str], path: Path) -> int:
    for field in fields:
        if field.lower() in YEAR_FIELDS:
            years = attrs[field].astype(str).str.strip().str[:4].unique().tolist()
            if len(years) == 1 and years[0].isdigit():
                return int(years[0])
    return year_from_path([path.name]) or UNKNOWN_YEAR

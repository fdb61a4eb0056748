"""Maps as GeoPackage files, the format QGIS opens best: one layer, typed attributes, Dutch names.

The features come as a GeoJSON FeatureCollection (WGS84, as the map pages draw them); the file keeps
that reference system, so QGIS reprojects it onto RD New or any other map by itself.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from wijkradar.spreadsheet import cell_text
from wijkradar.texts import table_nl


def geopackage_bytes(collection: Mapping[str, Any], layer: str) -> bytes:
    """Return a FeatureCollection as a GeoPackage with one (multi)polygon layer named ``layer``.

    Attributes get the Dutch column names of the CSV and Excel files; numbers stay numbers (missing
    ones are empty), other values are text as the CSV shows them.
    """
    import pyogrio.raw
    import shapely

    features: Sequence[Mapping[str, Any]] = collection.get("features", [])
    rows = table_nl([dict(f.get("properties") or {}) for f in features])
    columns = list(dict.fromkeys(k for row in rows for k in row))
    geometry = np.array(
        [shapely.to_wkb(shapely.geometry.shape(f["geometry"])) for f in features], dtype=object
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "kaart.gpkg"
        pyogrio.raw.write(
            str(path),
            geometry,
            [_field([row.get(c) for row in rows]) for c in columns],
            columns,
            layer=layer,
            driver="GPKG",
            geometry_type="MultiPolygon",
            promote_to_multi=True,
            crs="EPSG:4326",
        )
        return path.read_bytes()


def _field(values: list[Any]) -> np.ndarray[Any, Any]:
    """One attribute column: floats when every value is a number or missing, else text."""
    present = [v for v in values if v is not None]
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return np.array([np.nan if v is None else float(v) for v in values], dtype="float64")
    return np.array([None if v is None else cell_text(v) for v in values], dtype=object)

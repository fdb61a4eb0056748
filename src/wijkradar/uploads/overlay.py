"""Lay a gemeente's uploads over the warehouse: one view in which its own measures are measures too.

:func:`with_uploads` returns a :class:`~wijkradar.warehouse.Warehouse` whose observations part
(values, periods, indelingen, the measure lists) also answers for the gemeente's uploads, so maps,
goals and their progress take an uploaded measure like any other. Only code that has checked the
user may see the gemeente builds such a view; the warehouse file itself never holds uploads.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from wijkradar.appdb import AppDB
from wijkradar.renamed import UPLOAD_PREFIX as UPLOAD_PREFIX
from wijkradar.sources.model import OWN_DATA_PUBLISHER, PUBLISHED, TOTAL_GROUP
from wijkradar.themes import Theme
from wijkradar.warehouse import Warehouse
from wijkradar.warehouse.observations import Observations


class UploadObservations(Observations):
    """The warehouse's observations with one gemeente's uploads as extra measures."""

    def __init__(
        self, wh: Warehouse, gemeente: str, uploads: list[dict[str, Any]], values: list[dict[str, Any]]
    ) -> None:
        super().__init__(wh)
        self.gemeente = gemeente
        self.uploads = {UPLOAD_PREFIX + u["measure_key"]: u for u in uploads}
        frame = pd.DataFrame(values, columns=["measure_key", "region_code", "period", "value"])
        frame["measure_id"] = UPLOAD_PREFIX + frame["measure_key"].astype(str)
        self._values = frame

    def themes(self) -> dict[str, Theme]:
        """Return the uploads as themes (name ``own-<key>``), on the level they were uploaded on."""
        return {
            name: Theme(
                name=name,
                measure_id=name,
                population_group=TOTAL_GROUP,
                label=u["label"],
                attention_when=u["attention_when"],
                description=f"eigen upload {u['file_name']} ({str(u['uploaded_at'])[:10]})",
                level=u["level"],
                upload=True,
            )
            for name, u in self.uploads.items()
        }

    def values(self, measure_id: str, population_group: str, codes: list[str] | None = None) -> pd.DataFrame:
        """Return an upload's values for some regions, else the warehouse's."""
        if measure_id not in self.uploads:
            return super().values(measure_id, population_group, codes)
        upload = self.uploads[measure_id]
        part = self._values[self._values["measure_id"] == measure_id]
        if codes is not None:
            part = part[part["region_code"].isin(set(codes))]
        if population_group != TOTAL_GROUP:
            part = part.iloc[0:0]
        return pd.DataFrame(
            {
                "region_code": part["region_code"].to_numpy(dtype=object),
                "period": part["period"].to_numpy(dtype=object),
                "value": part["value"].to_numpy(dtype=float),
                "lower": np.nan,
                "upper": np.nan,
                "status": PUBLISHED,
                "source": f"upload {upload['file_name']}",
                "boundary_year": int(upload["boundary_year"]),
            }
        ).sort_values(["region_code", "period"], ignore_index=True)

    def periods(self, measure_id: str, population_group: str) -> list[str]:
        """Periods with values, of an upload or of the warehouse."""
        if measure_id not in self.uploads:
            return super().periods(measure_id, population_group)
        if population_group != TOTAL_GROUP:
            return []
        return sorted(set(self._values.loc[self._values["measure_id"] == measure_id, "period"]))

    def boundary_years_of(self, measure_id: str, population_group: str) -> list[int]:
        """Return the indeling an upload is on, or the warehouse's indelingen of a measure."""
        if measure_id not in self.uploads:
            return super().boundary_years_of(measure_id, population_group)
        return [int(self.uploads[measure_id]["boundary_year"])]

    def measures(self) -> pd.DataFrame:
        """Every measure, the uploads' included (publisher: eigen registratie)."""
        own = pd.DataFrame(
            [
                {
                    "measure_id": name,
                    "label": u["label"],
                    "unit": u["unit"],
                    "description": f"eigen upload {u['file_name']}",
                    "publisher": OWN_DATA_PUBLISHER,
                    "table_id": "upload",
                }
                for name, u in self.uploads.items()
            ]
        )
        return pd.concat([super().measures(), own], ignore_index=True)

    def measure_groups(self) -> pd.DataFrame:
        """Every measure and group with values, the uploads' included."""
        own = pd.DataFrame(
            [
                {"measure_id": n, "population_group": TOTAL_GROUP, "label": u["label"]}
                for n, u in self.uploads.items()
            ]
        )
        return pd.concat([own, super().measure_groups()], ignore_index=True)


def with_uploads(wh: Warehouse, own: AppDB, gemeente: str) -> Warehouse:
    """Return the warehouse with ``gemeente``'s uploads laid over it (itself when it has none).

    The view shares the connection and what it remembers; its keys carry the gemeente and the
    revision of its uploads. Call only for a user who may see the gemeente's own data.
    """
    if isinstance(wh.observations, UploadObservations) and wh.observations.gemeente == gemeente:
        return wh
    found = own.uploads(gemeente)
    if not found:
        return wh
    view = wh.alias()
    view.cache_scope = ("uploads", gemeente, own.plan_version(gemeente))
    view.observations = UploadObservations(view, gemeente, found, own.upload_values(gemeente))
    return view


def own_themes(wh: Warehouse) -> dict[str, Theme]:
    """Return the upload themes of a view made by :func:`with_uploads` (none for the bare warehouse)."""
    return wh.observations.themes() if isinstance(wh.observations, UploadObservations) else {}

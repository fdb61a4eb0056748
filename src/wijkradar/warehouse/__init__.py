"""The warehouse: one DuckDB file with a versioned schema. The only package that imports duckdb.

:class:`Warehouse` is one connection; the queries of each concern are a part of it, written in
their own module: ``wh.sources`` (provenance, :mod:`~wijkradar.warehouse.sources`), ``wh.regions``
(codes and names per indeling, :mod:`~.regions`), ``wh.boundaries`` and ``wh.crosswalks``
(:mod:`~.boundaries`), ``wh.observations`` (measures and figures, :mod:`~.observations`),
``wh.models`` (risk models and estimates, :mod:`~.models`) and ``wh.legacy`` (the goals and
interventions older versions kept here, :mod:`~.own`). :mod:`~.core` opens the file, migrates it
and runs transactions.

Examples
--------
>>> from pathlib import Path
>>> with Warehouse.open(Path(":memory:")) as wh:
...     wh.schema_version() == SCHEMA_VERSION, wh.regions.table().empty
(True, True)
"""

from __future__ import annotations

from wijkradar.warehouse.boundaries import Boundaries, Crosswalks
from wijkradar.warehouse.core import Core
from wijkradar.warehouse.models import PROGNOSIS_COLUMNS, Models
from wijkradar.warehouse.observations import Observations
from wijkradar.warehouse.own import LegacyOwnData
from wijkradar.warehouse.regions import Regions
from wijkradar.warehouse.schema import MIGRATIONS, SCHEMA_VERSION
from wijkradar.warehouse.sources import Sources


class Warehouse(Core):
    """A connection to the warehouse file, with one part per concern."""

    sources: Sources
    regions: Regions
    boundaries: Boundaries
    crosswalks: Crosswalks
    observations: Observations
    models: Models
    legacy: LegacyOwnData

    def _attach(self) -> None:
        self.sources = Sources(self)
        self.regions = Regions(self)
        self.boundaries = Boundaries(self)
        self.crosswalks = Crosswalks(self)
        self.observations = Observations(self)
        self.models = Models(self)
        self.legacy = LegacyOwnData(self)


__all__ = ["MIGRATIONS", "PROGNOSIS_COLUMNS", "SCHEMA_VERSION", "Warehouse"]

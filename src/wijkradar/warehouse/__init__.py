"""The warehouse: one DuckDB file with a versioned schema. The only package that imports duckdb.

:class:`Warehouse` is one connection with the queries of every concern, each written in its own
repository module: :mod:`~wijkradar.warehouse.sources` (provenance), :mod:`~.regions` (codes,
names, boundaries and crosswalks per indeling), :mod:`~.observations` (measures and figures),
:mod:`~.models` (risk models and estimates); :mod:`~.own` reads the goals and interventions
older versions kept here (they now live in :mod:`wijkradar.appdb`). :mod:`~.core` opens the
file, migrates it and runs transactions.

Examples
--------
>>> from pathlib import Path
>>> with Warehouse.open(Path(":memory:")) as wh:
...     wh.schema_version() == SCHEMA_VERSION
True
"""

from __future__ import annotations

from wijkradar.warehouse.models import PROGNOSIS_COLUMNS, ModelsRepository
from wijkradar.warehouse.observations import ObservationsRepository
from wijkradar.warehouse.own import LegacyOwnData
from wijkradar.warehouse.regions import RegionsRepository
from wijkradar.warehouse.schema import MIGRATIONS, SCHEMA_VERSION
from wijkradar.warehouse.sources import SourcesRepository


class Warehouse(
    SourcesRepository, RegionsRepository, ObservationsRepository, ModelsRepository, LegacyOwnData
):
    """A connection to the warehouse file with the queries of every repository."""


__all__ = ["MIGRATIONS", "PROGNOSIS_COLUMNS", "SCHEMA_VERSION", "Warehouse"]

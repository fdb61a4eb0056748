"""Settings: where the warehouse and the open data live.

Environment variables override the defaults: ``WIJKRADAR_DB`` for the warehouse file and
``WIJKRADAR_DATA`` for the folder with downloaded open data.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DB = Path("wijkradar.duckdb")
DEFAULT_DATA = Path("../shared/data")
DEFAULT_ODATA_V3 = "https://opendata.cbs.nl/ODataApi/odata"
DEFAULT_ODATA_V4 = "https://datasets.cbs.nl/odata/v1/CBS"


@dataclass(frozen=True)
class Settings:
    """Resolved settings for one run.

    Examples
    --------
    >>> Settings.from_env({"WIJKRADAR_DB": "/tmp/x.duckdb"}).db_path
    PosixPath('/tmp/x.duckdb')
    """

    db_path: Path = DEFAULT_DB
    data_dir: Path = DEFAULT_DATA
    odata_base_url: str = DEFAULT_ODATA_V3

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Build settings from environment variables, falling back to the defaults."""
        env = os.environ if environ is None else environ
        return cls(
            db_path=Path(env.get("WIJKRADAR_DB", str(DEFAULT_DB))),
            data_dir=Path(env.get("WIJKRADAR_DATA", str(DEFAULT_DATA))),
            odata_base_url=env.get("WIJKRADAR_ODATA_URL", DEFAULT_ODATA_V3),
        )

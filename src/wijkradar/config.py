"""Settings: every environment variable wijkradar reads, read here and nowhere else.

``WIJKRADAR_DB`` (the warehouse file), ``WIJKRADAR_DATA`` (the staged open data),
``WIJKRADAR_ODATA_URL`` (CBS OData v3), ``WIJKRADAR_THEMES`` (extra themes),
``WIJKRADAR_APP_DB`` (the operational store: a SQLAlchemy URL, default a SQLite file beside the
warehouse), ``WIJKRADAR_HOSTS`` (host names the website answers to, comma-separated),
``WIJKRADAR_SITE_MODE`` (edit, read or open, for a site started with ``uvicorn`` itself;
``wijkradar serve`` has options for it),
``WIJKRADAR_THREADS`` (pages a web worker renders at once, default 2),
``WIJKRADAR_KEY_FILE`` / ``WIJKRADAR_KEY`` (the
linkage's pseudonymisation key) and ``WIJKRADAR_CHROMIUM`` (the PDF renderer).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

DEFAULT_DB = Path("wijkradar.duckdb")
DEFAULT_DATA = Path("../shared/data")
DEFAULT_ODATA_V3 = "https://opendata.cbs.nl/ODataApi/odata"
DEFAULT_ODATA_V4 = "https://datasets.cbs.nl/odata/v1/CBS"
DEFAULT_CHROMIUM = Path("/usr/bin/chromium")

# A rate of fewer residents is noise (the rule CDC PLACES uses); WIJKRADAR_MIN_INWONERS changes it.
MIN_RESIDENTS: Final = 50


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
    themes_file: Path | None = None
    app_db: str | None = None
    hosts: tuple[str, ...] = ()
    proxies: tuple[str, ...] = ()  # addresses of the reverse proxies whose X-Forwarded-For is believed
    site_mode: str = "edit"
    key_file: Path | None = None
    key: str | None = None
    chromium: Path = DEFAULT_CHROMIUM
    min_residents: int = MIN_RESIDENTS  # no model estimate for a region with fewer residents of the group
    page_threads: int = 2  # pages a web worker renders at once; more only take turns for one GIL

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Build settings from environment variables, falling back to the defaults."""
        env = os.environ if environ is None else environ
        return cls(
            db_path=Path(env.get("WIJKRADAR_DB", str(DEFAULT_DB))),
            data_dir=Path(env.get("WIJKRADAR_DATA", str(DEFAULT_DATA))),
            odata_base_url=env.get("WIJKRADAR_ODATA_URL", DEFAULT_ODATA_V3),
            themes_file=_path(env.get("WIJKRADAR_THEMES")),
            app_db=env.get("WIJKRADAR_APP_DB") or None,
            site_mode=env.get("WIJKRADAR_SITE_MODE", "edit"),
            hosts=tuple(h.strip() for h in env.get("WIJKRADAR_HOSTS", "").split(",") if h.strip()),
            proxies=tuple(p.strip() for p in env.get("WIJKRADAR_PROXIES", "").split(",") if p.strip()),
            key_file=_path(env.get("WIJKRADAR_KEY_FILE")),
            key=env.get("WIJKRADAR_KEY") or None,
            chromium=Path(env.get("WIJKRADAR_CHROMIUM") or DEFAULT_CHROMIUM),
            min_residents=_count(env.get("WIJKRADAR_MIN_INWONERS"), MIN_RESIDENTS),
            page_threads=max(1, _count(env.get("WIJKRADAR_THREADS"), 2)),
        )


def _count(value: str | None, default: int) -> int:
    """Read a whole number from the environment (the default when unset or not a number)."""
    return int(value) if value and value.strip().isdigit() else default


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None

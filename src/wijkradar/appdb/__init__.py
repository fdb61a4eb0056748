"""The operational store: what users change (accounts, sessions, goals, interventions, uploads, audit log).

SQLite by default, a file beside the warehouse (``x.duckdb`` -> ``x.app.sqlite``) in WAL mode;
PostgreSQL when ``WIJKRADAR_APP_DB=postgresql://...``. One data-access layer (SQLAlchemy Core)
and Alembic migrations, run on opening. The warehouse holds the open data and is only written by
the CLI; this store takes the small, frequent writes of the website and of several workers.
The only package that imports sqlalchemy.
"""

from __future__ import annotations

from wijkradar.appdb.accounts import Accounts
from wijkradar.appdb.audit import Audit
from wijkradar.appdb.core import default_url
from wijkradar.appdb.schema import ROLES
from wijkradar.appdb.uploads import Uploads


class AppDB(Uploads, Accounts, Audit):
    """A pool of connections to the operational store with the queries of every repository."""


__all__ = ["ROLES", "AppDB", "default_url"]

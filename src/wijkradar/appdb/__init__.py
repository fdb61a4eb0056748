"""The operational store: what users change (accounts, sessions, goals, interventions, uploads, audit log).

SQLite by default, a file beside the warehouse (``x.duckdb`` -> ``x.app.sqlite``) in WAL mode;
PostgreSQL when ``WIJKRADAR_APP_DB=postgresql://...``. One data-access layer (SQLAlchemy Core)
and Alembic migrations, run on opening. The warehouse holds the open data and is only written by
the CLI; this store takes the small, frequent writes of the website and of several workers.
The only package that imports sqlalchemy.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from wijkradar.appdb.accounts import Accounts
from wijkradar.appdb.audit import Audit
from wijkradar.appdb.core import default_url
from wijkradar.appdb.schema import ROLES
from wijkradar.appdb.uploads import Uploads


class AppDB(Uploads, Audit):
    """A pool of connections to the operational store, with ``accounts`` as a part of its own.

    The store itself holds each gemeente's plans, uploads and audit log; ``accounts`` holds the
    users, their roles, sessions and login attempts.
    """

    def __init__(self, engine: Engine, url: str) -> None:
        super().__init__(engine, url)
        self.accounts = Accounts(self)


__all__ = ["ROLES", "AppDB", "default_url"]

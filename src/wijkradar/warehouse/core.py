"""The warehouse's core: opening the DuckDB file, migrations, transactions and query helpers.

Every write happens inside :meth:`Core.transaction`, so a failure half-way (bad data, a full disk,
a killed process) leaves the file as it was before the write began. Each concern's
queries (sources, regions, boundaries, crosswalks, observations, models) are a :class:`Part` of
the warehouse, reached as an attribute of it: ``wh.regions.table()``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self, TypeVar

import duckdb
import pandas as pd

from wijkradar.cache import release, remember
from wijkradar.errors import WarehouseError
from wijkradar.warehouse.schema import MIGRATIONS, SCHEMA_VERSION
from wijkradar.warehouse.versions import NewVersion

T = TypeVar("T")


class Shared:
    """What a warehouse as opened shares with its cursors and views: the cache's owner, its fingerprint."""

    def __init__(self) -> None:
        self.fingerprint: tuple[str, int, int, str, int, str] | None = None


class Core:
    """A connection to the warehouse file, migrated to the current schema on opening."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        path: Path,
        version: NewVersion | None = None,
        shared: Shared | None = None,
    ) -> None:
        self.con = con
        self.path = path
        self._version = version
        self._root = shared is None  # a cursor or a view shares its warehouse's cache and fingerprint
        self._shared = Shared() if shared is None else shared
        self.read_only = False  # set by open(); a read-only file cannot change under its reader
        self.in_transaction = False
        self.cache_scope: tuple[Any, ...] = ()  # added to every key (a view with a gemeente's uploads)
        self._attach()

    def _attach(self) -> None:
        """Make the parts of a warehouse on this connection (see :class:`wijkradar.warehouse.Warehouse`)."""

    @classmethod
    def open(cls, path: Path, *, read_only: bool = False) -> Self:
        """Open (and, unless read-only, create or migrate) the warehouse at ``path``.

        A writer works on a new version of the file that replaces it on :meth:`close` (see
        :mod:`wijkradar.warehouse.versions`), so readers, the website among them, go on meanwhile.
        """
        target = str(path)
        if read_only and target != ":memory:" and not path.exists():
            raise WarehouseError(
                f"Het datapakhuis {path} bestaat nog niet. Oplossing: lees eerst gegevens in met "
                "'wijkradar ingest PAD' of kies een ander bestand met --db."
            )
        version = None if read_only or target == ":memory:" else NewVersion(path)
        try:
            if version is not None:
                con = duckdb.connect(str(version.copy))
            elif read_only and target != ":memory:":
                con = _connect_read_only(path)
            else:
                con = duckdb.connect(target)
        except (duckdb.IOException, duckdb.ConnectionException) as exc:
            if version is not None:
                version.discard()
            raise WarehouseError(
                f"Het datapakhuis {path} kan niet geopend worden ({exc}). Oplossing: sluit andere "
                "programma's die het bestand gebruiken, of kies een ander bestand met --db."
            ) from exc
        wh = cls(con, path, version)
        wh.read_only = read_only
        try:
            if not read_only:
                wh._migrate()
            elif wh._check_version() < SCHEMA_VERSION:
                raise WarehouseError(
                    f"Het datapakhuis {path} heeft schemaversie {wh.schema_version()}; deze wijkradar "
                    f"leest versie {SCHEMA_VERSION}. Oplossing: werk het eenmaal bij met een commando "
                    "dat erin schrijft, bijvoorbeeld 'wijkradar ingest' van een map die er al in staat "
                    "(niets wordt opnieuw ingelezen); 'wijkradar serve' doet dat zelf bij het starten."
                )
        except BaseException:
            con.close()
            if version is not None:
                version.discard()
            raise
        return wh

    @classmethod
    def outdated(cls, path: Path) -> bool:
        """Whether the file at ``path`` exists with an older schema than this wijkradar reads."""
        if not path.exists():
            return False
        try:
            con = duckdb.connect(str(path), read_only=True)
        except (duckdb.IOException, duckdb.ConnectionException):
            return False  # opening it for real says what is wrong
        try:
            return cls(con, path).schema_version() < SCHEMA_VERSION
        finally:
            con.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection; a writer's new version then replaces the file."""
        self.con.close()
        if self._root:
            release(self._shared)
        if self._version is not None:
            version, self._version = self._version, None
            version.publish()

    def schema_version(self) -> int:
        """Return the schema version of the file (0 for a new file)."""
        exists = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
        ).fetchall()[0]
        if not exists or exists[0] == 0:
            return 0
        row = self.con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchall()[0]
        return int(row[0]) if row else 0

    def _check_version(self) -> int:
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            raise WarehouseError(
                f"Het datapakhuis {self.path} heeft schemaversie {version}; deze wijkradar kent "
                f"versie {SCHEMA_VERSION}. Oplossing: installeer de nieuwste wijkradar."
            )
        return version

    def _migrate(self) -> None:
        version = self._check_version()
        if version == SCHEMA_VERSION:
            return
        with self.transaction():
            self.con.execute(
                "CREATE TABLE IF NOT EXISTS schema_version "
                "(version INTEGER PRIMARY KEY, applied_at TIMESTAMP NOT NULL)"
            )
            for number, sql in enumerate(MIGRATIONS[version:], start=version + 1):
                self.con.execute(sql)
                self.con.execute("INSERT INTO schema_version VALUES (?, ?)", [number, now()])

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run a block as one transaction: all of it is written, or none of it."""
        self.con.execute("BEGIN TRANSACTION")
        self.in_transaction = True
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        finally:
            self.in_transaction = False
        self.con.execute("COMMIT")

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Write many transactions with one checkpoint after them, not one per 16 MB of log.

        DuckDB folds its write-ahead log into the file whenever the log outgrows a threshold;
        during an ingest of many files that happened several times, each recompressing what was
        just written. The fold now comes once, at the next commit or when the file is closed.
        """
        self.con.execute("SET checkpoint_threshold = '1GB'")
        try:
            yield
        finally:
            self.con.execute("RESET checkpoint_threshold")

    def cursor(self) -> Self:
        """Open a second handle on the same database, for use from another thread (web requests)."""
        return self.alias(self.con.cursor())

    def alias(self, con: duckdb.DuckDBPyConnection | None = None) -> Self:
        """Return another handle on this connection (or on a cursor of it) that never publishes.

        It shares the fingerprint; a view swaps one of its parts (the uploads overlay).
        """
        handle = type(self)(self.con if con is None else con, self.path, shared=self._shared)
        handle.read_only = self.read_only
        return handle

    def data_version(self) -> tuple[str, int, int, str, int, str]:
        """Return a fingerprint of this warehouse: what has been ingested and which models trained.

        It changes with every stored or replaced file and every trained model, so results derived
        from them (crosswalks, region lists, priority lists) can be cached until then.
        """
        row = self.con.execute(
            "SELECT count(*), coalesce(max(source_id), 0), coalesce(max(ingested_at)::VARCHAR, ''), "
            "(SELECT coalesce(max(model_id), 0) FROM models), "
            "(SELECT coalesce(max(created_at)::VARCHAR, '') FROM models) FROM sources"
        ).fetchall()[0]
        where = str(self.path) if str(self.path) != ":memory:" else f"memory:{id(self.con)}"
        return where, int(row[0]), int(row[1]), str(row[2]), int(row[3]), str(row[4])

    def sources_stamp(self) -> str:
        """Return the part of :meth:`data_version` that ingests change and training does not."""
        return "|".join(map(str, self._version_now()[1:4]))

    def cache_key(self, *, sources_only: bool = False) -> tuple[Any, ...]:
        """Identify this handle's data for :func:`wijkradar.cache.remember` (see :meth:`data_version`).

        ``sources_only`` leaves out the models: for what follows from the ingested files alone.
        """
        version = self._version_now()
        return (*self.cache_scope, version[:4] if sources_only else version)

    @property
    def cache_owner(self) -> object:
        """What remembered results belong to: this warehouse as opened, with its cursors and views."""
        return self._shared

    def _version_now(self) -> tuple[str, int, int, str, int, str]:
        # A read-only file cannot change while it is open: its fingerprint is taken once.
        if self.read_only and self._shared.fingerprint is not None:
            return self._shared.fingerprint
        version = self.data_version()
        if self.read_only:
            self._shared.fingerprint = version
        return version

    def observation_count(self) -> int:
        """Count the observations in the warehouse."""
        row = self.con.execute("SELECT count(*) FROM observations").fetchall()[0]
        return int(row[0]) if row else 0

    def table_counts(self) -> dict[str, int]:
        """Row counts of every data table (used to check that a failed ingest changed nothing)."""
        out = {}
        tables = ("sources", "regions", "measures", "observations", "geometries", "crosswalks", "models")
        for table in (*tables, "estimates", "prognoses"):
            row = self.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0]  # noqa: S608
            out[table] = int(row[0]) if row else 0
        return out

    def _frame(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).fetchdf()

    def _column(self, sql: str, params: list[Any]) -> list[Any]:
        return [row[0] for row in self.con.execute(sql, params).fetchall()]

    def _one(self, sql: str, params: list[Any]) -> dict[str, Any] | None:
        frame = self._frame(sql, params)
        if frame.empty:
            return None
        return {str(k): v for k, v in frame.iloc[0].to_dict().items()}


class Part:
    """The queries of one concern, on the connection of the warehouse it belongs to."""

    def __init__(self, wh: Core) -> None:
        self.wh = wh

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The warehouse's connection (or a cursor's)."""
        return self.wh.con

    def _remember(
        self, key: tuple[Any, ...], make: Callable[[], T], *, shared: bool = False, sources_only: bool = False
    ) -> T:
        """Remember what this part read until the data change (see :func:`wijkradar.cache.remember`)."""
        return remember(self.wh, key, make, shared=shared, sources_only=sources_only)

    def _frame(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        return self.wh._frame(sql, params)

    def _column(self, sql: str, params: list[Any]) -> list[Any]:
        return self.wh._column(sql, params)

    def _one(self, sql: str, params: list[Any]) -> dict[str, Any] | None:
        return self.wh._one(sql, params)


def where(**filters: str | None) -> tuple[str, list[str]]:
    """Build a WHERE clause of equality tests on fixed column names, skipping empty filters."""
    used = {column: value for column, value in filters.items() if value}
    clause = " AND ".join(f"{column} = ?" for column in used)
    return (f"WHERE {clause}" if clause else ""), list(used.values())


def now() -> datetime:
    """Return the current time in UTC, without a time zone (DuckDB's TIMESTAMP)."""
    return datetime.now(UTC).replace(tzinfo=None)


def codes_frame(codes: list[str]) -> pd.DataFrame:
    """Return a one-column frame of region codes, for queries that join on a list of codes by name."""
    return pd.DataFrame({"code": pd.Series(codes, dtype=object)})


def _connect_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """Open the file now at ``path`` read-only, never an instance of an earlier file there.

    DuckDB hands out the database it already has open for a path, even after a writer has renamed
    a new version over it: a reader that opened the warehouse before would be served the old one
    until it restarts. A hard link under a name of its own opens the file as it is now; the link is
    removed at once (the open file stays readable). Where no link can be made, the path is opened.
    """
    link = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.lezen")
    try:
        os.link(path, link)
    except OSError:
        return duckdb.connect(str(path), read_only=True)
    try:
        return duckdb.connect(str(link), read_only=True)
    finally:
        link.unlink(missing_ok=True)

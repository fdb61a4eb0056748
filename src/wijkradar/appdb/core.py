"""Opening the operational store (SQLite or PostgreSQL), migrating it, and running statements.

Statements run in the transaction of :meth:`Core.transaction` when one is open in this thread,
else each in a short transaction of its own. SQLite runs in WAL mode with a busy timeout, so
several workers and the CLI can use one file; PostgreSQL needs nothing special.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Self, TypeVar

from sqlalchemy import Connection, CursorResult, Engine, Table, create_engine, event, insert, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql import Executable

from wijkradar.errors import WarehouseError

try:  # file locks between processes; not on Windows
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

T = TypeVar("T")


def default_url(warehouse: Path) -> str:
    """Return the store beside a warehouse file: ``x.duckdb`` -> ``sqlite:///x.app.sqlite``."""
    if str(warehouse) == ":memory:":
        return "sqlite://"
    return f"sqlite:///{warehouse.with_suffix('.app.sqlite')}"


class Core:
    """A connection pool to the store, migrated to the newest version on opening."""

    def __init__(self, engine: Engine, url: str) -> None:
        self.engine = engine
        self.url = url
        self._current: contextvars.ContextVar[Connection | None] = contextvars.ContextVar(
            f"appdb-{id(self)}", default=None
        )
        # SQLite lets one writer in at a time and makes the others poll with growing sleeps (1, 2,
        # 5 ... 100 ms). Writers queue here instead and go on the moment it frees: the threads of
        # a process on a lock, the processes (web workers, the CLI) on a file lock beside the
        # database. PostgreSQL needs no such thing.
        self._writers: contextlib.AbstractContextManager[Any] = (
            _WriterLock(_sqlite_file(url)) if engine.dialect.name == "sqlite" else contextlib.nullcontext()
        )

    @classmethod
    def open(cls, url: str) -> Self:
        """Open (and create or migrate) the store at a SQLAlchemy URL."""
        try:
            engine = _engine(url)
            store = cls(engine, url)
            store._migrate()
        except (OperationalError, SQLAlchemyError) as exc:
            shown = url.split("@")[-1]  # never a password
            raise WarehouseError(
                f"De gebruikersdatabase ({shown}) kan niet geopend worden ({type(exc).__name__}). "
                "Oplossing: controleer WIJKRADAR_APP_DB (adres, gebruiker, rechten) of dat de server draait."
            ) from None
        return store

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run a block as one transaction (joining one that is already open in this thread)."""
        if self._current.get() is not None:
            yield
            return
        with self._writers, self.engine.connect() as connection:
            connection.info["immediate"] = True  # SQLite: take the write lock at BEGIN
            with connection.begin():
                token = self._current.set(connection)
                try:
                    yield
                finally:
                    self._current.reset(token)
            connection.info.pop("immediate", None)

    def _migrate(self) -> None:
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(resources.files("wijkradar.appdb") / "migrations"))
        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":  # one worker migrates, the others wait
                connection.execute(text("SELECT pg_advisory_xact_lock(4711)"))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def _run(self, statement: Executable, fetch: Callable[[CursorResult[Any]], T]) -> T:
        connection = self._current.get()
        if connection is not None:
            return fetch(connection.execute(statement))
        with self.engine.begin() as connection:
            return fetch(connection.execute(statement))

    def _rows(self, statement: Executable) -> list[dict[str, Any]]:
        return self._run(statement, lambda result: [dict(row) for row in result.mappings().all()])

    def _one(self, statement: Executable) -> dict[str, Any] | None:
        rows = self._rows(statement)
        return rows[0] if rows else None

    def _scalar(self, statement: Executable) -> Any:
        return self._run(statement, lambda result: result.scalar())

    def _count(self, statement: Executable) -> int:
        """Run a change and return how many rows it touched."""
        if self._current.get() is not None:
            return int(self._run(statement, lambda result: result.rowcount))
        with self._writers:
            return int(self._run(statement, lambda result: result.rowcount))

    def _insert_many(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """Insert many rows in one statement execution (executemany)."""
        connection = self._current.get()
        if connection is not None:
            connection.execute(insert(table), rows)
            return
        with self._writers, self.engine.begin() as connection:
            connection.execute(insert(table), rows)


class Part:
    """The queries of one concern, run on the store it belongs to (in its transactions)."""

    def __init__(self, db: Core) -> None:
        self.db = db

    @property
    def _current(self) -> contextvars.ContextVar[Connection | None]:
        return self.db._current

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """Run a block as one transaction of the store (see :meth:`Core.transaction`)."""
        return self.db.transaction()

    def _run(self, statement: Executable, fetch: Callable[[CursorResult[Any]], T]) -> T:
        return self.db._run(statement, fetch)

    def _rows(self, statement: Executable) -> list[dict[str, Any]]:
        return self.db._rows(statement)

    def _one(self, statement: Executable) -> dict[str, Any] | None:
        return self.db._one(statement)

    def _scalar(self, statement: Executable) -> Any:
        return self.db._scalar(statement)

    def _count(self, statement: Executable) -> int:
        return self.db._count(statement)


class _WriterLock:
    """One writer at a time: a thread lock, and ``flock`` on a file beside the database.

    The kernel wakes a waiting process as soon as the lock is free and frees it when a holder dies
    (kill -9 included). Where file locks are not available (Windows, a read-only folder) SQLite's
    own busy handler still keeps writers apart.
    """

    def __init__(self, database: Path | None) -> None:
        self._thread = threading.Lock()
        self._path = database.with_name(database.name + ".writer-lock") if database else None
        self._fd: int | None = None

    def __enter__(self) -> None:
        self._thread.acquire()
        if self._path is None or fcntl is None:
            return
        try:
            if self._fd is None:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except OSError:
            self._path = None  # no file lock here: SQLite's busy handler serialises

    def __exit__(self, *exc: object) -> None:
        try:
            if self._fd is not None and self._path is not None and fcntl is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread.release()


def _sqlite_file(url: str) -> Path | None:
    """Return the file of a SQLite URL (None for an in-memory database)."""
    name = url.partition(":///")[2]
    return Path(name) if name and name != ":memory:" else None


def now() -> datetime:
    """Return the current time in UTC without a time zone (as both databases store it)."""
    return datetime.now(UTC).replace(tzinfo=None)


def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        memory = url in ("sqlite://", "sqlite:///:memory:")
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=StaticPool if memory else None,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _: Any) -> None:
            dbapi_connection.isolation_level = None  # transactions begin below, not in the driver
            cursor = dbapi_connection.cursor()
            if not memory:
                cursor.execute("PRAGMA journal_mode=WAL")
                # In WAL mode NORMAL survives a killed process (what a server meets) and keeps the
                # file consistent; only a power cut may undo the last commits. Every view writes an
                # audit entry, and a sync per commit made writers queue behind each other.
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection: Connection) -> None:
            # A transaction that reads first and writes later takes the write lock at its start:
            # otherwise it would fail at once when another process wrote in between. A single
            # statement begins deferred, so reads (sessions, every request) never wait for it.
            immediate = connection.info.get("immediate")
            connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    if url.startswith("postgresql://"):  # the driver wijkradar installs
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True)

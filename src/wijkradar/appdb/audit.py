"""The audit log: who saw or changed which gemeente's own data, and when. Rows are only ever added."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Engine, select

from wijkradar.appdb.core import Core, now
from wijkradar.appdb.schema import audit_log


class Audit(Core):
    """Append to and read the audit log."""

    def __init__(self, engine: Engine, url: str) -> None:
        super().__init__(engine, url)
        self._batches = _GroupCommit(lambda rows: self._insert_many(audit_log, rows))

    def log(self, user: str, gemeente_code: str, action: str, obj: str, detail: str = "") -> None:
        """Add one entry (``action``: view, create, update, delete, export, import, login, ...).

        Inside an open transaction the entry is part of it (a change and its entry are stored
        together or not at all). Otherwise it returns once the entry is committed, written together
        with the entries other threads of this process log at the same moment: every page view of
        own data writes one, and one transaction per entry made all writers queue for the lock.
        """
        row = {
            "at": now(),
            "user_name": user[:64],
            "gemeente_code": gemeente_code[:6],
            "action": action[:20],
            "object": obj[:200],
            "detail": detail[:500],
        }
        if self._current.get() is not None:
            self._insert_many(audit_log, [row])
        else:
            self._batches.add(row)

    def audit(self, gemeente_code: str | None = None) -> list[dict[str, Any]]:
        """Return the entries, oldest first, optionally of one gemeente."""
        query = select(audit_log).order_by(audit_log.c.entry_id)
        if gemeente_code:
            query = query.where(audit_log.c.gemeente_code == gemeente_code)
        return self._rows(query)


class _GroupCommit:
    """Write the rows of many threads in one transaction; each caller returns once its row is stored.

    The first caller to find no write under way writes every row waiting at that moment; callers
    that arrive meanwhile wait and go into the next write. A failed write raises in every caller
    whose row it held, so no caller believes a row stored that is not.
    """

    def __init__(self, write: Any) -> None:
        self._write = write
        self._state = threading.Condition()
        self._waiting: list[dict[str, Any]] = []
        self._writing = False
        self._started = 0  # writes begun; a row added now goes into write number started + 1
        self._finished = 0
        self._failed: dict[int, BaseException] = {}

    def add(self, row: dict[str, Any]) -> None:
        """Store one row, together with whatever other threads add meanwhile."""
        with self._state:
            self._waiting.append(row)
            ticket = self._started + 1
            while self._finished < ticket and self._writing:
                self._state.wait()
            if self._finished >= ticket:
                self._raise_if_failed(ticket)
                return
            batch, self._waiting = self._waiting, []
            self._writing = True
            self._started += 1
        error: BaseException | None = None
        try:
            self._write(batch)
        except BaseException as exc:  # handed to every caller of this write, then raised here
            error = exc
        with self._state:
            self._writing = False
            self._finished = ticket
            if error is not None:
                self._failed[ticket] = error
                for old in [t for t in self._failed if t < ticket - 64]:  # waiters long gone
                    del self._failed[old]
            self._state.notify_all()
        if error is not None:
            raise error

    def _raise_if_failed(self, ticket: int) -> None:
        error = self._failed.get(ticket)
        if error is not None:
            raise error

"""The audit log: who saw or changed which gemeente's own data, and when. Rows are only ever added."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from wijkradar.appdb.core import Core, now
from wijkradar.appdb.schema import audit_log


class Audit(Core):
    """Append to and read the audit log."""

    def log(self, user: str, gemeente_code: str, action: str, obj: str, detail: str = "") -> None:
        """Add one entry (``action``: view, create, update, delete, export, import, login, ...)."""
        self._count(
            insert(audit_log).values(
                at=now(),
                user_name=user[:64],
                gemeente_code=gemeente_code[:6],
                action=action[:20],
                object=obj[:200],
                detail=detail[:500],
            )
        )

    def audit(self, gemeente_code: str | None = None) -> list[dict[str, Any]]:
        """Return the entries, oldest first, optionally of one gemeente."""
        query = select(audit_log).order_by(audit_log.c.entry_id)
        if gemeente_code:
            query = query.where(audit_log.c.gemeente_code == gemeente_code)
        return self._rows(query)

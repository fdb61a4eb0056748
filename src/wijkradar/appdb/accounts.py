"""Users with a role per gemeente, their sessions, and the record of login attempts.

Passwords are scrypt hashes (made in :mod:`wijkradar.access`); a session is stored as the hash of
its cookie token, so a copy of the database logs nobody in.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, text, update

from wijkradar.appdb.core import Part, now
from wijkradar.appdb.schema import login_attempts, memberships, sessions, settings, users


class Accounts(Part):
    """Users, memberships, sessions and login attempts."""

    # -- users ------------------------------------------------------------------------------
    def user(self, name: str) -> dict[str, Any] | None:
        """Return one user with ``roles`` (gemeente code -> role), or None."""
        if "\x00" in name:  # no account has one (names are checked), and PostgreSQL refuses to compare it
            return None
        row = self._one(select(users).where(users.c.name == name))
        if row is None:
            return None
        found = self._rows(select(memberships).where(memberships.c.user_id == row["user_id"]))
        return {**row, "roles": {m["gemeente_code"]: m["role"] for m in found}}

    def users(self, gemeente_code: str | None = None) -> list[dict[str, Any]]:
        """Return every user (or those with a role in one gemeente) with their roles, by name."""
        names = [str(r["name"]) for r in self._rows(select(users.c.name).order_by(users.c.name))]
        found = [u for u in (self.user(n) for n in names) if u is not None]
        return [u for u in found if gemeente_code is None or gemeente_code in u["roles"]]

    def user_count(self) -> int:
        """Count the users."""
        return int(self._scalar(select(func.count()).select_from(users)))

    def save_user(self, name: str, password: str | None, *, national_admin: bool | None = None) -> int:
        """Create a user or change their password (a hash) or national role; return the id."""
        with self.transaction():
            existing = self._one(select(users).where(users.c.name == name))
            if existing is None:
                if password is None:
                    raise ValueError("a new user needs a password")
                return int(
                    self._scalar(
                        insert(users)
                        .values(
                            name=name,
                            password=password,
                            national_admin=bool(national_admin),
                            created_at=now(),
                        )
                        .returning(users.c.user_id)
                    )
                )
            changes: dict[str, Any] = {}
            if password is not None:
                changes["password"] = password
            if national_admin is not None:
                changes["national_admin"] = national_admin
            if changes:
                self._count(update(users).where(users.c.user_id == existing["user_id"]).values(**changes))
                if password is not None:  # a new password ends every session
                    self.revoke_sessions(name)
            return int(existing["user_id"])

    def set_role(self, name: str, gemeente_code: str, role: str | None) -> None:
        """Give a user a role in a gemeente, or take it away (``role`` None)."""
        with self.transaction():
            user_id = self._scalar(select(users.c.user_id).where(users.c.name == name))
            key = (memberships.c.user_id == user_id) & (memberships.c.gemeente_code == gemeente_code)
            self._count(delete(memberships).where(key))
            if role is not None:
                self._count(
                    insert(memberships).values(user_id=user_id, gemeente_code=gemeente_code, role=role)
                )

    def remove_user(self, name: str) -> bool:
        """Remove a user with their roles and sessions; tell whether there was one."""
        if "\x00" in name:
            return False
        with self.transaction():
            user_id = self._scalar(select(users.c.user_id).where(users.c.name == name))
            if user_id is None:
                return False
            for table in (sessions, memberships):
                self._count(delete(table).where(table.c.user_id == user_id))
            self._count(delete(users).where(users.c.user_id == user_id))
            return True

    # -- sessions ---------------------------------------------------------------------------
    def start_session(self, name: str, seconds: int) -> tuple[str, str]:
        """Start a session for a user; return the cookie token and the session's form token."""
        token, form_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        user_id = self._scalar(select(users.c.user_id).where(users.c.name == name))
        started = now()
        self._count(
            insert(sessions).values(
                session_hash=_digest(token),
                user_id=user_id,
                form_token=form_token,
                created_at=started,
                expires_at=started + timedelta(seconds=seconds),
            )
        )
        return token, form_token

    def session(self, token: str) -> tuple[dict[str, Any], str] | None:
        """Return the user (with ``roles``) and form token of a live session, or None.

        One query, as every request of a logged-in user asks it: the session, its user and the
        user's memberships joined.
        """
        if not token or len(token) > 100:
            return None
        found = self._rows(
            select(
                users.c.user_id,
                users.c.name,
                users.c.national_admin,
                sessions.c.form_token,
                memberships.c.gemeente_code,
                memberships.c.role,
            )
            .join(sessions, users.c.user_id == sessions.c.user_id)
            .outerjoin(memberships, memberships.c.user_id == users.c.user_id)
            .where(sessions.c.session_hash == _digest(token))
            .where(sessions.c.revoked_at.is_(None))
            .where(sessions.c.expires_at > now())
        )
        if not found:
            return None
        extra = ("form_token", "gemeente_code", "role")
        user = {k: v for k, v in found[0].items() if k not in extra}
        user["roles"] = {r["gemeente_code"]: r["role"] for r in found if r["gemeente_code"] is not None}
        return user, str(found[0]["form_token"])

    def end_session(self, token: str) -> None:
        """Revoke one session (logging out): its cookie no longer works, even replayed."""
        self._count(
            update(sessions).where(sessions.c.session_hash == _digest(token)).values(revoked_at=now())
        )

    def revoke_sessions(self, name: str) -> int:
        """Revoke every session of a user; return how many."""
        user_id = self._scalar(select(users.c.user_id).where(users.c.name == name))
        return self._count(
            update(sessions)
            .where(sessions.c.user_id == user_id)
            .where(sessions.c.revoked_at.is_(None))
            .values(revoked_at=now())
        )

    # -- login attempts ---------------------------------------------------------------------
    def claim_attempt(
        self,
        name: str,
        address: str,
        since: datetime,
        decide: Callable[[list[datetime], list[datetime]], int],
    ) -> tuple[int | None, int]:
        """Count a login attempt as failed before its password is checked, if it may go ahead.

        Under one lock (SQLite's writer lock; a table lock in PostgreSQL) the failures since
        ``since`` of the name and of the address are read and ``decide`` says how long to wait;
        0 records this attempt as failed at once and returns its id. Parallel guesses therefore
        each see the ones before them: a burst of forty gets the free tries and then waits.
        :meth:`attempt_succeeded` turns the attempt into a success when the password is right.
        """
        with self.transaction():
            connection = self._current.get()
            if connection is not None and connection.dialect.name == "postgresql":
                connection.execute(text("LOCK TABLE login_attempts IN SHARE ROW EXCLUSIVE MODE"))
            wait = decide(self.failures_since(since, name=name), self.failures_since(since, address=address))
            if wait > 0:
                return None, wait
            attempt = self._scalar(
                insert(login_attempts)
                .values(name=name[:64], address=address[:64], at=now(), success=False)
                .returning(login_attempts.c.attempt_id)
            )
            return int(attempt), 0

    def attempt_succeeded(self, attempt_id: int) -> None:
        """Mark a claimed attempt as a successful login (it no longer counts as a failure)."""
        self._count(
            update(login_attempts).where(login_attempts.c.attempt_id == attempt_id).values(success=True)
        )

    def failures_since(
        self, since: datetime, *, name: str | None = None, address: str | None = None
    ) -> list[datetime]:
        """Return the times of failed logins since a moment, for one name or one address."""
        query = (
            select(login_attempts.c.at)
            .where(login_attempts.c.at >= since)
            .where(login_attempts.c.success.is_(False))
        )
        if name is not None:
            query = query.where(login_attempts.c.name == name[:64])
        if address is not None:
            query = query.where(login_attempts.c.address == address[:64])
        return [row["at"] for row in self._rows(query.order_by(login_attempts.c.at))]

    # -- the server's secret ----------------------------------------------------------------
    def secret(self) -> str:
        """Return the server's secret (made once, shared by every worker), for signing login forms."""
        with self.transaction():
            value = self._scalar(select(settings.c.value).where(settings.c.key == "secret"))
            if value is None:
                value = secrets.token_hex(32)
                self._count(insert(settings).values(key="secret", value=value))
            return str(value)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()

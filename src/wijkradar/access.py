"""Who may see and change what: the one place access is decided.

The open data in wijkradar (CBS, RIVM) are public. A gemeente's own data are not: its goals and
interventions, its uploads and the figures from its own registers (publisher ``eigen
registratie``). Each user has a role per gemeente (stored in :mod:`wijkradar.appdb`):

- ``reader`` (*lezer*) sees the gemeente's own data;
- ``analyst`` (*analist*) also edits its goals, interventions and uploads;
- ``admin`` (*beheerder*) also manages that gemeente's users and reads its audit log.

A national beheerder manages the users of every gemeente, and sees no gemeente's own data unless
that gemeente's beheerders give it a role (it cannot give itself one; see the audit log in
:mod:`wijkradar.web.routes.admin`). A site without accounts serves one person on their own machine and shows
everything (see ``wijkradar serve``).

Passwords are stored as scrypt hashes, never as text.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from typing import Any, Final

from wijkradar.appdb import ROLES
from wijkradar.errors import Forbidden, InputError
from wijkradar.regions import GEMEENTE_PATTERN, gemeente_of
from wijkradar.sources.model import OWN_DATA_PUBLISHER
from wijkradar.texts import ROLE_CODES, ROLE_NL

MIN_PASSWORD: Final = 12
MAX_PASSWORD: Final = 200
SCRYPT: Final = {"n": 2**14, "r": 8, "p": 1}
NAME_PATTERN: Final = re.compile(r"^[A-Za-z0-9._@-]{2,64}$")
GEMEENTE_CODE: Final = re.compile(f"^{GEMEENTE_PATTERN}$")
RANK: Final = {role: rank for rank, role in enumerate(ROLES, start=1)}


@dataclass(frozen=True)
class User:
    """A logged-in user: their role per gemeente and whether they manage all users."""

    name: str
    roles: dict[str, str] = field(default_factory=dict)
    national_admin: bool = False

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> User:
        """Build a user from the store's row."""
        return cls(str(row["name"]), dict(row["roles"]), bool(row["national_admin"]))

    def role(self, code: str) -> str | None:
        """Return the user's role in the gemeente a region code lies in (None: no role)."""
        return self.roles.get(str(gemeente_of(code)))

    @property
    def gemeenten(self) -> list[str]:
        """The gemeenten whose own data this user sees."""
        return sorted(self.roles)


@dataclass(frozen=True)
class Access:
    """What one request may see and do. ``user`` None with ``accounts`` False: a one-person site.

    Examples
    --------
    >>> reader = Access(User("a", {"GM0034": "reader"}), accounts=True)
    >>> reader.sees("BU00340211"), reader.sees("WK036301"), reader.may("edit", "GM0034")
    (True, False, False)
    >>> Access(None, accounts=False).may("edit", "GM0363")
    True
    """

    user: User | None
    accounts: bool

    def sees(self, code: str) -> bool:
        """Tell whether the own data of the gemeente a region code lies in are visible."""
        return not self.accounts or (self.user is not None and self.user.role(code) is not None)

    def may(self, action: str, code: str) -> bool:
        """Tell whether an action (``see``, ``edit``, ``manage``) on a gemeente's own data is allowed."""
        if not self.accounts:
            return True
        if self.user is None:
            return False
        if action == "manage" and self.user.national_admin:
            return True
        role = self.user.role(code)
        needed = {"see": "reader", "edit": "analyst", "manage": "admin"}[action]
        return role is not None and RANK[role] >= RANK[needed]

    def require(self, action: str, code: str) -> None:
        """Raise :class:`Forbidden` unless the action is allowed."""
        if self.may(action, code):
            return
        gemeente = gemeente_of(code) or code
        mine = (
            ", ".join(f"{g} ({r})" for g, r in sorted((self.user.roles if self.user else {}).items()))
            or "geen"
        )
        words = {"see": "inzien", "edit": "wijzigen", "manage": "beheren"}[action]
        raise Forbidden(
            f"De eigen gegevens van {gemeente} kunt u niet {words}. Uw rollen: {mine}. "
            "Vraag een beheerder van die gemeente om een rol.",
            gemeente=gemeente,
        )

    def own_visible(self, publisher: Any, code: str) -> bool:
        """Tell whether a figure (its source's publisher, its region) may be shown."""
        return publisher != OWN_DATA_PUBLISHER or self.sees(code)


def check_name(name: str) -> str:
    """Return a valid user name, or raise InputError."""
    if not NAME_PATTERN.match(name):
        raise InputError(
            "gebruiker",
            "ongeldige naam",
            column="naam",
            fix="letters, cijfers, punt, streep of @; 2 tot 64 tekens",
        )
    return name


def check_gemeente(code: str) -> str:
    """Return a valid gemeente code, or raise InputError."""
    if not GEMEENTE_CODE.match(code):
        raise InputError("gebruiker", "geen gemeentecode", column="gemeente", fix="bijvoorbeeld GM0034")
    return code


def check_role(role: str) -> str:
    """Return the code of a role typed in Dutch or English (``lezer`` -> ``reader``), or raise InputError."""
    code = ROLE_CODES.get(role.strip().lower(), "")
    if code not in RANK:
        words = ", ".join(ROLE_NL[r] for r in ROLES)
        raise InputError("gebruiker", "onbekende rol", column="rol", fix=f"kies uit {words}")
    return code


def check_password(password: str) -> str:
    """Return an acceptable password, or raise InputError (never echoing it)."""
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InputError(
            "gebruiker",
            f"wachtwoord niet tussen {MIN_PASSWORD} en {MAX_PASSWORD} tekens",
            column="wachtwoord",
            fix="kies een langer wachtwoord (een zin van een paar woorden werkt goed)",
        )
    return password


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """Hash a password with scrypt; the text form carries its parameters and salt."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **SCRYPT)
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Check a password against its stored hash, in constant time."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt" or len(password) > MAX_PASSWORD:
            return False
        candidate = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except ValueError:
        return False
    return hmac.compare_digest(candidate.hex(), digest)

"""Who may see what: users of a gemeente, their passwords and their sessions.

The open data in wijkradar (CBS, RIVM) are public. A gemeente's own data are not: its goals and
interventions, and the figures from its own registers (publisher ``eigen registratie``, see
:mod:`wijkradar.linkage`). With a users file the website asks everyone to log in and shows each
user the own data of their own gemeente(n) only; without one it serves a single user and shows
everything, which is why it then listens on 127.0.0.1 only unless told otherwise.

The users file is YAML, written by ``wijkradar users add``; passwords are stored as scrypt hashes,
never as text::

    users:
      - name: a.jansen
        gemeenten: [GM0034]
        password: scrypt$16384$8$1$<salt, hex>$<hash, hex>

Sessions are signed cookies (HMAC-SHA256 with a secret drawn when the server starts), so a restart
logs everyone out and nothing about sessions is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from wijkradar.errors import InputError
from wijkradar.regions import gemeente_of

OWN_DATA_PUBLISHER = "eigen registratie"
MIN_PASSWORD = 12
SCRYPT = {"n": 2**14, "r": 8, "p": 1}
NAME_PATTERN = re.compile(r"^[A-Za-z0-9._@-]{2,64}$")
GEMEENTE_PATTERN = re.compile(r"^GM\d{4}$")


@dataclass(frozen=True)
class User:
    """A user who may see the own data of some gemeenten."""

    name: str
    gemeenten: frozenset[str]
    password: str = field(repr=False)

    def sees(self, code: str) -> bool:
        """Tell whether this user may see the own data of the gemeente a region code lies in.

        >>> User("a", frozenset({"GM0034"}), "").sees("BU00340211")
        True
        >>> User("a", frozenset({"GM0034"}), "").sees("WK036301")
        False
        """
        return gemeente_of(code) in self.gemeenten


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """Hash a password with scrypt; the text form carries its parameters and salt."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **SCRYPT)
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Check a password against its stored hash, in constant time."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        candidate = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except ValueError:
        return False
    return hmac.compare_digest(candidate.hex(), digest)


def load_users(path: Path) -> dict[str, User]:
    """Read the users file; a wrong entry is refused with its place and the fix."""
    if not path.is_file():
        raise InputError(
            str(path), "gebruikersbestand bestaat niet", fix="maak het met 'wijkradar users add'"
        )
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    users: dict[str, User] = {}
    for number, entry in enumerate(data.get("users") or [], start=1):
        user = _user(path, number, entry)
        if user.name in users:
            raise InputError(
                str(path),
                "naam komt twee keer voor",
                row=number,
                column="name",
                value=user.name,
                fix="geef elke gebruiker een eigen naam",
            )
        users[user.name] = user
    return users


def _user(path: Path, number: int, entry: Any) -> User:
    def refuse(column: str, problem: str, fix: str, value: object = None) -> InputError:
        return InputError(str(path), problem, row=number, column=column, value=value, fix=fix)

    if not isinstance(entry, dict):
        raise refuse("users", "geen gebruiker (naam, gemeenten, wachtwoord)", "zie 'wijkradar users add'")
    name = str(entry.get("name") or "")
    if not NAME_PATTERN.match(name):
        raise refuse("name", "ongeldige naam", "letters, cijfers, punt, streep of @; 2 tot 64 tekens", name)
    gemeenten = [str(g) for g in entry.get("gemeenten") or []]
    wrong = [g for g in gemeenten if not GEMEENTE_PATTERN.match(g)]
    if not gemeenten or wrong:
        raise refuse(
            "gemeenten", "gemeenten ontbreken of zijn geen CBS-code", "bijvoorbeeld [GM0034]", wrong or None
        )
    password = str(entry.get("password") or "")
    if not password.startswith("scrypt$"):
        raise refuse("password", "wachtwoord is niet gehasht", "zet het wachtwoord met 'wijkradar users add'")
    return User(name, frozenset(gemeenten), password)


def add_user(path: Path, name: str, gemeenten: list[str], password: str) -> User:
    """Add a user to the users file, or replace the one with this name (new password, gemeenten)."""
    if len(password) < MIN_PASSWORD:
        raise InputError(
            str(path),
            f"wachtwoord korter dan {MIN_PASSWORD} tekens",
            column="password",
            fix="kies een langer wachtwoord",
        )
    user = _user(path, 0, {"name": name, "gemeenten": gemeenten, "password": hash_password(password)})
    users = load_users(path) if path.is_file() else {}
    users[user.name] = user
    rows = [
        {"name": u.name, "gemeenten": sorted(u.gemeenten), "password": u.password} for u in users.values()
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(yaml.safe_dump({"users": rows}, sort_keys=False), encoding="utf-8")
    temporary.chmod(0o600)
    temporary.replace(path)  # all or nothing
    return user


class Sessions:
    """Signed session tokens: ``name|expiry|signature``; nothing is stored on the server."""

    def __init__(self, hours: float = 8.0) -> None:
        self._secret = secrets.token_bytes(32)
        self.seconds = int(hours * 3600)

    def issue(self, name: str, now: float | None = None) -> str:
        """Return a token for this user, valid for the session length."""
        expiry = int((now or time.time()) + self.seconds)
        return f"{name}|{expiry}|{self._sign(name, expiry)}"

    def verify(self, token: str, now: float | None = None) -> str | None:
        """Return the user name of a valid, unexpired token, else None."""
        try:
            name, expiry_text, signature = token.split("|")
            expiry = int(expiry_text)
        except ValueError:
            return None
        if not hmac.compare_digest(signature, self._sign(name, expiry)):
            return None
        return name if (now or time.time()) < expiry else None

    def _sign(self, name: str, expiry: int) -> str:
        return hmac.new(self._secret, f"{name}|{expiry}".encode(), hashlib.sha256).hexdigest()

"""Logging in and out."""

from __future__ import annotations

import secrets
from functools import lru_cache

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from wijkradar.access import hash_password, verify_password
from wijkradar.web.deps import SiteDep

COOKIE = "wijkradar_sessie"
router = APIRouter(include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, site: SiteDep, volgende: str = "/") -> HTMLResponse:
    """Show the login form."""
    return site.page("login.html", request, volgende=local(volgende), message=None)


@router.post("/login")
async def login(request: Request, site: SiteDep) -> Response:
    """Check name and password; on success set the session cookie and go on."""
    form = await request.form()
    name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
    target = local(str(form.get("volgende", "/")))
    user = (site.users or {}).get(name)
    # Check a password even for unknown names, so the time taken does not tell which names exist.
    checked = await run_in_threadpool(verify_password, password, user.password if user else _dummy_hash())
    if user is None or not checked:
        return site.page(
            "login.html", request, 401, volgende=target, message="Onbekende naam of verkeerd wachtwoord."
        )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        site.sessions.issue(user.name),
        max_age=site.sessions.seconds,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/uitloggen")
def logout() -> Response:
    """Forget the session cookie."""
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Return a hash to check unknown names against (made on first use: scrypt is slow on purpose)."""
    return hash_password(secrets.token_hex(8))


def local(target: str) -> str:
    """Only ever send people on to a page of this site after logging in."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"

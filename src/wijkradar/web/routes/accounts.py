"""Logging in and out: sessions in the operational store, throttled and logged."""

from __future__ import annotations

import hmac
import secrets
from functools import lru_cache

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from wijkradar.access import MAX_PASSWORD, hash_password, verify_password
from wijkradar.web.deps import SiteDep
from wijkradar.web.security import LOGIN_COOKIE, SESSION_COOKIE, claim_login, client_address, log, login_token
from wijkradar.web.site import Site

SESSION_SECONDS = 8 * 3600
router = APIRouter(include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, site: SiteDep, volgende: str = "/") -> Response:
    """Show the login form, with a token bound to a cookie of its own."""
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    response = site.page(
        "login.html",
        request,
        volgende=local(volgende),
        message=None,
        token=login_token(site, nonce),
        logged_out=request.state.user is None,
    )
    _cookie(response, request, LOGIN_COOKIE, nonce, 3600)
    return response


@router.post("/login")
async def login(request: Request, site: SiteDep) -> Response:
    """Check name and password; on success start a session and go on."""
    form = await request.form()
    name = str(form.get("name", "")).strip()[:64]
    if any(ord(c) < 32 for c in name):  # no account has one; PostgreSQL refuses a NUL in a query
        name = ""
    password = str(form.get("password", ""))[: MAX_PASSWORD + 1]
    target = local(str(form.get("volgende", "/")))
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not nonce or not hmac.compare_digest(str(form.get("_token", "")), login_token(site, nonce)):
        return _again(
            site,
            request,
            403,
            target,
            nonce or "-",
            "Dit formulier is verlopen of komt niet van deze site. Laad de pagina opnieuw.",
        )
    address = client_address(request)
    attempt, wait = await run_in_threadpool(claim_login, site, name, address)
    if attempt is None:
        log.warning("inloggen afgeremd voor %r vanaf %s (%d s)", name, address, wait)
        return _again(
            site,
            request,
            429,
            target,
            nonce,
            f"Te veel mislukte pogingen. Probeer het over {wait} seconden opnieuw.",
        )
    row = await run_in_threadpool(site.own.accounts.user, name) if name else None
    # Check a password even for unknown names, so the time taken does not tell which names exist.
    checked = await run_in_threadpool(verify_password, password, row["password"] if row else _dummy_hash())
    if row is not None and checked:
        await run_in_threadpool(site.own.accounts.attempt_succeeded, attempt)
    if row is None or not checked:
        log.warning("mislukte inlog voor %r vanaf %s", name, address)
        return _again(site, request, 401, target, nonce, "Onbekende naam of verkeerd wachtwoord.")
    token, _ = await run_in_threadpool(site.own.accounts.start_session, name, SESSION_SECONDS)
    log.info("%s ingelogd vanaf %s", name, address)
    response = RedirectResponse(target, status_code=303)
    _cookie(response, request, SESSION_COOKIE, token, SESSION_SECONDS)
    response.delete_cookie(LOGIN_COOKIE)
    return response


@router.get("/uitloggen", response_class=HTMLResponse)
def logout_form(request: Request, site: SiteDep) -> Response:
    """Ask to confirm logging out (a form, so another site cannot log anyone out)."""
    return site.page("uitloggen.html", request)


@router.post("/uitloggen")
async def logout(request: Request, site: SiteDep) -> Response:
    """End the session in the store: the cookie no longer works, even replayed."""
    form = await request.form()
    if not hmac.compare_digest(str(form.get("_token", "")), str(request.state.form_token)):
        return site.page(
            "uitloggen.html", request, 403, message="Laad de pagina opnieuw en probeer het nog eens."
        )
    await run_in_threadpool(site.own.accounts.end_session, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def _again(site: Site, request: Request, status: int, target: str, nonce: str, message: str) -> Response:
    """Show the login form again with a message (and a fresh token for the same login cookie)."""
    return site.page(
        "login.html",
        request,
        status,
        volgende=target,
        token=login_token(site, nonce),
        message=message,
        logged_out=request.state.user is None,
    )


def _cookie(response: Response, request: Request, name: str, value: str, seconds: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=seconds,
        httponly=True,
        samesite="strict" if name == LOGIN_COOKIE else "lax",
        secure=request.url.scheme == "https",
    )


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Return a hash to check unknown names against (made on first use: scrypt is slow on purpose)."""
    return hash_password(secrets.token_hex(8))


def local(target: str) -> str:
    """Only ever send people on to a page of this site after logging in."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"

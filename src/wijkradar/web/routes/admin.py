"""A gemeente's beheerders manage its users and read its audit log, in the browser.

A beheerder gives and takes roles in their own gemeente only. They may make a new account (with a
first password), but never change the password of an existing account: that account may have roles
in other gemeenten, and a password reset would hand it over.

A national beheerder manages the accounts of every gemeente but sees no gemeente's own data: it
cannot give its own account a role. The roles it gives others, and every time anyone reads the audit
log, are written in that gemeente's audit log, which its own beheerders read.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from wijkradar.access import (
    Access,
    check_name,
    check_password,
    check_role,
    hash_password,
)
from wijkradar.appdb import ROLES
from wijkradar.errors import Forbidden, InputError, NotFoundError
from wijkradar.query import require_gemeente
from wijkradar.texts import ROLE_NL
from wijkradar.web.deps import AccessDep, Format, GemeenteCode, SiteDep, actor
from wijkradar.web.formats import respond
from wijkradar.web.site import Site

router = APIRouter()
AUDIT_SHOWN = 200


@router.get(
    "/gemeente/{code:code}/beheer", summary="Gebruikers en auditlogboek van een gemeente (beheerders)"
)
def admin_page(
    request: Request, site: SiteDep, access: AccessDep, code: GemeenteCode, opgeslagen: str = ""
) -> Response:
    """Show the gemeente's users with their roles, forms to change them, and the latest audit entries."""
    access.require("manage", code)
    site.own.log(actor(access), code, "view", "auditlog (beheer)")
    return site.page("beheer.html", request, **_context(site, access, code, notice=opgeslagen == "1"))


@router.get(
    "/gemeente/{code:code}/audit{fmt:fmt}",
    summary="Auditlogboek van een gemeente: pagina, .json, .csv, .xlsx",
)
def audit(request: Request, site: SiteDep, access: AccessDep, code: GemeenteCode, fmt: Format) -> Response:
    """Give the whole audit log of the gemeente (who saw or changed its own data, when)."""
    access.require("manage", code)
    site.own.log(actor(access), code, "view" if fmt == "html" else "export", f"auditlog ({fmt})")

    def rows() -> list[dict[str, Any]]:
        return [{**r, "at": str(r["at"])[:19]} for r in site.own.audit(code)]

    return respond(
        fmt,
        f"{code}-audit",
        html=lambda: site.page("beheer.html", request, **_context(site, access, code, full=True)),
        data=rows,
        table=rows,
    )


@router.post(
    "/gemeente/{code:code}/beheer/gebruikers", summary="Gebruiker toevoegen of rol geven (beheerders)"
)
async def give_role(request: Request, site: SiteDep, access: AccessDep, code: GemeenteCode) -> Response:
    """Give a user a role here; a name that does not exist yet becomes an account with this password."""
    form = await _form(request, site, access, code)
    name, typed = str(form.get("name", "")).strip(), str(form.get("role", ""))
    password = str(form.get("password", ""))

    def change() -> tuple[str, str]:
        check_name(name)
        role = check_role(typed)
        if access.user is not None and name == access.user.name and access.user.role(code) is None:
            raise Forbidden(  # in this gemeente's audit log, like every refusal
                "Een landelijk beheerder kan zichzelf geen rol in een gemeente geven: vraag een "
                "beheerder van deze gemeente om een rol.",
                gemeente=code,
            )
        existing = site.own.accounts.user(name)
        if existing is None:
            site.own.accounts.save_user(name, hash_password(check_password(password)))
        elif password:
            raise InputError(
                "formulier",
                "het wachtwoord van een bestaande gebruiker kan hier niet veranderen",
                column="password",
                fix="laat het wachtwoord leeg; de gebruiker zelf of een landelijk beheerder kan het wijzigen",
            )
        site.own.accounts.set_role(name, code, role)
        return role, "nieuw account" if existing is None else "rol gewijzigd"

    try:
        role, what = await run_in_threadpool(change)
    except InputError as exc:
        error = {
            "field": {"naam": "name", "rol": "role", "wachtwoord": "password"}.get(
                str(exc.column), exc.column
            ),
            "message": str(exc),
        }
        return site.page(
            "beheer.html", request, 422, **_context(site, access, code, error=error, values=form)
        )
    await run_in_threadpool(site.own.log, actor(access), code, "role", f"{name}: {ROLE_NL[role]}", what)
    return RedirectResponse(f"/gemeente/{code}/beheer?opgeslagen=1", status_code=303)


@router.post(
    "/gemeente/{code:code}/beheer/gebruikers/{name}/verwijderen", summary="Rol intrekken (beheerders)"
)
async def take_role(
    request: Request, site: SiteDep, access: AccessDep, code: GemeenteCode, name: str
) -> Response:
    """Take a user's role here away; an account left without any role ends (its sessions too)."""
    await _form(request, site, access, code)

    def change() -> None:
        found = site.own.accounts.user(name)
        if found is None or code not in found["roles"]:
            raise NotFoundError("gebruiker", name, [u["name"] for u in site.own.accounts.users(code)])
        site.own.accounts.set_role(name, code, None)
        if len(found["roles"]) == 1 and not found["national_admin"]:
            site.own.accounts.remove_user(name)
        else:
            site.own.accounts.revoke_sessions(name)  # their rights changed: log in again

    await run_in_threadpool(change)
    await run_in_threadpool(site.own.log, actor(access), code, "role", f"{name}: geen", "rol ingetrokken")
    return RedirectResponse(f"/gemeente/{code}/beheer?opgeslagen=1", status_code=303)


async def _form(request: Request, site: Site, access: Access, code: str) -> Any:
    """Check the beheerder's right and the form token; return the form."""
    access.require("manage", code)
    if not site.accounts:
        raise Forbidden("Deze wijkradar heeft geen accounts; gebruikers beheert u met 'wijkradar users'.")
    form = await request.form()
    if not secrets.compare_digest(str(form.get("_token", "")), str(request.state.form_token)):
        raise Forbidden("Dit formulier is verlopen of komt niet van deze site. Laad de pagina opnieuw.")
    return form


def _context(site: Site, access: Access, code: str, **extra: Any) -> dict[str, Any]:
    entries = site.own.audit(code)
    return {
        "gemeente": require_gemeente(site.warehouse(), code),
        "users": site.own.accounts.users(code),
        "roles": ROLES,
        "entries": entries if extra.pop("full", False) else entries[-AUDIT_SHOWN:],
        "total": len(entries),
        "accounts": site.accounts,
        "error": None,
        "values": {},
        **extra,
    }

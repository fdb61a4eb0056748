"""Dependencies routes take: the site, this thread's warehouse handle, and the request's access.

:func:`get_access` is the one dependency that says what a request may see and do (see
:class:`wijkradar.access.Access`); every route that shows or changes a gemeente's own data takes it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from pydantic import AfterValidator

from wijkradar.access import Access, User
from wijkradar.regions import CODE_PATTERN, GEMEENTE_PATTERN, gemeente_of
from wijkradar.renamed import upload_code
from wijkradar.sources.model import OWN_DATA_PUBLISHER
from wijkradar.uploads import UPLOAD_PREFIX
from wijkradar.warehouse import Warehouse
from wijkradar.web.formats import FORMATS
from wijkradar.web.site import Site

GM_CODE = f"^{GEMEENTE_PATTERN}$"
REGION_CODE = f"^(?:{CODE_PATTERN})$"


def get_site(request: Request) -> Site:
    """Return the running site (``app.state.site``)."""
    site: Site = request.app.state.site
    return site


def get_warehouse(site: Annotated[Site, Depends(get_site)]) -> Warehouse:
    """Return this thread's warehouse handle."""
    return site.warehouse()


def get_access(request: Request, site: Annotated[Site, Depends(get_site)]) -> Access:
    """Return what this request's user may see and do."""
    user: User | None = getattr(request.state, "user", None)
    if site.open_data_only:  # nobody sees own data: as a user without any role
        return Access(User("publiek"), accounts=True)
    return Access(user, accounts=site.accounts)


SiteDep = Annotated[Site, Depends(get_site)]
WarehouseDep = Annotated[Warehouse, Depends(get_warehouse)]
AccessDep = Annotated[Access, Depends(get_access)]
GemeenteCode = Annotated[
    str, Path(pattern=GM_CODE, description="CBS-code van een gemeente, bv. GM0034", examples=["GM0034"])
]
RegionCode = Annotated[
    str,
    Path(
        pattern=REGION_CODE,
        description="CBS-code, bv. GM0034 of BU00340101",
        examples=["GM0034", "WK003402", "BU00340211"],
    ),
]
# The document lists the suffixes as they stand in the path ("" for the page); the route receives
# them converted ("html", "json", ...) by the path's converter (wijkradar.web.formats).
Format = Annotated[
    str,
    Path(
        description="Leeg voor de pagina, of .json, .csv, .xlsx, .geojson, .gpkg, .yaml",
        json_schema_extra={"enum": ["", *(f".{f}" for f in FORMATS)]},
    ),
]
# An upload's theme of before 0.3 (eigen-x) is read as its code since (own-x): old links keep working.
Theme = Annotated[
    str,
    Query(pattern=r"^[a-z0-9-]{1,40}$", description="Thema, bv. eenzaamheid"),
    AfterValidator(upload_code),
]


def actor(access: Access) -> str:
    """Name the user in the audit log ("lokaal" on a site without accounts)."""
    return access.user.name if access.user else "lokaal"


def visible_profile(site: Site, access: Access, profile: dict[str, Any]) -> dict[str, Any]:
    """Leave out another gemeente's own data from a region's profile; log who saw the own figures shown."""
    code = str(profile["code"])
    if access.sees(code):
        if any(f.get("publisher") == OWN_DATA_PUBLISHER for f in profile["figures"]):
            site.own.log(actor(access), gemeente_of(code) or code, "view", f"profiel {code}")
        return profile
    _, measures = site.own_data()
    return {
        **profile,
        "figures": [f for f in profile["figures"] if access.own_visible(f.get("publisher"), code)],
        "trends": [t for t in profile.get("trends", []) if t.get("measure") not in measures],
        "estimates": [e for e in profile.get("estimates", []) if e.get("measure") not in measures],
    }


def require_theme(site: Site, access: Access, thema: str, code: str) -> None:
    """Refuse a theme on a measure of a gemeente's own data to users who may not see it; log who saw it.

    An upload's theme (``own-...``) exists only for its own gemeente's users: the others learn
    nothing of it, not even that it exists, until they may see that gemeente's own data.
    """
    from wijkradar.pages.theming import theme_or_error

    if thema.startswith(UPLOAD_PREFIX):
        access.require("see", code)
        theme_or_error(thema, site.view(code))
        site.own.log(actor(access), code, "view", f"thema {thema}")
        return
    _, measures = site.own_data()
    owners = measures.get(theme_or_error(thema).measure_id)
    if owners is not None:
        for gemeente in sorted(owners | {code}):
            access.require("see", gemeente)
        for gemeente in sorted(owners):
            site.own.log(actor(access), gemeente, "view", f"thema {thema} van {code}")


def visible_sources(site: Site, access: Access, data: dict[str, Any]) -> dict[str, Any]:
    """Leave out the own-data sources and model cards of gemeenten this user may not see."""
    sources, measures = site.own_data()

    def shown(owners: set[str] | None) -> bool:
        if owners is None:  # open data
            return True
        if not owners:  # own data without a figure (an empty linkage run) has no gemeente to show it to
            return not access.accounts
        return all(access.sees(g) for g in owners)

    return {
        **data,
        "sources": [s for s in data["sources"] if shown(sources.get(int(s["source_id"])))],
        "models": [m for m in data["models"] if shown(measures.get(str(m.get("measure"))))],
    }


# A row id as the operational store keeps it (a 32-bit integer in PostgreSQL): a larger one in a
# URL is refused with 422 on both stores instead of overflowing in PostgreSQL's driver.
RowId = Annotated[int, Path(ge=1, le=2_147_483_647)]

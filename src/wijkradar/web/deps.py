"""Dependencies routes take: the site, this thread's warehouse handle, the user, and own-data checks."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request

from wijkradar.access import OWN_DATA_PUBLISHER, User
from wijkradar.regions import CODE_PATTERN
from wijkradar.warehouse import Warehouse
from wijkradar.web.site import Site

GM_CODE = r"^GM\d{4}$"
REGION_CODE = f"^(?:{CODE_PATTERN})$"


def get_site(request: Request) -> Site:
    """Return the running site (``app.state.site``)."""
    site: Site = request.app.state.site
    return site


def get_warehouse(site: Annotated[Site, Depends(get_site)]) -> Warehouse:
    """Return this thread's warehouse handle."""
    return site.warehouse()


def get_user(request: Request) -> User | None:
    """Return the logged-in user (None when the site has no accounts)."""
    user: User | None = getattr(request.state, "user", None)
    return user


SiteDep = Annotated[Site, Depends(get_site)]
WarehouseDep = Annotated[Warehouse, Depends(get_warehouse)]
UserDep = Annotated["User | None", Depends(get_user)]
GemeenteCode = Annotated[str, Path(pattern=GM_CODE, description="CBS-code van een gemeente, bv. GM0034")]
RegionCode = Annotated[str, Path(pattern=REGION_CODE, description="CBS-code, bv. GM0034 of BU00340101")]
Format = Annotated[str, Path(description="Leeg voor de pagina, of .json, .csv, .xlsx, .geojson, .yaml")]
Theme = Annotated[str, Query(pattern=r"^[a-z0-9-]{1,40}$", description="Thema, bv. eenzaamheid")]


class Refused(Exception):
    """A request this user may not make, or a form this server may not or cannot store."""


def require_own(site: Site, user: User | None, code: str) -> None:
    """Refuse a gemeente's own data (goals, interventions) to users of other gemeenten."""
    if site.users is not None and (user is None or not user.sees(code)):
        mine = ", ".join(sorted(user.gemeenten)) if user else "geen"
        raise Refused(
            f"De doelen en eigen gegevens van {code} zijn alleen voor die gemeente. "
            f"U bent ingelogd voor: {mine}."
        )


def visible(site: Site, user: User | None, profile: dict[str, Any]) -> dict[str, Any]:
    """Leave out the figures from another gemeente's own registers."""
    if site.users is None or (user is not None and user.sees(profile["code"])):
        return profile
    figures = [f for f in profile["figures"] if f.get("publisher") != OWN_DATA_PUBLISHER]
    return {**profile, "figures": figures}

"""The public pages: gemeenten, priority lists, region profiles and sources, each in every format it has."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from wijkradar import __version__
from wijkradar.pages import charts, theming
from wijkradar.priority import table_rows
from wijkradar.query import require_gemeente, resolve_gemeente
from wijkradar.themes import DEFAULT_THEME
from wijkradar.web.deps import (
    AccessDep,
    Format,
    GemeenteCode,
    RegionCode,
    SiteDep,
    Theme,
    WarehouseDep,
    require_theme,
    visible_profile,
    visible_sources,
)
from wijkradar.web.formats import respond
from wijkradar.web.site import Site

router = APIRouter()


@router.get("/healthz", include_in_schema=False)
def healthz(wh: WarehouseDep) -> dict[str, Any]:
    """Tell a load balancer the site is up, how much data it has, and which version of them it serves.

    ``data`` changes with every ingest and every trained model: a script that writes with the CLI
    can tell from it when the site serves the new version.
    """
    _, sources, last_source, _, last_model, _ = wh.data_version()
    return {
        "status": "ok",
        "version": __version__,
        "observations": wh.observation_count(),
        "data": {"sources": sources, "last_source": last_source, "last_model": last_model},
    }


@router.get("/static/vendor/plotly.min.js", include_in_schema=False)
def plotly_js() -> FileResponse:
    """Serve Plotly's JavaScript from the installed package (never a CDN)."""
    return FileResponse(
        charts.PLOTLY_JS, media_type="text/javascript", headers={"Cache-Control": "max-age=86400"}
    )


@router.get("/", response_class=HTMLResponse, summary="Kies een gemeente en thema")
def index(request: Request, site: SiteDep) -> HTMLResponse:
    """Show the start page."""
    return site.page("index.html", request, gemeenten=site.gemeenten())


@router.get("/zoek", summary="Zoek een gemeente op naam of code")
def search(
    wh: WarehouseDep, q: str = Query(..., min_length=1, max_length=80), thema: Theme = DEFAULT_THEME
) -> Response:
    """Open the gemeente a name or code stands for."""
    theming.theme_or_error(thema)
    code = resolve_gemeente(wh, q).code
    return RedirectResponse(f"/gemeente/{code}?thema={thema}", status_code=303)


@router.get(
    "/gemeente/{code:code}{fmt:fmt}",
    summary="Overzicht van een gemeente: pagina, .json, .csv, .xlsx, .geojson",
)
def gemeente(
    site: SiteDep, access: AccessDep, code: GemeenteCode, fmt: Format, thema: Theme = DEFAULT_THEME
) -> Response:
    """Show a gemeente's overview: the map or ranked chart of its buurten for one theme."""
    require_theme(site, access, thema, code)
    return respond(
        fmt,
        f"{code}-{thema}",
        html=lambda: HTMLResponse(site.gemeente_html(code, thema)),
        data=lambda: site.overview_json(code, thema),
        table=lambda: site.overview(code, thema)["areas"]["rows"],
        geojson=lambda: _geojson(site, code, thema),
    )


def _geojson(site: Site, code: str, thema: str) -> Any:
    require_gemeente(site.warehouse(), code)
    return site.geojson(code, thema)


@router.get(
    "/gemeente/{code:code}/prioriteit{fmt:fmt}", summary="Prioriteitenlijst: pagina, .json, .csv, .xlsx"
)
def priority(
    request: Request,
    site: SiteDep,
    access: AccessDep,
    code: GemeenteCode,
    fmt: Format,
    thema: Theme = DEFAULT_THEME,
) -> Response:
    """List the buurten of a gemeente in order of attention needed."""
    require_theme(site, access, thema, code)

    def data() -> Any:
        return site.priority(code, thema)

    return respond(
        fmt,
        f"{code}-{thema}-prioriteit",
        html=lambda: site.page("prioriteit.html", request, data=data(), thema=thema),
        data=data,
        table=lambda: table_rows(data()["rows"]),
    )


@router.get(
    "/regio/{code:code}{fmt:fmt}",
    summary="Profiel van een gemeente, wijk of buurt: pagina, .json, .csv, .xlsx",
)
def region(request: Request, site: SiteDep, access: AccessDep, code: RegionCode, fmt: Format) -> Response:
    """Show every figure of one area, its trends and the model estimates."""
    data = visible_profile(site, access, site.profile(code))
    return respond(
        fmt,
        code,
        html=lambda: site.page("regio.html", request, data=data, trend_figure=charts.trends(data["trends"])),
        data=lambda: data,
        table=lambda: [
            {"measure_label" if k == "label" else k: v for k, v in f.items()} for f in data["figures"]
        ],
    )


@router.get("/bronnen{fmt:fmt}", summary="Bronnen, licenties en modelkaarten: pagina, .json, .csv, .xlsx")
def sources(request: Request, site: SiteDep, access: AccessDep, fmt: Format) -> Response:
    """Show where every figure comes from, and how the models were validated."""
    data = visible_sources(site, access, site.sources())
    return respond(
        fmt,
        "bronnen",
        html=lambda: site.page("bronnen.html", request, data=data),
        data=lambda: data,
        table=lambda: data["sources"],
    )

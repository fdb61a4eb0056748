"""The FastAPI application: Dutch server-rendered pages with their data beside them.

Every page's data is at the same path with a format suffix (see :mod:`wijkradar.web.formats`):
``.json``, tables also as ``.csv`` and ``.xlsx``, maps as ``.geojson``. The routes are in
:mod:`wijkradar.web.routes`, the state of a running site in :mod:`wijkradar.web.site`.

Nothing is loaded from a CDN: Plotly's JavaScript is served from the installed ``plotly`` package
and wijkradar's own CSS and JavaScript from ``static/``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from wijkradar import __version__
from wijkradar.access import User
from wijkradar.web import errors
from wijkradar.web.routes import accounts, goals, pages
from wijkradar.web.site import Site

PUBLIC = ("/login", "/uitloggen", "/static/", "/healthz")


def create_app(db_path: Path, *, editable: bool = False, users: dict[str, User] | None = None) -> FastAPI:
    """Build the app around one warehouse file.

    Read-only by default; with ``editable`` the goals pages accept forms (goals and interventions)
    and the file is opened for writing, which keeps other programs from writing to it meanwhile.
    With ``users`` everyone logs in and sees the own data of their own gemeente(n) only (see
    :mod:`wijkradar.access`); without, one user sees everything.
    """
    site = Site(db_path, editable=editable, users=users)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        site.close()

    app = FastAPI(
        lifespan=lifespan,
        title="wijkradar",
        version=__version__,
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
        description="Buurtgegevens, risicosignalen en prioriteiten voor gemeenten.",
    )
    app.state.site = site
    errors.install(app)
    app.middleware("http")(authenticate)
    for router in (accounts.router, pages.router, goals.router):
        app.include_router(router)
    # Mounted last, so the routes (the vendored Plotly under /static/vendor) match first.
    static = resources.files("wijkradar.web").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    return app


async def authenticate(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """On a site with accounts, send everyone who has not logged in to the login page."""
    site: Site = request.app.state.site
    request.state.user = None
    if site.users is not None and not request.url.path.startswith(PUBLIC):
        name = site.sessions.verify(request.cookies.get(accounts.COOKIE, ""))
        user = site.users.get(name) if name else None
        if user is None:
            if errors.wants_data(request):
                return JSONResponse({"detail": "Log eerst in op /login."}, status_code=401)
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?volgende={quote(target)}", status_code=303)
        request.state.user = user
    return await call_next(request)

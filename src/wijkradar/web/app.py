"""The FastAPI application: Dutch server-rendered pages with their data beside them.

Every page's data is at the same path with a format suffix (see :mod:`wijkradar.web.formats`):
``.json``, tables also as ``.csv`` and ``.xlsx``, maps as ``.geojson``. The routes are in
:mod:`wijkradar.web.routes`, the state of a running site in :mod:`wijkradar.web.site`, what every
request and response goes through in :mod:`wijkradar.web.security`.

Nothing is loaded from a CDN: Plotly's JavaScript is served from the installed ``plotly`` package,
Swagger UI from ``swagger-ui-py`` and wijkradar's own CSS and JavaScript from ``static/``.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from wijkradar import __version__
from wijkradar.config import Settings
from wijkradar.goals import own_store
from wijkradar.themes import use_extra_themes
from wijkradar.warehouse import Warehouse
from wijkradar.web import errors, security, threads
from wijkradar.web.routes import accounts, admin, docs, goals, pages, uploads
from wijkradar.web.site import Site

log = logging.getLogger("wijkradar.web")


def create_app(
    db_path: Path,
    *,
    editable: bool = False,
    app_db: str | None = None,
    open_data_only: bool = False,
    hosts: tuple[str, ...] = (),
    themes_file: Path | None = None,
    page_threads: int = Settings.page_threads,
) -> FastAPI:
    """Build the app around one warehouse file (opened read-only) and the operational store.

    ``app_db`` is the store's URL (default: the SQLite file beside the warehouse). With users in
    the store everyone logs in (see :mod:`wijkradar.access`); ``editable`` allows the forms;
    ``open_data_only`` serves no gemeente's own data; ``hosts`` are the host names to answer to;
    ``themes_file`` extends the theme catalogue (see :mod:`wijkradar.themes`); ``page_threads``
    is how many pages a worker renders at once.
    """
    use_extra_themes(themes_file)
    with Warehouse.open(db_path, read_only=True) as wh:
        own = own_store(wh, app_db)
    site = Site(db_path, own, editable=editable, open_data_only=open_data_only, hosts=hosts)

    @asynccontextmanager
    async def lifespan(running: FastAPI) -> AsyncIterator[None]:
        try:
            await run_in_threadpool(site.warm)
        except Exception as exc:  # warming only saves the first visitors time; the pages still work
            log.warning("Vooraf rekenen mislukt (%s); de eerste pagina's worden trager.", type(exc).__name__)
        # What is read now lives as long as the process: keep the garbage collector from walking it
        # again and again (a full collection over the shared frames stalled every request ~0.1 s).
        gc.collect()
        gc.freeze()
        threads.configure(running, page_threads)
        yield
        site.close()

    app = FastAPI(
        lifespan=lifespan,
        title="wijkradar",
        version=__version__,
        docs_url=None,
        openapi_url="/api/openapi.json",
        redoc_url=None,
        description="Buurtgegevens, risicosignalen en prioriteiten voor gemeenten.",
    )
    app.state.site = site
    errors.install(app)
    app.add_middleware(security.Guard)
    for router in (accounts.router, docs.router, pages.router, goals.router, uploads.router, admin.router):
        app.include_router(router)
    # Mounted last, so the routes (the vendored Plotly under /static/vendor) match first.
    static = resources.files("wijkradar.web").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    return app


def app_from_env() -> FastAPI:
    """Build the app from the environment, for a server started with ``uvicorn --factory`` itself.

    ``wijkradar serve`` hands its settings to :func:`create_app` and never writes the environment.
    """
    settings = Settings.from_env()
    mode = settings.site_mode
    return create_app(
        settings.db_path.resolve(),
        editable=mode == "edit",
        app_db=settings.app_db,
        open_data_only=mode == "open",
        hosts=settings.hosts,
        themes_file=settings.themes_file,
        page_threads=settings.page_threads,
    )

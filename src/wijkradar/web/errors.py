"""Errors as Dutch pages, or as JSON for data paths (``.json``, ``.csv``, ``.geojson``, ``/api``)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from wijkradar.errors import Forbidden, ModelMissing, NotFoundError, WijkradarError
from wijkradar.web.site import Site


def install(app: FastAPI) -> None:
    """Answer every known error with its status and a Dutch message."""

    def answer(
        request: Request, status: int, title: str, message: str, links: Any = (), **extra: Any
    ) -> Response:
        if wants_data(request):
            return JSONResponse({"detail": message, **extra}, status_code=status)
        site: Site = request.app.state.site
        if links:  # the suggestions as links instead of words in the message
            message = message.split(" Bedoelde u:")[0]
        return site.page("error.html", request, status, title=title, message=message, links=links)

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> Response:
        links = [(s, href) for s in exc.suggestions if (href := _suggested(request, exc.kind, s))]
        return answer(request, 404, "Niet gevonden", str(exc), links, suggestions=exc.suggestions)

    @app.exception_handler(ModelMissing)
    async def model_missing(request: Request, exc: ModelMissing) -> Response:
        message = (
            "Voor deze pagina is nog geen risicomodel gemaakt. Vraag de beheerder van deze site het te "
            f"maken; die doet dat met '{exc.train_command}'."
        )
        return answer(request, 409, "Nog geen model", message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            f"{'/'.join(str(p) for p in e.get('loc', [])[1:]) or 'verzoek'}: {_dutch_validation(e)}"
            for e in exc.errors()
        ]
        if wants_data(request):
            return JSONResponse({"detail": problems}, status_code=422)
        return answer(request, 422, "Ongeldig verzoek", "; ".join(problems))

    @app.exception_handler(WijkradarError)
    async def other(request: Request, exc: WijkradarError) -> Response:
        return answer(request, 400, "Fout", str(exc))

    @app.exception_handler(Forbidden)
    async def refused(request: Request, exc: Forbidden) -> Response:
        site: Site = request.app.state.site
        if exc.gemeente and site.accounts:  # the gemeente's beheerders see who tried
            user = getattr(request.state, "user", None)
            await run_in_threadpool(
                site.own.log,
                user.name if user else "(niet ingelogd)",
                exc.gemeente,
                "refused",
                f"{request.method} {request.url.path}",
            )
        return answer(request, 403, "Niet toegestaan", str(exc))

    @app.exception_handler(404)
    async def no_route(request: Request, exc: Exception) -> Response:
        return answer(request, 404, "Niet gevonden", "Deze pagina bestaat niet.")


def _suggested(request: Request, kind: str, suggestion: str) -> str | None:
    """Return where a suggestion of a 404 leads: a gemeente by search, a region, this page on a theme."""
    if kind.startswith("gemeente"):  # "gemeente", "gemeente of regio": names a search finds
        return f"/zoek?{urlencode({'q': suggestion})}"
    if kind == "regiocode":
        return f"/regio/{quote(suggestion)}"
    if kind == "thema":
        url = request.url.include_query_params(thema=suggestion)
        return f"{url.path}?{url.query}"
    return None


def wants_data(request: Request) -> bool:
    """Tell whether a request asks for data rather than a page."""
    path = request.url.path
    return bool(re.search(r"\.(json|csv|geojson|xlsx|yaml)$", path)) or path.startswith("/api")


def _dutch_validation(error: dict[str, Any]) -> str:
    kind = str(error.get("type", ""))
    if kind == "string_pattern_mismatch":
        return f"ongeldige waarde {error.get('input')!r}; verwacht een CBS-code zoals GM0034 of een themanaam"
    if kind == "missing":
        return "ontbreekt"
    if kind.startswith("string_too"):
        return "te kort of te lang"
    return str(error.get("msg", "ongeldig"))

"""The FastAPI application: Dutch server-rendered pages with their data beside them.

Every page's data is at the same path as ``.json``, tables also as ``.csv`` and maps as ``.geojson``.

Nothing is loaded from a CDN: Plotly's JavaScript is served from the installed ``plotly`` package
and wijkradar's own CSS and JavaScript from ``static/``.
"""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
import tempfile
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import ImmutableMultiDict

from wijkradar import __version__
from wijkradar.access import OWN_DATA_PUBLISHER, Sessions, User, hash_password, verify_password
from wijkradar.errors import InputError, ModelMissing, NotFoundError, WijkradarError
from wijkradar.goals import (
    GOAL_FIELDS,
    add_goal,
    add_intervention,
    delete_goal,
    delete_intervention,
    export_goals,
    find_goal,
    plan,
    update_goal,
)
from wijkradar.jsonable import to_jsonable
from wijkradar.pages import charts, views
from wijkradar.query import resolve_gemeente
from wijkradar.regions import CODE_PATTERN
from wijkradar.texts import DIRECTION_NL, EXPECTATION_NL, GOAL_STATUS_NL, STATUS_NL, number_nl
from wijkradar.themes import load_themes
from wijkradar.warehouse import Warehouse

GM_CODE = r"^GM\d{4}$"
REGION_CODE = f"^(?:{CODE_PATTERN})$"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _pct(value: Any, decimals: int = 1) -> str:
    return "–" if value is None else f"{number_nl(value, decimals)}%"


def create_app(db_path: Path, *, editable: bool = False, users: dict[str, User] | None = None) -> FastAPI:
    """Build the app around one warehouse file.

    Read-only by default; with ``editable`` the goals pages accept forms (goals and interventions)
    and the file is opened for writing, which keeps other programs from writing to it meanwhile.
    With ``users`` everyone logs in and sees the own data of their own gemeente(n) only (see
    :mod:`wijkradar.access`); without, one user sees everything.
    """
    root = Warehouse.open(db_path, read_only=not editable)
    local = threading.local()
    handles: list[Warehouse] = []
    handles_lock = threading.Lock()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        # Close every handle, so the file is free for other programs once the server stops.
        with handles_lock:
            for handle in handles:
                handle.close()
            handles.clear()
        root.close()

    app = FastAPI(
        lifespan=lifespan,
        title="wijkradar",
        version=__version__,
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
        description="Buurtgegevens, risicosignalen en prioriteiten voor gemeenten.",
    )
    write_lock = threading.Lock()  # forms are rare: one write at a time, never a conflict
    token = secrets.token_urlsafe(24)  # forms carry it, so another site cannot post to this one
    # While this server has the file open for writing no other program can change it, so goals pages
    # are cached per generation, which every stored form moves on.
    generation = [0]

    def warehouse() -> Warehouse:
        # DuckDB connections are not shared between threads; each worker thread gets a cursor.
        if not hasattr(local, "wh"):
            local.wh = root.cursor()
            with handles_lock:
                handles.append(local.wh)
        return local.wh  # type: ignore[no-any-return]

    env = Environment(loader=PackageLoader("wijkradar.web", "templates"), autoescape=select_autoescape())
    env.filters["nl"] = number_nl
    env.filters["pct"] = _pct
    env.filters["status"] = lambda s: STATUS_NL.get(str(s), str(s))
    env.filters["expectation"] = lambda s: EXPECTATION_NL.get(str(s), "")
    env.filters["goal_status"] = lambda s: GOAL_STATUS_NL.get(str(s), str(s))
    env.filters["direction"] = lambda s: DIRECTION_NL.get(str(s), str(s))
    env.globals["version"] = __version__
    env.globals["accounts"] = users is not None
    sessions = Sessions()
    themes = load_themes()
    env.globals["themes"] = list(themes.values())

    cached = _cache(warehouse)

    def page(name: str, request: Request, status_code: int = 200, **context: Any) -> HTMLResponse:
        html = env.get_template(name).render(request=request, **context)
        return HTMLResponse(html, status_code=status_code)

    @lru_cache(maxsize=256)
    def rendered(kind: str, *args: str) -> bytes:
        """Finished response bodies: the data behind them cannot change while the server runs."""
        if kind == "gemeente":
            code, thema = args
            data = cached("overview", code, thema)
            figure = (
                charts.choropleth(cached("geojson", code, thema), data["theme"])
                if data["has_map"]
                else charts.ranked_bars(data["areas"]["rows"], data["theme"])
            )
            html = env.get_template("gemeente.html").render(
                data=data, figure=to_jsonable(figure), thema=thema
            )
            return html.encode()
        data = cached(kind, *args)
        return json.dumps(data, ensure_ascii=False, allow_nan=False).encode()

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> Response:
        if _wants_data(request):
            return JSONResponse({"detail": str(exc), "suggestions": exc.suggestions}, status_code=404)
        return page("error.html", request, 404, title="Niet gevonden", message=str(exc))

    @app.exception_handler(ModelMissing)
    async def model_missing(request: Request, exc: ModelMissing) -> Response:
        if _wants_data(request):
            return JSONResponse({"detail": str(exc)}, status_code=409)
        return page("error.html", request, 409, title="Nog geen model", message=str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            f"{'/'.join(str(p) for p in e.get('loc', [])[1:]) or 'verzoek'}: {_dutch_validation(e)}"
            for e in exc.errors()
        ]
        if _wants_data(request):
            return JSONResponse({"detail": problems}, status_code=422)
        return page("error.html", request, 422, title="Ongeldig verzoek", message="; ".join(problems))

    @app.exception_handler(WijkradarError)
    async def other(request: Request, exc: WijkradarError) -> Response:
        if _wants_data(request):
            return JSONResponse({"detail": str(exc)}, status_code=400)
        return page("error.html", request, 400, title="Fout", message=str(exc))

    @app.exception_handler(404)
    async def no_route(request: Request, exc: Exception) -> Response:
        if _wants_data(request):
            return JSONResponse({"detail": "Deze pagina bestaat niet."}, status_code=404)
        return page("error.html", request, 404, title="Niet gevonden", message="Deze pagina bestaat niet.")

    @app.middleware("http")
    async def authenticate(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        request.state.user = None
        if users is not None and not request.url.path.startswith(PUBLIC):
            name = sessions.verify(request.cookies.get(COOKIE, ""))
            user = users.get(name) if name else None
            if user is None:
                if _wants_data(request):
                    return JSONResponse({"detail": "Log eerst in op /login."}, status_code=401)
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/login?volgende={quote(target)}", status_code=303)
            request.state.user = user
        return await call_next(request)

    def require_own(request: Request, code: str) -> None:
        """Refuse a gemeente's own data (goals, interventions) to users of other gemeenten."""
        user: User | None = request.state.user
        if users is not None and (user is None or not user.sees(code)):
            mine = ", ".join(sorted(user.gemeenten)) if user else "geen"
            raise Refused(
                f"De doelen en eigen gegevens van {code} zijn alleen voor die gemeente. "
                f"U bent ingelogd voor: {mine}."
            )

    def visible(request: Request, profile: dict[str, Any]) -> dict[str, Any]:
        """Leave out the figures from another gemeente's own registers."""
        user: User | None = request.state.user
        if users is None or (user is not None and user.sees(profile["code"])):
            return profile
        figures = [f for f in profile["figures"] if f.get("publisher") != OWN_DATA_PUBLISHER]
        return {**profile, "figures": figures}

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_form(request: Request, volgende: str = "/") -> HTMLResponse:
        return page("login.html", request, volgende=_local(volgende), message=None)

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = await request.form()
        name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
        target = _local(str(form.get("volgende", "/")))
        user = (users or {}).get(name)
        # Check a password even for unknown names, so the time taken does not tell which names exist.
        checked = await run_in_threadpool(verify_password, password, user.password if user else _dummy_hash())
        if user is None or not checked:
            return page(
                "login.html", request, 401, volgende=target, message="Onbekende naam of verkeerd wachtwoord."
            )
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            COOKIE,
            sessions.issue(user.name),
            max_age=sessions.seconds,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
        return response

    @app.get("/uitloggen", include_in_schema=False)
    def logout() -> Response:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "observations": warehouse().observation_count()}

    @app.get("/static/vendor/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(
            charts.PLOTLY_JS, media_type="text/javascript", headers={"Cache-Control": "max-age=86400"}
        )

    ThemeQuery = Query("eenzaamheid", pattern=r"^[a-z0-9-]{1,40}$", description="Thema, bv. eenzaamheid")

    @app.get("/", response_class=HTMLResponse, summary="Kies een gemeente en thema")
    def index(request: Request) -> HTMLResponse:
        return page("index.html", request, gemeenten=cached("gemeenten"))

    @app.get("/zoek", summary="Zoek een gemeente op naam of code")
    def search(q: str = Query(..., min_length=1, max_length=80), thema: str = ThemeQuery) -> Response:
        views.theme_or_error(thema)
        code = resolve_gemeente(warehouse(), q)
        return RedirectResponse(f"/gemeente/{code}?thema={thema}", status_code=303)

    @app.get("/gemeente/{code}.json", summary="Overzicht van een gemeente (data)")
    def gemeente_json(code: str = _path(GM_CODE), thema: str = ThemeQuery) -> Response:
        return Response(rendered("overview", code, thema), media_type="application/json")

    @app.get("/gemeente/{code}.csv", summary="Waarden per buurt (CSV)")
    def gemeente_csv(code: str = _path(GM_CODE), thema: str = ThemeQuery) -> Response:
        rows = cached("overview", code, thema)["areas"]["rows"]
        return _csv(rows, f"{code}-{thema}.csv")

    @app.get("/gemeente/{code}.geojson", summary="Buurten met waarden (GeoJSON, WGS84)")
    def gemeente_geojson(code: str = _path(GM_CODE), thema: str = ThemeQuery) -> Response:
        views.require_gemeente(warehouse(), code)
        data = cached("geojson", code, thema)
        return Response(json.dumps(data, ensure_ascii=False), media_type="application/geo+json")

    @app.get("/gemeente/{code}", response_class=HTMLResponse, summary="Overzicht van een gemeente")
    def gemeente(code: str = _path(GM_CODE), thema: str = ThemeQuery) -> HTMLResponse:
        return HTMLResponse(rendered("gemeente", code, thema))

    @app.get("/gemeente/{code}/prioriteit.json", summary="Prioriteitenlijst (data)")
    def priority_json(code: str = _path(GM_CODE), thema: str = ThemeQuery) -> JSONResponse:
        return JSONResponse(cached("priority", code, thema))

    @app.get("/gemeente/{code}/prioriteit.csv", summary="Prioriteitenlijst (CSV)")
    def priority_csv(code: str = _path(GM_CODE), thema: str = ThemeQuery) -> Response:
        rows = cached("priority", code, thema)["rows"]
        flat = [
            {
                **{k: v for k, v in r.items() if k not in ("drivers", "capacity")},
                "drivers": "; ".join(d["text"] for d in r["drivers"]),
                **r["capacity"],
            }
            for r in rows
        ]
        return _csv(flat, f"{code}-{thema}-prioriteit.csv")

    @app.get("/gemeente/{code}/prioriteit", response_class=HTMLResponse, summary="Prioriteitenlijst")
    def priority_page(request: Request, code: str = _path(GM_CODE), thema: str = ThemeQuery) -> HTMLResponse:
        data = cached("priority", code, thema)
        return page("prioriteit.html", request, data=data, thema=thema)

    @app.get("/regio/{code}.json", summary="Profiel van een gemeente, wijk of buurt (data)")
    def region_json(request: Request, code: str = _path(REGION_CODE)) -> JSONResponse:
        return JSONResponse(visible(request, cached("profile", code)))

    @app.get("/regio/{code}.csv", summary="Alle cijfers van een gebied (CSV)")
    def region_csv(request: Request, code: str = _path(REGION_CODE)) -> Response:
        return _csv(visible(request, cached("profile", code))["figures"], f"{code}.csv")

    @app.get("/regio/{code}", response_class=HTMLResponse, summary="Profiel van een gemeente, wijk of buurt")
    def region(request: Request, code: str = _path(REGION_CODE)) -> HTMLResponse:
        data = visible(request, cached("profile", code))
        return page("regio.html", request, data=data, trend_figure=charts.trends(data["trends"]))

    @app.get("/bronnen.json", summary="Bronnen en modelkaarten (data)")
    def sources_json() -> JSONResponse:
        return JSONResponse(cached("sources"))

    @app.get("/bronnen.csv", summary="Bronnen (CSV)")
    def sources_csv() -> Response:
        return _csv(cached("sources")["sources"], "bronnen.csv")

    @app.get("/bronnen", response_class=HTMLResponse, summary="Bronnen, licenties en modelkaarten")
    def sources_page(request: Request) -> HTMLResponse:
        return page("bronnen.html", request, data=cached("sources"))

    @lru_cache(maxsize=64)
    def goals_body(code: str, thema: str, _generation: int) -> str:
        return goals_html(code, thema)

    def goals_html(
        code: str,
        thema: str,
        *,
        error: dict[str, str] | None = None,
        values: Any = None,
        notice: str | None = None,
        editing: int | None = None,
    ) -> str:
        data = cached("doelen", code, thema, str(generation[0]))
        return env.get_template("doelen.html").render(
            data=data,
            thema=thema,
            editable=editable,
            token=token,
            error=error,
            values=values,
            filled=error["form"] if error else ("doel" if editing else None),
            editing=editing,
            notice=notice,
            measures=cached("measures"),
            groups=sorted({m["group"] for m in cached("measures")}),
        )

    @app.get("/gemeente/{code}/doelen.json", summary="Doelen met voortgang, interventies en wat werkt (data)")
    def goals_json(request: Request, code: str = _path(GM_CODE), thema: str = ThemeQuery) -> JSONResponse:
        require_own(request, code)
        data = {k: v for k, v in cached("doelen", code, thema, str(generation[0])).items() if k != "areas"}
        data["goals"] = [{k: v for k, v in goal.items() if k != "chart"} for goal in data["goals"]]
        return JSONResponse(data)

    @app.get("/gemeente/{code}/doelen.csv", summary="Voortgang van elk doel per periode (CSV)")
    def goals_csv(request: Request, code: str = _path(GM_CODE)) -> Response:
        require_own(request, code)
        views.require_gemeente(warehouse(), code)
        rows = [
            {
                "doel": g["goal_id"],
                "titel": g["title"],
                "maat": g["measure_id"],
                "groep": g["population_group"],
                "gebied": g["area_name"],
                "gebiedscodes": ",".join(g["area_codes"]),
                "streefwaarde": g["target_value"],
                "streefjaar": g["target_year"],
                "richting": DIRECTION_NL.get(g["direction"], g["direction"]),
                **{k: p[k] for k in ("period", "value", "halfwidth", "required", "u", "note")},
                "status": GOAL_STATUS_NL.get(p["status"], p["status"]),
            }
            for g in cached("plan", code, str(generation[0]))["goals"]
            for p in g["progress"]["points"]
        ]
        return _csv(rows, f"{code}-doelen.csv")

    @app.get("/gemeente/{code}/interventies.csv", summary="Interventies (CSV)")
    def interventions_csv(request: Request, code: str = _path(GM_CODE)) -> Response:
        require_own(request, code)
        views.require_gemeente(warehouse(), code)
        return _csv(cached("plan", code, str(generation[0]))["interventions"], f"{code}-interventies.csv")

    def goals_export(request: Request, code: str, kind: str) -> Response:
        require_own(request, code)
        views.require_gemeente(warehouse(), code)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"{code}-doelen.{kind}"
            export_goals(warehouse(), code, path)
            body = path.read_bytes()
        media = {"xlsx": XLSX, "yaml": "application/yaml; charset=utf-8"}[kind]
        return Response(
            body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{path.name}"'}
        )

    @app.get("/gemeente/{code}/doelen.xlsx", summary="Doelen en interventies als Excel (om te bewerken)")
    def goals_xlsx(request: Request, code: str = _path(GM_CODE)) -> Response:
        return goals_export(request, code, "xlsx")

    @app.get("/gemeente/{code}/doelen.yaml", summary="Doelen en interventies als YAML")
    def goals_yaml(request: Request, code: str = _path(GM_CODE)) -> Response:
        return goals_export(request, code, "yaml")

    @app.get("/gemeente/{code}/doelen", response_class=HTMLResponse, summary="Doelen en interventies")
    def goals_view(
        request: Request,
        code: str = _path(GM_CODE),
        thema: str = ThemeQuery,
        opgeslagen: str = "",
        bewerk: int | None = Query(None, description="Nummer van het doel om te bewerken"),
    ) -> HTMLResponse:
        require_own(request, code)
        if bewerk is not None:
            goal = find_goal(warehouse(), code, bewerk)
            return HTMLResponse(goals_html(code, thema, values=_goal_form(goal), editing=bewerk))
        notices = {
            "doel": "Het doel is opgeslagen.",
            "interventie": "De interventie is opgeslagen.",
            "verwijderd": "Verwijderd.",
        }
        if opgeslagen in notices:
            return HTMLResponse(goals_html(code, thema, notice=notices[opgeslagen]))
        return HTMLResponse(goals_body(code, thema, generation[0]))

    async def submitted(request: Request) -> Any:
        if not editable:
            raise Refused(
                "Deze wijkradar is alleen-lezen gestart; doelen en interventies wijzigen kan hier niet."
            )
        form = await request.form()
        if not secrets.compare_digest(str(form.get("_token", "")), token):
            raise Refused("Dit formulier is verlopen of komt niet van deze site. Laad de pagina opnieuw.")
        return form

    async def store(
        request: Request, code: str, kind: str, action: Callable[[Any], object], editing: int | None = None
    ) -> Response:
        require_own(request, code)
        form = await submitted(request)
        thema = str(form.get("thema_pagina") or "eenzaamheid")
        views.theme_or_error(thema)

        def write() -> object:
            with write_lock:
                result = action(form)
                generation[0] += 1
                return result

        try:
            await run_in_threadpool(write)
        except (InputError, NotFoundError) as exc:
            error = {"form": kind, **_form_error(exc)}
            html = await run_in_threadpool(
                lambda: goals_html(code, thema, error=error, values=form, editing=editing)
            )
            return HTMLResponse(html, status_code=422)
        return RedirectResponse(f"/gemeente/{code}/doelen?thema={thema}&opgeslagen={kind}", status_code=303)

    @app.post("/gemeente/{code}/doelen", summary="Doel toevoegen (formulier)", response_class=HTMLResponse)
    async def goals_add(request: Request, code: str = _path(GM_CODE)) -> Response:
        return await store(
            request,
            code,
            "doel",
            lambda form: add_goal(warehouse(), code, _goal_spec(form), origin="formulier"),
        )

    @app.post(
        "/gemeente/{code}/doelen/{goal_id}", summary="Doel wijzigen (formulier)", response_class=HTMLResponse
    )
    async def goals_update(request: Request, goal_id: int, code: str = _path(GM_CODE)) -> Response:
        return await store(
            request,
            code,
            "doel",
            lambda form: update_goal(
                warehouse(), code, goal_id, _goal_spec(form), merge=False, origin="formulier"
            ),
            editing=goal_id,
        )

    @app.post("/gemeente/{code}/interventies", summary="Interventie toevoegen (formulier)")
    async def interventions_add(request: Request, code: str = _path(GM_CODE)) -> Response:
        return await store(
            request,
            code,
            "interventie",
            lambda form: add_intervention(warehouse(), code, _intervention_spec(form), origin="formulier"),
        )

    @app.post("/gemeente/{code}/doelen/{goal_id}/verwijderen", summary="Doel verwijderen")
    async def goals_delete(request: Request, goal_id: int, code: str = _path(GM_CODE)) -> Response:
        return await store(request, code, "verwijderd", lambda form: delete_goal(warehouse(), code, goal_id))

    @app.post(
        "/gemeente/{code}/interventies/{intervention_id}/verwijderen", summary="Interventie verwijderen"
    )
    async def interventions_delete(
        request: Request, intervention_id: int, code: str = _path(GM_CODE)
    ) -> Response:
        return await store(
            request, code, "verwijderd", lambda form: delete_intervention(warehouse(), code, intervention_id)
        )

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        return page("error.html", request, 403, title="Niet toegestaan", message=str(exc))

    # Mounted last, so the routes above (the vendored Plotly under /static/vendor) match first.
    static = resources.files("wijkradar.web").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    return app


COOKIE = "wijkradar_sessie"
PUBLIC = ("/login", "/uitloggen", "/static/", "/healthz")


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Return a hash to check unknown names against (made on first use: scrypt is slow on purpose)."""
    return hash_password(secrets.token_hex(8))


def _local(target: str) -> str:
    """Only ever send people on to a page of this site after logging in."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


class Refused(Exception):
    """A form was posted that this server may not or cannot store."""


FORM_FIELDS = {  # error column (or kind of unknown thing) -> the form field to point at
    "maat": "measure_id",
    "thema": "thema",
    "regiocode": "area",
    "gemeente of regio": "area",
    "area_codes": "area",
}


def _form_error(exc: InputError | NotFoundError) -> dict[str, Any]:
    """Say what is wrong with a form and which field to fix."""
    if isinstance(exc, InputError):
        field = FORM_FIELDS.get(str(exc.column), exc.column)
        return {
            "field": field,
            "message": f"{exc.problem[:1].upper()}{exc.problem[1:]}. Oplossing: {exc.fix}.",
        }
    return {"field": FORM_FIELDS.get(exc.kind), "message": str(exc)}


def _form_text(form: Any, *names: str) -> dict[str, Any]:
    return {name: str(form.get(name) or "").strip() for name in names}


def _goal_spec(form: Any) -> dict[str, Any]:
    """Turn the goal form into a goal specification; empty fields are left to their defaults."""
    spec = _form_text(form, "thema", *(f for f in GOAL_FIELDS if f != "area_codes"))
    if spec["measure_id"]:  # a measure given by hand wins over the theme
        spec["thema"] = ""
        if not spec["population_group"]:
            raise InputError(
                "formulier",
                "bij een eigen maat hoort een groep",
                column="population_group",
                fix="vul de groep in, bijvoorbeeld 65+ of 18+",
            )
    elif not spec["thema"]:
        raise InputError(
            "formulier", "kies een thema of vul een maat in", column="thema", fix="kies een thema"
        )
    areas = [str(a) for a in form.getlist("area")]
    spec["area"] = areas[0] if len(areas) == 1 else areas
    return {k: v for k, v in spec.items() if v}


def _goal_form(goal: dict[str, Any]) -> ImmutableMultiDict[str, str]:
    """Fill the goal form with a stored goal, as if it had just been typed in."""
    theme = next(
        (
            t.name
            for t in load_themes().values()
            if (t.measure_id, t.population_group) == (goal["measure_id"], goal["population_group"])
        ),
        "",
    )
    fields = [
        ("title", goal["title"]),
        ("thema", theme),
        ("measure_id", "" if theme else goal["measure_id"]),
        ("population_group", "" if theme else goal["population_group"]),
        ("area_name", goal["area_name"]),
        ("baseline_period", goal["baseline_period"]),
        ("target_value", number_nl(goal["target_value"], None)),
        ("target_year", str(goal["target_year"])),
        ("direction", goal["direction"]),
        ("owner", goal["owner"]),
        ("description", goal["description"]),
    ]
    fields += [("area", c) for c in goal["area_codes"] if not c.startswith("GM")]
    return ImmutableMultiDict(fields)


def _intervention_spec(form: Any) -> dict[str, Any]:
    """Turn the intervention form into an intervention specification."""
    spec = _form_text(form, "title", "theme", "start", "end", "budget", "partners", "description")
    spec["area"] = [str(a) for a in form.getlist("area")]
    spec["goal_ids"] = [int(g) for g in form.getlist("goal_ids") if str(g).isdigit()]
    if not spec["start"]:
        raise InputError("formulier", "de startdatum ontbreekt", column="start", fix="kies een startdatum")
    return {k: v for k, v in spec.items() if v not in ("", [])}


def _path(pattern: str) -> Any:
    from fastapi import Path as PathParam

    return PathParam(..., pattern=pattern, description="CBS-code")


def _wants_data(request: Request) -> bool:
    return bool(re.search(r"\.(json|csv|geojson)$", request.url.path)) or request.url.path.startswith("/api")


def _dutch_validation(error: dict[str, Any]) -> str:
    kind = str(error.get("type", ""))
    if kind == "string_pattern_mismatch":
        return f"ongeldige waarde {error.get('input')!r}; verwacht een CBS-code zoals GM0034 of een themanaam"
    if kind == "missing":
        return "ontbreekt"
    if kind.startswith("string_too"):
        return "te kort of te lang"
    return str(error.get("msg", "ongeldig"))


def _csv(rows: list[dict[str, Any]], filename: str) -> Response:
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {
                    k: json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v
                    for k, v in row.items()
                }
            )
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _cache(warehouse: Callable[[], Warehouse]) -> Callable[..., Any]:
    """Memoise page data: the warehouse is read-only while the server runs."""

    @lru_cache(maxsize=512)
    def compute(kind: str, *args: str) -> Any:
        return to_jsonable(_compute(kind, *args))

    def _compute(kind: str, *args: str) -> Any:
        wh = warehouse()
        if kind == "gemeenten":
            return views.gemeenten(wh)
        if kind == "overview":
            return views.overview(wh, *args)
        if kind == "geojson":
            return views.areas_geojson(wh, args[0], views.theme_or_error(args[1]))
        if kind == "priority":
            return views.priority(wh, *args)
        if kind == "profile":
            return views.profile(wh, *args)
        if kind == "sources":
            return views.sources(wh)
        if kind == "measures":
            return views.measure_choices(wh)
        if kind == "doelen":  # the last argument, the generation of the goals, only keys the cache
            return views.doelen(wh, args[0], args[1])
        if kind == "plan":
            return plan(wh, args[0])
        raise ValueError(kind)

    lock = threading.Lock()
    pending: dict[tuple[str, ...], threading.Lock] = {}

    def cached(kind: str, *args: str) -> Any:
        key = (kind, *args)
        with lock:
            key_lock = pending.setdefault(key, threading.Lock())
        with key_lock:  # one computation per key; concurrent requests wait for it
            return compute(kind, *args)

    return cached

"""Goals and interventions of a gemeente: the page, its exports and the forms that change them.

Own data: every route checks the user may see the gemeente (:func:`wijkradar.web.deps.require_own`).
"""

from __future__ import annotations

import json
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from wijkradar.access import Access
from wijkradar.effects import EFFECT_KEYS
from wijkradar.errors import Forbidden, InputError, NotFoundError
from wijkradar.goals import (
    add_goal,
    add_intervention,
    delete_goal,
    delete_intervention,
    described,
    export_goals,
    find_goal,
    progress_rows,
    update_goal,
)
from wijkradar.pages import theming
from wijkradar.query import require_gemeente
from wijkradar.web.deps import AccessDep, Format, GemeenteCode, RowId, SiteDep, Theme, actor
from wijkradar.web.formats import XLSX, respond
from wijkradar.web.forms import form_error, goal_form, goal_spec, intervention_spec
from wijkradar.web.site import Site
from wijkradar.web.threads import quick

router = APIRouter()
FORM_TOKEN_SLOT = "@@wijkradar-formuliertoken@@"  # noqa: S105  # a placeholder: where the token goes
NOTICES = {
    "doel": "Het doel is opgeslagen.",
    "interventie": "De interventie is opgeslagen.",
    "verwijderd": "Verwijderd.",
}


@router.get(
    "/gemeente/{code:code}/doelen{fmt:fmt}",
    summary="Doelen en interventies: pagina, .json, .csv, .xlsx, .yaml",
)
def goals(
    request: Request,
    site: SiteDep,
    access: AccessDep,
    code: GemeenteCode,
    fmt: Format,
    thema: Theme = "eenzaamheid",
    opgeslagen: str = "",
    bewerk: int | None = Query(None, description="Nummer van het doel om te bewerken"),
) -> Response:
    """Goals with their progress, interventions and wat werkt; CSV per goal and period; xlsx/yaml to edit."""
    access.require("see", code)

    def page() -> Response:
        if bewerk is not None:
            goal = find_goal(site.warehouse(), site.own, code, bewerk)
            return HTMLResponse(
                _goals_html(site, request, access, code, thema, values=goal_form(goal), editing=bewerk)
            )
        if opgeslagen in NOTICES:
            return HTMLResponse(_goals_html(site, request, access, code, thema, notice=NOTICES[opgeslagen]))
        return HTMLResponse(_goals_html(site, request, access, code, thema))

    def data() -> Any:
        data = {k: v for k, v in site.doelen(code, thema).items() if k != "areas"}
        data["goals"] = [{k: v for k, v in goal.items() if k != "chart"} for goal in data["goals"]]
        return data

    response = respond(
        fmt,
        f"{code}-doelen",
        html=page,
        data=data,
        table=lambda: _progress_rows(site, code),
        files=lambda kind: _export(site, code, kind),
    )
    site.own.log(actor(access), code, "view" if fmt == "html" else "export", f"doelen ({fmt})")
    return response


@router.get("/gemeente/{code:code}/interventies{fmt:fmt}", summary="Interventies: .json, .csv, .xlsx")
def interventions(site: SiteDep, access: AccessDep, code: GemeenteCode, fmt: Format) -> Response:
    """Give the gemeente's interventions as data."""
    access.require("see", code)

    def rows() -> list[dict[str, Any]]:
        require_gemeente(site.warehouse(), code)
        found: list[dict[str, Any]] = site.plan(code)["interventions"]
        return found

    response = respond(
        fmt, f"{code}-interventies", data=rows, table=lambda: [_with_effect(i) for i in rows()]
    )
    site.own.log(actor(access), code, "export", f"interventies ({fmt})")
    return response


@router.get(
    "/gemeente/{code:code}/interventies/{intervention_id:int}{fmt:fmt}",
    summary="Eén interventie met haar gemeten effect: pagina, .json, .csv, .xlsx",
)
def intervention(
    request: Request,
    site: SiteDep,
    access: AccessDep,
    code: GemeenteCode,
    intervention_id: RowId,
    fmt: Format,
) -> Response:
    """Show an intervention and what it did: the effect on its theme and on the goals it serves."""
    access.require("see", code)

    def chosen() -> tuple[dict[str, Any], dict[str, Any]]:
        planned = site.plan(code)
        found = next((i for i in planned["interventions"] if i["intervention_id"] == intervention_id), None)
        if found is None:
            known = [str(i["intervention_id"]) for i in planned["interventions"]]
            raise NotFoundError("interventie", str(intervention_id), known)
        return planned, found

    def data() -> dict[str, Any]:
        planned, found = chosen()
        goals = [
            {"goal_id": g["goal_id"], "title": g["title"], "measure_label": g["measure_label"], **linked}
            for g in planned["goals"]
            for linked in g["interventions"]
            if linked["intervention_id"] == intervention_id
        ]
        return {
            "gemeente": require_gemeente(site.warehouse(), code).named(),
            "intervention": {k: v for k, v in found.items() if k != "effect"},
            "effect": found["effect"],
            "goals": goals,
        }

    response = respond(
        fmt,
        f"{code}-interventie-{intervention_id}",
        html=lambda: site.page("interventie.html", request, data=data()),
        data=data,
        table=lambda: [_with_effect(chosen()[1])],
    )
    site.own.log(actor(access), code, "view" if fmt == "html" else "export", f"interventie {intervention_id}")
    return response


def _with_effect(intervention: dict[str, Any]) -> dict[str, Any]:
    """Flatten an intervention's measured effect into columns beside it (``effect_...``) for a table."""
    effect = intervention.get("effect") or {}
    return {k: v for k, v in intervention.items() if k != "effect"} | {
        f"effect_{k}": effect.get(k) for k in ("label", "short", *EFFECT_KEYS, "method", "text")
    }


@router.post(
    "/gemeente/{code:code}/doelen", summary="Doel toevoegen (formulier)", response_class=HTMLResponse
)
async def goal_add(request: Request, site: SiteDep, access: AccessDep, code: GemeenteCode) -> Response:
    """Store a new goal from the form."""
    return await _store(
        request,
        site,
        access,
        code,
        "doel",
        lambda form: add_goal(site.warehouse(), site.own, code, goal_spec(form), origin="formulier"),
    )


@router.post(
    "/gemeente/{code:code}/doelen/{goal_id}", summary="Doel wijzigen (formulier)", response_class=HTMLResponse
)
async def goal_update(
    request: Request, site: SiteDep, access: AccessDep, code: GemeenteCode, goal_id: RowId
) -> Response:
    """Change a goal from the form."""

    def change(form: Any) -> dict[str, Any]:
        return update_goal(
            site.warehouse(), site.own, code, goal_id, goal_spec(form), merge=False, origin="formulier"
        )

    return await _store(request, site, access, code, "doel", change, editing=goal_id)


@router.post("/gemeente/{code:code}/interventies", summary="Interventie toevoegen (formulier)")
async def intervention_add(
    request: Request, site: SiteDep, access: AccessDep, code: GemeenteCode
) -> Response:
    """Store a new intervention from the form."""

    def add(form: Any) -> dict[str, Any]:
        return add_intervention(site.warehouse(), site.own, code, intervention_spec(form), origin="formulier")

    return await _store(request, site, access, code, "interventie", add)


@router.post("/gemeente/{code:code}/doelen/{goal_id}/verwijderen", summary="Doel verwijderen")
async def goal_delete(
    request: Request, site: SiteDep, access: AccessDep, code: GemeenteCode, goal_id: RowId
) -> Response:
    """Remove a goal (its interventions stay)."""
    return await _store(
        request,
        site,
        access,
        code,
        "verwijderd",
        lambda form: delete_goal(site.warehouse(), site.own, code, goal_id),
    )


@router.post(
    "/gemeente/{code:code}/interventies/{intervention_id}/verwijderen", summary="Interventie verwijderen"
)
async def intervention_delete(
    request: Request, site: SiteDep, access: AccessDep, code: GemeenteCode, intervention_id: RowId
) -> Response:
    """Remove an intervention."""

    def remove(form: Any) -> dict[str, Any]:
        return delete_intervention(site.warehouse(), site.own, code, intervention_id)

    return await _store(request, site, access, code, "verwijderd", remove)


async def _store(
    request: Request,
    site: Site,
    access: Access,
    code: str,
    kind: str,
    action: Callable[[Any], dict[str, Any]],
    editing: int | None = None,
) -> Response:
    """Check who posts what, run one change, log it, and show the result or the error."""
    access.require("edit", code)
    if not site.editable:
        raise Forbidden(
            "Deze wijkradar is alleen-lezen gestart; doelen en interventies wijzigen kan hier niet."
        )
    form = await request.form()
    if not secrets.compare_digest(str(form.get("_token", "")), str(request.state.form_token)):
        raise Forbidden("Dit formulier is verlopen of komt niet van deze site. Laad de pagina opnieuw.")
    thema = str(form.get("thema_pagina") or "eenzaamheid")
    theming.theme_or_error(thema, site.view(code))

    what = "delete" if kind == "verwijderd" else "update" if editing is not None else "create"

    def change_and_log() -> None:  # off the event loop: the audit entry waits for the writer lock
        site.own.log(actor(access), code, what, described(action(form)))

    try:
        await quick(request, change_and_log)
    except (InputError, NotFoundError) as exc:
        error = {"form": kind, **form_error(exc)}
        html = await run_in_threadpool(
            lambda: _goals_html(site, request, access, code, thema, error=error, values=form, editing=editing)
        )
        return HTMLResponse(html, status_code=422)
    return RedirectResponse(f"/gemeente/{code}/doelen?thema={thema}&opgeslagen={kind}", status_code=303)


def _goals_html(
    site: Site,
    request: Request,
    access: Access,
    code: str,
    thema: str,
    *,
    error: dict[str, str] | None = None,
    values: Any = None,
    notice: str | None = None,
    editing: int | None = None,
) -> str:
    editable = site.editable and access.may("edit", code)
    if error is None and values is None and editing is None:
        # The plain page is the same for everyone who may (or may not) edit, but for the form
        # token: rendered once per plan revision, the token filled in per request.
        key = ("doelen.html", code, thema, site.own.plan_version(code), str(editable), notice or "")
        html = site.page_once(
            key, lambda: _render_goals(site, code, thema, editable, FORM_TOKEN_SLOT, notice=notice)
        )
        return html.replace(FORM_TOKEN_SLOT, str(request.state.form_token))
    return _render_goals(
        site, code, thema, editable, str(request.state.form_token), error, values, notice, editing
    )


def _render_goals(
    site: Site,
    code: str,
    thema: str,
    editable: bool,
    token: str,
    error: dict[str, str] | None = None,
    values: Any = None,
    notice: str | None = None,
    editing: int | None = None,
) -> str:
    data = site.doelen(code, thema)
    measures = data["own_measures"] + site.measures()
    html = site.templates.get_template("doelen.html").render(
        data=data,
        goal_html=[_goal_html(site, code, thema, editable, goal) for goal in data["goals"]],
        pickers={form: _picker_html(site, code, form, data["areas"]) for form in ("doel", "interventie")},
        thema=thema,
        editable=editable,
        token=FORM_TOKEN_SLOT,
        error=error,
        values=values,
        filled=error["form"] if error else ("doel" if editing else None),
        editing=editing,
        notice=notice,
        measures=measures,
        groups=sorted({m["group"] for m in measures}),
    )
    return html.replace(FORM_TOKEN_SLOT, token)


def _goal_html(site: Site, code: str, thema: str, editable: bool, goal: dict[str, Any]) -> Markup:
    """Draw one goal, once per stored goal (its fields and linked interventions) and warehouse version.

    Its progress and chart follow from those and the warehouse, so they are not part of the key.
    """
    stored = json.dumps({k: v for k, v in goal.items() if k not in ("progress", "chart")}, default=str)
    key = ("doel", code, thema, str(editable), stored)
    return Markup(  # noqa: S704  # rendered by our own autoescaping template
        site.fragment_once(
            key,
            lambda: site.templates.get_template("_goal.html").render(
                g=goal, code=code, thema=thema, editable=editable, token=FORM_TOKEN_SLOT
            ),
        )
    )


def _picker_html(site: Site, code: str, form: str, areas: list[dict[str, Any]]) -> Markup:
    """Draw a form's area list with nothing ticked, once per gemeente and warehouse version."""
    return Markup(  # noqa: S704  # rendered by our own autoescaping template
        site.fragment_once(
            ("gebieden", code, form),
            lambda: site.templates.get_template("_area_picker.html").render(
                form=form, areas=areas, chosen=[], area_error=""
            ),
        )
    )


def _progress_rows(site: Site, code: str) -> list[dict[str, Any]]:
    """Return one row per goal and measured period (Dutch in the table formats)."""
    require_gemeente(site.warehouse(), code)
    return progress_rows(site.plan(code)["goals"])


def _export(site: Site, code: str, kind: str) -> tuple[bytes, str]:
    """Write the goals and interventions to a file to edit and import again."""
    require_gemeente(site.warehouse(), code)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{code}-doelen.{kind}"
        export_goals(site.warehouse(), site.own, code, path)
        return path.read_bytes(), {"xlsx": XLSX, "yaml": "application/yaml; charset=utf-8"}[kind]

"""A gemeente's uploads: its analisten add their own figures per wijk or buurt in the browser.

The file is read exactly as ``wijkradar ingest`` reads a table (same loader, same Dutch errors) and
kept in the operational store, never in the shared warehouse. Each column becomes a theme
``own-<naam>`` with a map, and a measure goals can be set on; all of it only for users of that
gemeente (:func:`wijkradar.web.deps.require_theme`).
"""

from __future__ import annotations

import re
import secrets
import tempfile
from pathlib import Path
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from wijkradar.access import Access
from wijkradar.errors import Forbidden, InputError, NotFoundError
from wijkradar.query import require_gemeente
from wijkradar.renamed import UPLOAD_OLD_KEYS, with_old_keys
from wijkradar.texts import ATTENTION_CODES
from wijkradar.uploads import MAX_BYTES, UPLOAD_PREFIX, Upload, read_upload
from wijkradar.web.deps import AccessDep, Format, GemeenteCode, RowId, SiteDep, actor
from wijkradar.web.formats import respond
from wijkradar.web.site import Site

router = APIRouter()
FORM_SLACK: Final = 64 * 1024  # the form's other fields and the multipart boundaries
FIELDS: Final = {"bestand": "file", "jaar": "period", "aandacht": "attention_when"}


@router.get(
    "/gemeente/{code:code}/uploads{fmt:fmt}",
    summary="Eigen cijfers van een gemeente: pagina, .json, .csv, .xlsx",
)
def uploads_page(
    request: Request, site: SiteDep, access: AccessDep, code: GemeenteCode, fmt: Format, opgeslagen: int = 0
) -> Response:
    """List the gemeente's uploads, with the form to add one (analisten)."""
    require_gemeente(site.warehouse(), code)  # an unknown gemeente is a 404 in every format
    access.require("see", code)

    def rows() -> list[dict[str, Any]]:
        return [_row(u) for u in site.own.uploads(code)]

    response = respond(
        fmt,
        f"{code}-uploads",
        html=lambda: _page(site, request, access, code, notice=opgeslagen),
        data=lambda: [with_old_keys(r, UPLOAD_OLD_KEYS) for r in rows()],
        table=rows,
    )
    site.own.log(actor(access), code, "view" if fmt == "html" else "export", f"uploads ({fmt})")
    return response


@router.post("/gemeente/{code:code}/uploads", summary="Eigen cijfers uploaden (formulier, CSV of Excel)")
async def upload_add(request: Request, site: SiteDep, access: AccessDep, code: GemeenteCode) -> Response:
    """Read an uploaded file and store its measures; a measure uploaded before is replaced."""
    _may_change(site, access, code)
    try:
        form = await _bounded_form(request)
    except InputError as exc:
        return _page(site, request, access, code, error=_error(exc), status_code=413)
    _check_token(request, form)
    file = form.get("bestand")
    values = {"jaar": str(form.get("jaar") or ""), "aandacht": str(form.get("aandacht") or "high")}
    try:
        if not isinstance(file, UploadFile) or not file.filename:
            raise InputError(
                "formulier", "geen bestand gekozen", column="bestand", fix="kies een CSV- of Excel-bestand"
            )
        content = await file.read()
        stored = await run_in_threadpool(
            _store, site, access, code, _file_name(file.filename), content, values
        )
    except InputError as exc:
        return _page(site, request, access, code, error=_error(exc), values=values, status_code=422)
    return RedirectResponse(f"/gemeente/{code}/uploads?opgeslagen={stored}", status_code=303)


@router.post("/gemeente/{code:code}/uploads/{upload_id}/verwijderen", summary="Eigen cijfers verwijderen")
async def upload_delete(
    request: Request, site: SiteDep, access: AccessDep, code: GemeenteCode, upload_id: RowId
) -> Response:
    """Remove one upload (goals set on it then show no measurements)."""
    _may_change(site, access, code)
    _check_token(request, await request.form())
    removed = await run_in_threadpool(site.own.remove_upload, code, upload_id)
    if removed is None:
        raise NotFoundError("upload", str(upload_id), [str(u["upload_id"]) for u in site.own.uploads(code)])
    await run_in_threadpool(
        site.own.log, actor(access), code, "delete", f"upload {UPLOAD_PREFIX}{removed['measure_key']}"
    )
    return RedirectResponse(f"/gemeente/{code}/uploads", status_code=303)


def _store(site: Site, access: Access, code: str, name: str, content: bytes, values: dict[str, str]) -> int:
    """Read the file as ingest would, check it against the gemeente's regions, store it; count measures."""
    wh = site.warehouse()
    require_gemeente(wh, code)
    attention = values["aandacht"]
    if attention not in ATTENTION_CODES:
        raise InputError("formulier", "kies hoog of laag", column="aandacht", fix="kies hoog of laag")
    attention = ATTENTION_CODES[attention]
    year = wh.regions.indeling()
    with tempfile.TemporaryDirectory(prefix="wijkradar-upload-") as folder:
        path = Path(folder) / ("upload" + Path(name).suffix.lower())
        path.write_bytes(content)
        upload = read_upload(
            path,
            file_name=name,
            gemeente=code,
            regions=wh.regions.table(gemeente_code=code, year=year),
            boundary_year=year,
            period=values["jaar"] or None,
        )
    replaced = site.own.store_uploads(_records(upload, code, actor(access), attention))
    for measure, again in zip(upload.measures, replaced, strict=True):
        site.own.log(
            actor(access),
            code,
            "upload",
            f"{UPLOAD_PREFIX}{measure.key}",
            f"{name}: {len(measure.values)} waarden" + (", vervangt de vorige" if again else ""),
        )
    return len(upload.measures)


def _records(
    upload: Upload, code: str, user: str, attention: str
) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    return [
        (
            {
                "gemeente_code": code,
                "measure_key": m.key,
                "label": m.label,
                "unit": m.unit,
                "level": upload.level,
                "boundary_year": upload.boundary_year,
                "attention_when": attention,
                "file_name": upload.file_name,
                "sha256": upload.sha256,
                "uploaded_by": user,
            },
            m.values,
        )
        for m in upload.measures
    ]


async def _bounded_form(request: Request) -> Any:
    """Read the posted form, refusing a body over the size limit before it is all in memory."""
    limit = MAX_BYTES + FORM_SLACK
    too_big = InputError(
        "formulier",
        f"het bestand is groter dan {MAX_BYTES // (1024 * 1024)} MB",
        column="bestand",
        fix="lever alleen de kolommen per wijk of buurt aan die u wilt gebruiken",
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_big
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_big
    replayed = bytes(body)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": replayed, "more_body": False}

    return await Request(request.scope, receive).form(max_files=1, max_fields=10)


def _file_name(raw: str) -> str:
    """Return the uploaded file's own name (no folders, no control characters), as errors name it."""
    name = re.sub(r"[\x00-\x1f\x7f]", "", raw.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    return name[:120] or "upload"


def _may_change(site: Site, access: Access, code: str) -> None:
    access.require("edit", code)
    if not site.editable:
        raise Forbidden("Deze wijkradar is alleen-lezen gestart; eigen cijfers uploaden kan hier niet.")


def _check_token(request: Request, form: Any) -> None:
    if not secrets.compare_digest(str(form.get("_token", "")), str(request.state.form_token)):
        raise Forbidden("Dit formulier is verlopen of komt niet van deze site. Laad de pagina opnieuw.")


def _error(exc: InputError) -> dict[str, str]:
    field = next((f for f, column in FIELDS.items() if exc.column in (f, column)), "bestand")
    return {"field": field, "message": str(exc)}


def _row(upload: dict[str, Any]) -> dict[str, Any]:
    return {
        "theme": UPLOAD_PREFIX + upload["measure_key"],
        "name": upload["label"],
        "unit": upload["unit"],
        "level": upload["level"],
        "boundary_year": upload["boundary_year"],
        "attention_when": upload["attention_when"],
        "file_name": upload["file_name"],
        "n_values": upload["n_values"],
        "uploaded_by": upload["uploaded_by"],
        "uploaded_at": str(upload["uploaded_at"])[:19],
        "upload_id": upload["upload_id"],
    }


def _page(
    site: Site,
    request: Request,
    access: Access,
    code: str,
    *,
    notice: int = 0,
    error: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    wh = site.view(code)
    periods = {
        t: wh.observations.periods(t, "totaal")
        for t in (UPLOAD_PREFIX + u["measure_key"] for u in site.own.uploads(code))
    }
    return site.page(
        "uploads.html",
        request,
        status_code,
        gemeente=require_gemeente(site.warehouse(), code),
        uploads=[
            {**_row(u), "periods": periods.get(UPLOAD_PREFIX + u["measure_key"], [])}
            for u in site.own.uploads(code)
        ],
        editable=site.editable and access.may("edit", code),
        notice=notice,
        error=error,
        values=values or {"jaar": "", "aandacht": "high"},
        max_mb=MAX_BYTES // (1024 * 1024),
    )

"""The API documentation (Swagger UI) from the installed ``swagger-ui-py`` assets, never a CDN."""

from __future__ import annotations

from importlib import resources
from typing import Final

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse

router = APIRouter(include_in_schema=False)
ASSETS: Final = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css"}
PAGE: Final = """<!doctype html>
<html lang="nl">
<head>
  <meta charset="utf-8">
  <title>wijkradar – API</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/api/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/api/docs/swagger-ui-bundle.js"></script>
  <script src="/static/api-docs.js"></script>
</body>
</html>
"""


@router.get("/api/docs")
def docs() -> HTMLResponse:
    """Show the interactive API documentation."""
    return HTMLResponse(PAGE)


@router.get("/api/docs/{asset}")
def asset(asset: str) -> FileResponse:
    """Serve one of Swagger UI's two files from the installed package."""
    from wijkradar.errors import NotFoundError

    if asset not in ASSETS:
        raise NotFoundError("bestand", asset, list(ASSETS))
    path = resources.files("swagger_ui") / "static" / asset
    return FileResponse(str(path), media_type=ASSETS[asset], headers={"Cache-Control": "max-age=86400"})

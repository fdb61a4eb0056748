"""One renderer per format, and the URL pieces that choose one.

A page is one route, ``/gemeente/{code:code}{fmt:fmt}``: no suffix is the HTML page, ``.json`` its
data, ``.csv`` and ``.xlsx`` its table, ``.geojson`` and ``.gpkg`` its map and ``.yaml`` an editable export.
A route offers the formats it has by passing one callable per format to :func:`respond`; any other
suffix is "not found".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final

from fastapi.responses import Response
from starlette.convertors import Convertor, register_url_convertor

from wijkradar.errors import NotFoundError
from wijkradar.geopackage import geopackage_bytes
from wijkradar.renamed import with_old_keys
from wijkradar.spreadsheet import csv_bytes, xlsx_bytes
from wijkradar.texts import table_nl

XLSX: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS: Final = ("json", "csv", "xlsx", "geojson", "gpkg", "yaml")


class CodeConvertor(Convertor[str]):
    """A region code in a path: anything up to a slash or a dot (the dot starts the format)."""

    regex = r"[^/.]+"

    def convert(self, value: str) -> str:  # noqa: D102
        return value

    def to_string(self, value: str) -> str:  # noqa: D102
        return value


class FormatConvertor(Convertor[str]):
    """The format suffix of a page: empty for HTML, else one of :data:`FORMATS`."""

    regex = rf"(?:\.(?:{'|'.join(FORMATS)}))?"

    def convert(self, value: str) -> str:  # noqa: D102
        return value[1:] or "html"

    def to_string(self, value: str) -> str:  # noqa: D102
        return "" if value == "html" else f".{value}"


register_url_convertor("code", CodeConvertor())
register_url_convertor("fmt", FormatConvertor())

Rows = list[dict[str, Any]]


def respond(
    fmt: str,
    filename: str,
    *,
    html: Callable[[], Response] | None = None,
    data: Callable[[], Any] | None = None,
    table: Callable[[], Rows] | None = None,
    geojson: Callable[[], Any] | None = None,
    files: Callable[[str], tuple[bytes, str]] | None = None,
) -> Response:
    """Render a page in the format asked for, from the callable for that format.

    ``table`` serves both ``.csv`` and ``.xlsx`` (Dutch column names and words, see
    :func:`wijkradar.texts.table_nl`); ``files`` makes a file of a kind (``xlsx`` or
    ``yaml``) itself and returns its bytes and media type (it wins over ``table`` for ``.xlsx``).
    """
    renderers: dict[str, Callable[[], Response]] = {}
    if html is not None:
        renderers["html"] = html
    if data is not None:
        renderers["json"] = lambda: json_response(data())
    if geojson is not None:
        renderers["geojson"] = lambda: Response(json_bytes(geojson()), media_type="application/geo+json")
        renderers["gpkg"] = lambda: _download(
            geopackage_bytes(geojson(), filename), "application/geopackage+sqlite3", f"{filename}.gpkg"
        )
    if table is not None:
        renderers["csv"] = lambda: _download(
            csv_bytes(table_nl(table())), "text/csv; charset=utf-8", f"{filename}.csv"
        )
        renderers["xlsx"] = lambda: _download(
            xlsx_bytes({"gegevens": table_nl(table())}), XLSX, f"{filename}.xlsx"
        )
    if files is not None:
        for kind in ("xlsx", "yaml"):
            renderers[kind] = lambda kind=kind: _download(*files(kind), f"{filename}.{kind}")  # type: ignore[misc]
    if fmt not in renderers:
        raise NotFoundError("formaat", fmt, list(renderers))
    return renderers[fmt]()


def json_bytes(data: Any) -> bytes:
    """Serialise JSON as the API gives it: UTF-8, no NaN, renamed keys also under their old name (to 0.4)."""
    return json.dumps(with_old_keys(data), ensure_ascii=False, allow_nan=False).encode()


def json_response(data: Any) -> Response:
    """Return a JSON answer (``json_bytes``); bytes as they are."""
    return Response(data if isinstance(data, bytes) else json_bytes(data), media_type="application/json")


def _download(body: bytes, media: str, filename: str) -> Response:
    return Response(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )

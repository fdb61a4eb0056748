"""What one running site holds: the warehouse handles, caches, templates, sessions and users.

One :class:`Site` lives on ``app.state.site``; routes reach it (and the warehouse and the user)
through the dependencies in :mod:`wijkradar.web.deps`.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from wijkradar import __version__
from wijkradar.access import Sessions, User
from wijkradar.goals import plan
from wijkradar.jsonable import to_jsonable
from wijkradar.pages import charts, views
from wijkradar.texts import DIRECTION_NL, EXPECTATION_NL, GOAL_STATUS_NL, STATUS_NL, number_nl
from wijkradar.themes import load_themes
from wijkradar.warehouse import Warehouse


class Site:
    """The state of one running site around one warehouse file.

    Read-only by default; with ``editable`` the goals pages accept forms and the file is opened for
    writing. With ``users`` everyone logs in (see :mod:`wijkradar.access`).
    """

    def __init__(self, db_path: Path, *, editable: bool, users: dict[str, User] | None) -> None:
        self.root = Warehouse.open(db_path, read_only=not editable)
        self.editable = editable
        self.users = users
        self.sessions = Sessions()
        self.token = secrets.token_urlsafe(24)  # forms carry it, so another site cannot post here
        self.write_lock = threading.Lock()  # forms are rare: one write at a time, never a conflict
        # While this server has the file open for writing no other program can change it, so goals
        # pages are cached per generation, which every stored form moves on.
        self.generation = 0
        self._local = threading.local()
        self._handles: list[Warehouse] = []
        self._handles_lock = threading.Lock()
        self.templates = _templates(accounts=users is not None)
        self._memo: dict[tuple[str, ...], threading.Lock] = {}
        self._memo_lock = threading.Lock()
        self._compute = lru_cache(maxsize=512)(self._compute_uncached)
        self.rendered = lru_cache(maxsize=256)(self._rendered)

    def warehouse(self) -> Warehouse:
        """Return this thread's handle on the warehouse (DuckDB connections are not shared)."""
        handle: Warehouse | None = getattr(self._local, "wh", None)
        if handle is None:
            handle = self.root.cursor()
            self._local.wh = handle
            with self._handles_lock:
                self._handles.append(handle)
        return handle

    def close(self) -> None:
        """Close every handle, so the file is free for other programs once the server stops."""
        with self._handles_lock:
            for handle in self._handles:
                handle.close()
            self._handles.clear()
        self.root.close()

    def page(self, name: str, request: Request, status_code: int = 200, **context: Any) -> HTMLResponse:
        """Render a template to a response."""
        html = self.templates.get_template(name).render(request=request, **context)
        return HTMLResponse(html, status_code=status_code)

    def cached(self, kind: str, *args: str) -> Any:
        """Return page data, computed once per key (concurrent requests wait for the first)."""
        key = (kind, *args)
        with self._memo_lock:
            key_lock = self._memo.setdefault(key, threading.Lock())
        with key_lock:
            return self._compute(kind, *args)

    def _compute_uncached(self, kind: str, *args: str) -> Any:
        return to_jsonable(PAGE_DATA[kind](self.warehouse(), *args))

    def _rendered(self, kind: str, *args: str) -> bytes:
        """Finished response bodies: the data behind them cannot change while the server runs."""
        if kind == "gemeente":
            code, thema = args
            data = self.cached("overview", code, thema)
            figure = (
                charts.choropleth(self.cached("geojson", code, thema), data["theme"])
                if data["has_map"]
                else charts.ranked_bars(data["areas"]["rows"], data["theme"])
            )
            html = self.templates.get_template("gemeente.html").render(
                data=data, figure=to_jsonable(figure), thema=thema
            )
            return html.encode()
        return json.dumps(self.cached(kind, *args), ensure_ascii=False, allow_nan=False).encode()


# Page data by kind; the arguments are strings, so they can key the cache. A trailing
# generation (of the goals) only keys the cache.
PAGE_DATA: dict[str, Callable[..., Any]] = {
    "gemeenten": views.gemeenten,
    "overview": views.overview,
    "geojson": lambda wh, code, thema: views.areas_geojson(wh, code, views.theme_or_error(thema)),
    "priority": views.priority,
    "profile": views.profile,
    "sources": views.sources,
    "measures": views.measure_choices,
    "doelen": lambda wh, code, thema, _generation: views.doelen(wh, code, thema),
    "plan": lambda wh, code, _generation: plan(wh, code),
}


def _pct(value: Any, decimals: int = 1) -> str:
    return "–" if value is None else f"{number_nl(value, decimals)}%"


def _templates(*, accounts: bool) -> Environment:
    env = Environment(loader=PackageLoader("wijkradar.web", "templates"), autoescape=select_autoescape())
    env.filters["nl"] = number_nl
    env.filters["pct"] = _pct
    env.filters["status"] = lambda s: STATUS_NL.get(str(s), str(s))
    env.filters["expectation"] = lambda s: EXPECTATION_NL.get(str(s), "")
    env.filters["goal_status"] = lambda s: GOAL_STATUS_NL.get(str(s), str(s))
    env.filters["direction"] = lambda s: DIRECTION_NL.get(str(s), str(s))
    env.globals["version"] = __version__
    env.globals["accounts"] = accounts
    env.globals["themes"] = list(load_themes().values())
    return env

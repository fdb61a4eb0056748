"""What one running site holds: the warehouse handles, caches, templates, sessions and users.

One :class:`Site` lives on ``app.state.site``; routes reach it (and the warehouse and the user)
through the dependencies in :mod:`wijkradar.web.deps`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from wijkradar import __version__
from wijkradar.appdb import AppDB
from wijkradar.cache import Memo
from wijkradar.goals import plan
from wijkradar.indeling.crosswalks import crosswalk
from wijkradar.indeling.moving import every_value_on
from wijkradar.jsonable import to_jsonable
from wijkradar.models.residents import latest, residents
from wijkradar.pages import charts, compare, maps, theming, views
from wijkradar.pages.markdown import markdown_html
from wijkradar.priority import CAPACITY
from wijkradar.sources.model import OWN_DATA_PUBLISHER
from wijkradar.texts import NO_MODEL, WHY_NL, template_filters
from wijkradar.themes import DEFAULT_THEME, load_themes
from wijkradar.uploads import UPLOAD_PREFIX, with_uploads
from wijkradar.warehouse import Warehouse
from wijkradar.web.formats import json_bytes

DATA_KEPT = 512  # page data remembered per worker
BODIES_KEPT = 256  # finished response bodies (gemeente pages and their JSON)
PAGES_KEPT = 512  # rendered pages remembered per worker (a goals page is ~100 kB)
FRAGMENTS_KEPT = 8192  # rendered parts of pages (a goal is ~4 kB)


class Site:
    """The state of one running site (one worker) around one warehouse file and one store.

    The warehouse is opened read-only: the CLI writes new versions of it meanwhile, and the site
    moves to a new version (dropping its caches) within a second of it appearing. What users
    change lives in the operational store ``own``, shared by every worker.

    ``editable`` allows the forms; ``accounts`` (on when the store has users) makes everyone log
    in; ``open_data_only`` serves no gemeente's own data at all (a public site without accounts).
    """

    def __init__(
        self,
        db_path: Path,
        own: AppDB,
        *,
        editable: bool,
        open_data_only: bool = False,
        hosts: tuple[str, ...] = (),
    ) -> None:
        self.db_path = db_path
        self.own = own
        self.editable = editable and not open_data_only
        self.open_data_only = open_data_only
        self._accounts = not open_data_only and own.accounts.user_count() > 0
        self._accounts_checked = time.monotonic()
        self.hosts = tuple(h.lower() for h in hosts)
        self.secret = own.accounts.secret()
        # Without accounts every form carries one token of this store (with the Origin check).
        self.site_token = hmac.new(self.secret.encode(), b"site-forms", hashlib.sha256).hexdigest()
        self.templates = _templates(accounts=self._accounts)
        self._lock = threading.Lock()
        self._local = threading.local()
        self._handles: list[Warehouse] = []
        self._checked = 0.0
        self.version = _version(db_path)
        self.root = Warehouse.open(db_path, read_only=True)
        self._old_roots: list[Warehouse] = []
        self._data = Memo(DATA_KEPT)  # page data per key, until the warehouse's next version
        self._bodies = Memo(BODIES_KEPT)  # finished response bodies, likewise
        self._pages: dict[tuple[str, ...], str] = {}
        self._fragments: dict[tuple[str, ...], str] = {}

    def warm(self) -> None:
        """Compute what every page shares before the first visitor needs it.

        The crosswalks from every other indeling onto the current one, the regions, the structure
        figures that find similar gemeenten, the default theme's figures and the models' decoded
        estimates: shared by all gemeenten, remembered per warehouse version (about 2 s on the full
        data). A page's own data are still computed when it is first asked for.
        """
        wh = self.warehouse()
        year = wh.regions.indeling()
        for other in wh.regions.boundary_years():
            if other not in (0, year):
                crosswalk(wh, other, year)
        for level in ("gemeente", "wijk", "buurt"):
            wh.regions.table(level=level)
        gemeenten = wh.regions.table(level="gemeente")["code"].tolist()
        if gemeenten:
            compare.similar_gemeenten(wh, gemeenten[0])  # the structure figures of every gemeente
        first = load_themes()[DEFAULT_THEME]
        every_value_on(wh, first.measure_id, first.population_group, year)
        models = wh.models.table()
        for model_id, period in zip(models["model_id"], models["period"], strict=True):
            wh.models.estimates(int(model_id), [])  # decoded once, shared by every page
            # The residents and capacity a priority list weighs its areas with, for the model's year.
            model_year = int(str(period)[:4])
            for group in {t.population_group for t in load_themes().values()}:
                residents(wh, group, [], model_year)
            for measure, group in CAPACITY.values():
                latest(wh, measure, group, [], model_year)

    @property
    def accounts(self) -> bool:
        """Tell whether everyone logs in: on once the store has users (looked at once a second).

        The first ``wijkradar users add`` closes a running site at once; it never opens again
        while it runs (removing the last user does not expose a site that was closed).
        """
        if self._accounts or self.open_data_only or time.monotonic() - self._accounts_checked < 1.0:
            return self._accounts
        self._accounts_checked = time.monotonic()
        if self.own.accounts.user_count() > 0:
            with self._lock:
                self._accounts = True
                self.templates.globals["accounts"] = True
                self._forget_rendered()  # pages drawn for a site without accounts
        return self._accounts

    def warehouse(self) -> Warehouse:
        """Return this thread's handle on the newest version of the warehouse."""
        self._follow()
        handle: Warehouse | None = getattr(self._local, "wh", None)
        if handle is None or getattr(self._local, "version", None) != self.version:
            handle = self.root.cursor()
            self._local.wh, self._local.version = handle, self.version
            with self._lock:
                self._handles.append(handle)
        return handle

    def _follow(self) -> None:
        """Open a new version of the warehouse when the CLI has written one (checked once a second)."""
        if time.monotonic() - self._checked < 1.0:
            return
        self._checked = time.monotonic()
        current = _version(self.db_path)
        if current == self.version:
            return
        with self._lock:
            if current == self.version:
                return
            fresh = Warehouse.open(self.db_path, read_only=True)
            # Requests still running on the old version finish on it; it is closed one version later.
            retired, self._old_roots = self._old_roots, [self.root]
            self.root, self.version = fresh, current
            self._data.clear()
            self._forget_rendered()
        # Outside the lock: closing waits for whatever still runs on it, and the switch above must not.
        for old in retired:
            old.close()

    def _forget_rendered(self) -> None:
        """Drop every rendered page, response body and fragment (hold the lock)."""
        self._bodies.clear()
        self._pages.clear()
        self._fragments.clear()

    def close(self) -> None:
        """Close every handle, so the file is free for other programs once the server stops."""
        with self._lock:
            for handle in [*self._handles, *self._old_roots, self.root]:
                handle.close()
            self._handles.clear()
        self.own.close()

    def page(self, name: str, request: Request, status_code: int = 200, **context: Any) -> HTMLResponse:
        """Render a template to a response (with the user and their form token)."""
        context.setdefault("token", getattr(request.state, "form_token", self.site_token))
        context.setdefault("user", getattr(request.state, "user", None))
        html = self.templates.get_template(name).render(request=request, **context)
        return HTMLResponse(html, status_code=status_code)

    def view(self, code: str) -> Warehouse:
        """Return this thread's warehouse with a gemeente's uploads over it (after an access check only)."""
        return with_uploads(self.warehouse(), self.own, code)

    def page_once(self, key: tuple[str, ...], make: Callable[[], str]) -> str:
        """Return a rendered page, made once per key (keys carry the revisions it depends on)."""
        return self._once(self._pages, PAGES_KEPT, key, make)

    def fragment_once(self, key: tuple[str, ...], make: Callable[[], str]) -> str:
        """Return a rendered part of a page (one goal, a form's area list), made once per key.

        A goals page changes one goal at a time: the others are taken from here, not drawn again.
        """
        return self._once(self._fragments, FRAGMENTS_KEPT, key, make)

    def _once(
        self, store: dict[tuple[str, ...], str], limit: int, key: tuple[str, ...], make: Callable[[], str]
    ) -> str:
        with self._lock:
            found = store.get(key)
        if found is None:
            found = make()
            with self._lock:
                store[key] = found
                while len(store) > limit:
                    store.pop(next(iter(store)))
        return found

    # -- page data: named builders, each remembered per warehouse version ------------------------
    # What shows a gemeente's plan or uploads is keyed on their revision too; each is made what the
    # JSON format serves (``to_jsonable``).

    def own_data(self) -> tuple[dict[int, set[str]], dict[str, set[str]]]:
        """Return which gemeenten the own-data sources and measures belong to."""
        found: tuple[dict[int, set[str]], dict[str, set[str]]] = self._data.get(
            ("owners",), lambda: self.warehouse().sources.owners(OWN_DATA_PUBLISHER)
        )
        return found

    def gemeenten(self) -> Any:
        """Return every gemeente with its name, for the index and the search."""
        return self._remembered(("gemeenten",), lambda: views.gemeenten(self.warehouse()))

    def overview(self, code: str, thema: str) -> Any:
        """Return a gemeente's overview of one theme: its areas, key figures and similar gemeenten."""
        return self._themed("overview", code, thema, views.overview)

    def geojson(self, code: str, thema: str) -> Any:
        """Return a gemeente's areas with one theme's figures, as GeoJSON."""

        def build(wh: Warehouse, gemeente: str, name: str) -> Any:
            return views.areas_geojson(wh, gemeente, theming.theme_or_error(name, wh))

        return self._themed("geojson", code, thema, build)

    def priority(self, code: str, thema: str) -> Any:
        """Return a gemeente's priority list of one theme."""
        return self._themed("priority", code, thema, views.priority)

    def wijknamen(self, code: str) -> Any:
        """Return the names of a gemeente's wijken, by code."""
        return self._remembered(("wijknamen", code), lambda: views.wijk_names(self.warehouse(), code))

    def profile(self, code: str) -> Any:
        """Return every figure of one area, with its trends and model estimates."""
        return self._remembered(("profile", code), lambda: views.profile(self.warehouse(), code))

    def sources(self) -> Any:
        """Return every source, licence and model card."""
        return self._remembered(("sources",), lambda: views.sources(self.warehouse()))

    def measures(self) -> Any:
        """Return the measures a goal can be set on."""
        return self._remembered(("measures",), lambda: views.measure_choices(self.warehouse()))

    def doelen(self, code: str, thema: str) -> dict[str, Any]:
        """Return a gemeente's goals page data for one theme, at the plan's current revision."""
        key = ("doelen", code, thema, self.own.plan_version(code))
        found: dict[str, Any] = self._remembered(
            key, lambda: views.doelen(self.warehouse(), self.own, code, thema)
        )
        return found

    def plan(self, code: str) -> dict[str, Any]:
        """Return a gemeente's goals and interventions with their progress, at the plan's revision."""
        key = ("plan", code, self.own.plan_version(code))
        found: dict[str, Any] = self._remembered(key, lambda: plan(self.warehouse(), self.own, code))
        return found

    def gemeente_html(self, code: str, thema: str) -> bytes:
        """Return the finished gemeente page: its map (or ranked bars) and key trend."""

        def render() -> bytes:
            data = self.overview(code, thema)
            figure = (
                maps.choropleth(self.geojson(code, thema), data["theme"], self.wijknamen(code))
                if data["has_map"]
                else charts.ranked_bars(data["areas"]["rows"], data["theme"])
            )
            trend = charts.key_trend(data["key_figures"], data["gemeente"]["name"], data["theme"]["unit"])
            html = self.templates.get_template("gemeente.html").render(
                data=data, figure=to_jsonable(figure), trend=to_jsonable(trend), thema=thema
            )
            return html.encode()

        return self._bodies.get(("gemeente", *self._theme_key(code, thema)), render)

    def overview_json(self, code: str, thema: str) -> bytes:
        """Return the overview's JSON body, serialised once."""
        return self._bodies.get(
            ("overview", *self._theme_key(code, thema)),
            lambda: json_bytes(self.overview(code, thema)),
        )

    def _theme_key(self, code: str, thema: str) -> tuple[str, ...]:
        """Key a theme's page data: an upload's also on the gemeente's revision (it can change)."""
        if thema.startswith(UPLOAD_PREFIX):
            return (code, thema, self.own.plan_version(code))
        return (code, thema)

    def _themed(self, name: str, code: str, thema: str, build: Callable[[Warehouse, str, str], Any]) -> Any:
        """Return page data of one theme: an upload's built on the gemeente's view (after an access check)."""
        uploaded = thema.startswith(UPLOAD_PREFIX)
        return self._remembered(
            (name, *self._theme_key(code, thema)),
            lambda: build(self.view(code) if uploaded else self.warehouse(), code, thema),
        )

    def _remembered(self, key: tuple[str, ...], make: Callable[[], Any]) -> Any:
        return self._data.get(key, lambda: to_jsonable(make()))


def _templates(*, accounts: bool) -> Environment:
    env = Environment(  # the package's templates do not change while it serves: no check per page
        loader=PackageLoader("wijkradar.web", "templates"), autoescape=select_autoescape(), auto_reload=False
    )
    env.filters.update(template_filters())
    env.filters["card_html"] = lambda text: markdown_html(text, top=3)
    env.globals["version"] = __version__
    env.globals["accounts"] = accounts
    env.globals["themes"] = list(load_themes().values())
    env.globals["no_model"] = NO_MODEL
    env.globals["why_explained"] = WHY_NL
    return env


def _version(path: Path) -> tuple[int, int]:
    """Identify the version of the warehouse file (a new version is a new file)."""
    try:
        stat = os.stat(path)
    except OSError:
        return (0, 0)
    return (stat.st_ino, stat.st_mtime_ns)

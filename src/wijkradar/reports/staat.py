"""The "Staat van de gemeente": one document a wethouder can take to the raad.

Content: a first page with the key messages and a map, per theme the map with wijk outlines, the
ten areas needing attention, the comparison with NL and similar gemeenten and its trend over the
rounds, wat werkt; goals with their progress charts, interventions, and this gemeente's sources and
the model cards as text and tables, with the date and the data periods. The HTML is self-contained (charts are
embedded as images, no scripts, no external requests); the PDF is the same HTML printed by headless
Chromium (extra ``wijkradar[pdf]``: Playwright driving Debian's ``chromium``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date
from html import escape
from pathlib import Path
from typing import Any, Final

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from wijkradar.appdb import AppDB
from wijkradar.config import DEFAULT_CHROMIUM
from wijkradar.errors import ModelMissing, PdfMissing, WijkradarError
from wijkradar.goals import plan
from wijkradar.goals.measure import measure_label
from wijkradar.jsonable import script_json
from wijkradar.pages import charts, compare, maps, views
from wijkradar.pages.model_card import reliability_nl
from wijkradar.priority import what_works
from wijkradar.query import require_gemeente
from wijkradar.regions import Region
from wijkradar.steps import OnStep, unseen
from wijkradar.texts import COMPARED_NL, NO_MODEL, WHY_NL, number_nl, template_filters
from wijkradar.themes import load_themes
from wijkradar.warehouse import Warehouse

BROWSER_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def report_data(
    wh: Warehouse, own: AppDB, gemeente: Region | str, themes: list[str] | None = None
) -> dict[str, Any]:
    """Collect everything the report shows for a gemeente, and its charts as Plotly specs."""
    region = require_gemeente(wh, gemeente)
    gm = region.code
    catalogue = load_themes()
    names = themes or list(catalogue)
    wijken = views.wijk_names(wh, gm)
    sections: list[dict[str, Any]] = []
    untrained: list[str] = []
    for name in names:
        overview = views.overview(wh, gm, name)
        if overview["areas"]["period"] is None:
            continue
        if overview["theme"]["modelled"] and overview["priority"] is None:
            untrained.append(overview["theme"]["label"])  # a document for the raad shows no gaps
            continue
        try:
            werkt = what_works(wh, own, gm, name) if overview["theme"]["modelled"] else None
        except ModelMissing:
            werkt = None
        figure = (
            maps.choropleth(views.areas_geojson(wh, gm, catalogue[name]), overview["theme"], wijken)
            if overview["has_map"]
            else charts.ranked_bars(overview["areas"]["rows"], overview["theme"])
        )
        sections.append(
            {
                "overview": overview,
                "what_works": werkt,
                "figure": figure,
                "trend": charts.key_trend(
                    overview["key_figures"], overview["gemeente"]["name"], overview["theme"]["unit"]
                ),
                "messages": _messages(overview),
            }
        )
    goals = plan(wh, own, gm)
    sources = views.sources(wh)
    own_sources = wh.sources.ids_of(gm)
    measures = {s["overview"]["theme"]["measure"] for s in sections}
    return {
        "gemeente": region.named(),
        "date": date.today().isoformat(),
        "untrained": untrained,
        "theme_labels": {name: theme.label for name, theme in catalogue.items()},
        "periods": sorted(
            {
                k["period"]
                for s in sections
                if s["overview"]["theme"]["kind"] == "survey"
                for k in s["overview"]["key_figures"]
            }
        ),
        "register_periods": sorted(
            {
                k["period"]
                for s in sections
                if s["overview"]["theme"]["kind"] == "register"
                for k in s["overview"]["key_figures"]
            }
        ),
        "sections": sections,
        "goals": [{**g, "figure": charts.goal_path(g)} for g in goals["goals"]],
        "goal_counts": dict(Counter(str(g["progress"]["status"]) for g in goals["goals"])),
        "interventions": goals["interventions"],
        "budget": sum(float(i["budget"] or 0) for i in goals["interventions"]),
        "sources": _sources_once(s for s in sources["sources"] if int(s["source_id"]) in own_sources),
        "models": [
            {**m, "reliability": reliability_nl(m["metrics"], _model_label(wh, m))}
            for m in sources["models"]
            if m["measure"] in measures
        ],
    }


def _model_label(wh: Warehouse, model: dict[str, Any]) -> str:
    """Name a model as its goals are named: by its theme, else by its measure."""
    return measure_label(wh, model["measure"], str(model["metrics"]["group"]))


def _sources_once(sources: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """List each table once with all its periods; boundary files by their title, not an internal id."""
    merged: dict[tuple[str, str, str], dict[str, Any]] = {}
    for s in sources:
        table = "" if ":" in str(s["table_id"]) else str(s["table_id"])
        title = str(s["title"]).split(" (")[0] if not table else str(s["title"])
        key = (str(s["publisher"]), table, title)
        entry = merged.setdefault(key, {**s, "table_id": table, "title": title, "periods": set()})
        entry["periods"] |= {p.strip()[:4] for p in str(s.get("period") or "").split(",") if p.strip()}
    return [{**e, "period": ", ".join(sorted(e.pop("periods")))} for e in merged.values()]


def _messages(overview: dict[str, Any]) -> list[str]:
    """Say what a theme's figures mean in two plain Dutch sentences, for the first page."""
    theme, name = overview["theme"], overview["gemeente"]["name"]
    out = []
    figures = [k for k in overview["key_figures"] if k["gemeente"] is not None]
    percent = theme.get("unit", "%") == "%"
    unit = "%" if percent else ""
    decimals = 1 if percent else 0
    if figures:
        last = figures[-1]
        sentence = f"{theme['label']}: {number_nl(last['gemeente'], decimals)}{unit} in {last['period']}"
        if last["national"] is not None:
            national = f"{number_nl(last['national'], decimals)}{unit}"
            how = compare.compared(last, last["national"])
            if how is None:  # no interval known: the figures side by side, no verdict
                sentence += f"; Nederland {national}"
            else:
                low, high = (number_nl(last[k], decimals) for k in ("gemeente_lower", "gemeente_upper"))
                margin = f"{low}–{high}"
                sentence += f", {COMPARED_NL[how]} Nederland ({national}; marge {margin}{unit})"
        elif last["similar_mean"] is not None and not percent:
            sentence += f"; vergelijkbare gemeenten gemiddeld {number_nl(last['similar_mean'], decimals)}"
        if len(figures) > 1:
            before = figures[-2] if percent else figures[0]  # a registration: since its first year
            change = last["gemeente"] - before["gemeente"]
            sentence += (
                f"; in {before['period']} {number_nl(before['gemeente'], decimals)}{unit}"
                f" ({'+' if change > 0 else ''}{number_nl(change, decimals)}{' punt' if percent else ''})"
            )
        out.append(sentence + ".")
    ranking = overview.get("priority")
    if ranking and ranking["rows"]:
        top = ranking["rows"][:3]
        total = sum(r["expected_affected"] or 0 for r in top)
        out.append(
            f"Meeste aandacht nodig in {', '.join(r['name'] or r['code'] for r in top)}: samen naar "
            f"schatting {number_nl(total, 0)} {ranking['residents_group']} in {name} met dit probleem."
        )
    return out


def render_html(data: dict[str, Any], images: dict[str, str] | None = None) -> str:
    """Render the report as one HTML document; charts are ``images`` (data URLs) or Plotly specs to draw."""
    env = Environment(loader=PackageLoader("wijkradar.reports", "templates"), autoescape=select_autoescape())
    env.filters.update(template_filters())
    env.globals["no_model"] = NO_MODEL
    env.globals["why_explained"] = WHY_NL
    env.filters["spec"] = lambda figure: Markup(script_json(_printable(figure)))  # noqa: S704 - escaped JSON
    plotly = None if images is not None else charts.PLOTLY_JS.read_text(encoding="utf-8")
    return env.get_template("staat.html").render(data=data, images=images, plotly_js=plotly)


def _printable(figure: dict[str, Any]) -> dict[str, Any]:
    """Return a chart as it is printed: larger type, no toolbar, no interaction."""
    layout = {**figure["layout"], "font": {**figure["layout"].get("font", {}), "size": 17}}
    return {**figure, "layout": layout, "config": {"displayModeBar": False, "staticPlot": True}}


REPORT_STEPS: Final = ("cijfers verzamelen", "opmaken", "grafieken tekenen in Chromium", "PDF drukken")


def write_report(
    wh: Warehouse,
    own: AppDB,
    gemeente: Region | str,
    out: Path,
    themes: list[str] | None = None,
    *,
    chromium: Path = DEFAULT_CHROMIUM,
    on_step: OnStep = unseen,
) -> Path:
    """Write the report as ``.html`` (self-contained) or ``.pdf``, drawn in the Chromium at ``chromium``.

    ``on_step`` hears each of the :data:`REPORT_STEPS` as it begins.
    """
    suffix = out.suffix.lower()
    if suffix not in (".html", ".pdf"):
        raise WijkradarError(f"{out}: kies een bestand dat eindigt op .html of .pdf.")
    on_step(REPORT_STEPS[0])
    data = report_data(wh, own, gemeente, themes)
    on_step(REPORT_STEPS[1])
    drawn = render_html(data)
    count = drawn.count('class="plot"')
    html, pdf = _in_browser(
        drawn, want_pdf=suffix == ".pdf", count=count, data=data, chromium=chromium, on_step=on_step
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".pdf":
        out.write_bytes(pdf)
    else:
        out.write_text(html, encoding="utf-8")
    return out


def _in_browser(
    drawn: str, *, want_pdf: bool, count: int, data: dict[str, Any], chromium: Path, on_step: OnStep
) -> tuple[str, bytes]:
    """Draw the charts in headless Chromium, turn them into images, and print the PDF."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise PdfMissing(
            "Voor grafieken en PDF is Playwright nodig. Oplossing: pip install 'wijkradar[pdf]' en "
            "installeer Chromium (Debian: apt-get install chromium)."
        ) from exc
    if not chromium.exists():
        raise PdfMissing(
            f"Chromium niet gevonden op {chromium}. "
            "Oplossing: apt-get install chromium of zet WIJKRADAR_CHROMIUM."
        )
    on_step(REPORT_STEPS[2])
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1400})
            page.route(
                "**/*",
                lambda route: (
                    route.abort()
                    if not route.request.url.startswith(("data:", "about:", "blob:"))
                    else route.continue_()
                ),
            )
            page.set_content(drawn, wait_until="load")
            page.wait_for_function(
                f"document.querySelectorAll('[data-rendered=true]').length >= {count}", timeout=30000
            )
            images = page.evaluate(
                """async () => { const out = {};
                    for (const el of document.querySelectorAll('.plot')) {
                        const size = {format: 'png', width: el.offsetWidth,
                                      height: el.offsetHeight, scale: 2};
                        out[el.id] = await Plotly.toImage(el, size);
                    }
                    return out; }"""
            )
            final = render_html(data, images=images)
            page.set_content(final, wait_until="load")
            if want_pdf:
                on_step(REPORT_STEPS[3])
            pdf = (
                page.pdf(
                    format="A4",
                    print_background=True,
                    tagged=True,  # an accessible PDF: headings, tables and images tagged
                    outline=True,
                    display_header_footer=True,
                    header_template="<span></span>",
                    footer_template=(
                        "<div style='font-size:8pt;width:100%;text-align:center;color:#4a4a4a'>"
                        f"Staat van de gemeente {escape(data['gemeente']['name'])} · pagina "
                        "<span class='pageNumber'></span> van <span class='totalPages'></span></div>"
                    ),
                    margin={"top": "18mm", "bottom": "18mm", "left": "15mm", "right": "15mm"},
                )
                if want_pdf
                else b""
            )
        finally:
            browser.close()
    return final, pdf

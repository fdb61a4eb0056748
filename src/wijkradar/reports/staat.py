"""The "Staat van de gemeente": one document a wethouder can take to the raad.

Content: summary, per theme the areas (map or ranked view), key figures against NL and similar
gemeenten, the priority list, goals and their progress, interventions, wat werkt, and the sources
and model cards, with the date and the data periods. The HTML is self-contained (charts are
embedded as images, no scripts, no external requests); the PDF is the same HTML printed by headless
Chromium (extra ``wijkradar[pdf]``: Playwright driving Debian's ``chromium``).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from wijkradar.appdb import AppDB
from wijkradar.config import Settings
from wijkradar.errors import ModelMissing, WijkradarError
from wijkradar.goals import plan
from wijkradar.jsonable import script_json
from wijkradar.pages import charts, views
from wijkradar.priority import wat_werkt
from wijkradar.query import resolve_gemeente
from wijkradar.texts import DIRECTION_NL, EXPECTATION_NL, GOAL_STATUS_NL, STATUS_NL, number_nl
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


class PdfMissing(WijkradarError):
    """The PDF renderer (Playwright + Chromium) is not available."""

    exit_code = 9


def report_data(wh: Warehouse, own: AppDB, gemeente: str, themes: list[str] | None = None) -> dict[str, Any]:
    """Collect everything the report shows for a gemeente."""
    gm = resolve_gemeente(wh, gemeente)
    catalogue = load_themes()
    names = themes or list(catalogue)
    sections = []
    for name in names:
        overview = views.overview(wh, gm, name)
        if overview["areas"]["period"] is None:
            continue
        try:
            werkt = wat_werkt(wh, own, gm, name)
        except ModelMissing:
            werkt = None
        # On paper a ranked view reads better than a map, and MapLibre cannot start its worker in
        # a page without an origin, so the report always uses the ranked view.
        figure = charts.ranked_bars(overview["areas"]["rows"], overview["theme"])
        sections.append({"overview": overview, "wat_werkt": werkt, "figure": figure})
    goals = plan(wh, own, gm)
    sources = views.sources(wh)
    periods = sorted({s["period"] for s in sources["sources"] if s["period"]})
    return {
        "gemeente": views.require_gemeente(wh, gm),
        "date": date.today().isoformat(),
        "periods": periods,
        "sections": sections,
        "goals": goals["goals"],
        "interventions": goals["interventions"],
        "sources": sources,
    }


def render_html(data: dict[str, Any], images: dict[str, str] | None = None) -> str:
    """Render the report as one HTML document; charts are ``images`` (data URLs) or Plotly specs to draw."""
    env = Environment(loader=PackageLoader("wijkradar.reports", "templates"), autoescape=select_autoescape())
    env.filters["nl"] = number_nl
    env.filters["pct"] = lambda v, d=1: "–" if v is None else f"{number_nl(v, d)}%"
    env.filters["status"] = lambda s: STATUS_NL.get(str(s), str(s))
    env.filters["expectation"] = lambda s: EXPECTATION_NL.get(str(s), "")
    env.filters["goal_status"] = lambda s: GOAL_STATUS_NL.get(str(s), str(s))
    env.filters["direction"] = lambda s: DIRECTION_NL.get(str(s), str(s))
    plotly = None if images is not None else charts.PLOTLY_JS.read_text(encoding="utf-8")
    return env.get_template("staat.html").render(
        data=data, images=images, plotly_js=plotly, specs=[script_json(s["figure"]) for s in data["sections"]]
    )


def write_report(
    wh: Warehouse, own: AppDB, gemeente: str, out: Path, themes: list[str] | None = None
) -> Path:
    """Write the report as ``.html`` (self-contained) or ``.pdf``."""
    suffix = out.suffix.lower()
    if suffix not in (".html", ".pdf"):
        raise WijkradarError(f"{out}: kies een bestand dat eindigt op .html of .pdf.")
    data = report_data(wh, own, gemeente, themes)
    drawn = render_html(data)
    html, pdf = _in_browser(drawn, want_pdf=suffix == ".pdf", count=len(data["sections"]), data=data)
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".pdf":
        out.write_bytes(pdf)
    else:
        out.write_text(html, encoding="utf-8")
    return out


def _in_browser(drawn: str, *, want_pdf: bool, count: int, data: dict[str, Any]) -> tuple[str, bytes]:
    """Draw the charts in headless Chromium, turn them into images, and print the PDF."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise PdfMissing(
            "Voor grafieken en PDF is Playwright nodig. Oplossing: pip install 'wijkradar[pdf]' en "
            "installeer Chromium (Debian: apt-get install chromium)."
        ) from exc
    chromium = Settings.from_env().chromium
    if not chromium.exists():
        raise PdfMissing(
            f"Chromium niet gevonden op {chromium}. "
            "Oplossing: apt-get install chromium of zet WIJKRADAR_CHROMIUM."
        )
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
                        const size = {format: 'png', width: 1000, height: 560, scale: 1.5};
                        out[el.id] = await Plotly.toImage(el, size);
                    }
                    return out; }"""
            )
            final = render_html(data, images=images)
            page.set_content(final, wait_until="load")
            pdf = (
                page.pdf(
                    format="A4",
                    print_background=True,
                    margin={"top": "18mm", "bottom": "18mm", "left": "15mm", "right": "15mm"},
                )
                if want_pdf
                else b""
            )
        finally:
            browser.close()
    return final, pdf

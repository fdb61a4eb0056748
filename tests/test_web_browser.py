"""End to end in Debian's Chromium (Playwright): choose a gemeente, open its priorities and a buurt,
save screenshots, check accessibility with axe-core, and check that nothing is fetched from outside.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from fastapi import FastAPI
from playwright.sync_api import Browser, Dialog, Page, sync_playwright

from conftest import REPO, with_a_plan
from wijkradar.web.app import create_app

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = REPO / "artifacts" / "screenshots"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def base_url(web_db: Path) -> Iterator[str]:
    yield from _serve(create_app(web_db))


@pytest.fixture(scope="module")
def editable_url(web_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    copy = tmp_path_factory.mktemp("browser-goals") / "goals.duckdb"
    shutil.copy(web_db, copy)
    yield from _serve(create_app(copy, editable=True))


@pytest.fixture(scope="module")
def furnished_url(web_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A site whose goals page has a goal and an intervention, with a budget, on it: pages as used."""
    copy = with_a_plan(web_db, tmp_path_factory.mktemp("browser-furnished"))
    yield from _serve(create_app(copy, editable=True))


def _serve(app: FastAPI) -> Iterator[str]:
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: apt-get install chromium (.ci/run does)"
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    yield from _tab(browser, base_url)


@pytest.fixture
def editable_page(browser: Browser, editable_url: str) -> Iterator[Page]:
    yield from _tab(browser, editable_url)


def _tab(browser: Browser, base_url: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="nl-NL", base_url=base_url)
    outside: list[str] = []
    context.on(
        "request",
        lambda r: (
            outside.append(r.url) if not r.url.startswith((base_url, "data:", "blob:", "about:")) else None
        ),
    )
    tab = context.new_page()
    yield tab
    context.close()
    assert outside == [], f"requests left the machine: {outside}"


def _shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _no_serious_violations(page: Page) -> None:
    results = Axe().run(page, options={"runOnly": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]})
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not serious, [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in serious]


def test_choose_gemeente_then_priorities_then_buurt(page: Page) -> None:
    page.goto("/")
    _no_serious_violations(page)
    page.get_by_label("Gemeente (naam of code)").fill("Almere")
    page.get_by_label("Thema").select_option("eenzaamheid")
    page.get_by_role("button", name="Bekijk gemeente").click()
    page.wait_for_url("**/gemeente/GM0034?thema=eenzaamheid")
    page.wait_for_selector("#plot-main[data-rendered=true]", state="attached", timeout=30000)
    assert page.locator("h1").inner_text().startswith("Almere")
    assert page.locator("#plot-main .choroplethlayer, #plot-main canvas").count() > 0
    _shot(page, "1-gemeente-almere-kaart")
    _no_serious_violations(page)

    page.get_by_role("link", name="Volledige prioriteitenlijst met factoren en capaciteit").click()
    page.wait_for_url("**/gemeente/GM0034/prioriteit?thema=eenzaamheid")
    table = page.locator("#prio-full")
    assert table.locator("tbody tr").count() == 65
    first_before = table.locator("tbody tr").first.locator("td").nth(1).inner_text()
    header = table.get_by_role("button", name="Percentage")
    header.focus()
    page.keyboard.press("Enter")  # sortable by keyboard
    assert table.locator("th[aria-sort]").count() == 1
    page.keyboard.press("Enter")
    assert table.locator("th[aria-sort=descending]").count() == 1
    _shot(page, "2-prioriteiten-almere")
    _no_serious_violations(page)

    table.locator("tbody tr").first.get_by_role("link").click()
    page.wait_for_url("**/regio/BU0034*")
    assert "Alle cijfers" in page.content()
    assert first_before  # the list had a first row before sorting
    _shot(page, "3-buurtprofiel")
    _no_serious_violations(page)


def test_fallback_view_and_sources(page: Page) -> None:
    page.goto("/gemeente/GM0034.json")
    other = page.evaluate("() => JSON.parse(document.body.innerText).similar[0].code")
    page.goto(f"/gemeente/{other}?thema=eenzaamheid")
    page.wait_for_selector("#plot-main[data-rendered=true]", state="attached", timeout=30000)
    assert "Buurten op volgorde" in page.content()
    _shot(page, "4-gemeente-zonder-grenzen")
    _no_serious_violations(page)
    page.goto("/bronnen")
    _no_serious_violations(page)
    page.goto("/gemeente/GM9999")
    assert "Niet gevonden" in page.content()
    _no_serious_violations(page)


def test_goal_and_intervention_through_the_forms(editable_page: Page) -> None:
    page = editable_page
    page.goto("/gemeente/GM0034?thema=eenzaamheid")
    page.get_by_role("link", name="Doelen en interventies").click()
    page.wait_for_url("**/gemeente/GM0034/doelen?thema=eenzaamheid")
    _no_serious_violations(page)

    page.get_by_label("Titel").fill("Minder eenzame 65-plussers")
    page.get_by_label("Streefwaarde").fill("44,0")
    page.get_by_label("Streefjaar").fill("2015")  # before the baseline: refused
    page.get_by_role("button", name="Doel opslaan").click()
    alert = page.get_by_role("alert")
    assert (
        "Niet opgeslagen." in alert.inner_text()
        and "Streefjaar 2015 ligt niet na de nulmeting" in alert.inner_text()
    )
    assert page.get_by_label("Streefjaar").get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Titel").input_value() == "Minder eenzame 65-plussers"  # input kept
    _shot(page, "5-doel-fout")
    _no_serious_violations(page)

    page.get_by_label("Streefjaar").fill("2026")
    page.get_by_label("Nulmeting (periode)").fill("2016")  # empty: the latest round, nothing to compare yet
    page.get_by_role("button", name="Doel opslaan").click()
    page.wait_for_url("**/doelen?thema=eenzaamheid&opgeslagen=doel")
    assert "Het doel is opgeslagen." in page.get_by_role("status").inner_text()
    heading = page.get_by_role("heading", name="Minder eenzame 65-plussers")
    assert "risico" in heading.inner_text()
    page.wait_for_selector("[id^=plot-doel-][data-rendered=true]", state="attached", timeout=30000)

    page.get_by_label("Naam", exact=True).fill("Buurtkamers")
    page.get_by_label("Start").fill("2021-01-01")
    page.get_by_label("Budget in euro").fill("125.000")
    form = page.locator("form", has=page.get_by_role("button", name="Interventie opslaan"))
    form.get_by_label("Minder eenzame 65-plussers").check()
    page.get_by_role("button", name="Interventie opslaan").click()
    page.wait_for_url("**/doelen?thema=eenzaamheid&opgeslagen=interventie")
    row = page.locator("tr[id^=interventie-]", has_text="Buurtkamers")
    assert "125\xa0000" in row.inner_text() and "doel 1" in row.inner_text()  # a no-break space
    _shot(page, "6-doelen-almere")
    _no_serious_violations(page)

    dialogs: list[str] = []

    def accept(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    row.get_by_role("button", name="Interventie ‘Buurtkamers’ verwijderen").click()
    page.wait_for_url("**/doelen?thema=eenzaamheid&opgeslagen=verwijderd")
    assert dialogs == ["Interventie ‘Buurtkamers’ verwijderen?"]
    assert page.locator("tr[id^=interventie-]").count() == 0


def test_the_priority_list_fits_ten_rows_in_one_screen_and_a_phone(browser: Browser, base_url: str) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="nl-NL", base_url=base_url)
    tab = context.new_page()
    tab.goto("/gemeente/GM0034/prioriteit?thema=eenzaamheid")
    table = tab.locator("#prio-full")
    head = table.locator("thead").bounding_box()
    tenth = table.locator("tbody tr").nth(9).bounding_box()
    assert head is not None and tenth is not None
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    table.evaluate("t => t.scrollIntoView()")
    tab.screenshot(path=str(SCREENSHOTS / "5-prioriteiten-1400x900.png"))
    assert tab.evaluate("document.documentElement.scrollWidth") <= 1400
    assert table.evaluate(
        "t => t.parentElement.scrollWidth <= t.parentElement.clientWidth"
    )  # no inner scroll
    assert tenth["y"] + tenth["height"] - head["y"] <= 900  # header and ten rows in one screen
    chips = table.locator("tbody tr").first.locator("li.chip")
    assert chips.count() == 2 and table.locator("tbody tr").first.locator("svg.whisker").count() == 1
    tab.set_viewport_size({"width": 375, "height": 800})
    tab.screenshot(path=str(SCREENSHOTS / "6-prioriteiten-375.png"))
    assert tab.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scrolling
    _no_serious_violations(tab)
    context.close()


PAGES = {
    "start": "/",
    "gemeente": "/gemeente/GM0034?thema=eenzaamheid",
    "gemeente-zonder-model": "/gemeente/GM0034?thema=psychische-klachten",
    "prioriteit": "/gemeente/GM0034/prioriteit?thema=eenzaamheid",
    "buurt": "/regio/BU00340101",
    "gemeente-profiel": "/regio/GM0034",
    "bronnen": "/bronnen",
    "zoeken": "/zoek?q=den",
    "doelen": "/gemeente/GM0034/doelen?thema=eenzaamheid",
    "interventie": "/gemeente/GM0034/interventies/1",
    "niet-gevonden": "/gemeente/GM9999",
}


WIDEST_JS = """
(width) => {
  let worst = null;
  // Inside a box that scrolls or clips, it does not widen the page; unless it is positioned
  // absolutely and that box is not its containing block (then it escapes the box).
  const contained = (e) => {
    let loose = e.nodeType === 1 && getComputedStyle(e).position === 'absolute';
    for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      const s = getComputedStyle(p);
      if (s.overflowX !== 'visible' && !loose) return true;
      if (s.position !== 'static') loose = false;
    }
    return false;
  };
  for (const e of document.body.querySelectorAll('*')) {
    const r = e.getBoundingClientRect();
    if (r.right <= width + 1 || contained(e)) continue;
    if (r.right > width + 1 && (!worst || r.right > worst.right)) worst = {e, right: r.right};
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {  // text running out of its box
    const range = document.createRange();
    range.selectNodeContents(node);
    const r = range.getBoundingClientRect();
    if (r.right > width + 1 && !contained(node) && (!worst || r.right > worst.right)) {
      worst = {e: node.parentElement, right: r.right};
    }
  }
  if (!worst) return document.documentElement.scrollWidth;
  let e = worst.e;
  while (e.parentElement && e.parentElement.getBoundingClientRect().right > width + 1) e = e.parentElement;
  const text = e.textContent.trim().slice(0, 60);
  return `${Math.round(worst.right)} px: ${e.tagName.toLowerCase()}.${e.className} "${text}"`;
}
"""


# Every line of visible text as a box (Range.getClientRects), then: boxes of different text that
# overlap, and text cut off by an ancestor that hides its overflow. Charts (SVG), text hidden for
# sighted readers on purpose (sr-only, clipped) and the inside of a closed <details> are left out;
# a scrolling container does not clip.
TEXT_PROBLEMS_JS = """
() => {
  const hiddenOnPurpose = (el) => {
    if (el.checkVisibility && !el.checkVisibility({opacityProperty: true, visibilityProperty: true})) {
      return true;
    }
    for (let e = el, below = null; e; below = e, e = e.parentElement) {
      if (e.tagName === 'DETAILS' && !e.open && !(below && below.tagName === 'SUMMARY')) return true;
      const s = getComputedStyle(e);
      if (s.display === 'none' || s.visibility === 'hidden' || s.opacity === '0') return true;
      if (s.clip !== 'auto' || s.clipPath !== 'none') return true;
      if (e.tagName === 'svg' || e.tagName === 'SCRIPT' || e.tagName === 'STYLE') return true;
    }
    return false;
  };
  const boxes = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.trim();
    if (!text || hiddenOnPurpose(node.parentElement)) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const line of range.getClientRects()) {
      // What shows of the line: inside every ancestor that does not let its content spill out
      // (a scrolled list hides what is scrolled away; that is no overlap).
      let r = {left: line.left, right: line.right, top: line.top, bottom: line.bottom, line};
      for (let e = node.parentElement; e && e !== document.body; e = e.parentElement) {
        const s = getComputedStyle(e);
        if (s.overflowX === 'visible' && s.overflowY === 'visible') continue;
        const box = e.getBoundingClientRect();
        r = {left: Math.max(r.left, box.left), right: Math.min(r.right, box.right),
             top: Math.max(r.top, box.top), bottom: Math.min(r.bottom, box.bottom), line};
      }
      if (r.right - r.left >= 1 && r.bottom - r.top >= 1) boxes.push({node, r, text: text.slice(0, 40)});
    }
  }
  const problems = [];
  const sorted = [...boxes].sort((a, b) => a.r.top - b.r.top);
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length && sorted[j].r.top < sorted[i].r.bottom - 2; j++) {
      const a = sorted[i], b = sorted[j];
      if (a.node === b.node) continue;
      const across = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
      const down = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
      if (across > 2 && down > 2) problems.push(`overlap: "${a.text}" / "${b.text}"`);
    }
  }
  for (const {node, r: {line: r}, text} of boxes) {
    for (let e = node.parentElement; e && e !== document.body; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (!['hidden', 'clip'].includes(s.overflowX) && !['hidden', 'clip'].includes(s.overflowY)) continue;
      const box = e.getBoundingClientRect();
      const outside = r.right > box.right + 1 || r.bottom > box.bottom + 1;
      if (outside || r.left < box.left - 1 || r.top < box.top - 1) {
        problems.push(`clipped: "${text}"`);
        break;
      }
    }
  }
  return [...new Set(problems)];
}
"""


@pytest.mark.parametrize("width", [1400, 375])
def test_every_page_at_both_widths(browser: Browser, furnished_url: str, width: int) -> None:
    """Screenshots of every page at a desktop and a phone width: no sideways scrolling, no text on
    text and no text cut off, axe-core clean."""
    context = browser.new_context(
        viewport={"width": width, "height": 900}, locale="nl-NL", base_url=furnished_url
    )
    tab = context.new_page()
    wide, text_problems = {}, {}
    for name, path in PAGES.items():
        tab.goto(path)
        if tab.locator("#plot-main").count():
            tab.wait_for_selector("#plot-main[data-rendered=true]", state="attached", timeout=30000)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(SCREENSHOTS / f"pagina-{name}-{width}.png"), full_page=True)
        scroll = tab.evaluate("document.documentElement.scrollWidth")
        if scroll > width:  # name the widest element that sticks out, to find it
            wide[name] = tab.evaluate(WIDEST_JS, width)
        found = tab.evaluate(TEXT_PROBLEMS_JS)
        if found:
            text_problems[name] = found[:5]
        _no_serious_violations(tab)
    context.close()
    assert not wide, f"pages wider than {width} px: {wide}"
    assert not text_problems, f"text on text or cut off at {width} px: {text_problems}"

"""Accounts and isolation: roles per gemeente, sessions, forms, throttling, headers, audit log.

The access matrix at the end is generated from the app's own routes: every route, in every format
it offers, for users of every role in another gemeente, must never show Almere's own data.
"""

from __future__ import annotations

import importlib
import io
import pkgutil
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from httpx import Response
from typer.testing import CliRunner

import wijkradar.appdb
import wijkradar.web.routes
from conftest import stores
from wijkradar.access import hash_password, verify_password
from wijkradar.appdb import AppDB
from wijkradar.cli import app
from wijkradar.cli.common import cli_actor
from wijkradar.goals import add_goal, add_intervention
from wijkradar.ingest import store
from wijkradar.sources.model import MEASURE_COLUMNS, OBS_COLUMNS, Dataset, SourceMeta, regions_frame
from wijkradar.warehouse import Warehouse
from wijkradar.web.app import create_app
from wijkradar.web.formats import FORMATS

PASSWORD = "correct paard batterij"  # noqa: S105  # a test password
ALMERE_BUURT = "BU00340211"
OWN_LABEL = "Huishoudens met 2+ voorzieningen"  # only in Almere's own registration
GOAL_TITLE = "Geheim doel van Almere"
INTERVENTION_TITLE = "Geheime interventie van Almere"
UPLOAD_LABEL = "Schuldhulp Almere"  # only in Almere's upload
UPLOAD_FILE = "schuldhulp-almere.csv"
MARKERS = (
    OWN_LABEL,
    "stapeling_2plus",
    GOAL_TITLE,
    INTERVENTION_TITLE,
    "Stapeling (test)",
    UPLOAD_LABEL,
    UPLOAD_FILE,
)
runner = CliRunner()
CLI_ACTOR = cli_actor()


def test_passwords_are_hashed_and_checked() -> None:
    stored = hash_password(PASSWORD)
    assert PASSWORD not in stored and stored.startswith("scrypt$")
    assert verify_password(PASSWORD, stored)
    assert not verify_password(PASSWORD + "x", stored)
    assert not verify_password(PASSWORD, "scrypt$kapot")
    assert hash_password(PASSWORD) != stored  # salted


def _users(db: Path, *args: str, password: str = PASSWORD) -> tuple[int, str]:
    result = runner.invoke(app, ["users", *args, "--db", str(db)], input=f"{password}\n{password}\n")
    return result.exit_code, result.output


def test_users_cli_roles_and_never_a_password(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    Warehouse.open(db).close()
    assert _users(db, "add", "a.jansen", "--gemeente", "GM0034", "--rol", "analist")[0] == 0
    assert _users(db, "add", "b.smit", "--gemeente", "GM0363", "--wachtwoord-stdin")[0] == 0
    assert _users(db, "add", "landelijk", "--landelijk-beheerder")[0] == 0
    code, output = _users(db, "role", "b.smit", "--gemeente", "GM0034", "--rol", "beheerder")
    assert code == 0, output
    listed = runner.invoke(app, ["users", "list", "--db", str(db), "--format", "csv"])
    assert listed.stdout.splitlines() == [
        "\ufeffnaam;rollen;landelijk beheerder",
        "a.jansen;GM0034 analist;",
        "b.smit;GM0034 beheerder, GM0363 lezer;",
        "landelijk;;ja",
    ]
    only = runner.invoke(app, ["users", "list", "--db", str(db), "--gemeente", "GM0363", "--format", "csv"])
    assert only.stdout.splitlines()[1:] == ["b.smit;GM0034 beheerder, GM0363 lezer;"]
    for refused in (
        ("add", "c.c", "--gemeente", "Almere"),
        ("add", "c.c", "--gemeente", "GM0034", "--rol", "koning"),
        ("add", "x", "--gemeente", "GM0034"),
        ("role", "niemand", "--gemeente", "GM0034", "--rol", "lezer"),
    ):
        code, output = _users(db, *refused)
        assert code != 0 and "Fout:" in output and "Traceback" not in output, refused
    short = "kort"
    assert _users(db, "add", "c.c", "--gemeente", "GM0034", password=short)[0] == 2
    assert _users(db, "remove", "a.jansen")[0] == 0 and _users(db, "remove", "a.jansen")[0] == 3
    assert PASSWORD not in listed.output
    with AppDB.open(wijkradar.appdb.default_url(db)) as own:
        assert PASSWORD not in str(own.accounts.users()) and own.accounts.user("b.smit") is not None


def _own_registration(wh: Warehouse, codes: list[str], title: str = "Stapeling (test)") -> None:
    """Store a figure from a gemeente's own registers, as the linkage does (no codes: an empty run)."""
    observations = pd.DataFrame(
        [(code, "2023", "stapeling_2plus", "huishoudens", 42.0, None, None, "published") for code in codes],
        columns=list(OBS_COLUMNS),
    )
    dataset = Dataset(
        meta=SourceMeta(
            publisher="eigen registratie",
            table_id="stapeling",
            title=title,
            location="test",
            format="linkage-duckdb",
            boundary_year=2023,
            licence="intern",
        ),
        observations=observations,
        regions=regions_frame(pd.Series(codes)),
        measures=pd.DataFrame([("stapeling_2plus", OWN_LABEL, "aantal", "")], columns=list(MEASURE_COLUMNS)),
    )
    store(wh, "test", f"digest-own-registration-{title}", dataset)


def _own_upload(wh: Warehouse, own: AppDB) -> None:
    """Store an upload of Almere's own figures per wijk, as the upload form does."""
    wijken = wh.regions.table(level="wijk", gemeente_code="GM0034")["code"].tolist()
    record = {
        "gemeente_code": "GM0034",
        "measure_key": "schuldhulp-almere",
        "label": UPLOAD_LABEL,
        "unit": "aantal",
        "level": "wijk",
        "boundary_year": wh.regions.indeling(),
        "attention_when": "high",
        "file_name": UPLOAD_FILE,
        "sha256": "0" * 64,
        "uploaded_by": "almere",
    }
    own.store_uploads([(record, [{"region_code": w, "period": "2024", "value": 8.0} for w in wijken])])


ROLES = {
    "almere": ("GM0034", "analyst"),
    "almere-lezer": ("GM0034", "reader"),
    "elders-lezer": ("GM0363", "reader"),
    "elders-analist": ("GM0363", "analyst"),
    "elders-beheerder": ("GM0363", "admin"),
    "landelijk": (None, None),
    "doelwit": ("GM0363", "reader"),  # the throttling test's target
}


@pytest.fixture(scope="module")
def site_db(web_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The web warehouse with Almere's own registration, goals, interventions and six users."""
    db = tmp_path_factory.mktemp("access") / "access.duckdb"
    shutil.copy(web_db, db)
    with Warehouse.open(db) as wh:
        _own_registration(wh, [ALMERE_BUURT, "GM0034"])
        _own_registration(wh, [], title=EMPTY_RUN)
    themes = db.parent / "themes.csv"
    themes.write_text(
        "name,measure_id,population_group,label,attention_when,description\n"
        "stapeling,stapeling_2plus,huishoudens,Stapeling (thema),hoog,eigen registratie\n",
        encoding="utf-8",
    )
    with stores(db) as (wh, own):
        goal = add_goal(
            wh,
            own,
            "GM0034",
            {"theme": "eenzaamheid", "title": GOAL_TITLE, "target_value": 44, "target_year": 2026},
        )
        spec = {"title": INTERVENTION_TITLE, "start": "2021-01-01", "goal_ids": [goal["goal_id"]]}
        add_intervention(wh, own, "GM0034", spec)
        _own_upload(wh, own)
        for name, (gemeente, role) in ROLES.items():
            own.accounts.save_user(name, hash_password(PASSWORD), national_admin=gemeente is None)
            if gemeente and role:
                own.accounts.set_role(name, gemeente, role)
    return db


@pytest.fixture
def site(site_db: Path) -> Iterator[TestClient]:
    with TestClient(create_app(site_db, editable=True, themes_file=site_db.parent / "themes.csv")) as client:
        yield client


def _token(page: Response) -> str:
    match = re.search(r'name="_token" value="([^"]+)"', page.text)
    assert match, "the page carries a form token"
    return match.group(1)


def _login(client: TestClient, name: str, password: str = PASSWORD, target: str = "/") -> Response:
    token = _token(client.get("/login"))
    response: Response = client.post(
        "/login",
        data={"name": name, "password": password, "volgende": target, "_token": token},
        follow_redirects=False,
    )
    return response


def _logout(client: TestClient) -> None:
    client.post("/uitloggen", data={"_token": _token(client.get("/uitloggen"))})


def test_everything_asks_for_a_login_first(site: TestClient) -> None:
    page = site.get("/gemeente/GM0034?thema=eenzaamheid", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?volgende=/gemeente/GM0034%3Fthema%3Deenzaamheid"
    assert site.get("/regio/GM0034.json").status_code == 401
    assert site.get("/healthz").status_code == 200 and site.get("/login").status_code == 200
    wrong = _login(site, "almere", "verkeerd wachtwoord")
    assert wrong.status_code == 401 and "Onbekende naam of verkeerd wachtwoord" in wrong.text
    assert _login(site, "niemand").status_code == 401
    away = _login(site, "almere", target="https://elders.example/")
    assert away.status_code == 303 and away.headers["location"] == "/"  # never sent off-site
    cookie = away.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower() and PASSWORD not in cookie
    assert site.get("/gemeente/GM0034?thema=eenzaamheid").status_code == 200


def test_the_login_form_needs_its_token(site: TestClient) -> None:
    forged = site.post("/login", data={"name": "almere", "password": PASSWORD}, follow_redirects=False)
    assert forged.status_code == 403 and "verlopen" in forged.text
    fresh = TestClient(site.app)  # another browser: its login cookie does not fit this token
    token = _token(site.get("/login"))
    stolen = fresh.post("/login", data={"name": "almere", "password": PASSWORD, "_token": token})
    assert stolen.status_code == 403


def test_logout_is_a_post_that_revokes_the_session(site: TestClient) -> None:
    _login(site, "almere")
    cookie = site.cookies.get("wijkradar_sessie")
    assert cookie and site.get("/gemeente/GM0034/doelen").status_code == 200
    site.get("/uitloggen")  # a GET only asks
    assert site.get("/gemeente/GM0034/doelen").status_code == 200
    _logout(site)
    replay = TestClient(site.app, cookies={"wijkradar_sessie": cookie})
    assert replay.get("/gemeente/GM0034/doelen.json").status_code == 401  # the old cookie is dead


def test_form_tokens_belong_to_one_session(site: TestClient) -> None:
    _login(site, "almere")
    token = _token(site.get("/gemeente/GM0034/doelen"))
    other = TestClient(site.app)
    _login(other, "almere")
    form = {"_token": token, "thema": "eenzaamheid", "target_value": "40", "target_year": "2026"}
    refused = other.post("/gemeente/GM0034/doelen", data=form, follow_redirects=False)
    assert refused.status_code == 403 and "verlopen" in refused.text
    cross = site.post(
        "/gemeente/GM0034/doelen",
        data=form,
        headers={"Origin": "https://kwaad.example"},
        follow_redirects=False,
    )
    assert cross.status_code == 403 and "niet van deze site" in cross.text


def test_roles_decide_who_sees_and_who_edits(site: TestClient) -> None:
    _login(site, "almere-lezer")
    page = site.get("/gemeente/GM0034/doelen")
    assert page.status_code == 200 and GOAL_TITLE in page.text and "Nieuw doel" not in page.text
    form = {"_token": _token(site.get("/uitloggen")), "thema": "eenzaamheid", "target_value": "40"}
    form["target_year"] = "2026"
    refused = site.post("/gemeente/GM0034/doelen", data=form, follow_redirects=False)
    assert refused.status_code == 403 and "niet wijzigen" in refused.text
    _logout(site)
    _login(site, "almere")
    page = site.get("/gemeente/GM0034/doelen")
    form["_token"] = _token(page)
    assert site.post("/gemeente/GM0034/doelen", data=form, follow_redirects=False).status_code == 303
    _logout(site)
    _login(site, "landelijk")  # manages users everywhere, sees no gemeente's own data
    assert site.get("/gemeente/GM0034/doelen").status_code == 403


def test_failed_logins_are_throttled_and_logged(site: TestClient, site_db: Path) -> None:
    attacker = TestClient(site.app, client=("192.0.2.66", 40000))  # its own address
    for _ in range(5):
        assert _login(attacker, "doelwit", "fout fout fout").status_code == 401
    blocked = _login(attacker, "doelwit")  # even the right password waits now
    assert blocked.status_code == 429 and "Probeer het over" in blocked.text
    with AppDB.open(wijkradar.appdb.default_url(site_db)) as own:
        from datetime import datetime, timedelta

        since = datetime.now() - timedelta(hours=1)  # compared with naive UTC below
        assert len(own.accounts.failures_since(since - timedelta(hours=24), name="doelwit")) >= 5


def test_every_response_carries_security_headers(site: TestClient) -> None:
    for path in ("/login", "/healthz", "/static/wijkradar.css", "/bestaat-niet", "/api/docs"):
        headers = site.get(path).headers
        csp = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self';" in csp, path
        assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "same-origin"


def test_api_docs_come_from_the_installed_assets(site: TestClient) -> None:
    _login(site, "almere")
    docs = site.get("/api/docs")
    assert docs.status_code == 200 and "cdn" not in docs.text.lower() and "https://" not in docs.text
    assert "<script>" not in docs.text  # no inline script
    for asset in re.findall(r'(?:src|href)="(/[^"]+)"', docs.text):
        assert site.get(asset).status_code == 200, asset


def test_unknown_host_names_are_refused(site_db: Path) -> None:
    with TestClient(create_app(site_db, hosts=("wijkradar.almere.nl",))) as client:
        assert client.get("/healthz").status_code == 400
        good = client.get("/healthz", headers={"Host": "wijkradar.almere.nl"})
        assert good.status_code == 200


def test_a_public_address_without_accounts_refuses_to_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    def started(*args: object, **kwargs: object) -> None:
        raise AssertionError("the server must not start")

    monkeypatch.setattr(uvicorn, "run", started)
    db = tmp_path / "w.duckdb"
    Warehouse.open(db).close()
    result = runner.invoke(app, ["serve", "--host", "0.0.0.0", "--db", str(db)])  # noqa: S104
    assert result.exit_code != 0 and "--alleen-open-data" in result.output


EMPTY_RUN = "geheim_bijstand_persons.parquet (lege koppeling)"


def test_own_themes_and_sources_only_for_their_gemeente(site: TestClient) -> None:
    _login(site, "elders-beheerder")
    for fmt in (".json", ".csv", ""):  # an own source without figures has no gemeente to be shown to
        assert EMPTY_RUN not in site.get(f"/bronnen{fmt}").text
    assert site.get("/gemeente/GM0034.json?thema=stapeling").status_code == 403
    assert site.get("/gemeente/GM0363/prioriteit.csv?thema=stapeling").status_code == 403
    assert "Stapeling (test)" not in site.get("/bronnen.json").text
    assert OWN_LABEL not in site.get(f"/regio/{ALMERE_BUURT}").text
    _logout(site)
    _login(site, "almere-lezer")
    assert "Stapeling (test)" in site.get("/bronnen.json").text
    assert OWN_LABEL in site.get(f"/regio/{ALMERE_BUURT}").text
    assert UPLOAD_LABEL in site.get("/gemeente/GM0034.json?thema=eigen-schuldhulp-almere").text
    assert UPLOAD_FILE in site.get("/gemeente/GM0034/uploads").text  # the markers can be seen at all


def test_who_saw_own_data_is_in_the_audit_log(site: TestClient, site_db: Path) -> None:
    _login(site, "almere-lezer")
    site.get("/gemeente/GM0034/doelen.csv")
    assert site.get("/gemeente/GM0034.json?thema=stapeling").status_code == 200  # own registration
    assert site.get("/gemeente/GM0034.csv?thema=eigen-schuldhulp-almere").status_code == 200  # upload
    assert OWN_LABEL in site.get(f"/regio/{ALMERE_BUURT}").text
    site.get("/gemeente/GM0034?thema=eenzaamheid")  # open data only: nothing to log
    result = runner.invoke(app, ["audit", "--gemeente", "Almere", "--db", str(site_db), "--format", "csv"])
    assert result.exit_code == 0, result.output
    logged = result.stdout
    assert "almere-lezer;export;doelen (csv)" in logged
    assert "almere-lezer;view;thema stapeling van GM0034" in logged
    assert "almere-lezer;view;thema own-schuldhulp-almere" in logged
    assert f"almere-lezer;view;profiel {ALMERE_BUURT}" in logged
    assert "eenzaamheid" not in logged


def _concrete(path: str) -> str:
    path = path.replace("{code:code}", "GM0034").replace("{goal_id}", "1").replace("{intervention_id}", "1")
    path = path.replace("{intervention_id:int}", "1").replace("{asset}", "swagger-ui.css")
    path = path.replace("{upload_id}", "1")
    return path.replace("{name}", "almere")


def _routes() -> list[tuple[str, str]]:
    """Every route of the app with every format it may have, generated from the app itself."""
    found = []
    for module in pkgutil.iter_modules(wijkradar.web.routes.__path__):
        router = importlib.import_module(f"wijkradar.web.routes.{module.name}").router
        for route in router.routes:
            if not isinstance(route, APIRoute):
                continue
            for method in sorted(route.methods or ()):
                suffixes = [""] + [f".{f}" for f in FORMATS] if "{fmt:fmt}" in route.path else [""]
                for suffix in suffixes:
                    found.append((method, _concrete(route.path).replace("{fmt:fmt}", suffix)))
    return found


ROUTES = _routes()


@pytest.mark.parametrize("user", ["elders-lezer", "elders-analist", "elders-beheerder", "landelijk", None])
def test_access_matrix_never_shows_another_gemeentes_own_data(
    site: TestClient, site_db: Path, user: str | None
) -> None:
    if user:
        assert _login(site, user).status_code == 303
    token = _token(site.get("/uitloggen")) if user else ""
    assert len(ROUTES) > 30 and not [p for _, p in ROUTES if "{" in p]  # every route made concrete
    for method, path in ROUTES:
        for query in (
            "",
            "?thema=stapeling",
            "?thema=eigen-schuldhulp-almere",
            f"?bewerk=1&opgeslagen=doel&q={ALMERE_BUURT}",
        ):
            if method == "GET":
                response = site.get(path + query, follow_redirects=False)
            else:
                if path in ("/login", "/uitloggen") or (user == "landelijk" and "/beheer/" in path):
                    continue  # a national beheerder manages every gemeente's users: allowed by design
                form = {
                    "_token": token,
                    "thema": "eenzaamheid",
                    "title": "x",
                    "target_value": "1",
                    "target_year": "2030",
                }
                response = site.post(path + query, data=form, follow_redirects=False)
                to_login = user is None and response.headers.get("location", "").startswith("/login")
                assert response.status_code in (401, 403, 404, 405, 422) or to_login, (method, path)
            assert response.status_code < 500, (method, path + query)
            body = response.content.decode("utf-8", errors="replace")
            for marker in MARKERS:
                assert marker not in body, (user, method, path + query, marker)
    with stores(site_db) as (_, own):
        assert [g["title"] for g in own.goals("GM0034")][:1] == [GOAL_TITLE]  # nothing changed


def test_a_beheerder_manages_the_users_of_their_gemeente_only(site: TestClient) -> None:
    _login(site, "elders-beheerder")
    page = site.get("/gemeente/GM0363/beheer")
    assert page.status_code == 200 and "elders-lezer" in page.text and "almere-lezer" not in page.text
    token = _token(page)
    added = site.post(
        "/gemeente/GM0363/beheer/gebruikers",
        data={"_token": token, "name": "nieuw.lid", "role": "analist", "password": PASSWORD},
        follow_redirects=False,
    )
    assert added.status_code == 303
    takeover = site.post(  # an existing account's password is never changed from here
        "/gemeente/GM0363/beheer/gebruikers",
        data={"_token": token, "name": "almere-lezer", "role": "lezer", "password": "overgenomen wachtwoord"},
        follow_redirects=False,
    )
    assert takeover.status_code == 422 and "bestaande gebruiker" in takeover.text
    audit = site.get("/gemeente/GM0363/audit.csv")
    assert audit.status_code == 200 and "nieuw.lid: analist" in audit.text
    assert site.get("/gemeente/GM0034/beheer").status_code == 403
    assert site.get("/gemeente/GM0034/audit.json").status_code == 403
    fresh = TestClient(site.app)
    assert _login(fresh, "nieuw.lid").status_code == 303  # the new account works
    removed = site.post("/gemeente/GM0363/beheer/gebruikers/nieuw.lid/verwijderen", data={"_token": token})
    assert removed.status_code == 200  # followed the redirect back to the page
    assert fresh.get("/gemeente/GM0363/doelen.json").status_code == 401  # its session ended with it
    _logout(site)
    _login(site, "almere")  # an analist is no beheerder
    assert site.get("/gemeente/GM0034/beheer").status_code == 403


def test_the_first_user_closes_a_running_site(web_db: Path, tmp_path: Path) -> None:
    """A site that started without accounts asks for a login from the moment a user exists."""
    import time

    db = tmp_path / "open.duckdb"
    shutil.copy(web_db, db)
    with TestClient(create_app(db, editable=True)) as client:
        assert client.get("/gemeente/GM0034/doelen.json").status_code == 200  # one person's site
        assert _users(db, "add", "anna", "--gemeente", "GM0034", "--rol", "analist")[0] == 0
        time.sleep(1.1)  # the site looks at its users once a second
        assert client.get("/gemeente/GM0034/doelen.json").status_code == 401
        page = client.get("/gemeente/GM0034", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
        login = client.get("/login")
        assert "Inloggen" in login.text and "Uitloggen" not in login.text  # nobody to log out yet


def test_parallel_guesses_wait_their_turn(site: TestClient, site_db: Path) -> None:
    """Forty guesses at one account's password at once: five tries, then 429 (both stores)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    assert _users(site_db, "add", "parallel", "--gemeente", "GM0034")[0] == 0
    assert _users(site_db, "add", "collega", "--gemeente", "GM0034")[0] == 0
    _logout(site)
    token = _token(site.get("/login"))  # one form, posted forty times at once on the site's own loop
    start = threading.Barrier(40)

    def guess(i: int) -> int:
        start.wait()
        form = {"name": "parallel", "password": f"fout-{i:02d}-fout", "volgende": "/", "_token": token}
        response = site.post("/login", data=form, follow_redirects=False)
        return int(response.status_code)

    with ThreadPoolExecutor(max_workers=40) as pool:
        answers = list(pool.map(guess, range(40)))
    assert answers.count(401) == 5 and answers.count(429) == 35, answers
    assert _login(site, "parallel").status_code == 429  # the right password waits too
    # a colleague behind the same address is not locked out by those failures
    assert _login(site, "collega").status_code == 303
    _logout(site)


def test_the_audit_log_holds_every_change_refusal_and_read(site: TestClient, site_db: Path) -> None:
    """Issue 25, finding 9: a deleted goal had no id or title, refusals, CLI changes and readers of the
    audit log were missing, and a national beheerder could give itself a role and read a gemeente's goals.
    """
    with stores(site_db) as (_, own):
        earlier = len(own.audit("GM0034"))  # the other tests of this module log too
    _login(site, "elders-lezer")
    assert site.get("/gemeente/GM0034/doelen.json").status_code == 403
    _logout(site)
    _login(site, "almere")
    token = _token(site.get("/gemeente/GM0034/doelen"))
    form = {"_token": token, "thema": "eenzaamheid", "title": "Even een doel", "target_value": "44"}
    assert site.post("/gemeente/GM0034/doelen", data={**form, "target_year": "2026"}).status_code == 200
    goal_id = next(
        g["goal_id"]
        for g in site.get("/gemeente/GM0034/doelen.json").json()["goals"]
        if g["title"] == "Even een doel"
    )
    assert (
        site.post(f"/gemeente/GM0034/doelen/{goal_id}/verwijderen", data={"_token": token}).status_code == 200
    )
    _logout(site)
    _login(site, "landelijk")
    token = _token(site.get("/gemeente/GM0034/beheer"))
    itself = site.post(
        "/gemeente/GM0034/beheer/gebruikers", data={"_token": token, "name": "landelijk", "role": "lezer"}
    )
    assert itself.status_code == 403 and "zichzelf geen rol" in itself.text
    assert site.get("/gemeente/GM0034/doelen.json").status_code == 403  # still no own data
    assert site.get("/gemeente/GM0034/audit.csv").status_code == 200
    _logout(site)
    cli = ["--gemeente", "GM0034", "--db", str(site_db)]
    assert _users(site_db, "add", "cli.lid", "--gemeente", "GM0034", "--rol", "lezer")[0] == 0
    assert _users(site_db, "remove", "cli.lid")[0] == 0
    assert _users(site_db, "add", "landelijk.twee", "--landelijk-beheerder")[0] == 0
    assert _users(site_db, "remove", "landelijk.twee")[0] == 0
    added = runner.invoke(
        app,
        [
            "goals",
            "add",
            *cli,
            "--thema",
            "eenzaamheid",
            "--target",
            "44",
            "--target-year",
            "2026",
            "--title",
            "Doel uit de CLI",
            "--format",
            "json",
        ],
    )
    assert added.exit_code == 0, added.output
    cli_goal = int(pd.read_json(io.StringIO(added.stdout))["goal_id"].iloc[0])
    assert runner.invoke(app, ["goals", "delete", str(cli_goal), *cli]).exit_code == 0
    with stores(site_db) as (_, own):
        logged = [(e["user_name"], e["action"], e["object"]) for e in own.audit("GM0034")[earlier:]]
    expected = [
        ("elders-lezer", "refused", "GET /gemeente/GM0034/doelen.json"),
        ("almere", "create", f"doel {goal_id}: Even een doel"),
        ("almere", "delete", f"doel {goal_id}: Even een doel"),
        ("landelijk", "view", "auditlog (beheer)"),
        ("landelijk", "refused", "POST /gemeente/GM0034/beheer/gebruikers"),
        ("landelijk", "refused", "GET /gemeente/GM0034/doelen.json"),
        ("landelijk", "export", "auditlog (csv)"),
        (CLI_ACTOR, "role", "cli.lid: lezer"),
        (CLI_ACTOR, "role", "cli.lid: geen"),
        (CLI_ACTOR, "role", "landelijk.twee: landelijk beheerder"),  # it manages Almere's users too
        (CLI_ACTOR, "role", "landelijk.twee: geen"),
        (CLI_ACTOR, "create", f"doel {cli_goal}: Doel uit de CLI"),
        (CLI_ACTOR, "delete", f"doel {cli_goal}: Doel uit de CLI"),
    ]
    assert [e for e in logged if e in expected] == expected  # each one, in this order


def test_a_name_with_a_nul_character_is_unknown_on_both_stores(site: TestClient) -> None:
    """Found by the fuzzer on PostgreSQL: taking the role of 'x\\x00y' answered 500 (SQLite: 404)."""
    _login(site, "elders-beheerder")
    token = _token(site.get("/gemeente/GM0363/beheer"))
    response = site.post("/gemeente/GM0363/beheer/gebruikers/x%00y/verwijderen", data={"_token": token})
    assert response.status_code == 404
    given = site.post(
        "/gemeente/GM0363/beheer/gebruikers",
        data={"_token": token, "name": "x\x00y", "role": "lezer", "password": PASSWORD},
    )
    assert given.status_code == 422

"""Fuzzing every route, form and upload: whatever comes in, no answer is a 500.

Hypothesis writes the paths, query strings, form fields and upload files; schemathesis writes
requests from the site's own OpenAPI document (``/api/openapi.json``), so a route added later is
fuzzed without a change here. CI runs this file on both operational stores (SQLite, PostgreSQL);
the number of cases each test ran is printed at the end of the run.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import schemathesis
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import fuzzed
from wijkradar.access import hash_password
from wijkradar.web.app import create_app
from wijkradar.web.formats import FORMATS
from wijkradar.web.routes import admin, docs, goals, pages

ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=60)
CODES = st.one_of(st.sampled_from(["GM0034", "GM0363", "BU00340211", "WK003402", "NL01", "GM9999"]), ANY_TEXT)
SUFFIXES = st.sampled_from(["", *(f".{f}" for f in FORMATS), ".pdf", ".json.json", "."])
NUMBERISH = st.one_of(
    st.sampled_from(["44", "44,5", "1e309", "-1e309", "nan", "1e10", "2028", "0", "-5", "€ 125.000,50", ""]),
    ANY_TEXT,
    st.integers(-(10**30), 10**30).map(str),
)
FIELD_TEXT = st.one_of(ANY_TEXT, st.text(max_size=3000), st.sampled_from(["=HYPERLINK(1)", "\x00", "a\nb"]))


@pytest.fixture(scope="module")
def client(web_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    db = tmp_path_factory.mktemp("fuzz") / "fuzz.duckdb"
    shutil.copy(web_db, db)
    with TestClient(create_app(db, editable=True)) as test_client:
        yield test_client


def _templates(method: str) -> list[str]:
    found = []
    for router in (pages.router, goals.router, docs.router, admin.router):
        for route in router.routes:
            if isinstance(route, APIRoute) and method in (route.methods or ()):
                found.append(route.path)
    return found


GET_PATHS = _templates("GET")
POST_PATHS = _templates("POST")


def _fill(template: str, code: str, suffix: str, number: str) -> str:
    """A concrete path, the generated parts percent-encoded as a browser would send them."""
    path = template.replace("{code:code}", quote(code, safe="")).replace("{fmt:fmt}", suffix)
    return re.sub(r"\{[a-z_]+\}", quote(number, safe=""), path)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    template=st.sampled_from(GET_PATHS),
    code=CODES,
    suffix=SUFFIXES,
    number=st.one_of(st.integers(-5, 10**12).map(str), ANY_TEXT),
    query=st.dictionaries(
        st.sampled_from(["thema", "bewerk", "opgeslagen", "q", "volgende", "onbekend"]),
        st.one_of(ANY_TEXT, st.sampled_from(["eenzaamheid", "mantelzorg", "1", "-1"])),
        max_size=3,
    ),
)
def test_no_get_answers_500(
    client: TestClient, template: str, code: str, suffix: str, number: str, query: dict[str, str]
) -> None:
    path = _fill(template, code, suffix, number)
    response = client.get(path, params=query, follow_redirects=False)
    fuzzed("GET-routes (hypothesis)")
    assert response.status_code < 500, (path, query, response.status_code)


def _token(client: TestClient) -> str:
    found = re.search(r'name="_token" value="([^"]+)"', client.get("/gemeente/GM0034/doelen").text)
    assert found
    return found.group(1)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    template=st.sampled_from(POST_PATHS),
    number=st.one_of(st.sampled_from(["1", "2", "999"]), ANY_TEXT),
    form=st.fixed_dictionaries(
        {},
        optional={
            "title": FIELD_TEXT,
            "thema": st.one_of(st.sampled_from(["eenzaamheid", "mantelzorg"]), ANY_TEXT),
            "measure_id": st.one_of(st.sampled_from(["Eenzaam_28", ""]), ANY_TEXT),
            "population_group": st.one_of(st.sampled_from(["65+", "18+"]), ANY_TEXT),
            "target_value": NUMBERISH,
            "target_year": NUMBERISH,
            "baseline_period": st.one_of(st.sampled_from(["2016", "2020", "2012"]), ANY_TEXT),
            "direction": st.one_of(st.sampled_from(["omlaag", "omhoog", "down"]), ANY_TEXT),
            "area": st.lists(
                st.one_of(st.sampled_from(["BU00340211", "WK003402", "GM0034"]), ANY_TEXT), max_size=3
            ),
            "area_name": FIELD_TEXT,
            "owner": FIELD_TEXT,
            "description": FIELD_TEXT,
            "start": st.one_of(st.sampled_from(["2021-01-01", "2021-13-40", ""]), ANY_TEXT),
            "end": st.one_of(st.sampled_from(["2020-01-01", ""]), ANY_TEXT),
            "budget": NUMBERISH,
            "partners": FIELD_TEXT,
            "goal_ids": st.lists(NUMBERISH, max_size=3),
            "thema_pagina": st.one_of(st.just("eenzaamheid"), ANY_TEXT),
        },
    ),
)
def test_no_form_answers_500(client: TestClient, template: str, number: str, form: dict[str, object]) -> None:
    path = _fill(template, "GM0034", "", number)
    data = {k: v for k, v in form.items() if not (isinstance(v, str) and "\x00" in k)}
    response = client.post(path, data={"_token": _token(client), **data}, follow_redirects=False)
    fuzzed("formulieren (hypothesis)")
    assert response.status_code < 500, (path, form, response.status_code)


@pytest.fixture(scope="module")
def api_schema(web_db: Path, tmp_path_factory: pytest.TempPathFactory) -> schemathesis.BaseSchema:
    """The site's own OpenAPI document, answered by an app of its own in this process.

    Its own: schemathesis starts and stops the app's lifespan around each call, which closes the
    warehouse handles of an app that other tests still use.
    """
    db = tmp_path_factory.mktemp("fuzz-api") / "fuzz.duckdb"
    shutil.copy(web_db, db)
    return schemathesis.openapi.from_asgi("/api/openapi.json", create_app(db, editable=True))


api = schemathesis.pytest.from_fixture("api_schema")
_API_TOKENS: dict[int, str] = {}


@api.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_documented_operation(case: schemathesis.Case[Any]) -> None:
    """Each operation of the OpenAPI document, its path and query parameters drawn from the document.

    A POST gets a valid form token, so that it reaches the form's own checks instead of stopping at
    the token.
    """
    app = case.operation.schema.app
    if id(app) not in _API_TOKENS:
        _API_TOKENS[id(app)] = _token(TestClient(app))
    extra: dict[str, Any] = (
        {"data": {"_token": _API_TOKENS[id(app)]}} if case.method.upper() == "POST" else {}
    )
    response = case.call(**extra)
    fuzzed("OpenAPI-operaties (schemathesis)")
    assert response.status_code < 500, (case.method, case.formatted_path, case.query, response.status_code)


CSV_CELLS = st.one_of(
    st.sampled_from(["BU00340211", "WK003402", "GM0034", "BU03630000", "2023", "2025", "x", ".", "", "12,5"]),
    st.sampled_from(["1e308", "-5", "nan", "1e309", "=HYPERLINK(1)", "\x00", '"', ";"]),
    ANY_TEXT,
)
CSV_HEADERS = st.one_of(
    st.sampled_from(["code", "jaar", "naam", "Wmo-cliënten", "Aandeel (%)", ""]), ANY_TEXT
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    headers=st.lists(CSV_HEADERS, min_size=1, max_size=5),
    rows=st.lists(st.lists(CSV_CELLS, min_size=0, max_size=6), max_size=8),
    sep=st.sampled_from([";", ",", "\t"]),
    name=st.one_of(st.sampled_from(["wmo.csv", "wmo.xlsx", "wmo.txt", "wmo", "../wmo.csv"]), ANY_TEXT),
    encoding=st.sampled_from(["utf-8", "cp1252", "utf-16"]),
    year=st.one_of(st.sampled_from(["", "2024", "1800", "2024-H1"]), ANY_TEXT),
    attention=st.one_of(st.sampled_from(["hoog", "laag"]), ANY_TEXT),
)
def test_no_upload_answers_500(
    client: TestClient,
    headers: list[str],
    rows: list[list[str]],
    sep: str,
    name: str,
    encoding: str,
    year: str,
    attention: str,
) -> None:
    """Files of every shape under every name: header, cells, separator, encoding, year and attention."""
    text = "\n".join(sep.join(line) for line in [headers, *rows])
    content = text.encode(encoding, errors="replace")
    response = client.post(
        "/gemeente/GM0034/uploads",
        data={"_token": _token(client), "jaar": year, "aandacht": attention},
        files={"bestand": (name, content, "text/csv")},
        follow_redirects=False,
    )
    fuzzed("uploads (hypothesis)")
    assert response.status_code < 500, (name, headers, rows[:2], response.status_code)


BEHEERDER = "fuzz-beheerder"
PASSWORD = "correct paard batterij"  # noqa: S105  # a test password


@pytest.fixture(scope="module")
def accounts(web_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A site with accounts, logged in as a beheerder of Almere (the login and beheer forms)."""
    from conftest import stores

    db = tmp_path_factory.mktemp("fuzz-accounts") / "fuzz.duckdb"
    shutil.copy(web_db, db)
    with stores(db) as (_, own):
        own.accounts.save_user(BEHEERDER, hash_password(PASSWORD))
        own.accounts.set_role(BEHEERDER, "GM0034", "admin")
    with TestClient(create_app(db, editable=True)) as test_client:
        login = re.search(r'name="_token" value="([^"]+)"', test_client.get("/login").text)
        assert login
        form = {"name": BEHEERDER, "password": PASSWORD, "_token": login.group(1)}
        assert test_client.post("/login", data=form, follow_redirects=False).status_code == 303
        yield test_client


NAMES = st.one_of(st.sampled_from([BEHEERDER, "nieuw.lid", "a", "x\x00y", "landelijk"]), ANY_TEXT)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=NAMES,
    role=st.one_of(st.sampled_from(["lezer", "analist", "beheerder", "geen"]), ANY_TEXT),
    password=st.one_of(st.just(""), st.just(PASSWORD), FIELD_TEXT),
    remove=st.booleans(),
)
def test_no_beheer_form_answers_500(
    accounts: TestClient, name: str, role: str, password: str, remove: bool
) -> None:
    """Give or take roles with whatever a beheerder could type; their own account is kept."""
    token = re.search(r'name="_token" value="([^"]+)"', accounts.get("/gemeente/GM0034/beheer").text)
    assert token
    if remove and name != BEHEERDER:
        path = f"/gemeente/GM0034/beheer/gebruikers/{quote(name, safe='')}/verwijderen"
        response = accounts.post(path, data={"_token": token.group(1)}, follow_redirects=False)
    elif name != BEHEERDER:
        form = {"_token": token.group(1), "name": name, "role": role, "password": password}
        response = accounts.post("/gemeente/GM0034/beheer/gebruikers", data=form, follow_redirects=False)
    else:
        return
    fuzzed("beheerformulieren (hypothesis)")
    assert response.status_code < 500, (name, role, response.status_code)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=NAMES, password=FIELD_TEXT, target=st.one_of(st.just("/"), ANY_TEXT))
def test_no_login_answers_500(accounts: TestClient, name: str, password: str, target: str) -> None:
    """The login form of a site with accounts, from a client without a session."""
    fresh = TestClient(accounts.app)
    token = re.search(r'name="_token" value="([^"]+)"', fresh.get("/login").text)
    assert token
    form = {"name": name, "password": password, "volgende": target, "_token": token.group(1)}
    response = fresh.post("/login", data=form, follow_redirects=False)
    fuzzed("inloggen (hypothesis)")
    assert response.status_code < 500, (name, response.status_code)

"""Fuzzing the JSON API and the forms with hypothesis: whatever comes in, no answer is a 500."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
    assert response.status_code < 500, (path, form, response.status_code)

"""Accounts: passwords, sessions, the users file, and each user seeing only their gemeente's own data."""

from __future__ import annotations

import re
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from httpx import Response
from typer.testing import CliRunner

from wijkradar.access import Sessions, add_user, hash_password, load_users, verify_password
from wijkradar.cli import app
from wijkradar.errors import InputError
from wijkradar.ingest import store
from wijkradar.sources.model import MEASURE_COLUMNS, OBS_COLUMNS, Dataset, SourceMeta, regions_frame
from wijkradar.warehouse import Warehouse
from wijkradar.web.app import create_app

PASSWORD = "correct paard batterij"  # noqa: S105  # a test password
ALMERE_BUURT = "BU00340211"


def test_passwords_are_hashed_and_checked() -> None:
    stored = hash_password(PASSWORD)
    assert PASSWORD not in stored and stored.startswith("scrypt$")
    assert verify_password(PASSWORD, stored)
    assert not verify_password(PASSWORD + "x", stored)
    assert not verify_password(PASSWORD, "scrypt$kapot")
    assert hash_password(PASSWORD) != stored  # salted


def test_sessions_expire_and_cannot_be_forged() -> None:
    sessions = Sessions(hours=1)
    token = sessions.issue("a.jansen", now=1000.0)
    assert sessions.verify(token, now=1001.0) == "a.jansen"
    assert sessions.verify(token, now=1000.0 + 3600) is None  # expired
    name, expiry, signature = token.split("|")
    assert sessions.verify(f"b.de.vries|{expiry}|{signature}", now=1001.0) is None
    assert sessions.verify(f"{name}|{int(expiry) + 9999}|{signature}", now=1001.0) is None
    assert Sessions().verify(token, now=1001.0) is None  # another server's secret
    assert sessions.verify("rommel", now=1001.0) is None


def test_users_file_is_written_safely_and_read_strictly(tmp_path: Path) -> None:
    path = tmp_path / "gebruikers.yaml"
    add_user(path, "a.jansen", ["GM0034"], PASSWORD)
    add_user(path, "b.de.vries", ["GM0363", "GM0034"], PASSWORD)
    add_user(path, "a.jansen", ["GM0599"], PASSWORD + "!")  # replaced, not added
    users = load_users(path)
    assert sorted(users) == ["a.jansen", "b.de.vries"]
    assert users["a.jansen"].gemeenten == {"GM0599"} and users["b.de.vries"].sees("WK036301")
    assert PASSWORD not in path.read_text(encoding="utf-8")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "password" not in repr(users["a.jansen"])
    with pytest.raises(InputError, match="korter dan 12"):
        add_user(path, "c", ["GM0034"], "kort")
    with pytest.raises(InputError, match="geen CBS-code"):
        add_user(path, "c.c", ["Almere"], PASSWORD)
    path.write_text("users:\n- {name: x.y, gemeenten: [GM0034], password: geheim}\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"rij 1, kolom 'password': wachtwoord is niet gehasht"):
        load_users(path)


def test_users_cli_asks_for_the_password_and_never_prints_it(tmp_path: Path) -> None:
    path = tmp_path / "gebruikers.yaml"
    runner = CliRunner()
    added = runner.invoke(
        app,
        ["users", "add", "--file", str(path), "--name", "a.jansen", "--gemeente", "GM0034"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["users", "list", "--file", str(path), "--format", "csv"])
    assert listed.stdout.splitlines() == ["naam,gemeenten", "a.jansen,GM0034"]
    assert PASSWORD not in added.stdout + listed.stdout


def _own_registration(wh: Warehouse, codes: list[str]) -> None:
    """Store a figure from a gemeente's own registers, as the linkage does."""
    observations = pd.DataFrame(
        [(code, "2023", "stapeling_2plus", "huishoudens", 42.0, None, None, "published") for code in codes],
        columns=list(OBS_COLUMNS),
    )
    dataset = Dataset(
        meta=SourceMeta(
            publisher="eigen registratie",
            table_id="stapeling",
            title="Stapeling (test)",
            location="test",
            format="linkage-duckdb",
            boundary_year=2023,
            licence="intern",
        ),
        observations=observations,
        regions=regions_frame(pd.Series(codes)),
        measures=pd.DataFrame(
            [("stapeling_2plus", "Huishoudens met 2+ voorzieningen", "aantal", "")],
            columns=list(MEASURE_COLUMNS),
        ),
    )
    store(wh, "test", "digest-own-registration", dataset)


@pytest.fixture
def site(web_db: Path, tmp_path: Path) -> Iterator[TestClient]:
    db = tmp_path / "access.duckdb"
    shutil.copy(web_db, db)
    with Warehouse.open(db) as wh:
        _own_registration(wh, [ALMERE_BUURT, "GM0034"])
    users_file = tmp_path / "gebruikers.yaml"
    add_user(users_file, "almere", ["GM0034"], PASSWORD)
    add_user(users_file, "elders", ["GM0363"], PASSWORD)
    with TestClient(create_app(db, editable=True, users=load_users(users_file))) as client:
        yield client


def _login(client: TestClient, name: str, password: str = PASSWORD, target: str = "/") -> Response:
    response: Response = client.post(
        "/login", data={"name": name, "password": password, "volgende": target}, follow_redirects=False
    )
    return response


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
    assert "Uitloggen" in site.get("/bronnen").text
    site.get("/uitloggen")
    assert site.get("/bronnen", follow_redirects=False).status_code == 303


def test_own_data_only_for_the_own_gemeente(site: TestClient) -> None:
    _login(site, "almere")
    own = site.get(f"/regio/{ALMERE_BUURT}.json").json()
    assert any(f["publisher"] == "eigen registratie" for f in own["figures"])
    assert site.get("/gemeente/GM0034/doelen").status_code == 200
    site.get("/uitloggen")

    _login(site, "elders")
    other = site.get(f"/regio/{ALMERE_BUURT}.json").json()
    assert other["figures"] and not any(f["publisher"] == "eigen registratie" for f in other["figures"])
    assert "stapeling_2plus" not in site.get(f"/regio/{ALMERE_BUURT}.csv").text
    assert "Huishoudens met 2+ voorzieningen" not in site.get(f"/regio/{ALMERE_BUURT}").text
    assert site.get("/gemeente/GM0034?thema=eenzaamheid").status_code == 200  # open data stay open
    refused = site.get("/gemeente/GM0034/doelen")
    assert refused.status_code == 403 and "ingelogd voor: GM0363" in refused.text
    for path in (
        "/gemeente/GM0034/doelen.json",
        "/gemeente/GM0034/doelen.csv",
        "/gemeente/GM0034/doelen.xlsx",
    ):
        assert site.get(path).status_code == 403, path
    token = re.search(r'name="_token" value="([^"]+)"', site.get("/gemeente/GM0363/doelen").text)
    assert token is not None
    posted = site.post(
        "/gemeente/GM0034/doelen",
        data={"_token": token.group(1), "thema": "eenzaamheid", "target_value": "40", "target_year": "2026"},
        follow_redirects=False,
    )
    assert posted.status_code == 403
    site.get("/uitloggen")
    _login(site, "almere")
    assert site.get("/gemeente/GM0034/doelen.json").json()["goals"] == []

"""Uploads: a gemeente's analist adds its own figures per wijk in the browser; only its users see them.

The file goes through the ingest's readers (same Dutch errors, nothing stored when anything is
wrong), lands in the operational store (never the warehouse file), and becomes a theme with a map
and a measure a goal can be set on.
"""

from __future__ import annotations

import csv
import html
import io
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from conftest import stores
from wijkradar.access import hash_password
from wijkradar.uploads import MAX_BYTES
from wijkradar.warehouse import Warehouse
from wijkradar.web.app import create_app
from workbooks import cells, workbook

PASSWORD = "correct paard batterij"  # noqa: S105  # a test password
THEME = "own-wmo-clienten"
USERS = {"analist": ("GM0034", "analyst"), "lezer": ("GM0034", "reader"), "elders": ("GM0363", "admin")}


@pytest.fixture(scope="module")
def upload_db(web_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("uploads") / "uploads.duckdb"
    shutil.copy(web_db, db)
    with stores(db) as (_, own):
        for name, (gemeente, role) in USERS.items():
            own.accounts.save_user(name, hash_password(PASSWORD))
            own.accounts.set_role(name, gemeente, role)
    return db


@pytest.fixture
def client(upload_db: Path) -> Iterator[TestClient]:
    with TestClient(create_app(upload_db, editable=True)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def wijken(upload_db: Path) -> list[str]:
    with Warehouse.open(upload_db, read_only=True) as wh:
        return sorted(wh.regions.table(level="wijk", gemeente_code="GM0034")["code"])


def _token(page: Response) -> str:
    match = re.search(r'name="_token" value="([^"]+)"', page.text)
    assert match, page.text[:300]
    return match.group(1)


def _login(client: TestClient, name: str) -> str:
    token = _token(client.get("/login"))
    client.post("/login", data={"name": name, "password": PASSWORD, "_token": token}, follow_redirects=False)
    return _token(client.get("/uitloggen"))


def _csv(rows: list[list[str]]) -> bytes:
    text = io.StringIO()
    csv.writer(text, delimiter=";", lineterminator="\r\n").writerows(rows)
    return text.getvalue().encode("utf-8-sig")


def _upload(client: TestClient, token: str, content: bytes, name: str = "wmo.csv", **fields: str) -> Response:
    response: Response = client.post(
        "/gemeente/GM0034/uploads",
        data={"_token": token, **fields},
        files={"bestand": (name, content, "text/csv")},
        follow_redirects=False,
    )
    return response


def test_an_analist_uploads_a_table_and_gets_a_theme_with_a_map(
    client: TestClient, upload_db: Path, wijken: list[str]
) -> None:
    token = _login(client, "analist")
    rows = [["code", "naam", "jaar", "Wmo-cliënten", "Aandeel mantelzorgers (%)"]]
    rows += [[w, f"Wijk {i}", "2023", str(10 * i + 3), f"{i},5"] for i, w in enumerate(wijken)]
    rows += [[w, f"Wijk {i}", "2024", str(10 * i + 5), "x"] for i, w in enumerate(wijken)]
    before = Warehouse.open(upload_db, read_only=True)
    counts = before.table_counts()
    before.close()
    stored = _upload(client, token, _csv(rows))
    assert stored.status_code == 303, stored.text[:500]
    listed = client.get("/gemeente/GM0034/uploads.json").json()
    assert [(u["theme"], u["level"], u["n_values"]) for u in listed] == [
        ("own-aandeel-mantelzorgers", "wijk", len(wijken)),
        (THEME, "wijk", 2 * len(wijken)),
    ]
    assert listed[0]["unit"] == "%" and listed[1]["unit"] == "aantal"
    assert listed[0]["niveau"] == "wijk" and listed[0]["thema"] == listed[0]["theme"]  # old keys until 0.4
    with Warehouse.open(upload_db, read_only=True) as wh:
        assert wh.table_counts() == counts  # the warehouse file holds no uploads
    overview = client.get(f"/gemeente/GM0034.json?thema={THEME}").json()
    assert overview["areas"]["level"] == "wijk" and overview["areas"]["period"] == "2024"
    by_code = {r["code"]: r for r in overview["areas"]["rows"]}
    assert by_code[wijken[1]]["value"] == 15.0 and by_code[wijken[1]]["source"] == "upload wmo.csv 2024"
    assert overview["priority"] is None and overview["theme"]["upload"] is True
    page = client.get(f"/gemeente/GM0034?thema={THEME}")
    assert page.status_code == 200 and "Wmo-cliënten" in page.text
    table = client.get(f"/gemeente/GM0034.csv?thema={THEME}")
    assert table.status_code == 200 and wijken[0] in table.text
    mapped = client.get(f"/gemeente/GM0034.geojson?thema={THEME}")
    assert mapped.status_code == 200 and mapped.json()["type"] == "FeatureCollection"
    refused = client.get(f"/gemeente/GM0034/prioriteit?thema={THEME}")
    assert refused.status_code == 404 and "risicomodel" in refused.text

    # A goal on the uploaded measure measures its progress from the upload.
    goal_page = client.get("/gemeente/GM0034/doelen")
    assert THEME in goal_page.text
    saved = client.post(
        "/gemeente/GM0034/doelen",
        data={
            "_token": token,
            "thema": THEME,
            "area": wijken[1],
            "baseline_period": "2023",
            "target_value": "10",
            "target_year": "2027",
            "title": "Minder Wmo-cliënten",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text[:800]
    goal = next(
        g for g in client.get("/gemeente/GM0034/doelen.json").json()["goals"] if g["measure_id"] == THEME
    )
    assert goal["baseline_value"] == 13.0
    assert [(p["period"], p["value"]) for p in goal["progress"]["points"]][-1] == ("2024", 15.0)

    # Uploading the measure again replaces it, and the pages follow at once.
    again = [["code", "jaar", "Wmo-cliënten"]] + [[w, "2024", "7"] for w in wijken]
    assert _upload(client, token, _csv(again), name="wmo-nieuw.csv").status_code == 303
    overview = client.get(f"/gemeente/GM0034.json?thema={THEME}").json()
    assert {r["value"] for r in overview["areas"]["rows"] if r["value"] is not None} == {7.0}
    entries = client.get("/gemeente/GM0034/uploads.json").json()
    assert next(u for u in entries if u["theme"] == THEME)["file_name"] == "wmo-nieuw.csv"


@pytest.mark.parametrize(
    ("rows", "name", "expected"),
    [
        (
            [["code", "jaar", "Wmo"], ["WK036300", "2023", "5"]],
            "wmo.csv",
            "rij 2, kolom 'code': WK036300 ligt niet in GM0034",
        ),
        ([["code", "jaar", "Wmo"], ["WK999999", "2023", "5"]], "wmo.csv", "ligt niet in GM0034"),
        (
            [["code", "Wmo"], ["{w0}", "5"]],
            "wmo.csv",
            "kolom 'jaar': geen kolom 'jaar' en geen jaar opgegeven",
        ),
        (
            [["code", "jaar", "Wmo"], ["{w0}", "2023", "5"], ["{w0}", "2023", "6"]],
            "wmo.csv",
            "rij 3, kolom 'code'",
        ),
        ([["code", "jaar", "Wmo"], ["{w0}", "2023", "-5"]], "wmo.csv", "rij 2, kolom 'Wmo': negatief aantal"),
        (
            [["code", "jaar", "Wmo"], ["{w0}", "2023", "veel"]],
            "wmo.csv",
            "rij 2, kolom 'Wmo': tekst in een kolom met getallen",
        ),
        ([["code", "jaar", "Wmo"], ["{w0}", "twintig", "5"]], "wmo.csv", "kolom 'jaar': geen jaartal"),
        ([["code", "jaar", "Wmo"], ["{w0}", "2023", "1e999"]], "wmo.csv", "oneindig"),
        ([["code", "jaar"], ["{w0}", "2023"]], "wmo.csv", "geen kolom met cijfers"),
        ([["code", "jaar", "Wmo"], ["{w0}", "2023", "5"]], "wmo.pdf", "onbekend bestandstype"),
    ],
)
def test_bad_uploads_get_the_ingest_errors_and_change_nothing(
    client: TestClient, wijken: list[str], rows: list[list[str]], name: str, expected: str
) -> None:
    token = _login(client, "analist")
    before = client.get("/gemeente/GM0034/uploads.json").json()
    filled = [[cell.replace("{w0}", wijken[0]) for cell in row] for row in rows]
    response = _upload(client, token, _csv(filled), name=name)
    assert response.status_code == 422, response.text[:300]
    text = html.unescape(response.text)
    assert expected in text and name in text and "Oplossing:" in text
    assert "Traceback" not in text and "wijkradar-upload-" not in text
    assert client.get("/gemeente/GM0034/uploads.json").json() == before


def test_binary_and_oversized_files_are_refused(client: TestClient) -> None:
    token = _login(client, "analist")
    binary = _upload(client, token, b"\x00\x01PK\x03\x04" * 100, name="wmo.csv")
    assert binary.status_code == 422 and "geen tekstbestand" in binary.text
    huge = _upload(client, token, b"code;jaar;Wmo\r\n" + b"x" * (MAX_BYTES + 100_000))
    assert huge.status_code == 413 and "groter dan 5 MB" in huge.text
    empty = client.post("/gemeente/GM0034/uploads", data={"_token": token}, follow_redirects=False)
    assert empty.status_code == 422 and "geen bestand gekozen" in empty.text


def test_only_analisten_of_the_gemeente_upload_and_only_its_users_see(
    client: TestClient, wijken: list[str]
) -> None:
    token = _login(client, "analist")
    rows = [["code", "jaar", "Meldingen wijkteam"]] + [[w, "2024", "3"] for w in wijken]
    assert _upload(client, token, _csv(rows)).status_code == 303
    client.post("/uitloggen", data={"_token": token})
    reader_token = _login(client, "lezer")
    assert client.get("/gemeente/GM0034?thema=eigen-meldingen-wijkteam").status_code == 200
    assert _upload(client, reader_token, _csv(rows)).status_code == 403
    client.post("/uitloggen", data={"_token": reader_token})
    other_token = _login(client, "elders")
    for path in (
        "/gemeente/GM0034/uploads",
        "/gemeente/GM0034/uploads.csv",
        "/gemeente/GM0034.json?thema=eigen-meldingen-wijkteam",
        "/gemeente/GM0034.geojson?thema=eigen-meldingen-wijkteam",
    ):
        response = client.get(path)
        assert response.status_code == 403 and "Meldingen wijkteam" not in response.text, path
    assert _upload(client, other_token, _csv(rows)).status_code == 403
    own_gemeente = client.get("/gemeente/GM0363.json?thema=eigen-meldingen-wijkteam")
    assert own_gemeente.status_code == 404 and "Meldingen" not in own_gemeente.text


def test_an_excel_sheet_per_buurt_with_the_year_on_the_form(client: TestClient, upload_db: Path) -> None:
    from openpyxl import Workbook

    with Warehouse.open(upload_db, read_only=True) as wh:
        buurten = sorted(wh.regions.table(level="buurt", gemeente_code="GM0034")["code"])[:12]
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Buurtcode", "Buurtnaam", "Huishoudens in de schuldhulp"])
    for i, code in enumerate(buurten):
        sheet.append([code, f"Buurt {i}", i])
    data = io.BytesIO()
    book.save(data)
    token = _login(client, "analist")
    response = client.post(
        "/gemeente/GM0034/uploads",
        data={"_token": token, "jaar": "2025", "aandacht": "hoog"},
        files={"bestand": ("schuld.xlsx", data.getvalue(), "application/octet-stream")},
        follow_redirects=False,
    )
    assert response.status_code == 303, html.unescape(response.text)[-1500:]
    overview = client.get("/gemeente/GM0034.json?thema=eigen-huishoudens-in-de-schuldhulp").json()
    assert overview["areas"]["level"] == "buurt" and overview["areas"]["period"] == "2025"
    values = {r["code"]: r["value"] for r in overview["areas"]["rows"] if r["value"] is not None}
    assert values == {code: float(i) for i, code in enumerate(buurten)}
    listed = [u["theme"] for u in client.get("/gemeente/GM0034/uploads.json").json()]
    assert "own-huishoudens-in-de-schuldhulp" in listed
    with stores(upload_db) as (_, own):
        logged = [(e["user_name"], e["action"], e["object"]) for e in own.audit("GM0034")]
    assert ("analist", "upload", "own-huishoudens-in-de-schuldhulp") in logged


def test_a_damaged_workbook_names_no_server_path(client: TestClient) -> None:
    """A zip that is no workbook: the reader's message names the server's temporary file."""
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "<niet-af")
    token = _login(client, "analist")
    response = _upload(client, token, buffer.getvalue(), name="schuld.xlsx")
    assert response.status_code == 422, response.text[:300]
    text = html.unescape(response.text)
    assert "schuld.xlsx" in text and "Oplossing:" in text
    assert tempfile.gettempdir() not in text and "wijkradar-upload-" not in text and "upload.xlsx" not in text


@pytest.mark.parametrize("kind", ["bom", "rijen"])
def test_workbooks_are_bounded_before_they_are_parsed(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """Issue 25, finding 4: a 1.5 MB zip bomb of five million rows cost 13 s and 1.2 GB to refuse.

    The parser is replaced by one that fails the test: the refusal must come before it runs.
    """
    import fastexcel

    def parsed(*_: object, **__: object) -> None:
        raise AssertionError("the workbook was parsed")

    monkeypatch.setattr(fastexcel, "read_excel", parsed)
    header = cells("code", "jaar", "Huishoudens in de schuldhulp")
    if kind == "bom":  # a million identical rows: about 60 MB of XML in a 0.1 MB file
        body = workbook(iter([header, *[cells("BU00340211", "2025", "7")] * 1_000_000]))
        needle = "zip-bom"
    else:  # rows that differ, packed no tighter than a real sheet, one row over the limit
        body = workbook(cells(f"BU{i:08d}", "2025", str(i)) for i in range(20_002))
        needle = "meer dan 20000 rijen"
    token = _login(client, "analist")
    response = _upload(client, token, body, name="schuld.xlsx")
    assert response.status_code == 422, response.text[:300]
    assert needle in html.unescape(response.text) and "schuld.xlsx" in html.unescape(response.text)
    assert tempfile.gettempdir() not in html.unescape(response.text)


def test_ids_beyond_the_store_and_nul_characters_are_refused_alike(client: TestClient) -> None:
    """PostgreSQL answered 500 where SQLite answered 401 and 404 (CI runs this file on both)."""
    token = _login(client, "analist")
    for path in ("uploads/2147483648", "doelen/2147483648", "interventies/2147483648", "uploads/0"):
        response = client.post(f"/gemeente/GM0034/{path}/verwijderen", data={"_token": token})
        assert response.status_code == 422, (path, response.status_code)
    login = _token(client.get("/login"))
    refused = client.post(
        "/login",
        data={"name": "x\x00y", "password": "wrong-password", "_token": login},
        follow_redirects=False,
    )
    assert refused.status_code == 401

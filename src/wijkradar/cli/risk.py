"""Commands for risk models and priorities.

``train`` is the one that writes models; evaluate, model-card, priority and themes only read.
"""

from __future__ import annotations

import sys
from typing import Annotated

import pandas as pd
import typer

from wijkradar.cli.common import (
    MODEL_LEVELS,
    DbOption,
    Format,
    FormatOption,
    GroupOption,
    LevelOption,
    MeasureOption,
    PeriodOption,
    QuietOption,
    _db,
    _emit,
    _emit_json,
    _emit_record,
    _handled,
    _nl,
    _steps,
    app,
    err,
    level_choice,
    out,
)
from wijkradar.config import Settings
from wijkradar.errors import InputError, NotFoundError
from wijkradar.models.train import TRAIN_STEPS, evaluation, model_card, train_and_evaluate
from wijkradar.pages.model_card import render_markdown
from wijkradar.priority import priority_list, table_rows
from wijkradar.query import resolve_gemeente
from wijkradar.texts import COLUMN_NL, EXPECTATION_NL, NO_MODEL, WHY_NL, number_nl
from wijkradar.themes import load_themes
from wijkradar.warehouse import Warehouse


@app.command("evaluate")
def evaluate_cmd(
    measure: MeasureOption = "Eenzaam_28",
    group: GroupOption = "65+",
    level: LevelOption = "buurt",
    period: PeriodOption = None,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Toon de toetsing van het opgeslagen risicomodel (hele gemeenten buiten de training).

    Voorbeeld: wijkradar evaluate --measure Eenzaam_28 --group 65+ --level buurt
    """
    with _handled(), Warehouse.open(_db(db), read_only=True) as wh:
        result = evaluation(wh, measure, group, level, period)
    # One figure per line: some thirty columns side by side do not fit a terminal. Three decimals,
    # as goals are set in them (0.8496 is not 0.85).
    lines = [(COLUMN_NL.get(k, k), number_nl(v, 3) if isinstance(v, float) else v) for k, v in result.items()]
    _emit_record(result, fmt, lines, "Validatie")


@app.command("model-card")
def model_card_cmd(
    measure: MeasureOption = "Eenzaam_28",
    group: GroupOption = "65+",
    level: LevelOption = "buurt",
    period: PeriodOption = None,
    db: DbOption = None,
) -> None:
    """Toon de modelkaart (Markdown): wat het model schat, hoe goed, waarmee en de beperkingen.

    Voorbeeld: wijkradar model-card --measure Eenzaam_28 --group 65+ --level buurt > modelkaart.md
    """
    with _handled(), Warehouse.open(_db(db), read_only=True) as wh:
        card = model_card(wh, measure, group, level, period)
    sys.stdout.write(render_markdown(card))


@app.command("priority")
def priority_cmd(
    gemeente: Annotated[str, typer.Option("--gemeente", help="Naam of code van de gemeente")],
    thema: Annotated[str, typer.Option("--thema", help="Thema, bv. eenzaamheid (zie 'wijkradar themes')")],
    level: LevelOption = "buurt",
    period: PeriodOption = None,
    top: Annotated[int | None, typer.Option("--top", help="Alleen de eerste N")] = None,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Rangschik buurten of wijken van een gemeente op verwacht aantal getroffen inwoners.

    Voorbeeld: wijkradar priority --gemeente Almere --thema eenzaamheid --level wijk
    """
    with _handled(), Warehouse.open(_db(db), read_only=True) as wh:
        result = priority_list(wh, resolve_gemeente(wh, gemeente), thema, level=level, period=period, top=top)
    if fmt is Format.json:
        _emit_json(result)
        return
    rows = pd.DataFrame(result["rows"])
    if fmt is Format.csv:
        _emit(pd.DataFrame(table_rows(result["rows"])), fmt)
        return
    out.print(
        f"[bold]{result['label']}[/] in {result['gemeente_name']} ({result['gemeente']}), "
        f"{result['level']}, {result['period']} — model {result['model']['algorithm']}, "
        f"R² {_nl(result['model']['r2'] * 100)}% verklaard, "
        f"dekking 90%-interval {_nl(result['model']['coverage90'] * 100)}%",
        highlight=False,
    )
    shown = pd.DataFrame(
        {
            "#": rows["rank"],
            "gebied": rows["label"],
            "%": [_nl(v) for v in rows["rate"]],
            "90%-interval": [
                f"{_nl(lo)}–{_nl(hi)}" for lo, hi in zip(rows["lower"], rows["upper"], strict=True)
            ],
            "bron": rows["source"],
            f"inwoners {result['group']}": [_nl(v) for v in rows["residents"]],
            "verwacht aantal": [_nl(v) for v in rows["expected_affected"]],
            "kans bij de tien hoogste (%)": [_nl(None if v is None else v * 100) for v in rows["p_top10"]],
            "t.o.v. verwachting": [EXPECTATION_NL.get(e, "") for e in rows["expectation"]],
            "waarom": [
                "; ".join(f"{w['label']} ({'↑' if w['raises'] else '↓'})" for w in why) for why in rows["why"]
            ],
        }
    )
    _emit(shown, fmt)
    out.print(
        f"Inwoners: {result['residents_definition']}. "
        f"Bron 'peiling' = RIVM 50090NED; 'model' = schatting van wijkradar. Waarom: {WHY_NL}"
    )


@app.command("themes")
def themes_cmd(fmt: FormatOption = Format.table) -> None:
    """Toon de thema's (uit te breiden met een CSV via WIJKRADAR_THEMES).

    Voorbeeld: wijkradar themes
    """
    with _handled():
        themes = load_themes()
    frame = pd.DataFrame([t.__dict__ for t in themes.values()]).drop(columns=["upload"])
    if fmt is not Format.json:  # "name" is what one types (--thema), "label" what one reads
        frame = frame.rename(columns={"name": "thema", "label": "naam"})
    _emit(frame, fmt, title="Thema's")


@app.command("train")
def train_cmd(
    thema: Annotated[
        list[str] | None, typer.Option("--thema", help="Thema('s); standaard alle thema's")
    ] = None,
    measure: Annotated[
        str | None,
        typer.Option("--measure", help="Of een maat buiten de thema's, bv. Roker_11 (met --group)"),
    ] = None,
    group: Annotated[str | None, typer.Option("--group", help="Groep bij --measure, bv. 65+")] = None,
    level: Annotated[
        list[str] | None,
        typer.Option(
            "--level",
            "--niveau",
            help="Niveau(s); standaard buurt, wijk en gemeente",
            callback=level_choice(MODEL_LEVELS),
        ),
    ] = None,
    period: PeriodOption = None,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
    quiet: QuietOption = False,
) -> None:
    """Train, toets en bewaar risicomodellen (het enige commando dat modellen maakt).

    Voorbeeld: wijkradar train --thema eenzaamheid --level buurt
    """
    themes = load_themes()
    if (measure is None) != (group is None):
        raise typer.BadParameter("geef --measure en --group samen", param_hint="--measure/--group")
    names = thema or ([] if measure else [n for n, t in themes.items() if t.modelled])
    unknown = [name for name in names if name not in themes]
    with _handled():
        if unknown:
            raise NotFoundError("thema", unknown[0], themes)
        unmodelled = [name for name in names if not themes[name].modelled]
        if unmodelled:
            raise InputError(
                "--thema",
                f"thema '{unmodelled[0]}': {NO_MODEL['register']}",
                fix="train een thema van RIVM (wijkradar themes laat zien welke)",
            )
    targets = [(themes[n].measure_id, themes[n].population_group, themes[n].label) for n in names]
    if measure is not None and group is not None:
        targets.insert(0, (measure, group, f"{measure} {group}"))
    levels = level or ["buurt", "wijk", "gemeente"]
    minimum = Settings.from_env().min_residents
    results = []
    total = len(targets) * len(levels) * len(TRAIN_STEPS)
    with _handled(), Warehouse.open(_db(db)) as wh, _steps("Trainen", total, quiet) as steps:
        for measure_id, population_group, label in targets:
            for lvl in levels:
                steps.part(f"{label}, {lvl}: ")
                results.append(
                    train_and_evaluate(
                        wh, measure_id, population_group, lvl, period, min_residents=minimum, on_step=steps
                    )
                )
    if fmt is not Format.table:
        _emit(pd.DataFrame(results), fmt, title="Getraind")
        return
    _emit(pd.DataFrame(results)[TRAINED_COLUMNS], fmt, title="Getraind")
    err.print(
        "Alle cijfers per model: 'wijkradar evaluate --measure MAAT --group GROEP --level NIVEAU'; "
        "wat het model schat en waarmee: 'wijkradar model-card'.",
        highlight=False,
    )


TRAINED_COLUMNS = [  # what fits a terminal; --format json or csv gives every figure
    "measure",
    "group",
    "level",
    "n",
    "model",
    "r2",
    "coverage90",
    "forward_r2",
    "forward_coverage90",
    "forecast_periods",
]

"""The model card in words: what a model estimates, how well, from what, and what it cannot do.

The models layer stores the card as data (``card`` of a stored model, English keys); this module
writes it as Dutch Markdown for the site, `wijkradar model-card` and the report.
"""

from __future__ import annotations

import re
from typing import Any

from wijkradar.models.bottomup import algorithm, headline
from wijkradar.texts import METHOD_NL, number_nl


def _pct(value: float | None) -> str:
    return number_nl(value, 2, empty="—")


def render_markdown(card: dict[str, Any]) -> str:
    """Render a stored model card as Markdown (Dutch, for the people who use the estimates)."""
    chosen = headline(card)
    other = "glm" if card["model"] == "lightgbm" else "lightgbm"
    lines = [
        f"# Modelkaart: {card['measure']} ({card['group']}), {card['level']}, {card['period']}",
        "",
        "## Wat schat dit model",
        f"Het percentage **{card['measure']}** in de groep **{card['group']}** per "
        f"**{card['level']}** in "
        f"**{card['period']}**, ook voor gebieden zonder gepubliceerde peilingwaarde "
        f"({card.get('n_without_survey', '?')} van {card.get('n_estimated', '?')}).",
        "",
        "**Let op:** de doelwaarde is zelf een modelschatting. RIVM/CBS schatten 50090NED per buurt "
        "met een model op de Gezondheidsmonitor en registers; wijkradar valideert tegen die schattingen, "
        "niet tegen gemeten waarden. Een hoge overeenstemming zegt dus ook iets over de gelijkenis van "
        "de twee modellen.",
        "",
        "## Validatie (hele gemeenten buiten de training, "
        f"{card['folds']} delen, {card['n']} gebieden in {card['n_gemeenten']} gemeenten)",
        "",
        "| | R² | MAE | Spearman | kalibratie (helling) | dekking 90%-interval |",
        "|---|---|---|---|---|---|",
    ]
    below = card.get("bottom_up") or {}
    rows = [(algorithm(card), chosen, True)] if below.get("used") else []
    rows += [
        (name, card["validation"][name], not rows and name == card["model"])
        for name in (card["model"], other)
    ]
    if below and not below.get("used"):
        rows.append((f"{card['model']} + buurten", below["validation"], False))
    for name, m, used in rows:
        lines.append(
            f"| {name}{' (gekozen)' if used else ''} | {_pct(m['r2'])} | {_pct(m['mae'])} | "
            f"{_pct(m['spearman'])} | {_pct(m['calibration_slope'])} | {_pct(m.get('coverage90'))} |"
        )
    if card.get("baseline"):
        b = card["baseline"]
        lines.append(
            f"| alleen vorige peiling ({card['previous_period']}) | {_pct(b['r2'])} | {_pct(b['mae'])} | "
            f"{_pct(b['spearman'])} | {_pct(b['calibration_slope'])} | — |"
        )
    if card.get("baseline_missing"):
        lines.append("| alleen vorige peiling | — | — | — | — | — |")
        lines += ["", f"Geen vergelijking met de vorige peiling: {card['baseline_missing']}."]
    lines += [
        "",
        f"Gekozen op R² in de kruisvalidatie: **{algorithm(card)}**.",
        *_below_lines(card),
        *_validated_lines(card),
    ]
    if card.get("forward"):
        f = card["forward"]
        lines += [
            "",
            f"**Vooruit in de tijd:** getraind op de peiling van {f['fit_period']} (met de peiling ervoor "
            f"als invoer), voorspeld voor {f['predict_period']} en vergeleken met die peiling: "
            f"R² {_pct(f['r2'])}, MAE {_pct(f['mae'])}, Spearman {_pct(f['spearman'])}, dekking van de "
            f"90%-intervallen {_pct(f.get('coverage90'))}"
            + (
                f" (met de kleinere gebieden erbij: R² {_pct(f['r2_with_small_areas'])})"
                if f.get("r2_with_small_areas") is not None and card.get("n_validated", card["n"]) < card["n"]
                else ""
            )
            + (
                f"; het eigen model zonder de buurten haalt vooruit R² {_pct(f['r2_without_bottom_up'])}"
                if f.get("r2_without_bottom_up") is not None
                else ""
            )
            + ". Zo wordt het model tussen twee peilingen "
            "gebruikt; schattingen voor latere jaren (prognoses) krijgen intervallen uit deze fouten, "
            "breder naarmate de laatste peiling verder terug ligt.",
        ]
    elif card.get("forward_missing"):
        lines += ["", f"**Vooruit in de tijd:** niet getoetst: {card['forward_missing']}."]
    if card.get("forecast_periods"):
        read = card.get("forecast_inputs", {})
        years = [f"{p} (uit Kerncijfers {read[p]})" if read.get(p) else p for p in card["forecast_periods"]]
        lines += [
            "",
            "**Prognoses** (geen peiling, een modelschatting uit de laatste peiling en de nieuwste "
            f"Kerncijfers die er voor een gebied zijn) voor {'; '.join(years)}.",
        ]
    widths = ", ".join(
        f"{'met' if k == '1' else 'zonder'} vorige peiling: ± {number_nl(v)}"
        for k, v in sorted(card["interval_halfwidth_by_bin"].items())
    )
    lines += [
        "",
        "## Onzekerheid",
        "90%-voorspelintervallen zijn conform (split-conformal op de residuen buiten de training), "
        f"apart voor gebieden met en zonder vorige peiling: {widths} procentpunt. De gemeten dekking "
        "staat hierboven "
        f"({_pct(chosen.get('coverage90'))}).",
        "",
        "## Invoer",
        f"{card['n_features']} kenmerken: "
        + ", ".join(f"{_family_name(k)} ({v})" for k, v in card["feature_families"].items())
        + ". Geen enkel cijfer uit dezelfde peiling en periode als de doelwaarde is invoer. "
        + (
            "Bij het leren telt elk gebied naar zijn aantal inwoners in de groep (lightgbm; het lineaire "
            "model ongewogen)."
        ),
        "",
        *_indeling_lines(card.get("boundaries") or {}),
        "Belangrijkste kenmerken (gemiddelde absolute bijdrage, procentpunt):",
        "",
    ]
    for item in card.get("feature_importance", [])[:10]:
        lines.append(f"- {item['label']}: {number_nl(item['mean_abs_contribution'], 2)}")
    lines += [
        "",
        "## Beperkingen",
        "- Kerncijfers per buurt zijn in de meegeleverde data alleen voor 2017 en voor een deel van de "
        "buurten beschikbaar; met de volledige Kerncijfers per buurt (84799NED of later, van de CBS "
        "open-data API) worden schattingen voor buurten zonder vorige peiling beter.",
        "- Buurtgrenzen veranderen: cijfers van een andere indeling zijn omgerekend of als ongewijzigd "
        "aangenomen waar niets op een wijziging wijst (zie Indeling); dat laatste is een aanname.",
        "- De schattingen zijn bedoeld om gebieden te vergelijken en gesprekken te richten, niet om "
        "individuen te beoordelen. Verbanden zijn geen oorzaken.",
    ]
    if "model_id" in card:
        seconds = number_nl(card.get("train_seconds"), 1, empty="?")
        lines += ["", f"Model {card['model_id']}, getraind in {seconds} s."]
    return "\n".join(lines) + "\n"


def _below_lines(card: dict[str, Any]) -> list[str]:
    """Say how the buurten's estimates were tried for a wijk or gemeente model, and what they did."""
    below = card.get("bottom_up")
    if not below:
        return []
    area = "wijk" if card["level"] == "wijk" else "gemeente"
    what = (
        f"Opbouw uit buurten: voor {number_nl(below['n_areas'], 0)} gebieden is de schatting het gemiddelde "
        f"van het eigen {area}model en de schattingen van het buurtmodel voor de buurten in het gebied "
        "(gewogen naar het aantal inwoners in de groep); de andere houden het eigen model. "
    )
    figures = (
        f"Kruisgevalideerd: alleen het eigen model R² {_pct(card['validation'][card['model']]['r2'])}, "
        f"het gemiddelde {_pct(below['validation']['r2'])}, de buurten alleen "
        f"{_pct(below.get('r2_average'))}; het buurtmodel zelf, over buurten, {_pct(below['r2_buurt_model'])}"
        + (f", met {below['n_features']} kenmerken van de buurten" if below.get("n_features") else "")
        + ". "
    )
    verdict = (
        "Het gemiddelde is beter en wordt gebruikt."
        if below["used"]
        else "Het gemiddelde is niet beter; het eigen model wordt gebruikt."
    )
    return ["", what + figures + verdict]


def _validated_lines(card: dict[str, Any]) -> list[str]:
    """Say which regions the figures are over: those that get an estimate (cards from before: all)."""
    validated = card.get("n_validated")
    if validated is None or validated >= card["n"]:
        return []
    chosen = headline(card)
    return [
        "",
        f"De cijfers gelden voor de {number_nl(validated, 0)} gebieden die een schatting krijgen "
        f"(minstens {card['min_residents']} inwoners in de groep, of een onbekend aantal); het model "
        f"leert van alle {number_nl(card['n'], 0)}. Met de {number_nl(card['n'] - validated, 0)} "
        f"kleinere gebieden erbij, die geen schatting krijgen, is de R² "
        f"{_pct(chosen.get('r2_with_small_areas'))}.",
    ]


def _indeling_lines(summary: dict[str, Any]) -> list[str]:
    """Say what it took to bring every input onto the target's indeling."""
    if not summary:
        return []
    lines = [
        f"Alle invoer staat op de gemeentelijke indeling van {summary['boundary_year']}. Cijfers van andere "
        "jaren zijn daarop gebracht:",
        "",
    ]
    for key, n in sorted(summary.get("moved", {}).items()):
        year, method = key.split(" ", 1)
        lines.append(f"- {number_nl(n, 0)} waarden van indeling {year}: {METHOD_NL.get(method, method)}")
    for year, n in sorted(summary.get("left_out", {}).items(), key=lambda kv: int(kv[0])):
        if n:
            when = "onbekend jaar" if int(year) == 0 else f"indeling {year}"
            lines.append(
                f"- {number_nl(n, 0)} waarden van {when} weggelaten: niet om te rekenen (code betekent "
                "mogelijk een ander gebied, of een deel van het gebied heeft geen waarde)"
            )
    if len(lines) == 2:
        lines.append("- geen: alle invoer stond al op deze indeling")
    return [*lines, ""]


def _family_name(prefix: str) -> str:
    """Name a feature family by its prefix (``prev2``: the round before the previous one)."""
    found = re.fullmatch(r"(prev|chg)(\d+)", prefix)
    if found is None:
        return _FAMILY.get(prefix, prefix)
    back = int(found.group(2)) - 1
    what = "peiling" if found.group(1) == "prev" else "verandering sinds de peiling"
    return f"{what} {back} {'ronde' if back == 1 else 'rondes'} voor de vorige"


_FAMILY = {
    "prev": "vorige peiling",
    "kwb": "kerncijfers",
    "gm": "gemeente",
    "wk": "wijk",
    "nb": "naburige gebieden",
}


def reliability_nl(metrics: dict[str, Any], label: str) -> str:
    """Say in plain words how far a model's estimates can be trusted, for readers without statistics.

    The report's appendix ("Hoe betrouwbaar zijn deze cijfers?") shows this; the technical card
    (:func:`render_markdown`) stays on the site's sources page.

    >>> words = reliability_nl({"level": "buurt", "period": "2020", "n": 1351, "mae": 2.16,
    ...                         "coverage90": 0.9}, "Eenzaamheid onder 65-plussers")
    >>> words.startswith("Eenzaamheid onder 65-plussers per buurt (2020): waar geen peilingwaarde")
    True
    >>> "gemiddeld 2,2 procentpunt naast de peiling, en valt 90 van de 100 peilingwaarden" in words
    True
    >>> reliability_nl({"level": "wijk", "period": "2020", "n": 10, "mae": 2.0, "forward_mae": 2.4,
    ...                 "forward_periods": "2016 -> 2020"}, "X").split(". ")[-1][:54]
    'Vooruit getoetst, alleen met wat er in 2016 bekend was'
    """
    text = (
        f"{label} per {metrics['level']} ({metrics['period']}): waar geen peilingwaarde is, schat wijkradar "
        f"het percentage. Getoetst op hele gemeenten die het model niet kende "
        f"({number_nl(metrics.get('n'), 0)} gebieden), ligt een schatting gemiddeld "
        f"{number_nl(metrics.get('mae'))} procentpunt naast de peiling"
    )
    coverage = metrics.get("coverage90")
    if coverage is not None:
        share = number_nl(100 * coverage, 0)
        text += f", en valt {share} van de 100 peilingwaarden binnen de marge die erbij staat"
    text += "."
    if metrics.get("forward_mae") is not None and metrics.get("forward_periods"):
        known = str(metrics["forward_periods"]).split("->")[0].strip()  # "2016 -> 2020": what was known
        text += (
            f" Vooruit getoetst, alleen met wat er in {known} bekend was, lag een "
            f"schatting gemiddeld {number_nl(metrics['forward_mae'])} procentpunt naast de peiling van "
            f"{metrics['period']}."
        )
    return text

"""Plotly figures as plain JSON specs, rendered in the browser by the vendored plotly.min.js.

Maps are in :mod:`wijkradar.pages.maps`. Areas without a value are drawn in grey with a dark
outline and a "geen gegevens" label, never as zero.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path
from typing import Any

MISSING_COLOUR = "#d9d9d9"
FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 14, "color": "#1a1a1a"}
# Plotly's own JavaScript, served by the web app and embedded in the report: never from a CDN.
_PLOTLY = find_spec("plotly")
PLOTLY_JS = (
    Path(_PLOTLY.origin if _PLOTLY and _PLOTLY.origin else ".").parent / "package_data" / "plotly.min.js"
)
CONFIG = {"displaylogo": False, "responsive": True, "locale": "nl"}


def _nl(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}".replace(".", ",")


def nl_pct(value: float | None, unit: str = "%") -> str:
    """Show a value as maps and charts do: one decimal, decimal comma, its unit."""
    return f"{_nl(value)}{unit if value is not None else ''}"


def plain(text: object) -> str:
    """Make text from users plain text for Plotly, which draws tags such as ``<a href>`` in titles.

    >>> plain('<a href="https://x.example">Klik</a>')
    '&lt;a href="https://x.example"&gt;Klik&lt;/a&gt;'
    """
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def suffix(theme: dict[str, Any]) -> str:
    """Return the unit written after a number: ``%`` for a percentage, nothing where the label names it."""
    return "%" if theme.get("unit", "%") == "%" and not theme.get("upload") else ""


def _hover(row: dict[str, Any], unit: str = "%") -> str:
    name = plain(row.get("label") or row["code"])
    if row.get("value") is None:
        return f"<b>{name}</b><br>geen gegevens ({row.get('status', 'ontbreekt')})"
    text = f"<b>{name}</b><br>{_nl(row['value'])}{unit}"
    if row.get("lower") is not None:
        text += f" (90%-interval model {_nl(row['lower'])}–{_nl(row['upper'])})"
    return text + f"<br>bron: {row['source']}"


def _axis_title(theme: dict[str, Any]) -> str:
    """Name the value axis: a percentage by its theme, a rate by its unit.

    >>> _axis_title({"label": "Eenzaamheid", "unit": "%"})
    'Eenzaamheid (%)'
    >>> _axis_title({"label": "Wmo-cliënten per 1 000 inwoners", "unit": "per 1 000 inwoners"})
    'per 1 000 inwoners'
    """
    unit = str(theme.get("unit") or "%")
    return plain(theme["label"]) + " (%)" if unit == "%" else unit


def ranked_bars(rows: list[dict[str, Any]], theme: dict[str, Any]) -> dict[str, Any]:
    """Draw the fallback without boundaries: areas ranked by value, with model intervals as error bars."""
    shown = [r for r in rows if r["value"] is not None][:40]
    shown.reverse()  # largest at the top of a horizontal bar chart
    labels = [plain(r.get("label") or r["code"]) for r in shown]
    colours = ["#b2182b" if r["survey"] is not None else "#ef8a62" for r in shown]
    error = {
        "type": "data",
        "symmetric": False,
        "array": [(r["upper"] - r["value"]) if r.get("upper") is not None else 0 for r in shown],
        "arrayminus": [(r["value"] - r["lower"]) if r.get("lower") is not None else 0 for r in shown],
        "color": "#404040",
        "thickness": 1,
    }
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "x": [r["value"] for r in shown],
            "y": labels,
            "hovertext": [_hover(r, suffix(theme)) for r in shown],
            "hovertemplate": "%{hovertext}<extra></extra>",
            "textposition": "none",
            "marker": {"color": colours},
            "error_x": error,
            "name": plain(theme["label"]),
        }
    ]
    layout = {
        "margin": {"l": 180, "r": 20, "t": 40, "b": 40},  # the top margin keeps the toolbar off the bars
        "height": max(300, 24 * len(shown) + 110),
        "xaxis": {
            # a rate's unit ("per 1 000 huishoudens"): its label is the caption's and too long for the axis
            "title": {"text": _axis_title(theme)},
            "ticksuffix": suffix(theme),
            "separatethousands": True,
        },
        "yaxis": {"dtick": 1, "automargin": True},  # every bar its label
        "font": FONT,
        "showlegend": False,
    }
    return {"data": data, "layout": layout, "config": CONFIG}


def key_trend(figures: list[dict[str, Any]], name: str, unit: str = "%") -> dict[str, Any] | None:
    """Draw the theme's rounds (or years): the gemeente against NL and the similar gemeenten."""
    if len(figures) < 2:
        return None
    shown = _nl if unit == "%" else (lambda v: "–" if v is None else f"{v:.0f}")
    values = [
        float(k[key])
        for k in figures
        for key in ("gemeente", "national", "similar_mean")
        if k[key] is not None
    ]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    pad = max(high - low, 1.0) * 0.15  # room for the value labels above the highest point
    lines = (
        ("gemeente", name, "#8c1d18", "solid"),
        ("national", "Nederland", "#1a1a1a", "dash"),
        ("similar_mean", "vergelijkbare gemeenten", "#4a7ab5", "dot"),
    )
    # Only the gemeente's own line carries its values: three rows of labels over close lines overlap,
    # and the table beside the chart has every value.
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers+text" if key == "gemeente" else "lines+markers",
            "x": [k["period"] for k in figures],
            "y": [k[key] for k in figures],
            "text": [shown(k[key]) for k in figures] if key == "gemeente" else None,
            "textposition": "top center",
            "name": label,
            "line": {"color": colour, "dash": dash},
        }
        for key, label, colour, dash in lines
        if any(k[key] is not None for k in figures)
    ]
    layout = {
        "height": 320,
        "margin": {"l": 80, "r": 20, "t": 50, "b": 40},  # the top margin keeps the toolbar off the labels
        "xaxis": {"type": "category"},
        "yaxis": {
            "ticksuffix": "%" if unit == "%" else "",
            "title": {"text": "" if unit == "%" else unit},
            "range": [low - pad, high + 2 * pad],
            "separatethousands": True,
        },
        "separators": ", ",
        "font": FONT,
        "legend": {"orientation": "h", "y": -0.3},
    }
    return {"data": data, "layout": layout, "config": CONFIG}


def trends(items: list[dict[str, Any]], limit: int = 8) -> dict[str, Any] | None:
    """Survey values across periods for the region (one line per measure and group)."""
    if not items:
        return None
    preferred = (
        "Eenzaam_28",
        "ErnstigZeerErnstigEenzaam_29",
        "MoeiteMetRondkomen_38",
        "Mantelzorger_32",
        "HoogRisicoOpAngstOfDepressie_25",
        "ErvarenGezondheidGoedZeerGoed_4",
    )
    chosen = sorted(items, key=lambda t: (t["measure"] not in preferred, t["measure"], t["group"]))[:limit]
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": [p["period"] for p in t["points"]],
            "y": [p["value"] for p in t["points"]],
            "name": plain(f"{t['label']} {t['group']}"),
            "hovertemplate": "%{y:.1f}%<extra>%{fullData.name}</extra>",
        }
        for t in chosen
    ]
    layout = {
        "height": 420,
        "margin": {"l": 50, "r": 10, "t": 10, "b": 40},
        "xaxis": {"type": "category", "title": {"text": "peiling"}},
        "yaxis": {"ticksuffix": "%"},
        "font": FONT,
        "legend": {"orientation": "h", "y": -0.2},
    }
    return {"data": data, "layout": layout, "config": CONFIG}


def goal_path(goal: dict[str, Any]) -> dict[str, Any]:
    """Measured values with their 90% margins against the straight path from baseline to target."""
    points = [p for p in goal["progress"]["points"] if p["value"] is not None]
    base_year = int(str(goal["baseline_period"])[:4])
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines",
            "x": [base_year, int(goal["target_year"])],
            "y": [goal["baseline_value"], goal["target_value"]],
            "line": {"dash": "dash", "color": "#4a4a4a"},
            "name": "vereist pad naar de streefwaarde",
            "hovertemplate": "vereist %{x}: %{y:.1f}<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": [int(p["period"][:4]) for p in points],
            "y": [p["value"] for p in points],
            "error_y": {
                "type": "data",
                "array": [p["halfwidth"] or 0 for p in points],
                "color": "#8c1d18",
                "thickness": 1.5,
            },
            "marker": {"color": "#8c1d18", "size": 9},
            "line": {"color": "#8c1d18"},
            "name": "gemeten (met 90%-marge)",
            "hovertemplate": "gemeten %{x}: %{y:.1f}<extra></extra>",
        },
    ]
    forecast = goal["progress"].get("forecast")
    if forecast:  # a model's prognose: open marker, dotted margin, never joined to the measurements
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": [int(forecast["period"][:4])],
                "y": [forecast["value"]],
                "error_y": {
                    "type": "data",
                    "array": [forecast["halfwidth"]],
                    "color": "#6b6b6b",
                    "thickness": 1,
                },
                "marker": {"symbol": "diamond-open", "color": "#4a4a4a", "size": 11, "line": {"width": 2}},
                "name": "prognose (model, geen meting)",
                "hovertemplate": "prognose %{x}: %{y:.1f} (geen meting)<extra></extra>",
            }
        )
    layout = {
        "height": 300,
        "margin": {"l": 50, "r": 10, "t": 10, "b": 40},
        "xaxis": {
            "dtick": 1,
            "tickformat": "d",
            "range": [base_year - 0.5, int(goal["target_year"]) + 0.5],
        },
        "yaxis": {"title": {"text": plain(goal.get("measure_label") or goal["measure_id"])}},
        "font": FONT,
        "legend": {"orientation": "h", "y": -0.3},
    }
    return {"data": data, "layout": layout, "config": CONFIG}

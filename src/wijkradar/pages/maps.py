"""Maps with bearings, drawn as SVG by Plotly's geo traces: nothing is fetched from outside.

A buurt map shows the buurten coloured by the theme's value, the wijk outlines and wijk names over
them, and the gemeente's outline, so that a reader finds their way without a base map. The wijk and
gemeente outlines are the buurten dissolved per wijk and for the whole gemeente, so they always fit
the buurten drawn. The legend names the measure, the group and the period; the hover text keeps the
survey, the model's estimate and its interval apart.

Plotly's geo traces are drawn by d3, which wants the outer ring of a polygon clockwise (GeoJSON's
convention is the opposite): the figure gets its own re-oriented copy of the shapes.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import shapely
from shapely.geometry import mapping, shape

from wijkradar.pages.charts import CONFIG, FONT, MISSING_COLOUR, nl_pct, plain, suffix
from wijkradar.regions import is_level, wijk_of

OUTLINE = "#1a1a1a"


def choropleth(
    geojson: dict[str, Any], theme: dict[str, Any], wijk_names: dict[str, str] | None = None
) -> dict[str, Any]:
    """Draw a map of the areas coloured by the theme's value, with wijk and gemeente outlines."""
    features = [_clockwise(f) for f in geojson["features"]]
    known = [f for f in features if f["properties"]["value"] is not None]
    unknown = [f for f in features if f["properties"]["value"] is None]
    unit = suffix(theme)
    names = wijk_names or {}
    data: list[dict[str, Any]] = []
    if known:
        colours = {
            "z": [f["properties"]["value"] for f in known],
            "colorscale": "YlOrRd",
            # YlOrRd runs from dark red (0) to light yellow (1): reversed, the values that need
            # attention are the darkest.
            "reversescale": theme["attention_when"] == "high",
            "colorbar": {  # below the map, so a phone's width is the map's
                "title": {"text": _legend(theme, known, unit), "side": "top"},
                "ticksuffix": unit,
                "orientation": "h",
                "x": 0.5,
                "xanchor": "center",
                "y": 0,
                "yanchor": "top",
                "len": 0.7,
                "thickness": 12,
            },
        }
        data.append(_areas(known, plain(theme["label"]), "#ffffff", 0.6, colours, unit, names))
    if unknown:
        grey = {"z": [0] * len(unknown), "colorscale": [[0, MISSING_COLOUR], [1, MISSING_COLOUR]]}
        data.append(
            _areas(unknown, "geen gegevens", "#6b6b6b", 1.0, {**grey, "showscale": False}, unit, names)
        )
    data.extend(_bearings(features, names))
    layout = {
        "geo": {
            "fitbounds": "locations",
            "visible": False,
            "projection": {"type": "mercator"},
            "bgcolor": "rgba(0,0,0,0)",
        },
        "margin": {"l": 0, "r": 0, "t": 36, "b": 95},  # the toolbar sits above the map, not on it
        "height": 600,
        "font": FONT,
        "showlegend": False,
        "dragmode": "pan",
    }
    return {
        "data": data,
        "layout": layout,
        "config": {**CONFIG, "modeBarButtonsToRemove": ["select2d", "lasso2d"]},
    }


def _legend(theme: dict[str, Any], known: list[dict[str, Any]], unit: str) -> str:
    """Title the colour scale with the measure, and below it the group and the period of the values."""
    periods = Counter(str(f["properties"].get("period") or "") for f in known)
    period = periods.most_common(1)[0][0] if periods else ""
    words = plain(theme["label"])
    group = theme.get("group") if theme.get("group") not in (None, "", "totaal") else ""
    detail = ", ".join(p for p in (f"groep {group}" if group else "", period) if p)
    return f"{words}<br>{detail}{' (' + unit + ')' if unit else ''}"


def _areas(
    features: list[dict[str, Any]],
    name: str,
    line: str,
    width: float,
    colours: dict[str, Any],
    unit: str,
    wijk_names: dict[str, str],
) -> dict[str, Any]:
    return {
        "type": "choropleth",
        "geojson": {"type": "FeatureCollection", "features": features},
        "featureidkey": "id",
        "locations": [f["id"] for f in features],
        "text": [
            hover(f["properties"], unit, wijk_names.get(wijk_of(str(f["id"])) or "", "")) for f in features
        ],
        "hovertemplate": "%{text}<extra></extra>",
        "marker": {"line": {"color": line, "width": width}},
        "name": name,
        **colours,
    }


def hover(row: dict[str, Any], unit: str = "%", wijk: str = "") -> str:
    """Hover text that keeps the survey, the model's estimate and its interval apart.

    >>> hover({"code": "BU1", "label": "Centrum (BU1)", "value": 48.2, "survey": 48.2, "estimate": 47.0,
    ...        "lower": 43.1, "upper": 50.9, "period": "2020", "source": "peiling RIVM 50090NED 2020"})
    '<b>Centrum (BU1)</b><br>peiling 2020: 48,2%<br>model: 47,0% (90%-interval 43,1–50,9)<br>kleur: peiling'
    """
    name = plain(row.get("label") or row["code"])
    if wijk and is_level(row["code"], "buurt"):
        name += f"<br>wijk {short_wijk_name(wijk)}"
    if row.get("value") is None:
        return f"<b>{name}</b><br>geen gegevens ({row.get('status', 'ontbreekt')})"
    lines = [f"<b>{name}</b>"]
    period = row.get("period") or ""
    survey, estimate = row.get("survey"), row.get("estimate")
    if survey is None and estimate is None:
        return f"<b>{name}</b><br>{nl_pct(row['value'], unit)} ({row.get('source', '')})"
    measured = "registratie" if str(row.get("source", "")).startswith("registratie") else "peiling"
    lines.append(f"{measured} {period}: {nl_pct(survey, unit)}" if survey is not None else "geen peiling")
    if estimate is not None:
        interval = (
            f" (90%-interval {nl_pct(row['lower'], '')}–{nl_pct(row['upper'], '')})"
            if row.get("lower") is not None
            else ""
        )
        lines.append(f"model: {nl_pct(estimate, unit)}{interval}")
    lines.append(f"kleur: {measured if survey is not None else 'model'}")
    return "<br>".join(lines)


def _bearings(features: list[dict[str, Any]], wijk_names: dict[str, str]) -> list[dict[str, Any]]:
    """Wijk outlines and names (on a buurt map) and the gemeente's outline, as lines and text."""
    shapes = {str(f["id"]): shape(f["geometry"]) for f in features}
    if not shapes:
        return []
    traces = []
    if all(is_level(code, "buurt") for code in shapes):
        parts: dict[str, list[Any]] = {}
        for code, geometry in shapes.items():
            parts.setdefault(wijk_of(code) or code, []).append(geometry)
        # The shapes are on a 1e-5 degree grid already (see views.areas_geojson): a plain union.
        wijken = {code: shapely.union_all(found) for code, found in parts.items()}
        traces.append(_lines(list(wijken.values()), 1.6, "wijkgrenzen"))
    else:
        wijken = {code: geometry for code, geometry in shapes.items() if is_level(code, "wijk")}
    gemeente = shapely.union_all(list(wijken.values()) or list(shapes.values()))
    traces.append(_lines([gemeente], 3.0, "gemeentegrens"))
    named = _placed(wijken, wijk_names, gemeente)
    if named:
        traces.append(
            {
                "type": "scattergeo",
                "mode": "text",
                "lon": [round(p.x, 5) for _, p in named],
                "lat": [round(p.y, 5) for _, p in named],
                "text": [n for n, _ in named],
                "textfont": {"size": 12, "color": OUTLINE, "family": FONT["family"]},
                "hoverinfo": "skip",
                "name": "wijknamen",
            }
        )
    return traces


def _placed(wijken: dict[str, Any], names: dict[str, str], gemeente: Any) -> list[tuple[str, Any]]:
    """Return the wijk labels that fit: largest wijken first, none on top of another.

    A label needs its wijk to be at least 1% of the gemeente and to stand clear of the labels
    already placed (a twelfth of the map's diagonal); the others are in the hover text.
    """
    xmin, ymin, xmax, ymax = gemeente.bounds
    clear = ((xmax - xmin) ** 2 + (ymax - ymin) ** 2) ** 0.5 / 12
    placed: list[tuple[str, Any]] = []
    for code, geometry in sorted(wijken.items(), key=lambda item: -item[1].area):
        point = geometry.representative_point()
        name = short_wijk_name(names.get(code, ""))
        if (
            name
            and geometry.area >= gemeente.area / 100
            and all(point.distance(p) > clear for _, p in placed)
        ):
            placed.append((name, point))
    return placed


def short_wijk_name(name: str) -> str:
    """Drop the number CBS puts before many wijk names.

    >>> short_wijk_name("Wijk 02 Almere Stad"), short_wijk_name("Kralingen-Crooswijk")
    ('Almere Stad', 'Kralingen-Crooswijk')
    """
    return re.sub(r"^Wijk \d+\s+", "", name).strip()


def _lines(geometries: list[Any], width: float, name: str) -> dict[str, Any]:
    """Draw the boundaries of polygons as one line trace (rings separated by gaps)."""
    lon: list[float | None] = []
    lat: list[float | None] = []
    for ring in (r for g in geometries for r in _rings(g)):
        xs, ys = ring.xy
        lon.extend([*(round(x, 5) for x in xs), None])
        lat.extend([*(round(y, 5) for y in ys), None])
    return {
        "type": "scattergeo",
        "mode": "lines",
        "lon": lon,
        "lat": lat,
        "line": {"color": OUTLINE, "width": width},
        "hoverinfo": "skip",
        "name": name,
    }


def _rings(geometry: Any) -> list[Any]:
    polygons = getattr(geometry, "geoms", [geometry])
    return [ring for p in polygons if p.geom_type == "Polygon" for ring in (p.exterior, *p.interiors)]


def _clockwise(feature: dict[str, Any]) -> dict[str, Any]:
    oriented = shapely.orient_polygons(shape(feature["geometry"]), exterior_cw=True)
    return {**feature, "geometry": mapping(oriented)}

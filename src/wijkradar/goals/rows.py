"""Stored rows as plain, JSON-ready dicts (dates as ISO text, missing as None)."""

from __future__ import annotations

from typing import Any

from wijkradar.jsonable import to_jsonable


def plain_row(row: dict[Any, Any]) -> dict[str, Any]:
    """Return a stored row with plain Python values: ISO dates, None for missing, ints for numpy ints."""
    return {str(k): to_jsonable(v) for k, v in row.items()}

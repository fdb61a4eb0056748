"""Stored rows as plain, JSON-ready dicts (dates as ISO text, missing as None)."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import numpy as np
import pandas as pd


def plain_row(row: dict[Any, Any]) -> dict[str, Any]:
    """Return a stored row with plain Python values: ISO dates, None for missing, ints for numpy ints."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
            value = None
        elif isinstance(value, np.integer):
            value = int(value)
        elif isinstance(value, pd.Timestamp):
            value = value.date().isoformat()
        elif isinstance(value, date):
            value = value.isoformat()
        out[str(key)] = value
    return out

"""One way to turn what pandas, numpy and DuckDB hand back into plain JSON-ready Python values."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from typing import Any, Final

import numpy as np
import pandas as pd


def to_jsonable(value: Any) -> Any:
    """Return ``value`` ready for JSON, all the way down dicts, lists and tuples.

    Missing values (NaN, NA, NaT, infinities) become None, numpy numbers Python numbers and
    dates ISO text.

    Examples
    --------
    >>> to_jsonable({"a": float("nan"), "b": np.int64(3), "c": [pd.NA, 1.5]})
    {'a': None, 'b': 3, 'c': [None, 1.5]}
    >>> to_jsonable(pd.Timestamp("2024-01-02"))
    '2024-01-02'
    """
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:  # most values: as they are
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def number_or_none(value: Any) -> float | None:
    """Return a number as a float, or None when it is missing.

    Examples
    --------
    >>> number_or_none(np.float32(2.5)), number_or_none(float("nan")), number_or_none(None)
    (2.5, None, None)
    """
    plain = to_jsonable(value)
    return None if plain is None else float(plain)


ESCAPES: Final = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def script_json(value: Any) -> str:
    """Return JSON that is safe inside an HTML ``<script>`` element.

    ``<``, ``>`` and ``&`` become Unicode escapes, so a name such as ``</script><script>...`` in
    the data stays text in the script instead of ending it.

    >>> "</" in script_json({"name": "</script><script>alert(1)</script>"})
    False
    >>> json.loads(script_json({"name": "a<b"}))["name"]
    'a<b'
    """
    text = json.dumps(to_jsonable(value), ensure_ascii=False, allow_nan=False)
    for char, escaped in ESCAPES.items():
        text = text.replace(char, escaped)
    return text

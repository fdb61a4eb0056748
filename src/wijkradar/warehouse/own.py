"""Goals and interventions as versions before 0.3 kept them in the warehouse, read once to move them.

They now live in the operational store (:mod:`wijkradar.appdb`); the tables stay in the file so
an older warehouse keeps its schema, and :meth:`LegacyOwnData.plan` hands their rows over.
"""

from __future__ import annotations

import json
from typing import Any

from wijkradar.jsonable import to_jsonable
from wijkradar.warehouse.core import Part


class LegacyOwnData(Part):
    """The goals and interventions an older warehouse holds."""

    def plan(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Return every stored goal and intervention (lists decoded, dates as ISO text)."""
        out: list[list[dict[str, Any]]] = []
        for table, key in (("goals", "goal_id"), ("interventions", "intervention_id")):
            frame = self._frame(f"SELECT * FROM {table} ORDER BY {key}")  # noqa: S608  # fixed names
            rows = []
            for record in frame.to_dict("records"):
                row = {str(k): to_jsonable(v) for k, v in record.items()}
                for column in ("area_codes", "goal_ids"):
                    if column in row:
                        row[column] = json.loads(row[column])
                rows.append(row)
            out.append(rows)
        return out[0], out[1]

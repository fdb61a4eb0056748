"""The own-data repository: a gemeente's goals and interventions, the rows its users edit.

Rows come back as plain dicts (ISO dates, None for missing, area codes and linked goals as lists)
and go in the same way; the JSON columns are encoded and decoded here only. Every method names
what it changes, so another store (the server's operational database) can take this over whole.
"""

from __future__ import annotations

import json
from typing import Any, Final

from wijkradar.jsonable import to_jsonable
from wijkradar.warehouse.core import Core, now, where

LISTS: Final = ("area_codes", "goal_ids")  # stored as JSON text, handed out as lists


class OwnDataRepository(Core):
    """Goals and interventions per gemeente."""

    def goals(self, gemeente_code: str | None = None) -> list[dict[str, Any]]:
        """Return the goals, optionally of one gemeente, oldest first."""
        return self._own_rows("goals", "goal_id", gemeente_code)

    def interventions(self, gemeente_code: str | None = None) -> list[dict[str, Any]]:
        """Return the interventions, optionally of one gemeente, oldest first."""
        return self._own_rows("interventions", "intervention_id", gemeente_code)

    def add_goal(self, record: dict[str, Any]) -> int:
        """Store a new goal and return its id (call inside a transaction)."""
        return self._insert_own("goals", "goal_id", record)

    def change_goal(self, goal_id: int, record: dict[str, Any]) -> None:
        """Replace the fields of one goal."""
        columns, values = _encoded(record)
        assignments = ", ".join(f"{column} = ?" for column in columns)
        self.con.execute(f"UPDATE goals SET {assignments} WHERE goal_id = ?", [*values, goal_id])  # noqa: S608

    def remove_goal(self, goal_id: int) -> None:
        """Remove one goal; interventions linked to it keep their other links."""
        for intervention_id, goal_ids in self.con.execute(
            "SELECT intervention_id, goal_ids FROM interventions"
        ).fetchall():
            linked = [int(g) for g in json.loads(goal_ids)]
            if goal_id in linked:
                self.con.execute(
                    "UPDATE interventions SET goal_ids = ? WHERE intervention_id = ?",
                    [json.dumps([g for g in linked if g != goal_id]), intervention_id],
                )
        self.con.execute("DELETE FROM goals WHERE goal_id = ?", [goal_id])

    def add_intervention(self, record: dict[str, Any]) -> int:
        """Store a new intervention and return its id (call inside a transaction)."""
        return self._insert_own("interventions", "intervention_id", record)

    def remove_intervention(self, intervention_id: int) -> None:
        """Remove one intervention."""
        self.con.execute("DELETE FROM interventions WHERE intervention_id = ?", [intervention_id])

    def remove_plan(self, gemeente_code: str) -> None:
        """Remove all goals and interventions of a gemeente (before an import that replaces them)."""
        for table in ("interventions", "goals"):
            self.con.execute(f"DELETE FROM {table} WHERE gemeente_code = ?", [gemeente_code])  # noqa: S608

    def _own_rows(self, table: str, key: str, gemeente_code: str | None) -> list[dict[str, Any]]:
        clause, params = where(gemeente_code=gemeente_code)
        frame = self._frame(f"SELECT * FROM {table} {clause} ORDER BY {key}", params)  # noqa: S608
        rows = []
        for record in frame.to_dict("records"):
            row = {str(k): to_jsonable(v) for k, v in record.items()}
            for column in LISTS:
                if column in row:
                    row[column] = json.loads(row[column])
            rows.append(row)
        return rows

    def _insert_own(self, table: str, key: str, record: dict[str, Any]) -> int:
        columns, values = _encoded(record)
        row = self.con.execute(
            f"INSERT INTO {table} ({', '.join(columns)}, created_at) "  # noqa: S608  # fixed names
            f"VALUES ({', '.join('?' for _ in columns)}, ?) RETURNING {key}",
            [*values, now()],
        ).fetchall()[0]
        return int(row[0])


def _encoded(record: dict[str, Any]) -> tuple[list[str], list[Any]]:
    """Column names and values of a record, its lists as JSON text; ids are never written."""
    fields = {k: v for k, v in record.items() if k not in ("goal_id", "intervention_id", "created_at")}
    return list(fields), [json.dumps(v) if k in LISTS else v for k, v in fields.items()]

"""A gemeente's goals and interventions: the rows its analisten edit.

Rows come back as plain dicts (ISO dates, area codes and linked goals as lists) and go in the same
way: the same methods the warehouse offered before the store existed, so the goals package did not
change its ways.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Column, Integer, String, Table, cast, delete, insert, select, text, update

from wijkradar.appdb.core import Core, now
from wijkradar.appdb.schema import goals, interventions, settings
from wijkradar.jsonable import to_jsonable


class OwnData(Core):
    """Goals and interventions per gemeente."""

    def goals(self, gemeente_code: str | None = None) -> list[dict[str, Any]]:
        """Return the goals, optionally of one gemeente, oldest first."""
        query = select(goals).order_by(goals.c.goal_id)
        if gemeente_code:
            query = query.where(goals.c.gemeente_code == gemeente_code)
        return [to_jsonable(row) for row in self._rows(query)]

    def interventions(self, gemeente_code: str | None = None) -> list[dict[str, Any]]:
        """Return the interventions, optionally of one gemeente, oldest first."""
        query = select(interventions).order_by(interventions.c.intervention_id)
        if gemeente_code:
            query = query.where(interventions.c.gemeente_code == gemeente_code)
        return [to_jsonable(row) for row in self._rows(query)]

    def add_goal(self, record: dict[str, Any]) -> int:
        """Store a new goal (keeping ``goal_id`` when the record has one) and return its id."""
        with self.transaction():
            self._changed(record["gemeente_code"])
            new = int(
                self._scalar(insert(goals).values(**_fields(record, "goal_id")).returning(goals.c.goal_id))
            )
            self._follow_ids(goals, "goal_id", "goal_id" in record)
            return new

    def change_goal(self, goal_id: int, record: dict[str, Any]) -> None:
        """Replace the fields of one goal."""
        fields = {k: v for k, v in _fields(record).items() if k != "created_at"}
        with self.transaction():
            self._changed(record["gemeente_code"])
            self._count(update(goals).where(goals.c.goal_id == goal_id).values(**fields))

    def remove_goal(self, goal_id: int) -> None:
        """Remove one goal; interventions linked to it keep their other links."""
        with self.transaction():
            gemeente = self._gemeente_of(goals, goals.c.goal_id, goal_id)
            if gemeente:
                self._changed(gemeente)
            for row in self._rows(select(interventions.c.intervention_id, interventions.c.goal_ids)):
                linked = [int(g) for g in row["goal_ids"]]
                if goal_id in linked:
                    self._count(
                        update(interventions)
                        .where(interventions.c.intervention_id == row["intervention_id"])
                        .values(goal_ids=[g for g in linked if g != goal_id])
                    )
            self._count(delete(goals).where(goals.c.goal_id == goal_id))

    def add_intervention(self, record: dict[str, Any]) -> int:
        """Store a new intervention and return its id."""
        statement = insert(interventions).values(**_fields(record, "intervention_id"))
        with self.transaction():
            self._changed(record["gemeente_code"])
            new = int(self._scalar(statement.returning(interventions.c.intervention_id)))
            self._follow_ids(interventions, "intervention_id", "intervention_id" in record)
            return new

    def remove_intervention(self, intervention_id: int) -> None:
        """Remove one intervention."""
        with self.transaction():
            gemeente = self._gemeente_of(interventions, interventions.c.intervention_id, intervention_id)
            if gemeente:
                self._changed(gemeente)
            self._count(delete(interventions).where(interventions.c.intervention_id == intervention_id))

    def remove_plan(self, gemeente_code: str) -> None:
        """Remove all goals and interventions of a gemeente (before an import that replaces them)."""
        self._changed(gemeente_code)
        self._count(delete(interventions).where(interventions.c.gemeente_code == gemeente_code))
        self._count(delete(goals).where(goals.c.gemeente_code == gemeente_code))

    def adopt(self, old_goals: list[dict[str, Any]], old_interventions: list[dict[str, Any]]) -> int:
        """Take over, once and keeping their ids, the goals and interventions an older warehouse held.

        Returns how many rows were taken over (0 when done before, or when the store has its own).
        """
        with self.transaction():
            done = self._scalar(select(settings.c.value).where(settings.c.key == "legacy_adopted"))
            if done is not None:
                return 0
            self._count(insert(settings).values(key="legacy_adopted", value=now().isoformat()))
            if self.goals() or self.interventions():
                return 0
            for row in old_goals:
                self.add_goal(row)
            for row in old_interventions:
                self.add_intervention(row)
            return len(old_goals) + len(old_interventions)

    def plan_version(self, gemeente_code: str) -> str:
        """Return the revision of a gemeente's goals and interventions (moves on with every change).

        Pages computed from them are cached under it, in every worker.
        """
        value = self._scalar(select(settings.c.value).where(settings.c.key == f"plan:{gemeente_code}"))
        return str(value or "0")

    def _changed(self, gemeente_code: str) -> None:
        """Move a gemeente's plan revision on by one, atomically (concurrent writers each count)."""
        key = settings.c.key == f"plan:{gemeente_code}"
        bump = update(settings).where(key).values(value=cast(cast(settings.c.value, Integer) + 1, String))
        with self.transaction():
            if self._count(bump) == 0:
                self._count(_insert_or_skip(self.engine.dialect.name, f"plan:{gemeente_code}", "0"))
                self._count(bump)

    def _follow_ids(self, table: Table, key: str, given: bool) -> None:
        """After a row was stored with its own id, let PostgreSQL's sequence continue above it."""
        if given and self.engine.dialect.name == "postgresql":
            self._scalar(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{key}'), "  # noqa: S608  # fixed names
                    f"(SELECT max({key}) FROM {table.name}))"
                )
            )

    def _gemeente_of(self, table: Table, key: Column[Any], row_id: int) -> str | None:
        value = self._scalar(select(table.c.gemeente_code).where(key == row_id))
        return None if value is None else str(value)


def _fields(record: dict[str, Any], keep_id: str | None = None) -> dict[str, Any]:
    """Return a record's columns as the tables take them: dates as dates, created_at set."""
    fields = {k: v for k, v in record.items() if k not in ("goal_id", "intervention_id") or k == keep_id}
    for column in ("start_date", "end_date"):
        if isinstance(fields.get(column), str):
            fields[column] = date.fromisoformat(fields[column][:10])
    fields["created_at"] = now()
    return fields


def _insert_or_skip(dialect: str, key: str, value: str) -> Any:
    """Insert a setting unless another writer just did (both databases say ON CONFLICT DO NOTHING)."""
    from sqlalchemy.dialects import postgresql, sqlite

    if dialect == "postgresql":
        return postgresql.insert(settings).values(key=key, value=value).on_conflict_do_nothing()
    return sqlite.insert(settings).values(key=key, value=value).on_conflict_do_nothing()

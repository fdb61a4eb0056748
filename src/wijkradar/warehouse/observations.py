"""The observations repository: measures and their published figures per region, period and group."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from wijkradar.warehouse.core import Part, where


class Observations(Part):
    """Measures and observations."""

    def upsert_measures(self, measures: pd.DataFrame, publisher: str, table_id: str) -> None:
        """Add measures; an existing measure keeps its label unless it had no unit yet."""
        frame = measures.assign(publisher=publisher, table_id=table_id)  # noqa: F841
        self.con.execute(
            """
            INSERT INTO measures
            SELECT measure_id, label, coalesce(unit, ''), coalesce(description, ''), publisher, table_id
            FROM frame
            ON CONFLICT (measure_id) DO UPDATE SET
                label = CASE WHEN unit = '' THEN EXCLUDED.label ELSE label END,
                unit = CASE WHEN unit = '' THEN EXCLUDED.unit ELSE unit END,
                description = CASE WHEN description = '' THEN EXCLUDED.description ELSE description END
            """
        )

    def insert(self, frame: pa.Table, source_id: int, boundary_year: int) -> None:
        """Append observations for one source (call inside a transaction).

        They come made into Arrow by :func:`as_arrow`, on a thread that does not write.
        """
        self.con.execute(
            """
            INSERT INTO observations
            SELECT ?, region_code, ?, period, measure_id, population_group,
                   value, lower, upper, status
            FROM frame
            """,
            [source_id, boundary_year],
        )

    def measures(self) -> pd.DataFrame:
        """All measures with label, unit and publisher (remembered until the data change)."""
        every = lambda: self._frame("SELECT * FROM measures ORDER BY measure_id")  # noqa: E731
        return self._remember(("measures",), every, sources_only=True)

    def measure_groups(self) -> pd.DataFrame:
        """Every measure and population group with published values, with the measure's label."""
        return self._frame(
            "SELECT DISTINCT o.measure_id, o.population_group, m.label FROM observations o "
            "JOIN measures m USING (measure_id) WHERE o.status = 'published' ORDER BY 1, 2"
        )

    def periods(self, measure_id: str, population_group: str) -> list[str]:
        """Periods with published values for a measure and group, oldest first."""

        def published() -> list[str]:
            frame = self._measure_values(measure_id, population_group)
            return sorted(str(p) for p in frame.loc[frame["status"] == "published", "period"].unique())

        found: list[str] = self._remember(
            ("periods", measure_id, population_group), published, sources_only=True
        )
        return found

    def boundary_years_of(self, measure_id: str, population_group: str) -> list[int]:
        """Return the indelingen one measure and group has observations on."""
        frame = self._measure_values(measure_id, population_group)
        return sorted(int(y) for y in frame["boundary_year"].unique())

    def figures(self, code: str, period: str | None = None) -> pd.DataFrame:
        """Every figure for one region, with its measure, source and status."""
        clause = "AND o.period = ?" if period else ""
        params: list[Any] = [code] + ([period] if period else [])
        return self._frame(
            f"""
            SELECT o.measure_id AS measure, m.label, o.population_group AS "group", o.period,
                   o.value, o.lower, o.upper, m.unit, o.status, s.table_id AS source,
                   s.publisher, s.title AS source_title, o.boundary_year
            FROM observations o
            JOIN measures m USING (measure_id)
            JOIN sources s USING (source_id)
            WHERE o.region_code = ? {clause}
            ORDER BY o.measure_id, o.population_group, o.period, s.table_id
            """,  # noqa: S608
            params,
        )

    def table(self, *, measure_id: str | None = None, period: str | None = None) -> pd.DataFrame:
        """Observations in long form, optionally of one measure and one period."""
        clause, params = where(measure_id=measure_id, period=period)
        sql = (
            "SELECT source_id, region_code, boundary_year, period, measure_id, population_group, "  # noqa: S608
            f"value, lower, upper, status FROM observations {clause} "
            "ORDER BY region_code, measure_id, period"
        )
        return self._frame(sql, params)

    def published(
        self, periods: list[str] | None = None, *, without_tables: list[str] | None = None
    ) -> pd.DataFrame:
        """Return published observations (optionally of some periods), for building model features.

        ``without_tables`` leaves out the figures of those tables. Text columns come back as
        categoricals (see :meth:`_categorical`).
        """
        clause = ""
        params: list[Any] = []
        if periods:
            clause = f"AND period IN ({', '.join('?' for _ in periods)})"
            params = list(periods)
        if without_tables:
            clause += (
                " AND measure_id NOT IN (SELECT measure_id FROM measures WHERE list_contains(?, table_id))"
            )
            params.append(list(without_tables))
        return self._categorical(
            "SELECT region_code, boundary_year, period, measure_id, population_group, value, lower, upper "  # noqa: S608
            f"FROM observations WHERE status = 'published' {clause}",
            params,
        )

    def published_before(
        self, table_id: str, measure_id: str, year: int, *, without_tables: list[str] | None = None
    ) -> pd.DataFrame:
        """Return what a model of ``measure_id`` (of survey table ``table_id``) reads to score ``year``.

        The table's previous round (every measure), its earlier rounds of the measure itself, and the
        other tables up to the year after ``year``: a third of all observations, so scoring a year
        moves and pivots far fewer rows than training (which validates on the rounds before).
        """
        return self._categorical(
            """
            WITH obs AS (
                SELECT o.region_code, o.boundary_year, o.period, o.measure_id, o.population_group,
                       o.value, o.lower, o.upper, m.table_id, TRY_CAST(left(o.period, 4) AS INTEGER) AS y
                FROM observations o JOIN measures m USING (measure_id)
                WHERE o.status = 'published' AND NOT list_contains(?, m.table_id)
            ),
            previous AS (SELECT max(period) AS period FROM obs WHERE table_id = ? AND y < ?)
            SELECT region_code, boundary_year, period, measure_id, population_group, value, lower, upper
            FROM obs
            WHERE (table_id <> ? AND y <= ?)
               OR (table_id = ? AND y < ? AND (period = (SELECT period FROM previous) OR measure_id = ?))
            """,
            [list(without_tables or []), table_id, year, table_id, year + 1, table_id, year, measure_id],
        )

    def _categorical(self, sql: str, params: list[Any]) -> pd.DataFrame:
        """Run a query with text columns as categoricals (through Arrow dictionaries).

        Two million rows repeat a few thousand codes, and features are built far faster on codes
        than on strings.
        """
        table = self.con.sql(sql, params=params).to_arrow_table()
        encoded = {
            name: pc.dictionary_encode(column) if pa.types.is_string(column.type) else column
            for name, column in zip(table.column_names, table.columns, strict=True)
        }
        frame: pd.DataFrame = pa.table(encoded).to_pandas()
        return frame

    def values(self, measure_id: str, population_group: str, codes: list[str] | None = None) -> pd.DataFrame:
        """Return all observations of one measure and group for some regions (None: all), with the source.

        The measure's observations of every region are read once per data version and kept: pages
        ask for the same few measures (residents, capacity, the themes) of one gemeente after
        another, and one scan of the observations costs as much as filtering them all in memory.
        """
        frame = self._measure_values(measure_id, population_group)
        if codes is None:
            return frame.copy()
        picked: pd.DataFrame = frame[among(frame["region_code"], codes)]
        return picked.reset_index(drop=True)

    def _measure_values(self, measure_id: str, population_group: str) -> pd.DataFrame:
        """Every observation of a measure and group, shared: callers filter it, never change it."""
        return self._remember(
            ("measure_values", measure_id, population_group),
            lambda: self._frame(
                "SELECT o.region_code, o.period, o.value, o.lower, o.upper, o.status, "
                "s.table_id AS source, o.boundary_year FROM observations o JOIN sources s USING (source_id) "
                "WHERE o.measure_id = ? AND o.population_group = ? ORDER BY o.region_code, o.period",
                [measure_id, population_group],
            ),
            shared=True,
            sources_only=True,
        )

    def level_values(
        self, measure_ids: list[str], prefix: str, population_group: str = "totaal"
    ) -> pd.DataFrame:
        """Return published values of some measures for every region whose code starts with ``prefix``."""
        placeholders = ", ".join("?" for _ in measure_ids)
        return self._frame(
            "SELECT region_code, period, measure_id, value FROM observations "  # noqa: S608
            f"WHERE status = 'published' AND measure_id IN ({placeholders}) "
            "AND population_group = ? AND starts_with(region_code, ?)",
            [*measure_ids, population_group, prefix],
        )


def as_arrow(observations: pd.DataFrame) -> pa.Table:
    """Return observations as Arrow, which DuckDB takes in about twice as fast as pandas.

    Text columns stay dictionary-encoded, as the categoricals they come from.
    """
    return pa.Table.from_pandas(observations, preserve_index=False)


def among(column: pd.Series, codes: list[str]) -> np.ndarray:
    """Return a boolean mask of the rows whose value is one of ``codes``.

    Arrow's own set lookup: pandas' ``isin`` on Arrow strings makes a Python scalar of every code
    first, which cost scoring all buurten half a second over a few calls with 16,000 codes each.
    """
    if not len(column):
        return np.zeros(0, dtype=bool)
    values = pa.array(column.astype(str)) if column.dtype == object else pa.array(column)
    found = pc.is_in(values, value_set=pa.array(list(set(codes)), type=pa.string()))
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)

"""Boundaries and crosswalks: the shapes of regions per indeling, and the tables between indelingen."""

from __future__ import annotations

import pandas as pd

from wijkradar.regions import level_prefix
from wijkradar.warehouse.core import Part, codes_frame

_DERIVED = "WHERE stamp = ? AND from_year = ? AND to_year = ? AND level = ?"


class Boundaries(Part):
    """WGS84 boundaries (WKB) of regions, per source and boundary year."""

    def insert(self, geometries: pd.DataFrame, source_id: int, boundary_year: int) -> None:
        """Append WGS84 geometries (WKB) for one source."""
        frame = geometries  # noqa: F841
        self.con.execute(
            "INSERT INTO geometries SELECT code, ?, ?, 'EPSG:4326', wkb FROM frame",
            [boundary_year, source_id],
        )

    def geometries(self, codes: list[str]) -> pd.DataFrame:
        """Return WGS84 geometries (WKB) of the given regions, the newest boundary year per code."""
        if not codes:
            return pd.DataFrame(columns=["region_code", "boundary_year", "wkb"])
        placeholders = ", ".join("?" for _ in codes)
        return self._frame(
            "SELECT region_code, arg_max(boundary_year, boundary_year) AS boundary_year, "  # noqa: S608
            "arg_max(wkb, boundary_year) AS wkb FROM geometries "
            f"WHERE region_code IN ({placeholders}) GROUP BY region_code",
            list(codes),
        )

    def of_year(self, year: int, prefix: str = "") -> pd.DataFrame:
        """WGS84 geometries (WKB) of one indeling, optionally of one level (code prefix)."""
        return self._frame(
            "SELECT region_code, arg_max(wkb, source_id) AS wkb FROM geometries "
            "WHERE boundary_year = ? AND starts_with(region_code, ?) GROUP BY region_code ORDER BY 1",
            [year, prefix],
        )

    def versions(self, codes: list[str]) -> pd.DataFrame:
        """Return every stored boundary of some regions: code, boundary year, name in that year, WKB."""
        frame = codes_frame(codes)  # noqa: F841  # used in SQL
        return self.con.execute(
            "SELECT g.region_code, g.boundary_year, any_value(r.name) AS name, "
            "arg_max(g.wkb, g.source_id) AS wkb FROM geometries g LEFT JOIN regions r "
            "ON r.code = g.region_code AND r.boundary_year = g.boundary_year "
            "WHERE g.region_code IN (SELECT code FROM frame) GROUP BY g.region_code, g.boundary_year "
            "ORDER BY 1, 2"
        ).fetchdf()


class Crosswalks(Part):
    """Crosswalks between indelingen: published ones per source, and derived ones kept for reuse."""

    def insert(self, rows: pd.DataFrame, source_id: int) -> None:
        """Append crosswalk rows (from_code, from_year, to_code, to_year, weight, method)."""
        frame = rows  # noqa: F841
        self.con.execute(
            "INSERT INTO crosswalks SELECT ?, from_code, from_year, to_code, to_year, weight, method "
            "FROM frame",
            [source_id],
        )

    def derived(self, stamp: str, from_year: int, to_year: int, level: str | None) -> pd.DataFrame | None:
        """Return a crosswalk derived earlier for this state of the sources, or None if there is none."""
        key = [stamp, from_year, to_year, level or ""]
        if not self._column(f"SELECT count(*) FROM derived_crosswalk_sets {_DERIVED}", key)[0]:  # noqa: S608
            return None
        columns = "from_code, to_code, weight, method"
        sql = f"SELECT {columns} FROM derived_crosswalks {_DERIVED} ORDER BY rowid"  # noqa: S608
        return self._frame(sql, key)

    def keep_derived(self, stamp: str, walks: dict[tuple[int, int, str | None], pd.DataFrame]) -> bool:
        """Keep derived crosswalks (per from-year, to-year and level) for later processes.

        Those of an older state of the sources go. All are written in one transaction. Only a
        writer outside a transaction keeps them (a reader cannot; inside an ingest the sources are
        still changing). Returns whether they were kept.
        """
        if self.wh.read_only or self.wh.in_transaction or not walks:
            return False
        keys = [(stamp, a, b, level or "") for a, b, level in walks]
        sets = pd.DataFrame(keys, columns=["stamp", "from_year", "to_year", "level"])  # noqa: F841
        frame = pd.concat(  # noqa: F841  # used in SQL
            [
                walk[["from_code", "to_code", "weight", "method"]].assign(
                    stamp=stamp, from_year=a, to_year=b, level=level or ""
                )
                for (a, b, level), walk in walks.items()
            ],
            ignore_index=True,
        )
        with self.wh.transaction():
            for table in ("derived_crosswalks", "derived_crosswalk_sets"):
                self.con.execute(f"DELETE FROM {table} WHERE stamp <> ?", [stamp])  # noqa: S608
                self.con.execute(
                    f"DELETE FROM {table} t USING sets s WHERE t.stamp = s.stamp "  # noqa: S608
                    "AND t.from_year = s.from_year AND t.to_year = s.to_year AND t.level = s.level"
                )
            self.con.execute("INSERT INTO derived_crosswalk_sets SELECT * FROM sets")
            self.con.execute(
                "INSERT INTO derived_crosswalks SELECT stamp, from_year, to_year, level, "
                "from_code, to_code, weight, method FROM frame"
            )
        return True

    def rows(self, level: str | None = None) -> pd.DataFrame:
        """Every stored crosswalk row with its source's publisher and table, optionally of one level.

        Remembered until the sources change: deriving the crosswalks between every two indelingen
        reads them once per pair.
        """
        prefix = level_prefix(level)
        every = lambda: self._frame(  # noqa: E731
            "SELECT c.from_code, c.from_year, c.to_code, c.to_year, c.weight, c.method, c.source_id, "
            "s.publisher, s.table_id FROM crosswalks c JOIN sources s USING (source_id) "
            "WHERE starts_with(c.from_code, ?) ORDER BY c.from_year, c.to_year, c.from_code, c.to_code",
            [prefix],
        )
        found: pd.DataFrame = self._remember(("crosswalk_rows", prefix), every, sources_only=True)
        return found

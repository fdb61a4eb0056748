"""The sources repository: which files were ingested, and replacing a table slice by a newer one."""

from __future__ import annotations

from typing import Any

import pandas as pd

from wijkradar.regions import gemeente_of, own_prefixes
from wijkradar.warehouse.core import Part, codes_frame, now


class Sources(Part):
    """Provenance: one row per ingested file, and what it brought."""

    def by_checksum(self, checksum: str) -> dict[str, Any] | None:
        """Return the source already ingested from a file with this checksum, if any."""
        return self._one("SELECT * FROM sources WHERE checksum = ?", [checksum])

    def by_key(self, dataset_key: str) -> dict[str, Any] | None:
        """Return the source already ingested for the same table slice (see Dataset.dataset_key)."""
        return self._one(
            "SELECT * FROM sources WHERE dataset_key = ? ORDER BY ingested_at DESC LIMIT 1",
            [dataset_key],
        )

    def insert(self, record: dict[str, Any]) -> int:
        """Insert a source record and return its id (call inside a transaction)."""
        columns = list(record)
        placeholders = ", ".join("?" for _ in columns)
        row = self.con.execute(
            f"INSERT INTO sources ({', '.join(columns)}, ingested_at) "  # noqa: S608
            f"VALUES ({placeholders}, ?) RETURNING source_id",
            [*record.values(), now()],
        ).fetchall()[0]
        assert row is not None  # noqa: S101  # RETURNING always yields the new row
        return int(row[0])

    def delete(self, source_id: int) -> None:
        """Remove a source and everything it brought (call inside a transaction)."""
        for table in ("observations", "geometries", "crosswalks", "sources"):
            self.con.execute(f"DELETE FROM {table} WHERE source_id = ?", [source_id])  # noqa: S608

    def replace_slices(self, dataset_key: str, codes: list[str]) -> list[dict[str, Any]]:
        """Remove what earlier versions of a table slice hold for ``codes`` (inside a transaction).

        An earlier file of the same table, period and group keeps its other regions (a Rotterdam
        file does not wipe out Almere's figures); a source left with nothing is removed. Returns,
        per earlier source, where it came from, how many regions it lost and how many it keeps.
        """
        previous = self._frame(
            "SELECT source_id, location, ingested_at FROM sources WHERE dataset_key = ? ORDER BY source_id",
            [dataset_key],
        )
        frame = codes_frame(codes)  # noqa: F841  # used in SQL
        out = []
        for record in previous.to_dict("records"):
            sid = int(record["source_id"])
            held = self._region_codes_of(sid)
            for table in ("observations", "geometries"):
                self.con.execute(
                    f"DELETE FROM {table} WHERE source_id = ? "  # noqa: S608  # fixed names
                    "AND region_code IN (SELECT code FROM frame)",
                    [sid],
                )
            self.con.execute("DELETE FROM crosswalks WHERE source_id = ?", [sid])
            kept = self._region_codes_of(sid)
            if not kept:
                self.delete(sid)
            else:
                self.con.execute(
                    "UPDATE sources SET n_regions = ?, n_observations = "
                    "(SELECT count(*) FROM observations WHERE source_id = ?) WHERE source_id = ?",
                    [len(kept), sid, sid],
                )
            entry = {str(k): v for k, v in record.items()}
            out.append({**entry, "replaced": len(held) - len(kept), "kept": len(kept)})
        return out

    def _region_codes_of(self, source_id: int) -> set[str]:
        rows = self.con.execute(
            "SELECT region_code FROM observations WHERE source_id = ? UNION "
            "SELECT region_code FROM geometries WHERE source_id = ?",
            [source_id, source_id],
        ).fetchall()
        return {str(r[0]) for r in rows}

    def ids_of(self, gemeente: str) -> set[int]:
        """Return the sources with a figure or a boundary of the gemeente, its wijken or its buurten."""
        _, wijken, buurten = own_prefixes(gemeente)
        where = "region_code = ? OR region_code LIKE ? OR region_code LIKE ?"
        args = [gemeente, f"{wijken}%", f"{buurten}%"]
        rows = self.con.execute(
            f"SELECT DISTINCT source_id FROM observations WHERE {where} UNION "  # noqa: S608 - fixed text
            f"SELECT DISTINCT source_id FROM geometries WHERE {where}",
            [*args, *args],
        ).fetchall()
        return {int(r[0]) for r in rows}

    def table(self) -> pd.DataFrame:
        """All ingested sources, newest first."""
        return self._frame(
            "SELECT source_id, publisher, table_id, title, period, population_groups, levels, "
            "boundary_year, licence, format, location, checksum, n_observations, n_regions, note, "
            "ingested_at FROM sources ORDER BY ingested_at DESC, source_id DESC"
        )

    def owners(self, publisher: str) -> tuple[dict[int, set[str]], dict[str, set[str]]]:
        """Return, for the sources of one publisher (a gemeente's own data), the gemeenten they cover.

        Two maps: source id -> gemeente codes, and measure id -> gemeente codes.
        """
        rows = self.con.execute(
            "SELECT DISTINCT o.source_id, o.measure_id, o.region_code FROM observations o "
            "JOIN sources s USING (source_id) WHERE s.publisher = ?",
            [publisher],
        ).fetchall()
        by_source: dict[int, set[str]] = {}
        by_measure: dict[str, set[str]] = {}
        for source_id, measure_id, code in rows:
            gemeente = gemeente_of(str(code)) or str(code)
            by_source.setdefault(int(source_id), set()).add(gemeente)
            by_measure.setdefault(str(measure_id), set()).add(gemeente)
        for source_id in self._column("SELECT source_id FROM sources WHERE publisher = ?", [publisher]):
            by_source.setdefault(int(source_id), set())
        return by_source, by_measure

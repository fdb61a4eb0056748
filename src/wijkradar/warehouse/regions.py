"""The regions repository: codes and names per boundary year, boundaries and crosswalks."""

from __future__ import annotations

import pandas as pd

from wijkradar.regions import (
    Level,
    choose_names,
    gemeente_mergers,
    is_level,
    is_valid_code,
    level_of,
    region_label,
)
from wijkradar.warehouse.core import Part, codes_frame, where


class Regions(Part):
    """Regions and their names per indeling, geometries, and crosswalks between indelingen."""

    def upsert(self, regions: pd.DataFrame, boundary_year: int) -> None:
        """Add regions; a name already known is kept when the new file has none."""
        frame = regions.assign(boundary_year=boundary_year)  # noqa: F841  # used by name in SQL
        # An update of the names that change and an insert of the new codes: much faster in DuckDB
        # than INSERT ... ON CONFLICT over every row of a national table.
        self.con.execute(
            """
            UPDATE regions SET name = f.name FROM frame f
            WHERE regions.code = f.code AND regions.boundary_year = f.boundary_year
              AND f.name IS NOT NULL AND regions.name IS DISTINCT FROM f.name
            """
        )
        self.con.execute(
            """
            INSERT INTO regions
            SELECT code, boundary_year, name, level, gemeente_code, wijk_code FROM frame f
            WHERE NOT EXISTS (
                SELECT 1 FROM regions r WHERE r.code = f.code AND r.boundary_year = f.boundary_year
            )
            """
        )

    def indeling(self) -> int:
        """Return the boundary year most figures are on: the default indeling for lists and analyses."""
        return self._remember(("indeling",), self._indeling, sources_only=True)

    def _indeling(self) -> int:
        row = self.con.execute(
            "SELECT boundary_year FROM sources WHERE n_observations > 0 AND boundary_year > 0 "
            "GROUP BY boundary_year ORDER BY sum(n_observations) DESC, boundary_year DESC LIMIT 1"
        ).fetchall()
        if row:
            return int(row[0][0])
        row = self.con.execute("SELECT max(boundary_year) FROM regions").fetchall()
        return int(row[0][0]) if row and row[0][0] is not None else 0

    def table(
        self, level: str | None = None, gemeente_code: str | None = None, year: int | None = None
    ) -> pd.DataFrame:
        """Return the regions of one indeling (default :meth:`indeling`), each with its name there.

        A region without a name in that year gets the name of the nearest year in which it is the
        same area (see :func:`wijkradar.regions.choose_names`); ``name_year`` says which year the
        name is from and ``label`` is what to show: "name (code)", or the bare code when no name is
        known. ``boundary_years`` lists every indeling the code occurs in. Remembered until the
        data change: pages and goals ask for it many times.
        """
        return self._remember(
            ("regions", level, gemeente_code, year),
            lambda: self._regions(level, gemeente_code, year),
            sources_only=True,
        )

    def _regions(self, level: str | None, gemeente_code: str | None, year: int | None) -> pd.DataFrame:
        year = self.indeling() if year is None else year
        clause, params = where(level=level, gemeente_code=gemeente_code)
        frame = self._frame(
            f"""
            SELECT code, any_value(level) AS level, any_value(gemeente_code) AS gemeente_code,
                   any_value(wijk_code) AS wijk_code, bool_or(boundary_year = ?) AS in_year,
                   string_agg(DISTINCT CASE WHEN boundary_year = 0 THEN 'onbekend'
                              ELSE boundary_year::VARCHAR END, ', ' ORDER BY
                              CASE WHEN boundary_year = 0 THEN 'onbekend'
                              ELSE boundary_year::VARCHAR END) AS boundary_years
            FROM regions {clause}
            GROUP BY code HAVING bool_or(boundary_year = ?) ORDER BY code
            """,  # noqa: S608  # only fixed fragments are interpolated
            [year, *params, year],
        ).drop(columns="in_year")
        chosen = choose_names(
            self._names_by_year(frame["code"].tolist()), frame["code"].tolist(), year, self.name_breaks()
        )
        frame["name"] = [chosen.get(c, (None, None))[0] for c in frame["code"]]
        frame["name_year"] = [chosen.get(c, (None, None))[1] for c in frame["code"]]
        frame["name_year"] = frame["name_year"].astype("Int64")
        frame["boundary_year"] = year
        frame["label"] = [
            region_label(c, n, y, year)
            for c, n, y in zip(frame["code"], frame["name"], frame["name_year"], strict=True)
        ]
        columns = ["code", "name", "name_year", "label", "level", "gemeente_code", "wijk_code"]
        return frame[[*columns, "boundary_year", "boundary_years"]]

    def _names_by_year(self, codes: list[str]) -> dict[str, dict[int, str]]:
        frame = codes_frame(codes)  # noqa: F841  # used in SQL
        rows = self.con.execute(
            "SELECT code, boundary_year, name FROM regions WHERE name IS NOT NULL "
            "AND code IN (SELECT code FROM frame)"
        ).fetchall()
        out: dict[str, dict[int, str]] = {}
        for code, year, name in rows:
            out.setdefault(str(code), {})[int(year)] = str(name)
        return out

    def name_breaks(self) -> dict[str, list[tuple[int, int]]]:
        """Spans of years over which a code is known to change area, from the stored crosswalks.

        A crosswalk row that keeps a code whole on itself is no evidence of change; every other row
        (a split, a merger, a moved border) marks both codes between its two years. Remembered and
        shared until the data change: callers only read it.
        """
        found: dict[str, list[tuple[int, int]]] = self._remember(
            ("name_breaks",), self._name_breaks, shared=True, sources_only=True
        )
        return found

    def _name_breaks(self) -> dict[str, list[tuple[int, int]]]:
        rows = self.con.execute(
            """
            WITH changed AS (
                SELECT from_code, to_code, from_year, to_year FROM crosswalks
                WHERE NOT (from_code = to_code AND weight >= 0.999999)
            )
            SELECT DISTINCT from_code AS code, from_year, to_year FROM changed
            UNION SELECT DISTINCT to_code, from_year, to_year FROM changed
            """
        ).fetchall()
        stored = self.con.execute(
            "SELECT DISTINCT from_code, from_year, to_year FROM crosswalks WHERE from_year < to_year"
        ).fetchall()
        # Per level and pair of years with a crosswalk of that level: the codes it changes.
        changed_in: dict[tuple[Level, int, int], set[str]] = {
            (level_of(str(c)), int(a), int(b)): set() for c, a, b in stored if is_valid_code(str(c))
        }
        for code, low, high in rows:
            key = (level_of(str(code)), int(low), int(high)) if is_valid_code(str(code)) else None
            if key in changed_in:
                changed_in[key].add(str(code))
        out: dict[str, list[tuple[int, int]]] = {}
        for code, low, high in rows:
            span = _narrowed(str(code), int(low), int(high), changed_in)
            out.setdefault(str(code), []).append(span)
        for merger in gemeente_mergers():
            for code in (merger.from_code, merger.to_code):
                out.setdefault(code, []).append((merger.year - 1, merger.year))
        return out

    def codes_in_year(self, year: int) -> list[str]:
        """Return every region code of one indeling."""
        rows = self.con.execute(
            "SELECT code FROM regions WHERE boundary_year = ? ORDER BY code", [year]
        ).fetchall()
        return [str(r[0]) for r in rows]

    def names_in_years(self, low: int, high: int) -> pd.DataFrame:
        """Code, year and name of every named region of the indelingen from ``low`` to ``high``."""
        return self._frame(
            "SELECT code, boundary_year, name FROM regions WHERE name IS NOT NULL "
            "AND boundary_year BETWEEN ? AND ?",
            [low, high],
        )

    def code_years(self, code: str) -> list[int]:
        """Return the boundary years in which a code occurs (empty when it is unknown)."""
        every: dict[str, list[int]] = self._remember(
            ("code_years",), self._code_years, shared=True, sources_only=True
        )
        return list(every.get(code, []))

    def _code_years(self) -> dict[str, list[int]]:
        rows = self.con.execute("SELECT DISTINCT code, boundary_year FROM regions ORDER BY 1, 2").fetchall()
        out: dict[str, list[int]] = {}
        for code, year in rows:
            out.setdefault(str(code), []).append(int(year))
        return out

    def names(self) -> pd.DataFrame:
        """Code, name and level of every region that has a name (for name lookups)."""
        return self._frame(
            "SELECT DISTINCT code, name, level FROM regions WHERE name IS NOT NULL ORDER BY code"
        )

    def boundary_years(self) -> list[int]:
        """Return every indeling a boundary or a figure is on (0: a file without a year)."""
        return sorted(
            int(y)
            for y in self._column(
                "SELECT DISTINCT boundary_year FROM geometries UNION "
                "SELECT DISTINCT boundary_year FROM observations",
                [],
            )
        )

    def observation_years(self) -> list[int]:
        """Return every indeling a figure is on (0: a file without a year)."""
        return sorted(int(y) for y in self._column("SELECT DISTINCT boundary_year FROM observations", []))


def _narrowed(
    code: str, low: int, high: int, changed_in: dict[tuple[Level, int, int], set[str]]
) -> tuple[int, int]:
    """Narrow the span of a change with the stored crosswalks of its parts.

    VNG's crosswalk 2020 -> 2022 splits Almere's WK003401; its crosswalk 2020 -> 2021 lists every
    wijk that changed in 2021 and not this one, so the change lies between 2021 and 2022 and a
    figure of 2021 still belongs to the area of 2020. A crosswalk of a part that does name the code
    leaves the span as it is.
    """
    moved = True
    while moved and high - low > 1:
        moved = False
        for (level, a, b), codes in changed_in.items():
            if not is_level(code, level) or (a, b) == (low, high) or code in codes:
                continue
            if a == low and low < b < high:
                low, moved = b, True
            elif b == high and low < a < high:
                high, moved = a, True
    return low, high

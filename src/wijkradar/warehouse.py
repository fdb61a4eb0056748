"""The warehouse: one DuckDB file with a versioned schema. The only module that imports duckdb.

Every write happens inside :meth:`Warehouse.transaction`, so a failure half-way (bad data, a full
disk, a killed process) leaves the file as it was before the write began.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from wijkradar.errors import WarehouseError
from wijkradar.regions import choose_names, gemeente_mergers, region_label

MIGRATIONS: Final[tuple[str, ...]] = (
    # 1: regions, sources, measures, observations, geometries
    """
    CREATE SEQUENCE source_ids START 1;
    CREATE TABLE sources (
        source_id INTEGER PRIMARY KEY DEFAULT nextval('source_ids'),
        dataset_key VARCHAR NOT NULL,
        publisher VARCHAR NOT NULL,
        table_id VARCHAR NOT NULL,
        title VARCHAR NOT NULL,
        period VARCHAR NOT NULL,
        population_groups VARCHAR NOT NULL,
        levels VARCHAR NOT NULL,
        boundary_year INTEGER NOT NULL,
        licence VARCHAR NOT NULL,
        location VARCHAR NOT NULL,
        format VARCHAR NOT NULL,
        checksum VARCHAR NOT NULL UNIQUE,
        n_observations BIGINT NOT NULL,
        n_regions INTEGER NOT NULL,
        note VARCHAR NOT NULL DEFAULT '',
        ingested_at TIMESTAMP NOT NULL
    );
    CREATE TABLE regions (
        code VARCHAR NOT NULL,
        boundary_year INTEGER NOT NULL,
        name VARCHAR,
        level VARCHAR NOT NULL CHECK (level IN ('land', 'gemeente', 'wijk', 'buurt')),
        gemeente_code VARCHAR,
        wijk_code VARCHAR,
        PRIMARY KEY (code, boundary_year)
    );
    CREATE TABLE measures (
        measure_id VARCHAR PRIMARY KEY,
        label VARCHAR NOT NULL,
        unit VARCHAR NOT NULL DEFAULT '',
        description VARCHAR NOT NULL DEFAULT '',
        publisher VARCHAR NOT NULL,
        table_id VARCHAR NOT NULL
    );
    CREATE TABLE observations (
        source_id INTEGER NOT NULL,
        region_code VARCHAR NOT NULL,
        boundary_year INTEGER NOT NULL,
        period VARCHAR NOT NULL,
        measure_id VARCHAR NOT NULL,
        population_group VARCHAR NOT NULL,
        value DOUBLE,
        lower DOUBLE,
        upper DOUBLE,
        status VARCHAR NOT NULL
            CHECK (status IN ('published', 'missing', 'suppressed', 'nil', 'unreliable')),
        CHECK ((status = 'published') = (value IS NOT NULL))
    );
    CREATE TABLE geometries (
        region_code VARCHAR NOT NULL,
        boundary_year INTEGER NOT NULL,
        source_id INTEGER NOT NULL,
        crs VARCHAR NOT NULL,
        wkb BLOB NOT NULL,
        PRIMARY KEY (region_code, boundary_year, source_id)
    );
    """,
    # 2: risk models with their validation, and their estimates per region
    """
    CREATE SEQUENCE model_ids START 1;
    CREATE TABLE models (
        model_id INTEGER PRIMARY KEY DEFAULT nextval('model_ids'),
        measure_id VARCHAR NOT NULL,
        population_group VARCHAR NOT NULL,
        level VARCHAR NOT NULL,
        period VARCHAR NOT NULL,
        algorithm VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL,
        metrics JSON NOT NULL,
        card JSON NOT NULL,
        artifact VARCHAR NOT NULL
    );
    CREATE TABLE estimates (
        model_id INTEGER NOT NULL,
        region_code VARCHAR NOT NULL,
        period VARCHAR NOT NULL,
        estimate DOUBLE NOT NULL,
        expected DOUBLE NOT NULL,
        lower DOUBLE NOT NULL,
        upper DOUBLE NOT NULL,
        survey DOUBLE,
        survey_lower DOUBLE,
        survey_upper DOUBLE,
        contributions JSON NOT NULL,
        PRIMARY KEY (model_id, region_code)
    );
    """,
    # 3: goals and interventions (results monitoring); areas are JSON lists of region codes
    """
    CREATE SEQUENCE goal_ids START 1;
    CREATE TABLE goals (
        goal_id INTEGER PRIMARY KEY DEFAULT nextval('goal_ids'),
        gemeente_code VARCHAR NOT NULL,
        title VARCHAR NOT NULL,
        measure_id VARCHAR NOT NULL,
        population_group VARCHAR NOT NULL,
        area_name VARCHAR NOT NULL,
        area_codes JSON NOT NULL,
        baseline_period VARCHAR NOT NULL,
        baseline_value DOUBLE NOT NULL,
        target_value DOUBLE NOT NULL,
        target_year INTEGER NOT NULL,
        direction VARCHAR NOT NULL CHECK (direction IN ('omlaag', 'omhoog')),
        owner VARCHAR NOT NULL DEFAULT '',
        description VARCHAR NOT NULL DEFAULT '',
        created_at TIMESTAMP NOT NULL
    );
    CREATE SEQUENCE intervention_ids START 1;
    CREATE TABLE interventions (
        intervention_id INTEGER PRIMARY KEY DEFAULT nextval('intervention_ids'),
        gemeente_code VARCHAR NOT NULL,
        title VARCHAR NOT NULL,
        theme VARCHAR NOT NULL DEFAULT '',
        area_codes JSON NOT NULL,
        start_date DATE NOT NULL,
        end_date DATE,
        budget DOUBLE,
        partners VARCHAR NOT NULL DEFAULT '',
        description VARCHAR NOT NULL DEFAULT '',
        goal_ids JSON NOT NULL,
        created_at TIMESTAMP NOT NULL
    );
    """,
    # 4: crosswalks between indelingen: which share of an area of one year lies in an area of another
    """
    CREATE TABLE crosswalks (
        source_id INTEGER NOT NULL,
        from_code VARCHAR NOT NULL,
        from_year INTEGER NOT NULL,
        to_code VARCHAR NOT NULL,
        to_year INTEGER NOT NULL,
        weight DOUBLE NOT NULL CHECK (weight >= 0 AND weight <= 1.000001),
        method VARCHAR NOT NULL
    );
    -- a table slice is no longer told apart by its levels: files replace each other per region
    UPDATE sources SET dataset_key = array_to_string(
        list_concat(str_split(dataset_key, '|')[1:4], str_split(dataset_key, '|')[6:6]), '|');
    """,
    # 5: a goal's direction as an English code (down/up); the Dutch words are for people only
    """
    CREATE TABLE goals_v5 (
        goal_id INTEGER PRIMARY KEY DEFAULT nextval('goal_ids'),
        gemeente_code VARCHAR NOT NULL,
        title VARCHAR NOT NULL,
        measure_id VARCHAR NOT NULL,
        population_group VARCHAR NOT NULL,
        area_name VARCHAR NOT NULL,
        area_codes JSON NOT NULL,
        baseline_period VARCHAR NOT NULL,
        baseline_value DOUBLE NOT NULL,
        target_value DOUBLE NOT NULL,
        target_year INTEGER NOT NULL,
        direction VARCHAR NOT NULL CHECK (direction IN ('down', 'up')),
        owner VARCHAR NOT NULL DEFAULT '',
        description VARCHAR NOT NULL DEFAULT '',
        created_at TIMESTAMP NOT NULL
    );
    INSERT INTO goals_v5 SELECT goal_id, gemeente_code, title, measure_id, population_group, area_name,
        area_codes, baseline_period, baseline_value, target_value, target_year,
        CASE direction WHEN 'omlaag' THEN 'down' ELSE 'up' END, owner, description, created_at
    FROM goals;
    DROP TABLE goals;
    ALTER TABLE goals_v5 RENAME TO goals;
    """,
)
SCHEMA_VERSION: Final = len(MIGRATIONS)


ROW_KEYS: Final = {"goals": "goal_id", "interventions": "intervention_id"}  # tables edited row by row


class Warehouse:
    """A connection to the warehouse file, migrated to the current schema on opening.

    Examples
    --------
    >>> with Warehouse.open(Path(":memory:")) as wh:
    ...     wh.schema_version() == SCHEMA_VERSION
    True
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path) -> None:
        self.con = con
        self.path = path

    @classmethod
    def open(cls, path: Path, *, read_only: bool = False) -> Warehouse:
        """Open (and, unless read-only, create or migrate) the warehouse at ``path``."""
        target = str(path)
        if read_only and target != ":memory:" and not path.exists():
            raise WarehouseError(
                f"Het datapakhuis {path} bestaat nog niet. Oplossing: lees eerst gegevens in met "
                "'wijkradar ingest PAD' of kies een ander bestand met --db."
            )
        try:
            con = duckdb.connect(target, read_only=read_only)
        except (duckdb.IOException, duckdb.ConnectionException) as exc:
            raise WarehouseError(
                f"Het datapakhuis {path} kan niet geopend worden ({exc}). Oplossing: sluit andere "
                "programma's die het bestand gebruiken, of kies een ander bestand met --db."
            ) from exc
        wh = cls(con, path)
        if not read_only:
            wh._migrate()
        else:
            wh._check_version()
        return wh

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection."""
        self.con.close()

    # -- schema -----------------------------------------------------------------------------
    def schema_version(self) -> int:
        """Return the schema version of the file (0 for a new file)."""
        exists = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
        ).fetchall()[0]
        if not exists or exists[0] == 0:
            return 0
        row = self.con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchall()[0]
        return int(row[0]) if row else 0

    def _check_version(self) -> int:
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            raise WarehouseError(
                f"Het datapakhuis {self.path} heeft schemaversie {version}; deze wijkradar kent "
                f"versie {SCHEMA_VERSION}. Oplossing: installeer de nieuwste wijkradar."
            )
        return version

    def _migrate(self) -> None:
        version = self._check_version()
        if version == SCHEMA_VERSION:
            return
        with self.transaction():
            self.con.execute(
                "CREATE TABLE IF NOT EXISTS schema_version "
                "(version INTEGER PRIMARY KEY, applied_at TIMESTAMP NOT NULL)"
            )
            for number, sql in enumerate(MIGRATIONS[version:], start=version + 1):
                self.con.execute(sql)
                self.con.execute("INSERT INTO schema_version VALUES (?, ?)", [number, _now()])

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run a block as one transaction: all of it is written, or none of it."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    # -- writing ----------------------------------------------------------------------------
    def source_by_checksum(self, checksum: str) -> dict[str, Any] | None:
        """Return the source already ingested from a file with this checksum, if any."""
        return self._one("SELECT * FROM sources WHERE checksum = ?", [checksum])

    def source_by_key(self, dataset_key: str) -> dict[str, Any] | None:
        """Return the source already ingested for the same table slice (see Dataset.dataset_key)."""
        return self._one(
            "SELECT * FROM sources WHERE dataset_key = ? ORDER BY ingested_at DESC LIMIT 1",
            [dataset_key],
        )

    def delete_source(self, source_id: int) -> None:
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
        frame = pd.DataFrame({"code": pd.Series(codes, dtype=object)})  # noqa: F841  # used in SQL
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
                self.delete_source(sid)
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

    def insert_crosswalk(self, rows: pd.DataFrame, source_id: int) -> None:
        """Append crosswalk rows (from_code, from_year, to_code, to_year, weight, method)."""
        frame = rows  # noqa: F841
        self.con.execute(
            "INSERT INTO crosswalks SELECT ?, from_code, from_year, to_code, to_year, weight, method "
            "FROM frame",
            [source_id],
        )

    def crosswalk_rows(self, level: str | None = None) -> pd.DataFrame:
        """Every stored crosswalk row with its source's publisher and table, optionally of one level."""
        prefix = {"gemeente": "GM", "wijk": "WK", "buurt": "BU"}.get(level or "", "")
        return self._frame(
            "SELECT c.from_code, c.from_year, c.to_code, c.to_year, c.weight, c.method, c.source_id, "
            "s.publisher, s.table_id FROM crosswalks c JOIN sources s USING (source_id) "
            "WHERE starts_with(c.from_code, ?) ORDER BY c.from_year, c.to_year, c.from_code, c.to_code",
            [prefix],
        )

    def insert_source(self, record: dict[str, Any]) -> int:
        """Insert a source record and return its id (call inside a transaction)."""
        columns = list(record)
        placeholders = ", ".join("?" for _ in columns)
        row = self.con.execute(
            f"INSERT INTO sources ({', '.join(columns)}, ingested_at) "  # noqa: S608
            f"VALUES ({placeholders}, ?) RETURNING source_id",
            [*record.values(), _now()],
        ).fetchall()[0]
        assert row is not None  # noqa: S101  # RETURNING always yields the new row
        return int(row[0])

    def upsert_regions(self, regions: pd.DataFrame, boundary_year: int) -> None:
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

    def insert_observations(self, observations: pd.DataFrame, source_id: int, boundary_year: int) -> None:
        """Append observations for one source (call inside a transaction)."""
        # Arrow with dictionary-encoded text columns is about twice as fast for DuckDB to take in as
        # pandas categoricals.
        frame = pa.Table.from_pandas(observations, preserve_index=False)  # noqa: F841
        self.con.execute(
            """
            INSERT INTO observations
            SELECT ?, region_code, ?, period, measure_id, population_group,
                   value, lower, upper, status
            FROM frame
            """,
            [source_id, boundary_year],
        )

    def insert_geometries(self, geometries: pd.DataFrame, source_id: int, boundary_year: int) -> None:
        """Append WGS84 geometries (WKB) for one source."""
        frame = geometries  # noqa: F841
        self.con.execute(
            "INSERT INTO geometries SELECT code, ?, ?, 'EPSG:4326', wkb FROM frame",
            [boundary_year, source_id],
        )

    # -- reading ----------------------------------------------------------------------------
    def sources(self) -> pd.DataFrame:
        """All ingested sources, newest first."""
        return self._frame(
            "SELECT source_id, publisher, table_id, title, period, population_groups, levels, "
            "boundary_year, licence, format, location, checksum, n_observations, n_regions, note, "
            "ingested_at FROM sources ORDER BY ingested_at DESC, source_id DESC"
        )

    def indeling(self) -> int:
        """Return the boundary year most figures are on: the default indeling for lists and analyses."""
        row = self.con.execute(
            "SELECT boundary_year FROM sources WHERE n_observations > 0 AND boundary_year > 0 "
            "GROUP BY boundary_year ORDER BY sum(n_observations) DESC, boundary_year DESC LIMIT 1"
        ).fetchall()
        if row:
            return int(row[0][0])
        row = self.con.execute("SELECT max(boundary_year) FROM regions").fetchall()
        return int(row[0][0]) if row and row[0][0] is not None else 0

    def regions(
        self, level: str | None = None, gemeente_code: str | None = None, year: int | None = None
    ) -> pd.DataFrame:
        """Return the regions of one indeling (default :meth:`indeling`), each with its name there.

        A region without a name in that year gets the name of the nearest year in which it is the
        same area (see :func:`wijkradar.regions.choose_names`); ``name_year`` says which year the
        name is from and ``label`` is what to show: "name (code)", or the bare code when no name is
        known. ``boundary_years`` lists every indeling the code occurs in.
        """
        year = self.indeling() if year is None else year
        clause, params = _where(level=level, gemeente_code=gemeente_code)
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
        frame = pd.DataFrame({"code": pd.Series(codes, dtype=object)})  # noqa: F841  # used in SQL
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
        (a split, a merger, a moved border) marks both codes between its two years.
        """
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
        out: dict[str, list[tuple[int, int]]] = {}
        for code, low, high in rows:
            out.setdefault(str(code), []).append((int(low), int(high)))
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

    def geometries_of_year(self, year: int, prefix: str = "") -> pd.DataFrame:
        """WGS84 geometries (WKB) of one indeling, optionally of one level (code prefix)."""
        return self._frame(
            "SELECT region_code, arg_max(wkb, source_id) AS wkb FROM geometries "
            "WHERE boundary_year = ? AND starts_with(region_code, ?) GROUP BY region_code ORDER BY 1",
            [year, prefix],
        )

    def data_version(self) -> tuple[str, int, int, str]:
        """Return a fingerprint of this warehouse and what has been ingested into it.

        It changes with every stored or replaced file, so results derived from the sources (such as
        crosswalks) can be cached until then.
        """
        row = self.con.execute(
            "SELECT count(*), coalesce(max(source_id), 0), coalesce(max(ingested_at)::VARCHAR, '') "
            "FROM sources"
        ).fetchall()[0]
        where = str(self.path) if str(self.path) != ":memory:" else f"memory:{id(self.con)}"
        return where, int(row[0]), int(row[1]), str(row[2])

    def boundary_years_of(self, measure_id: str, population_group: str) -> list[int]:
        """Return the indelingen one measure and group has observations on."""
        return [
            int(y)
            for y in self._column(
                "SELECT DISTINCT boundary_year FROM observations WHERE measure_id = ? "
                "AND population_group = ? ORDER BY 1",
                [measure_id, population_group],
            )
        ]

    def geometry_versions(self, codes: list[str]) -> pd.DataFrame:
        """Return every stored boundary of some regions: code, boundary year, name in that year, WKB."""
        frame = pd.DataFrame({"code": pd.Series(codes, dtype=object)})  # noqa: F841  # used in SQL
        return self.con.execute(
            "SELECT g.region_code, g.boundary_year, any_value(r.name) AS name, "
            "arg_max(g.wkb, g.source_id) AS wkb FROM geometries g LEFT JOIN regions r "
            "ON r.code = g.region_code AND r.boundary_year = g.boundary_year "
            "WHERE g.region_code IN (SELECT code FROM frame) GROUP BY g.region_code, g.boundary_year "
            "ORDER BY 1, 2"
        ).fetchdf()

    def code_years(self, code: str) -> list[int]:
        """Return the boundary years in which a code occurs (empty when it is unknown)."""
        rows = self.con.execute(
            "SELECT DISTINCT boundary_year FROM regions WHERE code = ? ORDER BY 1", [code]
        ).fetchall()
        return [int(r[0]) for r in rows]

    def region_names(self) -> pd.DataFrame:
        """Code, name and level of every region that has a name (for name lookups)."""
        return self._frame(
            "SELECT DISTINCT code, name, level FROM regions WHERE name IS NOT NULL ORDER BY code"
        )

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

    def observations(self, *, measure_id: str | None = None, period: str | None = None) -> pd.DataFrame:
        """Observations in long form, optionally of one measure and one period."""
        clause, params = _where(measure_id=measure_id, period=period)
        sql = (
            "SELECT source_id, region_code, boundary_year, period, measure_id, population_group, "  # noqa: S608
            f"value, lower, upper, status FROM observations {clause} "
            "ORDER BY region_code, measure_id, period"
        )
        return self._frame(sql, params)

    def published(self, periods: list[str] | None = None) -> pd.DataFrame:
        """Return published observations (optionally of some periods), for building model features.

        Text columns come back as categoricals (through Arrow dictionaries): two million rows
        repeat a few thousand codes, and features are built far faster on codes than on strings.
        """
        clause = ""
        params: list[Any] = []
        if periods:
            clause = f"AND period IN ({', '.join('?' for _ in periods)})"
            params = list(periods)
        table = self.con.sql(
            "SELECT region_code, boundary_year, period, measure_id, population_group, value, lower, upper "  # noqa: S608
            f"FROM observations WHERE status = 'published' {clause}",
            params=params,
        ).to_arrow_table()
        encoded = {
            name: pc.dictionary_encode(column) if pa.types.is_string(column.type) else column
            for name, column in zip(table.column_names, table.columns, strict=True)
        }
        frame: pd.DataFrame = pa.table(encoded).to_pandas()
        return frame

    def periods(self, measure_id: str, population_group: str) -> list[str]:
        """Periods with published values for a measure and group, oldest first."""
        return [
            str(p)
            for p in self._column(
                "SELECT DISTINCT period FROM observations WHERE measure_id = ? AND population_group = ? "
                "AND status = 'published' ORDER BY period",
                [measure_id, population_group],
            )
        ]

    def measure_groups(self) -> pd.DataFrame:
        """Every measure and population group with published values, with the measure's label."""
        return self._frame(
            "SELECT DISTINCT o.measure_id, o.population_group, m.label FROM observations o "
            "JOIN measures m USING (measure_id) WHERE o.status = 'published' ORDER BY 1, 2"
        )

    def measures(self) -> pd.DataFrame:
        """All measures with label, unit and publisher."""
        return self._frame("SELECT * FROM measures ORDER BY measure_id")

    def save_model(self, record: dict[str, Any], estimates: pd.DataFrame) -> int:
        """Store a trained model and its estimates, replacing an earlier one for the same target."""
        key = [record["measure_id"], record["population_group"], record["level"], record["period"]]
        with self.transaction():
            old = self.con.execute(
                "SELECT model_id FROM models WHERE measure_id = ? AND population_group = ? "
                "AND level = ? AND period = ?",
                key,
            ).fetchall()
            for (model_id,) in old:
                self.con.execute("DELETE FROM estimates WHERE model_id = ?", [model_id])
                self.con.execute("DELETE FROM models WHERE model_id = ?", [model_id])
            row = self.con.execute(
                "INSERT INTO models (measure_id, population_group, level, period, algorithm, created_at, "
                "metrics, card, artifact) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING model_id",
                [*key, record["algorithm"], _now(), record["metrics"], record["card"], record["artifact"]],
            ).fetchall()[0]
            assert row is not None  # noqa: S101
            model_id = int(row[0])
            frame = estimates.assign(model_id=model_id)  # noqa: F841
            self.con.execute(
                "INSERT INTO estimates SELECT model_id, region_code, period, estimate, expected, lower, "
                "upper, survey, survey_lower, survey_upper, contributions FROM frame"
            )
        return model_id

    def model(
        self, measure_id: str, population_group: str, level: str, period: str | None = None
    ) -> dict[str, Any] | None:
        """Return the stored model for a target (the newest period unless one is named)."""
        clause = "AND period = ?" if period else ""
        params = [measure_id, population_group, level] + ([period] if period else [])
        return self._one(
            "SELECT * FROM models WHERE measure_id = ? AND population_group = ? AND level = ? "  # noqa: S608
            f"{clause} ORDER BY period DESC, created_at DESC LIMIT 1",
            params,
        )

    def model_by_id(self, model_id: int) -> dict[str, Any] | None:
        """Return one stored model by id."""
        return self._one("SELECT * FROM models WHERE model_id = ?", [model_id])

    def models(self) -> pd.DataFrame:
        """Every stored model without its artifact."""
        return self._frame(
            "SELECT model_id, measure_id, population_group, level, period, algorithm, created_at, metrics "
            "FROM models ORDER BY measure_id, population_group, level, period"
        )

    def estimates(self, model_id: int, region_codes: list[str] | None = None) -> pd.DataFrame:
        """Return a model's estimates, optionally for some regions only."""
        clause = ""
        params: list[Any] = [model_id]
        if region_codes is not None:
            clause = (
                f"AND region_code IN ({', '.join('?' for _ in region_codes)})"
                if region_codes
                else "AND FALSE"
            )
            params += list(region_codes)
        return self._frame(
            f"SELECT * FROM estimates WHERE model_id = ? {clause} ORDER BY region_code",  # noqa: S608
            params,
        )

    def cursor(self) -> Warehouse:
        """Open a second handle on the same database, for use from another thread (web requests)."""
        return Warehouse(self.con.cursor(), self.path)

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

    def values(self, measure_id: str, population_group: str, codes: list[str]) -> pd.DataFrame:
        """Return all observations of one measure and group for some regions, with the source table."""
        if not codes:
            columns = [
                "region_code",
                "period",
                "value",
                "lower",
                "upper",
                "status",
                "source",
                "boundary_year",
            ]
            return pd.DataFrame(columns=columns)
        placeholders = ", ".join("?" for _ in codes)
        return self._frame(
            "SELECT o.region_code, o.period, o.value, o.lower, o.upper, o.status, "  # noqa: S608
            "s.table_id AS source, o.boundary_year FROM observations o JOIN sources s USING (source_id) "
            f"WHERE o.measure_id = ? AND o.population_group = ? AND o.region_code IN ({placeholders}) "
            "ORDER BY o.region_code, o.period",
            [measure_id, population_group, *codes],
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

    def insert_row(self, table: str, record: dict[str, Any]) -> int:
        """Insert one goal or intervention and return its id (tables ``goals``, ``interventions``)."""
        key = ROW_KEYS[table]
        columns = list(record)
        row = self.con.execute(
            f"INSERT INTO {table} ({', '.join(columns)}, created_at) "  # noqa: S608  # fixed names
            f"VALUES ({', '.join('?' for _ in columns)}, ?) RETURNING {key}",
            [*record.values(), _now()],
        ).fetchall()[0]
        return int(row[0])

    def rows(self, table: str, gemeente_code: str | None = None) -> pd.DataFrame:
        """Return the goals or interventions, optionally of one gemeente."""
        key = ROW_KEYS[table]
        clause, params = _where(gemeente_code=gemeente_code)
        return self._frame(f"SELECT * FROM {table} {clause} ORDER BY {key}", params)  # noqa: S608

    def delete_rows(self, table: str, gemeente_code: str) -> None:
        """Remove a gemeente's goals or interventions (before an import that replaces them)."""
        ROW_KEYS[table]  # only these two tables
        self.con.execute(f"DELETE FROM {table} WHERE gemeente_code = ?", [gemeente_code])  # noqa: S608

    def update_row(self, table: str, row_id: int, record: dict[str, Any]) -> None:
        """Replace the fields of one goal or intervention (tables ``goals``, ``interventions``)."""
        key = ROW_KEYS[table]
        assignments = ", ".join(f"{column} = ?" for column in record)
        self.con.execute(
            f"UPDATE {table} SET {assignments} WHERE {key} = ?",  # noqa: S608  # fixed names
            [*record.values(), row_id],
        )

    def delete_row(self, table: str, row_id: int) -> None:
        """Remove one goal or intervention by its id."""
        key = ROW_KEYS[table]
        self.con.execute(f"DELETE FROM {table} WHERE {key} = ?", [row_id])  # noqa: S608  # fixed names

    def set_goal_links(self, intervention_id: int, goal_ids: list[int]) -> None:
        """Replace the goals an intervention is linked to (after a goal was removed)."""
        self.con.execute(
            "UPDATE interventions SET goal_ids = ? WHERE intervention_id = ?",
            [json.dumps(goal_ids), intervention_id],
        )

    def observation_count(self) -> int:
        """Count the observations in the warehouse."""
        row = self.con.execute("SELECT count(*) FROM observations").fetchall()[0]
        return int(row[0]) if row else 0

    def table_counts(self) -> dict[str, int]:
        """Row counts of every data table (used to check that a failed ingest changed nothing)."""
        out = {}
        tables = ("sources", "regions", "measures", "observations", "geometries", "crosswalks", "models")
        for table in (*tables, "estimates"):
            row = self.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0]  # noqa: S608
            out[table] = int(row[0]) if row else 0
        return out

    def _frame(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).fetchdf()

    def _column(self, sql: str, params: list[Any]) -> list[Any]:
        return [row[0] for row in self.con.execute(sql, params).fetchall()]

    def _one(self, sql: str, params: list[Any]) -> dict[str, Any] | None:
        frame = self._frame(sql, params)
        if frame.empty:
            return None
        return {str(k): v for k, v in frame.iloc[0].to_dict().items()}


def _where(**filters: str | None) -> tuple[str, list[str]]:
    """Build a WHERE clause of equality tests on fixed column names, skipping empty filters."""
    used = {column: value for column, value in filters.items() if value}
    clause = " AND ".join(f"{column} = ?" for column in used)
    return (f"WHERE {clause}" if clause else ""), list(used.values())


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)

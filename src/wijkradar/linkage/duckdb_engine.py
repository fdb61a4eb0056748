"""DuckDB back end: intake (validate + pseudonymise) and the linkage itself, in-process.

This module and :mod:`wijkradar.warehouse` are the only ones that import duckdb: the linkage runs
on its own in-memory database (not the warehouse), so that person-level data never enter the
warehouse file. Spilling to disk is switched off during intake, so raw identifiers exist only in
memory and are never written anywhere.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from wijkradar.errors import InputError
from wijkradar.linkage.definition import KINDS, queries
from wijkradar.privacy import Key
from wijkradar.regions import BUURT_PATTERN, buurt_prefix

PERSON_COLUMNS = ("person_id", "household_id", "birth_year", "sex", "buurt_code", "period")
PROVISION_COLUMNS = ("person_id", "kind", "start", "end")
SEXES = ("M", "V", "X", "O")


def connect(memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """Open an in-memory DuckDB that never spills to disk (raw identifiers stay in memory)."""
    con = duckdb.connect(":memory:")
    con.execute("SET temp_directory = ''")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    return con


def _reader(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return f"read_parquet('{_quote(path)}')"
    if suffix in (".csv", ".txt"):
        return f"read_csv('{_quote(path)}', header = true, all_varchar = true, auto_detect = true)"
    raise InputError(str(path), f"onbekend bestandstype '{suffix}'", fix="lever CSV of Parquet aan")


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")


def _columns(con: duckdb.DuckDBPyConnection, path: Path, required: tuple[str, ...]) -> None:
    if not path.is_file():
        raise InputError(str(path), "bestand bestaat niet", fix="controleer het pad")
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {_reader(path)}").fetchall()  # noqa: S608
        found = [str(r[0]) for r in described]
    except duckdb.Error:
        raise InputError(
            str(path), "bestand kan niet gelezen worden", fix="lever een geldig CSV- of Parquet-bestand aan"
        ) from None
    missing = [c for c in required if c not in found]
    if missing:
        raise InputError(
            str(path),
            f"kolom(men) {', '.join(missing)} ontbreken; gevonden: {', '.join(found)}",
            column=missing[0],
            fix=f"lever de kolommen {', '.join(required)} aan (zie de beschrijving van het invoerformaat)",
        )


def _read(con: duckdb.DuckDBPyConnection, sql: str, path: Path) -> None:
    """Read an input file into a table; a damaged file is named with its line, never its content.

    DuckDB's own CSV errors quote the offending line, identifiers and all: they are not passed on.
    """
    try:
        con.execute(sql)
    except duckdb.Error as exc:
        found = re.search(r"\bline[: ]+(\d+)", str(exc), flags=re.IGNORECASE)
        raise InputError(
            str(path),
            "regel kan niet gelezen worden als CSV (verkeerd aantal velden, aanhalingstekens of tekenset)",
            row=int(found.group(1)) if found else None,
            fix="controleer die regel in het bestand, of exporteer het opnieuw als CSV (UTF-8) of Parquet",
        ) from None


def _first_bad(con: duckdb.DuckDBPyConnection, table: str, checks: dict[str, str], path: Path) -> None:
    """Raise an InputError naming the first row that fails a check (never echoing identifiers)."""
    for column, condition in checks.items():
        row = con.execute(
            f"SELECT row_nr, CAST({column} AS VARCHAR) FROM {table} "  # noqa: S608
            f"WHERE NOT ({condition}) ORDER BY row_nr LIMIT 1"
        ).fetchall()
        if row:
            number = row[0][0]
            name = column.strip('"')
            # No value is echoed, whatever its column: a person id typed into 'start' is still one.
            raise InputError(
                str(path),
                f"ongeldige waarde in kolom {name}",
                row=int(number) + 1,  # +1 for the header line
                column=name,
                fix=_FIXES[name],
            )


_FIXES = {
    "person_id": "elke persoon heeft een niet-lege persoonssleutel",
    "household_id": "elke persoon heeft een niet-lege huishoudsleutel",
    "birth_year": "geboortejaar is een jaartal tussen 1880 en de periode",
    "sex": "geslacht is M, V, X of O",
    "buurt_code": "buurtcode zoals BU00340101",
    "period": "periode is een jaartal, bijvoorbeeld 2023",
    "kind": f"soort is een van {', '.join(KINDS)}",
    "start": "startdatum als JJJJ-MM-DD",
    "end": "einddatum leeg of als JJJJ-MM-DD, niet vóór de startdatum",
}


def intake(persons: Path, provisions: Path, key: Key, out_dir: Path, gemeente: str) -> dict[str, int]:
    """Validate both files and write pseudonymised Parquet to ``out_dir``; return row counts.

    Only persons living in ``gemeente`` (a GM code; NL01 for a national analyst) are linked: a
    gemeente links its own register, and persons elsewhere are counted (``outside``) and left out.
    """
    prefix = "BU" if gemeente == "NL01" else buurt_prefix(gemeente)
    con = connect()
    inner, outer = key.pads()
    try:
        _columns(con, persons, PERSON_COLUMNS)
        _columns(con, provisions, PROVISION_COLUMNS)
        _read(
            con,
            "CREATE TEMP TABLE persons_raw AS SELECT row_number() OVER () AS row_nr, "  # noqa: S608
            "CAST(person_id AS VARCHAR) AS person_id, CAST(household_id AS VARCHAR) AS household_id, "
            "CAST(birth_year AS VARCHAR) AS birth_year, upper(trim(CAST(sex AS VARCHAR))) AS sex, "
            "upper(trim(CAST(buurt_code AS VARCHAR))) AS buurt_code, CAST(period AS VARCHAR) AS period "
            f"FROM {_reader(persons)}",
            persons,
        )
        _first_bad(
            con,
            "persons_raw",
            {
                "person_id": "person_id IS NOT NULL AND trim(person_id) <> ''",
                "household_id": "household_id IS NOT NULL AND trim(household_id) <> ''",
                "period": "TRY_CAST(period AS INTEGER) BETWEEN 1900 AND 2100",
                "birth_year": "TRY_CAST(birth_year AS INTEGER) BETWEEN 1880 AND TRY_CAST(period AS INTEGER)",
                "sex": f"sex IN ({', '.join(repr(s) for s in SEXES)})",
                "buurt_code": f"regexp_full_match(buurt_code, '{BUURT_PATTERN}')",
            },
            persons,
        )
        outside = int(
            con.execute(
                "SELECT count(*) FROM persons_raw WHERE NOT starts_with(buurt_code, ?)",
                [prefix],
            ).fetchall()[0][0]
        )
        con.execute("DELETE FROM persons_raw WHERE NOT starts_with(buurt_code, ?)", [prefix])
        _read(
            con,
            "CREATE TEMP TABLE provisions_raw AS SELECT row_number() OVER () AS row_nr, "  # noqa: S608
            "CAST(person_id AS VARCHAR) AS person_id, lower(trim(CAST(kind AS VARCHAR))) AS kind, "
            'CAST("start" AS VARCHAR) AS "start", CAST("end" AS VARCHAR) AS "end" '
            f"FROM {_reader(provisions)}",
            provisions,
        )
        _first_bad(
            con,
            "provisions_raw",
            {
                "person_id": "person_id IS NOT NULL AND trim(person_id) <> ''",
                "kind": f"kind IN ({', '.join(repr(k) for k in KINDS)})",
                '"start"': 'TRY_CAST("start" AS DATE) IS NOT NULL',
                '"end"': '"end" IS NULL OR trim("end") = \'\' '
                'OR TRY_CAST("end" AS DATE) >= TRY_CAST("start" AS DATE)',
            },
            provisions,
        )
        hmac = "lower(sha256(?::BLOB || unhex(sha256(?::BLOB || encode(trim({c}))))))"
        out_dir.mkdir(parents=True, exist_ok=True)
        persons_out, provisions_out = out_dir / "persons.parquet", out_dir / "provisions.parquet"
        con.execute(
            f"COPY (SELECT {hmac.format(c='person_id')} AS pid, {hmac.format(c='household_id')} AS hid, "  # noqa: S608
            "CAST(birth_year AS INTEGER) AS birth_year, sex, buurt_code, CAST(period AS INTEGER) AS period "
            f"FROM persons_raw) TO '{_quote(persons_out)}' (FORMAT parquet)",
            [outer, inner, outer, inner],
        )
        con.execute(
            f'COPY (SELECT {hmac.format(c="person_id")} AS pid, kind, CAST("start" AS DATE) AS start_date, '  # noqa: S608
            "TRY_CAST(NULLIF(trim(\"end\"), '') AS DATE) AS end_date "
            f"FROM provisions_raw) TO '{_quote(provisions_out)}' (FORMAT parquet)",
            [outer, inner],
        )
        counts = {
            "outside": outside,
            "persons": int(con.execute("SELECT count(*) FROM persons_raw").fetchall()[0][0]),
            "provisions": int(con.execute("SELECT count(*) FROM provisions_raw").fetchall()[0][0]),
        }
    finally:
        con.close()
    return counts


def run(pseudonymised: Path, period: int, memory_limit: str | None = None) -> dict[str, pd.DataFrame]:
    """Run the linkage definition on pseudonymised Parquet; return the buurt-level tables."""
    con = connect(memory_limit)
    try:
        for name in ("persons", "provisions"):
            con.execute(
                f"CREATE VIEW {name} AS SELECT * FROM "  # noqa: S608
                f"read_parquet('{_quote(pseudonymised / f'{name}.parquet')}')"
            )
        out: dict[str, Any] = {name: con.execute(sql).fetchdf() for name, sql in queries(period).items()}
    finally:
        con.close()
    return out

"""The linkage definition: one SQL text (DuckDB dialect), transpiled with sqlglot for Spark.

Inputs are the pseudonymised tables ``persons(pid, hid, birth_year, sex, buurt_code, period)`` and
``provisions(pid, kind, start_date, end_date)``. A provision counts for a period (a calendar year)
when it was active on any day of that year. A household's buurt is the lowest buurt code among its
members in that period (members share an address, so normally there is one).
"""

from __future__ import annotations

from typing import Final

KINDS: Final = ("wmo", "jeugd", "bijstand", "other")
AGE_BANDS: Final = (("0-17", 0, 17), ("18-26", 18, 26), ("27-64", 27, 64), ("65+", 65, 200))

_ACTIVE = """
active AS (
    SELECT DISTINCT pid, kind FROM provisions
    WHERE start_date <= DATE '{year}-12-31' AND (end_date IS NULL OR end_date >= DATE '{year}-01-01')
),
members AS (SELECT pid, hid, birth_year, buurt_code FROM persons WHERE period = {year}),
households AS (SELECT hid, MIN(buurt_code) AS buurt_code FROM members GROUP BY hid),
household_kinds AS (
    SELECT m.hid, {flags}
    FROM members m JOIN active a ON m.pid = a.pid
    GROUP BY m.hid
),
labelled AS (
    SELECT h.hid, h.buurt_code,
           COALESCE(NULLIF(CONCAT_WS('+', {labels}), ''), 'geen') AS combination,
           {count_kinds} AS n_kinds
    FROM households h LEFT JOIN household_kinds k ON h.hid = k.hid
)
"""


def _parts() -> dict[str, str]:
    flags = ", ".join(f"MAX(CASE WHEN a.kind = '{k}' THEN 1 ELSE 0 END) AS has_{k}" for k in KINDS)
    labels = ", ".join(f"CASE WHEN k.has_{k} = 1 THEN '{k}' END" for k in KINDS)
    count = " + ".join(f"COALESCE(k.has_{k}, 0)" for k in KINDS)
    return {"flags": flags, "labels": labels, "count_kinds": count}


def queries(period: int) -> dict[str, str]:
    """Build the linkage queries for one period, in DuckDB's dialect.

    ``combinations``: households per buurt and combination of provision kinds ('geen' for none).
    ``ages``: persons in households with two or more kinds, per buurt and age band.
    """
    head = "WITH " + _ACTIVE.format(year=int(period), **_parts()).strip()
    bands = " ".join(
        f"WHEN {int(period)} - m.birth_year BETWEEN {lo} AND {hi} THEN '{name}'" for name, lo, hi in AGE_BANDS
    )
    # Only integers and fixed names are interpolated into these queries.
    ages = f"""
SELECT l.buurt_code, CASE {bands} ELSE 'onbekend' END AS age_band, COUNT(*) AS persons
FROM labelled l JOIN members m ON l.hid = m.hid
WHERE l.n_kinds >= 2
GROUP BY l.buurt_code, CASE {bands} ELSE 'onbekend' END
ORDER BY l.buurt_code, age_band"""  # noqa: S608
    return {
        "combinations": head
        + """
SELECT buurt_code, combination, n_kinds, COUNT(*) AS households
FROM labelled GROUP BY buurt_code, combination, n_kinds
ORDER BY buurt_code, combination""",
        "ages": head + ages,
    }


def for_engine(sql: str, engine: str) -> str:
    """Return the query in the dialect of ``engine`` ('duckdb' or 'spark')."""
    if engine == "duckdb":
        return sql
    import sqlglot  # only the Spark path needs the transpiler

    return str(sqlglot.transpile(sql, read="duckdb", write="spark")[0])

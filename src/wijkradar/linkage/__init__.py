"""Person-level register linkage: households with stacked support (stapeling) per buurt.

Intake pseudonymises identifiers with a keyed hash before anything else happens; the linkage runs
on DuckDB (default) or Spark from one SQL definition; only disclosure-controlled aggregates leave.
"""

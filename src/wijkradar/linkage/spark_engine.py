"""Spark back end (optional extra ``wijkradar[spark]``): the same definition, transpiled by sqlglot.

Local mode (``local[*]``) runs on one machine; ``--master spark://host:7077`` on a cluster.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from wijkradar.errors import SparkMissing
from wijkradar.linkage.definition import for_engine, queries


def run(
    pseudonymised: Path, period: int, master: str = "local[*]", memory: str = "6g"
) -> dict[str, pd.DataFrame]:
    """Run the linkage definition on Spark; return the buurt-level tables as pandas frames."""
    try:
        import sqlglot  # noqa: F401  # the definition is transpiled for Spark
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise SparkMissing(
            "De Spark-engine is niet geïnstalleerd. Oplossing: pip install 'wijkradar[spark]' "
            "(en Java 17 of nieuwer), of gebruik --engine duckdb."
        ) from exc
    spark = (
        SparkSession.builder.master(master)
        .appName("wijkradar-linkage")
        .config("spark.driver.memory", memory)
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    try:
        for name in ("persons", "provisions"):
            spark.read.parquet(str(pseudonymised / f"{name}.parquet")).createOrReplaceTempView(name)
        out: dict[str, Any] = {}
        for name, sql in queries(period).items():
            out[name] = spark.sql(for_engine(sql, "spark")).toPandas()
    finally:
        spark.stop()
    return out

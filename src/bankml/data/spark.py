"""The feature engine on Apache Spark: the same generated SQL, run by a Spark session.

:func:`compute_features_spark` compiles the feature definitions with
:func:`bankml.data.feature_sql.compile_features` in Spark's dialect (nothing is written twice
by hand) and runs the query on a Spark session: a local one by default
(``local[2]``, what ``bankml fraud features --engine spark`` starts), or any session the
caller passes in, such as one connected to the bank's cluster (see ``docs/features.md``).
Spark and DuckDB give the same features (a test marked ``spark`` checks it on a sample).

pyspark is an optional extra (``pip install 'bankml[spark]'``, about 450 MB, and Java 17);
it is imported only here and only when called, so the rest of bankml never pays for it.

Spark's output is a directory of Parquet part files (how Spark writes, and what a cluster
needs), written under a temporary name and renamed when complete; reading it back with
pyarrow or DuckDB gives the rows in (time, id) order.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bankml.core.errors import DataFileError, InputError
from bankml.data.feature_sql import SPARK, compile_feature_steps
from bankml.data.features import (
    MSG_DUPLICATE_IDS,
    MSG_MISSING_COLUMN,
    MSG_NO_ROWS,
    MSG_NULL_KEYS,
    EventTable,
    FeatureDef,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["MSG_NO_PYSPARK", "compute_features_spark", "local_spark_session"]

log = logging.getLogger(__name__)

MSG_NO_PYSPARK = (
    "the Spark engine needs pyspark: install it with pip install 'bankml[spark]' "
    "(and Java 17), or use --engine duckdb"
)

# Settings that make Spark compute what DuckDB computes: UTC wall clock for hour/weekday,
# lenient (non-ANSI) arithmetic like DuckDB's, microsecond timestamps in Parquet.
SPARK_CONF: Mapping[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "false",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
}
# Steps read by several later ones: the windowed aggregates above all.
_CACHED_STEPS = frozenset({"_ev", "_agg"})
_LOCAL_CONF: Mapping[str, str] = {
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.driver.memory": "1g",
    "spark.sql.adaptive.enabled": "true",
}


def local_spark_session(master: str = "local[2]", **conf: str) -> SparkSession:
    """A local Spark session set up for the feature engine (UTC, non-ANSI, no UI).

    Raises :class:`InputError` with install advice if pyspark is missing.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise InputError(MSG_NO_PYSPARK) from exc
    # Local Python workers (mapInPandas, UDFs) must run this interpreter, which has bankml's
    # dependencies, not whatever `python3` is on PATH; PySpark reads the choice from the
    # environment when the context starts. An explicit PYSPARK_PYTHON wins.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(master).appName("bankml-features")
    for key, value in {**_LOCAL_CONF, **SPARK_CONF, **conf}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def compute_features_spark(
    source: Path,
    defs: Sequence[FeatureDef],
    table: EventTable,
    out: Path,
    *,
    passthrough: Sequence[str] = (),
    spark: SparkSession | None = None,
) -> int:
    """Compute ``defs`` for every event of a Parquet/CSV ``source`` on Spark, write ``out``.

    ``out`` becomes a directory of Parquet files with the columns of
    :func:`bankml.data.features.compute_features` (missing values as nulls), rows in
    (time, id) order. Without ``spark`` a local session is started and stopped. Returns the
    number of rows; raises :class:`InputError` / :class:`DataFileError` like the DuckDB
    engine does.
    """
    source, out = Path(source), Path(out)
    if not source.is_file():
        raise DataFileError(f"transactions file {source} does not exist: check the path")
    own = spark is None
    session = spark if spark is not None else local_spark_session()
    started = time.perf_counter()
    try:
        session.conf.set("spark.sql.session.timeZone", "UTC")
        frame = _read(session, source)
        frame.createOrReplaceTempView("_source")
        n = _validate(session, list(frame.columns), table)
        for key, value in SPARK_CONF.items():
            session.conf.set(key, value)
        steps, body = compile_feature_steps(
            defs, table, "_source", passthrough=passthrough, dialect=SPARK
        )
        cached = []
        tmp = out.with_name(f".{out.name}.partial")
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            # Spark inlines a CTE into each of its readers; cached views compute each step once.
            for name, sql in steps:
                view = session.sql(sql)
                if name in _CACHED_STEPS:
                    view = view.cache()
                    cached.append(view)
                view.createOrReplaceTempView(name)
            session.sql(body).write.mode("overwrite").parquet(str(tmp))
            if out.exists():
                shutil.rmtree(out) if out.is_dir() else out.unlink()
            tmp.rename(out)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
            for view in cached:
                view.unpersist()
    finally:
        if own:
            session.stop()
    log.info(
        "spark computed %s features for %s events in %.2fs",
        len(defs),
        n,
        time.perf_counter() - started,
    )
    return n


def _read(session: SparkSession, source: Path) -> Any:
    suffix = source.suffix.lower()
    try:
        if suffix == ".parquet":
            return session.read.parquet(str(source))
        if suffix == ".csv":
            return (
                session.read.option("header", "true").option("inferSchema", "true").csv(str(source))
            )
    except Exception as exc:  # py4j/Spark analysis errors have no common base we can import
        raise DataFileError(f"cannot read {source.name}: {str(exc).splitlines()[0]}") from exc
    raise DataFileError(f"cannot read {source.name}: use a .parquet or .csv file")


def _validate(session: SparkSession, have: list[str], table: EventTable) -> int:
    """The same checks as the DuckDB engine: columns present, ids and times set and unique."""
    for name, column in table.columns.items():
        if column not in have:
            raise InputError(
                MSG_MISSING_COLUMN.format(column=column, name=name, have=", ".join(have))
            )
    ident = SPARK.q(table.columns[table.id])
    when = SPARK.q(table.columns[table.time])
    row = session.sql(
        f"""SELECT count(*), count(*) - count({ident}), count(*) - count({when}),
                   count({ident}) - count(DISTINCT {ident}) FROM _source"""
    ).collect()[0]
    n, null_ids, null_times, dup_ids = (int(v) for v in row)
    if n == 0:
        raise InputError(MSG_NO_ROWS)
    if null_ids:
        raise InputError(MSG_NULL_KEYS.format(n=null_ids, what="id"))
    if null_times:
        raise InputError(MSG_NULL_KEYS.format(n=null_times, what="timestamp"))
    if dup_ids:
        raise InputError(MSG_DUPLICATE_IDS.format(n=dup_ids, id=table.id))
    return n

"""Point-in-time feature engine: declared features over an event table, computed in DuckDB.

A feature is data (:class:`FeatureDef`), not code: a name, the entity it aggregates over
(``customer``, ``terminal``, ``card`` ...), a window (``"10m"``, ``"1h"``, ``"7d"``), a
kind and, where the kind needs one, a SQL expression over the event table's columns. The
engine knows nothing about fraud; :mod:`bankml.fraud.features` declares the fraud set.

Point-in-time rules (every kind obeys them; tests check them against brute force):

* Events are ordered by ``(time, id)``. The id breaks ties between events with the same
  timestamp, so "before" is always well defined and the output is deterministic.
* A rolling window ``w`` for the event at time ``t`` holds the entity's events with time
  in ``(t - w, t]`` that come *at or before* the event in that order: the event itself is
  included (it is known when it is scored), an event with the same timestamp but a larger
  id is not. This is exactly pandas' ``groupby().rolling(w)`` on rows sorted by
  ``(time, id)``.
* Labels are never read at the event's own time. ``label_rate`` looks at the *delayed*
  window ``(t - delay - w, t - delay]`` (the Fraud Detection Handbook's construction) and
  counts a positive label only if it was known by ``t`` (``label_time <= t``). Without a
  label-time column a label is taken to be known at ``time + delay``, which makes every
  label in the delayed window known. ``delay`` must be positive, so an event's own label
  can never count towards its own features.

Kinds:

``count``                number of the entity's events in the window.
``sum`` / ``mean``       sum / mean of ``expr`` over the window (nulls skipped).
``ratio_to_prior_mean``  ``expr`` divided by the mean of ``expr`` over the *earlier* events
                         in the window (the event itself excluded); 1.0 when there are none
                         or that mean is not positive.
``label_rate``           positives known by ``t`` / events, both over the delayed window;
                         0.0 when the delayed window is empty.
``first_seen``           1.0 if no earlier event of the entity has the same value of
                         ``key`` (over the whole source), else 0.0.
``row``                  ``expr`` evaluated on the event itself.
``hours_since_prior``    hours since the entity's previous event (earlier in (time, id)
                         order), at most the window; the window when there is none.
``ratio_to_median``      ``key`` (the event's own value; ``expr`` if no key) divided by
                         the median of ``expr`` over the window, the event included; 1.0
                         when that median is not positive.
``zscore``               ``key`` (or ``expr``) minus the mean of ``expr`` over the window
                         (the event included), in population standard deviations of the
                         same; 0.0 when the deviation is below :data:`SPREAD_FLOOR`.
``known_label_count``    the entity's positives with time in ``(t - w, t)`` (strictly earlier
                         in time, so never the event itself or its peers) whose label was
                         known by ``t`` (``label_time <= t``); no delayed window.

An event whose entity (or ``first_seen`` key) is null gets NaN for that feature.

The result is one row per event **sorted by (time, id)**, float64 feature columns.
:func:`compute_features` returns it as one pandas frame (fast, for inputs that fit in memory);
:func:`compute_features_to_parquet` streams it to a Parquet file instead, with one generated
SQL query (:mod:`bankml.data.feature_sql`) run by DuckDB's ``COPY ... TO`` under its memory
limit, spilling to disk beyond it: 10 million events stay under 2 GB of peak memory. Its
whole-table sorts spill ever more as the rows grow, so beyond a few million events
:func:`bankml.data.feature_partitions.compute_features_partitioned` runs the same query per
entity and hash part and reassembles the file by time slice, in bounded memory and scratch
disk (figures in ``bench/features.py``); :func:`write_features` picks between them. The same
query, in Spark's dialect, runs on a cluster (:mod:`bankml.data.spark`).
"""

from __future__ import annotations

import hashlib
import logging
import re
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, get_args

import duckdb
import numpy as np
import pandas as pd

from bankml.core.canonical import canonical_json
from bankml.core.errors import DataFileError, InputError

__all__ = [
    "FEATURE_KINDS",
    "PARTITION_ABOVE",
    "SPREAD_FLOOR",
    "EngineOptions",
    "EventTable",
    "FeatureDef",
    "FeatureKind",
    "compute_features",
    "compute_features_to_parquet",
    "definitions_hash",
    "parse_window",
    "source_columns",
    "write_features",
]

log = logging.getLogger(__name__)

FeatureKind = Literal[
    "count",
    "sum",
    "mean",
    "ratio_to_prior_mean",
    "label_rate",
    "first_seen",
    "row",
    "hours_since_prior",
    "ratio_to_median",
    "zscore",
    "known_label_count",
]
FEATURE_KINDS: tuple[str, ...] = get_args(FeatureKind)

ROLLING = frozenset({"count", "sum", "mean", "ratio_to_prior_mean"})
HISTORY = frozenset({"hours_since_prior", "ratio_to_median", "zscore"})
"""Kinds read from the entity's own history in (time, id) order: the previous event, or the
window's median and spread (no running sum gives them, so they are not ``ROLLING``)."""
LABELLED = frozenset({"label_rate", "known_label_count"})
"""Kinds that read labels (only once known): they need a label column."""
NEEDS_EXPR = frozenset({"sum", "mean", "ratio_to_prior_mean", "row", "ratio_to_median", "zscore"})
SPREAD_FLOOR = 1e-6
"""A ``zscore`` window whose standard deviation is below this has no spread (z-score 0.0)."""
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_WINDOW = re.compile(r"^([1-9][0-9]*)([smhd])$")
_UNIT_US = {"s": 1_000_000, "m": 60_000_000, "h": 3_600_000_000, "d": 86_400_000_000}

# Messages are built here so tests can assert them.
MSG_BAD_WINDOW = "window {window!r} is not a duration like '10m', '1h' or '7d'"
MSG_MISSING_COLUMN = (
    "column {column!r} (mapped as {name}) is not in the source; columns are: {have}"
)
MSG_NO_ROWS = "the source has no rows: nothing to compute features from"
MSG_DUPLICATE_IDS = "{n} {id} values appear more than once: event ids must be unique"
MSG_NULL_KEYS = "{n} rows have no {what}: every event needs an id and a timestamp"


def parse_window(window: str) -> int:
    """Turn ``"10m"``, ``"1h"``, ``"7d"`` into microseconds.

    Calendar-free on purpose: a day is 24 h of UTC time, so windows never stretch or
    shrink over daylight-saving changes and online and offline agree to the microsecond.
    """
    match = _WINDOW.match(window)
    if match is None:
        raise InputError(MSG_BAD_WINDOW.format(window=window))
    return int(match.group(1)) * _UNIT_US[match.group(2)]


@dataclass(frozen=True)
class FeatureDef:
    """One declared feature: what it aggregates, over which entity and window.

    ``expr`` and ``key`` are SQL over the event table's (renamed) columns. They are part of
    the code base, never user input: the engine pastes them into SQL as they are.
    ``requires`` lists the optional columns the feature reads, so a caller can disable it
    when the source lacks one.
    """

    name: str
    entity: str | None
    window: str | None
    description: str
    kind: FeatureKind = "row"
    expr: str | None = None
    key: str | None = None
    requires: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise InputError(f"feature name {self.name!r} must be lower_snake_case")
        if self.kind not in FEATURE_KINDS:
            raise InputError(f"feature {self.name}: unknown kind {self.kind!r}")
        if self.kind != "row" and not self.entity:
            raise InputError(f"feature {self.name}: kind {self.kind} needs an entity")
        windowed = self.kind in ROLLING or self.kind in HISTORY or self.kind in LABELLED
        if windowed and self.window is None:
            raise InputError(f"feature {self.name}: kind {self.kind} needs a window")
        if not windowed and self.window is not None:
            raise InputError(f"feature {self.name}: kind {self.kind} takes no window")
        if self.window is not None:
            parse_window(self.window)
        if self.kind in NEEDS_EXPR and not self.expr:
            raise InputError(f"feature {self.name}: kind {self.kind} needs an expr")
        if self.kind == "first_seen" and not self.key:
            raise InputError(f"feature {self.name}: kind first_seen needs a key")

    @property
    def window_us(self) -> int | None:
        """The window in microseconds, or None for features without one."""
        return None if self.window is None else parse_window(self.window)


def definitions_hash(defs: Sequence[FeatureDef], params: Mapping[str, Any] | None = None) -> str:
    """SHA-256 of a canonical rendering of ``defs`` (in order) and any ``params``.

    The registry records it next to a model, so two runs that computed different features
    (a changed window, expression, order, or label delay passed in ``params``) never share
    a hash, and the same definitions hash identically on every machine and Python version.
    """
    body = {"features": [asdict(d) for d in defs], "params": dict(params or {})}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class EventTable:
    """How to read events from a source: columns to take and the names features use.

    ``columns`` maps the name used in feature definitions to the source's column name
    (``{"customer": "cust_no", ...}``); it must map ``id`` and ``time``. ``label`` and
    ``label_time`` name (after renaming) a boolean label and the time it became known;
    ``label_delay`` is the delay of the delayed window and, without ``label_time``, the
    time after which a label counts as known.
    """

    columns: Mapping[str, str]
    id: str = "id"
    time: str = "time"
    label: str | None = None
    label_time: str | None = None
    label_delay: timedelta = timedelta(days=7)

    def __post_init__(self) -> None:
        for name in (self.id, self.time, self.label, self.label_time):
            if name is not None and name not in self.columns:
                raise InputError(f"event table: {name!r} is not one of the mapped columns")
        if self.label is not None and self.label_time is None and "label_time" in self.columns:
            raise InputError("event table: 'label_time' is taken; map it as the label time")
        if self.label_delay <= timedelta(0):
            # A zero delay would let an event's own label count at its own time.
            raise InputError("label delay must be positive (at least one microsecond)")

    @property
    def known_column(self) -> str:
        """Output column holding when each label became known (mapped, or time + delay)."""
        return self.label_time or "label_time"

    @property
    def label_delay_us(self) -> int:
        """The label delay in whole microseconds."""
        return self.label_delay // timedelta(microseconds=1)


@dataclass(frozen=True)
class EngineOptions:
    """DuckDB resources for one computation.

    ``memory_limit`` caps DuckDB's buffer pool (it spills sorts and joins to ``temp_dir``
    beyond it); the pandas result comes on top. ``temp_dir=None`` spills into a fresh
    temporary directory that is removed afterwards.
    """

    memory_limit: str = "2GB"
    threads: int = 2
    temp_dir: Path | None = None


STREAMING_OPTIONS = EngineOptions(memory_limit="1GB")
"""Defaults for :func:`compute_features_to_parquet`: DuckDB's buffer pool is the whole budget."""


def quote_ident(name: str) -> str:
    """Quote an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def source_sql(con: duckdb.DuckDBPyConnection, source: Path | pd.DataFrame) -> str:
    """Make ``source`` queryable and return the SQL that reads it."""
    if isinstance(source, pd.DataFrame):
        con.register("_source_frame", source)
        return "_source_frame"
    path = Path(source)
    if not path.is_file():
        raise DataFileError(f"transactions file {path} does not exist: check the path")
    literal = "'" + str(path).replace("'", "''") + "'"
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return f"read_parquet({literal})"
    if suffix in {".csv", ".gz"}:
        return f"read_csv({literal}, header = true)"
    raise DataFileError(f"cannot read {path.name}: use a .parquet or .csv file")


def source_columns(source: Path | pd.DataFrame) -> list[str]:
    """Column names of a Parquet/CSV file or frame, without reading its rows.

    Lets a caller check a column mapping before starting a long computation.
    """
    if isinstance(source, pd.DataFrame):
        return [str(c) for c in source.columns]
    con = duckdb.connect(":memory:")
    try:
        src = source_sql(con, source)
        return [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()]
    except (duckdb.IOException, duckdb.InvalidInputException) as exc:
        raise DataFileError(f"cannot read {Path(source).name}: {first_line(exc)}") from exc
    finally:
        con.close()


def connect_engine(options: EngineOptions, spill: Path) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the engine's memory limit, threads and spill directory."""
    con = duckdb.connect(
        ":memory:",
        config={
            "threads": options.threads,
            "memory_limit": options.memory_limit,
            "temp_directory": str(spill),
        },
    )
    # Hours, weekdays and casts of naive timestamps are all UTC, whatever the host says.
    con.execute("SET TimeZone = 'UTC'")
    return con


def compute_features(
    source: Path | pd.DataFrame,
    defs: Sequence[FeatureDef],
    table: EventTable,
    *,
    passthrough: Sequence[str] = (),
    options: EngineOptions | None = None,
) -> pd.DataFrame:
    """Compute ``defs`` for every event in ``source``, point-in-time correct.

    Returns one row per event, **sorted by (time, id)**, with the id and time columns
    (under their mapped names), the ``passthrough`` columns, ``label`` and the effective
    ``label_time`` (if a label is mapped), then one float64 column per feature in the order
    of ``defs``. Raises :class:`InputError` for missing columns, duplicate ids or null
    ids/times, :class:`DataFileError` for a missing or unreadable file.
    """
    options = options or EngineOptions()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bankml-features-", dir=options.temp_dir) as spill:
        con = connect_engine(options, Path(spill))
        try:
            with duckdb_errors():
                return _compute(con, source, list(defs), table, list(passthrough), started)
        finally:
            con.close()


def compute_features_to_parquet(
    source: Path | pd.DataFrame,
    defs: Sequence[FeatureDef],
    table: EventTable,
    out: Path,
    *,
    passthrough: Sequence[str] = (),
    options: EngineOptions | None = None,
) -> int:
    """Compute ``defs`` for every event in ``source`` and stream them to Parquet at ``out``.

    Same columns, order and values as :func:`compute_features` (missing values are nulls),
    but the rows never gather in Python: DuckDB runs one generated query and writes row
    groups as it goes, within ``options.memory_limit`` (spilling beyond it). The file is
    written under a temporary name and renamed, so ``out`` is never half-written. Returns
    the number of rows. Raises like :func:`compute_features`.
    """
    from bankml.data.feature_sql import compile_features

    options = options or STREAMING_OPTIONS
    out = Path(out)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bankml-features-", dir=options.temp_dir) as spill:
        con = connect_engine(options, Path(spill))
        # Row order comes from the query's ORDER BY; nothing else needs to be preserved.
        con.execute("SET preserve_insertion_order = true")
        tmp = out.with_name(f".{out.name}.partial")
        try:
            with duckdb_errors():
                src = source_sql(con, source)
                n = validate_source(con, src, table)
                sql = compile_features(defs, table, src, passthrough=passthrough)
                out.parent.mkdir(parents=True, exist_ok=True)
                con.execute(
                    f"COPY ({sql}) TO {sql_literal(tmp)} "
                    "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1048576)"
                )
                tmp.replace(out)
        finally:
            tmp.unlink(missing_ok=True)
            con.close()
    log.info(
        "streamed %s features for %s events to %s in %.2fs",
        len(defs),
        n,
        out,
        time.perf_counter() - started,
    )
    return n


FeatureEngine = Literal["duckdb", "spark"]
FEATURE_ENGINES: tuple[str, ...] = get_args(FeatureEngine)


PARTITION_ABOVE = 4_000_000
"""``write_features`` (duckdb) partitions the work above this many source rows (one part's
worth): below it the single streamed query is cheaper, above it its whole-table sorts spill
ever more (43 GB at 100M rows) while the partitioned engine's parts stay the same size."""


def write_features(
    source: Path,
    defs: Sequence[FeatureDef],
    table: EventTable,
    out: Path,
    *,
    engine: str = "duckdb",
    passthrough: Sequence[str] = (),
    options: EngineOptions | None = None,
    spark_session: Any = None,
    partition_above: int = PARTITION_ABOVE,
) -> int:
    """Compute features for a batch and write them to Parquet with the chosen engine.

    ``duckdb`` writes one file at ``out``: the single streamed query
    (:func:`compute_features_to_parquet`) up to ``partition_above`` source rows, the
    partitioned engine (:func:`bankml.data.feature_partitions.compute_features_partitioned`)
    beyond, both giving the same values. ``spark`` writes a directory of part files at
    ``out`` (:func:`bankml.data.spark.compute_features_spark`, on ``spark_session`` or a
    local session). All compile the same definitions to SQL. Returns the number of rows.
    The caller passes the definitions in (the fraud set, say): this layer knows no use case.
    """
    if engine not in FEATURE_ENGINES:
        raise InputError(
            f"unknown feature engine {engine!r}: choose one of {', '.join(FEATURE_ENGINES)}"
        )
    if engine == "spark":
        from bankml.data.spark import compute_features_spark

        return compute_features_spark(
            source, defs, table, out, passthrough=passthrough, spark=spark_session
        )
    if _source_rows(source) > partition_above:
        from bankml.data.feature_partitions import compute_features_partitioned

        return compute_features_partitioned(
            source, defs, table, out, passthrough=passthrough, options=options
        )
    return compute_features_to_parquet(
        source, defs, table, out, passthrough=passthrough, options=options
    )


def _source_rows(source: Path | pd.DataFrame) -> int:
    """Rows of a frame or file (Parquet: from its footer); 0 if it cannot be read, so the
    engine that runs next reports the problem in its own words."""
    if isinstance(source, pd.DataFrame):
        return len(source)
    con = duckdb.connect(":memory:")
    try:
        row = con.execute(f"SELECT count(*) FROM {source_sql(con, source)}").fetchone()
        return int(row[0]) if row is not None else 0
    except (duckdb.Error, DataFileError):
        return 0
    finally:
        con.close()


def validate_source(con: duckdb.DuckDBPyConnection, src: str, table: EventTable) -> int:
    """Check the mapped columns exist and ids/times are present and unique; return the rows."""
    have = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()]
    for name, column in table.columns.items():
        if column not in have:
            raise InputError(
                MSG_MISSING_COLUMN.format(column=column, name=name, have=", ".join(have))
            )
    ident, when = quote_ident(table.columns[table.id]), quote_ident(table.columns[table.time])
    row = con.execute(
        f"""SELECT count(*), count(*) - count({ident}), count(*) - count({when}),
                   count({ident}) - count(DISTINCT {ident}) FROM {src}"""
    ).fetchone()
    assert row is not None
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


@contextmanager
def duckdb_errors() -> Iterator[None]:
    """DuckDB's errors about the source as bankml's one-line errors (every engine's)."""
    try:
        yield
    except (duckdb.IOException, duckdb.InvalidInputException) as exc:
        raise DataFileError(f"cannot read the source: {first_line(exc)}") from exc
    except duckdb.ConversionException as exc:
        raise InputError(f"a column has values of the wrong type: {first_line(exc)}") from exc


def sql_literal(path: Path) -> str:
    """A path as an SQL string literal."""
    return "'" + str(path).replace("'", "''") + "'"


def first_line(exc: BaseException) -> str:
    """The first line of an error's message (DuckDB's run to many lines), for one-line errors."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _compute(
    con: duckdb.DuckDBPyConnection,
    source: Path | pd.DataFrame,
    defs: list[FeatureDef],
    table: EventTable,
    passthrough: list[str],
    started: float,
) -> pd.DataFrame:
    src = source_sql(con, source)
    have = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()]
    for name, column in table.columns.items():
        if column not in have:
            raise InputError(
                MSG_MISSING_COLUMN.format(column=column, name=name, have=", ".join(have))
            )
    n = _load_events(con, src, table)
    if n == 0:
        raise InputError(MSG_NO_ROWS)
    log.debug("loaded %s events in %.2fs", n, time.perf_counter() - started)

    out: dict[str, np.ndarray] = {}
    by_entity: dict[str, list[FeatureDef]] = {}
    for d in defs:
        if d.entity is not None and (d.kind in ROLLING or d.kind in LABELLED):
            by_entity.setdefault(d.entity, []).append(d)
    for entity, group in by_entity.items():
        out.update(_rolling(con, entity, group, table, n))
        log.debug("%s windows done at %.2fs", entity, time.perf_counter() - started)
    for d in defs:
        if d.kind == "first_seen":
            out[d.name] = _first_seen(con, d, n)
            log.debug("%s done at %.2fs", d.name, time.perf_counter() - started)
    history = [d for d in defs if d.kind in HISTORY]
    if history:
        out.update(_history(con, history, n))
        log.debug("history features done at %.2fs", time.perf_counter() - started)
    log.debug("aggregates done in %.2fs", time.perf_counter() - started)

    keep = [table.id, table.time, *passthrough]
    if table.label is not None:
        keep += [table.label, table.known_column]
    row_defs = [d for d in defs if d.kind == "row"]
    select = [quote_ident(c) for c in dict.fromkeys(keep)]
    select += [f"CAST(({d.expr}) AS DOUBLE) AS {quote_ident(d.name)}" for d in row_defs]
    # ev is stored in _rn order and DuckDB preserves insertion order, so no sort here;
    # checked, because a silently shuffled base would pair features with the wrong rows.
    base = con.execute(f"SELECT _rn, {', '.join(select)} FROM ev").df()
    order = base.pop("_rn").to_numpy()
    if not (order == np.arange(n)).all():
        base = base.iloc[np.argsort(order)].reset_index(drop=True)
    columns: dict[str, Any] = {c: base[c] for c in dict.fromkeys(keep)}
    for d in defs:
        values = base[d.name].to_numpy(dtype=np.float64) if d.kind == "row" else out.pop(d.name)
        columns[d.name] = values
    del base
    # copy=False keeps one block per column: no second copy of 10M-row arrays.
    result = pd.DataFrame(columns, index=pd.RangeIndex(n), copy=False)
    log.info(
        "computed %s features for %s events in %.2fs", len(defs), n, time.perf_counter() - started
    )
    return result


def _load_events(con: duckdb.DuckDBPyConnection, src: str, table: EventTable) -> int:
    """Materialise the renamed, typed events with their (time, id) rank ``_rn``."""
    cols = []
    for name, column in table.columns.items():
        if name == table.time:
            cols.append(f"CAST({quote_ident(column)} AS TIMESTAMPTZ) AS {quote_ident(name)}")
        elif name == table.label:
            # An unrecorded label is treated as negative; it can only lower a rate.
            cols.append(
                f"COALESCE(CAST({quote_ident(column)} AS BOOLEAN), FALSE) AS {quote_ident(name)}"
            )
        elif name == table.label_time:
            cols.append(f"CAST({quote_ident(column)} AS TIMESTAMPTZ) AS {quote_ident(name)}")
        else:
            cols.append(f"{quote_ident(column)} AS {quote_ident(name)}")
    time_col = quote_ident(table.time)
    known = ""
    if table.label is not None:
        if table.label_time is not None:
            known = f", epoch_us({quote_ident(table.label_time)}) AS _known"
        else:
            delay = table.label_delay_us
            known = (
                f", epoch_us({time_col}) + {delay} AS _known"
                f", {time_col} + to_microseconds({delay}) AS {quote_ident(table.known_column)}"
            )
    con.execute(
        f"""CREATE TEMP TABLE ev AS
        SELECT *, epoch_us({time_col}) AS _t {known},
               row_number() OVER (ORDER BY {time_col}, {quote_ident(table.id)}) - 1 AS _rn
        FROM (SELECT {", ".join(cols)} FROM {src})
        ORDER BY _rn"""
    )
    ident = quote_ident(table.id)
    row = con.execute(
        f"""SELECT count(*), count(*) - count({ident}), count(*) - count({time_col}),
                   count({ident}) - count(DISTINCT {ident}) FROM ev"""
    ).fetchone()
    assert row is not None
    n, null_ids, null_times, dup_ids = (int(v) for v in row)
    if null_ids:
        raise InputError(MSG_NULL_KEYS.format(n=null_ids, what="id"))
    if null_times:
        raise InputError(MSG_NULL_KEYS.format(n=null_times, what="timestamp"))
    if dup_ids:
        raise InputError(MSG_DUPLICATE_IDS.format(n=dup_ids, id=table.id))
    return n


def _rolling(
    con: duckdb.DuckDBPyConnection,
    entity: str,
    defs: list[FeatureDef],
    table: EventTable,
    n: int,
) -> dict[str, np.ndarray]:
    """Every windowed feature of one entity, from one window pass over its partitions.

    DuckDB's ``RANGE`` frame includes every event with the current timestamp (its peers),
    also those with a larger id. Ties are rare, so rather than a second sort of every row
    we compute, for events in a tie group only, what their later peers contributed and
    subtract it. ``label_rate`` denominators ride in the same pass (their frames end
    ``delay`` before ``t``, so they have no ties); numerators come from
    :func:`_known_positives`.
    """
    counts: dict[tuple[str | None, int], str] = {}  # (expr or None, window) -> alias
    sums: dict[tuple[str, int], str] = {}
    delayed: dict[int, str] = {}  # label_rate window -> alias of its delayed count
    for d in defs:
        w = d.window_us
        assert w is not None
        if d.kind == "label_rate":
            delayed.setdefault(w, f"d{len(delayed)}")
        elif d.kind == "known_label_count":
            continue  # no frame: steps only (see _known_positives)
        elif d.kind == "count":
            counts.setdefault((None, w), f"c{len(counts)}")
        else:
            assert d.expr is not None
            counts.setdefault((d.expr, w), f"c{len(counts)}")
            sums.setdefault((d.expr, w), f"s{len(sums)}")
    if table.label is None and any(d.kind in LABELLED for d in defs):
        raise InputError("label_rate and known_label_count features need a label column")
    delay = table.label_delay_us
    # Known positives as (start lag, end span) after each positive's time: label_rate's
    # delayed window (delay, delay + w), known_label_count's (t - w, t) as (1 us, w).
    spans_known = {
        d.name: (delay, delay + w) if d.kind == "label_rate" else (1, w)
        for d in defs
        if d.kind in LABELLED and (w := d.window_us) is not None
    }
    ent = quote_ident(entity)
    part = f"PARTITION BY {ent} ORDER BY _t RANGE BETWEEN"
    # Every frame ends at CURRENT ROW: DuckDB is several times faster on those than on
    # "X PRECEDING AND Y PRECEDING". A delayed window (t - d - w, t - d] is therefore
    # (t - d - w, t] minus (t - d, t]; both include the same peers, which cancel.
    spans = {w for _, w in counts} | {delay + w for w in delayed} | ({delay} if delayed else set())
    frames = [f"w{w} AS ({part} {w - 1} PRECEDING AND CURRENT ROW)" for w in sorted(spans)]
    select = ["_rn"]
    select += [
        f"count({'*' if e is None else f'({e})'}) OVER w{w} AS {a}" for (e, w), a in counts.items()
    ]
    select += [f"coalesce(sum(({e})::DOUBLE) OVER w{w}, 0) AS {a}" for (e, w), a in sums.items()]
    select += [
        f"count(*) OVER w{delay + w} - count(*) OVER w{delay} AS {a}" for w, a in delayed.items()
    ]
    raw: dict[str, np.ndarray] = {}
    if frames:
        rel = con.execute(
            f"SELECT {', '.join(select)} FROM ev WHERE {ent} IS NOT NULL WINDOW {', '.join(frames)}"
        ).fetchnumpy()
        rn = np.asarray(rel["_rn"], dtype=np.int64)
        for alias in [*counts.values(), *sums.values(), *delayed.values()]:
            full = np.full(n, np.nan)
            full[rn] = np.asarray(rel[alias], dtype=np.float64)
            raw[alias] = full
        del rel
    specs = list(dict.fromkeys(spans_known.values()))
    known = _known_positives(con, entity, specs, table, n) if specs else {}

    # Later peers: same entity, same timestamp, larger id. Same correction for every window.
    exprs = list(dict.fromkeys(e for (e, _w) in counts))
    later_n = {e: f"ln{i}" for i, e in enumerate(exprs)}
    later_s = {e: f"ls{i}" for i, e in enumerate(e for e in exprs if e is not None)}
    frame = (
        f"(PARTITION BY {ent}, _t ORDER BY _rn ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)"
    )
    tie_select = ["_rn"]
    tie_select += [
        f"count({'*' if e is None else f'({e})'}) OVER {frame} AS {a}" for e, a in later_n.items()
    ]
    tie_select += [
        f"coalesce(sum(({e})::DOUBLE) OVER {frame}, 0) AS {a}" for e, a in later_s.items()
    ]
    ties = con.execute(
        f"""WITH g AS (SELECT {ent}, _t FROM ev WHERE {ent} IS NOT NULL
                       GROUP BY ALL HAVING count(*) > 1)
            SELECT {", ".join(tie_select)} FROM ev SEMI JOIN g USING ({ent}, _t)"""
    ).fetchnumpy()
    tie_rn = np.asarray(ties["_rn"], dtype=np.int64)
    if len(tie_rn):
        log.debug("%s: %s events share a timestamp with another", entity, len(tie_rn))
        for (e, _w), alias in counts.items():
            raw[alias][tie_rn] -= np.asarray(ties[later_n[e]], dtype=np.float64)
        for (e, _w), alias in sums.items():
            raw[alias][tie_rn] -= np.asarray(ties[later_s[e]], dtype=np.float64)

    values: dict[str, np.ndarray] = {}
    value_exprs = list(
        dict.fromkeys(d.expr for d in defs if d.kind == "ratio_to_prior_mean" and d.expr)
    )
    if value_exprs:
        cols = ", ".join(f"CAST(({e}) AS DOUBLE) AS v{i}" for i, e in enumerate(value_exprs))
        fetched = con.execute(f"SELECT {cols} FROM ev ORDER BY _rn").fetchnumpy()
        for i, e in enumerate(value_exprs):
            values[e] = np.asarray(fetched[f"v{i}"], dtype=np.float64)

    result: dict[str, np.ndarray] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for d in defs:
            w = d.window_us
            assert w is not None
            if d.kind == "label_rate":
                events = raw[delayed[w]]
                rate = np.where(events > 0, known[spans_known[d.name]] / events, 0.0)
                result[d.name] = np.where(np.isnan(events), np.nan, rate)
                continue
            if d.kind == "known_label_count":
                result[d.name] = known[spans_known[d.name]]
                continue
            count = raw[counts[(d.expr if d.kind != "count" else None, w)]]
            if d.kind == "count":
                result[d.name] = count
                continue
            assert d.expr is not None
            total = raw[sums[(d.expr, w)]]
            if d.kind == "sum":
                result[d.name] = np.where(count > 0, total, np.where(np.isnan(count), np.nan, 0.0))
            elif d.kind == "mean":
                result[d.name] = np.where(count > 0, total / count, np.nan)
            else:  # ratio_to_prior_mean: the event itself leaves the window's mean
                value = values[d.expr]
                prior_n = count - 1.0
                prior_mean = (total - value) / prior_n
                usable = (prior_n > 0) & (prior_mean > 0)
                ratio = np.where(usable, value / prior_mean, 1.0)
                result[d.name] = np.where(np.isnan(count) | np.isnan(value), np.nan, ratio)
    return result


def _known_positives(
    con: duckdb.DuckDBPyConnection,
    entity: str,
    specs: list[tuple[int, int]],
    table: EventTable,
    n: int,
) -> dict[tuple[int, int], np.ndarray]:
    """Per ``(lag, span)``: the entity's positives with time ``s`` in ``(t - span, t - lag]``
    whose label was known by ``t``; NaN where the entity is missing.

    ``label_rate``'s delayed window is ``(delay, delay + w)``; ``known_label_count``'s
    ``(t - w, t)`` is ``(1, w)`` (one microsecond: strictly earlier in time). No frame can
    express "label_time <= t" (it depends on the current row), so each known positive becomes
    steps on its entity's time line: +1 when it starts to count (``max(s + lag,
    label_time)``) and -1 when it leaves the window (``s + span``). One ASOF join reads the
    running totals at ``t``. Positives are rare, so the step table is small next to the
    events.
    """
    assert table.label is not None
    ent = quote_ident(entity)
    cols = [f"k{i}" for i in range(len(specs))]

    def one(i: int, value: int) -> str:
        return ", ".join(f"{value} AS {c}" if j == i else f"0 AS {c}" for j, c in enumerate(cols))

    steps = []
    for i, (lag, span) in enumerate(specs):
        start, end = f"greatest(s + {lag}, a)", f"s + {span}"
        steps.append(f"SELECT e, {start} AS t, {one(i, 1)} FROM pos WHERE {start} < {end}")
        steps.append(f"SELECT e, {end} AS t, {one(i, -1)} FROM pos WHERE {start} < {end}")
    rel = con.execute(
        f"""
        WITH pos AS (
            SELECT {ent} AS e, _known AS a, _t AS s
            FROM ev WHERE {quote_ident(table.label)} AND _known IS NOT NULL AND {ent} IS NOT NULL
        ),
        steps AS ({" UNION ALL ".join(steps)}),
        grouped AS (
            SELECT e, t, {", ".join(f"sum({c}) AS {c}" for c in cols)} FROM steps GROUP BY e, t
        ),
        running AS (
            SELECT e, t, {", ".join(f"sum({c}) OVER w AS {c}" for c in cols)}
            FROM grouped WINDOW w AS (PARTITION BY e ORDER BY t)
        ),
        probe AS (SELECT _rn, {ent} AS e, _t FROM ev WHERE {ent} IS NOT NULL)
        SELECT probe._rn, {", ".join(f"coalesce(running.{c}, 0) AS {c}" for c in cols)}
        FROM probe ASOF LEFT JOIN running ON probe.e = running.e AND probe._t >= running.t
        """
    ).fetchnumpy()
    rn = np.asarray(rel["_rn"], dtype=np.int64)
    out: dict[tuple[int, int], np.ndarray] = {}
    for spec, c in zip(specs, cols, strict=True):
        full = np.full(n, np.nan)
        full[rn] = np.asarray(rel[c], dtype=np.float64)
        out[spec] = full
    return out


def _first_seen(con: duckdb.DuckDBPyConnection, d: FeatureDef, n: int) -> np.ndarray:
    """1.0 for the first event (in (time, id) order) of each (entity, key) pair, else 0.0."""
    assert d.entity is not None
    assert d.key is not None
    ent = quote_ident(d.entity)
    key = f"({d.key})"
    rel = con.execute(
        f"""SELECT min(_rn) AS first_rn FROM ev
            WHERE {ent} IS NOT NULL AND {key} IS NOT NULL GROUP BY {ent}, {key}"""
    ).fetchnumpy()
    missing = con.execute(f"SELECT _rn FROM ev WHERE {ent} IS NULL OR {key} IS NULL").fetchnumpy()
    full = np.zeros(n)
    full[np.asarray(rel["first_rn"], dtype=np.int64)] = 1.0
    full[np.asarray(missing["_rn"], dtype=np.int64)] = np.nan
    return full


def _history(
    con: duckdb.DuckDBPyConnection, defs: list[FeatureDef], n: int
) -> dict[str, np.ndarray]:
    """The ``HISTORY`` kinds, in pandas over the events in (time, id) order.

    pandas' ``groupby().rolling(w)`` on rows in that order holds exactly the window of the
    point-in-time rules (an event with the same timestamp but a larger id is left out), and
    its median is exact; the generated SQL (:mod:`bankml.data.feature_sql`) gives the same.
    """
    exprs = list(dict.fromkeys(e for d in defs for e in (d.expr, d.key) if e is not None))
    cols = "".join(f", CAST(({e}) AS DOUBLE) AS v{i}" for i, e in enumerate(exprs))
    entities = list(dict.fromkeys(d.entity for d in defs if d.entity is not None))
    ents = "".join(f", {quote_ident(e)} AS e{i}" for i, e in enumerate(entities))
    # A frame, not fetchnumpy: null keys come back as NA whatever the entity's type.
    rel = con.execute(f"SELECT _t{ents}{cols} FROM ev ORDER BY _rn").df()
    us = rel["_t"].to_numpy(dtype=np.int64)
    keys = {e: rel[f"e{i}"] for i, e in enumerate(entities)}
    values = {e: rel[f"v{i}"].to_numpy(dtype=np.float64) for i, e in enumerate(exprs)}
    del rel
    stats: dict[tuple[str, str, int], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    out: dict[str, np.ndarray] = {}
    for d in defs:
        assert d.entity is not None and d.window_us is not None
        key = keys[d.entity]
        if d.kind == "hours_since_prior":
            out[d.name] = _hours_since_prior(us, key, d.window_us)
            continue
        assert d.expr is not None
        slot = (d.entity, d.expr, d.window_us)
        if slot not in stats:
            stats[slot] = _window_stats(us, key, values[d.expr], d.window_us)
        median, mean, std = stats[slot]
        own = values[d.key or d.expr]
        with np.errstate(divide="ignore", invalid="ignore"):
            if d.kind == "ratio_to_median":
                value = np.where(median > 0, own / np.where(median > 0, median, 1.0), 1.0)
            else:  # zscore
                spread = std >= SPREAD_FLOOR
                value = np.where(spread, (own - mean) / np.where(spread, std, 1.0), 0.0)
        out[d.name] = np.where(key.isna().to_numpy(), np.nan, value)
    return out


def _hours_since_prior(us: np.ndarray, key: pd.Series, window_us: int) -> np.ndarray:
    """Hours since the entity's previous event, capped at the window; NaN where no entity."""
    cap = window_us / _UNIT_US["h"]
    prev = pd.Series(us).groupby(key.to_numpy(), sort=False).shift(1).to_numpy()
    gap = (us - prev).astype(np.float64) / float(_UNIT_US["h"])
    out = np.where(np.isnan(gap), cap, np.minimum(gap, cap))
    return np.where(key.isna().to_numpy(), np.nan, out)


def _window_stats(
    us: np.ndarray, key: pd.Series, values: np.ndarray, window_us: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median, mean and population standard deviation of ``values`` over each event's window
    (the event included, later peers not); NaN where the entity is missing."""
    n = len(us)
    present = key.notna().to_numpy()
    data = pd.DataFrame(
        {
            "key": key.to_numpy()[present],
            "time": us[present].astype("datetime64[us]"),
            "value": values[present],
            "pos": np.arange(n)[present],
        }
    )
    rolled = data.groupby("key", sort=False).rolling(
        pd.Timedelta(microseconds=window_us), on="time"
    )
    pos = rolled["pos"].max().to_numpy().astype(np.int64)
    out = []
    for stat in (
        rolled["value"].median(),
        rolled["value"].mean(),
        rolled["value"].std(ddof=0),
    ):
        full = np.full(n, np.nan)
        full[pos] = stat.to_numpy()
        out.append(full)
    return out[0], out[1], out[2]

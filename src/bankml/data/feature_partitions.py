"""Features of any number of events in bounded memory and scratch disk: one entity at a time,
hash-partitioned, then put back together in (time, id) order a time slice at a time.

The single streamed query (:func:`bankml.data.features.compute_features_to_parquet`) sorts
the whole table for every entity's windows; at 100M events that spilled more than 43 GB with
a 1 GB buffer pool and had written nothing after 27 minutes. But no feature looks across
entities: every window, tie, label step and ``first_seen`` pair of the generated SQL
(:mod:`bankml.data.feature_sql`) is ``PARTITION BY`` its entity (``first_seen`` by entity
and key), so the events of one entity value carry everything its features need. Hence:

1. **Families.** The definitions are grouped by entity (customer, terminal, card ...); the
   ``row`` features and the carried columns (id, time, passthrough, label) ride with the
   first family. With no entity at all, one family keyed on the event id.
2. **Hash partitions.** For each family, the mapped source columns are written once to
   ``N`` Parquet parts by ``hash(entity) % N`` (DuckDB's partitioned ``COPY``), ``N`` from
   ``partition_rows``. Every value of the entity, with its whole history, lands in one part;
   events without an entity land somewhere and get NULL, as they would anyway.
3. **Per part, the same compiled query**, restricted to the family's definitions and
   generated from them (never hand-copied), so a part's values are those the whole-table
   query gives its events. Each part's result is written sorted by **time slice** (equal
   widths of ``[min time, max time]``, about ``slice_rows`` events each) in small row groups,
   and the part's input is deleted.
4. **Assembly, slice by slice:** the families' results of one slice (row group statistics
   skip the other slices) are joined on the event id and sorted by (time, id); slices are
   disjoint ranges of time in order, so writing them one after the other gives the whole
   file in (time, id) order. Rows pass through Python as Arrow batches into one Parquet
   writer.

Memory is the buffer pool (``memory_limit``) plus one Arrow batch and a row group in the
writer; scratch disk is about one family's copy of the source plus the families' results
(compressed feature columns) and one part's spill, instead of the whole-table sorts' spill.
Columns of the file are all nullable (the single query marks some required), the values
are the same. The output is written
under a temporary name and renamed, so a failure leaves no half-written file; the scratch
folder is always removed.
"""

from __future__ import annotations

import logging
import math
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from bankml.core.errors import InputError
from bankml.data.feature_sql import compile_features
from bankml.data.features import (
    STREAMING_OPTIONS,
    EngineOptions,
    EventTable,
    FeatureDef,
    connect_engine,
    duckdb_errors,
    quote_ident,
    source_sql,
    sql_literal,
    validate_source,
)

__all__ = [
    "MSG_UNMAPPED_ENTITY",
    "PartitionPlan",
    "ProgressFn",
    "compute_features_partitioned",
    "plan_partitions",
]

log = logging.getLogger(__name__)

ProgressFn = Callable[[str, int, int], None]
"""Called as ``progress(stage, done, total)``; stages ``partition:<entity>``,
``features:<entity>`` (unit: parts) and ``assemble`` (unit: time slices)."""

MSG_UNMAPPED_ENTITY = "features partition on {entity!r}, which the event table does not map"

_PART = "_bankml_part"
_SLICE = "_bankml_slice"
_SORTED_GROUP_ROWS = 65_536  # family results: slices of a part are ~partition/slices rows
_FLUSH_ROWS = 65_536  # partitioned write: rows buffered per part before it is written
_BATCH_ROWS = 1_048_576  # rows per Arrow batch and Parquet row group, as the streamed engine


@dataclass(frozen=True)
class PartitionPlan:
    """How a computation is cut: entity families, parts per family, time slices."""

    families: tuple[tuple[str | None, tuple[FeatureDef, ...]], ...]
    parts: int
    slices: int


def plan_partitions(
    defs: Sequence[FeatureDef], rows: int, partition_rows: int, slice_rows: int
) -> PartitionPlan:
    """Group ``defs`` by the entity their windows partition on, and size the cuts.

    ``row`` features need no other event, so they join the first family; the first family
    also carries the output's id, time, passthrough and label columns.
    """
    if partition_rows < 1 or slice_rows < 1:
        raise InputError("partition_rows and slice_rows must be at least 1")
    by_entity: dict[str | None, list[FeatureDef]] = {}
    for f in defs:
        if f.kind != "row":
            by_entity.setdefault(f.entity, []).append(f)
    families = [(entity, tuple(group)) for entity, group in by_entity.items()] or [(None, ())]
    first, group = families[0]
    families[0] = (first, group + tuple(f for f in defs if f.kind == "row"))
    return PartitionPlan(
        families=tuple(families),
        parts=max(1, math.ceil(rows / partition_rows)),
        slices=max(1, math.ceil(rows / slice_rows)),
    )


def compute_features_partitioned(
    source: Path | pd.DataFrame,
    defs: Sequence[FeatureDef],
    table: EventTable,
    out: Path,
    *,
    passthrough: Sequence[str] = (),
    options: EngineOptions | None = None,
    partition_rows: int = 4_000_000,
    slice_rows: int = 2_000_000,
    progress: ProgressFn | None = None,
) -> int:
    """Compute ``defs`` for every event of ``source`` into one Parquet file at ``out``.

    Same columns, rows, order and values as :func:`bankml.data.features.compute_features`
    (missing values are nulls) and as the single streamed query, for any number of events:
    the work is cut by entity and time (see the module docstring) so that memory stays
    within ``options.memory_limit`` (plus an Arrow batch) and scratch disk within about one
    copy of the source plus the features. ``partition_rows`` sizes the hash parts of each
    entity family, ``slice_rows`` the time slices of the assembly. Scratch goes to a fresh
    folder under ``options.temp_dir`` (the system's temporary folder if None), removed
    afterwards. Returns the number of rows; raises like ``compute_features``.
    """
    options = options or STREAMING_OPTIONS
    report: ProgressFn = progress or (lambda _stage, _done, _total: None)
    out = Path(out)
    started = time.perf_counter()
    tmp = out.with_name(f".{out.name}.partial")
    with tempfile.TemporaryDirectory(prefix="bankml-features-", dir=options.temp_dir) as scratch:
        work = Path(scratch)
        (work / "spill").mkdir()
        con = connect_engine(options, work / "spill")
        try:
            with duckdb_errors():
                src = source_sql(con, source)
                n = validate_source(con, src, table)
                plan = plan_partitions(defs, n, partition_rows, slice_rows)
                for entity, _group in plan.families:
                    if entity is not None and entity not in table.columns:
                        raise InputError(MSG_UNMAPPED_ENTITY.format(entity=entity))
                log.info(
                    "partitioned features: %s events, %s families, %s parts each, %s slices",
                    n,
                    len(plan.families),
                    plan.parts,
                    plan.slices,
                )
                slice_sql = _slice_expr(con, src, table, plan.slices)
                for i, (entity, group) in enumerate(plan.families):
                    parts = _partition_source(
                        con, src, table, entity, plan.parts, slice_sql, work, i
                    )
                    report(f"partition:{entity or table.id}", 1, 1)
                    keep = [*passthrough, _SLICE] if i == 0 else [_SLICE]
                    for done, part in enumerate(parts, 1):
                        _family_features(con, part, group, table, keep, work / f"out{i}", i == 0)
                        shutil.rmtree(part)
                        report(f"features:{entity or table.id}", done, len(parts))
                out.parent.mkdir(parents=True, exist_ok=True)
                written = _assemble(con, defs, table, passthrough, plan, work, tmp, report)
            if written != n:  # pragma: no cover - every family holds every event once
                raise AssertionError(f"assembled {written} rows of {n}")
            tmp.replace(out)
        finally:
            tmp.unlink(missing_ok=True)
            con.close()
    log.info(
        "partitioned %s features for %s events to %s in %.2fs",
        len(defs),
        n,
        out,
        time.perf_counter() - started,
    )
    return n


def _slice_expr(con: duckdb.DuckDBPyConnection, src: str, table: EventTable, slices: int) -> str:
    """SQL giving each source row its time slice: equal widths of [min, max] event time.

    A function of the time alone, so events with the same timestamp share a slice and
    slice order is time order.
    """
    t = f"epoch_us(CAST({quote_ident(table.columns[table.time])} AS TIMESTAMPTZ))"
    row = con.execute(f"SELECT min({t}), max({t}) FROM {src}").fetchone()
    assert row is not None and row[0] is not None
    low, high = int(row[0]), int(row[1])
    width = high - low + 1
    return f"CAST((CAST({t} AS HUGEINT) - {low}) * {slices} // {width} AS INTEGER)"


def _partition_source(
    con: duckdb.DuckDBPyConnection,
    src: str,
    table: EventTable,
    entity: str | None,
    parts: int,
    slice_sql: str,
    work: Path,
    family: int,
) -> list[Path]:
    """Write the mapped columns in ``parts`` hash parts of ``entity`` (the id if None)."""
    target = work / f"in{family}"
    key = quote_ident(table.columns[entity if entity is not None else table.id])
    columns = ", ".join(quote_ident(c) for c in dict.fromkeys(table.columns.values()))
    # The write buffers up to _FLUSH_ROWS per part and thread before writing it out.
    con.execute(f"SET partitioned_write_flush_threshold = {_FLUSH_ROWS}")
    con.execute(
        f"COPY (SELECT {columns}, {slice_sql} AS {_SLICE}, hash({key}) % {parts} AS {_PART}"
        f" FROM {src}) TO {sql_literal(target)}"
        f" (FORMAT parquet, COMPRESSION zstd, PARTITION_BY ({_PART}))"
    )
    return sorted(target.glob(f"{_PART}=*"), key=lambda p: int(p.name.split("=")[1]))


def _family_features(
    con: duckdb.DuckDBPyConnection,
    part: Path,
    group: Sequence[FeatureDef],
    table: EventTable,
    keep: list[str],
    target: Path,
    carries_columns: bool,
) -> None:
    """Run the family's compiled query on one part; write its rows by time slice."""
    # The slice rides through the query as a passthrough column of the event table.
    sliced = replace(table, columns={**table.columns, _SLICE: _SLICE})
    src = f"read_parquet({sql_literal(part / '*.parquet')}, hive_partitioning = false)"
    sql = compile_features(group, sliced, src, passthrough=keep, order=False)
    if not carries_columns:
        names = [table.id, _SLICE, *(f.name for f in group)]
        sql = f"SELECT {', '.join(quote_ident(c) for c in names)} FROM ({sql})"
    # Sorted by slice, not partitioned by it: a partitioned write buffers every slice of
    # the part at once (all of it, as each slice gets fewer rows than a flush), a sort
    # spills. Small row groups let the assembly's slice filter skip the rest of the file.
    target.mkdir(exist_ok=True)
    file = target / f"{part.name.split('=')[1]}.parquet"
    con.execute(
        f"COPY (SELECT * FROM ({sql}) ORDER BY {_SLICE}) TO {sql_literal(file)}"
        f" (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {_SORTED_GROUP_ROWS})"
    )


def _assemble(
    con: duckdb.DuckDBPyConnection,
    defs: Sequence[FeatureDef],
    table: EventTable,
    passthrough: Sequence[str],
    plan: PartitionPlan,
    work: Path,
    tmp: Path,
    report: ProgressFn,
) -> int:
    """Join the families slice by slice, in (time, id) order, into one Parquet file."""
    keep = [table.id, table.time, *passthrough]
    if table.label is not None:
        keep += [table.label, table.known_column]
    owner = {f.name: i for i, (_e, group) in enumerate(plan.families) for f in group}
    select = [f"f0.{quote_ident(c)} AS {quote_ident(c)}" for c in dict.fromkeys(keep)]
    select += [f"f{owner[f.name]}.{quote_ident(f.name)} AS {quote_ident(f.name)}" for f in defs]
    ident = quote_ident(table.id)
    writer: pq.ParquetWriter | None = None
    schema: pa.Schema | None = None
    rows = 0
    try:
        for s in range(plan.slices):
            # Row group statistics on the slice column skip the other slices' rows.
            sources = [
                f"(SELECT * FROM read_parquet({sql_literal(work / f'out{i}' / '*.parquet')})"
                f" WHERE {_SLICE} = {s}) f{i}"
                for i in range(len(plan.families))
            ]
            joins = "".join(f" JOIN {s_} USING ({ident})" for s_ in sources[1:])
            sql = (
                f"SELECT {', '.join(select)} FROM {sources[0]}{joins}"
                f" ORDER BY f0.{quote_ident(table.time)}, f0.{ident}"
            )
            reader = con.sql(sql).to_arrow_reader(_BATCH_ROWS)
            for batch in reader:
                if writer is None:
                    schema = batch.schema
                    writer = pq.ParquetWriter(tmp, schema, compression="zstd")
                assert schema is not None
                if batch.schema != schema:  # nullability can differ between slices
                    writer.write_table(pa.Table.from_batches([batch]).cast(schema))
                else:
                    writer.write_batch(batch)
                rows += batch.num_rows
            report("assemble", s + 1, plan.slices)
    finally:
        if writer is not None:
            writer.close()
    return rows

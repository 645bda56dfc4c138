"""The checks themselves, run over one opened table, and ``check_table``, the entry point."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bankml.core.errors import InputError
from bankml.data.quality._helpers import (
    bucket_days,
    compatible,
    day_to_iso,
    days_text,
    epoch_us,
    examples_text,
    ident,
    is_naive,
    kind_of,
    null_pred,
    pct,
    plain_json,
    type_label,
)
from bankml.data.quality.constants import (
    DEFAULT_SEED,
    DRIFT_ADDED_COLUMN,
    DRIFT_REMOVED_COLUMN,
    DRIFT_RETYPED_COLUMN,
    DUPLICATE_ROWS,
    EXAMPLES,
    MAX_SEGMENTS,
    MISSINGNESS_BY_SEGMENT,
    MISSINGNESS_BY_TIME,
    MISSINGNESS_MIN_DIFF,
    MISSINGNESS_MIN_GROUP_NULLS,
    MISSINGNESS_MIN_GROUP_ROWS,
    MISSINGNESS_MIN_RATIO,
    MISSINGNESS_P_VALUE,
    MISSINGNESS_WINDOW_MAX_ROW_SHARE,
    MISSINGNESS_WINDOW_NULL_SHARE,
    MSG_BAD_ARGUMENT,
    MSG_DRIFT_ADDED,
    MSG_DRIFT_REMOVED,
    MSG_DRIFT_RETYPED,
    MSG_DUPLICATE_KEY,
    MSG_DUPLICATE_ROWS,
    MSG_FUTURE,
    MSG_MISSING_BY_SEGMENT,
    MSG_MISSING_BY_TIME_PEAK,
    MSG_MISSING_BY_TIME_WINDOW,
    MSG_MISSING_COLUMN,
    MSG_NAIVE,
    MSG_NOT_ALLOWED,
    MSG_NULLS,
    MSG_OUT_OF_ORDER,
    MSG_OUT_OF_RANGE,
    MSG_UNDECLARED_COLUMN,
    MSG_WRONG_TYPE,
    SCHEMA_DUPLICATE_KEY,
    SCHEMA_MISSING_COLUMN,
    SCHEMA_NOT_ALLOWED,
    SCHEMA_NULLS,
    SCHEMA_OUT_OF_RANGE,
    SCHEMA_UNDECLARED_COLUMN,
    SCHEMA_WRONG_TYPE,
    TIME_FUTURE,
    TIME_NAIVE,
    TIME_OUT_OF_ORDER,
    US_PER_DAY,
    Severity,
)
from bankml.data.quality.leakage import leakage_scan
from bankml.data.quality.profile import column_distributions, profile_source
from bankml.data.quality.report import ColumnDistribution, ColumnStats, Finding, QualityReport
from bankml.data.quality.source import Source, open_source
from bankml.data.schemas import ColumnSpec, TableSchema

logger = logging.getLogger(__name__)


class Checker:
    """Runs every check over one opened table and collects findings (one instance per call)."""

    def __init__(
        self,
        src: Source,
        schema: TableSchema,
        *,
        now: datetime,
        reference: Path | None,
        threshold: float,
        sample_rows: int | None,
        seed: int,
    ) -> None:
        self.src = src
        self.schema = schema
        self.now = now
        self.reference = reference
        self.threshold = threshold
        self.sample_rows = sample_rows
        self.seed = seed
        self.findings: list[Finding] = []
        self.stats: dict[str, ColumnStats] = {}
        self.wrong_type: set[str] = set()
        self.leakage_sample_rows: int | None = None
        self.distributions: list[ColumnDistribution] = []

    # helpers
    def add(
        self,
        check: str,
        severity: Severity,
        column: str | None,
        message: str,
        **details: Any,
    ) -> None:
        self.findings.append(Finding(check, severity, column, message, details))

    def kind(self, name: str) -> str:
        return self.src.kinds.get(name, "missing")

    def present(self, name: str | None) -> bool:
        return name is not None and name in self.src.kinds

    def usable(self, name: str | None, kinds: Sequence[str]) -> bool:
        """Present, of one of ``kinds``, and not already reported as the wrong type."""
        return (
            name is not None
            and self.present(name)
            and self.kind(name) in kinds
            and name not in self.wrong_type
        )

    def counts(self, filters: dict[str, str]) -> dict[str, int]:
        """Count rows matching each SQL filter, all in one pass over the table."""
        if not filters:
            return {}
        keys = list(filters)
        select = ", ".join(f"count(*) FILTER (WHERE {filters[k]})" for k in keys)
        (row,) = self.src.sql(f"SELECT {select} FROM t")
        return {k: int(v or 0) for k, v in zip(keys, row, strict=True)}

    # run
    def run(self) -> None:
        self.stats = profile_source(self.src)
        self.check_columns()
        self.check_values()
        dup_keys = self.check_keys()
        self.check_duplicate_rows(dup_keys)
        self.check_time()
        self.check_missingness()
        if self.reference is not None:
            self.check_drift(self.reference)
        self.distributions = self.plot_distributions()
        leakage_scan(self)

    # 1. schema: presence, type, nulls
    def check_columns(self) -> None:
        for spec in self.schema.columns:
            if not self.present(spec.name):
                self.add(
                    SCHEMA_MISSING_COLUMN,
                    "blocking",
                    spec.name,
                    MSG_MISSING_COLUMN.format(column=spec.name, expected=spec.dtype),
                    expected=spec.dtype,
                )
                continue
            found = self.kind(spec.name)
            stats = self.stats[spec.name]
            if not compatible(found, spec.dtype):
                self.wrong_type.add(spec.name)
                self.add(
                    SCHEMA_WRONG_TYPE,
                    "blocking",
                    spec.name,
                    MSG_WRONG_TYPE.format(column=spec.name, found=stats.dtype, expected=spec.dtype),
                    expected=spec.dtype,
                    found=stats.dtype,
                )
            if not spec.nullable and stats.null_count:
                self.add(
                    SCHEMA_NULLS,
                    "blocking",
                    spec.name,
                    MSG_NULLS.format(
                        column=spec.name, count=stats.null_count, rate=pct(stats.null_rate)
                    ),
                    count=stats.null_count,
                    rate=stats.null_rate,
                )
        declared = set(self.schema.column_names)
        for name in self.src.names:
            if name not in declared:
                self.add(
                    SCHEMA_UNDECLARED_COLUMN,
                    "warning",
                    name,
                    MSG_UNDECLARED_COLUMN.format(
                        column=name, found=self.stats[name].dtype, schema=self.schema.name
                    ),
                    found=self.stats[name].dtype,
                )

    # 1. schema: ranges and allowed values
    def check_values(self) -> None:
        filters: dict[str, str] = {}
        params: dict[str, list[Any]] = {}
        specs: dict[str, ColumnSpec] = {}
        for spec in self.schema.columns:
            kinds = ("float", "int") if spec.dtype == "float" else (spec.dtype,)
            if not self.usable(spec.name, kinds):
                continue
            q = ident(spec.name)
            if spec.is_numeric and (spec.min is not None or spec.max is not None):
                bad = []
                if spec.min is not None:
                    bad.append(f"{q} {'<=' if spec.min_exclusive else '<'} {spec.min!r}")
                if spec.max is not None:
                    bad.append(f"{q} > {spec.max!r}")
                nan_guard = f"NOT isnan({q}) AND " if self.kind(spec.name) == "float" else ""
                filters[f"range:{spec.name}"] = f"{nan_guard}({' OR '.join(bad)})"
                specs[f"range:{spec.name}"] = spec
            if spec.allowed is not None:
                key = f"allowed:{spec.name}"
                literal = ", ".join(_sql_literal(v) for v in spec.allowed)
                filters[key] = f"{q} IS NOT NULL AND {q} NOT IN ({literal})"
                params[key] = list(spec.allowed)
                specs[key] = spec
        for key, count in self.counts(filters).items():
            if not count:
                continue
            spec = specs[key]
            q = ident(spec.name)
            if key.startswith("range:"):
                rows = self.src.sql(
                    f"SELECT DISTINCT {q} FROM t WHERE {filters[key]} ORDER BY {q} LIMIT {EXAMPLES}"
                )
                examples = [r[0] for r in rows]
                lo = "-inf" if spec.min is None else spec.min
                hi = "+inf" if spec.max is None else spec.max
                bounds = f"{'(' if spec.min_exclusive else '['}{lo}, {hi}]"
                self.add(
                    SCHEMA_OUT_OF_RANGE,
                    "blocking",
                    spec.name,
                    MSG_OUT_OF_RANGE.format(
                        column=spec.name,
                        count=count,
                        bounds=bounds,
                        examples=examples_text(examples),
                    ),
                    count=count,
                    min=spec.min,
                    max=spec.max,
                    min_exclusive=spec.min_exclusive,
                    examples=examples,
                )
            else:
                rows = self.src.sql(
                    f"SELECT {q}, count(*) AS n FROM t WHERE {filters[key]}"
                    f" GROUP BY {q} ORDER BY n DESC, {q} LIMIT {EXAMPLES}"
                )
                self.add(
                    SCHEMA_NOT_ALLOWED,
                    "blocking",
                    spec.name,
                    MSG_NOT_ALLOWED.format(
                        column=spec.name,
                        count=count,
                        allowed=params[key],
                        examples=examples_text(r[0] for r in rows),
                    ),
                    count=count,
                    allowed=params[key],
                    examples={str(plain_json(r[0])): int(r[1]) for r in rows},
                )

    # 1. schema: unique columns and primary key
    def check_keys(self) -> bool:
        """Report duplicate unique values / primary keys; return whether the PK is broken."""
        key_sets: list[list[str]] = [[c.name] for c in self.schema.columns if c.unique]
        pk = list(self.schema.primary_key)
        if pk and pk not in key_sets:
            key_sets.append(pk)
        pk_broken = False
        for cols in key_sets:
            if not all(self.present(c) for c in cols):
                continue
            group = ", ".join(ident(c) for c in cols)
            not_null = " AND ".join(f"{ident(c)} IS NOT NULL" for c in cols)
            dup_sql = (
                f"SELECT {group}, count(*) AS n FROM t WHERE {not_null}"
                f" GROUP BY {group} HAVING count(*) > 1"
            )
            ((keys, rows),) = self.src.sql(f"SELECT count(*), coalesce(sum(n), 0) FROM ({dup_sql})")
            if not keys:
                continue
            if cols == pk:
                pk_broken = True
            top = self.src.sql(f"{dup_sql} ORDER BY n DESC LIMIT {EXAMPLES}")
            examples = [r[0] if len(cols) == 1 else list(r[:-1]) for r in top]
            single = len(cols) == 1
            what = f"column {cols[0]!r}" if single else f"primary key {cols}"
            self.add(
                SCHEMA_DUPLICATE_KEY,
                "blocking",
                cols[0] if single else None,
                MSG_DUPLICATE_KEY.format(
                    what=what, count=int(keys), rows=int(rows), examples=examples_text(examples)
                ),
                columns=cols,
                duplicated_values=int(keys),
                rows_involved=int(rows),
                primary_key=cols == pk,
                examples=examples,
            )
        return pk_broken

    # 3. duplicate rows
    def check_duplicate_rows(self, pk_broken: bool) -> None:
        pk = list(self.schema.primary_key)
        pk_checked = bool(pk) and all(self.present(c) for c in pk)
        if pk_checked and not pk_broken:
            return  # distinct primary keys make identical rows impossible
        ((distinct,),) = self.src.sql("SELECT count(*) FROM (SELECT DISTINCT * FROM t)")
        extra = self.src.row_count - int(distinct)
        if extra <= 0:
            return
        consequence = f" (breaks primary key {pk})" if pk_checked else ""
        self.add(
            DUPLICATE_ROWS,
            "blocking" if pk_checked else "warning",
            None,
            MSG_DUPLICATE_ROWS.format(count=extra, consequence=consequence),
            count=extra,
            rate=extra / self.src.row_count,
        )

    # 4. time
    def check_time(self) -> None:
        now_us = int((self.now - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1))
        filters: dict[str, str] = {}
        for field_ in self.src.arrow_schema:
            name, kind = field_.name, kind_of(field_.type)
            spec = self.schema.column(name)
            if (
                is_naive(field_.type)
                and spec is not None
                and spec.dtype == "timestamp"
                and spec.tz_required
            ):
                self.add(
                    TIME_NAIVE,
                    "blocking",
                    name,
                    MSG_NAIVE.format(column=name),
                    found=type_label(field_.type),
                )
            role = self.schema.role_of(name)
            # Label times are legitimately in the future: the outcome is not known yet.
            if kind in ("date", "timestamp") and role != "label_time":
                filters[name] = f"{epoch_us(name, field_.type)} > {now_us}"
        for name, count in self.counts(filters).items():
            if not count:
                continue
            is_event = name == self.schema.event_time
            self.add(
                TIME_FUTURE,
                "blocking" if is_event else "warning",
                name,
                MSG_FUTURE.format(
                    column=name,
                    count=count,
                    now=self.now.isoformat(timespec="seconds"),
                    latest=self.stats[name].max,
                ),
                count=count,
                now=self.now,
                latest=self.stats[name].max,
                event_time=is_event,
            )
        self.check_order()

    def check_order(self) -> None:
        col = self.schema.ordered_by
        if col is None or not self.usable(col, ("int", "float", "date", "timestamp")):
            return
        arr = self.src.read([col]).column(0).drop_null()
        if self.kind(col) == "timestamp":
            arr = pc.cast(arr, pa.int64())
        elif self.kind(col) == "date":
            arr = pc.cast(arr, pa.int32())
        values = arr.to_numpy()
        if values.dtype.kind == "f":
            values = values[~np.isnan(values)]
        count = int(np.count_nonzero(values[1:] < values[:-1])) if len(values) > 1 else 0
        if count:
            first = int(np.argmax(values[1:] < values[:-1])) + 1
            self.add(
                TIME_OUT_OF_ORDER,
                "warning",
                col,
                MSG_OUT_OF_ORDER.format(count=count, column=col),
                count=count,
                first_row=first,
            )

    # 2. missingness pattern
    def check_missingness(self) -> None:
        n = self.src.row_count
        candidates = [
            s.name for s in self.stats.values() if 0 < s.null_count < n and s.kind != "null"
        ]
        if not candidates:
            return
        self._missingness_by_segment(candidates)
        self._missingness_by_time(candidates)

    def _missingness_by_segment(self, candidates: list[str]) -> None:
        """One finding per column, naming the segment column that explains its nulls best.

        Segment columns are often correlated (employment and customer segment), so the nulls
        of one show up in both; the one with the larger chi-square per row is reported and
        the others are listed in the details.
        """
        hits: dict[str, list[dict[str, Any]]] = {}
        for seg in self.schema.segment_columns:
            if not self.usable(seg, ("string", "int", "bool")):
                continue
            if (self.stats[seg].distinct_count or 0) > MAX_SEGMENTS:
                continue
            cols = [c for c in candidates if c != seg]
            if not cols:
                continue
            q = ident(seg)
            sums = ", ".join(f"count(*) FILTER (WHERE {null_pred(c, self.kind(c))})" for c in cols)
            rows = self.src.sql(f"SELECT {q}, count(*), {sums} FROM t GROUP BY {q}")
            labels = ["<null>" if r[0] is None else str(plain_json(r[0])) for r in rows]
            sizes = np.array([r[1] for r in rows], dtype=float)
            for j, col in enumerate(cols):
                nulls = np.array([r[2 + j] for r in rows], dtype=float)
                hit = _concentration(sizes, nulls)
                if hit is None:
                    continue
                order = np.argsort(-nulls / np.maximum(sizes, 1))[:10]
                hits.setdefault(col, []).append(
                    {
                        "segment_column": seg,
                        "segment": labels[hit.group],
                        "segment_null_rate": nulls[hit.group] / sizes[hit.group],
                        "overall_null_rate": self.stats[col].null_rate,
                        "p_value": hit.p_value,
                        "effect": hit.effect,
                        "by_segment": {
                            labels[i]: {"rows": int(sizes[i]), "null_rate": nulls[i] / sizes[i]}
                            for i in order
                        },
                    }
                )
        for col, found in hits.items():
            best = max(found, key=lambda h: h["effect"])
            others = [h["segment_column"] for h in found if h is not best]
            self.add(
                MISSINGNESS_BY_SEGMENT,
                "warning",
                col,
                MSG_MISSING_BY_SEGMENT.format(
                    column=col,
                    group_rate=pct(best["segment_null_rate"]),
                    segment=best["segment_column"],
                    value=best["segment"],
                    rate=pct(best["overall_null_rate"]),
                ),
                **best,
                also_concentrated_by=others,
            )

    def _missingness_by_time(self, candidates: list[str]) -> None:
        event = self.schema.event_time
        if not self.usable(event, ("date", "timestamp")) or event is None:
            return
        cols = [c for c in candidates if c != event]
        if not cols:
            return
        epoch = epoch_us(event, self.src.arrow_schema.field(event).type)
        lo, hi = self.src.sql(f"SELECT min({epoch}), max({epoch}) FROM t")[0]
        if lo is None:
            return
        width = bucket_days(self.src.row_count, (hi - lo) / US_PER_DAY)
        day = f"floor({epoch} / {US_PER_DAY}.0)"
        first = lo // US_PER_DAY  # periods start on the first day of data
        bucket = f"CAST(floor(({day} - {first}) / {width}) AS BIGINT)"
        sums = ", ".join(f"count(*) FILTER (WHERE {null_pred(c, self.kind(c))})" for c in cols)
        rows = self.src.sql(
            f"SELECT {bucket} AS b, count(*), {sums} FROM t"
            f" WHERE {ident(event)} IS NOT NULL GROUP BY b ORDER BY b"
        )
        if len(rows) < 2:
            return
        starts = [int(r[0]) * width + first for r in rows]  # first day of each period
        sizes = np.array([r[1] for r in rows], dtype=float)
        for j, col in enumerate(cols):
            nulls = np.array([r[2 + j] for r in rows], dtype=float)
            hit = _concentration(sizes, nulls)
            if hit is None:
                continue
            g, p_value, overall = hit.group, hit.p_value, hit.overall
            rates = nulls / np.maximum(sizes, 1)
            high = np.flatnonzero(
                (sizes >= MISSINGNESS_MIN_GROUP_ROWS)
                & (rates >= MISSINGNESS_MIN_RATIO * overall)
                & (rates - overall >= MISSINGNESS_MIN_DIFF)
            )
            a, b = int(high.min()), int(high.max())
            null_share = nulls[a : b + 1].sum() / nulls.sum()
            row_share = sizes[a : b + 1].sum() / sizes.sum()
            first_day, last_day = starts[a], starts[b] + width - 1
            window = days_text(first_day, last_day)
            details = {
                "event_time": event,
                "bucket_days": width,
                "window_start": day_to_iso(first_day),
                "window_end": day_to_iso(last_day),
                "window_null_share": null_share,
                "overall_null_rate": self.stats[col].null_rate,
                "p_value": p_value,
                "high_null_periods": [day_to_iso(starts[i]) for i in high[:20]],
            }
            if (
                null_share >= MISSINGNESS_WINDOW_NULL_SHARE
                and row_share <= MISSINGNESS_WINDOW_MAX_ROW_SHARE
            ):
                window_rate = nulls[a : b + 1].sum() / sizes[a : b + 1].sum()
                message = MSG_MISSING_BY_TIME_WINDOW.format(
                    column=col,
                    qualifier="only" if null_share >= 0.999 else "mostly",
                    window=window,
                    null_share=pct(null_share),
                    window_rate=pct(window_rate),
                    rate=pct(self.stats[col].null_rate),
                )
                details["window_null_rate"] = window_rate
            else:
                peak_day = starts[g]
                message = MSG_MISSING_BY_TIME_PEAK.format(
                    column=col,
                    group_rate=pct(rates[g]),
                    window=days_text(peak_day, peak_day + width - 1),
                    rate=pct(self.stats[col].null_rate),
                )
                details["peak_start"] = day_to_iso(peak_day)
                details["peak_null_rate"] = rates[g]
            self.add(MISSINGNESS_BY_TIME, "warning", col, message, **details)

    # plots: distributions against the reference, never of ids or personal data
    def plot_distributions(self) -> list[ColumnDistribution]:
        skip = {name for name in self.src.names if self.schema.role_of(name) in ("id", "pii")}
        ref = None if self.reference is None else open_source(self.reference, self.schema)
        try:
            return column_distributions(self.src, self.stats, skip, ref)
        finally:
            if ref is not None:
                ref.close()

    # 5. drift
    def check_drift(self, reference: Path) -> None:
        ref = open_source(reference, self.schema)
        try:
            ref_types = {f.name: f.type for f in ref.arrow_schema}
        finally:
            ref.close()
        cur_types = {f.name: f.type for f in self.src.arrow_schema}
        for name, dtype in cur_types.items():
            if name not in ref_types:
                self.add(
                    DRIFT_ADDED_COLUMN,
                    "warning",
                    name,
                    MSG_DRIFT_ADDED.format(column=name, found=type_label(dtype)),
                    found=type_label(dtype),
                )
        for name, ref_type in ref_types.items():
            if name not in cur_types:
                self.add(
                    DRIFT_REMOVED_COLUMN,
                    "warning",
                    name,
                    MSG_DRIFT_REMOVED.format(column=name, expected=type_label(ref_type)),
                    expected=type_label(ref_type),
                )
                continue
            cur_type = cur_types[name]
            if _type_signature(ref_type) != _type_signature(cur_type):
                self.add(
                    DRIFT_RETYPED_COLUMN,
                    "warning",
                    name,
                    MSG_DRIFT_RETYPED.format(
                        column=name, expected=type_label(ref_type), found=type_label(cur_type)
                    ),
                    expected=type_label(ref_type),
                    found=type_label(cur_type),
                )


def _sql_literal(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(int(value))


def _type_signature(dtype: pa.DataType) -> tuple[str, bool]:
    """What counts as "the same type" for drift: kind, plus time-zone awareness."""
    return kind_of(dtype), bool(pa.types.is_timestamp(dtype) and dtype.tz is not None)


@dataclass(frozen=True)
class _Concentration:
    group: int  # index of the group with the highest null rate
    p_value: float
    overall: float  # null rate over the groups tested
    effect: float  # chi-square per row (phi squared): how much the grouping explains


def _concentration(sizes: np.ndarray, nulls: np.ndarray) -> _Concentration | None:
    """Is missingness concentrated in one group? The evidence if so, else None.

    Chi-square test of independence between "value is null" and group, over groups with at
    least ``MISSINGNESS_MIN_GROUP_ROWS`` rows; plus an effect-size floor on the worst group,
    because on millions of rows a trivial difference is "significant".
    """
    from scipy.special import chdtrc  # lazy: scipy costs import time the CLI should not pay

    use = sizes >= MISSINGNESS_MIN_GROUP_ROWS
    if use.sum() < 2:
        return None
    n, k = sizes[use], nulls[use]
    overall = float(k.sum() / n.sum())
    if overall <= 0 or overall >= 1:
        return None
    chi2 = float((((k - n * overall) ** 2) / (n * overall * (1 - overall))).sum())
    p_value = float(chdtrc(int(use.sum()) - 1, chi2))
    if p_value >= MISSINGNESS_P_VALUE:
        return None
    rates = np.where(use, nulls / np.maximum(sizes, 1), -1.0)
    g = int(np.argmax(rates))
    rate = rates[g]
    if (
        nulls[g] < MISSINGNESS_MIN_GROUP_NULLS
        or rate < MISSINGNESS_MIN_RATIO * overall
        or rate - overall < MISSINGNESS_MIN_DIFF
    ):
        return None
    return _Concentration(g, p_value, overall, chi2 / float(n.sum()))


# --- entry point -------------------------------------------------------------------------------


def check_table(
    path: Path | str,
    schema: TableSchema,
    *,
    reference: Path | str | None = None,
    leakage_auc_threshold: float = 0.9,
    sample_rows: int | None = 1_000_000,
    now: datetime | None = None,
    seed: int = DEFAULT_SEED,
) -> QualityReport:
    """Check one Parquet/CSV table against ``schema`` and return the report (never prints).

    ``reference`` is an earlier file of the same table for schema drift. ``now`` decides what
    counts as the future (default: the current UTC time). ``sample_rows`` caps the rows used
    for the single-feature AUC (None = all rows); ``seed`` makes that sample reproducible.
    Unreadable input raises :class:`~bankml.core.errors.DataFileError` with one line.
    """
    if not 0.5 <= leakage_auc_threshold <= 1.0:
        raise InputError(
            MSG_BAD_ARGUMENT.format(
                name="leakage_auc_threshold",
                value=leakage_auc_threshold,
                problem="must be between 0.5 and 1",
            )
        )
    if sample_rows is not None and sample_rows < 1:
        raise InputError(
            MSG_BAD_ARGUMENT.format(
                name="sample_rows", value=sample_rows, problem="must be positive or None"
            )
        )
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None:
        raise InputError(
            MSG_BAD_ARGUMENT.format(name="now", value=now, problem="must be timezone-aware")
        )
    path = Path(path)
    src = open_source(path, schema)
    try:
        checker = Checker(
            src,
            schema,
            now=now.astimezone(UTC),
            reference=None if reference is None else Path(reference),
            threshold=leakage_auc_threshold,
            sample_rows=sample_rows,
            seed=seed,
        )
        checker.run()
    finally:
        src.close()
    logger.info(
        "checked %s against %s: %d rows, %d findings",
        path,
        schema.name,
        src.row_count,
        len(checker.findings),
    )
    return QualityReport(
        path=str(path),
        schema_name=schema.name,
        row_count=src.row_count,
        columns=[checker.stats[name] for name in src.names],
        findings=checker.findings,
        checked_at=now.astimezone(UTC).isoformat(timespec="seconds"),
        reference=None if reference is None else str(reference),
        leakage_sample_rows=checker.leakage_sample_rows,
        distributions=checker.distributions,
    )

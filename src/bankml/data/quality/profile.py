"""Per-column profile of a table: nulls, exact distinct counts, ranges, quantiles, categories.

Three consumers, one set of SQL:

* the checks (:func:`_profile_source`): null counts, **exact** distinct counts and min/max for
  every column of the file being checked. Distinct counts used to come from DuckDB's
  ``approx_count_distinct`` (HyperLogLog), which overshoots by a few percent on large columns:
  the synthetic bank's ``ts`` column showed 286,520 distinct values in 277,930 rows. An exact
  ``count(DISTINCT ...)`` costs one hash aggregate per column, a second or two on 10M rows.
* the HTML report (:func:`_distributions`): histograms on shared bins for numeric and time
  columns and category shares for low-cardinality ones, for the table and, when given, its
  reference.
* monitoring (:func:`profile_table`): the training-time profile live traffic is compared
  with (missing rate, min/max, quantiles, categories and their shares).

PII stays out: categories are kept only for columns with at most ``LOW_CARDINALITY_MAX``
distinct values, and the report's plots skip columns whose schema role is ``id`` or ``pii``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from bankml.core.errors import InputError
from bankml.data.quality._helpers import (
    epoch_us,
    ident,
    kind_of,
    null_pred,
    plain_json,
    type_label,
    us_to_iso,
)
from bankml.data.quality.constants import LOW_CARDINALITY_MAX
from bankml.data.quality.report import ColumnDistribution, ColumnStats
from bankml.data.quality.source import Source

__all__ = ["PROFILE_QUANTILES", "ColumnProfile", "TableProfile", "profile_table"]

PROFILE_QUANTILES: tuple[float, ...] = (0.0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0)
"""Quantiles recorded per numeric column (0 and 1 are the min and max)."""

HISTOGRAM_BINS = 20
PLOT_RANGE = (0.005, 0.995)
MAX_PLOTTED_CATEGORIES = 20
_NUMERIC = ("int", "float")
_TIME = ("date", "timestamp")
_OTHER_CATEGORY = "(other)"
_MISSING_CATEGORY = "(missing)"


# --- the profile of the file being checked ---------------------------------------------------


def profile_source(src: Source) -> dict[str, ColumnStats]:
    """Nulls, exact distinct count, min and max of every column, in one pass over ``t``."""
    exprs: list[str] = []
    layout: list[tuple[str, str, int]] = []  # name, kind, number of expressions
    for field_ in src.arrow_schema:
        name, kind = field_.name, kind_of(field_.type)
        q = ident(name)
        parts = [f"count(*) FILTER (WHERE {null_pred(name, kind)})"]
        if kind == "float":
            parts.append(f"count(DISTINCT {q}) FILTER (WHERE NOT isnan({q}))")
        elif kind in ("int", "string", "bool", "date", "timestamp"):
            parts.append(f"count(DISTINCT {q})")
        if kind == "int":
            parts += [f"min({q})", f"max({q})"]
        elif kind == "float":
            parts += [
                f"min({q}) FILTER (WHERE NOT isnan({q}))",
                f"max({q}) FILTER (WHERE NOT isnan({q}))",
            ]
        elif kind in _TIME:
            epoch = epoch_us(name, field_.type)
            parts += [f"min({epoch})", f"max({epoch})"]
        exprs += parts
        layout.append((name, kind, len(parts)))
    (row,) = src.sql(f"SELECT {', '.join(exprs)} FROM t")
    n = src.row_count
    stats: dict[str, ColumnStats] = {}
    i = 0
    for field_, (name, kind, width) in zip(src.arrow_schema, layout, strict=True):
        values = row[i : i + width]
        i += width
        nulls = int(values[0] or 0)
        distinct = int(values[1]) if width > 1 and values[1] is not None else None
        lo = hi = None
        if width == 4:
            lo, hi = values[2], values[3]
            if kind in _TIME:
                lo, hi = us_to_iso(lo), us_to_iso(hi)
                if kind == "date":
                    lo = lo[:10] if lo else None
                    hi = hi[:10] if hi else None
            else:
                lo, hi = plain_json(lo), plain_json(hi)
        stats[name] = ColumnStats(
            name=name,
            dtype=type_label(field_.type),
            kind=kind,
            null_count=nulls,
            null_rate=nulls / n if n else 0.0,
            distinct_count=distinct,
            min=lo,
            max=hi,
        )
    return stats


# --- distributions for the report's plots ----------------------------------------------------


def _value_sql(name: str, dtype: pa.DataType, kind: str) -> str:
    """SQL for the plotted value of a column: the number, or microseconds for times."""
    if kind in _TIME:
        return f"CAST({epoch_us(name, dtype)} AS DOUBLE)"
    if kind == "float":
        return f"CASE WHEN isnan({ident(name)}) THEN NULL ELSE CAST({ident(name)} AS DOUBLE) END"
    return f"CAST({ident(name)} AS DOUBLE)"


def _range(src: Source, expr: str) -> tuple[float | None, float | None]:
    """The plotted range: the 0.5% and 99.5% quantiles, so one outlier cannot flatten the plot.

    Values outside fall into the first or last bin.
    """
    (row,) = src.sql(f"SELECT quantile_cont({expr}, [{PLOT_RANGE[0]!r}, {PLOT_RANGE[1]!r}]) FROM t")
    if not row[0]:
        return None, None
    lo, hi = row[0]
    return (None if lo is None else float(lo), None if hi is None else float(hi))


def _histogram(src: Source, expr: str, lo: float, hi: float) -> list[float]:
    """Share of non-missing values in each of ``HISTOGRAM_BINS`` equal bins over [lo, hi].

    Values below ``lo`` count in the first bin, values above ``hi`` in the last.
    """
    width = (hi - lo) / HISTOGRAM_BINS if hi > lo else 1.0
    raw = f"CAST(floor(({expr} - {lo!r}) / {width!r}) AS BIGINT)"
    bucket = f"least(greatest({raw}, 0), {HISTOGRAM_BINS - 1})"
    rows = src.sql(f"SELECT {bucket} AS b, count(*) FROM t WHERE {expr} IS NOT NULL GROUP BY b")
    counts = np.zeros(HISTOGRAM_BINS)
    for b, c in rows:
        counts[int(b)] = c
    total = counts.sum()
    return [float(x) for x in (counts / total if total else counts)]


def _category_counts(src: Source, name: str) -> dict[str, int]:
    q = ident(name)
    rows = src.sql(f"SELECT CAST({q} AS VARCHAR) AS v, count(*) FROM t GROUP BY v")
    return {(_MISSING_CATEGORY if v is None else str(v)): int(c) for v, c in rows}


def _shares(counts: dict[str, int], keep: Sequence[str]) -> list[float]:
    total = sum(counts.values())
    if not total:
        return [0.0] * len(keep)
    kept = set(keep)
    other = sum(c for k, c in counts.items() if k not in kept)
    return [(other if k == _OTHER_CATEGORY else counts.get(k, 0)) / total for k in keep]


def column_distributions(
    src: Source,
    stats: dict[str, ColumnStats],
    skip: set[str],
    reference: Source | None,
) -> list[ColumnDistribution]:
    """What the report plots per column: a histogram or category shares, current vs reference.

    Bins are shared (over the range of both tables) so the two histograms are comparable.
    Columns in ``skip`` (ids and PII), columns without values and high-cardinality text are
    not plotted.
    """
    ref_kinds = reference.kinds if reference is not None else {}
    out: list[ColumnDistribution] = []
    for field_ in src.arrow_schema:
        name, kind = field_.name, kind_of(field_.type)
        st = stats[name]
        if name in skip or st.null_count == src.row_count:
            continue
        ref = reference if reference is not None and ref_kinds.get(name) == kind else None
        if kind in _NUMERIC or kind in _TIME:
            expr = _value_sql(name, field_.type, kind)
            lo, hi = _range(src, expr)
            ref_expr = None
            if ref is not None:
                ref_expr = _value_sql(name, ref.arrow_schema.field(name).type, kind)
                rlo, rhi = _range(ref, ref_expr)
                lo = rlo if lo is None else lo if rlo is None else min(lo, rlo)
                hi = rhi if hi is None else hi if rhi is None else max(hi, rhi)
            if lo is None or hi is None:
                continue
            step = (hi - lo) / HISTOGRAM_BINS if hi > lo else 1.0
            edges = [lo + step * k for k in range(HISTOGRAM_BINS + 1)]
            labels = [us_to_iso(int(e)) or "" for e in edges] if kind in _TIME else None
            out.append(
                ColumnDistribution(
                    name=name,
                    kind=kind,
                    edges=edges,
                    edge_labels=labels,
                    current=_histogram(src, expr, lo, hi),
                    reference=None
                    if ref is None or ref_expr is None
                    else _histogram(ref, ref_expr, lo, hi),
                )
            )
        elif kind in ("string", "bool") and (st.distinct_count or 0) <= LOW_CARDINALITY_MAX:
            counts = _category_counts(src, name)
            ref_counts = _category_counts(ref, name) if ref is not None else None
            merged = dict(counts)
            for k, c in (ref_counts or {}).items():
                merged[k] = merged.get(k, 0) + c
            ranked = sorted(merged, key=lambda k: (-merged[k], k))
            keep = ranked[:MAX_PLOTTED_CATEGORIES]
            if len(ranked) > MAX_PLOTTED_CATEGORIES:
                keep.append(_OTHER_CATEGORY)
            out.append(
                ColumnDistribution(
                    name=name,
                    kind=kind,
                    categories=keep,
                    current=_shares(counts, keep),
                    reference=None if ref_counts is None else _shares(ref_counts, keep),
                )
            )
    return out


# --- the public profile monitoring compares live traffic with ---------------------------------


@dataclass(frozen=True)
class ColumnProfile:
    """One column's profile: type, missing rate, range, quantiles and (few) categories.

    ``quantiles`` maps each of :data:`PROFILE_QUANTILES` to its value (numeric and time
    columns; times in microseconds since 1970 UTC). ``categories`` maps each value to its share
    of non-missing rows, only for text/bool columns with at most ``LOW_CARDINALITY_MAX``
    distinct values (so identifiers and personal data never land in a profile).
    """

    name: str
    dtype: str
    kind: str
    rows: int
    missing: int
    missing_rate: float
    distinct: int | None
    min: float | None = None
    max: float | None = None
    quantiles: dict[float, float] = field(default_factory=dict)
    categories: dict[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (quantile keys become strings such as ``"0.5"``)."""
        return {
            "name": self.name,
            "dtype": self.dtype,
            "kind": self.kind,
            "rows": self.rows,
            "missing": self.missing,
            "missing_rate": self.missing_rate,
            "distinct": self.distinct,
            "min": plain_json(self.min),
            "max": plain_json(self.max),
            "quantiles": {repr(q): plain_json(v) for q, v in self.quantiles.items()},
            "categories": None if self.categories is None else dict(self.categories),
        }


@dataclass(frozen=True)
class TableProfile:
    """The profile of a whole table: row count and one :class:`ColumnProfile` per column."""

    rows: int
    columns: dict[str, ColumnProfile]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data: ``{"rows": n, "columns": {name: column profile}}``."""
        return {"rows": self.rows, "columns": {k: c.to_dict() for k, c in self.columns.items()}}


def profile_table(df: Any) -> TableProfile:
    """Profile a pandas DataFrame or Arrow table: the reference monitoring compares with.

    Per column: missing count and rate (NaN counts as missing), exact distinct count,
    min/max and :data:`PROFILE_QUANTILES` for numeric and time columns, category shares for
    low-cardinality text and bool columns. Raises :class:`InputError` if ``df`` is neither.
    """
    if isinstance(df, pa.Table):
        table = df
    else:
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - pandas is a dependency
            raise InputError("profile_table needs a pandas DataFrame or an Arrow table") from exc
        if not isinstance(df, pd.DataFrame):
            raise InputError(
                f"profile_table needs a pandas DataFrame or an Arrow table, got {type(df).__name__}"
            )
        table = pa.Table.from_pandas(df, preserve_index=False)
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("t", table)
        return _profile_arrow(con, table)
    finally:
        con.close()


def _profile_arrow(con: duckdb.DuckDBPyConnection, table: pa.Table) -> TableProfile:
    n = table.num_rows
    columns: dict[str, ColumnProfile] = {}
    qs = ", ".join(repr(q) for q in PROFILE_QUANTILES)
    for field_ in table.schema:
        name, kind = field_.name, kind_of(field_.type)
        q = ident(name)
        (missing,) = con.execute(
            f"SELECT count(*) FILTER (WHERE {null_pred(name, kind)}) FROM t"
        ).fetchone() or (0,)
        distinct = None
        if kind in ("int", "float", "string", "bool", "date", "timestamp"):
            where = f"WHERE NOT isnan({q})" if kind == "float" else ""
            (distinct,) = con.execute(f"SELECT count(DISTINCT {q}) FROM t {where}").fetchone() or (
                0,
            )
        lo = hi = None
        quantiles: dict[float, float] = {}
        categories = None
        if kind in _NUMERIC or kind in _TIME:
            expr = _value_sql(name, field_.type, kind)
            row = con.execute(
                f"SELECT quantile_cont({expr}, [{qs}]) FROM t WHERE {expr} IS NOT NULL"
            ).fetchone()
            values = row[0] if row else None
            if values:
                quantiles = {p: float(v) for p, v in zip(PROFILE_QUANTILES, values, strict=True)}
                lo, hi = quantiles[0.0], quantiles[1.0]
        elif kind in ("string", "bool") and (distinct or 0) <= LOW_CARDINALITY_MAX:
            rows = con.execute(
                f"SELECT CAST({q} AS VARCHAR) AS v, count(*) FROM t WHERE {q} IS NOT NULL "
                "GROUP BY v ORDER BY v"
            ).fetchall()
            present = sum(int(c) for _v, c in rows)
            categories = {str(v): int(c) / present for v, c in rows} if present else {}
        columns[name] = ColumnProfile(
            name=name,
            dtype=type_label(field_.type),
            kind=kind,
            rows=n,
            missing=int(missing),
            missing_rate=int(missing) / n if n else 0.0,
            distinct=None if distinct is None else int(distinct),
            min=lo,
            max=hi,
            quantiles=quantiles,
            categories=categories,
        )
    return TableProfile(rows=n, columns=columns)

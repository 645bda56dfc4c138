"""Feature definitions compiled to one SQL query, for DuckDB (streamed to Parquet) and Spark.

:mod:`bankml.data.features` computes features in memory with DuckDB windows plus numpy
post-processing (fast for a frame that fits in memory). This module compiles the *same*
:class:`~bankml.data.features.FeatureDef` list into a single ``SELECT`` that needs no
post-processing, so that

* DuckDB can stream the result to Parquet with ``COPY (...) TO`` in bounded memory
  (:func:`bankml.data.features.compute_features_to_parquet`), and
* Apache Spark can run it unchanged on a cluster (:mod:`bankml.data.spark`).

The SQL is generated, never hand-copied: one :class:`Dialect` per engine says how to quote,
how to turn a timestamp into microseconds and back, and how to translate the few DuckDB
functions feature expressions use (``isodow``). The point-in-time rules are those of
:mod:`bankml.data.features`, expressed in SQL:

* rolling windows are ``RANGE`` frames over the event time in microseconds, ending at the
  current row; the frame holds every event with the same timestamp, so the contribution of
  *later peers* (same entity and timestamp, larger id) is subtracted, computed by a
  ``ROWS ... FOLLOWING`` frame over the (entity, timestamp) partition;
* ``label_rate`` numerators count a positive once it is known (``max(time + delay,
  label_time) <= t``) and until it leaves the delayed window (``time + delay + w <= t``): each
  positive becomes a +1 and a -1 step on its entity's time line, merged with the entity's
  events and summed in time order (steps first at equal times);
* ``known_label_count`` is the same construction with the steps at ``max(time + 1us,
  label_time)`` and ``time + w``: the positives of ``(t - w, t)`` known by ``t``, in the
  memory of the positives (rare), not of a self-join;
* ``first_seen`` is ``row_number() = 1`` over (entity, key) in (time, id) order;
* ``hours_since_prior`` reads ``lag(time)`` over the entity in (time, id) order;
* ``ratio_to_median`` and ``zscore`` read the median, mean and population standard deviation
  of the window's ``RANGE`` frame. No subtraction removes later peers from a median, so an
  event that shares its (entity, timestamp) with another (rare) gets its statistics from a
  join of its own window instead (``<prefix>_h<i>``), which leaves the later peers out.

A feature that cannot be computed for an event (its entity or key is missing, a mean over
no values) is NULL, which reads back as NaN.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bankml.core.errors import InputError
from bankml.data.features import (
    HISTORY,
    LABELLED,
    NEEDS_EXPR,
    ROLLING,
    SPREAD_FLOOR,
    EventTable,
    FeatureDef,
)

__all__ = ["DUCKDB", "SPARK", "Dialect", "compile_feature_steps", "compile_features"]


@dataclass(frozen=True)
class Dialect:
    """How one engine spells what the feature SQL needs."""

    name: str
    quote_char: str
    timestamp_type: str  # what the time column is cast to
    epoch_us: str  # template: microseconds since 1970 UTC of a timestamp ``{0}``
    plus_us: str  # template: the timestamp ``{0}`` plus ``{1}`` microseconds
    median: str  # template: the (interpolated) median aggregate of ``{0}``

    def q(self, name: str) -> str:
        """Quote an identifier."""
        c = self.quote_char
        return c + name.replace(c, c + c) + c

    def expr(self, sql: str) -> str:
        """Translate a feature expression written for DuckDB into this dialect."""
        if self.name == "duckdb":
            return sql
        # Double-quoted identifiers become back-quoted (string literals use single quotes).
        out = re.sub(r'"((?:[^"]|"")*)"', lambda m: self.q(m.group(1).replace('""', '"')), sql)
        # DuckDB's isodow (Monday 1 .. Sunday 7) is Spark's weekday (Monday 0) + 1.
        return _rename_call(out, "isodow", "weekday", "(1 + {call})")


DUCKDB = Dialect(
    name="duckdb",
    quote_char='"',
    timestamp_type="TIMESTAMPTZ",
    epoch_us="epoch_us({0})",
    plus_us="{0} + to_microseconds({1})",
    median="median({0})",
)
SPARK = Dialect(
    name="spark",
    quote_char="`",
    timestamp_type="TIMESTAMP",
    epoch_us="unix_micros({0})",
    plus_us="timestamp_micros(unix_micros({0}) + {1})",
    median="percentile({0}, 0.5)",
)


def _rename_call(sql: str, old: str, new: str, wrap: str) -> str:
    """Replace every ``old(args)`` by ``wrap`` around ``new(args)`` (balanced parentheses)."""
    pattern = re.compile(rf"\b{old}\s*\(", re.IGNORECASE)
    while (m := pattern.search(sql)) is not None:
        depth, i = 1, m.end()
        while depth and i < len(sql):
            depth += {"(": 1, ")": -1}.get(sql[i], 0)
            i += 1
        args = sql[m.end() : i - 1]
        sql = sql[: m.start()] + wrap.format(call=f"{new}({args})") + sql[i:]
    return sql


def compile_features(
    defs: Sequence[FeatureDef],
    table: EventTable,
    source: str,
    *,
    passthrough: Sequence[str] = (),
    dialect: Dialect = DUCKDB,
    order: bool = True,
) -> str:
    """One ``SELECT`` computing ``defs`` for every event of ``source`` (a table expression).

    Output columns, in order: the id and time (role names), ``passthrough``, the label and
    the effective label time (if a label is mapped), then one DOUBLE per feature in the
    order of ``defs``. With ``order`` the rows come sorted by (time, id).
    """
    steps, body = compile_feature_steps(
        defs, table, source, passthrough=passthrough, dialect=dialect, order=order
    )
    return "WITH " + ",\n".join(f"{name} AS ({sql})" for name, sql in steps) + "\n" + body


def compile_feature_steps(
    defs: Sequence[FeatureDef],
    table: EventTable,
    source: str,
    *,
    passthrough: Sequence[str] = (),
    dialect: Dialect = DUCKDB,
    order: bool = True,
) -> tuple[list[tuple[str, str]], str]:
    """The query of :func:`compile_features` as named steps and a final ``SELECT``.

    Each step is ``(name, select)`` and may read the steps before it by name; an engine that
    does not share common table expressions between their readers (Spark inlines them) can
    materialise the steps as cached views instead of re-computing them.
    """
    d = dialect
    q = d.q
    ident, time = q(table.id), q(table.time)
    delay = table.label_delay_us
    if table.label is None and any(f.kind in LABELLED for f in defs):
        raise InputError("label_rate and known_label_count features need a label column")

    # 1. the events, renamed and typed, with time (and label knowledge) in microseconds
    cols = []
    for name, column in table.columns.items():
        if name in (table.time, table.label_time):
            cols.append(f"CAST({q(column)} AS {d.timestamp_type}) AS {q(name)}")
        elif name == table.label:
            cols.append(f"COALESCE(CAST({q(column)} AS BOOLEAN), FALSE) AS {q(name)}")
        else:
            cols.append(f"{q(column)} AS {q(name)}")
    known = ""
    if table.label is not None:
        if table.label_time is not None:
            known = f", {d.epoch_us.format(q(table.label_time))} AS _known"
        else:
            known = (
                f", {d.epoch_us.format(time)} + {delay} AS _known"
                f", {d.plus_us.format(time, delay)} AS {q(table.known_column)}"
            )
    ctes: list[tuple[str, str]] = [
        ("_src", f"SELECT {', '.join(cols)} FROM {source}"),
        ("_ev", f"SELECT *, {d.epoch_us.format(time)} AS _t{known} FROM _src"),
    ]

    # 2. window aggregates, per entity: each (kind, expr, window) computed once
    aggs: list[str] = []
    final: dict[str, str] = {}
    joins: list[str] = []
    by_entity: dict[str, list[FeatureDef]] = {}
    for f in defs:
        if f.entity is not None and (f.kind in ROLLING or f.kind in HISTORY or f.kind in LABELLED):
            by_entity.setdefault(f.entity, []).append(f)
    tie_ctes: list[tuple[str, str]] = []
    for e_i, (entity, group) in enumerate(by_entity.items()):
        win = _EntityWindows(d, entity, ident, f"_e{e_i}")
        for f in group:
            final[f.name] = win.feature(f, delay)
        aggs += win.aggs
        if win.later:
            tie_ctes.append(win.ties_cte())
            joins.append(f"LEFT JOIN {win.prefix}_ties USING ({ident})")
        values, tied = win.history_ctes()
        ctes += values  # read from _ev, before _agg
        tie_ctes += tied  # read _agg's peer counts
        joins += [f"LEFT JOIN {name} USING ({ident})" for name, _sql in tied]
        if win.known:
            ctes += _known_positive_ctes(d, entity, ident, win.prefix, win.known, table)
            joins.append(f"LEFT JOIN {win.prefix}_known USING ({ident})")

    # 3. first_seen and row features
    for f in defs:
        if f.kind == "first_seen":
            assert f.entity is not None and f.key is not None
            ent, key = q(f.entity), f"({d.expr(f.key)})"
            rank = f"row_number() OVER (PARTITION BY {ent}, {key} ORDER BY _t, {ident})"
            final[f.name] = (
                f"CASE WHEN {ent} IS NULL OR {key} IS NULL THEN NULL"
                f" WHEN {rank} = 1 THEN 1.0 ELSE 0.0 END"
            )
        elif f.kind == "row":
            assert f.expr is not None
            final[f.name] = f"CAST(({d.expr(f.expr)}) AS DOUBLE)"
        elif f.kind in NEEDS_EXPR and f.name not in final:  # pragma: no cover - by construction
            raise AssertionError(f"feature {f.name} was not compiled")

    keep = [table.id, table.time, *passthrough]
    if table.label is not None:
        keep += [table.label, table.known_column]
    keep = list(dict.fromkeys(keep))
    ctes.append(("_agg", f"SELECT _ev.*{''.join(', ' + a for a in aggs)} FROM _ev"))
    ctes += tie_ctes
    select = [f"_agg.{q(c)} AS {q(c)}" for c in keep]
    select += [f"CAST({final[f.name]} AS DOUBLE) AS {q(f.name)}" for f in defs]
    body = f"SELECT {', '.join(select)} FROM _agg {' '.join(joins)}"
    if order:
        body += f" ORDER BY _agg._t, _agg.{ident}"
    return ctes, body


class _EntityWindows:
    """The window aggregates of one entity's features, each computed once, and their use.

    A ``RANGE`` frame ends with every event at the current timestamp, also those with a
    larger id. Ties are rare, so rather than a second sort of every row, the events that
    share their (entity, timestamp) with another (``peers > 1``) get the contribution of their
    later peers computed apart (``<prefix>_ties``), which is subtracted.
    """

    def __init__(self, d: Dialect, entity: str, ident: str, prefix: str) -> None:
        self.d = d
        self.ent = d.q(entity)
        self.ident = ident
        self.prefix = prefix
        self.aggs: list[str] = []
        self.later: list[str] = []  # later-peer aggregates, computed over tied events only
        # Known positives counted per (lag, span) after their time, in first-use order:
        # label_rate's delayed window (delay, delay + w), known_label_count's (1 us, w).
        self.known: list[tuple[int, int]] = []
        self.stats: list[tuple[str, int]] = []  # (expr, window) of median/mean/std features
        self._aliases: dict[tuple[str, str | None, int], str] = {}

    def frame(self, span: int) -> str:
        """Events of the entity in (t - span, t], peers at t included."""
        return (
            f"(PARTITION BY {self.ent} ORDER BY _t"
            f" RANGE BETWEEN {span - 1} PRECEDING AND CURRENT ROW)"
        )

    def _agg(self, kind: str, expr: str | None, w: int, sql: str) -> str:
        key = (kind, expr, w)
        if key not in self._aliases:
            alias = f"{self.prefix}_{kind}{len(self._aliases)}"
            self._aliases[key] = alias
            if kind.startswith("l"):
                self.later.append(f"{sql} AS {alias}")
            else:
                self.aggs.append(f"{sql} AS {alias}")
        return self._aliases[key]

    def _later(self, kind: str, expr: str | None, agg: str) -> str:
        """A later-peer aggregate: NULL (read as 0) for events without a tie."""
        self._peers()
        frame = (
            f"(PARTITION BY {self.ent}, _t ORDER BY {self.ident}"
            " ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)"
        )
        return self._agg(kind, expr, 0, f"{agg} OVER {frame}")

    def ties_cte(self) -> tuple[str, str]:
        """The later-peer aggregates of the events that share their timestamp."""
        peers = self._aliases[("p", None, 0)]
        return (
            f"{self.prefix}_ties",
            f"SELECT {self.ident}, {', '.join(self.later)} FROM _agg"
            f" WHERE {self.ent} IS NOT NULL AND {peers} > 1",
        )

    def count(self, expr: str | None, w: int) -> str:
        """Events (or non-null ``expr`` values) in the window, later peers left out."""
        arg = "*" if expr is None else f"({self.d.expr(expr)})"
        rolled = self._agg("n", expr, w, f"count({arg}) OVER {self.frame(w)}")
        later = self._later("ln", expr, f"count({arg})")
        return f"({rolled} - coalesce({later}, 0))"

    def total(self, expr: str, w: int) -> str:
        """Sum of ``expr`` over the window (0 when empty), later peers left out."""
        v = f"CAST(({self.d.expr(expr)}) AS DOUBLE)"
        rolled = self._agg("s", expr, w, f"coalesce(sum({v}) OVER {self.frame(w)}, 0)")
        later = self._later("ls", expr, f"sum({v})")
        return f"({rolled} - coalesce({later}, 0))"

    def _peers(self) -> str:
        """Events of the entity at the current timestamp, this one included."""
        return self._agg("p", None, 0, f"count(*) OVER {self.frame(1)}")

    def window_stat(self, stat: str, expr: str, w: int) -> str:
        """``median``, ``mean`` or ``std`` of ``expr`` over the window, later peers left out.

        The ``RANGE`` frame's value serves events without a tie; a tied event reads the
        value its own window gives (``<prefix>_h<i>``, see :meth:`history_ctes`).
        """
        v = f"CAST(({self.d.expr(expr)}) AS DOUBLE)"
        sql = {
            "median": self.d.median.format(v),
            "mean": f"avg({v})",
            "std": f"stddev_pop({v})",
        }[stat]
        rolled = self._agg(stat, expr, w, f"{sql} OVER {self.frame(w)}")
        if (expr, w) not in self.stats:
            self.stats.append((expr, w))
        tied = f"{self.prefix}_h{self.stats.index((expr, w))}_{stat}"
        return f"(CASE WHEN {self._peers()} > 1 THEN {tied} ELSE {rolled} END)"

    def history_ctes(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """For the median/mean/std features: the values (``<prefix>_hv``, read from
        ``_ev``), and per (expr, window) the statistics of tied events from a join over
        their own window (``<prefix>_h<i>``, reading ``_agg``)."""
        if not self.stats:
            return [], []
        d, p, ent, ident = self.d, self.prefix, self.ent, self.ident
        values = ", ".join(
            f"CAST(({d.expr(e)}) AS DOUBLE) AS _v{i}" for i, (e, _w) in enumerate(self.stats)
        )
        hv = (
            f"{p}_hv",
            f"SELECT {ent} AS _e, _t, {ident} AS _i, {values} FROM _ev WHERE {ent} IS NOT NULL",
        )
        out = []
        peers = self._aliases[("p", None, 0)]
        for i, (_e, w) in enumerate(self.stats):
            v = f"_h._v{i}"
            out.append(
                (
                    f"{p}_h{i}",
                    f"SELECT _a._i AS {ident}, {d.median.format(v)} AS {p}_h{i}_median,"
                    f" avg({v}) AS {p}_h{i}_mean, stddev_pop({v}) AS {p}_h{i}_std"
                    f" FROM (SELECT {ent} AS _e, _t, {ident} AS _i FROM _agg"
                    f" WHERE {ent} IS NOT NULL AND {peers} > 1) _a"
                    f" JOIN {p}_hv _h ON _h._e = _a._e AND _h._t > _a._t - {w}"
                    " AND (_h._t < _a._t OR (_h._t = _a._t AND _h._i <= _a._i))"
                    " GROUP BY _a._i",
                )
            )
        return [hv], out

    def delayed_count(self, w: int, delay: int) -> str:
        """Events in (t - delay - w, t - delay]: peers at t cancel out of the difference."""
        sql = f"count(*) OVER {self.frame(delay + w)} - count(*) OVER {self.frame(delay)}"
        return self._agg("d", None, w, sql)

    def known_count(self, lag: int, span: int) -> str:
        """Positives with time in ``(t - span, t - lag]`` whose label was known by ``t``."""
        if (lag, span) not in self.known:
            self.known.append((lag, span))
        return f"coalesce({self.prefix}_k{self.known.index((lag, span))}, 0)"

    def feature(self, f: FeatureDef, delay: int) -> str:
        """The SQL value of one windowed feature (NULL where its entity is missing)."""
        w = f.window_us
        assert w is not None
        missing = f"{self.ent} IS NULL"
        if f.kind == "hours_since_prior":
            prev = self._agg(
                "g", None, 0, f"lag(_t) OVER (PARTITION BY {self.ent} ORDER BY _t, {self.ident})"
            )
            cap = f"CAST({w / 3_600_000_000!r} AS DOUBLE)"
            hours = f"CAST(_t - {prev} AS DOUBLE) / CAST(3600000000 AS DOUBLE)"
            return (
                f"CASE WHEN {missing} THEN NULL WHEN {prev} IS NULL THEN {cap}"
                f" ELSE least({hours}, {cap}) END"
            )
        if f.kind in ("ratio_to_median", "zscore"):
            assert f.expr is not None
            own = f"CAST(({self.d.expr(f.key or f.expr)}) AS DOUBLE)"
            if f.kind == "ratio_to_median":
                med = self.window_stat("median", f.expr, w)
                return (
                    f"CASE WHEN {missing} OR {own} IS NULL THEN NULL"
                    f" WHEN {med} > 0 THEN {own} / {med} ELSE 1.0 END"
                )
            mean, std = self.window_stat("mean", f.expr, w), self.window_stat("std", f.expr, w)
            floor = f"CAST({SPREAD_FLOOR!r} AS DOUBLE)"
            return (
                f"CASE WHEN {missing} OR {own} IS NULL THEN NULL"
                f" WHEN {std} >= {floor} THEN ({own} - {mean}) / {std} ELSE 0.0 END"
            )
        if f.kind == "count":
            return f"CASE WHEN {missing} THEN NULL ELSE CAST({self.count(None, w)} AS DOUBLE) END"
        if f.kind == "label_rate":
            events = self.delayed_count(w, delay)
            known = self.known_count(delay, delay + w)
            return (
                f"CASE WHEN {missing} THEN NULL"
                f" WHEN {events} > 0 THEN {known} / {events} ELSE 0.0 END"
            )
        if f.kind == "known_label_count":
            # Strictly earlier in time: (t - w, t) is one microsecond of lag, span w.
            known = self.known_count(1, w)
            return f"CASE WHEN {missing} THEN NULL ELSE CAST({known} AS DOUBLE) END"
        assert f.expr is not None
        n, s = self.count(f.expr, w), self.total(f.expr, w)
        if f.kind == "sum":
            return f"CASE WHEN {missing} THEN NULL WHEN {n} > 0 THEN {s} ELSE 0.0 END"
        if f.kind == "mean":
            return f"CASE WHEN {missing} OR {n} <= 0 THEN NULL ELSE {s} / {n} END"
        # ratio_to_prior_mean: the event itself leaves the window's mean
        v = f"CAST(({self.d.expr(f.expr)}) AS DOUBLE)"
        prior_n = f"({n} - 1)"
        prior_mean = f"(({s} - {v}) / {prior_n})"
        return (
            f"CASE WHEN {missing} OR {v} IS NULL THEN NULL"
            f" WHEN {prior_n} > 0 THEN"
            f" CASE WHEN {prior_mean} > 0 THEN {v} / {prior_mean} ELSE 1.0 END"
            " ELSE 1.0 END"
        )


def _known_positive_ctes(
    d: Dialect,
    entity: str,
    ident: str,
    prefix: str,
    specs: list[tuple[int, int]],
    table: EventTable,
) -> list[tuple[str, str]]:
    """CTEs giving, per event and ``(lag, span)``, the entity's positives with time ``s`` in
    ``(t - span, t - lag]`` whose label was known by ``t``.

    Each positive is +1 from ``max(s + lag, label_time)`` and -1 from ``s + span`` on its
    entity's time line (when the first comes before the second), merged with the entity's
    events and summed in time order, steps first at equal times.
    """
    q = d.q
    ent = q(entity)
    label = q(table.label or "")
    ks = [f"_k{i}" for i in range(len(specs))]

    def one(i: int, value: int) -> str:
        return ", ".join(f"{value} AS {c}" if j == i else f"0 AS {c}" for j, c in enumerate(ks))

    steps = []
    for i, (lag, span) in enumerate(specs):
        start, end = f"greatest(_s + {lag}, _a)", f"_s + {span}"
        where = f"FROM {prefix}_pos WHERE {start} < {end}"
        steps.append(f"SELECT _e, {start} AS _time, {one(i, 1)} {where}")
        steps.append(f"SELECT _e, {end} AS _time, {one(i, -1)} {where}")
    zeros = ", ".join(f"0 AS {k}" for k in ks)
    running = ", ".join(
        f"sum({k}) OVER (PARTITION BY _e ORDER BY _time, _o ROWS BETWEEN UNBOUNDED PRECEDING"
        f" AND CURRENT ROW) AS {prefix}{k}"
        for k in ks
    )
    return [
        (
            f"{prefix}_pos",
            f"""SELECT {ent} AS _e, _known AS _a, _t AS _s
            FROM _ev WHERE {label} AND _known IS NOT NULL AND {ent} IS NOT NULL""",
        ),
        (f"{prefix}_steps", " UNION ALL ".join(steps)),
        (
            f"{prefix}_known",
            f"""SELECT {ident}, {", ".join(prefix + k for k in ks)} FROM (
                SELECT {ident}, _o, {running} FROM (
                    SELECT {ent} AS _e, _t AS _time, 1 AS _o, {ident}, {zeros}
                    FROM _ev WHERE {ent} IS NOT NULL
                    UNION ALL
                    SELECT _e, _time, 0 AS _o, NULL AS {ident}, {", ".join(ks)}
                    FROM {prefix}_steps)
            ) WHERE _o = 1""",
        ),
    ]

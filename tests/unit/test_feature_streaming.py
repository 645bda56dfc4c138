"""The streamed (Parquet) feature engine, its partitioned form and its Spark twin give the
in-memory engine's features.

Oracles: the brute-force Python loop of ``test_fraud_features.reference`` (no SQL, no
windows) and the in-memory engine, on a table with timestamp ties, shuffled ids and
delayed labels. The partitioned engine runs with tiny parts and time slices, so a 600-row
table is cut into many of each (the cut must not change a value).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bankml.core.errors import InputError
from bankml.data.feature_partitions import compute_features_partitioned, plan_partitions
from bankml.data.feature_sql import DUCKDB, SPARK, compile_features
from bankml.data.features import (
    EngineOptions,
    EventTable,
    FeatureDef,
    compute_features,
    compute_features_to_parquet,
    write_features,
)
from bankml.fraud.features import (
    FEATURE_NAMES,
    build_fraud_features,
    enabled_features,
    resolve_event_table,
)
from bankml.fraud.mapping import DEFAULT_MAPPING
from tests.unit.test_fraud_features import assert_features_equal, reference, transactions

PASSTHROUGH = ["customer", "terminal", "card"]
# Every feature the model uses: the history ones (gaps, median, z-score) are compiled too.
SQL_FEATURES = list(FEATURE_NAMES)
HISTORY_FEATURES = [
    "hours_since_customer_txn",
    "hours_since_terminal_txn",
    "amount_to_customer_median_30d",
    "amount_zscore_customer_30d",
]


def _fraud(source: Path, label_delay_days: int = 7) -> tuple[list[FeatureDef], EventTable]:
    resolved, _warnings, table = resolve_event_table(source, DEFAULT_MAPPING, label_delay_days)
    return list(enabled_features(resolved)), table


def _same_frames(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """Same columns, rows and values; floats equal to the last few ulps, NaN where NaN.

    ``atol``: a z-score near 0 is a difference of nearly equal numbers, so its last-ulp
    noise is absolute, not relative (seen: 9e-16).
    """
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want)
    for name in want.columns:
        a, b = want[name].to_numpy(), got[name].to_numpy()
        if a.dtype.kind == "f":
            np.testing.assert_allclose(b.astype(float), a, rtol=1e-12, atol=1e-12, err_msg=name)
        else:
            assert (pd.Series(a) == pd.Series(b)).all(), name


def _run(
    engine: str,
    source: Path | pd.DataFrame,
    defs: list[FeatureDef],
    table: EventTable,
    tmp_path: Path,
    passthrough: list[str] | None = None,
) -> pd.DataFrame:
    """Features from one engine as a frame (the file engines read back)."""
    if engine == "in-memory":
        return compute_features(source, defs, table, passthrough=passthrough or [])
    out = tmp_path / f"{engine}.parquet"
    if engine == "streamed":
        compute_features_to_parquet(source, defs, table, out, passthrough=passthrough or [])
    else:
        # Two rows per part and per slice: every entity value and stretch of time apart.
        compute_features_partitioned(
            source,
            defs,
            table,
            out,
            passthrough=passthrough or [],
            partition_rows=2,
            slice_rows=2,
        )
    return pq.read_table(out).to_pandas()


@pytest.fixture(scope="module")
def table_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tx") / "transactions.parquet"
    transactions(n=600, seed=3).to_parquet(path)
    return path


def test_streamed_features_match_brute_force_and_the_in_memory_engine(
    table_file: Path, tmp_path: Path
) -> None:
    defs, table = _fraud(table_file)
    out = tmp_path / "features.parquet"
    rows = compute_features_to_parquet(table_file, defs, table, out, passthrough=PASSTHROUGH)
    got = pq.read_table(out).to_pandas()
    assert rows == len(got) == 600
    assert_features_equal(got, reference(pd.read_parquet(table_file)), SQL_FEATURES)
    in_memory = compute_features(table_file, defs, table, passthrough=PASSTHROUGH)
    _same_frames(got, in_memory)


def test_streamed_history_features_equal_the_model_frame(table_file: Path, tmp_path: Path) -> None:
    # What the model trains on (build_fraud_features) against the streamed engine, on the
    # features that were pandas-only before: the batch engines now give every model input.
    defs, table = _fraud(table_file)
    out = tmp_path / "features.parquet"
    compute_features_to_parquet(table_file, defs, table, out, passthrough=PASSTHROUGH)
    got = pq.read_table(out).to_pandas()
    want = build_fraud_features(table_file).frame
    assert [c for c in got.columns if c in FEATURE_NAMES] == list(FEATURE_NAMES)
    assert got["transaction_id"].tolist() == want["transaction_id"].tolist()
    _same_frames(got[HISTORY_FEATURES], want[HISTORY_FEATURES])


@pytest.mark.parametrize(("partition_rows", "slice_rows"), [(2, 60), (150, 25), (10_000, 10_000)])
def test_partitioned_features_match_brute_force_and_the_other_engines(
    table_file: Path, tmp_path: Path, partition_rows: int, slice_rows: int
) -> None:
    defs, table = _fraud(table_file)
    out = tmp_path / "features.parquet"
    calls: list[tuple[str, int, int]] = []
    rows = compute_features_partitioned(
        table_file,
        defs,
        table,
        out,
        passthrough=PASSTHROUGH,
        options=EngineOptions(memory_limit="256MB", threads=2, temp_dir=tmp_path),
        partition_rows=partition_rows,
        slice_rows=slice_rows,
        progress=lambda stage, done, total: calls.append((stage, done, total)),
    )
    got = pq.read_table(out).to_pandas()
    assert rows == len(got) == 600
    # The cut really happened: parts per entity family and time slices as planned.
    parts = {stage: total for stage, _done, total in calls if stage.startswith("features:")}
    assert set(parts) == {"features:customer", "features:terminal", "features:card"}
    if partition_rows == 2:  # 6 customers, 5 terminals, 8 cards: several parts each
        assert all(total > 1 for total in parts.values())
    slices = -(-600 // slice_rows)
    assert [c for c in calls if c[0] == "assemble"][-1] == ("assemble", slices, slices)
    assert_features_equal(got, reference(pd.read_parquet(table_file)), SQL_FEATURES)
    _same_frames(got, compute_features(table_file, defs, table, passthrough=PASSTHROUGH))
    streamed = tmp_path / "streamed.parquet"
    compute_features_to_parquet(table_file, defs, table, streamed, passthrough=PASSTHROUGH)
    _same_frames(got, pq.read_table(streamed).to_pandas())
    # Scratch (parts, family results, spill) is gone; only the two outputs remain.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["features.parquet", "streamed.parquet"]


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    n=st.integers(1, 150),
    seed=st.integers(0, 10_000),
    partition_rows=st.integers(1, 60),
    slice_rows=st.integers(15, 200),
)
def test_no_cut_into_parts_and_slices_changes_a_value(
    tmp_path: Path, n: int, seed: int, partition_rows: int, slice_rows: int
) -> None:
    df = transactions(n=n, seed=seed)
    source = tmp_path / f"t{seed}-{n}.parquet"
    df.to_parquet(source)
    defs, table = _fraud(source)
    out = tmp_path / f"f{seed}-{n}.parquet"
    compute_features_partitioned(
        source,
        defs,
        table,
        out,
        passthrough=PASSTHROUGH,
        partition_rows=partition_rows,
        slice_rows=slice_rows,
    )
    want = compute_features(source, defs, table, passthrough=PASSTHROUGH)
    _same_frames(pq.read_table(out).to_pandas(), want)


def test_partitioned_row_features_alone_keep_every_row_in_time_order(tmp_path: Path) -> None:
    # No entity: one family keyed on the event id, still cut into parts and slices.
    df = _tied_customer()
    defs = [FeatureDef("double_x", None, None, "2x", "row", "2 * x")]
    got = _run("partitioned", df, defs, _HISTORY_TABLE, tmp_path, passthrough=["cust"])
    assert got["id"].tolist() == [1, 2, 4, 3]  # (time, id) order
    assert got["double_x"].tolist() == [200.0, 20.0, 10.0, 80.0]
    assert got["cust"].isna().tolist() == [False, False, True, False]


def test_partition_plan_groups_features_by_entity() -> None:
    defs = [
        FeatureDef("night", None, None, "row", "row", "1"),
        FeatureDef("n_t", "term", "1d", "count", "count"),
        FeatureDef("n_c", "cust", "1d", "count", "count"),
        FeatureDef("new_t", "cust", None, "new", "first_seen", key="term"),
    ]
    plan = plan_partitions(defs, rows=10, partition_rows=4, slice_rows=3)
    # First-use order; row features ride with the first family (which carries the columns).
    assert [(e, [f.name for f in g]) for e, g in plan.families] == [
        ("term", ["n_t", "night"]),
        ("cust", ["n_c", "new_t"]),
    ]
    assert (plan.parts, plan.slices) == (3, 4)
    only_rows = plan_partitions(defs[:1], rows=10, partition_rows=100, slice_rows=100)
    assert [(e, [f.name for f in g]) for e, g in only_rows.families] == [(None, ["night"])]
    assert (only_rows.parts, only_rows.slices) == (1, 1)
    with pytest.raises(InputError, match="at least 1"):
        plan_partitions(defs, rows=10, partition_rows=0, slice_rows=3)


def test_partitioned_refuses_a_feature_on_an_unmapped_entity(tmp_path: Path) -> None:
    defs = [FeatureDef("n_acct", "acct", "1d", "count", "count")]
    with pytest.raises(InputError, match="partition on 'acct', which the event table"):
        compute_features_partitioned(_tied_customer(), defs, _HISTORY_TABLE, tmp_path / "f")
    assert list(tmp_path.iterdir()) == []


def test_partitioned_failure_midway_leaves_the_old_output_and_no_scratch(
    table_file: Path, tmp_path: Path
) -> None:
    # Fail after the first time slice is in the temporary file: the half-written file must
    # not replace the old output, and scratch must not stay behind.
    defs, table = _fraud(table_file)
    out = tmp_path / "out" / "features.parquet"
    out.parent.mkdir()
    out.write_bytes(b"previous run")
    scratch = tmp_path / "scratch"
    scratch.mkdir()

    def fail_on_second_slice(stage: str, done: int, _total: int) -> None:
        if stage == "assemble" and done == 2:
            raise RuntimeError("disk went away")

    with pytest.raises(RuntimeError, match="disk went away"):
        compute_features_partitioned(
            table_file,
            defs,
            table,
            out,
            options=EngineOptions(temp_dir=scratch),
            slice_rows=100,
            progress=fail_on_second_slice,
        )
    assert out.read_bytes() == b"previous run"
    assert [p.name for p in out.parent.iterdir()] == ["features.parquet"]
    assert list(scratch.iterdir()) == []


def _tied_customer() -> pd.DataFrame:
    # Customer 7: ids 2 and 1 at the same instant (id 1 comes first), then id 3 an hour on.
    t0 = pd.Timestamp("2026-03-02 10:00", tz="UTC")
    return pd.DataFrame(
        {
            "id": [2, 1, 3, 4],
            "t": [t0, t0, t0 + pd.Timedelta(hours=1), t0],
            "cust": pd.array([7, 7, 7, None], dtype="Int64"),
            "x": [10.0, 100.0, 40.0, 5.0],
        }
    )


_HISTORY_DEFS = [
    FeatureDef("gap", "cust", "30d", "hours since", "hours_since_prior"),
    FeatureDef("to_median", "cust", "30d", "x / median", "ratio_to_median", "x"),
    FeatureDef("z", "cust", "30d", "z-score", "zscore", "x"),
    FeatureDef("z_capped", "cust", "30d", "z of min(x, 50)", "zscore", "LEAST(x, 50.0)", key="x"),
]
_HISTORY_TABLE = EventTable({"id": "id", "time": "t", "cust": "cust", "x": "x"})


@pytest.mark.parametrize("engine", ["in-memory", "streamed", "partitioned"])
def test_history_kinds_leave_later_tied_peers_out(engine: str, tmp_path: Path) -> None:
    got = _run(engine, _tied_customer(), _HISTORY_DEFS, _HISTORY_TABLE, tmp_path)
    rows = got.set_index("id")
    # id 1 sees only itself; id 2 sees {100, 10}; id 3 sees {100, 10, 40}; id 4 has no customer.
    assert rows.loc[1, "gap"] == 720.0
    assert rows.loc[2, "gap"] == 0.0
    assert rows.loc[3, "gap"] == 1.0
    assert rows.loc[1, "to_median"] == 1.0
    assert rows.loc[2, "to_median"] == 10.0 / 55.0
    assert rows.loc[3, "to_median"] == 1.0
    assert rows.loc[1, "z"] == 0.0
    assert rows.loc[2, "z"] == pytest.approx(-1.0, abs=1e-12)
    assert rows.loc[3, "z"] == pytest.approx((40.0 - 50.0) / np.std([100.0, 10.0, 40.0]), abs=1e-12)
    # key: the raw value against the window of clipped values {50, 10}: (10 - 30) / 20.
    assert rows.loc[2, "z_capped"] == pytest.approx(-1.0, abs=1e-12)
    assert np.isnan(rows.loc[4, ["gap", "to_median", "z", "z_capped"]].to_numpy(float)).all()


def _terminal_frauds() -> pd.DataFrame:
    # Terminal 5: frauds at t0 (known at t0 + 2h) and t0 + 3h (known at once); id 4 at
    # t0 + 3h too (its peer's fraud is not strictly earlier); id 6 at t0 + 7d (t0 leaves
    # the window, exclusive); id 7 has no terminal; id 8 at t0 + 7d + 3h (the last fraud
    # leaves the window exactly then).
    t0 = pd.Timestamp("2026-03-02 10:00", tz="UTC")
    h = pd.Timedelta(hours=1)
    d7 = pd.Timedelta(days=7)
    return pd.DataFrame(
        {
            "id": [1, 2, 3, 4, 5, 6, 7, 8],
            "t": [
                t0,
                t0 + h,
                t0 + 2 * h,
                t0 + 3 * h,
                t0 + 3 * h,
                t0 + d7,
                t0 + 4 * h,
                t0 + d7 + 3 * h,
            ],
            "term": pd.array([5, 5, 5, 5, 5, 5, None, 5], dtype="Int64"),
            "fraud": [True, False, False, False, True, False, True, False],
            "known": [t0 + 2 * h, t0, t0, t0, t0 + 3 * h, t0, t0 + 4 * h, t0],
        }
    )


_KNOWN_DEFS = [
    FeatureDef("known_7d", "term", "7d", "known frauds", "known_label_count"),
    FeatureDef("rate_1d", "term", "1d", "delayed rate", "label_rate"),
]
_KNOWN_TABLE = EventTable(
    {"id": "id", "time": "t", "term": "term", "fraud": "fraud", "known": "known"},
    label="fraud",
    label_time="known",
    label_delay=pd.Timedelta(hours=1).to_pytimedelta(),
)


@pytest.mark.parametrize("engine", ["in-memory", "streamed", "partitioned"])
def test_known_label_count_counts_strictly_earlier_frauds_known_by_now(
    engine: str, tmp_path: Path
) -> None:
    got = _run(engine, _terminal_frauds(), _KNOWN_DEFS, _KNOWN_TABLE, tmp_path)
    k = got.set_index("id")["known_7d"]
    assert k[1] == 0.0  # its own fraud: never
    assert k[2] == 0.0  # id 1's fraud is not known yet (t0 + 2h)
    assert k[3] == 1.0  # known exactly at t: counts
    assert k[4] == 1.0  # id 5 shares the timestamp: not strictly earlier
    assert k[5] == 1.0
    assert k[6] == 1.0  # t0 is at t - 7d exactly: out; t0 + 3h in
    assert np.isnan(k[7])
    assert k[8] == 0.0
    # The label_rate of the same entity still reads its delayed window beside it:
    # id 3 at t0 + 2h sees (t0 + 1h - 1d, t0 + 1h] = ids 1, 2, fraud 1 known at t0 + 2h.
    assert got.set_index("id").loc[3, "rate_1d"] == 0.5


def test_streamed_features_without_a_label_time_column(tmp_path: Path) -> None:
    df = transactions(n=300, seed=5).drop(columns=["label_available_at"])
    source = tmp_path / "t.parquet"
    df.to_parquet(source)
    defs, table = _fraud(source, label_delay_days=3)
    assert table.label_time is None
    out = tmp_path / "f.parquet"
    compute_features_to_parquet(source, defs, table, out, passthrough=PASSTHROUGH)
    got = pq.read_table(out).to_pandas()
    want = reference(transactions(n=300, seed=5), delay_days=3, label_time=False)
    assert_features_equal(got, want, [n for n in SQL_FEATURES if n.startswith("terminal_")])
    _same_frames(got, compute_features(source, defs, table, passthrough=PASSTHROUGH))
    _same_frames(_run("partitioned", source, defs, table, tmp_path, PASSTHROUGH), got)


@pytest.mark.parametrize("engine", ["streamed", "partitioned"])
def test_streamed_sum_kind_and_null_entities(engine: str, tmp_path: Path) -> None:
    df = pd.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "t": pd.to_datetime(
                ["2026-01-01 00:00", "2026-01-01 00:30", "2026-01-01 02:00", "2026-01-01 02:10"],
                utc=True,
            ),
            "acct": pd.array([7, 7, None, 7], dtype="Int64"),
            "x": [1.0, 2.0, 4.0, 8.0],
        }
    )
    defs = [FeatureDef("x_sum_1h", "acct", "1h", "sum of x", "sum", "x")]
    table = EventTable({"id": "id", "time": "t", "acct": "acct", "x": "x"})
    got = _run(engine, df, defs, table, tmp_path)["x_sum_1h"].tolist()
    assert got[:2] == [1.0, 3.0]
    assert np.isnan(got[2])
    assert got[3] == 8.0


@pytest.mark.parametrize("engine", ["streamed", "partitioned"])
def test_bad_input_leaves_no_file(engine: str, table_file: Path, tmp_path: Path) -> None:
    df = pd.read_parquet(table_file)
    df.loc[5, "transaction_id"] = df.loc[6, "transaction_id"]
    source = tmp_path / "dup.parquet"
    df.to_parquet(source)
    defs, table = _fraud(source)
    out = tmp_path / "out" / "f.parquet"
    write = compute_features_to_parquet if engine == "streamed" else compute_features_partitioned
    with pytest.raises(InputError, match="appear more than once"):
        write(source, defs, table, out)
    assert not out.exists()
    assert not list(tmp_path.glob("out/.*partial"))


@pytest.mark.parametrize("partition_above", [0, 10_000])
def test_write_features_gives_the_same_values_either_side_of_the_partition_threshold(
    table_file: Path, tmp_path: Path, partition_above: int
) -> None:
    # 600 rows: above 0 the partitioned engine runs, below 10,000 the single query.
    defs, table = _fraud(table_file)
    out = tmp_path / "f.parquet"
    rows = write_features(
        table_file, defs, table, out, passthrough=PASSTHROUGH, partition_above=partition_above
    )
    assert rows == 600
    want = compute_features(table_file, defs, table, passthrough=PASSTHROUGH)
    _same_frames(pq.read_table(out).to_pandas(), want)


def test_write_features_refuses_an_unknown_engine(table_file: Path, tmp_path: Path) -> None:
    defs, table = _fraud(table_file)
    with pytest.raises(InputError, match="unknown feature engine 'flink'"):
        write_features(table_file, defs, table, tmp_path / "f", engine="flink")


def test_spark_sql_is_generated_in_spark_dialect(table_file: Path) -> None:
    defs, table = _fraud(table_file)
    spark_sql = compile_features(defs, table, "_source", dialect=SPARK)
    duck_sql = compile_features(defs, table, "_source", dialect=DUCKDB)
    assert "unix_micros(`timestamp`)" in spark_sql
    assert "(1 + weekday(`timestamp`))" in spark_sql
    assert '"' not in spark_sql
    assert "isodow" not in spark_sql
    assert 'isodow("timestamp")' in duck_sql
    # One window per (feature kind, window): both dialects compute the same aggregates.
    assert spark_sql.count(" OVER ") == duck_sql.count(" OVER ")


@pytest.mark.spark
@pytest.mark.slow
def test_spark_and_duckdb_give_identical_features(
    table_file: Path, tmp_path: Path, spark_session: object
) -> None:
    # The table has every feature kind, timestamp ties, shuffled ids and labels known late;
    # one JVM (shared by the run's spark tests) and one query per engine.
    _compare_engines(spark_session, [table_file], tmp_path)


def _compare_engines(session: object, sources: list[Path], tmp_path: Path) -> None:
    for source in sources:
        defs, table = _fraud(source)
        duck = tmp_path / f"duck-{source.parent.name}.parquet"
        spark = tmp_path / f"spark-{source.parent.name}"
        n_duck = write_features(source, defs, table, duck, engine="duckdb", passthrough=PASSTHROUGH)
        n_spark = write_features(
            source,
            defs,
            table,
            spark,
            engine="spark",
            passthrough=PASSTHROUGH,
            spark_session=session,
        )
        assert n_duck == n_spark > 0
        want = pq.read_table(duck).to_pandas()
        got = ds.dataset(spark).to_table().to_pandas()
        # Spark writes timestamps as UTC instants like DuckDB; compare them as microseconds.
        for frame in (want, got):
            for col in ("timestamp", "label_time"):
                frame[col] = frame[col].astype("datetime64[us, UTC]").astype("int64")
        _same_frames(got, want)

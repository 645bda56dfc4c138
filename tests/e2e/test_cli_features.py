"""``bankml fraud features`` as a user runs it: real processes, real files, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from bankml.fraud.features import FEATURE_NAMES, build_fraud_features
from tests.e2e.test_cli import assert_one_line_error, run

# Every feature the model uses, the history ones (median, z-score, gaps) included.
SQL_FEATURES = list(FEATURE_NAMES)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("features-home")
    run(home, "data", "generate", "--customers", "150", "--days", "20", "--out", str(home / "b"))
    return home


def test_features_are_written_with_the_duckdb_engine(home: Path) -> None:
    source = home / "b" / "transactions.parquet"
    out = home / "features.parquet"
    proc = run(home, "fraud", "features", "-t", str(source), "-o", str(out), "--json")
    summary = json.loads(proc.stdout)
    assert summary["engine"] == "duckdb"
    assert summary["features"] == SQL_FEATURES
    got = pq.read_table(out).to_pandas()
    assert summary["rows"] == len(got) == pq.read_metadata(source).num_rows
    # The in-memory engine is the oracle: same rows, same order, same values.
    want = build_fraud_features(source).frame
    assert got["transaction_id"].tolist() == want["transaction_id"].tolist()
    # atol: a z-score near 0 is a difference of nearly equal numbers (last-ulp noise).
    pd.testing.assert_frame_equal(
        got[SQL_FEATURES], want[SQL_FEATURES], check_exact=False, rtol=1e-12, atol=1e-12
    )


def test_an_existing_output_is_kept_without_overwrite(home: Path) -> None:
    source = home / "b" / "transactions.parquet"
    out = home / "keep.parquet"
    out.write_bytes(b"mine")
    proc = run(home, "fraud", "features", "-t", str(source), "-o", str(out), check=2)
    assert_one_line_error(proc)
    assert "--overwrite" in proc.stderr
    assert out.read_bytes() == b"mine"


def test_bad_engine_and_missing_file_get_one_line_errors(home: Path) -> None:
    source = home / "b" / "transactions.parquet"
    proc = run(
        home, "fraud", "features", "-t", str(source), "-o", "x", "--engine", "flink", check=2
    )
    assert_one_line_error(proc)
    assert "unknown feature engine 'flink'" in proc.stderr
    proc = run(home, "fraud", "features", "-t", str(home / "nope.parquet"), "-o", "y", check=2)
    assert_one_line_error(proc)
    assert not (home / "y").exists()

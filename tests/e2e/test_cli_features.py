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


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, int, str]:
    """A home with a generated bank and one registered fraud version (not yet approved);
    the home's admin key last (a home is initialised once)."""
    from tests.e2e.test_cli import TRAIN_ARGS, admin_key, user_key

    home = tmp_path_factory.mktemp("score-batch-home")
    bank = home / "bank"
    run(
        home,
        "data",
        "generate",
        "--customers",
        "400",
        "--days",
        "35",
        "--seed",
        "3",
        "--out",
        str(bank),
    )
    admin = admin_key(home)
    maria = user_key(home, "maria", "model_developer", admin)
    args = [a for a in TRAIN_ARGS if a != "--no-register"]
    source = bank / "transactions.parquet"
    out = json.loads(
        run(home, "fraud", "train", "-t", str(source), *args, "--json", key=maria).stdout
    )
    return home, source, int(out["version"]), admin


def test_score_batch_scores_every_transaction_as_the_model_does_and_is_ledgered(
    trained: tuple[Path, Path, int, str],
) -> None:
    from bankml.fraud.service import load_serving
    from tests.e2e.test_cli import user_key

    home, source, version, admin = trained
    fiona = user_key(home, "fiona", "fraud_analyst", admin)
    out = home / "scores.parquet"
    proc = run(
        home,
        "fraud",
        "score-batch",
        "-t",
        str(source),
        "-o",
        str(out),
        "--version",
        str(version),
        "--json",
        key=fiona,
    )
    summary = json.loads(proc.stdout)
    assert summary["engine"] == "duckdb" and summary["version"] == version
    got = pq.read_table(out).to_pandas()
    assert summary["rows"] == len(got) == pq.read_metadata(source).num_rows
    # Oracle: the registered model on the in-memory engine's features of the same table.
    serving = load_serving(home / "model_cache" / "fraud" / str(version))
    want = build_fraud_features(
        source, serving.mapping, label_delay_days=int(serving.meta["label_delay_days"])
    ).frame
    assert got["transaction_id"].tolist() == want["transaction_id"].tolist()
    x = want[serving.feature_names].to_numpy(dtype="float64")
    expected = pd.Series(serving.model.predict_proba(x)[:, 1], name="score")
    pd.testing.assert_series_equal(got["score"], expected, check_exact=False, rtol=1e-12)
    assert got["score"].std() > 0.01
    # The run, not each row, is in the ledger, with who, which version and how many rows.
    log = run(home, "audit", "log", "--kind", "fraud.batch_scored", "--json", key=fiona)
    (entry,) = json.loads(log.stdout)
    assert entry["actor"] == "fiona" and entry["subject"] == f"model:fraud/{version}"
    assert entry["payload"]["rows"] == len(got) and entry["payload"]["engine"] == "duckdb"


def test_score_batch_refuses_roles_that_may_not_score(
    trained: tuple[Path, Path, int, str],
) -> None:
    from tests.e2e.test_cli import user_key

    home, source, version, admin = trained
    vera = user_key(home, "vera", "validator", admin)
    out = home / "nope.parquet"
    proc = run(
        home,
        "fraud",
        "score-batch",
        "-t",
        str(source),
        "-o",
        str(out),
        "--version",
        str(version),
        key=vera,
        check=None,
    )
    assert proc.returncode != 0
    assert_one_line_error(proc)
    assert "needs" in proc.stderr and not out.exists()

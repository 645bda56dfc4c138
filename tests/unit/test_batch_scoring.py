"""Batch scoring of a whole table: DuckDB (streamed) and Spark give the live path's scores.

Oracles: the model scoring the in-memory feature frame it was trained on
(``build_fraud_features``), and the live path's own ``ServingModel.evaluate`` row by row.
The table has timestamp ties, shuffled ids and labels known late.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from bankml.core.errors import InputError
from bankml.fraud.batch import score_batch
from bankml.fraud.features import FEATURE_NAMES, build_fraud_features
from bankml.fraud.mapping import DEFAULT_MAPPING
from bankml.fraud.model import FraudModel
from bankml.fraud.service import ServingModel
from tests.unit.test_fraud_features import transactions


@pytest.fixture(scope="module")
def table_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("batch") / "transactions.parquet"
    transactions(n=800, seed=7, days=30).to_parquet(path)
    return path


@pytest.fixture(scope="module")
def serving(table_file: Path) -> ServingModel:
    frame = build_fraud_features(table_file).frame
    names = list(FEATURE_NAMES)
    model = FraudModel(n_estimators=30, min_child_samples=10, calibration="none").fit(
        frame[names].to_numpy(np.float64), frame["label"].to_numpy(np.int8), names
    )
    meta = {
        "feature_names": names,
        "label_delay_days": 7,
        "mapping": DEFAULT_MAPPING.as_dict(),
        "threshold": 0.5,
    }
    return ServingModel("fraud", 3, model, meta)


@pytest.fixture(scope="module")
def expected(table_file: Path, serving: ServingModel) -> pd.DataFrame:
    frame = build_fraud_features(table_file).frame
    x = frame[serving.feature_names].to_numpy(np.float64)
    return pd.DataFrame(
        {
            "transaction_id": frame["transaction_id"],
            "score": serving.model.predict_proba(x)[:, 1],
        }
    )


def test_duckdb_batch_scores_equal_the_model_on_the_training_frame_and_the_live_path(
    table_file: Path, serving: ServingModel, expected: pd.DataFrame, tmp_path: Path
) -> None:
    out = tmp_path / "scores.parquet"
    result = score_batch(table_file, serving, out, engine="duckdb")
    got = pq.read_table(out).to_pandas()
    assert result.rows == len(got) == 800 and result.version == 3
    assert list(got.columns) == ["transaction_id", "timestamp", "score"]
    assert got["transaction_id"].tolist() == expected["transaction_id"].tolist()
    np.testing.assert_allclose(got["score"], expected["score"], rtol=1e-12, atol=1e-15)
    # Not vacuous: the scores spread, and the live path's one-row evaluate() agrees.
    assert got["score"].std() > 0.01
    frame = build_fraud_features(table_file).frame.set_index("transaction_id")
    for tid, score in got.set_index("transaction_id")["score"].iloc[::97].items():
        row = frame.loc[tid, serving.feature_names].to_numpy(np.float64)
        assert serving.evaluate(row)["score"] == pytest.approx(score, rel=1e-12, abs=1e-15)
    assert not list(tmp_path.glob(".bankml-batch-*"))


def test_a_table_that_cannot_feed_the_model_is_refused_before_anything_is_written(
    table_file: Path, serving: ServingModel, tmp_path: Path
) -> None:
    no_card = tmp_path / "no_card.parquet"
    pd.read_parquet(table_file).drop(columns=["card_id"]).to_parquet(no_card)
    out = tmp_path / "scores.parquet"
    with pytest.raises(InputError, match="cannot feed fraud v3: it lacks the columns of"):
        score_batch(no_card, serving, out)
    assert not out.exists()
    with pytest.raises(InputError, match="unknown scoring engine 'flink'"):
        score_batch(table_file, serving, out, engine="flink")


@pytest.mark.spark
@pytest.mark.slow
def test_spark_batch_scores_equal_the_duckdb_batch_scores(
    table_file: Path,
    serving: ServingModel,
    expected: pd.DataFrame,
    spark_session: object,
    tmp_path: Path,
) -> None:
    out = tmp_path / "scores"
    result = score_batch(table_file, serving, out, engine="spark", spark_session=spark_session)
    got = ds.dataset(out).to_table().to_pandas()
    assert result.rows == len(got) == 800
    assert got["transaction_id"].tolist() == expected["transaction_id"].tolist()
    np.testing.assert_allclose(got["score"], expected["score"], rtol=1e-12, atol=1e-15)
    duck = pq.read_table(score_batch(table_file, serving, tmp_path / "d.parquet").out).to_pandas()
    stamps = [f["timestamp"].astype("datetime64[us, UTC]").astype("int64") for f in (got, duck)]
    assert (stamps[0] == stamps[1]).all()

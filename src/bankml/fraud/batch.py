"""Batch scoring: a whole transactions table scored by one model version, written to Parquet.

Two engines, one answer (a test marked ``spark`` holds them equal on a sample):

``duckdb``  the features are streamed to Parquet by DuckDB (bounded memory, see
            :func:`bankml.data.features.compute_features_to_parquet`), then read back in
            Arrow batches and scored; the scores are written batch by batch. No step holds
            the table in memory.
``spark``   the same feature definitions run as generated Spark SQL
            (:mod:`bankml.data.spark`); the model scores each partition with ``mapInPandas``
            (the fitted model is shipped to the executors, LightGBM predicts on the whole
            partition at once); Spark writes a directory of Parquet part files.

Both score with :meth:`bankml.fraud.model.FraudModel.predict_proba` on the model's own feature
order, so a batch score equals the live score of the same transaction with the same history.
The output holds ``transaction_id``, ``timestamp`` and ``score`` (the calibrated fraud
probability) per transaction, in (timestamp, transaction_id) order. Batch scores are not
decisions: nothing is queued, and the ledger records the run (who, which version, how many
rows, where), not each row.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from bankml.core.errors import InputError
from bankml.data.features import FEATURE_ENGINES, EngineOptions, write_features
from bankml.fraud.features import enabled_features, resolve_event_table

if TYPE_CHECKING:
    from bankml.fraud.model import FraudModel
    from bankml.fraud.service import ServingModel

__all__ = ["BatchScores", "check_engine", "score_batch"]

log = logging.getLogger(__name__)

MSG_FEATURES_MISSING = (
    "the table cannot feed fraud v{version}: it lacks the columns of {features} "
    "(check the column mapping the model was trained with)"
)
_KEYS = ("transaction_id", "timestamp")
_BATCH_ROWS = 262_144


@dataclass(frozen=True)
class BatchScores:
    """What one batch-scoring run wrote."""

    engine: str
    version: int
    rows: int
    out: Path
    seconds: float
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return {
            "engine": self.engine,
            "version": self.version,
            "rows": self.rows,
            "out": str(self.out),
            "seconds": round(self.seconds, 2),
            "warnings": self.warnings,
        }


def score_batch(
    source: Path,
    serving: ServingModel,
    out: Path,
    *,
    engine: str = "duckdb",
    spark_session: Any = None,
    options: EngineOptions | None = None,
) -> BatchScores:
    """Score every transaction of ``source`` with ``serving``'s model; write Parquet at ``out``.

    ``duckdb`` writes one file; ``spark`` a directory of part files (on ``spark_session``,
    or a local session started and stopped here). The table is read with the column mapping
    and label delay the model was trained with; a table that cannot feed one of the model's
    features is refused before anything runs. ``out`` is never half-written.
    """
    check_engine(engine)
    started = time.perf_counter()
    delay = int(serving.meta["label_delay_days"])
    resolved, warnings, table = resolve_event_table(source, serving.mapping, delay)
    defs = enabled_features(resolved)
    have = {d.name for d in defs}
    lacking = [n for n in serving.feature_names if n not in have]
    if lacking:
        raise InputError(
            MSG_FEATURES_MISSING.format(version=serving.version, features=", ".join(lacking))
        )
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Beside the output (same file system: the finished result is renamed into place).
    with tempfile.TemporaryDirectory(prefix=".bankml-batch-", dir=out.parent) as work:
        features = Path(work) / "features"
        tmp = Path(work) / "scores"
        if engine == "spark":
            from bankml.data.spark import local_spark_session

            session = spark_session if spark_session is not None else local_spark_session()
            try:
                write_features(source, defs, table, features, engine="spark", spark_session=session)
                rows = _score_spark(session, features, serving.model, serving.feature_names, tmp)
            finally:
                if spark_session is None:
                    session.stop()
        else:
            write_features(source, defs, table, features, engine="duckdb", options=options)
            rows = _score_arrow(features, serving.model, serving.feature_names, tmp)
        if out.exists():
            shutil.rmtree(out) if out.is_dir() else out.unlink()
        tmp.rename(out)
    seconds = time.perf_counter() - started
    log.info("scored %s transactions with fraud v%s on %s", rows, serving.version, engine)
    return BatchScores(engine, serving.version, rows, out, seconds, warnings)


def check_engine(engine: str) -> None:
    """Raise InputError unless ``engine`` is one batch scoring can run on."""
    if engine not in FEATURE_ENGINES:
        raise InputError(
            f"unknown scoring engine {engine!r}: choose one of {', '.join(FEATURE_ENGINES)}"
        )


def _score_arrow(features: Path, model: FraudModel, names: list[str], out: Path) -> int:
    """Score a feature file in Arrow batches; write the scores batch by batch."""
    dataset = pads.dataset(features)
    schema = pa.schema(
        [dataset.schema.field(_KEYS[0]), dataset.schema.field(_KEYS[1]), ("score", pa.float64())]
    )
    rows = 0
    with pq.ParquetWriter(out, schema, compression="zstd") as writer:
        for batch in dataset.to_batches(columns=[*_KEYS, *names], batch_size=_BATCH_ROWS):
            x = np.column_stack(
                [batch.column(n).to_numpy(zero_copy_only=False) for n in names]
            ).astype(np.float64)
            scores = model.predict_proba(x)[:, 1] if len(x) else np.empty(0)
            writer.write_table(
                pa.table(
                    [batch.column(_KEYS[0]), batch.column(_KEYS[1]), pa.array(scores)],
                    schema=schema,
                )
            )
            rows += batch.num_rows
    return rows


def _partition_scorer(
    model: FraudModel, names: list[str]
) -> Any:  # a function Spark pickles to each executor
    def score(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for frame in frames:
            x = frame[names].to_numpy(dtype=np.float64, na_value=np.nan)
            scores = model.predict_proba(x)[:, 1] if len(x) else np.empty(0)
            yield pd.DataFrame(
                {_KEYS[0]: frame[_KEYS[0]], _KEYS[1]: frame[_KEYS[1]], "score": scores}
            )

    return score


def _score_spark(
    session: Any, features: Path, model: FraudModel, names: list[str], out: Path
) -> int:
    """Score Spark's feature files with ``mapInPandas``; write a directory of part files."""
    from pyspark.sql.types import DoubleType, StructField, StructType

    frame = session.read.parquet(str(features)).select(*_KEYS, *names)
    schema = StructType(
        [frame.schema[_KEYS[0]], frame.schema[_KEYS[1]], StructField("score", DoubleType())]
    )
    with warnings.catch_warnings():
        # pyspark 4.x warns that pandas 3 is "not yet fully supported"; this path only moves
        # float64 columns and the id/timestamp through, and a test holds its scores equal to
        # DuckDB's, so the warning is noise to the user here (and an error under pytest).
        warnings.filterwarnings(
            "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
        )
        scored = frame.mapInPandas(_partition_scorer(model, names), schema)
        scored.orderBy(_KEYS[1], _KEYS[0]).write.mode("overwrite").parquet(str(out))
    return int(session.read.parquet(str(out)).count())

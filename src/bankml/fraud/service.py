"""Fraud use cases the faces call: train and register, triage a day, score one transaction.

A model version on disk is a directory with the LightGBM booster, ``model.json`` and
``serving.json`` (feature names, operating threshold, capacity, mapping, label delay,
lineage hashes): everything needed to score, explain and replay a decision.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from bankml.core.clock import Clock, SystemClock, utc_iso
from bankml.core.errors import DataFileError, InputError
from bankml.core.files import atomic_write_text
from bankml.core.pii import PIITokenizer
from bankml.fraud.evaluation import FraudEvaluation
from bankml.fraud.explain import top_reasons
from bankml.fraud.features import FeatureFrame, build_fraud_features
from bankml.fraud.kind import MODEL_NAME
from bankml.fraud.mapping import ColumnMapping
from bankml.fraud.model import FraudModel
from bankml.fraud.online import OnlineFeatureStore
from bankml.fraud.queue import Alert, ReviewQueue, TriageRun
from bankml.fraud.report import render_evaluation_html, render_selection_html
from bankml.fraud.selection import SelectionConfig, SelectionResult, select
from bankml.fraud.training import TrainConfig, TrainingResult, file_sha256, train
from bankml.fraud.transaction import Transaction
from bankml.governance.ledger import DecisionLedger, Event
from bankml.governance.registry import (
    ModelRegistry,
    ModelVersionInfo,
    code_version,
    library_versions,
)

__all__ = [
    "MODEL_NAME",
    "FraudScorer",
    "ServingModel",
    "TrainOutcome",
    "build_scorer",
    "decision_payload",
    "load_replayer",
    "load_serving",
    "train_and_register",
    "triage_day",
]

log = logging.getLogger(__name__)

MAX_CLOCK_SKEW = timedelta(minutes=5)
_SERVING_FILE = "serving.json"
Progress = Callable[[str, int, int], None]
_T = TypeVar("_T")


@dataclass
class TrainOutcome:
    """A finished training run: the evidence, where it is, and the registered version."""

    result: TrainingResult
    model_dir: Path
    report: Path
    version: ModelVersionInfo | None
    data_sha256: str
    definitions_hash: str
    warnings: list[str] = field(default_factory=list)
    selection: SelectionResult | None = None
    selection_report: Path | None = None

    def summary(self) -> dict[str, Any]:
        """The JSON the CLI prints (``test`` holds the headline metrics)."""
        ev = self.result.evaluation
        unfiltered = self.result.evaluation_unfiltered
        return {
            "model": MODEL_NAME,
            "version": self.version.version if self.version else None,
            "test": _headline(ev),
            "test_unfiltered": _headline(unfiltered) if unfiltered is not None else None,
            "evaluation": ev.to_dict(),
            "capacity_plan": self.result.capacity_plan.to_dict(),
            "counts": self.result.counts,
            "config": self.result.config.to_dict(),
            "selection": self.selection.to_dict() if self.selection else None,
            "selection_report": str(self.selection_report) if self.selection_report else None,
            "data_sha256": self.data_sha256,
            "feature_definitions_sha256": self.definitions_hash,
            "features": self.result.feature_names,
            "warnings": self.warnings,
            "report": str(self.report),
            "model_dir": str(self.model_dir),
        }


def _headline(ev: FraudEvaluation) -> dict[str, Any]:
    return {
        "roc_auc": ev.roc_auc,
        "average_precision": ev.average_precision,
        "card_precision_at_k": ev.card_precision_at_k,
        "precision_at_k": ev.precision_at_k,
        "k": ev.k,
        "alerts_per_day": ev.alerts_per_day,
        "max_alerts_per_day": ev.max_alerts_per_day,
        "days_over_capacity": ev.days_over_capacity,
        "threshold": ev.threshold,
        "precision": ev.precision,
        "recall": ev.recall,
        "brier": ev.brier,
        "ece": ev.ece,
        "net_saving": ev.net_saving,
        "transactions": ev.transactions,
        "frauds": ev.frauds,
    }


def _read_source(path: Path) -> None:
    if not path.exists():
        raise DataFileError(f"{path} does not exist; generate data with `bankml data generate`")
    if path.suffix.lower() not in {".parquet", ".csv"}:
        raise DataFileError(f"{path}: only .parquet and .csv transaction files are read")
    if path.stat().st_size == 0:
        raise DataFileError(f"{path} is empty")


def _stepped(step: Progress, name: str, fn: Callable[[], _T]) -> _T:
    """Run one named step between two progress ticks."""
    step(name, 0, 1)
    value = fn()
    step(name, 1, 1)
    return value


def _serving_meta(
    source: Path,
    features: FeatureFrame,
    result: TrainingResult,
    data_sha: str,
) -> dict[str, Any]:
    """``serving.json``: everything needed to score, explain and replay with this model."""
    config = result.config
    return {
        "model_name": MODEL_NAME,
        "feature_names": result.feature_names,
        "threshold": result.capacity_plan.threshold,
        "capacity": config.capacity,
        "label_delay_days": features.label_delay_days,
        "mapping": features.mapping.as_dict(),
        "feature_definitions_sha256": features.definitions_hash,
        "data_sha256": data_sha,
        "data_path": str(source.resolve()),
        "config": config.to_dict(),
        "capacity_plan": result.capacity_plan.to_dict(),
    }


def _write_run(
    out_dir: Path,
    source: Path,
    features: FeatureFrame,
    result: TrainingResult,
    data_sha: str,
    selection: SelectionResult | None,
) -> tuple[Path, Path, Path, Path | None]:
    """Save the model, serving metadata, evaluation (and selection) artefacts.

    Returns (model directory, evaluation directory, report, selection report).
    """
    model_dir = out_dir / "model"
    if model_dir.exists():
        raise InputError(f"{out_dir} already holds a training run; choose another --out")
    result.model.save(model_dir)
    serving = _serving_meta(source, features, result, data_sha)
    atomic_write_text(model_dir / _SERVING_FILE, json.dumps(serving, indent=2, sort_keys=True))
    eval_dir = out_dir / "evaluation"
    report = eval_dir / "evaluation.html"
    render_evaluation_html(result, report, title="Fraud model evaluation")
    unfiltered = result.evaluation_unfiltered
    evaluation = {
        "evaluation": result.evaluation.to_dict(),
        "evaluation_unfiltered": unfiltered.to_dict() if unfiltered is not None else None,
        "capacity_plan": result.capacity_plan.to_dict(),
        "counts": result.counts,
    }
    atomic_write_text(
        eval_dir / "evaluation.json",
        json.dumps(evaluation, indent=2, sort_keys=True, default=str),
    )
    selection_report = None
    if selection is not None:
        atomic_write_text(
            eval_dir / "selection.json",
            json.dumps(selection.to_dict(), indent=2, sort_keys=True, default=str),
        )
        selection_report = eval_dir / "selection.html"
        render_selection_html(selection, selection_report)
    return model_dir, eval_dir, report, selection_report


def _register(
    registry: ModelRegistry,
    model_dir: Path,
    eval_dir: Path,
    result: TrainingResult,
    source: Path,
    data_sha: str,
    features: FeatureFrame,
    actor: str,
) -> ModelVersionInfo:
    """Register the run as a new model version (parameters, metrics, lineage tags)."""
    ev = result.evaluation
    return registry.register(
        MODEL_NAME,
        model_dir,
        params={
            **result.config.to_dict(),
            "label_delay_days": features.label_delay_days,
            "features": ",".join(result.feature_names),
        },
        metrics={
            "roc_auc": ev.roc_auc,
            "average_precision": ev.average_precision,
            "card_precision_at_k": ev.card_precision_at_k,
            "precision_at_k": ev.precision_at_k,
            "brier": ev.brier,
            "ece": ev.ece,
            "alerts_per_day": ev.alerts_per_day,
            "threshold": ev.threshold,
            "recall": ev.recall,
            "precision": ev.precision,
        },
        tags={
            "data_sha256": data_sha,
            "feature_definitions_sha256": features.definitions_hash,
            "code_version": code_version(),
            "library_versions": json.dumps(library_versions(), sort_keys=True),
            "trained_by": actor,
            "bankml.state": "registered",
            "data_path": str(source.resolve()),
        },
        extra_artifacts=eval_dir,
    )


def _ledger_registered(
    ledger: DecisionLedger,
    actor: str,
    version: ModelVersionInfo | None,
    result: TrainingResult,
    data_sha: str,
    definitions_hash: str,
) -> None:
    ledger.append(
        "model.registered",
        actor,
        f"model:{MODEL_NAME}/{version.version if version else 'unregistered'}",
        {
            "data_sha256": data_sha,
            "feature_definitions_sha256": definitions_hash,
            "metrics": {
                "roc_auc": result.evaluation.roc_auc,
                "average_precision": result.evaluation.average_precision,
            },
            "config": result.config.to_dict(),
        },
    )


def train_and_register(
    source: Path,
    mapping: ColumnMapping,
    config: TrainConfig,
    *,
    registry: ModelRegistry | None,
    ledger: DecisionLedger,
    actor: str,
    out_dir: Path,
    label_delay_days: int | None = None,
    progress: Progress | None = None,
    selection: SelectionConfig | None = None,
) -> TrainOutcome:
    """Features -> [select] -> train -> evaluate -> plan capacity -> save -> register -> ledger.

    With ``selection``, the model family, hyperparameters and calibration come from
    :func:`bankml.fraud.selection.select` on folds before the test period (``config``'s own
    model settings are replaced), and the selection table is stored and registered with the
    evaluation as validation evidence.
    """
    step = progress or (lambda _s, _d, _t: None)
    _read_source(source)
    data_sha = _stepped(step, "hashing data", lambda: file_sha256(source))
    delay = label_delay_days if label_delay_days is not None else max(config.delay_days, 1)
    features = _stepped(
        step, "features", lambda: build_fraud_features(source, mapping, label_delay_days=delay)
    )
    chosen: SelectionResult | None = None
    if selection is not None:
        chosen = select(
            features.frame, features.feature_names, config, selection, progress=progress
        )
        config = chosen.apply(config)
    result = _stepped(
        step, "training", lambda: train(features.frame, features.feature_names, config)
    )
    result.warnings.extend(features.warnings)
    model_dir, eval_dir, report, selection_report = _write_run(
        out_dir, source, features, result, data_sha, chosen
    )
    version = None
    if registry is not None:
        version = _stepped(
            step,
            "registering",
            lambda: _register(
                registry, model_dir, eval_dir, result, source, data_sha, features, actor
            ),
        )
    _ledger_registered(ledger, actor, version, result, data_sha, features.definitions_hash)
    return TrainOutcome(
        result,
        model_dir,
        report,
        version,
        data_sha,
        features.definitions_hash,
        list(result.warnings),
        chosen,
        selection_report,
    )


@dataclass(frozen=True)
class ServingModel:
    """A model version ready to score: the model and its serving metadata."""

    name: str
    version: int
    model: FraudModel
    meta: dict[str, Any]

    @property
    def feature_names(self) -> list[str]:
        """The model's feature order."""
        return list(self.meta["feature_names"])

    @property
    def threshold(self) -> float:
        """The operating threshold chosen for the team's capacity."""
        return float(self.meta["threshold"])

    @property
    def mapping(self) -> ColumnMapping:
        """The column mapping the model was trained with."""
        return ColumnMapping(**self.meta["mapping"])

    def decision_for(self, score: float) -> str:
        """``review`` at or above the operating threshold, else ``pass``."""
        return "review" if score >= self.threshold else "pass"

    def evaluate(self, values: np.ndarray) -> dict[str, Any]:
        """Score, decision and exact contributions for one feature row.

        The one code path for live decisions and for replay, so a replay with an unchanged
        model reproduces the logged decision bit for bit.
        """
        score = self.model.score_row(values)
        contrib = self.model.contributions(values.reshape(1, -1))[0]
        return {
            "score": score,
            "decision": self.decision_for(score),
            "contributions": {
                n: float(c) for n, c in zip(self.feature_names, contrib, strict=False)
            },
            "bias": float(contrib[-1]),
            "raw_contributions": contrib,
        }

    def replay(self, features: Mapping[str, float | None]) -> dict[str, Any]:
        """Recompute a logged decision from its logged feature values (``Replayable``)."""
        values = np.array(
            [
                np.nan if features.get(n) is None else float(features[n])  # type: ignore[arg-type]
                for n in self.feature_names
            ],
            dtype=np.float64,
        )
        out = self.evaluate(values)
        out.pop("raw_contributions")
        return out


def load_replayer(model_dir: Path) -> ServingModel:
    """Load a fraud model version for replay (the loader governance calls)."""
    return load_serving(model_dir)


def load_serving(model_dir: Path, name: str = MODEL_NAME, version: int = 0) -> ServingModel:
    """Load a model directory written by ``train_and_register``."""
    try:
        meta = json.loads((model_dir / _SERVING_FILE).read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"{model_dir} is not a bankml fraud model: {exc}") from None
    return ServingModel(name, version, FraudModel.load(model_dir), meta)


def _read_until(source: Path, end: datetime, time_column: str) -> pd.DataFrame:
    _read_source(source)
    if source.suffix.lower() == ".parquet":
        frame = pd.read_parquet(source, filters=[(time_column, "<", pd.Timestamp(end))])
    else:
        frame = pd.read_csv(source)
        frame[time_column] = pd.to_datetime(frame[time_column], utc=True)
        frame = frame[frame[time_column] < end]
    return frame


def triage_day(
    source: Path,
    day: date,
    serving: ServingModel,
    queue: ReviewQueue,
    tokenizer: PIITokenizer,
    *,
    actor: str,
    capacity: int | None = None,
) -> tuple[int, list[Alert], TriageRun, bool]:
    """Score a day's transactions and queue the best-ranked alerts, up to capacity.

    Features use everything in the file up to the end of the day (point-in-time correct per
    transaction). A day already triaged by the same model version is not scored again (no
    new decisions, no new alerts); a new version's re-triage is a new run that supersedes
    the day's previous one. Returns how many transactions were scored, the alerts queued,
    the run, and whether it was a repeat.
    """
    day_text = day.isoformat()
    done = queue.triage_run(day_text, serving.name, serving.version)
    if done is not None:
        return done.scored, [], done, True
    previous = queue.latest_run(day_text)
    mapping = serving.mapping
    start = datetime.combine(day, datetime.min.time(), UTC)
    frame = _read_until(source, start + timedelta(days=1), mapping.timestamp)
    features = build_fraud_features(
        frame, mapping, label_delay_days=int(serving.meta["label_delay_days"])
    )
    day_rows = features.frame[features.frame["timestamp"] >= start]
    if day_rows.empty:
        raise InputError(f"no transactions on {day} in {source}")
    x = day_rows[serving.feature_names].to_numpy(np.float64)
    # Every scored transaction is a decision: each goes through the live path's evaluate()
    # (so replay reproduces it bit for bit) and gets its own ledger entry.
    outs = [serving.evaluate(row) for row in x]
    scores = np.array([o["score"] for o in outs])
    cap = capacity or int(serving.meta["capacity"])
    order = np.argsort(-scores, kind="stable")
    chosen = [int(i) for i in order if scores[i] >= serving.threshold][:cap]
    rank_of = {i: r for r, i in enumerate(chosen, start=1)}
    card_col = "card" if "card" in day_rows.columns else "customer"
    ids = day_rows["transaction_id"].to_numpy()
    customers = day_rows["customer"].to_numpy()
    cards = day_rows[card_col].to_numpy()
    # A transaction an earlier run already put in the queue keeps that alert (and its
    # decision); only the others get a new alert linked to this run's decision.
    queued_before = {a.transaction_id for a in queue.alerts(day)}
    run = TriageRun(
        run_id=str(uuid.uuid4()),
        day=day_text,
        model_name=serving.name,
        model_version=serving.version,
        actor=actor,
        scored=len(day_rows),
        alerts=0,
        supersedes=previous.run_id if previous else None,
        created_at=utc_iso(datetime.now(UTC)),
    )
    alerts: list[dict[str, Any]] = []
    decisions: list[Event] = []
    for i, out in enumerate(outs):
        reasons = [
            r.text for r in top_reasons(x[i], out["raw_contributions"], serving.feature_names)
        ]
        card_token = tokenizer.token(str(cards[i]), "card")
        decision_id = str(uuid.uuid4())
        payload = decision_payload(
            serving,
            x[i],
            out,
            reasons,
            transaction_id=int(ids[i]),
            customer_token=tokenizer.token(str(customers[i]), "customer"),
            card_token=card_token,
        )
        payload["triage"] = {
            "day": day_text,
            "queued": i in rank_of,
            "rank": rank_of.get(i),
            "run": run.run_id,
            "supersedes": run.supersedes,
        }
        if i in rank_of and int(ids[i]) not in queued_before:
            alert_id = str(uuid.uuid4())
            payload["alert_id"] = alert_id
            alerts.append(
                {
                    "alert_id": alert_id,
                    "decision_id": decision_id,
                    "transaction_id": int(ids[i]),
                    "day": day_text,
                    "rank": rank_of[i],
                    "score": float(out["score"]),
                    "threshold": serving.threshold,
                    "model_name": serving.name,
                    "model_version": serving.version,
                    "card_token": card_token,
                    "amount": float(day_rows["amount"].iloc[i]),
                    "reasons": reasons,
                }
            )
        decisions.append(Event("fraud.scored", actor, f"decision:{decision_id}", payload))
    alerts.sort(key=lambda a: int(a["rank"]))
    run = dataclasses.replace(run, alerts=len(alerts))
    added = queue.add_alerts(alerts, actor=actor, decisions=decisions, run=run)
    return len(day_rows), added, run, False


def decision_payload(
    serving: ServingModel,
    values: np.ndarray,
    out: Mapping[str, Any],
    reasons: list[str],
    *,
    transaction_id: Any,
    customer_token: str,
    card_token: str,
) -> dict[str, Any]:
    """What the ledger records for one fraud decision: enough to look it up and replay it.

    Identifiers arrive already tokenized; feature values and contributions are not PII.
    """
    names = serving.feature_names
    return {
        "model": {"name": serving.name, "version": serving.version},
        "transaction_id": transaction_id,
        "customer_token": customer_token,
        "card_token": card_token,
        "features": {
            n: (None if np.isnan(v) else float(v)) for n, v in zip(names, values, strict=True)
        },
        "score": out["score"],
        "threshold": serving.threshold,
        "decision": out["decision"],
        "explanation": {
            "contributions": out["contributions"],
            "bias": out["bias"],
            "reasons": reasons,
        },
    }


def build_scorer(
    serving: ServingModel,
    previous: FraudScorer | None,
    ledger: DecisionLedger,
    tokenizer: PIITokenizer,
    clock: Clock,
    *,
    options: Mapping[str, Any] | None = None,
) -> FraudScorer:
    """A scorer for a newly loaded version; a compatible previous store is kept.

    Compatible = same mapping, label delay and history file: the store then keeps the live
    transactions and labels it has seen since start instead of reloading history. With
    ``options["online_store"] == "redis"`` the store is the shared one at
    ``options["redis_url"]`` (loaded from history by the first replica, joined by the rest).
    """
    keep_store = previous is not None and all(
        previous.serving.meta[k] == serving.meta[k]
        for k in ("mapping", "label_delay_days", "data_path")
    )
    if previous is not None and keep_store:
        store = previous.store
    elif (options or {}).get("online_store") == "redis":
        from bankml.fraud.online_redis import RedisFeatureStore

        store = RedisFeatureStore.attach(
            str((options or {})["redis_url"]),
            Path(serving.meta["data_path"]),
            serving.mapping,
            label_delay_days=int(serving.meta["label_delay_days"]),
        )
    else:
        store = OnlineFeatureStore.from_history(
            Path(serving.meta["data_path"]),
            serving.mapping,
            label_delay_days=int(serving.meta["label_delay_days"]),
        )
    return FraudScorer(serving, store, ledger, tokenizer, clock)


class FraudScorer:
    """Real-time scoring: online features -> score -> decision -> ledger, one transaction."""

    def __init__(
        self,
        serving: ServingModel,
        store: OnlineFeatureStore,
        ledger: DecisionLedger,
        tokenizer: PIITokenizer,
        clock: Clock | None = None,
    ) -> None:
        self._clock = clock or SystemClock()
        self.serving = serving
        self._store = store
        self._ledger = ledger
        self._tokenizer = tokenizer
        # A model trained before a feature was added uses fewer columns than the store
        # computes: pick the model's, by name, so no vector is ever misaligned.
        have = {n: i for i, n in enumerate(store.feature_names)}
        missing = [n for n in serving.feature_names if n not in have]
        if missing:
            raise InputError(f"the online store cannot compute {', '.join(missing)}")
        self._columns = (
            None
            if list(store.feature_names) == serving.feature_names
            else np.array([have[n] for n in serving.feature_names], dtype=np.intp)
        )

    def _refuse_future(self, when: datetime) -> None:
        limit = self._clock.now() + MAX_CLOCK_SKEW
        if when > limit:
            raise InputError(
                f"transaction timestamp {when.isoformat()} is in the future "
                f"(more than {int(MAX_CLOCK_SKEW.total_seconds())} s ahead of this server's clock)"
            )

    @property
    def version(self) -> int:
        """The served version (``ModelServer``)."""
        return self.serving.version

    def _model_row(self, txn: Transaction) -> np.ndarray:
        """The transaction's online features in the model's column order."""
        values = self._store.features(txn)
        return values if self._columns is None else values[self._columns]

    def warm_up(self) -> None:
        """Run the model once on a dummy row so the first real request is not the slow one."""
        self.serving.evaluate(np.zeros(len(self.serving.feature_names), dtype=np.float64))

    @property
    def store(self) -> OnlineFeatureStore:
        """The online feature store (shared with a reloaded model when compatible)."""
        return self._store

    def add_label(self, transaction_id: int, is_fraud: bool) -> None:
        """A label became known now (a disposition): later features see it."""
        self._store.add_label(transaction_id, is_fraud, self._clock.now())

    def decide(self, txn: Transaction) -> dict[str, Any]:
        """Score one transaction without recording it (for benchmarks and dry runs)."""
        values = self._model_row(txn)
        score = self.serving.model.score_row(values)
        return {
            "values": values,
            "score": score,
            "decision": self.serving.decision_for(score),
        }

    def score(self, txn: Transaction, *, actor: str) -> dict[str, Any]:
        """Score, explain, record in the ledger, and add the transaction to history.

        A transaction stamped in the future is refused: stored, it would move the online
        store's clock forward and age every customer's history out of its windows.
        """
        self._refuse_future(txn.timestamp)
        values = self._model_row(txn)
        out = self.serving.evaluate(values)
        names = self.serving.feature_names
        reasons = top_reasons(values, out["raw_contributions"], names)
        decision_id = str(uuid.uuid4())
        payload = decision_payload(
            self.serving,
            values,
            out,
            [r.text for r in reasons],
            transaction_id=txn.transaction_id,
            customer_token=self._tokenizer.token(str(txn.customer), "customer"),
            card_token=self._tokenizer.token(str(txn.card), "card"),
        )
        entry = self._ledger.append_many(
            [Event("fraud.scored", actor, f"decision:{decision_id}", payload)]
        )[0]
        self._store.add(txn)
        return {
            "decision_id": decision_id,
            "score": out["score"],
            "decision": out["decision"],
            "threshold": self.serving.threshold,
            "reasons": [r.text for r in reasons],
            "model": {"name": self.serving.name, "version": self.serving.version},
            "ledger_seq": entry.seq,
        }

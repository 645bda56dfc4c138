"""Evidence for validating a fraud model version, gathered from the registry and recomputed.

A validator must be able to judge a model from evidence alone, and that evidence must not be
the developer's word for it. So ``collect_evidence`` starts from what the registry holds (the
model files, ``serving.json``, the run's metrics, the ``evaluation/evaluation.json``
artefact) and then *recomputes* from the recorded inputs:

* the training data is re-hashed; if the file at the recorded path is gone or its SHA-256
  differs from the one recorded at training time, nothing is recomputed and the sections that
  need the data carry an ``error`` (the gates then fail with that reason, never crash);
* features are rebuilt from the recorded data, mapping and label delay, and the feature
  definitions' hash is checked against the recorded one;
* stability: PSI of every feature and of the score, training period vs test period;
* leakage scan: a single feature whose AUC on the training period exceeds
  ``LEAKAGE_AUC`` (in either direction), or a target-like feature name, is a finding;
* reproducibility: the model is retrained from the recorded frame and config, and its test
  predictions must equal the registered model's ``predict_proba`` on the same rows bit for
  bit (training is deterministic: one thread, fixed seed; see ``bankml.fraud.model``);
* explanation sanity on a sample of test rows: the exact contributions (TreeSHAP, or
  ``coef * z`` for a logistic model) plus the bias equal the raw margin, no NaN, and the most
  important feature is not an identifier;
* model selection: when the version was trained with ``--select``, the selection table
  (candidates on prequential folds, latency, calibration comparison) as it was registered.

The result is a plain JSON-ready dict that ``bankml.governance.gates`` judges and the
documentation pack renders, so both work from the same stored evidence.
"""

from __future__ import annotations

import json
import logging
import math
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from bankml.core.errors import InputError
from bankml.data.features import FeatureDef
from bankml.data.quality import TARGET_NAME_PATTERN
from bankml.fraud.explain import top_reasons
from bankml.fraud.features import FRAUD_FEATURES, build_fraud_features
from bankml.fraud.mapping import ColumnMapping
from bankml.fraud.model import FraudModel
from bankml.fraud.report import describe_model
from bankml.fraud.service import load_serving
from bankml.fraud.training import TrainConfig, file_sha256, split, train
from bankml.governance.gates import psi, psi_band
from bankml.governance.registry import ModelRegistry, sha256_dir

__all__ = [
    "EXPLANATION_SAMPLE_ROWS",
    "LEAKAGE_AUC",
    "collect_evidence",
    "feature_definitions",
    "leakage_scan",
]

log = logging.getLogger(__name__)

LEAKAGE_AUC = 0.95
"""A single feature separating fraud this well on its own is more likely the label leaking in
(a chargeback flag, a post-event field) than a discovery; the finding asks a person to look."""
EXPLANATION_SAMPLE_ROWS = 500
_SAMPLE_SEED = 0
_AUC_SAMPLE_ROWS = 200_000  # cap for the single-feature AUC (sampled with a fixed seed)
_WINDOW_DAYS = {"10m": 1, "1h": 1, "1d": 1, "7d": 7, "30d": 30}

# A declared label-rate feature (terminal_fraud_rate_*) reads labels only once they were known
# (the feature engine's delayed window), and so does the engine's count of a terminal's known
# frauds (terminal_known_frauds_7d: labels known by the scoring time, strictly earlier
# transactions), so their names are vouched for by their definitions, as a schema role
# vouches for a column in the data-quality leakage scan. The single-feature AUC check
# still applies to them.
_VOUCHED_KINDS = frozenset({"label_rate", "known_label_count"})

PURPOSE = (
    "Rank card transactions by their probability of being fraudulent so that the fraud "
    "team reviews the riskiest ones first, within its daily review capacity."
)
INTENDED_USE = (
    "Real-time scoring of card transactions and a daily alert queue capped at the team's "
    "capacity. Every alert is reviewed by a fraud analyst; the model never blocks a card or "
    "declines a customer on its own (human oversight)."
)
LIMITATIONS = [
    "Trained and evaluated on one bank's recent history; fraud patterns change, so "
    "performance must be monitored on delayed labels after go-live.",
    "Labels arrive late (chargebacks, dispositions): the most recent fraud is under-"
    "represented in training, and terminal-risk features use only labels known in time.",
    "The operating threshold is sized for the recorded daily capacity; a different team "
    "size needs a new capacity plan.",
    "Not designed or validated for credit decisions or any decision about a natural "
    "person's access to a service.",
    "No protected attributes are used or configured, so no fairness metrics are computed.",
]


def _clean(value: float) -> float | None:
    """A finite float, or None (canonical JSON has no NaN)."""
    return float(value) if math.isfinite(value) else None


def feature_definitions(names: list[str]) -> list[dict[str, Any]]:
    """The declared definitions of the given fraud features, in model order."""
    declared: list[FeatureDef] = list(FRAUD_FEATURES)
    by_name = {d.name: d for d in declared}
    out = []
    for n in names:
        d = by_name.get(n)
        out.append(
            {
                "name": n,
                "description": d.description if d else "(not a declared fraud feature)",
                "window": d.window if d else None,
                "entity": d.entity if d else None,
                "kind": d.kind if d else None,
            }
        )
    return out


def _model_text(meta: dict[str, Any]) -> str:
    try:
        return describe_model(_config(meta))
    except (InputError, KeyError, TypeError, ValueError):
        return "LightGBM + Platt calibration"


def _config(meta: dict[str, Any]) -> TrainConfig:
    raw = dict(meta["config"])
    raw["train_start"] = date.fromisoformat(str(raw["train_start"]))
    return TrainConfig(**raw)


def _evaluation_artifact(
    registry: ModelRegistry, run_id: str, work_dir: Path, name: str = "evaluation.json"
) -> dict[str, Any]:
    import mlflow.artifacts

    dst = work_dir / "evaluation"
    dst.mkdir(parents=True, exist_ok=True)
    local = mlflow.artifacts.download_artifacts(
        run_id=run_id,
        artifact_path=f"evaluation/{name}",
        dst_path=str(dst),
        tracking_uri=registry.tracking_uri,
    )
    value: dict[str, Any] = json.loads(Path(local).read_text())
    return value


def _selection_artifact(registry: ModelRegistry, run_id: str, work_dir: Path) -> dict[str, Any]:
    """The registered selection table, or a note that the version was not selected."""
    from mlflow.exceptions import MlflowException

    try:
        return _evaluation_artifact(registry, run_id, work_dir, "selection.json")
    except (OSError, ValueError, MlflowException) as exc:
        log.debug("no selection table for run %s: %s", run_id, exc)
    return {"note": "trained with fixed settings (no --select); no selection table"}


def _data_problem(meta: dict[str, Any]) -> str | None:
    """Why the recorded training data cannot be used, or None when it is intact."""
    path = Path(str(meta.get("data_path", "")))
    recorded = str(meta.get("data_sha256", ""))
    if not meta.get("data_path") or not path.is_file():
        return f"the recorded training data {path} no longer exists; cannot recompute"
    actual = file_sha256(path)
    if actual != recorded:
        return (
            f"the recorded training data {path} has changed since training (sha256 "
            f"{actual[:12]}… vs recorded {recorded[:12]}…); cannot recompute from it"
        )
    return None


def _warm_up_note(frame: pd.DataFrame, config: TrainConfig, delay_days: int) -> str:
    """Why windowed features may drift: training started before their windows were full."""
    declared: list[FeatureDef] = list(FRAUD_FEATURES)
    windows = [_WINDOW_DAYS.get(d.window or "", 0) for d in declared]
    # The delayed terminal-risk window reaches back the window plus the label delay.
    longest = max(windows, default=0) + delay_days
    first = frame["timestamp"].min().floor("D")
    warm_from = first + pd.Timedelta(days=longest)
    train_start = pd.Timestamp(config.periods().train_start)
    if train_start >= warm_from:
        return ""
    return (
        f"training starts {(train_start - first).days} days into the data, before the "
        f"{longest}-day feature windows are filled, so windowed features (counts, rates, "
        f"first-seen flags) are smaller in training than later; train from "
        f"{warm_from.date()} on"
    )


def _stability(
    model: FraudModel, train_x: np.ndarray, test_x: np.ndarray, names: list[str], note: str
) -> dict[str, Any]:
    features = {n: psi(train_x[:, i], test_x[:, i]) for i, n in enumerate(names)}
    score = psi(model.predict_proba(train_x)[:, 1], model.predict_proba(test_x)[:, 1])
    return {
        "note": note,
        "reference": "training period",
        "current": "test period",
        "features": features,
        "bands": {n: psi_band(v) for n, v in features.items()},
        "score": score,
        "score_band": psi_band(score),
    }


def leakage_scan(train_part: pd.DataFrame, names: list[str]) -> dict[str, Any]:
    """Findings for features that look like the label: a target-like name, or AUC > 0.95 alone.

    Catches some leakage, cannot prove there is none (a leak spread over several features
    passes). ``train_part`` needs a boolean ``label`` column and the named feature columns.
    """
    kinds = {d.name: d.kind for d in FRAUD_FEATURES}
    findings: list[dict[str, Any]] = []
    part = train_part
    if len(part) > _AUC_SAMPLE_ROWS:
        part = part.sample(_AUC_SAMPLE_ROWS, random_state=_SAMPLE_SEED)
    y = part["label"].to_numpy(dtype=np.int8)
    aucs: dict[str, float | None] = {}
    for n in names:
        match = TARGET_NAME_PATTERN.search(n)
        if match and kinds.get(n) not in _VOUCHED_KINDS:
            findings.append(
                {
                    "feature": n,
                    "check": "target_like_name",
                    "detail": f"feature {n} has a target-like name ({match.group(0)!r})",
                }
            )
        x = part[n].to_numpy(np.float64)
        ok = ~np.isnan(x)
        if y[ok].min(initial=1) == y[ok].max(initial=0) or np.ptp(x[ok]) == 0:
            aucs[n] = 0.5 if ok.any() else None
            continue
        auc = float(roc_auc_score(y[ok], x[ok]))
        strength = max(auc, 1.0 - auc)  # a feature that predicts "legitimate" leaks as well
        aucs[n] = auc
        if strength > LEAKAGE_AUC:
            findings.append(
                {
                    "feature": n,
                    "check": "single_feature_auc",
                    "detail": f"{n} alone separates fraud with AUC {strength:.3f} "
                    f"(> {LEAKAGE_AUC}) on the training period",
                }
            )
    return {
        "auc_threshold": LEAKAGE_AUC,
        "rows": len(part),
        "single_feature_auc": aucs,
        "findings": findings,
    }


def _reproducibility(
    frame: pd.DataFrame,
    names: list[str],
    config: TrainConfig,
    model: FraudModel,
    test: pd.DataFrame,
) -> dict[str, Any]:
    again = train(frame, names, config)
    retrained = again.test_scored
    same_rows = np.array_equal(
        retrained["transaction_id"].to_numpy(), test["transaction_id"].to_numpy()
    )
    registered = model.predict_proba(test[names].to_numpy(np.float64))[:, 1]
    if not same_rows:
        return {
            "identical": False,
            "rows": len(test),
            "differing_rows": len(test),
            "detail": "retraining scored a different set of test rows",
        }
    new = retrained["score"].to_numpy(np.float64)
    differ = int(np.sum(new != registered))
    diff = float(np.max(np.abs(new - registered))) if len(new) else 0.0
    detail = (
        f"retrained from the recorded data and config: {len(new)} test predictions identical "
        "to the registered model's, bit for bit"
        if differ == 0
        else f"retrained model differs from the registered one on {differ} of {len(new)} test "
        f"rows (max |difference| {diff:.3g})"
    )
    return {
        "identical": differ == 0,
        "rows": len(new),
        "differing_rows": differ,
        "max_abs_difference": diff,
        "detail": detail,
    }


def _explanations(
    model: FraudModel, test: pd.DataFrame, names: list[str], threshold: float
) -> dict[str, Any]:
    rng = np.random.default_rng(_SAMPLE_SEED)
    n = min(EXPLANATION_SAMPLE_ROWS, len(test))
    rows = np.sort(rng.choice(len(test), size=n, replace=False))
    x = test[names].to_numpy(np.float64)
    scores = model.predict_proba(x)[:, 1]
    # Three examples a validator can follow: the highest-scored transaction, the one just
    # above the operating threshold, and a typical (median-score) one.
    order = np.argsort(-scores, kind="stable")
    above = [int(i) for i in order if scores[i] >= threshold]
    candidates = [("highest score", int(order[0]))]
    if above:
        candidates.append(("just above threshold", above[-1]))
    candidates.append(("typical", int(order[len(order) // 2])))
    picks: list[tuple[str, int]] = []
    for label, i in candidates:
        if i not in (j for _, j in picks):
            picks.append((label, i))
    examples_idx = [i for _, i in picks]
    sample = np.unique(np.concatenate([rows, examples_idx]))
    contrib = model.contributions(x[sample])
    margin = model.margin(x[sample])
    error = float(np.max(np.abs(contrib.sum(axis=1) - margin)))
    importance = model.feature_importance()
    top = max(importance, key=importance.__getitem__)
    position = {int(r): i for i, r in enumerate(sample)}
    examples = []
    for label, i in picks:
        c = contrib[position[i]]
        ranked = np.argsort(-np.abs(c[:-1]), kind="stable")[:5]
        examples.append(
            {
                "example": label,
                "transaction_id": int(test["transaction_id"].iloc[i]),
                "score": float(scores[i]),
                "decision": "review" if scores[i] >= threshold else "pass",
                "bias": float(c[-1]),
                "contributions": [
                    {
                        "feature": names[j],
                        "value": _clean(float(x[i, j])),
                        "contribution": float(c[j]),
                    }
                    for j in ranked
                ],
                "reasons": [r.text for r in top_reasons(x[i], c, names)],
            }
        )
    return {
        "sample_rows": len(sample),
        "additivity_max_error": error,
        "nan_values": int(np.isnan(contrib).sum()),
        "top_feature": top,
        "global_importance": dict(sorted(importance.items(), key=lambda kv: -kv[1])),
        "importance_type": "share of total gain",
        "examples": examples,
    }


def collect_evidence(
    registry: ModelRegistry, name: str, version: int, *, work_dir: Path
) -> dict[str, Any]:
    """Everything the gates and the documentation need about one fraud model version.

    Reads the registry only (never the developer's local run directory), then recomputes
    stability, leakage, reproducibility and explanation checks from the recorded inputs.
    Sections that cannot be recomputed carry ``error`` instead of raising.
    """
    info = registry.get(name, version)
    model_dir = registry.download(name, version)
    serving = load_serving(model_dir, name, version)
    meta = serving.meta
    evaluation = _evaluation_artifact(registry, info.run_id, work_dir)
    ev = evaluation.get("evaluation", {})
    names = serving.feature_names
    try:
        libraries = json.loads(info.tags.get("library_versions", "{}"))
    except ValueError:
        libraries = {}
    artifact_actual = sha256_dir(model_dir)
    evidence: dict[str, Any] = {
        "model": {
            "name": name,
            "version": version,
            "run_id": info.run_id,
            "kind": f"fraud detection (binary classifier: {_model_text(meta)})",
            "purpose": PURPOSE,
            "intended_use": INTENDED_USE,
            "limitations": LIMITATIONS,
            "protected_attributes": [],
            # EU AI Act Annex III 5(b) lists credit scoring as high-risk but excepts systems
            # used to detect financial fraud.
            "eu_ai_act": "not high-risk: Annex III 5(b) excepts systems used to detect fraud",
        },
        "lineage": {
            "data_path": meta.get("data_path"),
            "data_sha256": meta.get("data_sha256"),
            "feature_definitions_sha256": meta.get("feature_definitions_sha256"),
            "artifact_sha256": info.tags.get("artifact_sha256"),
            "artifact_sha256_now": artifact_actual,
            "artifact_intact": artifact_actual == info.tags.get("artifact_sha256"),
            "code_version": info.tags.get("code_version"),
            "library_versions": libraries,
            "trained_by": info.tags.get("trained_by"),
            "created_at_ms": info.created_at_ms,
            "source": info.source,
            "config": meta.get("config"),
            "counts": evaluation.get("counts", {}),
        },
        "metrics": {
            **{k: _clean(v) for k, v in info.metrics.items()},
            **{k: _clean(v) for k, v in ev.items() if isinstance(v, float)},
            # Sample size of the outcomes analysis: a floor on it refuses thin test periods.
            "test_frauds": ev.get("frauds"),
            "test_transactions": ev.get("transactions"),
        },
        "capacity": {
            "capacity": meta.get("capacity"),
            "threshold": meta.get("threshold"),
            "test_days": ev.get("test_days"),
            "days_over_capacity": ev.get("days_over_capacity"),
            "alerts_per_day": ev.get("alerts_per_day"),
            "max_alerts_per_day": ev.get("max_alerts_per_day"),
        },
        "evaluation": evaluation,
        "serving": {k: v for k, v in meta.items() if k != "capacity_plan"},
        "capacity_plan": meta.get("capacity_plan") or evaluation.get("capacity_plan"),
        "feature_definitions": feature_definitions(names),
        "selection": _selection_artifact(registry, info.run_id, work_dir),
    }
    problem = _data_problem(meta)
    if problem is None:
        problem = _recompute(evidence, serving.model, meta, names)
    if problem is not None:
        log.warning("fraud %s v%s: %s", name, version, problem)
        for section in ("stability", "leakage", "reproducibility", "explanations"):
            evidence[section] = {"error": problem}
    return evidence


def _recompute(
    evidence: dict[str, Any], model: FraudModel, meta: dict[str, Any], names: list[str]
) -> str | None:
    """Fill the recomputed sections; returns a problem instead when the inputs do not fit."""
    try:
        mapping = ColumnMapping(**meta["mapping"])
        config = _config(meta)
        features = build_fraud_features(
            Path(meta["data_path"]),
            mapping,
            label_delay_days=int(meta["label_delay_days"]),
            model_features=names,
        )
    except (InputError, KeyError, TypeError, ValueError) as exc:
        return f"cannot rebuild features from the recorded inputs: {exc}"
    if features.definitions_hash != meta.get("feature_definitions_sha256"):
        return (
            "the feature definitions in this code differ from the ones the model was trained "
            "with (feature_definitions_sha256 changed); cannot recompute"
        )
    missing = [n for n in names if n not in features.frame.columns]
    if missing:
        return f"the rebuilt features lack {', '.join(missing)}"
    train_part, _gap, test = split(features.frame, config)
    train_x = train_part[names].to_numpy(np.float64)
    test_x = test[names].to_numpy(np.float64)
    note = _warm_up_note(features.frame, config, int(meta["label_delay_days"]))
    evidence["stability"] = _stability(model, train_x, test_x, names, note)
    evidence["leakage"] = leakage_scan(train_part, names)
    evidence["reproducibility"] = _reproducibility(features.frame, names, config, model, test)
    evidence["explanations"] = _explanations(model, test, names, float(meta["threshold"]))
    return None

"""Evidence for validating a credit model version, from the registry and recomputed.

Like fraud's, the evidence starts from what the registry holds (model files, ``serving.json``,
the run's metrics, ``evaluation/evaluation.json``) and then recomputes from the recorded data
files (re-hashed first; if one is gone or changed, the recomputed sections carry ``error`` and
their gates fail):

* outcomes on the held-out split: ROC-AUC, Gini, Brier, ECE (``metrics``);
* monotonicity: every constrained feature moved over a grid on sampled rows, PD never goes
  the wrong way (``metrics.monotonicity_violations``, a ceiling of 0 in the policy);
* stability: PSI of every feature and of the PD, training rows vs test rows;
* reproducibility: retrain from the recorded files and config; the PD of every row must be
  identical to the registered model's, bit for bit;
* explanations: TreeSHAP additivity, no NaN, top feature not an identifier, and the
  **explanation validation** CFPB Circular 2022-03 asks for: for declined test applicants,
  moving the top reason's feature to the baseline applicants' typical value must lower the
  PD (raise the approval probability) for most of them
  (``metrics.reason_validation_rate``); identical input gives identical reasons; every
  decline has at least one reason; no reason names a protected attribute or a flagged proxy;
* fairness by protected attribute (fairlearn ``MetricFrame``), and the proxy scan.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bankml.core.errors import InputError
from bankml.credit.config import CreditConfig
from bankml.credit.decision import CreditModelVersion, load_version
from bankml.credit.fairness import fairness_report, proxy_scan
from bankml.credit.training import (
    CreditMapping,
    check_frame,
    file_sha256,
    fit_model,
    monotonicity_check,
    read_applications,
    read_generated,
    split_rows,
)
from bankml.governance.gates import psi, psi_band
from bankml.governance.kinds import EvidenceContext
from bankml.governance.registry import sha256_dir

__all__ = [
    "EXPLANATION_SAMPLE_ROWS",
    "INTENDED_USE",
    "LIMITATIONS",
    "PURPOSE",
    "collect_evidence",
    "explanation_validation",
]

log = logging.getLogger(__name__)

EXPLANATION_SAMPLE_ROWS = 500
PURPOSE = (
    "Estimate each applicant's probability of default within 12 months, turn it into a "
    "score, and decide approve / refer / decline under the bank's cut-offs and hard policy "
    "rules, with the specific principal reasons an adverse-action notice must carry."
)
INTENDED_USE = (
    "Personal-loan applications. Approvals and declines are automated within the cut-offs; "
    "the band in between goes to a credit officer's referral queue (human oversight). Every "
    "decline gets an adverse-action notice with at most four principal reasons."
)
LIMITATIONS = [
    "Trained on past applications with a 12-month outcome: through-the-door applicants "
    "the bank declined have no outcome (reject inference is not done).",
    "Protected attributes are never inputs, but features correlate with age (credit history "
    "length in particular); the proxy scan and the fairness report must be read together.",
    "Reason codes explain the model relative to a just-approved applicant; they are not "
    "causal claims about the applicant.",
    "Recourse is computed under the current model and policy; it is an estimate, not an offer.",
]


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _read_recorded(meta: dict[str, Any]) -> tuple[pd.DataFrame | None, str | None]:
    """The recorded training data, re-hashed; or why it cannot be used."""
    paths = meta.get("data_paths") or {}
    if not paths:
        return None, "no training data recorded with the model"
    for path, digest in paths.items():
        p = Path(path)
        if not p.is_file():
            return None, f"the recorded training data {p} no longer exists; cannot recompute"
        actual = file_sha256(p)
        if actual != digest:
            return None, (
                f"the recorded training data {p} has changed since training (sha256 "
                f"{actual[:12]}… vs recorded {digest[:12]}…); cannot recompute from it"
            )
    files = [Path(p) for p in paths]
    names = {p.name for p in files}
    if names == {"credit_applications.parquet", "credit_protected.parquet"}:
        frame, _ = read_generated(files[0].parent)
    else:
        frame = read_applications(files[0])
    return frame, None


def explanation_validation(
    version: CreditModelVersion, frame: pd.DataFrame, limit: int = EXPLANATION_SAMPLE_ROWS
) -> dict[str, Any]:
    """Validate reasons on declined applicants (see the module docstring); returns the rates."""
    config = version.config
    typical = version.meta["baseline"].get("values", {})
    excluded = set(config.protected) | set(config.proxies)
    rows = frame.head(limit * 4)
    declined = moved = raised = no_reason = protected_named = unstable = 0
    examples: list[dict[str, Any]] = []
    for _, r in rows.iterrows():
        values = version.check_values(
            {n: (None if pd.isna(r[n]) else _py(r[n])) for n in version.feature_names}
        )
        out = version.evaluate(values, min_age_met=None, with_recourse=False)
        if out["decision"] != "decline" or out["rules_failed"]:
            continue
        declined += 1
        again = version.evaluate(values, min_age_met=None, with_recourse=False)
        if again["reasons"] != out["reasons"]:
            unstable += 1
        model_reasons = [x for x in out["reasons"] if x["feature"]]
        if not out["reasons"]:
            no_reason += 1
        if any(x["feature"] in excluded for x in model_reasons):
            protected_named += 1
        if not model_reasons:
            continue
        top = model_reasons[0]["feature"]
        target = typical.get(top)
        if target is None or values.get(top) == target:
            continue
        moved += 1
        changed = {**values, top: target}
        after = version.evaluate(changed, min_age_met=None, with_recourse=False)
        if after["pd"] < out["pd"]:
            raised += 1
        if len(examples) < 3:
            examples.append(
                {
                    "top_reason": model_reasons[0]["code"],
                    "feature": top,
                    "from": values.get(top),
                    "to": target,
                    "pd_before": out["pd"],
                    "pd_after": after["pd"],
                }
            )
        if declined >= limit:
            break
    rate = raised / moved if moved else None
    return {
        "declined": declined,
        "moved": moved,
        "approval_probability_raised": raised,
        "rate": rate,
        "declines_without_reason": no_reason,
        "reasons_naming_protected_or_proxy": protected_named,
        "unstable_reasons": unstable,
        "examples": examples,
        "method": (
            "for each declined applicant (model decline, no hard rule), set the top reason's "
            "feature to the baseline applicants' typical value and check the PD falls"
        ),
    }


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _stability(
    version: CreditModelVersion, x: np.ndarray, train_idx: np.ndarray, test_idx: np.ndarray
) -> dict[str, Any]:
    names = version.feature_names
    features = {n: psi(x[train_idx, j], x[test_idx, j]) for j, n in enumerate(names)}
    score = psi(version.model.predict_pd(x[train_idx]), version.model.predict_pd(x[test_idx]))
    return {
        "reference": "training rows",
        "current": "test rows",
        "features": features,
        "bands": {n: psi_band(v) for n, v in features.items()},
        "score": score,
        "score_band": psi_band(score),
        "note": "",
    }


def _recompute(evidence: dict[str, Any], version: CreditModelVersion, frame: pd.DataFrame) -> None:
    meta = version.meta
    mapping = CreditMapping.from_dict(meta["mapping"])
    config: CreditConfig = version.config
    y = check_frame(frame, mapping, "the recorded data")
    frame = frame.reset_index(drop=True)
    train_idx, test_idx = split_rows(frame, y, mapping, config)
    again, x = fit_model(frame, y, train_idx, config)
    registered = version.model.predict_pd(x)
    retrained = again.predict_pd(x)
    differ = int(np.sum(registered != retrained))
    evidence["reproducibility"] = {
        "identical": differ == 0,
        "rows": len(x),
        "differing_rows": differ,
        "max_abs_difference": float(np.max(np.abs(registered - retrained))),
        "detail": (
            f"retrained from the recorded data and config: {len(x)} PDs identical to the "
            "registered model's, bit for bit"
            if differ == 0
            else f"retrained model differs on {differ} of {len(x)} rows"
        ),
    }
    evidence["stability"] = _stability(version, x, train_idx, test_idx)
    x_test, y_test = x[test_idx], y[test_idx]
    ok, pd_test = version.approves(x_test)
    evidence["fairness"] = fairness_report(
        frame.iloc[test_idx][list(mapping.protected)].reset_index(drop=True),
        y_test,
        pd_test,
        ok,
    )
    evidence["proxy_scan"] = proxy_scan(
        frame.iloc[train_idx][config.features].reset_index(drop=True),
        config.categorical,
        frame.iloc[train_idx][list(mapping.protected)].reset_index(drop=True),
        config.proxy_auc_threshold,
        config.proxies,
    )
    mono = monotonicity_check(version.model, x_test, config.features, config.monotone)
    evidence["monotonicity"] = mono
    evidence["metrics"]["monotonicity_violations"] = mono["total_violations"]

    rng = np.random.default_rng(0)
    sample = np.sort(
        rng.choice(len(x_test), size=min(EXPLANATION_SAMPLE_ROWS, len(x_test)), replace=False)
    )
    contrib = version.model.contributions(x_test[sample])
    margin = version.model.margin(x_test[sample])
    importance = version.model.feature_importance()
    validation = explanation_validation(version, frame.iloc[test_idx])
    evidence["explanations"] = {
        "sample_rows": int(sample.size),
        "additivity_max_error": float(np.max(np.abs(contrib.sum(axis=1) - margin))),
        "nan_values": int(np.isnan(contrib).sum()),
        "top_feature": max(importance, key=importance.__getitem__),
        "global_importance": dict(sorted(importance.items(), key=lambda kv: -kv[1])),
        "baseline": meta["baseline"]["description"],
        "uncovered_features": version.catalogue.uncovered(config.features),
        "reason_validation": validation,
    }
    evidence["metrics"]["reason_validation_rate"] = validation["rate"]
    evidence["metrics"]["declines_without_reason"] = validation["declines_without_reason"]
    evidence["metrics"]["reasons_naming_protected"] = validation[
        "reasons_naming_protected_or_proxy"
    ]


def collect_evidence(ctx: EvidenceContext) -> dict[str, Any]:
    """Everything the gates and the documentation need about one credit model version."""
    registry, name, version_no = ctx.registry, ctx.name, ctx.version
    info = registry.get(name, version_no)
    model_dir = registry.download(name, version_no)
    version = load_version(model_dir, name, version_no)
    meta = dict(version.meta)
    evaluation = _evaluation_artifact(registry, info.run_id, ctx.work_dir)
    test = evaluation.get("test", {})
    try:
        libraries = json.loads(info.tags.get("library_versions", "{}"))
    except ValueError:
        libraries = {}
    artifact_now = sha256_dir(model_dir)
    config = version.config
    evidence: dict[str, Any] = {
        "model": {
            "name": name,
            "version": version_no,
            "run_id": info.run_id,
            "kind": "credit PD (LightGBM with monotone constraints + "
            f"{config.calibration} calibration)",
            "purpose": PURPOSE,
            "intended_use": INTENDED_USE,
            "limitations": LIMITATIONS,
            "protected_attributes": list(config.protected),
            "eu_ai_act": "high-risk: Annex III 5(b) (creditworthiness of natural persons)",
        },
        "lineage": {
            "data_paths": meta.get("data_paths"),
            "artifact_sha256": info.tags.get("artifact_sha256"),
            "artifact_sha256_now": artifact_now,
            "artifact_intact": artifact_now == info.tags.get("artifact_sha256"),
            "code_version": info.tags.get("code_version"),
            "library_versions": libraries,
            "trained_by": info.tags.get("trained_by"),
            "created_at_ms": info.created_at_ms,
            "config": config.to_dict(),
            "catalogue_sha256": version.catalogue.sha256,
            "counts": evaluation.get("counts", {}),
        },
        "metrics": {k: _clean(v) for k, v in test.items() if isinstance(v, int | float)},
        "evaluation": evaluation,
        "cv": evaluation.get("cv"),
        "serving": {
            "cutoffs": {
                "approve_max_pd": config.approve_max_pd,
                "decline_min_pd": config.decline_min_pd,
            },
            "score_scale": config.to_dict()["scale"],
            "rules": config.to_dict()["rules"],
            "features": config.features,
            "monotone": dict(config.monotone),
        },
        "feature_definitions": [
            {
                "name": n,
                "description": (
                    f"{'numeric' if n in config.numeric else 'categorical'} application field"
                    + (
                        f"; monotone {'+' if config.monotone[n] > 0 else '-'}"
                        if n in config.monotone
                        else ""
                    )
                ),
                "window": None,
                "entity": "application",
                "kind": "application",
            }
            for n in config.features
        ],
        "catalogue": version.catalogue.to_dict(),
    }
    frame, problem = _read_recorded(meta)
    if frame is not None:
        try:
            _recompute(evidence, version, frame)
        except (InputError, ValueError, KeyError) as exc:
            problem = f"cannot recompute from the recorded inputs: {exc}"
    if problem is not None:
        log.warning("credit %s v%s: %s", name, version_no, problem)
        for section in ("stability", "reproducibility", "explanations", "fairness"):
            evidence[section] = {"error": problem}
    return evidence


def _evaluation_artifact(registry: Any, run_id: str, work_dir: Path) -> dict[str, Any]:
    import mlflow.artifacts

    dst = work_dir / "evaluation"
    dst.mkdir(parents=True, exist_ok=True)
    local = mlflow.artifacts.download_artifacts(
        run_id=run_id,
        artifact_path="evaluation/evaluation.json",
        dst_path=str(dst),
        tracking_uri=registry.tracking_uri,
    )
    value: dict[str, Any] = json.loads(Path(local).read_text())
    return value

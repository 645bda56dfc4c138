"""Every service call the web console makes, in one small module.

The pages call the same service methods as the CLI and the API (no rule lives here or in the
pages): when those are consolidated into one service method per action, only this module is
re-pointed. Two slices are not on this branch yet and are reached through thin adapters that
return ``None`` when the service is absent, so their pages show an empty state:

- credit: ``services.credit.decision(decision_id, user)`` -> an object with ``to_dict()``
  (decision, reasons, recourse, notice, model ...);
- monitoring: ``services.monitoring.latest(model_name)`` -> an object with ``to_dict()``
  (sections of figures, e.g. drift per feature, data quality, service metrics, alerts).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bankml.core.errors import InputError, NotFoundError
from bankml.core.identity import User

if TYPE_CHECKING:
    from bankml.app import Services
    from bankml.fraud.queue import Alert, Disposition
    from bankml.governance.approvals import Transition
    from bankml.governance.decisions import DecisionRecord, ReplayResult
    from bankml.governance.ledger import VerifyReport
    from bankml.policy.review import ReviewItem
    from bankml.policy.service import PolicyAnswer, SearchResult

__all__ = [
    "HealthView",
    "LedgerCheck",
    "alert_label",
    "approve_model",
    "ask_policy",
    "credit_decision",
    "find_decisions",
    "fraud_alert",
    "fraud_alerts",
    "model_detail",
    "model_docs",
    "model_health",
    "model_names",
    "model_versions",
    "monitoring_report",
    "overview_counts",
    "policy_feedback",
    "policy_passage",
    "promote_model",
    "record_disposition",
    "reject_model",
    "replay_decision",
    "review_action",
    "review_item",
    "review_items",
    "rollback_model",
    "submit_model",
    "validate_model",
    "verify_ledger",
]

log = logging.getLogger(__name__)

_LINEAGE_TAGS = (
    "data_sha256",
    "feature_definitions_sha256",
    "code_version",
    "artifact_sha256",
    "trained_by",
)
HEALTH_SAMPLE = 5000  # the latest decisions the health page summarises


# -- fraud --------------------------------------------------------------------------------------
def fraud_alerts(s: Services, day: date | None, status: str | None) -> list[Alert]:
    """The ranked review queue, as ``GET /v1/fraud/queue``."""
    return s.fraud.queue(day, status)


def fraud_alert(s: Services, alert_id: str) -> Alert:
    """One alert."""
    return s.fraud_queue.get(alert_id)


def alert_label(s: Services, transaction_id: int) -> dict[str, Any] | None:
    """The label a disposition produced for a transaction (None before one exists)."""
    for label in s.fraud_queue.labels():
        if int(label["transaction_id"]) == transaction_id:
            return label
    return None


def record_disposition(
    s: Services, user: User, alert_id: str, outcome: str, note: str
) -> Disposition:
    """An analyst's outcome, as ``POST /v1/fraud/alerts/{id}/disposition`` (label included)."""
    return s.fraud.disposition(user, alert_id, outcome, note)


# -- models -------------------------------------------------------------------------------------
def model_names(s: Services) -> list[str]:
    """Names of the registered model kinds that have versions (none before any training)."""
    if not s.registry.has_local_store():
        return []
    return [name for name in s.kinds.names() if s.governance.versions(name)]


def model_versions(s: Services, name: str) -> list[dict[str, Any]]:
    """Every version with state and metrics, as ``GET /v1/models/{name}/versions``."""
    if not s.registry.has_local_store():
        return []
    records = s.governance.versions(name)
    if not records:
        return []
    champion = s.governance.champion(name)
    metrics = {i.version: i.metrics for i in s.registry.versions(name)}
    return [
        {
            **r.to_dict(),
            "state": r.state.value,
            "champion": r.version == champion,
            "metrics": metrics.get(r.version, {}),
        }
        for r in records
    ]


def model_detail(s: Services, name: str, version: int) -> dict[str, Any]:
    """Lineage, state, every validation run with its gates, lifecycle and champion history."""
    record = s.governance.record(name, version)
    info = s.registry.get(name, version)
    try:
        libraries = json.loads(info.tags.get("library_versions", "{}"))
    except ValueError:
        libraries = {}
    return {
        **record.to_dict(),
        "state": record.state.value,
        "champion": s.governance.champion(name) == version,
        "metrics": info.metrics,
        "run_id": info.run_id,
        "lineage": {**{k: info.tags.get(k) for k in _LINEAGE_TAGS}, "library_versions": libraries},
        "params": info.params,
        "validations": [
            {
                **{k: v for k, v in run.to_dict().items() if k != "evidence"},
                "evidence_sections": sorted(run.evidence),
            }
            for run in s.validations.all(name, version)
        ],
        "transitions": [t.to_dict() for t in s.governance.transitions(name, version)],
        "champion_history": [c.to_dict() for c in s.governance.champion_history(name)],
    }


def submit_model(s: Services, user: User, name: str, version: int) -> Transition:
    """Submit for validation (as ``bankml model submit``)."""
    return s.governance.submit(name, version, user)


def validate_model(s: Services, user: User, name: str, version: int) -> Transition:
    """Run the official gate policy (validators), as ``bankml model validate``."""
    _report, transition = s.lifecycle.validate(name, version, user)
    return transition


def approve_model(s: Services, user: User, name: str, version: int, why: str) -> Transition:
    """Approve (a validator who neither trained nor submitted it)."""
    return s.lifecycle.approve(name, version, user, why)


def reject_model(s: Services, user: User, name: str, version: int, why: str) -> Transition:
    """Reject with a rationale."""
    return s.governance.reject(name, version, user, why)


def promote_model(s: Services, user: User, name: str, version: int, why: str) -> Transition:
    """Make an approved version champion."""
    return s.governance.promote(name, version, user, why)


def rollback_model(s: Services, user: User, name: str, why: str) -> Transition:
    """Return to the previous champion."""
    return s.governance.rollback(name, user, why)


def model_docs(s: Services, name: str, version: int) -> Path:
    """The documentation pack's HTML, rendered from stored evidence into ``home/docs``."""
    out = s.settings.home / "docs" / f"{name}-v{version}"
    html, _md = s.lifecycle.render_docs(name, version, out)
    return html


# -- model health -------------------------------------------------------------------------------
@dataclass
class HealthView:
    """What the model-health page shows for one model."""

    name: str
    champion: int | None
    decisions: int = 0
    review_rate: float | None = None
    per_hour: list[tuple[str, int, int]] = field(default_factory=list)  # hour, all, review
    scores: list[float] = field(default_factory=list)
    by_version: dict[str, int] = field(default_factory=dict)
    drivers: list[tuple[str, float]] = field(default_factory=list)  # feature, mean |contrib|
    latest_gates: list[dict[str, Any]] = field(default_factory=list)
    monitoring: dict[str, Any] | None = None


def monitoring_report(s: Services, name: str) -> dict[str, Any] | None:
    """The monitoring slice's figures for a model: its newest day, recent days, alerts.

    None until `bankml monitor run` has stored a day for it.
    """
    days = s.monitoring.days(name)
    if not days:
        return None
    newest = days[-1]
    recent = [
        {
            "day": d.day,
            "version": d.version,
            "rows": d.rows,
            **{k: _fmt_metric(d.metrics.get(k)) for k in _HEALTH_METRICS},
        }
        for d in days[-14:]
    ]
    alerts = [
        {
            "day": a.get("day"),
            "rule": a.get("rule"),
            "metric": a.get("metric"),
            "value": _fmt_metric(a.get("value")),
            "threshold": a.get("threshold"),
            "severity": a.get("severity"),
        }
        for a in s.monitoring.alerts(name)[-20:]
    ]
    report: dict[str, Any] = {
        f"Newest day ({newest.day}, v{newest.version}, {newest.rows:,} decisions)": {
            k: _fmt_metric(v) for k, v in sorted(newest.metrics.items())
        },
        "Recent days": recent,
    }
    report["Alerts"] = alerts or "No alert raised."
    return report


# The day-table columns an operator reads first (all metrics are in the newest-day table).
_HEALTH_METRICS = (
    "drift.share_drifted",
    "drift.score_psi",
    "quality.max_missing_jump",
    "quality.volume_z_abs",
    "estimated.average_precision",
)


def _fmt_metric(value: Any) -> Any:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "–" if value is None else value


def model_health(s: Services) -> list[HealthView]:
    """Live serving figures per model from its decisions in the ledger, plus monitoring."""
    views = []
    for name in model_names(s):
        view = HealthView(name=name, champion=s.governance.champion(name))
        entries = []
        for event in s.kinds.get(name).decision_events:
            entries += s.ledger.entries(kind=event, limit=HEALTH_SAMPLE, newest_first=True)
        entries = sorted(entries, key=lambda e: -e.seq)[:HEALTH_SAMPLE]
        hours: dict[str, list[int]] = {}
        versions: Counter[str] = Counter()
        weights: dict[str, float] = {}
        review = 0
        for e in reversed(entries):
            p = e.payload
            flagged = p.get("decision") in ("review", "decline", "refer")
            review += flagged
            bucket = hours.setdefault(e.ts[:13] + ":00", [0, 0])
            bucket[0] += 1
            bucket[1] += flagged
            if isinstance(p.get("score"), int | float):
                view.scores.append(float(p["score"]))
            versions[f"v{p.get('model', {}).get('version', '?')}"] += 1
            contributions = p.get("explanation", {}).get("contributions", {})
            for feature, value in contributions.items():
                if isinstance(value, int | float):
                    weights[feature] = weights.get(feature, 0.0) + abs(float(value))
        view.decisions = len(entries)
        view.review_rate = review / len(entries) if entries else None
        view.per_hour = [(h, c[0], c[1]) for h, c in sorted(hours.items())]
        view.by_version = dict(sorted(versions.items()))
        top = sorted(weights.items(), key=lambda fw: -fw[1])[:10]
        view.drivers = [(f, w / len(entries)) for f, w in top]
        if view.champion is not None:
            latest = s.validations.latest(name, view.champion)
            view.latest_gates = [g.to_dict() for g in latest.results] if latest else []
        view.monitoring = monitoring_report(s, name)
        views.append(view)
    return views


# -- credit -------------------------------------------------------------------------------------
def credit_decision(s: Services, user: User, decision_id: str) -> dict[str, Any] | None:
    """A credit decision with its reasons, recourse and (for a decline) the notice text.

    Readers are credit officers, admins and auditors, as through the API.
    """
    from bankml.credit.service import READER_ROLES

    user.require(*READER_ROLES)
    try:
        entry = s.credit.decision(decision_id.strip())
    except NotFoundError:
        return None  # the page says "no credit decision <id>"
    p = entry.payload
    out: dict[str, Any] = {
        "decision_id": decision_id.strip(),
        "decision": p.get("decision"),
        "pd": p.get("pd"),
        "score": p.get("score"),
        "model": f"{p['model']['name']} v{p['model']['version']}",
        "decided_at": entry.ts,
        "reasons": [
            f"{r.get('code')}: {r.get('text')}" for r in p.get("explanation", {}).get("reasons", [])
        ],
        "recourse": _recourse_lines(p.get("recourse")),
    }
    if p.get("decision") == "decline":
        out["notice"] = s.credit.notice(decision_id.strip(), user).text
    return out


def _recourse_lines(recourse: Any) -> list[str]:
    if not isinstance(recourse, dict):
        return []
    if recourse.get("status") != "found":
        return [str(recourse.get("note") or recourse.get("status") or "")]
    return [
        f"{c.get('feature')}: {c.get('from')} → {c.get('to')}" for c in recourse.get("changes", [])
    ]


# -- policy assistant ---------------------------------------------------------------------------
def ask_policy(s: Services, user: User, question: str) -> PolicyAnswer:
    """Ask, as ``POST /v1/policy/ask``."""
    return s.policy.ask(user, question)


def policy_passage(s: Services, user: User, chunk_id: str) -> SearchResult:
    """A cited passage the user may read."""
    return s.policy.passage(user, chunk_id)


def policy_feedback(s: Services, user: User, answer_id: str, note: str) -> int:
    """Send one of the user's answers to review."""
    return s.policy.feedback(user, answer_id, note)


def review_items(s: Services, user: User, status: str) -> list[ReviewItem]:
    """The review queue a reviewer may see."""
    return s.policy.review.list(user, None if status == "all" else status)


def review_item(s: Services, user: User, item_id: int) -> ReviewItem:
    """One review item (an invisible one reads like a missing one)."""
    return s.policy.review.get(item_id, user)


def review_action(
    s: Services,
    user: User,
    item_id: int,
    action: str,
    note: str,
    answer: str = "",
) -> ReviewItem:
    """Approve, correct or reject a review item."""
    review = s.policy.review
    if action == "approve":
        return review.approve(item_id, user, note)
    if action == "reject":
        return review.reject(item_id, user, note)
    if action == "correct":
        return review.correct(item_id, user, answer, None, note)
    raise InputError(f"unknown review action {action!r}; choose approve, correct or reject")


# -- audit ----------------------------------------------------------------------------------
def find_decisions(
    s: Services,
    *,
    at: str | None,
    window: str,
    customer: str | None,
    decision_id: str | None,
    model: str | None,
) -> list[DecisionRecord]:
    """Decisions by minute, customer or id, as ``GET /v1/audit/decisions``; then by model."""
    if not (at or customer or decision_id):
        raise InputError("give a time, a customer id or a decision id to search")
    found = s.decisions.find(
        at=at or None,
        window=window or "5m",
        decision_id=decision_id.strip() if decision_id else None,
        customer=customer.strip() if customer else None,
        model=model.strip() if model else None,
    )
    return found


def replay_decision(s: Services, decision_id: str) -> ReplayResult:
    """Recompute a decision with exactly its model version."""
    return s.decisions.replay(decision_id.strip())


@dataclass(frozen=True)
class LedgerCheck:
    """What ``GET /v1/audit/verify`` reports."""

    chain: VerifyReport
    governance_problems: list[str]
    unknown_models: list[tuple[str, int, int]]

    @property
    def ok(self) -> bool:
        """The chain holds and the governance tables agree with it."""
        return self.chain.ok and not self.governance_problems


def verify_ledger(s: Services) -> LedgerCheck:
    """Walk the chain, cross-check the governance tables, list unknown model versions."""
    return LedgerCheck(
        s.ledger.verify(),
        [str(p) for p in s.proof.cross_check()],
        s.decisions.unknown_model_versions(),
    )


# -- overview -----------------------------------------------------------------------------------
def overview_counts(s: Services, user: User) -> dict[str, Any]:
    """Headline figures for the overview page (only areas the user's role may see)."""
    from bankml.core.identity import Role

    out: dict[str, Any] = {}
    role = user.role
    if role in (Role.FRAUD_ANALYST, Role.ADMIN, Role.AUDITOR):
        open_alerts = s.fraud_queue.alerts(None, status="open")
        out["open_alerts"] = len(open_alerts)
        out["latest_alert_day"] = max((a.day for a in open_alerts), default=None)
    if role in (Role.MODEL_DEVELOPER, Role.VALIDATOR, Role.ADMIN, Role.AUDITOR):
        models = []
        for name in model_names(s):
            versions = model_versions(s, name)
            waiting = sum(v["state"] in ("submitted", "validated") for v in versions)
            models.append(
                {"name": name, "champion": s.governance.champion(name), "waiting": waiting}
            )
        out["models"] = models
    if role is Role.COMPLIANCE_REVIEWER:
        out["open_reviews"] = len(s.policy.review.list(user, "open"))
    if role in (Role.AUDITOR, Role.ADMIN):
        out["ledger_entries"] = s.ledger.count()
        since = s.clock.now() - timedelta(days=1)
        out["decisions_24h"] = sum(
            len(s.ledger.entries(kind=k, since=since)) for k in s.kinds.decision_events()
        )
    return out

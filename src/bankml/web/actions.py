"""Every service call the web console makes, in one small module.

The pages call the same service methods as the CLI and the API (no rule lives here or in the
pages): when those are consolidated into one service method per action, only this module is
re-pointed. Credit lookups read ``services.credit`` (decisions from the ledger, the notice
the API serves); model health reads the ledger's decisions and what ``bankml monitor run``
stored (``services.monitoring``: days and alerts).
"""

from __future__ import annotations

import json
import logging
import math
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
    from bankml.monitoring.service import StoredDay
    from bankml.policy.review import ReviewItem
    from bankml.policy.service import PolicyAnswer, SearchResult

__all__ = [
    "HealthView",
    "LedgerCheck",
    "MonitoringView",
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
    "monitoring_view",
    "overview_counts",
    "policy_feedback",
    "policy_passage",
    "promote_model",
    "recent_credit_decisions",
    "record_disposition",
    "reject_model",
    "replay_decision",
    "review_action",
    "review_item",
    "review_items",
    "rollback_model",
    "service_latency",
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
    monitoring: MonitoringView | None = None


@dataclass
class MonitoringView:
    """The monitoring slice's stored days and raised alerts for one model (all versions)."""

    monitored: bool  # the kind has a monitoring spec
    days: list[StoredDay] = field(default_factory=list)  # oldest first, newest MONITORING_DAYS
    alerts: list[dict[str, Any]] = field(default_factory=list)  # newest first
    total_alerts: int = 0

    @property
    def newest(self) -> StoredDay | None:
        """The newest stored day (None before `bankml monitor run`)."""
        return self.days[-1] if self.days else None

    def newest_metrics(self) -> list[tuple[str, str]]:
        """The newest day's flat metrics as (name, value) rows, in the service's order."""
        from bankml.monitoring.service import DAY_METRICS

        if self.newest is None:
            return []
        m = self.newest.metrics
        return [(k, _fmt_metric(m.get(k))) for k in DAY_METRICS if k in m]


MONITORING_DAYS = 28  # the days the health page charts
MONITORING_ALERTS = 10  # the newest alerts it lists (all are in the ledger and the report)


def monitoring_view(s: Services, name: str) -> MonitoringView:
    """What `bankml monitor run` stored for a model: its recent days and newest alerts.

    The champion's version is charted (the newest version that has days, when none is
    champion); every version's alerts are listed, newest first.
    """
    if s.kinds.get(name).monitor is None:
        return MonitoringView(monitored=False)
    days = s.monitoring.days(name)
    champion = s.governance.champion(name)
    shown = champion if any(d.version == champion for d in days) else None
    if shown is None and days:
        shown = max(d.version for d in days)
    mine = [d for d in days if d.version == shown]
    alerts = s.monitoring.alerts(name)
    newest = sorted(alerts, key=lambda a: (a["day"], a["id"]), reverse=True)
    return MonitoringView(
        monitored=True,
        days=mine[-MONITORING_DAYS:],
        alerts=[
            {
                **a,
                "value": _fmt_metric(a.get("value")),
                "threshold": _fmt_metric(a.get("threshold")),
            }
            for a in newest[:MONITORING_ALERTS]
        ],
        total_alerts=len(alerts),
    )


def _fmt_metric(value: Any) -> str:
    if isinstance(value, float):
        return "–" if math.isnan(value) else f"{value:.4g}"
    return "–" if value is None else str(value)


def service_latency(exposition: bytes) -> dict[str, dict[str, float]]:
    """p50/p90/p99 (ms) per API endpoint (``/v1/...``) from the service's own Prometheus
    exposition: what the callers of the models wait for (the console's pages are left out)."""
    from bankml.monitoring.report import latency_from_prometheus

    latency = latency_from_prometheus(exposition.decode("utf-8"))
    return {k: v for k, v in latency.items() if k.partition(" ")[2].startswith("/v1/")}


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
        view.monitoring = monitoring_view(s, name)
        views.append(view)
    return views


# -- credit -------------------------------------------------------------------------------------
def credit_decision(s: Services, user: User, decision_id: str) -> dict[str, Any] | None:
    """A credit decision with its reasons, contributions, recourse and (for a decline) notice.

    Readers are credit officers, admins and auditors, as through the API. None when no credit
    decision has that id.
    """
    from bankml.credit.service import READER_ROLES

    user.require(*READER_ROLES)
    wanted = decision_id.strip()
    try:
        entry = s.credit.decision(wanted)
    except NotFoundError:
        return None  # the page says "no credit decision <id>"
    p = entry.payload
    explanation = p.get("explanation", {})
    features = p.get("features", {})
    contributions = [
        {"feature": f, "value": features.get(f), "contribution": float(c)}
        for f, c in explanation.get("contributions", {}).items()
        if isinstance(c, int | float)
    ]
    contributions.sort(key=lambda row: -abs(row["contribution"]))
    raw_recourse = p.get("recourse")
    recourse: dict[str, Any] = raw_recourse if isinstance(raw_recourse, dict) else {}
    out: dict[str, Any] = {
        "decision_id": wanted,
        "application_id": p.get("application_id"),
        "decision": p.get("decision"),
        "pd": p.get("pd"),
        "score": p.get("score"),
        "cutoffs": p.get("cutoffs", {}),
        "model": f"{p['model']['name']} v{p['model']['version']}",
        "decided_at": entry.ts,
        "decided_by": entry.actor,
        "rules_failed": p.get("rules_failed") or [],
        "reasons": explanation.get("reasons", []),
        "contributions": contributions,
        "bias": explanation.get("bias"),
        "baseline": explanation.get("baseline"),
        "recourse": _recourse_lines(recourse),
        "recourse_pd_after": recourse.get("pd_after"),
        "notice": None,
    }
    if p.get("decision") == "decline":
        out["notice"] = s.credit.notice(wanted, user).text
    return out


def recent_credit_decisions(s: Services, user: User, limit: int = 10) -> list[dict[str, Any]]:
    """The newest credit decisions in the ledger (id, time, outcome, PD, model)."""
    from bankml.credit.service import DECISION_EVENT, READER_ROLES

    user.require(*READER_ROLES)
    return [
        {
            "decision_id": e.subject.removeprefix("decision:"),
            "decided_at": e.ts,
            "decision": e.payload.get("decision"),
            "pd": e.payload.get("pd"),
            "model": f"{e.payload['model']['name']} v{e.payload['model']['version']}",
        }
        for e in s.ledger.entries(kind=DECISION_EVENT, newest_first=True, limit=limit)
    ]


def _recourse_lines(recourse: Any) -> list[str]:
    """The smallest approving change as lines ("feature: from → to"), or why there is none."""
    if not isinstance(recourse, dict) or not recourse:
        return []
    if recourse.get("status") != "found":
        return [str(recourse.get("note") or recourse.get("status"))]
    return [
        f"{c.get('feature')}: {_fmt_metric(c.get('from'))} → {_fmt_metric(c.get('to'))}"
        for c in recourse.get("changes", [])
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
    limit: int = 50,
    offset: int = 0,
) -> list[DecisionRecord]:
    """Decisions by minute, customer or id, as ``GET /v1/audit/decisions``; then by model.

    One page of ``limit`` rows from ``offset``, newest first.
    """
    if not (at or customer or decision_id):
        raise InputError("give a time, a customer id or a decision id to search")
    found = s.decisions.find(
        at=at or None,
        window=window or "5m",
        decision_id=decision_id.strip() if decision_id else None,
        customer=customer.strip() if customer else None,
        model=model.strip() if model else None,
        limit=limit,
        offset=offset,
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
        now = s.clock.now()
        out["decisions_24h"] = sum(
            len(s.ledger.entries(kind=k, since=now - timedelta(days=1), until=now))
            for k in s.kinds.decision_events()
        )
    return out

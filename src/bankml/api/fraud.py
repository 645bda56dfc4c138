"""Fraud endpoints: real-time scoring, the review queue, analysts' dispositions."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import AwareDatetime, BaseModel, Field

from bankml.api.auth import require_roles, services
from bankml.app import Services
from bankml.core.identity import Role, User

__all__ = ["router"]

router = APIRouter(prefix="/v1/fraud", tags=["fraud"])


class TransactionIn(BaseModel):
    """One card transaction to score. Identifiers are the bank's internal ids, never a PAN."""

    transaction_id: int
    timestamp: AwareDatetime = Field(description="When it happened, with a timezone.")
    customer_id: int
    terminal_id: int
    card_id: int | None = None
    amount: float = Field(gt=0)
    country: str | None = Field(default=None, min_length=2, max_length=3)


class ScoreOut(BaseModel):
    """The decision for one transaction."""

    decision_id: str
    score: float
    decision: Literal["review", "pass"]
    threshold: float
    reasons: list[str]
    model: dict[str, Any]
    ledger_seq: int


class DispositionIn(BaseModel):
    """An analyst's outcome for an alert."""

    outcome: Literal["fraud", "legitimate", "needs_info"]
    note: str = Field(default="", max_length=2000)


class AlertOut(BaseModel):
    """One alert in the review queue (no PAN, only a card token)."""

    alert_id: str
    transaction_id: int
    day: str
    rank: int
    score: float
    threshold: float
    model_name: str
    model_version: int
    card_token: str | None
    amount: float
    reasons: list[str]
    status: str
    created_at: str


@router.post("/score", response_model=ScoreOut)
async def score(
    txn: TransactionIn,
    user: User = Depends(require_roles(Role.SERVICE, Role.FRAUD_ANALYST, Role.ADMIN)),
    s: Services = Depends(services),
) -> dict[str, Any]:
    """Score one transaction with the served model; the decision is written to the ledger.

    Deliberately ``async`` with the (CPU-bound, ~4 ms) work inline: requests are served in
    arrival order on the event loop instead of contending for the GIL in a thread pool, which
    keeps tail latency close to the service time.
    """
    return s.fraud_scorer.score(txn.model_dump(), actor=user.name)


@router.get("/queue", response_model=list[AlertOut])
def queue(
    day: date | None = None,
    status: Literal["open", "needs_info", "closed"] | None = None,
    _: User = Depends(require_roles(Role.FRAUD_ANALYST, Role.ADMIN, Role.AUDITOR)),
    s: Services = Depends(services),
) -> list[dict[str, Any]]:
    """The ranked review queue (of one day, or all)."""
    return [a.to_dict() for a in s.fraud_queue.alerts(day, status=status)]


@router.post("/alerts/{alert_id}/disposition")
def disposition(
    alert_id: str,
    body: DispositionIn,
    user: User = Depends(require_roles(Role.FRAUD_ANALYST, Role.ADMIN)),
    s: Services = Depends(services),
) -> dict[str, Any]:
    """Record an outcome; fraud/legitimate become labels and reach the online feature store."""
    d = s.fraud_queue.disposition(alert_id, body.outcome, user, body.note)
    if "fraud_scorer" in s.__dict__ and d.outcome.value != "needs_info":
        alert = s.fraud_queue.get(alert_id)
        s.fraud_scorer.add_label(alert.transaction_id, d.outcome.value == "fraud")
    return {
        "alert_id": d.alert_id,
        "outcome": d.outcome.value,
        "analyst": d.analyst,
        "recorded_at": d.created_at,
        "ledger_seq": d.ledger_seq,
    }

"""Fraud endpoints: real-time scoring, the review queue, analysts' dispositions."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from functools import partial
from typing import Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Depends, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictFloat, StrictInt

from bankml.api.auth import require_roles, services
from bankml.api.metrics import note_model_version
from bankml.api.types import Text
from bankml.app import Services
from bankml.core.errors import InputError
from bankml.core.identity import Role, User
from bankml.core.settings import Settings
from bankml.fraud.transaction import Transaction

__all__ = ["router"]

router = APIRouter(prefix="/v1/fraud", tags=["fraud"])


MSG_AMOUNT_CEILING = "amount: {amount:g} is above this service's ceiling of {ceiling:g}"
MSG_TOO_OLD = "timestamp: {when} is before {year}-01-01; that is not a live transaction"
_ID = Field(ge=0, le=2**63 - 1)


class TransactionIn(BaseModel):
    """One card transaction to score. Identifiers are the bank's internal ids, never a PAN.

    Types are strict (``true`` is not an amount, ``"12"`` is not an id) and unknown fields are
    refused; the amount must be finite and positive, and the service also holds it under its
    configured ceiling and the timestamp inside a plausible window (``check``).
    """

    model_config = ConfigDict(strict=True, extra="forbid")

    transaction_id: StrictInt = _ID
    timestamp: AwareDatetime = Field(description="When it happened, with a timezone.", strict=False)
    customer_id: StrictInt = _ID
    terminal_id: StrictInt = _ID
    card_id: StrictInt | None = Field(default=None, ge=0, le=2**63 - 1)
    amount: StrictFloat | StrictInt = Field(gt=0, allow_inf_nan=False)
    country: str | None = Field(default=None, min_length=2, max_length=3, pattern=r"^[A-Za-z]+$")

    def check(self, settings: Settings) -> None:
        """Refuse what types cannot express: an amount over the ceiling, an implausible time.

        (The future side of the time window is the fraud service's: it knows its clock.)
        """
        amount = float(self.amount)
        if not math.isfinite(amount) or amount > settings.max_amount:
            raise InputError(MSG_AMOUNT_CEILING.format(amount=amount, ceiling=settings.max_amount))
        earliest = datetime(settings.earliest_event_year, 1, 1, tzinfo=UTC)
        if self.timestamp < earliest:
            raise InputError(
                MSG_TOO_OLD.format(
                    when=self.timestamp.isoformat(), year=settings.earliest_event_year
                )
            )

    def to_transaction(self) -> Transaction:
        """The typed transaction in role names (parsed once, here at the face)."""
        return Transaction(
            transaction_id=self.transaction_id,
            timestamp=self.timestamp.astimezone(UTC),
            customer=self.customer_id,
            terminal=self.terminal_id,
            amount=float(self.amount),
            card=self.card_id,
            country=self.country,
        )


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
    note: Text = Field(default="", max_length=2000)


class DispositionOut(BaseModel):
    """The recorded outcome (ledgered)."""

    alert_id: str
    outcome: str
    analyst: str
    recorded_at: str
    ledger_seq: int


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
    decision_id: str | None = None  # the scoring decision that raised it (None before 0014)


@router.post("/score", response_model=ScoreOut)
async def score(
    request: Request,
    txn: TransactionIn,
    user: User = Depends(require_roles(Role.SERVICE, Role.FRAUD_ANALYST, Role.ADMIN)),
    s: Services = Depends(services),
) -> dict[str, Any]:
    """Score one transaction with the served model; the decision is written to the ledger.

    The work (online features, the calibrated score, exact TreeSHAP contributions and
    reasons, the ledger commit) runs in worker threads, at most ``score_threads`` at once
    (settings), so the event loop keeps reading and answering other requests meanwhile;
    LightGBM and SQLite release the GIL while they compute and commit, and concurrent ledger
    appends share one commit (group commit). ``score_threads = 0`` runs it inline on the
    event loop instead (in-process store only).
    """
    txn.check(s.settings)
    limiter = getattr(request.app.state, "score_limiter", None)
    if limiter is None:
        out = s.fraud.score(txn.to_transaction(), user)
    else:
        work = partial(s.fraud.score, txn.to_transaction(), user)
        out = await anyio.to_thread.run_sync(work, limiter=limiter)
    note_model_version(request, out["model"]["version"])  # latency/errors per model version
    return out


@router.get("/queue", response_model=list[AlertOut])
def queue(
    day: date | None = None,
    status: Literal["open", "needs_info", "closed"] | None = None,
    _: User = Depends(require_roles(Role.FRAUD_ANALYST, Role.ADMIN, Role.AUDITOR)),
    s: Services = Depends(services),
) -> list[dict[str, Any]]:
    """The ranked review queue (of one day, or all)."""
    return [a.to_dict() for a in s.fraud.queue(day, status)]


@router.post("/alerts/{alert_id}/disposition", response_model=DispositionOut)
def disposition(
    alert_id: Text,
    body: DispositionIn,
    user: User = Depends(require_roles(Role.FRAUD_ANALYST, Role.ADMIN)),
    s: Services = Depends(services),
) -> dict[str, Any]:
    """Record an outcome; fraud/legitimate become labels and reach the online feature store."""
    d = s.fraud.disposition(user, alert_id, body.outcome, body.note)
    return {
        "alert_id": d.alert_id,
        "outcome": d.outcome.value,
        "analyst": d.analyst,
        "recorded_at": d.created_at,
        "ledger_seq": d.ledger_seq,
    }

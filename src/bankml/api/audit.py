"""Audit endpoints for auditors (and admins): verify the ledger, look up and replay decisions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict

from bankml.api.auth import require_roles, services
from bankml.api.types import Text
from bankml.app import Services
from bankml.core.identity import Role, User

__all__ = ["router"]

router = APIRouter(prefix="/v1/audit", tags=["audit"])
_auditor = require_roles(Role.AUDITOR, Role.ADMIN)


class VerifyOut(BaseModel):
    """The ledger check: the chain, and the governance tables against it.

    Further fields (e.g. the anchor's checkpoint status) may follow the ones listed here.
    """

    model_config = ConfigDict(extra="allow")

    ok: bool
    chain_ok: bool
    entries: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str | None = None
    governance_problems: list[str]
    decisions_with_unknown_model: list[Any]


class DecisionOut(BaseModel):
    """One logged decision as an auditor reads it (identifiers tokenized)."""

    decision_id: str
    ts: str
    kind: str
    actor: str
    model_name: str
    model_version: int
    inputs: dict[str, Any]
    output: dict[str, Any]
    explanation: dict[str, Any]
    ledger_seq: int


class ReplayOut(BaseModel):
    """A decision recomputed with the exact model version that made it."""

    decision_id: str
    model_name: str
    model_version: int
    identical: bool
    recorded: dict[str, Any]
    replayed: dict[str, Any]
    differences: list[str]
    artifact_ok: bool
    seconds: float


@router.get("/verify", response_model=VerifyOut)
def verify(_: User = Depends(_auditor), s: Services = Depends(services)) -> dict[str, Any]:
    """Walk the hash chain (against the signed checkpoints when anchoring is configured);
    cross-check the governance tables against it; list decisions naming a model version the
    registry lacks."""
    report = s.verify_ledger()
    problems = [str(p) for p in s.proof.cross_check()]
    missing = s.decisions.unknown_model_versions()
    return {
        **report.__dict__,
        "ok": report.ok and not problems,
        "chain_ok": report.ok,
        "governance_problems": problems,
        "decisions_with_unknown_model": missing,
    }


@router.get("/decisions", response_model=list[DecisionOut])
def decisions(
    at: Text | None = None,
    window: Text = "5m",
    decision: Text | None = None,
    customer: Text | None = None,
    transaction: Text | None = None,
    alert: Text | None = None,
    model: Text | None = None,
    version: int | None = Query(None, ge=0, le=2**31 - 1),
    outcome: Text | None = None,
    limit: int = Query(50, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=10**9),
    _: User = Depends(_auditor),
    s: Services = Depends(services),
) -> list[dict[str, Any]]:
    """Decisions matching every filter given (time, decision or alert id or a unique 8+
    character prefix, transaction, customer (tokenized first), model version, outcome),
    newest first, one page of ``limit`` after ``offset``."""
    found = s.decisions.find(
        at=at,
        window=window,
        decision_id=decision,
        customer=customer,
        transaction_id=transaction,
        alert_id=alert,
        model=model,
        version=version,
        decision=outcome,
        limit=limit,
        offset=offset,
    )
    return [r.to_dict() for r in found]


@router.post("/decisions/{decision_id}/replay", response_model=ReplayOut)
def replay_decision(
    decision_id: Text, _: User = Depends(_auditor), s: Services = Depends(services)
) -> dict[str, Any]:
    """Recompute the decision with exactly the model version that made it."""
    return s.decisions.replay(decision_id).to_dict()

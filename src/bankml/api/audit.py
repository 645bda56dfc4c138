"""Audit endpoints for auditors (and admins): verify the ledger, look up and replay decisions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from bankml.api.auth import require_roles, services
from bankml.app import Services
from bankml.core.identity import Role, User

__all__ = ["router"]

router = APIRouter(prefix="/v1/audit", tags=["audit"])
_auditor = require_roles(Role.AUDITOR, Role.ADMIN)


@router.get("/verify")
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


@router.get("/decisions")
def decisions(
    at: str | None = None,
    window: str = "5m",
    decision: str | None = None,
    customer: str | None = None,
    _: User = Depends(_auditor),
    s: Services = Depends(services),
) -> list[dict[str, Any]]:
    """Decisions around a time, by id, or for a customer (the id is tokenized first)."""
    found = s.decisions.find(at=at, window=window, decision_id=decision, customer=customer)
    return [r.to_dict() for r in found]


@router.post("/decisions/{decision_id}/replay")
def replay_decision(
    decision_id: str, _: User = Depends(_auditor), s: Services = Depends(services)
) -> dict[str, Any]:
    """Recompute the decision with exactly the model version that made it."""
    return s.decisions.replay(decision_id).to_dict()

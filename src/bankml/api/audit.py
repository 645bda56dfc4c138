"""Audit endpoints for auditors (and admins): verify the ledger, look up and replay decisions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from bankml.api.auth import require_roles, services
from bankml.app import Services
from bankml.core.identity import Role, User
from bankml.governance.decisions import (
    find_decisions,
    parse_at,
    parse_window,
    replay,
    unknown_model_versions,
)

__all__ = ["router"]

router = APIRouter(prefix="/v1/audit", tags=["audit"])
_auditor = require_roles(Role.AUDITOR, Role.ADMIN)


@router.get("/verify")
def verify(_: User = Depends(_auditor), s: Services = Depends(services)) -> dict[str, Any]:
    """Walk the hash chain; also list decisions naming a model version the registry lacks."""
    report = s.ledger.verify()
    exists = s.registry.exists if s.registry.has_local_store() else (lambda _n, _v: False)
    missing = unknown_model_versions(s.ledger, exists)
    return {**report.__dict__, "decisions_with_unknown_model": missing}


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
    token = s.tokenizer.token(customer, "customer") if customer else None
    found = find_decisions(
        s.ledger,
        at=parse_at(at) if at else None,
        window=parse_window(window),
        decision_id=decision,
        customer_token=token,
    )
    return [r.to_dict() for r in found]


@router.post("/decisions/{decision_id}/replay")
def replay_decision(
    decision_id: str, _: User = Depends(_auditor), s: Services = Depends(services)
) -> dict[str, Any]:
    """Recompute the decision with exactly the model version that made it."""
    return replay(s.ledger, s.registry, s.replay_loaders, decision_id).to_dict()

"""Model governance endpoints: the inventory, one version's lineage, and maker-checker actions.

The API key identifies the person acting; ``bankml.governance.approvals`` enforces the rules
(who may submit, approve, reject, promote, roll back), so the API and the CLI cannot drift
apart. Route-level role gates only keep other roles out early with a clear 403.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from bankml.api.auth import current_user, require_roles, services
from bankml.api.types import Text
from bankml.app import Services
from bankml.core.identity import Role, User

__all__ = ["router"]

router = APIRouter(prefix="/v1/models", tags=["models"])

_READERS = (Role.MODEL_DEVELOPER, Role.VALIDATOR, Role.ADMIN, Role.AUDITOR)
_LINEAGE_TAGS = (
    "data_sha256",
    "feature_definitions_sha256",
    "code_version",
    "artifact_sha256",
    "trained_by",
)


class ActionIn(BaseModel):
    """Why the action is taken: required to approve, reject and roll back."""

    rationale: Text = Field(default="", max_length=4000)


class TransitionOut(BaseModel):
    """One lifecycle step as recorded (and chained in the ledger)."""

    name: str
    version: int
    from_state: str | None
    to_state: str
    actor: str
    rationale: str
    at: str
    ledger_seq: int


class VersionOut(BaseModel):
    """A version in the inventory."""

    name: str
    version: int
    state: str
    champion: bool
    trained_by: str
    submitted_by: str | None
    registered_at: str
    metrics: dict[str, float]


class ValidationOut(BaseModel):
    """The headline of the latest stored validation run."""

    id: int
    ran_at: str
    ran_by: str
    passed: bool
    policy_sha256: str


class VersionDetailOut(VersionOut):
    """A version with its lineage, parameters, latest validation and lifecycle."""

    run_id: str
    created_at_ms: int
    lineage: dict[str, Any]
    params: dict[str, str]
    latest_validation: ValidationOut | None
    transitions: list[TransitionOut]


@router.get("/{name}/versions", response_model=list[VersionOut])
def list_versions(
    name: Text,
    _: User = Depends(require_roles(*_READERS)),
    s: Services = Depends(services),
) -> list[dict[str, Any]]:
    """Every version of a model with its state and metrics (oldest first)."""
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


@router.get("/{name}/versions/{version}", response_model=VersionDetailOut)
def get_version(
    name: Text,
    version: int,
    _: User = Depends(require_roles(*_READERS)),
    s: Services = Depends(services),
) -> dict[str, Any]:
    """One version's lineage, state, latest validation and lifecycle transitions."""
    record = s.governance.record(name, version)
    info = s.registry.get(name, version)
    try:
        libraries = json.loads(info.tags.get("library_versions", "{}"))
    except ValueError:
        libraries = {}
    latest = s.governance.latest_validation(name, version)
    return {
        **record.to_dict(),
        "champion": s.governance.champion(name) == version,
        "metrics": info.metrics,
        "run_id": info.run_id,
        "created_at_ms": info.created_at_ms,
        "lineage": {
            **{k: info.tags.get(k) for k in _LINEAGE_TAGS},
            "library_versions": libraries,
        },
        "params": info.params,
        "latest_validation": latest.to_dict() if latest else None,
        "transitions": [t.to_dict() for t in s.governance.transitions(name, version)],
    }


@router.post("/{name}/versions/{version}/submit", response_model=TransitionOut)
def submit(
    name: Text,
    version: int,
    user: User = Depends(current_user),
    s: Services = Depends(services),
) -> dict[str, Any]:
    """Submit a registered version (its trainer, a model developer or an admin)."""
    return s.governance.submit(name, version, user).to_dict()


@router.post("/{name}/versions/{version}/approve", response_model=TransitionOut)
def approve(
    name: Text,
    version: int,
    body: ActionIn,
    user: User = Depends(require_roles(Role.VALIDATOR)),
    s: Services = Depends(services),
) -> dict[str, Any]:
    """Approve a validated version: a validator who neither trained nor submitted it."""
    return s.lifecycle.approve(name, version, user, body.rationale).to_dict()


@router.post("/{name}/versions/{version}/reject", response_model=TransitionOut)
def reject(
    name: Text,
    version: int,
    body: ActionIn,
    user: User = Depends(require_roles(Role.VALIDATOR)),
    s: Services = Depends(services),
) -> dict[str, Any]:
    """Reject a submitted or validated version (validators, with a rationale)."""
    return s.governance.reject(name, version, user, body.rationale).to_dict()


@router.post("/{name}/versions/{version}/promote", response_model=TransitionOut)
def promote(
    name: Text,
    version: int,
    body: ActionIn | None = None,
    user: User = Depends(require_roles(Role.ADMIN, Role.MODEL_DEVELOPER)),
    s: Services = Depends(services),
) -> dict[str, Any]:
    """Make an approved version the champion; the previous champion is retired."""
    why = body.rationale if body else ""
    return s.governance.promote(name, version, user, why).to_dict()


@router.post("/{name}/rollback", response_model=TransitionOut)
def rollback(
    name: Text,
    body: ActionIn,
    user: User = Depends(require_roles(Role.ADMIN, Role.MODEL_DEVELOPER)),
    s: Services = Depends(services),
) -> dict[str, Any]:
    """Return to the previous champion in one step (with a rationale)."""
    return s.governance.rollback(name, user, body.rationale).to_dict()
